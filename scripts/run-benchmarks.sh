#!/usr/bin/env bash
# Runs every benchmark: the Google Benchmark programs, then the load benchmarks with real peers.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
for b in "$build_dir"/bin/bench_*; do
  [[ -x $b ]] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_min_time=0.5
done
echo "== sip_cps"
python3 bench/sip_cps.py --chorusd "$build_dir/bin/chorusd"
echo "== media_pps"
python3 bench/media_pps.py --chorusd "$build_dir/bin/chorusd"
echo "== sfu_forward"
python3 bench/sfu_forward.py --chorusd "$build_dir/bin/chorusd"
echo "== scale_curves"
python3 bench/scale_curves.py --chorusd "$build_dir/bin/chorusd" --json "$build_dir/scale_curves.json" \
  --png bench/scale_curves.png
