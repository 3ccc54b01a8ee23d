# clips.sh - sourced: clip lists from MANIFEST.tsv (paths relative to the media
# dir), MPEG-TS rows included (H.264 and MPEG-2 in TS: GStreamer's tsdemux
# feeds the goldens; HEVC / VP8 / VP9 have no TS rows).
#   codec_clips CODEC   the rows whose codec column is CODEC (h264 | hevc | vp9 |
#                       vp8 | mpeg2; MANIFEST says mpeg2video for mpeg2)
#   h264_clips          = codec_clips h264
#   clip_codec CLIP     the codec column of CLIP's row (empty if not listed)
#   out_of_scope CLIP   why vreqplay must refuse CLIP (tests/oracle/out-of-scope.tsv), or nothing
#   known_difference CLIP  "RESULT<TAB>WHY" of tests/oracle/known-differences.tsv, or nothing
#   va_clip_difference CLIP  "RESULT<TAB>WHY" of tests/oracle/va-clip-differences.tsv (run.sh -A), or nothing
#   va_out_of_scope CLIP  why no picture of CLIP can reach visl through VA
#                       (tests/oracle/va-out-of-scope.tsv: run.sh -A), or nothing
# Media dir: $VREQ_MEDIA or /work/shared/media.
MEDIA=${VREQ_MEDIA:-/work/shared/media}
codec_clips() {
  case $1 in
    mpeg2) awk -F'\t' 'NR>1 && $4=="mpeg2video" {print $1}' "$MEDIA/MANIFEST.tsv" ;;
    *) awk -F'\t' -v c="$1" 'NR>1 && $4==c {print $1}' "$MEDIA/MANIFEST.tsv" ;;
  esac
}
h264_clips() { codec_clips h264; }
clip_codec() {
  awk -F'\t' -v p="$1" 'NR>1 && $1==p {print ($4=="mpeg2video" ? "mpeg2" : $4); exit}' "$MEDIA/MANIFEST.tsv"
}
# the GStreamer elements between demuxer and fakesink for CODEC
codec_gst_chain() {
  case $1 in
    h264) echo "h264parse ! v4l2slh264dec" ;;
    hevc) echo "h265parse ! v4l2slh265dec" ;;
    vp9) echo "vp9parse ! v4l2slvp9dec" ;;
    vp8) echo "v4l2slvp8dec" ;;
    mpeg2) echo "mpegvideoparse ! v4l2slmpeg2dec" ;;
    *) return 1 ;;
  esac
}
out_of_scope() {
  awk -F'\t' -v p="$1" '!/^#/ && $1==p {print $2; exit}' "$(dirname "${BASH_SOURCE[0]}")/out-of-scope.tsv"
}
va_clip_difference() {
  awk -F'\t' -v p="$1" '!/^#/ && $1==p {print $2 "\t" $3; exit}' "$(dirname "${BASH_SOURCE[0]}")/va-clip-differences.tsv"
}
va_out_of_scope() {
  awk -F'\t' -v p="$1" '!/^#/ && $1==p {print $2; exit}' "$(dirname "${BASH_SOURCE[0]}")/va-out-of-scope.tsv"
}
# known_difference CLIP: "RESULT<TAB>WHY" from tests/oracle/known-differences.tsv, or nothing
known_difference() {
  awk -F'\t' -v p="$1" '!/^#/ && $1==p {print $2 "\t" $3; exit}' "$(dirname "${BASH_SOURCE[0]}")/known-differences.tsv"
}
