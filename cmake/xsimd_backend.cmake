# The xsimd backend (included by the top-level CMakeLists.txt when SIMDIFF_WITH_XSIMD is on).
# lib/xsimd/xsimd_kernels.h holds the kernels, templated on the xsimd architecture; each
# architecture is instantiated in its own file compiled with that architecture's flags, and
# xsimd_backend.cc (baseline flags) picks the ones the CPU runs.
#
# The lowest architecture comes first. Without optimisation the per-architecture objects each keep
# their own out-of-line copy of the few inline helpers of xsimd that are not templated on the
# architecture (constants such as xsimd::constants::infinity<float>()), and linkers keep the first
# copy they load: that one then runs on every CPU the backend accepts. Optimised builds inline
# them all (no such symbol is shared between the objects).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(simdiff_xsimd_arch_files
    lib/xsimd/xsimd_sse4_2.cc
    lib/xsimd/xsimd_fma3_avx2.cc
    lib/xsimd/xsimd_avx512bw.cc)
  set_source_files_properties(lib/xsimd/xsimd_sse4_2.cc PROPERTIES
    COMPILE_OPTIONS "-msse4.2")
  set_source_files_properties(lib/xsimd/xsimd_fma3_avx2.cc PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma")
  set_source_files_properties(lib/xsimd/xsimd_avx512bw.cc PROPERTIES
    COMPILE_OPTIONS "-mavx512f;-mavx512cd;-mavx512dq;-mavx512bw;-mavx512vl")
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  # NEON is part of the AArch64 base architecture: no extra flags.
  set(simdiff_xsimd_arch_files lib/xsimd/xsimd_neon64.cc)
else()
  set(simdiff_xsimd_arch_files)
endif()

if(simdiff_xsimd_arch_files)
  target_sources(simdiff PRIVATE ${simdiff_xsimd_arch_files} lib/xsimd/xsimd_backend.cc)
  # xsimd is header-only: take its include directories, not the target, whose Debian package
  # also lists a link library "xtl" that exists neither as a target nor as a library (-lxtl).
  target_include_directories(simdiff SYSTEM PRIVATE
    $<TARGET_PROPERTY:xsimd,INTERFACE_INCLUDE_DIRECTORIES>)
else()
  message(STATUS "simdiff: no xsimd architecture for processor '${CMAKE_SYSTEM_PROCESSOR}'; "
                 "the xsimd backend has no targets")
  target_sources(simdiff PRIVATE lib/xsimd/xsimd_disabled.cc)
endif()
