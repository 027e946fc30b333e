# Tests of the losses (<simdiff/losses.h>): the Keras 3 golden values and docstring examples on
# every backend and target, gradients against finite differences, argument errors.
#
# The golden files are read at run time from the source tree (SIMDIFF_GOLDEN_DIR), so the test
# runs from any build directory and under qemu. nlohmann-json (Debian: nlohmann-json3-dev) parses
# them; it is header-only, so a cross build finds the host's copy.
find_package(nlohmann_json 3 REQUIRED)

add_executable(simdiff_loss_tests
  test_main.cc
  test_losses.cc
  test_losses_golden.cc
  test_losses_gradients.cc)
target_link_libraries(simdiff_loss_tests
  PRIVATE simdiff_test_support simdiff_warnings nlohmann_json::nlohmann_json)
target_compile_definitions(simdiff_loss_tests
  PRIVATE SIMDIFF_GOLDEN_DIR="${CMAKE_CURRENT_SOURCE_DIR}/golden")

add_test(NAME simdiff_loss_tests COMMAND simdiff_loss_tests --log_level=message)
set_tests_properties(simdiff_loss_tests PROPERTIES
  ENVIRONMENT_MODIFICATION "${simdiff_test_environment}")
