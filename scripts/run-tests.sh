#!/usr/bin/env bash
# Runs the ctest tests of BUILD_DIR with the given labels (default: unit, then integration): unit
# tests in parallel, the integration tests two at a time, except those marked RUN_SERIAL in
# tests/integration/CMakeLists.txt (real-time audio peers, load generators, the browser), which run
# alone. `make test` runs the integration label here and the unit label in the sanitizer tree.
set -euo pipefail
build_dir=${1:-build}
shift || true
labels=("$@")
if ((${#labels[@]} == 0)); then
  labels=(unit integration)
fi
for label in "${labels[@]}"; do
  case "$label" in
    unit) ctest --test-dir "$build_dir" -L unit --output-on-failure -j "$(nproc)" ;;
    integration) ctest --test-dir "$build_dir" -L integration --output-on-failure -j 2 ;;
    *) echo "run-tests: no label '$label' (unit or integration)" >&2; exit 2 ;;
  esac
done
