#!/usr/bin/env bash
# Runs the ctest tests of BUILD_DIR with the given labels (default: unit, then integration): unit
# tests in parallel, the integration tests two at a time, except those marked RUN_SERIAL in
# tests/integration/CMakeLists.txt (real-time audio peers, load generators, the browser), which run
# alone. `make test` runs the integration label here and the unit label in the sanitizer tree.
#
# `make test` splits the integration label in two: `integration-beside-builds` while it builds the
# sanitizer and fuzz trees beside them at idle priority, then `quiet` (the tests that drive headless
# Chromium, and the recorder's) once those builds are done. On this project's 2-vCPU PVM guests a
# woken task that has to preempt an idle-priority compiler waits far longer than the CPU share says:
# Chromium's page loads, a storm of small inter-process wake-ups, took over 30 s beside two SCHED_IDLE
# busy loops (with the chorusd of before or after issue 13's stop 34 alike), while a CPU-bound task
# lost nothing; test_recording's GStreamer recorder fell behind the same way once in a clean-clone run.
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
    integration-beside-builds) ctest --test-dir "$build_dir" -L integration -LE quiet --output-on-failure -j 2 ;;
    quiet) ctest --test-dir "$build_dir" -L quiet --output-on-failure -j 2 ;;
    *) echo "run-tests: no label '$label' (unit, integration, integration-beside-builds or quiet)" >&2; exit 2 ;;
  esac
done
