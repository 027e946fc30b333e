# Cross build for 64-bit Arm Linux on a Debian/Ubuntu x86-64 host, with the tests run under
# qemu-user.
#
# Host setup (scripts/install_dependencies.sh --aarch64 does it):
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install g++-aarch64-linux-gnu qemu-user libhwy-dev:arm64 libboost-test-dev:arm64 \
#                   libxsimd-dev:arm64
#
# Where things live with Debian multiarch: the cross compiler's own C and C++ runtime is under
# /usr/aarch64-linux-gnu; the :arm64 packages install their libraries under
# /usr/lib/aarch64-linux-gnu and their CMake package files under /usr/lib/aarch64-linux-gnu/cmake;
# headers in /usr/include are shared by every architecture. CMake searches <prefix>/lib/<arch> for
# CMAKE_LIBRARY_ARCHITECTURE, which it detects from the compiler (aarch64-linux-gnu), so with "/"
# among the root paths find_package(hwy), find_package(Boost) and find_package(xsimd) pick the arm64
# package files and never the x86-64 ones under /usr/lib/x86_64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
# Programs (code generators, qemu) run on the host; libraries, headers and packages must be the
# target's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest and add_test() run every test binary through qemu-aarch64. The CPU decides which targets
# the run-time dispatch picks: cortex-a53 has NEON only, max adds SVE and SVE2.
set(SIMDIFF_QEMU_CPU "max" CACHE STRING "CPU that qemu-aarch64 emulates for the tests (-cpu)")
find_program(SIMDIFF_QEMU_AARCH64 qemu-aarch64 REQUIRED)
# QEMU_LD_PREFIX (the same as -L) makes qemu open the Arm dynamic loader and runtime libraries of
# the cross toolchain instead of the host's.
set(CMAKE_CROSSCOMPILING_EMULATOR
    ${CMAKE_COMMAND} -E env QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
    ${SIMDIFF_QEMU_AARCH64} -cpu ${SIMDIFF_QEMU_CPU})
