# Sources of the losses (<simdiff/losses.h>), added to target simdiff.
target_sources(simdiff PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/binary_crossentropy.cc
  ${CMAKE_CURRENT_LIST_DIR}/categorical_crossentropy.cc
  ${CMAKE_CURRENT_LIST_DIR}/focal_crossentropy.cc
  ${CMAKE_CURRENT_LIST_DIR}/loss.cc
  ${CMAKE_CURRENT_LIST_DIR}/loss_arguments.cc
  ${CMAKE_CURRENT_LIST_DIR}/reduction.cc
  ${CMAKE_CURRENT_LIST_DIR}/regression_losses.cc
  ${CMAKE_CURRENT_LIST_DIR}/scratch.cc)
