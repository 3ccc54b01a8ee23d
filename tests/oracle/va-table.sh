#!/bin/bash
# va-table.sh DIR...  - the oracle-through-VA table of issue 11's Done-when
# (clip, codec, jobs equal / total, frames vs ffprobe, result) from one or
# more `tests/oracle/run.sh -A -o DIR` output directories (e.g. one per
# codec), through `vreq-oracle report --va-known tests/oracle/va-known-differences.tsv`
# (the report's other columns: visl CAPTURE dequeues and the known
# differences that fired, per clip; run it on a DIR for those).
# Prints a markdown table, then per DIR the report's summary lines.
# Exit status: 0 only when every clip of every DIR passes.
# Env: VREQ_ORACLE (default target/debug/vreq-oracle).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ORACLE=${VREQ_ORACLE:-$HERE/../../target/debug/vreq-oracle}
[ $# -gt 0 ] || { sed -n '2,11p' "$0"; exit 2; }
[ -x "$ORACLE" ] || { echo "va-table.sh: no $ORACLE (cargo build -p vreq-oracle)" >&2; exit 2; }
rc=0 summaries=()
echo "| clip | codec | jobs equal / total | frames: ffmpeg / ffprobe | result |"
echo "|---|---|---|---|---|"
for d in "$@"; do
  rep=$("$ORACLE" report --va-known "$HERE/va-known-differences.tsv" "$d") || rc=1
  # report columns: clip | codec | jobs | frames | dequeues | known | result
  printf '%s\n' "$rep" | awk -F' \\| ' '/^\| / && !/^\| clip / {
      sub(/^\| /, "", $1); sub(/ \|$/, "", $7); print "| " $1 " | " $2 " | " $3 " | " $4 " | " $7 " |" }'
  summaries+=("$d: $(printf '%s\n' "$rep" | sed -n '/clips pass/,$p' | tr '\n' ' ')")
done
echo
printf '%s\n' "${summaries[@]}"
exit $rc
