#!/bin/bash
# fault-test.sh - the faults visl can provoke (issue 15), one VM boot:
#   unbind  the device vanishing mid-stream: while vreqplay --vo=null plays
#           gizmo.mp4 in a loop (--loop-file=inf: one session, seeks back to
#           the start), visl's platform device is unbound through sysfs
#           (/sys/bus/platform/drivers/visl/unbind with the name found under
#           /sys/bus/platform/devices/visl*); the player must exit non-zero
#           within 2 s of the unbind, with no panic, printing one error line
#           that names the device (/dev/videoN (visl)), ENODEV ("No such
#           device") and the frame. The device is bound again afterwards.
#   stall   a request that does not complete in time: visl's
#           visl_transtime_ms module parameter (0644, visl-core.c: each job
#           sleeps that long) set to 6000 mid-stream, above the engine's
#           DEVICE_TIMEOUT (5 s): the player must exit non-zero within 15 s
#           (5 s timeout + the job in progress finishing at STREAMOFF) with
#           one line naming the device and the frame it waited for, and no
#           panic.
# What visl cannot provoke: V4L2_BUF_FLAG_ERROR (visl never sets it; its
# device_run always completes VB2_BUF_STATE_DONE), EAGAIN / EBUSY / ENOMEM
# from QBUF / S_EXT_CTRLS / CREATE_BUFS on demand, and SOURCE_CHANGE (visl
# sends no events): those are covered by the fake device's fault injection
# (crates/engine/tests/faults.rs, tests/faults.rs).
# Usage: tests/vm/fault-test.sh  (debug build; not locked here: wrap the
# call in `flock /tmp/vreq-vm.lock`). Exit status 0 when both pass.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
cd "$REPO" || exit 2
cargo build --bin vreqplay || exit 2
media=${VREQ_MEDIA:-$(cd "$REPO/.." && pwd)/shared/media}
mkdir -p target/vm-media && cp -u "$media/debian-src-firefox-esr/gizmo.mp4" target/vm-media/ || exit 2
tests/vm/vm.sh run -t 300 -- bash -c '
  P=./target/debug/vreqplay F=target/vm-media/gizmo.mp4 fail=0
  ms() { echo $(( $(date +%s%N) / 1000000 )); }
  # waits up to $2 ms for pid $1, prints the ms waited
  waitfor() { local t0=$(ms); while kill -0 $1 2> /dev/null && [ $(( $(ms) - t0 )) -lt $2 ]; do sleep 0.05; done; echo $(( $(ms) - t0 )); }
  verdict() { # NAME RC MS LIMIT LOG PATTERN
    local errs=$(grep -c "^vreqplay: .*(visl).*frame" $5)
    echo "--- $1: exit status $2 after $3 ms (limit $4); error lines:"; grep "^vreqplay:" $5 | grep -v "frames output"
    if [ "$2" -ne 0 ] && [ "$2" -lt 128 ] && [ "$3" -le "$4" ] && [ "$errs" -eq 1 ] &&
       grep -q "$6" $5 && ! grep -q panicked $5; then echo "fault: $1 ok"
    else echo "fault: $1 FAILED"; tail -5 $5; fail=1; fi
  }
  dev=$(basename "$(ls -d /sys/bus/platform/devices/visl* | head -1)")
  echo "visl platform device: $dev"

  $P --vo=null --no-audio --loop-file=inf $F > /tmp/unbind.log 2>&1 &
  pid=$!; sleep 4
  if kill -0 $pid 2> /dev/null; then
    t0=$(ms); (echo -n "$dev" > /sys/bus/platform/drivers/visl/unbind) &
    waited=$(waitfor $pid 10000); kill -9 $pid 2> /dev/null; wait $pid; rc=$?
    verdict unbind $rc $(( $(ms) - t0 )) 2000 /tmp/unbind.log "No such device"
  else echo "fault: unbind FAILED (the player ended before the unbind)"; cat /tmp/unbind.log; fail=1; fi
  wait
  echo -n "$dev" > /sys/bus/platform/drivers/visl/bind && sleep 1

  $P --vo=null --no-audio --loop-file=inf $F > /tmp/stall.log 2>&1 &
  pid=$!; sleep 4
  if kill -0 $pid 2> /dev/null; then
    t0=$(ms); echo 6000 > /sys/module/visl/parameters/visl_transtime_ms
    waited=$(waitfor $pid 20000); kill -9 $pid 2> /dev/null; wait $pid; rc=$?
    verdict stall $rc $(( $(ms) - t0 )) 15000 /tmp/stall.log "no request slot freed\\|in flight after"
  else echo "fault: stall FAILED (the player ended first)"; cat /tmp/stall.log; fail=1; fi
  echo 0 > /sys/module/visl/parameters/visl_transtime_ms
  exit $fail'
