# Sources of the models, layers, weight files and training loop, added to target simdiff.
# nlohmann-json is header-only: only the build needs it, not the installed package's users.
find_package(nlohmann_json 3 REQUIRED)
target_sources(simdiff PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/progress.cc
  ${CMAKE_CURRENT_LIST_DIR}/safetensors.cc
  ${CMAKE_CURRENT_LIST_DIR}/sequential.cc)
target_link_libraries(simdiff PRIVATE $<BUILD_INTERFACE:nlohmann_json::nlohmann_json>)
