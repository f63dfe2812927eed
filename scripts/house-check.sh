#!/usr/bin/env bash
# house-check.sh — the size rules of the house (issue 8), checked by CI:
# no product source file (base/ engine/ ingest/ alerts/ cluster/ cmd/) over 800
# lines, no function over 90 lines. Function extents come from Universal
# Ctags (its end: field). Prints each offender and exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_FILE=${MAX_FILE:-800}
MAX_FUNC=${MAX_FUNC:-90}
files=$(find base engine ingest alerts cluster cmd -name '*.[ch]' | sort)
bad=0
for f in $files; do
  n=$(wc -l < "$f")
  if [ "$n" -gt "$MAX_FILE" ]; then
    echo "house-check: $f: $n lines (max $MAX_FILE)"; bad=1
  fi
done
# shellcheck disable=SC2086
while IFS=$'\t' read -r name file start end; do
  len=$((end - start + 1))
  if [ "$len" -gt "$MAX_FUNC" ]; then
    echo "house-check: $file:$start: $name: $len lines (max $MAX_FUNC)"; bad=1
  fi
done < <(ctags -x --c-kinds=f --_xformat='%N	%F	%n	%{end}' $files 2>/dev/null)
if [ "$bad" -eq 0 ]; then
  echo "house-check: $(echo "$files" | wc -w) files, none over $MAX_FILE lines, no function over $MAX_FUNC"
fi
exit $bad
