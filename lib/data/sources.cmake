# Sources of the dataset helpers (<simdiff/data.h>), added to target simdiff.
target_sources(simdiff PRIVATE ${CMAKE_CURRENT_LIST_DIR}/csv.cc)
