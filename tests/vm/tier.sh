#!/bin/bash
# tier.sh - the VM test tier (run by scripts/test.sh after the image is built).
# Each check prints one line "vm: NAME ok|FAILED ..." and the tier ends with
# "vm tier: N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd); cd "$top"
pass=0 fail=0
check() { # check NAME CMD... : runs CMD, counts the result
  local name=$1; shift
  local log=/tmp/vreq-vm-$name.log
  if "$@" > "$log" 2>&1; then pass=$((pass+1)); echo "vm: $name ok"
  else fail=$((fail+1)); echo "vm: $name FAILED (log $log):"; tail -20 "$log" | sed 's/^/    /'; fi
}

# 1. discovery: vreqplay finds visl through the media topology
check list-devices tests/vm/vm.sh run -- bash -c \
  './target/debug/vreqplay --list-devices | tee /dev/stderr | grep -E "/dev/media0 +/dev/video0 +visl +h264"'

echo "vm-tier: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
