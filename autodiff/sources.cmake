# Sources of the autodiff tape (<simdiff/tensor.h>, <simdiff/tape.h>, <simdiff/ops.h>), added to
# target simdiff. Layering: autodiff uses the kernels and the losses, nothing uses autodiff.
target_sources(simdiff PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/matmul.cc
  ${CMAKE_CURRENT_LIST_DIR}/ops.cc
  ${CMAKE_CURRENT_LIST_DIR}/tape.cc
  ${CMAKE_CURRENT_LIST_DIR}/tensor.cc)
