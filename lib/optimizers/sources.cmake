# Sources of the optimizers (<simdiff/optimizers.h>), added to target simdiff.
target_sources(simdiff PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/highway_optimizer_kernels.cc
  ${CMAKE_CURRENT_LIST_DIR}/optimizer.cc
  ${CMAKE_CURRENT_LIST_DIR}/scalar_optimizer_kernels.cc)
