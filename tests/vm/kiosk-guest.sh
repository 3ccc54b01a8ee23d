#!/bin/bash
# kiosk-guest.sh - guest side of tests/vm/kiosk-test.sh (run in the VM with bash,
# cwd = the shared output dir, which holds ./vreqplay, the clips, clips.tsv,
# kiosk-probe.py + drm.py and kiosk-env.sh: CASES, PEER, RUST_LOG).
# One case after another; each leaves NAME.log (the command's output),
# NAME.probe.txt (kiosk-probe.py run: rc, elapsed), NAME.before/after.json
# (KMS state), NAME.grab.txt (the framebuffers planes showed) and for the play
# cases NAME.wb.ppm (the writeback capture). The host checks them.
set -u
cd /mnt/host
export PYTHONDONTWRITEBYTECODE=1
source ./kiosk-env.sh
OUT=/mnt/host
card=$(for n in /sys/class/drm/card[0-9]; do
  [ "$(basename "$(readlink -f "$n/device")")" = vkms ] && echo "/dev/dri/${n##*/}"; done | head -1)
[ -n "$card" ] || { echo "kiosk-guest: no vkms card"; exit 3; }
conn_id=$(python3 -c 'import sys; sys.path.insert(0, "."); import drm
c = drm.Card(sys.argv[1]); print([k["id"] for k in c.connectors() if k["name"] == "Virtual-1"][0])' "$card")
echo "kiosk-guest: $(uname -r), vkms $card (Virtual-1 = connector $conn_id), cases: ${CASES[*]}"
clip_of() { awk -F'\t' -v c="$1" '$1 ~ "^"c"\\." {print $1}' clips.tsv | head -1; }
play=(./vreqplay --vo=drm --drm-connector=Virtual-1 --drm-mode=1024x768 --no-input --no-audio)
probe() { # NAME TIMEOUT [probe options] -- CMD...
  local name=$1 tmo=$2; shift 2
  python3 kiosk-probe.py run --log "$name.log" --state "$name" --grab "$name" --timeout "$tmo" "$@" \
    > "$name.probe.txt" 2>&1
  echo "== $name: $(tail -1 "$name.probe.txt")"
  sed 's/^/  | /' "$name.log" | tail -8
  sed 's/^/  grab: /' "$name.grab.txt" 2>/dev/null | head -4
}
gst_dec() { case $1 in h264|pace-h264) echo v4l2slh264dec ;; hevc) echo v4l2slh265dec ;;
  vp8) echo v4l2slvp8dec ;; vp9) echo v4l2slvp9dec ;; mpeg2) echo v4l2slmpeg2dec ;; esac; }
peer_cmd() { # CODEC CLIP: GStreamer's kmssink, NV12 as decoded on sid, converted to BGRx on trixie
  local conv=(); [ "$(uname -r | cut -d. -f1)" -lt 7 ] && conv=(videoconvert ! video/x-raw,format=BGRx !)
  echo gst-launch-1.0 -e filesrc location="$2" ! parsebin ! "$(gst_dec "$1")" ! "${conv[@]}" \
    kmssink driver-name=vkms connector-id="$conn_id" can-scale=false
}
for c in "${CASES[@]}"; do
  case $c in
    h264|hevc|vp8|vp9|mpeg2)
      clip=$(clip_of "$c")
      if [ "$PEER" = 1 ]; then
        # shellcheck disable=SC2046
        probe "play-$c" 60 -- $(peer_cmd "$c" "$clip")
        size=$(awk -F'\t' -v f="$clip" '$1 == f {print $3}' clips.tsv)
        # the first grabbed frame, cropped to its plane's SRC (the visible size), centred
        g=$(grep -m1 -- "-> play-$c.grab-" "play-$c.grab.txt")
        png=$(echo "$g" | grep -o "play-$c.grab-[0-9]*.png") src=$(echo "$g" | sed -n 's/.* src 0,0 \([0-9]*x[0-9]*\) .*/\1/p')
        [ -n "$png" ] && python3 kiosk-probe.py wb-peer "$png" "play-$c.wb.ppm" ${src:+--crop "$src"}
      else
        probe "play-$c" 90 -- env VREQ_KMS_WRITEBACK="$OUT/play-$c.wb.ppm" "${play[@]}" "$clip"
      fi ;;
    pace)
      if [ "$PEER" = 1 ]; then
        # shellcheck disable=SC2046
        probe pace 90 -- $(peer_cmd pace-h264 pace-h264.mp4)
      else
        probe pace 120 -- env RUST_LOG="$RUST_LOG,vreq_present::kms::pacing=debug" "${play[@]}" pace-h264.mp4
      fi ;;
    term)
      # SIGTERM 3 s into the picture (the peer: SIGINT, gst-launch -e's clean stop)
      if [ "$PEER" = 1 ]; then
        # shellcheck disable=SC2046
        probe term 60 --term-after 3 --signal INT -- $(peer_cmd pace-h264 pace-h264.mp4)
      else
        probe term 60 --term-after 3 -- "${play[@]}" pace-h264.mp4
      fi ;;
    errors)
      probe err-connector 30 -- ./vreqplay --vo=drm --drm-connector=HDMI-A-9 --no-input --no-audio pace-h264.mp4
      # vkms offers every mode up to 4096x2160 (drm_add_modes_noedid): ask for one it lacks
      probe err-mode 30 -- ./vreqplay --vo=drm --drm-connector=Virtual-1 --drm-mode=1000x1000 \
        --no-input --no-audio pace-h264.mp4
      # another master holds the card (a modeset with a black primary, kept 20 s)
      python3 kiosk-probe.py hold-master 20 > err-master.holder.txt 2>&1 &
      holder=$!
      t=0; until grep -q "holding" err-master.holder.txt || ! kill -0 $holder 2>/dev/null || [ $t -ge 100 ]; do
        sleep 0.1; t=$((t+1)); done
      cat err-master.holder.txt
      probe err-master 30 -- "${play[@]}" pace-h264.mp4
      kill $holder 2>/dev/null; wait $holder 2>/dev/null ;;
    keys)
      # a real evdev keyboard (uinput): space pauses, space resumes, q quits a
      # clip that loops forever; the keys are read through xkbcommon (us)
      python3 uinput-keys.py --wait 7 --gap 1 space space q > keys.uinput.txt 2>&1 &
      kb=$!
      t=0; until grep -q ready keys.uinput.txt || ! kill -0 $kb 2>/dev/null || [ $t -ge 50 ]; do
        sleep 0.1; t=$((t+1)); done
      cat keys.uinput.txt
      probe keys 60 -- ./vreqplay -v --vo=drm --drm-connector=Virtual-1 --drm-mode=1024x768 \
        --no-audio --loop-file=inf pace-h264.mp4
      wait $kb 2>/dev/null ;;
    *) echo "kiosk-guest: unknown case $c" ;;
  esac
done
exit 0
