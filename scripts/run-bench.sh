#!/usr/bin/env bash
# run-bench.sh — the benchmarks, apart from the tests. Medians over runs are
# what to quote: these machines are shared and noisy. Every benchmark prints
# one result line starting with its name, in key=value form:
#
#   scripts/run-bench.sh build/gcc/bench | grep '^bench_'
#
# Environment: MP_BIN_DIR (where mailpulsed is; `make bench` sets it),
# BENCH_SECONDS (each part of bench_throughput, default 60).
# About 10 minutes in all with the defaults on a 2-core machine.
set -euo pipefail
dir=$1
secs=${BENCH_SECONDS:-60}

# Noisy neighbours show here: load average and CPU pressure before each part.
load() { echo "# machine: load average $(cut -d' ' -f1-3 /proc/loadavg)" \
              "cpu pressure $(head -1 /proc/pressure/cpu 2>/dev/null | cut -d' ' -f2-4)"; }

echo "== mailpulse benchmarks: $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
     "$(git status --porcelain 2>/dev/null | grep -qv '^??' && echo '(uncommitted changes)')" \
     "on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"

echo "== ingest: decode + validate + aggregate, one thread, 1,020,000 keys (5 interleaved rounds)"
load
"$dir/bench_ingest" --runs 5

echo "== memory per key, default windows (realistic mix, then every key with all 12 types)"
load
for keys in 100000 1000000; do
  "$dir/bench_memory" --keys "$keys" --mix realistic
  "$dir/bench_memory" --keys "$keys" --mix all
done

echo "== end-to-end throughput: daemon vs raw ZeroMQ vs Redis (${secs} s each)"
load
"$dir/bench_throughput" --seconds "$secs"

echo "== acked ingest beside PUSH, one daemon: interleaved rounds, then ack latency at half the acked rate"
load
"$dir/bench_ack" --seconds "$(( secs < 50 ? 5 : secs / 10 ))" --rounds 5

echo "== restart with 1,000,000 keys in the store (3 restarts)"
load
"$dir/bench_restart" --keys 1000000 --restarts 3

echo "== an idle daemon: CPU and wake-ups over 60 s"
load
"$dir/bench_idle" --seconds 60

echo "== crossing-to-webhook latency, idle engine (3 runs x 200 crossings)"
load
for i in 1 2 3; do "$dir/bench_latency" --n 200; done
echo "== crossing-to-webhook latency, background load 200k events/s (3 runs x 200 crossings)"
for i in 1 2 3; do "$dir/bench_latency" --n 200 --load 200000; done
echo "== ESP webhook adapters: json (400 events a body), Mailgun, Postmark, 2 clients, 5 s each"
load
"$dir/bench_adapters" -s 5

echo "== memory under hostile producers: 4 PUSH senders flat out 20 s, then one 450 MB frame (3 runs each)"
load
"$dir/bench_flood" --seconds 20 --senders 4 --runs 3
