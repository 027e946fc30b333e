# Sources of the matrix products (<simdiff/gemm.h>), added to target simdiff.
target_sources(simdiff PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/gemm.cc
  ${CMAKE_CURRENT_LIST_DIR}/../highway/highway_gemm.cc
  ${CMAKE_CURRENT_LIST_DIR}/../scalar/scalar_gemm.cc)
