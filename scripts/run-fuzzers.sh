#!/usr/bin/env bash
# Runs each libFuzzer target in FUZZ_DIR/bin for SECONDS, seeded from fuzz/seeds/<target>/ and, for the
# SIP targets, the RFC 4475/5118 messages in ../shared/conformance when that folder is present.
# A crash, leak or timeout fails the run; the reproducer is left in FUZZ_DIR/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_dir=${1:-build-fuzz}
seconds=${2:-60}
shared=../shared/conformance
status=0
for target in "$fuzz_dir"/bin/*_fuzz; do
  name=$(basename "$target")
  corpus="$fuzz_dir/corpus/$name"
  artifacts="$fuzz_dir/artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  seeds=()
  [[ -d fuzz/seeds/$name ]] && seeds+=("fuzz/seeds/$name")
  if [[ -d $shared && $name == sip_* ]]; then
    seeds+=("$shared/rfc4475" "$shared/rfc5118")
  fi
  dict=()
  [[ -f fuzz/$name.dict ]] && dict=("-dict=fuzz/$name.dict")
  echo "fuzz: $name for ${seconds}s (seeds: ${seeds[*]:-none})"
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=70000 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" "$corpus" "${seeds[@]}" >"$fuzz_dir/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; last lines of $fuzz_dir/$name.log:"
    tail -n 40 "$fuzz_dir/$name.log"
    status=1
  else
    grep -E '^stat::number_of_executed_units|^Done' "$fuzz_dir/$name.log" | tail -n 2 || true
  fi
done
exit $status
