#!/usr/bin/env bash
# Runs each libFuzzer target in FUZZ_DIR/bin for SECONDS, seeded from fuzz/seeds/<target>/ and, for the
# SIP targets, the RFC 4475/5118 messages in ../shared/conformance when that folder is present.
# Targets run side by side, one per core (each libFuzzer process is single-threaded), so CI's wall
# time is about ceil(targets / cores) * SECONDS. A crash, leak or timeout fails the run; the
# reproducer is left in FUZZ_DIR/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_dir=${1:-build-fuzz}
seconds=${2:-60}
jobs=${FUZZ_JOBS:-$(nproc)}
shared=../shared/conformance

run_one() {
  local target=$1 name corpus artifacts
  name=$(basename "$target")
  corpus="$fuzz_dir/corpus/$name"
  artifacts="$fuzz_dir/artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  local seeds=() dict=()
  [[ -d fuzz/seeds/$name ]] && seeds+=("fuzz/seeds/$name")
  if [[ -d $shared && $name == sip_* ]]; then
    seeds+=("$shared/rfc4475" "$shared/rfc5118")
  fi
  [[ -f fuzz/$name.dict ]] && dict=("-dict=fuzz/$name.dict")
  # fuzz/<target>.options: extra libFuzzer flags for one target, one per line ('#' lines are comments).
  local options=()
  [[ -f fuzz/$name.options ]] && mapfile -t options < <(grep -v -e '^#' -e '^$' "fuzz/$name.options")
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=70000 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" "${options[@]}" "$corpus" "${seeds[@]}" \
      >"$fuzz_dir/$name.log" 2>&1; then
    echo "fuzz: $name ok: $(grep -E '^stat::number_of_executed_units' "$fuzz_dir/$name.log" | tail -n 1)"
  else
    echo "fuzz: $name FAILED; last lines of $fuzz_dir/$name.log:"
    tail -n 40 "$fuzz_dir/$name.log"
    return 1
  fi
}

targets=("$fuzz_dir"/bin/*_fuzz)
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
status=0
pids=()
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || status=1; done
  run_one "$target" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
