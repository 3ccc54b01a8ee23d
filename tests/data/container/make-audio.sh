#!/bin/sh
# Regenerates tests/data/container/audio/: one-second clips (ffmpeg 5.1's
# lavfi testsrc 64x48 MPEG-2 video at 10 fps + a 440 Hz sine) carrying the
# audio codecs the media corpus lacks, in each container vreq-container reads
# them from: MP4 (fLaC+dfLa, alac, mp4a OTI 0x6B MP3, ac-3, ec-3), QuickTime
# (sowt, in24, fl32 PCM), Matroska (A_FLAC, A_ALAC, A_PCM/INT/LIT,
# A_PCM/FLOAT/IEEE, A_MPEG/L3, A_AC3, A_EAC3, A_DTS, A_VORBIS), MPEG-TS
# (stream_type 0x81 AC-3, 0x87 E-AC-3, 0x03 MP3) and MPEG-PS (AC-3 in private
# stream 1, MP3 in 0xC0). PCM at 8 kHz and DTS cut to 0.5 s keep them small.
# Their golden rows come from scripts/gen-audio-packet-goldens.sh (ffprobe).
set -eu
here=$(cd "$(dirname "$0")" && pwd)/audio
mkdir -p "$here"
v="-f lavfi -i testsrc=size=64x48:rate=10:duration=1"
s="sine=frequency=440:duration=1:sample_rate"
make() { # name, sample rate, ffmpeg output options...
    name=$1 rate=$2
    shift 2
    # shellcheck disable=SC2086
    ffmpeg -v error -y $v -f lavfi -i "$s=$rate" -c:v mpeg2video -b:v 100k "$@" "$here/$name"
}
make flac.mp4 48000 -c:a flac -strict -2
make alac.mp4 48000 -c:a alac
make mp3.mp4 48000 -c:a libmp3lame -b:a 64k
make ac3.mp4 48000 -c:a ac3 -b:a 96k
make eac3.mp4 48000 -c:a eac3 -b:a 96k
make pcm_s16le.mov 8000 -c:a pcm_s16le
make pcm_s24be.mov 8000 -c:a pcm_s24be
make pcm_f32le.mov 8000 -c:a pcm_f32le
make flac.mkv 48000 -c:a flac
make alac.mkv 48000 -c:a alac
make pcm_s16le.mkv 8000 -c:a pcm_s16le
make pcm_f32le.mkv 8000 -c:a pcm_f32le
make mp3.mkv 48000 -c:a libmp3lame -b:a 64k
make ac3.mkv 48000 -c:a ac3 -b:a 96k
make eac3.mkv 48000 -c:a eac3 -b:a 96k
make dts.mkv 48000 -c:a dca -strict -2 -ac 2 -t 0.5
make vorbis.mkv 48000 -c:a libvorbis
make ac3.ts 48000 -c:a ac3 -b:a 96k
make eac3.ts 48000 -c:a eac3 -b:a 96k
make mp3.ts 48000 -c:a libmp3lame -b:a 64k
make ac3.mpg 48000 -c:a ac3 -b:a 96k -f vob
make mp3.mpg 48000 -c:a libmp3lame -b:a 64k -f mpeg
