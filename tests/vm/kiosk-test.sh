#!/bin/bash
# kiosk-test.sh - the kiosk (vreqplay --vo=drm, issue 14) on vkms in the VM (host side).
#
# Usage: tests/vm/kiosk-test.sh [-V trixie|sid] [-o OUTDIR] [-c CASES] [-b VREQPLAY] [-p]
#   -V VARIANT  sid: kernel 7.2, every vkms plane takes NV12 -> the decoder's
#               buffers go on a plane (zero-copy); trixie (default): kernel 6.12,
#               RGB-only planes -> the CPU fallback into dumb buffers (copied)
#   -o OUTDIR   logs, captures, KMS state dumps (default /tmp/vreq-kiosk-VARIANT)
#   -c CASES    comma-separated, in this order (default: all five codecs on sid,
#               h264,hevc,mpeg2 on trixie; then pace,term,keys,errors (-p: no keys, errors)):
#     h264 hevc vp8 vp9 mpeg2  play the codec's clip (tests/vm/make-kiosk-clips.sh)
#               to its end: vreqplay --vo=drm --drm-connector=Virtual-1
#               --drm-mode=1024x768 --no-input --no-audio CLIP with
#               VREQ_KMS_WRITEBACK=OUTDIR/play-CODEC.wb.ppm. Checks: exit 0; the
#               exit line "vreqplay: drm: presented N, dropped N, late N (zero-copy N,
#               copied N)" with presented + dropped = the clip's frames (ffprobe
#               -count_frames) and zero-copy > 0, copied 0 (sid) or zero-copy 0,
#               copied > 0 (trixie); the writeback capture shows visl's frame at the
#               clip's displayed aspect with black around it
#               (tests/vm/check-visl-frame.py reads the P6 PPM); while it played, a
#               plane scanned out an NV12 framebuffer exported by videobuf2_vmalloc
#               (sid: visl's CAPTURE buffer itself) / no plane showed a V4L2 buffer
#               and one showed a KMS dumb buffer (trixie) (tests/vm/kiosk-probe.py
#               run: GETFB2 + PRIME export of each new framebuffer, dma-buf
#               exporter from fdinfo); the KMS state after exit equals the state
#               before (CRTC mode/ACTIVE, planes' FB_ID/CRTC_ID/rectangles,
#               connectors' CRTC_ID: the console's, restored)
#     pace      a 10 s clip at 25 fps (250 frames, H.264 320x240) on the 60 Hz mode,
#               RUST_LOG=...,vreq_present::kms::pacing=debug: tests/vm/check-pacing.py
#               (presented + dropped = 250 = frame lines, none presented before its
#               due time; prints the presented - due distribution), zero-copy / copied
#               as above, state restored
#     term      SIGTERM 3 s after the first frame showed: exits with status 4
#               (mpv's "quit by signal"; the peer: SIGINT, 0) within 5 s, no
#               panic, the KMS state after equals the state before
#     keys      a real evdev keyboard (tests/vm/uinput-keys.py through /dev/uinput;
#               the VM loads uinput + evdev) presses space, space, q while
#               vreqplay -v --vo=drm --loop-file=inf plays: it must have opened the
#               keyboard ("kiosk keys: /dev/input/eventN"), paused, and quit by the
#               key (exit 0, "quit (key)"; the clip loops forever otherwise), state
#               restored
#     errors    --drm-connector=HDMI-A-9, --drm-mode=1000x1000 (vkms offers every
#               mode up to 4096x2160, so a size it lacks) and a busy master
#               (kiosk-probe.py hold-master keeps a modeset for 20 s): each exits
#               non-zero within 10 s (TCG) with one "drm:" line naming what exists
#               (the connectors / the offered modes / "held by another DRM master"),
#               no panic or backtrace; the first two leave the KMS state as it was
#   -b FILE     the vreqplay binary (default target/debug/vreqplay, target/release/ with VREQ_VM_PROFILE=release; not built here:
#               scripts/test.sh / tier.sh build it)
#   -p          peer (dry test of the checks, no vreqplay): GStreamer's
#               v4l2sl*dec ! kmssink plays the clips (BGRx via videoconvert on
#               trixie), kiosk-probe.py wb-peer captures the grabbed frame centred on
#               black through writeback; exit-line, pacing and error checks skipped
# Prints one "PASS NAME ..." / "FAIL NAME: why" line per case, then the table
# (codec, zero-copy, copied, presented, dropped, capture) and the pacing figures.
# Exit status: 0 all cases passed, 1 one failed, else run.sh's status.
# Time (TCG, 2-core host): boot ~12 s + ~10-20 s per codec, pace ~15 s, term ~8 s, keys ~10 s, errors ~15 s.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/profile.sh"
variant=trixie out= cases= bin=$REPO/$VM_PLAYER peer=0
while getopts ":V:o:c:b:ph" opt; do
  case $opt in
    V) variant=$OPTARG ;; o) out=$OPTARG ;; c) cases=$OPTARG ;; b) bin=$OPTARG ;; p) peer=1 ;;
    h) sed -n '2,57p' "$0"; exit 0 ;;
    *) echo "kiosk-test.sh: bad option -$OPTARG (see -h)" >&2; exit 2 ;;
  esac
done
case $variant in trixie|sid) ;; *) echo "kiosk-test.sh: -V trixie|sid" >&2; exit 2 ;; esac
out=${out:-/tmp/vreq-kiosk-$variant}
if [ -z "$cases" ]; then
  if [ "$variant" = sid ]; then cases=h264,hevc,vp8,vp9,mpeg2; else cases=h264,hevc,mpeg2; fi
  cases=$cases,pace,term; [ "$peer" = 1 ] || cases=$cases,keys,errors
fi
[ "$peer" = 1 ] || [ -x "$bin" ] || { echo "kiosk-test.sh: no $bin (build it first)" >&2; exit 2; }

t_start=$(date +%s)
"$HERE/make-kiosk-clips.sh" "$REPO/target/vm-media/kiosk" > /dev/null || exit 2
mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.txt "$out"/*.json "$out"/*.ppm "$out"/*.png
[ "$peer" = 1 ] || cp "$bin" "$out/vreqplay"
cp "$REPO/target/vm-media/kiosk/"* "$HERE/kiosk-probe.py" "$HERE/kiosk-guest.sh" "$HERE/uinput-keys.py" "$HERE/sid/present/drm.py" "$out/"
IFS=, read -r -a case_list <<< "$cases"
{
  printf 'CASES=(%s)\n' "${case_list[*]}"
  printf 'PEER=%q\n' "$peer"
  printf 'export RUST_LOG=%q\n' "${RUST_LOG:-info}"
} > "$out/kiosk-env.sh"

# vkms with its overlay planes (enable_overlay=1: 8 overlays; by default only
# primary + cursor, and the primary must cover the CRTC unscaled)
"$HERE/$variant/run.sh" -T -M 2048 -t 900 -s "$out" -m "visl vkms uinput evdev" -o "vkms enable_overlay=1" \
  -- bash kiosk-guest.sh 2>&1 | tee "$out/guest.txt"
vm=${PIPESTATUS[0]}
[ "$vm" -eq 0 ] || { echo "kiosk-test: VM run failed ($vm)"; exit "$vm"; }

fail=0 table=() pace_fig=
field() { awk -F'\t' -v f="$1" -v n="$2" '$1 == f {print $n}' "$out/clips.tsv"; }
rc_of() { sed -n 's/^rc \(-\?[0-9]*\) elapsed.*/\1/p' "$out/$1.probe.txt" 2>/dev/null | tail -1; }
elapsed_of() { sed -n 's/^rc .* elapsed \([0-9.]*\).*/\1/p' "$out/$1.probe.txt" 2>/dev/null | tail -1; }
exit_line() { grep -a -o 'vreqplay: drm: presented [0-9]*, dropped [0-9]*, late [0-9]* (zero-copy [0-9]*, copied [0-9]*)' \
  "$out/$1.log" 2>/dev/null | tail -1; }
panicked() { grep -a -Eq 'panicked at|stack backtrace|RUST_BACKTRACE' "$out/$1.log" 2>/dev/null; }
state_same() { python3 "$HERE/kiosk-probe.py" compare "$out/$1.before.json" "$out/$1.after.json" > "$out/$1.state.txt" 2>&1; }
# the case's result: why=() collects failures; report NAME SUMMARY
report() { if [ ${#why[@]} -eq 0 ]; then echo "PASS $1 ($2)"; else fail=1
  echo "FAIL $1: $(IFS=';'; echo "${why[*]}") ($2)"; fi; }
# zero-copy evidence from the grab lines: sid a V4L2 (visl) NV12 framebuffer on a
# plane; trixie none, and a KMS dumb buffer showed
grab_ok() {
  local g=$out/$1.grab.txt
  if [ "$variant" = sid ]; then grep -q ' NV12 .* exporter videobuf2_vmalloc' "$g" 2>/dev/null ||
    why+=("no plane showed visl's NV12 CAPTURE buffer (exporter videobuf2_vmalloc): $(grab_summary "$1")")
  else { [ -s "$g" ] && ! grep -q 'exporter videobuf2_vmalloc' "$g" && grep -q 'exporter ' "$g"; } ||
    why+=("want only KMS dumb buffers on the planes: $(grab_summary "$1")")
  fi
}
grab_summary() { grep -o ' [A-Z0-9]\{4\} [0-9]*x[0-9]* .*exporter [^ ]*' "$out/$1.grab.txt" 2>/dev/null |
  awk '{print $1, $2, $NF}' | sort | uniq -c | awk '{printf "%s%s x%d", s, $2" "$3" "$4, $1; s=", "}'; }
counts_ok() { # NAME FRAMES: exit line, presented + dropped = FRAMES, zero-copy / copied by variant
  local el p d l z c; el=$(exit_line "$1")
  [ -n "$el" ] || { why+=("no exit line 'vreqplay: drm: presented N, dropped N, late N (zero-copy N, copied N)'"); return; }
  read -r p d l z c <<< "$(echo "${el#vreqplay: drm: }" | tr -c '0-9\n' ' ')"
  [ $((p + d)) -eq "$2" ] || why+=("presented + dropped = $p + $d = $((p + d)), want $2 frames")
  if [ "$variant" = sid ]; then { [ "$z" -gt 0 ] && [ "$c" -eq 0 ]; } || why+=("zero-copy $z, copied $c: want zero-copy > 0, copied 0")
  else { [ "$z" -eq 0 ] && [ "$c" -gt 0 ]; } || why+=("zero-copy $z, copied $c: want zero-copy 0, copied > 0"); fi
  counts="presented $p, dropped $d, late $l, zero-copy $z, copied $c"
}

echo "== checks ($variant$([ "$peer" = 1 ] && echo ", peer: GStreamer kmssink"))"
for c in "${case_list[@]}"; do
  case $c in
    h264|hevc|vp8|vp9|mpeg2)
      n=play-$c why=() counts=- cap=FAIL
      clip=$(ls "$out" | grep -m1 "^$c\.")
      size=$(field "$clip" 3) frames=$(field "$clip" 4)
      rc=$(rc_of "$n")
      [ "$rc" = 0 ] || why+=("exit status ${rc:-none}, want 0")
      panicked "$n" && why+=("panic in $n.log")
      [ "$peer" = 1 ] || counts_ok "$n" "$frames"
      grab_ok "$n"
      if python3 "$HERE/check-visl-frame.py" "$out/$n.wb.ppm" "${size%x*}" "${size#*x}" > "$out/$n.check.txt" 2>&1; then cap=ok
      else why+=("capture: $(grep -m2 FAIL "$out/$n.check.txt" | tr '\n' ' ')"); fi
      [ "$peer" = 1 ] || state_same "$n" || why+=("KMS state after exit differs: $(head -3 "$out/$n.state.txt" | tr '\n' ' ')")
      report "$n" "$clip $size, $frames frames: $counts; capture $cap: $(sed -n 's/^output \([^;]*\); picture \([0-9x]* at ([0-9,]*)\).*/\2 in \1/p' "$out/$n.check.txt"); planes: $(grab_summary "$n")"
      table+=("$(printf '%-6s %-10s %-38s %s' "$c" "$size" "$counts" "capture $cap")") ;;
    pace)
      n=pace why=() counts=-
      rc=$(rc_of "$n"); [ "$rc" = 0 ] || why+=("exit status ${rc:-none}, want 0")
      panicked "$n" && why+=("panic in $n.log")
      grab_ok "$n"
      if [ "$peer" = 0 ]; then
        counts_ok "$n" 250
        python3 "$HERE/check-pacing.py" "$out/$n.log" 250 25 > "$out/$n.pacing.txt" 2>&1 ||
          why+=("check-pacing: $(grep FAIL "$out/$n.pacing.txt" | head -3 | tr '\n' ' ')")
        pace_fig=$(grep -E '^presented - due|^frame lines by result' "$out/$n.pacing.txt" | tr '\n' ';')
        state_same "$n" || why+=("KMS state after exit differs: $(head -3 "$out/$n.state.txt" | tr '\n' ' ')")
      fi
      report "$n" "250 frames at 25 fps on 1024x768@60: $counts; ${pace_fig:-no pacing figures}"
      sed 's/^/     /' "$out/$n.pacing.txt" 2>/dev/null ;;
    term)
      n=term why=()
      rc=$(rc_of "$n") el=$(elapsed_of "$n")
      sig=$(grep -o 'SIG[A-Z]* [0-9.]* s after the first new framebuffer ([0-9.]* s after start)' "$out/$n.probe.txt")
      [ -n "$sig" ] || why+=("no frame showed, no signal sent")
      want=4; [ "$peer" = 1 ] && want=0
      [ "$rc" = "$want" ] || why+=("exit status ${rc:-none}, want $want")
      t_sig=$(echo "$sig" | sed -n 's/.*(\([0-9.]*\) s after start)/\1/p')
      [ -n "$t_sig" ] && [ -n "$el" ] && awk -v a="$el" -v b="$t_sig" 'BEGIN{exit !(a - b <= 5)}' ||
        why+=("exited ${el:-?} s after start, the signal at ${t_sig:-?} s: want within 5 s")
      panicked "$n" && why+=("panic in $n.log")
      state_same "$n" || why+=("KMS state after the signal differs: $(head -4 "$out/$n.state.txt" | tr '\n' ' ')")
      report "$n" "exit status $rc, ${sig:-no signal}, exited at ${el:-?} s; $(head -1 "$out/$n.state.txt")" ;;
    keys)
      n=keys why=()
      rc=$(rc_of "$n") el=$(elapsed_of "$n")
      grep -q 'ready' "$out/keys.uinput.txt" 2>/dev/null || why+=("no uinput keyboard: $(head -2 "$out/keys.uinput.txt" 2>/dev/null | tr '\n' ' ')")
      [ "$rc" = 0 ] || why+=("exit status ${rc:-none}, want 0 (q from the evdev keyboard ends --loop-file=inf)")
      grep -a -q 'kiosk keys: /dev/input/event' "$out/$n.log" || why+=("the player opened no evdev keyboard")
      grep -a -Eq 'quit \(key\)' "$out/$n.log" || why+=("no 'quit (key)' in the log")
      grep -a -Eiq 'pause' "$out/$n.log" || why+=("space did not pause (no pause line)")
      panicked "$n" && why+=("panic in $n.log")
      state_same "$n" || why+=("KMS state after exit differs: $(head -3 "$out/$n.state.txt" | tr '\n' ' ')")
      report "$n" "exit status ${rc:-?} at ${el:-?} s: $(grep -a -m1 'kiosk keys' "$out/$n.log" | sed 's/\x1b\[[0-9;]*m//g; s/.*kiosk keys/kiosk keys/' | cut -c1-100)" ;;
    errors)
      for e in connector mode master; do
        n=err-$e why=()
        case $e in
          connector) re='drm: connector "HDMI-A-9" does not exist on /dev/dri/card[0-9]+; it has: .*Virtual-1' ;;
          mode) re='drm: mode 1000x1000 is not offered by Virtual-1; it offers: .*1024x768' ;;
          master) re='drm: /dev/dri/card[0-9]+ is held by another DRM master' ;;
        esac
        rc=$(rc_of "$n") el=$(elapsed_of "$n")
        { [ -n "$rc" ] && [ "$rc" != 0 ]; } || why+=("exit status ${rc:-none}, want non-zero")
        awk -v a="${el:-999}" 'BEGIN{exit !(a <= 10)}' || why+=("took ${el:-?} s, want <= 10")
        grep -a -Eq "$re" "$out/$n.log" 2>/dev/null || why+=("no line matching /$re/")
        nd=$(grep -a -c 'drm:' "$out/$n.log" 2>/dev/null); [ "${nd:-0}" = 1 ] || why+=("${nd:-0} lines with 'drm:', want 1")
        panicked "$n" && why+=("panic in $n.log")
        [ $e = master ] || state_same "$n" || why+=("KMS state changed: $(head -2 "$out/$n.state.txt" | tr '\n' ' ')")
        report "$n" "exit status ${rc:-?} after ${el:-?} s: $(grep -a -m1 'drm:' "$out/$n.log" 2>/dev/null | cut -c1-160)"
      done ;;
  esac
done
if [ ${#table[@]} -gt 0 ]; then
  echo "== $variant: codec, displayed size, exit line, capture"
  printf '   %s\n' "${table[@]}"
fi
[ -n "$pace_fig" ] && echo "== $variant pacing: $pace_fig"
echo "kiosk-test: $variant, $(($(date +%s) - t_start)) s, results in $out"
exit $fail
