# Tests of the autodiff tape (<simdiff/tensor.h>, <simdiff/tape.h>, <simdiff/ops.h>,
# <simdiff/gradient_check.h>): every op against finite differences on every backend and target,
# the tape's semantics and errors, and zero heap allocations per warm step. About 2 s natively.
#
# allocation_counter.cc replaces the global operator new of the executable to count allocations.
add_executable(simdiff_autodiff_tests
  test_main.cc
  allocation_counter.cc
  test_autodiff_matmul.cc
  test_autodiff_ops.cc
  test_autodiff_tape.cc)
target_link_libraries(simdiff_autodiff_tests PRIVATE simdiff_test_support simdiff_warnings)

add_test(NAME simdiff_autodiff_tests COMMAND simdiff_autodiff_tests --log_level=message)
set_tests_properties(simdiff_autodiff_tests PROPERTIES
  ENVIRONMENT_MODIFICATION "${simdiff_test_environment}"
  TIMEOUT 600)
