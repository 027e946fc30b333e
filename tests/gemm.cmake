# Tests of the matrix products (<simdiff/gemm.h>) on every backend and target, against long double
# references. SIMDIFF_TEST_LARGE=0 (set under emulation) skips the sampled 1024^3 product.
add_executable(simdiff_gemm_tests test_main.cc test_gemm.cc)
target_link_libraries(simdiff_gemm_tests PRIVATE simdiff_test_support simdiff_warnings)

add_test(NAME simdiff_gemm_tests COMMAND simdiff_gemm_tests --log_level=message)
set_tests_properties(simdiff_gemm_tests PROPERTIES
  ENVIRONMENT_MODIFICATION "${simdiff_test_environment}"
  TIMEOUT 600)
