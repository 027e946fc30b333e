#!/usr/bin/env bash
# Installs what simdiff needs to build and test, on Debian 12, as root. Safe to run again: apt-get
# skips what is already installed and the arm64 architecture is added only once.
#
# Usage: scripts/install_dependencies.sh [--aarch64] [--compare]
#   --aarch64  also the aarch64 cross toolchain, qemu-user and the arm64 libraries that the
#              `aarch64` CMake preset builds and tests against (Debian multiarch)
#   --compare  also the optional libraries the benchmarks compare against (PyTorch, oneDNN,
#              OpenBLAS)
set -euo pipefail

usage() {
  echo "usage: $0 [--aarch64] [--compare]" >&2
  exit 2
}

with_aarch64=0
with_compare=0
for argument in "$@"; do
  case "${argument}" in
    --aarch64) with_aarch64=1 ;;
    --compare) with_compare=1 ;;
    -h | --help) usage ;;
    *)
      echo "$0: unknown argument '${argument}'" >&2
      usage
      ;;
  esac
done

if [[ "$(id -u)" -ne 0 ]]; then
  echo "$0: run as root (apt-get and dpkg need it)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

packages=(
  cmake make g++ clang clang-format
  libhwy-dev libxsimd-dev libboost-test-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev
)

if ((with_aarch64)); then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
  fi
  # The :arm64 -dev packages put their libraries and CMake package files under
  # /usr/lib/aarch64-linux-gnu, where cmake/toolchains/aarch64-linux-gnu.cmake finds them.
  # libxsimd-dev is header-only but its CMake files are per architecture, so the arm64 copy is
  # needed for find_package(xsimd) in a cross build (it co-installs with the amd64 one).
  packages+=(
    g++-aarch64-linux-gnu qemu-user
    libhwy-dev:arm64 libboost-test-dev:arm64 libxsimd-dev:arm64
  )
fi

if ((with_compare)); then
  packages+=(python3-torch python3-numpy libtorch-dev libdnnl-dev libopenblas-dev)
fi

# A mirror can fail for a moment: try a few times. If it stays unreachable, go on with the package
# lists already on the machine; the install below then succeeds only if nothing is missing.
for attempt in 1 2 3; do
  if apt-get update -q; then
    break
  elif ((attempt == 3)); then
    echo "$0: warning: apt-get update failed; using the package lists already present" >&2
  else
    sleep 10
  fi
done

apt-get install -y -q --no-install-recommends "${packages[@]}"
echo "install_dependencies: ${#packages[@]} packages present"
