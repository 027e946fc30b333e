# Sources of the metrics (<simdiff/metrics.h>), added to target simdiff.
target_sources(simdiff PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/accuracy.cc
  ${CMAKE_CURRENT_LIST_DIR}/metric.cc)
