#!/bin/bash
# check-assets.sh - build what packages install beside the binary and
# validate it with the field's own tools:
#   cargo xtask assets OUT (man page, completions) + scripts/make-icons.sh OUT,
#   the man page through groff (`man --warnings`, lintian's check): no warning;
#   the completions: bash parses its script (bash -n) and completes a flag
#     and a value with it;
#   assets/vreqplay.desktop: desktop-file-validate, no error and no warning;
#   a usr/share tree (applications, metainfo, icons): appstreamcli
#     validate-tree --no-net (the metainfo, its launchable desktop entry);
#     appstreamcli >= 1.0 with url-homepage-missing lowered to info: the
#     project has no homepage to state (assets/*.metainfo.xml);
#   assets/mime/vreqplay.xml: update-mime-database takes it (no message) and
#     maps the globs and the IVF magic;
#   every PNG icon has its directory's size.
# Usage: scripts/check-assets.sh [OUT]   (OUT kept when given; else a
#   temporary directory, removed). One "check-assets: ok" line or the failures.
# Needs: cargo, python3, rsvg-convert (librsvg2-bin), desktop-file-validate
#   (desktop-file-utils), appstreamcli (appstream), update-mime-database
#   (shared-mime-info), man (man-db, groff-base): scripts/setup-host.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ $# -ge 1 ]; then
  out=$1; mkdir -p "$out"
else
  out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
fi
fail=0
bad() { echo "check-assets: FAIL $*"; fail=1; }

cargo run -q -p xtask --locked -- assets "$out" >/dev/null
scripts/make-icons.sh "$out"

# the man page: groff without warnings (lintian's groff-message check)
if ! man_err=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
    man --warnings -E UTF-8 -l -Tutf8 -Z "$out/man/vreqplay.1" 2>&1 >/dev/null); then
  bad "man could not render vreqplay.1: $man_err"
elif [ -n "$man_err" ]; then
  bad "groff warnings in vreqplay.1: $man_err"
fi

for f in vreqplay.bash _vreqplay vreqplay.fish; do
  [ -s "$out/completions/$f" ] || bad "completions/$f missing or empty"
done
bash -n "$out/completions/vreqplay.bash" || bad "bash cannot parse completions/vreqplay.bash"
# and completes: a flag from its prefix, a value enum's choices
complete_bash() {  # complete_bash WORD... : the candidates for the last word, one a line
  # shellcheck disable=SC2016  # expanded by the inner bash
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
           _vreqplay vreqplay "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
           printf "%s\n" "${COMPREPLY[@]}"' _ "$out/completions/vreqplay.bash" vreqplay "$@"
}
[ "$(complete_bash --drm-m)" = --drm-mode ] || bad "bash: --drm-m does not complete to --drm-mode"
[ "$(complete_bash --vo '' | tr '\n' ' ')" = "wayland drm null " ] || bad "bash: --vo does not offer wayland drm null"

if ! dfv=$(desktop-file-validate assets/vreqplay.desktop 2>&1) || [ -n "$dfv" ]; then
  bad "desktop-file-validate: $dfv"
fi

tree=$out/tree/usr/share
mkdir -p "$tree/applications" "$tree/metainfo"
cp assets/vreqplay.desktop "$tree/applications/"
cp assets/io.github.vreqplay.vreqplay.metainfo.xml "$tree/metainfo/"
cp -r "$out/icons" "$tree/"
as_ver=$(appstreamcli --version | sed -n 's/^AppStream version: //p')
as_args=(validate-tree --no-net)
[ "${as_ver%%.*}" -ge 1 ] && as_args+=(--override=url-homepage-missing=info)
asv=$(appstreamcli "${as_args[@]}" "$out/tree" 2>&1) || bad "appstreamcli $as_ver: $asv"

mime=$out/mime
mkdir -p "$mime/packages"
cp /usr/share/mime/packages/freedesktop.org.xml assets/mime/vreqplay.xml "$mime/packages/"
if ! umd=$(XDG_DATA_DIRS=$out XDG_DATA_HOME=$out update-mime-database "$mime" 2>&1) || [ -n "$umd" ]; then
  bad "update-mime-database: $umd"
fi
# globs2 lines: weight:type:glob. Read once, then matched from a here-string:
# `cut ... | grep -q` under pipefail fails at random when grep exits at the
# first match while cut is still writing (SIGPIPE, status 141).
globs=$(cut -d: -f2- "$mime/globs2")
for g in 'video/x-ivf:*.ivf' 'video/h264:*.h264' 'video/h264:*.264' \
         'video/h265:*.h265' 'video/h265:*.265' 'video/h265:*.hevc'; do
  grep -qxF "$g" <<<"$globs" || bad "no glob $g in the MIME database"
done
grep -qx "video/hevc video/h265" "$mime/aliases" || bad "no alias video/hevc"
grep -aq "video/x-ivf" "$mime/magic" || bad "no IVF magic in the MIME database"

# every PNG is its directory's size (the PNG header's IHDR width, height)
python3 - "$out/icons/hicolor" <<'PY' || bad "icon sizes"
import pathlib, struct, sys
bad = 0
pngs = sorted(pathlib.Path(sys.argv[1]).glob("*x*/apps/vreqplay.png"))
for p in pngs:
    w, h = struct.unpack(">II", p.read_bytes()[16:24])
    if f"{w}x{h}" != p.parent.parent.name:
        print(f"check-assets: {p}: {w}x{h}"); bad = 1
if len(pngs) != 7:
    print(f"check-assets: {len(pngs)} PNG sizes, want 7"); bad = 1
sys.exit(bad)
PY

[ "$fail" = 0 ] || exit 1
echo "check-assets: ok (vreqplay.1 groff-clean, 3 completions, desktop entry, AppStream $as_ver, MIME types, 7 PNG sizes + SVG)"
