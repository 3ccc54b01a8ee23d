#!/bin/bash
# make-synthetic.sh - (re)writes the synthetic H.264 streams of
# crates/codec/src/h264/tests.rs (PAFF field pairs, MMCO/long-term/gaps/list
# modifications, POC types 1 and 2: coverage the corpus lacks) into
# tests/data/h264-synthetic/*.h264, through the VREQ_H264_DUMP hook of the
# unit test codec::h264::tests::synthetic_streams_are_committed (which then
# checks the committed files equal the generators' output).
# After a change, regenerate their goldens from GStreamer:
#   tests/oracle/gen-golden.sh -S
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
out=$ROOT/tests/data/h264-synthetic
mkdir -p "$out"
cd "$ROOT"
VREQ_H264_DUMP=$out cargo test -q -p vreq-codec --lib h264::tests::synthetic_streams_are_committed >/dev/null
ls -l "$out"/*.h264
