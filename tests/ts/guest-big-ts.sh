#!/bin/sh
# guest-big-ts.sh TS: run inside the VM (cwd = repo root), e.g.
#   tests/ts/make-big-ts.sh 3 target/vm-media/big.ts
#   flock /tmp/vreq-vm.lock tests/vm/vm.sh run -- sh tests/ts/guest-big-ts.sh target/vm-media/big.ts
# vreqplay (release) --vo null --no-audio --frames 1 / 300 on TS, twice: wall time
# of the whole process and its peak RSS (VmHWM polled every 20 ms from /proc:
# a lower bound), then the -v log of a --frames 1 run after the start time.
ts=${1:?usage: guest-big-ts.sh TS}
run() {
  s=$(date +%s%N)
  ./target/release/vreqplay "$@" > /tmp/out.txt 2>&1 &
  pid=$!
  hwm=0
  while kill -0 $pid 2>/dev/null; do
    h=$(awk '/^VmHWM/{print $2}' /proc/$pid/status 2>/dev/null)
    [ -n "$h" ] && hwm=$h
    sleep 0.02
  done
  wait $pid; rc=$?
  e=$(date +%s%N)
  echo "rc=$rc wall_ms=$(( (e - s) / 1000000 )) peak_rss_kib>=$hwm :: $(tail -1 /tmp/out.txt)"
}
for i in 1 2; do
  echo "== --frames 1"; run --vo null --no-audio --frames 1 "$ts"
  echo "== --frames 300"; run --vo null --no-audio --frames 300 "$ts"
done
echo "== -v log timestamps (first lines), started at $(date -u +%H:%M:%S.%N)"
./target/release/vreqplay -v --vo null --no-audio --frames 1 "$ts" 2>&1 | head -8
