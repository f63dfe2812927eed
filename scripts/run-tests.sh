#!/usr/bin/env bash
# run-tests.sh — run every test binary given, print each suite's result and a
# closing "N passed, N failed" line; exit non-zero if any suite failed.
set -u
pass=0; fail=0; failed=()
# Sanitizer builds: known-noise suppressions (see the file), and a failing
# exit status on any report, for the tests and the daemons they start.
export TSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")/.." && pwd)/tests/tsan.supp halt_on_error=0 exitcode=66 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 ${UBSAN_OPTIONS:-}"
start=$SECONDS
for t in "$@"; do
  echo "== $(basename "$t")"
  t0=$SECONDS
  # CK_FORK=yes: each test case in its own process, so one crash is one failure.
  if CK_FORK=yes "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$(basename "$t")"); fi
  # the time per suite, so a slow one is seen (CI's whole run has a budget)
  echo "-- $(basename "$t"): $((SECONDS - t0)) s"
done
echo
[ ${#failed[@]} -gt 0 ] && echo "failed suites: ${failed[*]}"
echo "suites: $pass passed, $fail failed ($((SECONDS - start)) s)"
[ "$fail" -eq 0 ]
