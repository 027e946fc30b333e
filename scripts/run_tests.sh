#!/usr/bin/env bash
# Every check the project passes, in order, stopping at the first failure:
#   1. dependencies  scripts/install_dependencies.sh --aarch64
#   2. release       configure, build and ctest the `release` preset (g++ 12)
#   3. tsan          the thread tests (simdiff_thread_tests only) under ThreadSanitizer
#   4. sanitize      build and ctest under AddressSanitizer + UndefinedBehaviorSanitizer
#   5. consumer      install `release` to a temporary prefix; build and run tests/consumer, a
#                    separate project that uses find_package(simdiff)
#   6. clang         build and ctest the `clang` preset (clang++ 14, warnings are errors)
#   7. aarch64       cross build, then ctest under qemu-aarch64 as a Cortex-A53 (NEON) and as
#                    the `max` CPU (SVE2); the installed package is checked there too
# Run as root on Debian 12, from anywhere inside the repository. JOBS sets the build and test
# parallelism (default: the number of cores).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs="${JOBS:-$(nproc)}"
scratch="$(mktemp -d)"

stage_names=()
stage_seconds=()
stage_started=0
current_stage=""
tests_passed=0

finish_stage() {
  if [[ -n "${current_stage}" ]]; then
    stage_names+=("${current_stage}")
    stage_seconds+=($((SECONDS - stage_started)))
    echo "-- ${current_stage} done in $((SECONDS - stage_started)) s"
  fi
}

stage() {
  finish_stage
  current_stage="$1"
  stage_started=${SECONDS}
  echo
  echo "=================================================================================="
  echo "== ${current_stage}: $2"
  echo "=================================================================================="
}

report_failure() {
  local status=$?
  if ((status != 0)); then
    echo
    echo "run_tests: FAILED in stage '${current_stage}' (exit status ${status})" >&2
  fi
}
trap 'report_failure; rm -rf "${scratch}"' EXIT

# Runs ctest with the given arguments and adds the number of tests it ran to tests_passed.
# ctest exits non-zero on any failure (and, with the presets' noTestsAction, when no test exists).
run_ctest() {
  local log="${scratch}/ctest.log"
  ctest "$@" --parallel "${jobs}" 2>&1 | tee "${log}"
  local count
  count="$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "${log}" | tail -n 1)"
  tests_passed=$((tests_passed + ${count:-0}))
}

# Configures and builds tests/consumer in $2 against the simdiff installed at prefix $1; further
# arguments go to the configure step (a toolchain file for a cross build).
build_consumer() {
  local prefix="$1" build="$2"
  shift 2
  cmake -S tests/consumer -B "${build}" -DCMAKE_PREFIX_PATH="${prefix}" "$@"
  cmake --build "${build}" --parallel "${jobs}"
}

stage dependencies "install the build, test and aarch64 packages"
bash scripts/install_dependencies.sh --aarch64

stage release "g++ Release build and tests"
cmake --preset release
cmake --build --preset release --parallel "${jobs}"
run_ctest --preset release

stage tsan "ThreadSanitizer build and run of the thread tests"
cmake --preset tsan
cmake --build --preset tsan --parallel "${jobs}"
run_ctest --preset tsan

stage sanitize "ASan + UBSan build and tests"
cmake --preset sanitize
cmake --build --preset sanitize --parallel "${jobs}"
run_ctest --preset sanitize

stage consumer "install the release build; find_package(simdiff) from a separate project"
cmake --install build/release --prefix "${scratch}/x86_64"
build_consumer "${scratch}/x86_64" "${scratch}/consumer-x86_64"
"${scratch}/consumer-x86_64/simdiff_consumer"

stage clang "clang++ build (warnings are errors) and tests"
cmake --preset clang
cmake --build --preset clang --parallel "${jobs}"
run_ctest --preset clang

stage aarch64 "cross build; tests under qemu-aarch64 -cpu cortex-a53 (NEON) and -cpu max (SVE2)"
cmake --preset aarch64
cmake --build --preset aarch64 --parallel "${jobs}"
cmake --install build/aarch64 --prefix "${scratch}/aarch64"
build_consumer "${scratch}/aarch64" "${scratch}/consumer-aarch64" \
  -DCMAKE_TOOLCHAIN_FILE="${PWD}/cmake/toolchains/aarch64-linux-gnu.cmake"
for cpu in cortex-a53 max; do
  echo "---- qemu-aarch64 -cpu ${cpu}"
  # Changing the CPU only regenerates the test commands; nothing is rebuilt.
  cmake build/aarch64 -DSIMDIFF_QEMU_CPU="${cpu}" >/dev/null
  run_ctest --preset aarch64
  cmake "${scratch}/consumer-aarch64" -DSIMDIFF_QEMU_CPU="${cpu}" >/dev/null
  run_ctest --test-dir "${scratch}/consumer-aarch64" --output-on-failure
done
finish_stage
current_stage=""

echo
echo "=================================================================================="
echo "== stage timings"
total=0
for i in "${!stage_names[@]}"; do
  printf '   %-14s %4d s\n' "${stage_names[$i]}" "${stage_seconds[$i]}"
  total=$((total + stage_seconds[i]))
done
printf '   %-14s %4d s\n' "total" "${total}"
echo "All stages passed: release, tsan, sanitize, consumer, clang, aarch64 (cortex-a53 and max)."
# The tests counted by ctest over every stage (a test run on several builds counts each time).
echo "run_tests: ${tests_passed} passed, 0 failed"
