#!/usr/bin/env bash
# Runs every ctest in BUILD_DIR: unit tests in parallel, then the integration tests one at a time
# (they start servers and real peers; two cores are not enough to run them side by side).
set -euo pipefail
build_dir=${1:-build}
ctest --test-dir "$build_dir" -L unit --output-on-failure -j "$(nproc)"
ctest --test-dir "$build_dir" -L integration --output-on-failure
