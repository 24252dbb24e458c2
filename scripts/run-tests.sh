#!/usr/bin/env bash
# Runs every ctest in BUILD_DIR: unit tests in parallel, then the integration tests two at a time,
# except those marked RUN_SERIAL in tests/integration/CMakeLists.txt (real-time audio peers, load
# generators, the browser), which run alone.
set -euo pipefail
build_dir=${1:-build}
ctest --test-dir "$build_dir" -L unit --output-on-failure -j "$(nproc)"
ctest --test-dir "$build_dir" -L integration --output-on-failure -j 2
