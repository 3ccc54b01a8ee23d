#!/usr/bin/env bash
# fuzz.sh - coverage-guided fuzzing of vreqplay's parsers (issue 15).
#
# Usage: scripts/fuzz.sh [TARGET|"T1 T2 ..."|all] [SECONDS]   (defaults: all, 60)
#        scripts/fuzz.sh --list
#        scripts/fuzz.sh --seeds                     (only rebuild the corpora)
#
# Runs each target of fuzz/ (cargo-fuzz, libFuzzer, nightly toolchain), one
# after the other, for SECONDS each, with -timeout=1 -rss_limit_mb=512
# -malloc_limit_mb=512 and the target's dictionary (fuzz/dict/), on a seed
# corpus rebuilt from the shared media ($VREQ_MEDIA, else ../shared/media
# relative to the repository) and tests/data: files cut to their first
# 16-64 KiB, or remuxed to 0.3 s with `ffmpeg -c copy` where a cut would lose
# the index (MP4 moov at the end, Matroska Cues). Corpora live in
# fuzz/corpus/<target>/ (gitignored; what libFuzzer adds is kept between
# runs), findings in fuzz/artifacts/<target>/, logs in fuzz/logs/.
# Prints a table (target, seconds, execs, edges from libFuzzer's cov:, crash
# / timeout / oom files this run wrote) and exits 1 if any target has one.
# A finding is replayed with `cargo +nightly fuzz run TARGET FILE`; once
# fixed, minimise it (`cargo +nightly fuzz tmin TARGET FILE`) into
# tests/data/fuzz-regressions/TARGET/ (replayed by `cargo test -p vreq-fuzz`).
# Environment: FUZZ_NICE (default 5), FUZZ_JOBS (default 1: one process),
# FUZZ_FORK=1 (libFuzzer's -fork=1 with -ignore_crashes/-ignore_timeouts/
# -ignore_ooms: the run lasts its whole time and keeps every finding instead
# of stopping at the first; for long campaigns on a shared machine, where a
# starved process can pass -timeout=1 - replay each timeout-* to tell),
# FUZZ_KEEP_SEEDS=1 (do not rebuild the seed corpora: for a second fuzz.sh
# running beside a first one, which reads them), FUZZ_RUNS=N (libFuzzer's
# -runs: stop a target after N executions or SECONDS, whichever comes first;
# the campaign bar of issue 15 is FUZZ_RUNS=2000000 with 1800 s).
# The "seconds" column is the target's measured wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CARGO_FUZZ_VERSION=0.13.1
TARGETS=(demux_mp4 demux_mkv demux_ivf demux_annexb_h264 demux_annexb_hevc demux_mpeg2es
         demux_ps demux_ts demux_probe codec_h264 codec_hevc codec_vp8 codec_vp9 codec_mpeg2
         codec_mp4 detile audio_packets va_map)
MEDIA=${VREQ_MEDIA:-$ROOT/../shared/media}
NICE=${FUZZ_NICE:-5}

dict_of() {
    case $1 in
        demux_mp4|codec_mp4) echo mp4 ;;
        demux_mkv) echo mkv ;;
        demux_ivf|codec_vp8|codec_vp9) echo ivf ;;
        demux_annexb_*|codec_h264|codec_hevc) echo nal ;;
        demux_mpeg2es|demux_ps|demux_ts|codec_mpeg2) echo mpeg ;;
        demux_probe|audio_packets) echo all ;;
        *) echo "" ;;
    esac
}

# seed NAME TARGET... <stdin: bytes>: one corpus file in each target's corpus
seed() {
    local name=$1; shift
    local tmp; tmp=$(mktemp)
    cat > "$tmp"
    if [ -s "$tmp" ]; then
        for t in "$@"; do cp "$tmp" "fuzz/corpus/$t/seed-$name"; done
    fi
    rm -f "$tmp"
}
# cut FILE BYTES TARGET...
cut_seed() {
    local f=$1 n=$2; shift 2
    head -c "$n" "$f" | seed "$(basename "$f")-$((n / 1024))k" "$@"
}
# remux FILE EXT TARGET... : the first 0.3 s, stream copy (index rewritten)
remux_seed() {
    local f=$1 ext=$2; shift 2
    local out; out=$(mktemp --suffix=".$ext")
    if ffmpeg -nostdin -v error -y -i "$f" -t 0.3 -map 0:v:0? -map 0:a:0? -c copy "$out" 2>/dev/null; then
        head -c 262144 "$out" | seed "$(basename "$f")-0.3s.$ext" "$@"
    fi
    if [ "$ext" = mp4 ] && ffmpeg -nostdin -v error -y -i "$f" -t 0.3 -map 0:v:0? -map 0:a:0? -c copy \
            -movflags frag_keyframe+empty_moov "$out" 2>/dev/null; then
        head -c 262144 "$out" | seed "$(basename "$f")-0.3s-frag.mp4" "$@"
    fi
    rm -f "$out"
}

build_seeds() {
    [ -d "$MEDIA" ] || { echo "fuzz.sh: no media at $MEDIA (set VREQ_MEDIA)" >&2; exit 2; }
    command -v ffmpeg >/dev/null || { echo "fuzz.sh: ffmpeg missing (scripts/setup-host.sh)" >&2; exit 2; }
    for t in "${TARGETS[@]}"; do mkdir -p "fuzz/corpus/$t"; rm -f "fuzz/corpus/$t"/seed-*; done
    local f
    while IFS= read -r -d '' f; do
        case ${f,,} in
            *.mp4|*.mov)
                remux_seed "$f" mp4 demux_mp4 codec_mp4 demux_probe audio_packets
                cut_seed "$f" 32768 demux_mp4 ;;
            *.mkv|*.webm)
                remux_seed "$f" mkv demux_mkv demux_probe audio_packets
                cut_seed "$f" 32768 demux_mkv ;;
            *vp8*.ivf) cut_seed "$f" 32768 demux_ivf codec_vp8 demux_probe ;;
            *.ivf) cut_seed "$f" 32768 demux_ivf codec_vp9 demux_probe ;;
            *.h264|*.264) cut_seed "$f" 32768 demux_annexb_h264 codec_h264 demux_probe ;;
            *.h265|*.hevc|*.265) cut_seed "$f" 32768 demux_annexb_hevc codec_hevc demux_probe ;;
            *.m2v) cut_seed "$f" 32768 demux_mpeg2es codec_mpeg2 demux_probe ;;
            *.mpeg|*.mpg) cut_seed "$f" 65536 demux_ps demux_probe audio_packets codec_mpeg2 ;;
            *.ts|*.m2ts) cut_seed "$f" 65536 demux_ts demux_probe audio_packets ;;
        esac
    done < <(find "$MEDIA" "$ROOT/tests/data" -type f -size -64M -print0 | sort -z)
    # MPEG-2 ES from the PS clips (the corpus has one .m2v)
    for f in "$MEDIA"/*/*.mpeg; do
        [ -f "$f" ] || continue
        ffmpeg -nostdin -v error -i "$f" -t 0.5 -map 0:v:0 -c copy -f mpeg2video - 2>/dev/null \
            | head -c 32768 | seed "$(basename "$f").m2v" demux_mpeg2es codec_mpeg2
    done
    # detile: header of 10 little-endian u16 (kind, width, height, column
    # height, luma height, strides / 2, lengths / 128 or / 64), then fill bytes
    printf '\x00\x00\x40\x00\x20\x00\x30\x00\x20\x00\x20\x00\x20\x00\x30\x00\x40\x00\x20\x00fill' | seed nc12 detile
    printf '\x01\x00\x40\x00\x20\x00\x30\x00\x20\x00\x40\x00\x40\x00\x60\x00\x80\x00\x40\x00fill' | seed nc30 detile
    printf '\x03\x00\x40\x00\x20\x00\x50\x00\x50\x00\x40\x00\x40\x00\x40\x00\x80\x00\x40\x00fill' | seed nv15 detile
    # va_map: per profile (first byte) a 640x352 context, then picture
    # parameters, slice parameters (zeros, longer than any VA struct), slice
    # data, end of picture
    for p in 0 1 2 3 4 5 6 7 8 9; do
        { printf "\\x$(printf %02x "$p")\\x80\\x02\\x60\\x01"
          printf '\x01\x01\x00\x08'; head -c 2048 /dev/zero
          printf '\x03\x01\x00\x08'; head -c 2048 /dev/zero
          printf '\x04\x01\x40\x00'; head -c 64 /dev/zero | tr '\0' '\125'
          printf '\x00\x00\x00\x00'; } | seed "profile$p" va_map
    done
    cat fuzz/dict/*.dict > fuzz/corpus/all.dict
    for t in "${TARGETS[@]}"; do
        printf '%-20s %4d seeds\n' "$t" "$(find "fuzz/corpus/$t" -type f | wc -l)"
    done
}

ensure_cargo_fuzz() {
    rustup toolchain list | grep '^nightly' >/dev/null || rustup toolchain install nightly --profile minimal
    if ! cargo +nightly fuzz --version 2>/dev/null | grep " $CARGO_FUZZ_VERSION" >/dev/null; then
        # built with stable (its pinned rustix 0.36 does not build on a recent
        # nightly), run with nightly
        cargo +stable install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
    fi
}

case ${1:-all} in
    --list) printf '%s\n' "${TARGETS[@]}"; exit 0 ;;
    --seeds) build_seeds; exit 0 ;;
    all) RUN=("${TARGETS[@]}") ;;
    *) RUN=()
       for t in $1; do  # one target, or several separated by spaces
           printf '%s\n' "${TARGETS[@]}" | grep -x "$t" >/dev/null || { echo "fuzz.sh: no target $t (--list)" >&2; exit 2; }
           RUN+=("$t")
       done ;;
esac
SECONDS_EACH=${2:-60}
ensure_cargo_fuzz
[ "${FUZZ_KEEP_SEEDS:-0}" = 1 ] || build_seeds >/dev/null
mkdir -p fuzz/logs
ROWS=()
found=0
for t in "${RUN[@]}"; do
    nice -n "$NICE" cargo +nightly fuzz build -O --debug-assertions "$t"
    d=$(dict_of "$t")
    dict=()
    if [ "$d" = all ]; then dict=(-dict=fuzz/corpus/all.dict)
    elif [ -n "$d" ]; then dict=(-dict="fuzz/dict/$d.dict"); fi
    mkdir -p "fuzz/artifacts/$t"
    jobs=()
    # parallel jobs write their logs to fuzz-N.log: keep those under fuzz/logs
    [ "${FUZZ_JOBS:-1}" -gt 1 ] && jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
    [ "${FUZZ_FORK:-0}" = 1 ] && jobs=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    [ -n "${FUZZ_RUNS:-}" ] && jobs+=(-runs="$FUZZ_RUNS")
    t0=$(date +%s)
    # artifacts of this run only (those of earlier runs stay until removed)
    stamp=fuzz/logs/.$t.start; touch "$stamp"
    log=fuzz/logs/$t.log
    set +e
    # ASan keeps freed memory in a 256 MiB quarantine by default, which
    # counts in -rss_limit_mb: codec_h264 "ran out" at 534 MB while the same
    # input replayed 3000 times in one stable process peaked at 14.5 MB.
    # A 64 MiB quarantine keeps the 512 MB limit about the program.
    ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64} \
    nice -n "$NICE" cargo +nightly fuzz run -O --debug-assertions "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout=1 -rss_limit_mb=512 -malloc_limit_mb=512 \
        -max_len=262144 -print_final_stats=1 "${jobs[@]}" "${dict[@]}" > "$log" 2>&1
    set -e
    took=$(( $(date +%s) - t0 ))
    if [ "${FUZZ_FORK:-0}" = 1 ]; then
        # the fork parent's "#RUNS: cov: ..." lines count every child's runs
        execs=$( (grep -aoE '^#[0-9]+:' "$log" || true) | tail -1 | tr -dc 0-9)
    else
        execs=$( (grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" || true) | awk '{s+=$2} END {print s+0}')
    fi
    edges=$( (grep -ao 'cov: [0-9]*' "$log" || true) | tail -1 | awk '{print $2+0}')
    crashes=$(find "fuzz/artifacts/$t" -newer "$stamp" -name 'crash-*' | wc -l)
    timeouts=$(find "fuzz/artifacts/$t" -newer "$stamp" \( -name 'timeout-*' -o -name 'slow-unit-*' \) | wc -l)
    ooms=$(find "fuzz/artifacts/$t" -newer "$stamp" \( -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    [ $((crashes + timeouts + ooms)) -gt 0 ] && found=1
    ROWS+=("$(printf '%-20s %6s %10s %7s %8s %9s %5s' "$t" "$took" "$execs" "${edges:-0}" "$crashes" "$timeouts" "$ooms")")
    echo "${ROWS[-1]}" >&2
done
printf '%-20s %6s %10s %7s %8s %9s %5s\n' target seconds execs edges crashes timeouts ooms
printf '%s\n' "${ROWS[@]}"
exit $found
