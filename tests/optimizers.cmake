# Tests of the optimizers (<simdiff/optimizers.h>): every configuration on every backend and target
# against a double-precision reference of Keras 3's formulas, hand-computed steps, schedules,
# the lr alias, argument errors. About a second natively.
add_executable(simdiff_optimizer_tests test_main.cc test_optimizers.cc)
target_link_libraries(simdiff_optimizer_tests PRIVATE simdiff_test_support simdiff_warnings)
add_test(NAME simdiff_optimizer_tests COMMAND simdiff_optimizer_tests --log_level=message)
set_tests_properties(simdiff_optimizer_tests PROPERTIES
  ENVIRONMENT_MODIFICATION "${simdiff_test_environment}")
