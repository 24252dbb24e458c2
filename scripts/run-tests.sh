#!/usr/bin/env bash
# Runs the ctest tests of BUILD_DIR with the given labels (default: unit, then integration): unit
# tests in parallel, the integration tests two at a time, except those marked RUN_SERIAL in
# tests/integration/CMakeLists.txt (real-time audio peers, load generators, the browser), which run
# alone. `make test` runs the integration label here and the unit label in the sanitizer tree.
#
# `make test` splits the integration label in two: `integration-without-browser` while it builds the
# sanitizer and fuzz trees beside them at idle priority, then `browser` (the tests that drive headless
# Chromium) once those builds are done. On this project's 2-vCPU PVM guests a woken task that has to
# preempt an idle-priority compiler waits far longer than the CPU share says: Chromium's page loads,
# a storm of small inter-process wake-ups, took over 30 s beside two SCHED_IDLE busy loops (and so did
# test_browser_join with the chorusd of before or after issue 13's stop 34), while a CPU-bound task
# lost nothing.
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
    integration-without-browser) ctest --test-dir "$build_dir" -L integration -LE browser --output-on-failure -j 2 ;;
    browser) ctest --test-dir "$build_dir" -L browser --output-on-failure -j 2 ;;
    *) echo "run-tests: no label '$label' (unit, integration, integration-without-browser or browser)" >&2; exit 2 ;;
  esac
done
