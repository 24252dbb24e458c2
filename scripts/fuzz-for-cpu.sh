#!/usr/bin/env bash
# Runs one libFuzzer target until it has used CPU_SECONDS of CPU (user + sys, read from /proc), not wall
# time: on a shared machine `-max_total_time` says little about how much fuzzing was done. With
# PROCESSES > 1, that many processes share one corpus and each stops at CPU_SECONDS / PROCESSES.
#
#   scripts/fuzz-for-cpu.sh build-fuzz sip_stack_fuzz 3600 [PROCESSES]
#
# The corpus is FUZZ_DIR/corpus/<target> (run-fuzzers.sh's), seeded from fuzz/seeds/<target>; each
# process logs to FUZZ_DIR/<target>.cpu-<n>.log and leaves a reproducer in FUZZ_DIR/artifacts/<target>/.
# Run it niced in a scheduler group of its own so builds and tests come first:
#   setsid bash -c 'echo 19 > /proc/self/autogroup; exec nice -n 19 scripts/fuzz-for-cpu.sh ...'
# Prints each process's CPU seconds and how it ended; exits 1 if any found something.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
fuzz_dir=${1:?FUZZ_DIR}
target=${2:?target}
cpu_seconds=${3:-3600}
processes=${4:-1}
binary="$fuzz_dir/bin/$target"
[[ -x $binary ]] || { echo "fuzz-for-cpu: no $binary (make fuzz-build)" >&2; exit 2; }
corpus="$fuzz_dir/corpus/$target"
artifacts="$fuzz_dir/artifacts/$target"
mkdir -p "$corpus" "$artifacts"
seeds=()
[[ -d fuzz/seeds/$target ]] && seeds+=("fuzz/seeds/$target")
dict=()
[[ -f fuzz/$target.dict ]] && dict=("-dict=fuzz/$target.dict")
share=$((cpu_seconds / processes))
ticks=$(getconf CLK_TCK)

# CPU seconds process $1 has used so far (fields 14 and 15 of /proc/PID/stat, after the command name).
cpu_of() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  read -r -a fields <<<"$stat"
  echo $(((fields[11] + fields[12]) / ticks))
}

pids=()
for ((n = 1; n <= processes; n++)); do
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$binary" -max_total_time=864000 -timeout=10 -rss_limit_mb=2048 -max_len=70000 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" "$corpus" "${seeds[@]}" \
    >"$fuzz_dir/$target.cpu-$n.log" 2>&1 &
  pids+=("$!")
done

declare -A used
status=0
for ((round = 0; round < 864000; round++)); do  # bounded: ten days of 1 s polls
  alive=0
  for pid in "${pids[@]}"; do
    if seconds=$(cpu_of "$pid"); then
      used[$pid]=$seconds
      alive=1
      ((seconds >= share)) && kill -INT "$pid" 2>/dev/null
    fi
  done
  ((alive)) || break
  sleep 1
done
for ((n = 1; n <= processes; n++)); do
  pid=${pids[n - 1]}
  wait "$pid"
  code=$?
  # libFuzzer exits 72 when interrupted (-interrupted_exitcode); anything else but 0 is a finding.
  if ((code == 0 || code == 72)); then
    echo "fuzz-for-cpu: $target #$n: ${used[$pid]:-0} CPU-s, $(grep -E '^stat::number_of_executed_units' \
      "$fuzz_dir/$target.cpu-$n.log" | tail -n 1)"
  else
    echo "fuzz-for-cpu: $target #$n FOUND SOMETHING after ${used[$pid]:-0} CPU-s; see $fuzz_dir/$target.cpu-$n.log"
    status=1
  fi
done
exit "$status"
