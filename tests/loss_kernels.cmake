# The fused loss kernels (lib/kernel_table.h) on every backend and target, against long double
# references, and the streamed outputs of large matrices (row and loss kernels). The kernels are
# internal: the tests include "lib/kernel_table.h" from the project root and call
# simdiff::detail::active_kernels().
add_executable(simdiff_loss_kernel_tests test_main.cc test_loss_kernels.cc test_streaming_outputs.cc)
target_include_directories(simdiff_loss_kernel_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(simdiff_loss_kernel_tests PRIVATE simdiff_test_support simdiff_warnings)

add_test(NAME simdiff_loss_kernel_tests COMMAND simdiff_loss_kernel_tests --log_level=message)
set_tests_properties(simdiff_loss_kernel_tests PROPERTIES
  ENVIRONMENT_MODIFICATION "${simdiff_test_environment}")
