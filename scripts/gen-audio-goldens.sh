#!/bin/bash
# gen-audio-goldens.sh - ffmpeg's decode of every audio stream of the shared
# corpus, summarised into tests/golden/audio/<path with / as __>.a<N>.tsv
# (N = ffmpeg's audio stream index, `-map 0:a:N`). ffmpeg's output only:
#   codec, sample_rate, channels   ffprobe's stream fields
#   frames                         samples per channel ffmpeg's decoder outputs
#   sha256_f32le, sha256_s16le     of `ffmpeg -v error -i FILE -map 0:a:N -f f32le|s16le -`
#   rms_chN                        per-channel RMS of the f32le output (dBFS, 2 decimals)
#   ffmpeg                         the ffmpeg version that made it
# The host test crates/audio/tests/corpus.rs compares our decoder's sample
# count with `frames` and its signal with ffmpeg's live decode.
# Usage: scripts/gen-audio-goldens.sh [MEDIA_DIR]   (default /work/shared/media
# or $VREQ_MEDIA)
set -euo pipefail
cd "$(dirname "$0")/.."
media=${1:-${VREQ_MEDIA:-/work/shared/media}}
out=tests/golden/audio
command -v ffmpeg >/dev/null || { echo "gen-audio-goldens: ffmpeg missing (scripts/setup-host.sh)" >&2; exit 1; }
mkdir -p "$out"
rm -f "$out"/*.tsv
version=$(ffmpeg -version | head -1 | awk '{print $3}')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -F'\t' 'NR > 1 && $12 != "-" { print $1 }' "$media/MANIFEST.tsv" | while read -r rel; do
  f="$media/$rel"
  n=$(ffprobe -v error -select_streams a -show_entries stream=index -of csv=p=0 "$f" | sort -u | grep -c . || true)
  for ((i = 0; i < n; i++)); do
    IFS=, read -r codec rate channels < <(ffprobe -v error -select_streams "a:$i" \
      -show_entries stream=codec_name,sample_rate,channels -of csv=p=0 "$f" | head -1)
    ffmpeg -nostdin -v error -i "$f" -map "0:a:$i" -f f32le - > "$tmp/f32" </dev/null
    ffmpeg -nostdin -v error -i "$f" -map "0:a:$i" -f s16le - > "$tmp/s16" </dev/null
    name="${rel//\//__}.a$i.tsv"
    {
      printf 'file\t%s\n' "$rel"
      printf 'stream\ta:%d\n' "$i"
      printf 'codec\t%s\n' "$codec"
      printf 'sample_rate\t%s\n' "$rate"
      printf 'channels\t%s\n' "$channels"
      python3 - "$tmp/f32" "$channels" <<'EOF'
import sys, math, array
x = array.array('f')
with open(sys.argv[1], 'rb') as fh:
    x.frombytes(fh.read())
if sys.byteorder != 'little':
    x.byteswap()
ch = int(sys.argv[2])
frames = len(x) // ch
print(f"frames\t{frames}")
for c in range(ch):
    s = math.fsum(v * v for v in x[c : frames * ch : ch])
    r = math.sqrt(s / frames) if frames else 0.0
    print(f"rms_ch{c}\t{20 * math.log10(r) if r > 0 else -999:.2f}")
EOF
      printf 'sha256_f32le\t%s\n' "$(sha256sum < "$tmp/f32" | cut -d' ' -f1)"
      printf 'sha256_s16le\t%s\n' "$(sha256sum < "$tmp/s16" | cut -d' ' -f1)"
      printf 'ffmpeg\t%s\n' "$version"
    } > "$out/$name"
    echo "gen-audio-goldens: $name"
  done
done
