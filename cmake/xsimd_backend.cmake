# The xsimd backend. Placeholder until the per-architecture kernels land.
target_sources(simdiff PRIVATE lib/xsimd/xsimd_disabled.cc)
