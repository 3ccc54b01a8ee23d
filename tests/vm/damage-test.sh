#!/bin/bash
# damage-test.sh - the corrupted-corpus run of issue 15 ("resilience as good
# as ffmpeg's"): damaged copies of the shared clips (tests/vm/make-damaged.py:
# bit flips at 3 seeds, cuts at 33 % and 77 %, a zeroed 4 KiB block, 64 KiB of
# random bytes spliced in; plus each intact file as the timing reference)
# played in the VM on visl with the release build,
#   vreqplay --vo=null --no-audio FILE
# each under a hard timeout (SIGKILL after VREQ_DAMAGE_TIMEOUT s, default 30);
# then tests/vm/check-damage.py on the host: the table of outcomes (played
# all / played partly with warnings / refused with error) with our frames
# (the exit line "vreqplay: N frames output") against ffprobe -count_frames of
# the same damaged file, and the rules: 0 panics, 0 hangs (a killed run, or a
# run that took more than 2 s longer than the intact file's run in the same
# boot: see check-damage.py), frames summed over the set >= 0.95 x ffmpeg's.
#
# Usage: tests/vm/damage-test.sh [--all] [-o OUTDIR]
#   (default) the tier's subset: one clip per container, all 7 variants
#             (make-damaged.py --subset; about 80 runs)
#   --all     every video clip of the corpus (75 clips x 8 files; several boots
#             of at most VREQ_DAMAGE_PER_BOOT files each, default 100: about 4 min each)
#   -o OUTDIR results (default target/vm-damage/{subset,all}; inside the repo)
# Environment: VREQ_MEDIA (default ../shared/media), VREQ_CACHE (the VM
# image), VREQ_DAMAGE_TIMEOUT, VREQ_DAMAGE_PER_BOOT, VREQ_VM_LOCK (a lock
# file each boot takes with flock, e.g. /tmp/vreq-vm.lock so that other VM
# users get turns between the boots of --all; unset: no lock, for a caller
# that holds it already, as tier.sh's caller may).
# Exit status: 0 the rules hold, 1 a rule failed, else the VM's / a tool's.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
all=0 out=
while [ $# -gt 0 ]; do
  case $1 in
    --all) all=1; shift ;;
    -o) out=$2; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "damage-test.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
  esac
done
set_name=$([ $all = 1 ] && echo all || echo subset)
out=${out:-target/vm-damage/$set_name}
cd "$REPO" || exit 2
mkdir -p "$out" && out=$(cd "$out" && pwd)
case $out in "$REPO"/*) rel=${out#"$REPO"/} ;; *) echo "damage-test.sh: OUTDIR must be inside $REPO" >&2; exit 2 ;; esac
rm -rf "${out:?}"/*
media=${VREQ_MEDIA:-$(cd "$REPO/.." && pwd)/shared/media}
tmo=${VREQ_DAMAGE_TIMEOUT:-30}
per_boot=${VREQ_DAMAGE_PER_BOOT:-100}

(cargo build --release --locked --bin vreqplay) || exit 2
dmg=target/vm-media/damage-$set_name
python3 "$HERE/make-damaged.py" --media "$media" --out "$dmg" $([ $all = 0 ] && echo --subset) || exit 2

# the guest's part: one line per file in runs.tsv (name, exit status, wall
# ms, exit instant in ns since the epoch, guest clock)
cat > "$out/guest.sh" <<'EOF'
#!/bin/bash
set -u; cd /mnt/host
OUT=$1 LIST=$2 TMO=$3
# the player logs the instant its input ended (or its error) on the target
# vreqplay::input_end; check-damage.py takes the exit instant minus that
export RUST_LOG=warn,vreqplay::input_end=debug NO_COLOR=1
tail -n +2 "$LIST" | while IFS=$'\t' read -r name src variant file _; do
  s=$(date +%s%N)
  timeout -s KILL "$TMO" ./target/release/vreqplay --vo=null --no-audio "$file" > "$OUT/$name.log" 2>&1 < /dev/null
  rc=$?; e=$(date +%s%N)
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" $(( (e - s) / 1000000 )) "$e" >> "$OUT/runs.tsv"
done
EOF

# boots of at most per_boot files (a clip's files stay in one boot)
tail -n +2 "$dmg/list.tsv" > "$out/all-rows.tsv"
total=$(grep -c . "$out/all-rows.tsv")
boot=0 fail=0
t0=$(date +%s)
awk -F'\t' -v n="$per_boot" -v out="$out" '
  { if ($2 != last) { if (cnt >= n) { b++; cnt = 0 } last = $2 }
    f = out "/list." b ".tsv"
    if (!(f in seen)) { seen[f] = 1; print "name\tsource\tvariant\tfile\tsize_bytes\tffprobe_frames\tffprobe_status" > f }
    print > f; cnt++ }' "$out/all-rows.tsv"
for list in "$out"/list.*.tsv; do
  boot=$((boot + 1))
  n=$(($(grep -c . "$list") - 1))
  echo "damage-test: boot $boot: $n files"
  ${VREQ_VM_LOCK:+flock "$VREQ_VM_LOCK"} "$HERE/trixie/run.sh" -T -t 1800 -s "$REPO" -m visl -- \
    bash "$rel/guest.sh" "$rel" "${list#"$REPO"/}" "$tmo"
  vm=$?
  [ $vm -eq 0 ] || { echo "damage-test: VM run failed (exit $vm)"; fail=2; }
done
echo "damage-test: $total files in $boot boot(s), $(( $(date +%s) - t0 )) s"
[ $fail = 0 ] || exit $fail
python3 "$HERE/check-damage.py" "$dmg/list.tsv" "$out" | tee "$out/table.txt"
exit "${PIPESTATUS[0]}"
