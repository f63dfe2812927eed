#!/usr/bin/env bash
# run-bench.sh — the benchmarks, apart from the tests. Medians over runs are
# what to quote: these machines are shared and noisy.
set -euo pipefail
dir=$1
echo "== crossing-to-webhook latency, idle engine (3 runs x 200 crossings)"
for i in 1 2 3; do "$dir/bench_latency" --n 200; done
echo "== crossing-to-webhook latency, background load 200k events/s (3 runs x 200 crossings)"
for i in 1 2 3; do "$dir/bench_latency" --n 200 --load 200000; done
