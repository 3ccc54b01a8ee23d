# clips.sh - sourced: h264_clips prints the H.264 clips of MANIFEST.tsv (paths
# relative to the media dir), MPEG-TS rows excluded.
# Media dir: $VREQ_MEDIA or /work/shared/media.
MEDIA=${VREQ_MEDIA:-/work/shared/media}
h264_clips() {
  awk -F'\t' 'NR>1 && $4=="h264" && $9!="MPEG-TS" {print $1}' "$MEDIA/MANIFEST.tsv"
}
