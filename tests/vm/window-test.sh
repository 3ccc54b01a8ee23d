#!/bin/bash
# window-test.sh - show vreqplay's Wayland window in the VM's compositor and
# screenshot it (host side).
#
# Usage: tests/vm/window-test.sh [-o OUTDIR] [-w SECONDS] [-f FILE]... [-V WxH [-F]]
#                                [-R gl|pixman] [-E] [-P FRAMES:FPS] [-- GUEST-CMD...]
#   -o OUTDIR   where logs and PNGs end up (default /tmp/vreq-window)
#   -w SECONDS  screenshot this long after the command started (default 6; for
#               the wl_pattern cases: 8 s after it reports its last frame committed.
#               Under TCG weston's capture sometimes completes only at its next
#               repaint, seconds later; a shot taken too soon after a burst of
#               commits can come back empty, so the pattern holds its window 30 s)
#   -f FILE     copy FILE into the shared dir (the command's cwd), repeatable
#   -V WxH      the command plays a clip on visl whose *displayed* size (visible
#               size, pixel aspect applied) is WxH, in a 1024x768 output: check that
#               the shot shows visl's frame at that aspect (tests/vm/check-visl-frame.py
#               finds the picture between the borders), and that weston holds visl's
#               dmabufs (zero-copy; with -R pixman: that it holds none). A command
#               still running after the shot (vreqplay --keep-open) is stopped with
#               SIGTERM.
#   -F          with -V: the picture must fill the output keeping aspect, centred,
#               black around it, to +-2 px per edge and +-1 px in height (vreqplay's
#               scale-to-fit; catches a missing crop or pixel aspect)
#   -R RENDERER weston's renderer: gl (default; llvmpipe, composites client dmabufs)
#               or pixman (no zwp_linux_dmabuf_v1 at all: vreqplay must fall back to
#               wl_shm copies)
#   -E          also play to the end: after the shot run (the command as given,
#               e.g. with --keep-open), run it again without --keep-open in the same
#               weston (case window-end; at most 150 s) and check its exit line
#                 vreqplay: window: presented N, dropped N, late N (zero-copy N, copied N)
#               presented > 0 and, with gl, zero-copy > 0 and copied 0; with pixman,
#               zero-copy 0 and copied > 0. (Two runs because vreqplay prints the line
#               only when it exits by itself, and on main the zero-copy window shows
#               in weston's scene graph only once frames stop: a shot during playback
#               came back empty.)
#   -P FRAMES:FPS  pacing: only the window-end run (no screenshot): the command
#               plays a clip of FRAMES frames at FPS to its end; its log is checked
#               by tests/vm/check-pacing.py (presented + dropped = FRAMES = frame
#               lines, none presented before due). RUST_LOG gets
#               ,vreq_present::wayland::pacing=debug appended
#   GUEST-CMD   runs in the guest in OUTDIR (= /mnt/host), with ./vreqplay and
#               ./wl_pattern copied there, WAYLAND_DISPLAY set. Its window must
#               still be up after SECONDS (unless -P). Example:
#                 tests/vm/window-test.sh -f clip.mp4 -- ./vreqplay clip.mp4
# Without GUEST-CMD it runs two cases of examples/wl_pattern (synthetic NV12
# through the real engine and the Wayland sink):
#   pattern-shm:    --shm     (CPU copy into wl_shm XRGB8888)
#   pattern-dmabuf: --udmabuf (CAPTURE buffers are udmabufs -> zero-copy path)
#   (both with VREQPLAY_NO_VIEWPORTER=1: unscaled, as check-pattern.py reads it)
# and checks: each run exits 0 (every CAPTURE buffer came back), the dmabuf run
# went zero-copy (dmabuf wl_buffers created, shown and released), each
# screenshot shows the pattern (tests/vm/check-pattern.py: bar colours, ramp,
# the square where the last committed frame has it). Look at the PNGs: 8 colour bars over a grey ramp, with a
# white square at the x the log's "holding" line names (+160: kiosk centring).
# RUST_LOG (default info) is passed to the guest command; WESTON_PROTO=1 records
# weston's protocol dump (weston-debug proto) in OUTDIR/weston-proto.txt.
#
# Compositor: weston 14 headless, GL renderer (Mesa llvmpipe) with /dev/dri
# hidden from weston (HIDE_DRI=1, kiosk shell, --debug for the screenshooter):
# the one VM setup that composites client dmabufs (tests/vm/trixie/PRESENT.md).
# With -R pixman: weston headless pixman, which offers no linux-dmabuf (ditto).
# Exit status: 0 all checks passed, 1 a check failed, else run.sh's status.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
out=/tmp/vreq-window wait_s= files=() visl_size= fit=0 renderer=gl to_end=0 pacing=
while getopts ":o:w:f:V:FR:EP:h" opt; do
  case $opt in
    o) out=$OPTARG ;; w) wait_s=$OPTARG ;; f) files+=("$OPTARG") ;; V) visl_size=$OPTARG ;;
    F) fit=1 ;; R) renderer=$OPTARG ;; E) to_end=1 ;; P) pacing=$OPTARG; to_end=1 ;;
    h) sed -n '2,61p' "$0"; exit 0 ;;
    *) echo "window-test.sh: bad option -$OPTARG (see -h)" >&2; exit 2 ;;
  esac
done
shift $((OPTIND-1))
[ "${1:-}" = -- ] && shift
case $renderer in gl|pixman) ;; *) echo "window-test.sh: -R gl|pixman" >&2; exit 2 ;; esac
case $pacing in ''|*[0-9]:*[0-9]) ;; *) echo "window-test.sh: -P FRAMES:FPS" >&2; exit 2 ;; esac
[ $# -gt 0 ] || [ "$to_end$fit$renderer" = 00gl ] ||
  { echo "window-test.sh: -E, -P, -F and -R need a GUEST-CMD" >&2; exit 2; }
[ -n "$pacing" ] && RUST_LOG="${RUST_LOG:-info},vreq_present::wayland::pacing=debug"
[ -n "$wait_s" ] || { [ $# -gt 0 ] && wait_s=6 || wait_s=8; }

. "$HERE/profile.sh"
(cd "$REPO" && cargo build --profile "$VM_CARGO_PROFILE" --bin vreqplay --example wl_pattern) || exit 2
mkdir -p "$out/present"
rm -f "$out"/*.png "$out"/*.log "$out"/*.rc "$out"/*.dmabufs "$out"/*.txt
cp "$REPO/$VM_PLAYER" "$REPO/target/$VREQ_VM_PROFILE/examples/wl_pattern" "$out/"
cp "$HERE/trixie/present/lib.sh" "$HERE/trixie/present/weston.ini" "$out/present/"
for f in "${files[@]+"${files[@]}"}"; do cp "$f" "$out/" || exit 2; done

# guest side
{
  echo '#!/bin/bash'
  echo 'set -u; cd /mnt/host; OUT=/mnt/host; source present/lib.sh'
  printf 'WAIT=%q\n' "$wait_s"
  printf 'export RUST_LOG=%q\n' "${RUST_LOG:-info}"
  printf 'WESTON_PROTO=%q\n' "${WESTON_PROTO:-0}"
  printf 'RENDERER=%q\n' "$renderer"
  # a clip of up to 1024x768 fits the output whole (weston's default here is 640x480)
  [ -n "$visl_size$pacing" ] && echo 'export VREQ_OUT_W=1024 VREQ_OUT_H=768'
  if [ $# -gt 0 ]; then
    # window: the command as given (shot); window-end: without --keep-open, played to its end
    noko=(); for a in "$@"; do [ "$a" = --keep-open ] || noko+=("$a"); done
    printf 'CMD_window=(%s); CMD_window_end=(%s)\n' "$(printf '%q ' "$@")" "$(printf '%q ' "${noko[@]}")"
    if [ -n "$pacing" ]; then echo 'CASES=(window-end)'
    elif [ "$to_end" = 1 ]; then echo 'CASES=(window window-end)'
    else echo 'CASES=(window)'; fi
  else
    echo 'CASES=(pattern-shm pattern-dmabuf)'
    echo 'CMD_pattern_dmabuf=(env VREQPLAY_NO_VIEWPORTER=1 ./wl_pattern --udmabuf --frames 100 --hold 30)'
    echo 'CMD_pattern_shm=(env VREQPLAY_NO_VIEWPORTER=1 ./wl_pattern --shm --frames 100 --hold 30)'
  fi
  cat <<'EOF'
mkdir -p /dev/dri   # lib.sh mounts a tmpfs over it; absent without a DRM driver
HIDE_DRI=1 comp_start weston headless "$RENDERER" /mnt/host/weston.log || exit 3
rc=0
# WESTON_PROTO=1: weston's server-side protocol dump of every client -> weston-proto.txt
[ "${WESTON_PROTO:-0}" = 1 ] && { weston-debug proto > /tmp/weston-proto.txt 2>&1 & }
for c in "${CASES[@]}"; do
  v="CMD_${c//-/_}[@]"
  if [ "$c" = window-end ]; then
    # a fresh compositor for the second client: llvmpipe crashes weston now and
    # then when dmabuf clients follow one another in one weston (../shared/vm notes)
    comp_stop; HIDE_DRI=1 comp_start weston headless "$RENDERER" /mnt/host/weston-end.log || exit 3
  fi
  echo "== $c: ${!v}"
 "${!v}" > "$OUT/$c.log" 2>&1 &
  pid=$!
  if [ "${c#pattern}" != "$c" ]; then
    # wl_pattern prints "holding" once its last frame is committed: shoot the last frame
    t=0; until grep -q "wl_pattern: holding" "$OUT/$c.log" || ! kill -0 $pid 2>/dev/null || [ $t -ge 600 ]; do
      sleep 0.1; t=$((t+1)); done
  fi
  # wait_end PID SECONDS: wait for a command that plays to its end, at most SECONDS
  wait_end() { local t=0; while kill -0 "$1" 2>/dev/null && [ $t -lt $(($2 * 2)) ]; do sleep 0.5; t=$((t+1)); done
    if kill -0 "$1" 2>/dev/null; then echo "  still running after $2 s: SIGTERM"; kill -TERM "$1"; fi
    wait "$1"; }
  if [ "$c" = window-end ]; then
    t0=$(now); wait_end $pid 150; r=$?; echo "  played to its end in $(since "$t0")s (no screenshot)"
  else
    sleep "$WAIT"
  fi
  if [ "$c" = window-end ]; then :
  elif kill -0 $pid 2>/dev/null; then
    echo "  running after ${WAIT}s; weston holds dmabufs: [$(comp_dmabufs)]" | tee "$OUT/$c.dmabufs"
    # weston's scene graph (views, their buffers) before and after the shot, for diagnosis
    timeout 10 weston-debug scene-graph > "$OUT/$c.scene-before.txt" 2>&1
    shot "$c"
    timeout 10 weston-debug scene-graph > "$OUT/$c.scene.txt" 2>&1
    echo "  views in weston's scene graph before/after the shot:" \
      "$(grep -c 'View ' "$OUT/$c.scene-before.txt")/$(grep -c 'View ' "$OUT/$c.scene.txt") (1 = background only)"
    if [ "${c#pattern}" = "$c" ] && kill -0 $pid 2>/dev/null; then
      # a player still showing (e.g. --keep-open): the shot is taken, stop it
      kill -TERM $pid; wait $pid; r=$?
      # vreqplay quits on SIGTERM as on q, with mpv's exit status 4 (quit by signal)
      [ $r = 4 ] && { echo "  stopped with SIGTERM after the shot (exit status 4: quit by signal)"; r=0; }
    else
      wait $pid; r=$?
    fi
  else
    wait $pid; r=$?
    echo "  exited before the screenshot (rc=$r)"; shot "$c-after-exit"
  fi
  echo "  exit status $r"; echo "$r" > "$OUT/$c.rc"
  sed 's/^/  | /' "$OUT/$c.log" | tail -12
done
[ "${WESTON_PROTO:-0}" = 1 ] && cp /tmp/weston-proto.txt "$OUT/"
comp_stop
exit 0
EOF
} > "$out/window-guest.sh"

"$HERE/trixie/run.sh" -T -M 3072 -t 600 -s "$out" -m "visl udmabuf" -- bash window-guest.sh
vm=$?
[ $vm -eq 0 ] || { echo "window-test: VM run failed ($vm)"; exit $vm; }

fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
if [ $# -gt 0 ]; then
  [ -n "$pacing" ] || check "command exited 0" '[ "$(cat "$out/window.rc" 2>/dev/null)" = 0 ]'
  [ "$to_end" = 1 ] && check "command without --keep-open played to its end, exit 0" \
    '[ "$(cat "$out/window-end.rc" 2>/dev/null)" = 0 ]'
  [ -n "$pacing" ] || check "screenshot window.png" '[ -s "$out/window.png" ]'
  if [ -n "$visl_size" ] && [ -z "$pacing" ]; then
    if [ "$renderer" = gl ]; then
      # zero-copy: weston holds the decoder's CAPTURE dmabufs (exporter videobuf2_vmalloc)
      check "weston holds visl's CAPTURE dmabufs (zero-copy)" 'grep -q videobuf2_vmalloc "$out/window.dmabufs"'
    else
      check "weston ($renderer) holds no visl dmabufs (copy path)" \
        '[ -s "$out/window.dmabufs" ] && ! grep -q videobuf2_vmalloc "$out/window.dmabufs"'
    fi
    check "screenshot shows visl's frame (colour bars, aspect $visl_size$([ $fit = 1 ] && echo ", fit to the output"))" \
      'python3 "$HERE/check-visl-frame.py" "$out/window.png" ${visl_size%x*} ${visl_size#*x} $([ $fit = 1 ] && echo --fit) > "$out/window.check.txt"'
    sed 's/^/     /' "$out/window.check.txt" 2>/dev/null | grep -E "^ *(output|FAIL)"
  fi
  if [ "$to_end" = 1 ]; then
    # the exit line: vreqplay: window: presented N, dropped N, late N (zero-copy N, copied N)
    el=$(grep -a -o 'vreqplay: window: presented [0-9]*, dropped [0-9]*, late [0-9]* (zero-copy [0-9]*, copied [0-9]*)' "$out/window-end.log" | tail -1)
    echo "     exit line: ${el:-none}; $(grep -a -o 'vreqplay: [0-9]* frames output' "$out/window-end.log" | tail -1)"
    read -r presented dropped late zc copied <<< "$(echo "$el" | tr -c '0-9\n' ' ')"
    if [ -n "$pacing" ]; then :
    elif [ "$renderer" = gl ]; then
      check "exit line: presented > 0, zero-copy > 0, copied 0" \
        '[ -n "$el" ] && [ "$presented" -gt 0 ] && [ "$zc" -gt 0 ] && [ "$copied" = 0 ]'
    else
      check "exit line: presented > 0, zero-copy 0, copied > 0" \
        '[ -n "$el" ] && [ "$presented" -gt 0 ] && [ "$zc" = 0 ] && [ "$copied" -gt 0 ]'
    fi
  fi
  if [ -n "$pacing" ]; then
    check "pacing ($pacing frames:fps; tests/vm/check-pacing.py)" \
      'python3 "$HERE/check-pacing.py" "$out/window-end.log" ${pacing%:*} ${pacing#*:} > "$out/window.pacing.txt"'
    sed 's/^/     /' "$out/window.pacing.txt" 2>/dev/null
  fi
else
  for c in pattern-dmabuf pattern-shm; do
    check "$c exited 0 (all CAPTURE buffers returned)" '[ "$(cat "$out/$c.rc" 2>/dev/null)" = 0 ]'
    check "$c screenshot" '[ -s "$out/$c.png" ]'
  done
  check "pattern-dmabuf went zero-copy" 'grep -q "path: Dmabuf" "$out/pattern-dmabuf.log"'
  # weston's own llvmpipe buffers are udmabufs too, and weston closes imported fds, so
  # its fdinfo says little here; the client's counters do: buffers wrapped and released
  check "pattern-dmabuf: dmabuf wl_buffers created and released" \
    'grep -Eq "[1-9][0-9]* zero-copy, 0 copied, [0-9]+ dropped, [1-9][0-9]* dmabuf wl_buffers, [1-9][0-9]* releases" "$out/pattern-dmabuf.log"'
  check "pattern-shm copied" 'grep -q "path: Shm" "$out/pattern-shm.log"'
  # pixels: bars, ramp and the moving square where the last committed frame has it
  for c in pattern-shm pattern-dmabuf; do
    x=$(sed -n 's/.*holding; .*square at x = \([0-9]*\).*/\1/p' "$out/$c.log")
    check "$c picture (square at x=${x:-?})" \
      '[ -n "$x" ] && python3 "$HERE/check-pattern.py" "$out/$c.png" "$x" > "$out/$c.check.txt"'
    sed 's/^/     /' "$out/$c.check.txt" 2>/dev/null | grep FAIL
  done
fi
echo "window-test: results in $out ($(cd "$out" && ls *.png 2>/dev/null | tr '\n' ' '))"
exit $fail
