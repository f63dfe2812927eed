#!/usr/bin/env bash
# run.sh — `make bench-peers`: the crossing-to-webhook latency of mailpulse
# (bench_latency, with its background producer) and of the home-grown peer,
# Prometheus + Alertmanager (bench_peers), in one invocation, side by side.
#
#   bench/peers/run.sh BUILD/bench      (MP_BIN_DIR: where mailpulsed is)
#
# Environment: PEERS_N (crossings through the peer, default 100, each takes
# ~3 s), MP_N (crossings through mailpulse, default 200), MP_LOAD (its
# background events/s, default 200000; the peer's exporter grows 1000
# background tenants at the same rate). Needs Debian's prometheus and
# prometheus-alertmanager (scripts/deps.sh --peers). Loopback only; the
# peers run from a temp dir on free ports and are stopped at the end.
set -euo pipefail
dir=$1
peers_n=${PEERS_N:-100}
mp_n=${MP_N:-200}
mp_load=${MP_LOAD:-200000}

load() { echo "# machine: load average $(cut -d' ' -f1-3 /proc/loadavg)" \
              "cpu pressure $(head -1 /proc/pressure/cpu 2>/dev/null | cut -d' ' -f2-4)"; }

echo "== bench-peers: $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
     "on $(nproc) cores, $(date -u +%FT%TZ)," \
     "$(prometheus --version 2>&1 | head -1 | cut -d' ' -f1-3)," \
     "$(prometheus-alertmanager --version 2>&1 | head -1 | cut -d' ' -f1-3)"

echo "== mailpulse: bench_latency --n $mp_n --load $mp_load"
load
mp=$("$dir/bench_latency" --n "$mp_n" --load "$mp_load")
echo "$mp"

echo "== Prometheus + Alertmanager: bench_peers --n $peers_n --bg-eps $mp_load"
load
pe=$("$dir/peers/bench_peers" --n "$peers_n" --bg-eps "$mp_load")
echo "$pe"
load

# key=value from a result line
val() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1" | head -1; }
mp_line=$(grep '^latency_ms' <<<"$mp")
pe_line=$(grep '^peers_latency_ms' <<<"$pe")
echo "== crossing-to-webhook latency, ms (same run)"
printf '%-28s %10s %10s %10s\n' "" p50 p99 max
printf '%-28s %10s %10s %10s\n' "mailpulse (n=$(val "$mp_line" n))" \
  "$(val "$mp_line" p50)" "$(val "$mp_line" p99)" "$(val "$mp_line" max)"
printf '%-28s %10s %10s %10s\n' "prometheus+am (n=$(val "$pe_line" n))" \
  "$(val "$pe_line" p50)" "$(val "$pe_line" p99)" "$(val "$pe_line" max)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", a / b }'; }
printf '%-28s %10s %10s %10s\n' "ratio peer / mailpulse" \
  "$(ratio "$(val "$pe_line" p50)" "$(val "$mp_line" p50)")x" \
  "$(ratio "$(val "$pe_line" p99)" "$(val "$mp_line" p99)")x" \
  "$(ratio "$(val "$pe_line" max)" "$(val "$mp_line" max)")x"
echo "bench_peers mailpulse_p50=$(val "$mp_line" p50) mailpulse_p99=$(val "$mp_line" p99)" \
     "mailpulse_max=$(val "$mp_line" max) peer_p50=$(val "$pe_line" p50)" \
     "peer_p99=$(val "$pe_line" p99) peer_max=$(val "$pe_line" max)" \
     "ratio_p50=$(ratio "$(val "$pe_line" p50)" "$(val "$mp_line" p50)")" \
     "ratio_p99=$(ratio "$(val "$pe_line" p99)" "$(val "$mp_line" p99)")" \
     "ratio_max=$(ratio "$(val "$pe_line" max)" "$(val "$mp_line" max)")" \
     "target_p99_ms=50"
