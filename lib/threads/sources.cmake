# simdiff's thread pool and thread-count setting (<simdiff/threads.h>), added to target simdiff.
find_package(Threads REQUIRED)
target_sources(simdiff PRIVATE ${CMAKE_CURRENT_LIST_DIR}/thread_pool.cc)
target_link_libraries(simdiff PRIVATE Threads::Threads)
