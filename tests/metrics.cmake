# The accuracy metrics (<simdiff/metrics.h>): golden Keras values, docstring examples, a sweep
# against a reference, bad input, on every backend and target.
find_package(nlohmann_json REQUIRED)

add_executable(simdiff_metrics_tests test_main.cc test_metrics.cc)
target_link_libraries(simdiff_metrics_tests
  PRIVATE simdiff_test_support simdiff_warnings nlohmann_json::nlohmann_json)
target_compile_definitions(simdiff_metrics_tests
  PRIVATE SIMDIFF_GOLDEN_DIR="${CMAKE_CURRENT_SOURCE_DIR}/golden")

add_test(NAME simdiff_metrics_tests COMMAND simdiff_metrics_tests --log_level=message)
set_tests_properties(simdiff_metrics_tests PROPERTIES
  ENVIRONMENT_MODIFICATION "${simdiff_test_environment}"
  TIMEOUT 600)
