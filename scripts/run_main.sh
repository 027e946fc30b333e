#!/usr/bin/env bash
# The main job: installs the dependencies, builds the `release` preset, reports the backends and
# targets this CPU runs, then trains the default dense network on the bundled digits data (model
# summary, progress, held-out test accuracy).
# Run as root on Debian 12, from anywhere inside the repository.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs="${JOBS:-$(nproc)}"

bash scripts/install_dependencies.sh
cmake --preset release
cmake --build --preset release --parallel "${jobs}"

build/release/tools/simdiff info
build/release/tools/simdiff train
