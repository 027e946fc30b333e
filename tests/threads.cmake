# Tests of the thread pool and of thread-count independence (<simdiff/threads.h>): the pool and
# gemm in test_threads.cc; the row-wise, loss, element-wise and optimizer kernels and a training
# run in test_thread_kernels.cc. The pool is internal: the tests include "lib/threads/*.h" from
# the project root. The tsan preset runs this executable under ThreadSanitizer.
find_package(Threads REQUIRED)
# allocation_counter.cc replaces the global operator new to count allocations (a warm training
# step must perform none, on any thread count).
add_executable(simdiff_thread_tests
  test_main.cc allocation_counter.cc test_threads.cc test_thread_kernels.cc)
target_include_directories(simdiff_thread_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(simdiff_thread_tests
  PRIVATE simdiff_test_support simdiff_warnings Threads::Threads)

# Not under emulation: qemu-aarch64 (Debian 12's 7.2, as run here) never returns from the first
# thread creation of any program, even a three-line std::thread one, so the test would only time
# out. The pool is plain C++ (std::thread, mutex, condition_variable); it runs natively and under
# ThreadSanitizer (tsan preset).
if(NOT CMAKE_CROSSCOMPILING)
  add_test(NAME simdiff_thread_tests COMMAND simdiff_thread_tests --log_level=message)
  set_tests_properties(simdiff_thread_tests PROPERTIES
    ENVIRONMENT_MODIFICATION "${simdiff_test_environment}"
    TIMEOUT 600)
endif()
