#!/bin/bash
# session-test.sh - a scripted player session in the VM's compositor (host side):
# keys go in through the window's test hook, screenshots show which frame of the
# clip is on screen, read from the number visl stamps on it.
#
# Usage: tests/vm/session-test.sh [-o OUTDIR] [-K]
#   -o OUTDIR  logs, PNGs, the reference Y4M (default /tmp/vreq-session)
#   -K         instead of the session, the known-frame case: no keys, no seek,
#              vreqplay --keep-open --frames 23 must leave frame 22 on screen
# VREQ_SESSION_ARGS: the session's player flags (default
#   "--keep-open=always --pause"; the expectations assume a paused start on frame 0)
#
# The clip: tests/vm/make-seek-clip.sh (HEVC 160x120, 30 s at 30 fps, a CRA
# keyframe every 40 frames, POC k on frame k, chapters at 0/8/16/24 s), made into
# OUTDIR. One VM boot (visl, udmabuf), in it:
#   ref      vreqplay -o ref.y4m --frames 45: the reference the digit templates
#            are learned from (tests/vm/check-visl-stamp.py: frame k stamps "HEVC: k")
#   session  weston headless (GL, /dev/dri hidden, kiosk; 640x480): the player's
#            window fills the output, the 160x120 picture scaled to fit, exactly
#            4x (the reader brings it back to 1:1; shown 1:1, the OSD's top-left
#            text would cover visl's stamp: make-seek-clip.sh).
#            vreqplay --keep-open=always --pause, VREQ_TEST_KEYS=/tmp/keys.fifo (the
#            window reads key names from it and maps them as real keys:
#            crates/present, WindowOptions::test_keys), the steps of PLAN below.
#            Each step: its keys written into the FIFO 0.15 s apart, then the shot
#            "settled": once the window has had one more frame presented per key
#            (the pacing debug lines "frame pts_ns=... result=presented"; each key
#            of a step but o moves to another frame: a seek shows one, a frame step
#            one; checked), shot every 0.25 s until two in a row are the same
#            picture (a fading OSD gone). The step "osd" (key o, on the first frame,
#            shown without OSD) is kept as soon as the picture differs from the shot
#            before it (the OSD may last only about a second). Finally q: the
#            player must exit 0.
# Checks on the host (tests/vm/check-seek-session.py): each shot shows the frame
# mpv's rules give, computed from the clip's ffprobe frame list (pts, key_frame)
# and chapters: a relative seek (Left/Right 5 s, Up/Down 60 s) from the shown
# frame's pts to the last keyframe <= target (clamped to the first/last), '.'
# the next frame, ',' the previous one (precise, here onto a non-keyframe), Page_Up/Page_Down the next/previous chapter's start (mpv's
# 5 s chapter-seek-threshold); the o shot shows the same frame as the shot before
# it and differs from it in at least 200 pixels (the OSD drawn over it; its
# bounding box printed). Whether the OSD fades while paused is not checked
# (the player keeps it up while paused). Under TCG about 100 s.
# Exit status: 0 all checks passed, 1 a check failed, else the VM run's status.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
out=/tmp/vreq-session known_only=0
while getopts ":o:Kh" opt; do
  case $opt in
    o) out=$OPTARG ;; K) known_only=1 ;;
    h) sed -n '2,43p' "$0"; exit 0 ;;
    *) echo "session-test.sh: bad option -$OPTARG (see -h)" >&2; exit 2 ;;
  esac
done

# name:keys (xkbcommon keysym names, as the hook takes them). The expected frame of
# each shot is not written here: check-seek-session.py derives it from the clip.
PLAN=(
  "start:"
  "osd:o"
  "step3:period period period"
  "right1:Right"
  "right2:Right"
  "left1:Left"
  "pgup1:Page_Up"
  "pgup2:Page_Up"
  "pgdn1:Page_Down"
  "down1:Down"
  "up1:Up"
  "pgdn2:Page_Down"
  "step2:period period"
  "back1:comma"
)
KNOWN_FRAMES=23

. "$HERE/profile.sh"
(cd "$REPO" && cargo build --profile "$VM_CARGO_PROFILE" --bin vreqplay) || exit 2
mkdir -p "$out/present"
rm -f "$out"/*.png "$out"/*.log "$out"/*.txt "$out"/ref.y4m
cp "$REPO/$VM_PLAYER" "$out/"
cp "$HERE/trixie/present/lib.sh" "$HERE/trixie/present/weston.ini" "$out/present/"
[ -s "$out/seek.mkv" ] && [ "$out/seek.mkv" -nt "$HERE/make-seek-clip.sh" ] ||
  "$HERE/make-seek-clip.sh" "$out/seek.mkv" || exit 2
printf '%s\n' "${PLAN[@]}" > "$out/plan.txt"

{
  echo '#!/bin/bash'
  echo 'set -u; cd /mnt/host; OUT=/mnt/host; source present/lib.sh'
  printf 'KNOWN_ONLY=%q KNOWN_FRAMES=%q\n' "$known_only" "$KNOWN_FRAMES"
  printf 'export RUST_LOG=%q\n' "${RUST_LOG:-info}"
  printf 'PLAYER_ARGS=(%s)\n' "${VREQ_SESSION_ARGS:---keep-open=always --pause}"
  cat <<'EOF'
# changed NAME PREV: shoot until the picture differs from PREV's shot (the keys took
# effect), at most 10 shots 0.5 s apart
changed() {
  local name=$1 prev=$2 i=0
  shot "$name" > /dev/null
  while cmp -s "$OUT/$prev.png" "$OUT/$name.png" && [ $i -lt 10 ]; do
    sleep 0.5; shot "$name" > /dev/null; i=$((i+1)); done
  [ $i -ge 10 ] && echo "  $name: still the picture of $prev after 10 shots"
}
# presented: frames the window has seen presented so far (the pacing debug lines
# "frame pts_ns=... result=presented ..."; crates/present/src/wayland/pacing.rs)
presented() { grep -ac 'result=presented' session.log; }
# settle NAME N: wait until N frames were presented (the step's new frames are on
# screen: each key of a step but o moves to another frame - a seek shows one, a
# frame step one - check-seek-session.py checks that; at most 30 s), then shoot
# until two shots in a row are the same picture (a fading OSD gone or staying),
# at most 8 shots
settle() {
  local name=$1 n=$2 t=0 i
  while [ "$(presented)" -lt "$n" ] && [ $t -lt 150 ]; do sleep 0.2; t=$((t+1)); done
  [ $t -ge 150 ] && echo "  $name: $(presented) frames presented after 30 s, want $n"
  echo "  $name: last presented: $(grep -a 'result=presented' session.log | tail -1 | grep -o 'pts_ns=[-0-9]*')"
  shot "$name" > /dev/null
  for i in 1 2 3 4 5 6 7 8; do
    sleep 0.25
    shot "$name.next" > /dev/null
    if cmp -s "$OUT/$name.png" "$OUT/$name.next.png"; then
      rm -f "$OUT/$name.next.png"; echo "  $name: settled after $i"; return 0; fi
    mv -f "$OUT/$name.next.png" "$OUT/$name.png"
  done
  echo "  $name: still changing after 8 shots"
}
alive() { kill -0 "$1" 2>/dev/null || { echo "  player exited: $(tail -3 "$2" | tr '\n' ' ')"; return 1; }; }

echo "== ref: vreqplay -o ref.y4m --frames 45"
./vreqplay -o ref.y4m --force --frames 45 seek.mkv > ref.log 2>&1; echo "  exit status $?"
mkdir -p /dev/dri   # lib.sh mounts a tmpfs over it; absent without a DRM driver

if [ "$KNOWN_ONLY" = 1 ]; then
echo "== known: vreqplay --keep-open --frames $KNOWN_FRAMES"
HIDE_DRI=1 comp_start weston headless gl /mnt/host/weston-known.log || exit 3
./vreqplay --keep-open --frames "$KNOWN_FRAMES" seek.mkv > known.log 2>&1 &
pid=$!
sleep 4
alive $pid known.log && settle known
kill -TERM $pid 2>/dev/null; wait $pid; echo "  exit status $?"
comp_stop
exit 0
fi

echo "== session: vreqplay ${PLAYER_ARGS[*]}, keys through VREQ_TEST_KEYS"
HIDE_DRI=1 comp_start weston headless gl /mnt/host/weston-session.log || exit 3
rm -f /tmp/keys.fifo; mkfifo /tmp/keys.fifo
exec 3<> /tmp/keys.fifo   # read-write: never blocks, and no EOF for the player
RUST_LOG=$RUST_LOG,vreq_present::wayland::pacing=debug VREQ_TEST_KEYS=/tmp/keys.fifo ./vreqplay "${PLAYER_ARGS[@]}" seek.mkv > session.log 2>&1 &
pid=$!
prev=
while IFS=: read -r name keys; do
  alive $pid session.log || break
  t0=$(now) n=$(presented)
  if [ "$name" = start ]; then n=1; fi   # the first frame
  for k in $keys; do echo "$k" >&3; n=$((n + 1)); sleep 0.15; done
  if [ "$name" = osd ]; then
    changed osd "$prev"   # at once: the OSD may last only about a second
  else
    settle "$name" "$n"
  fi
  prev=$name
  echo "  $name [$keys]: $(since "$t0") s"
done < plan.txt
echo q >&3
t=0; while kill -0 $pid 2>/dev/null && [ $t -lt 20 ]; do sleep 0.5; t=$((t+1)); done
kill -0 $pid 2>/dev/null && { echo "  q did not end the player: SIGTERM"; kill -TERM $pid; }
wait $pid; r=$?; echo "  exit status $r"; echo "$r" > session.rc
exec 3>&-
sed 's/^/  | /' session.log | tail -8
comp_stop
exit 0
EOF
} > "$out/session-guest.sh"

"$HERE/trixie/run.sh" -T -M 3072 -t 600 -s "$out" -m "visl udmabuf" -- bash session-guest.sh
vm=$?
[ $vm -eq 0 ] || { echo "session-test: VM run failed ($vm)"; exit $vm; }

# 640x480 output / 160x120 clip
args=(--ref "$out/ref.y4m" --clip "$out/seek.mkv" --scale 4)
if [ "$known_only" = 1 ]; then args+=(--known "$out/known.png=$((KNOWN_FRAMES - 1))")
else args+=(--plan "$out/plan.txt" --shots "$out" --rc "$out/session.rc"); fi
python3 "$HERE/check-seek-session.py" "${args[@]}"
r=$?
echo "session-test: results in $out ($(cd "$out" && ls *.png 2>/dev/null | tr '\n' ' '))"
exit $r
