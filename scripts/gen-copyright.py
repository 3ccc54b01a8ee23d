#!/usr/bin/env python3
"""gen-copyright.py - debian/copyright (DEP-5) of the vreqplay source package,
generated at package build time from `cargo metadata --locked`, never kept by
hand: the project's own licence, the third-party trees under third_party/, and
one Files paragraph per crate in vendor/ (the crates the Linux build uses:
`cargo metadata --filter-platform` for each target of the package, the same
filter scripts/package-deb.sh vendors with).

Usage: scripts/gen-copyright.py SOURCE_DIR [--platform TRIPLE]... [-o FILE]
  SOURCE_DIR  a source tree with the workspace and its vendored crates in
              SOURCE_DIR/vendor (cargo runs offline against them)
  --platform  target triples to resolve for (default: x86_64- and
              aarch64-unknown-linux-gnu)
  -o FILE     write there (default stdout)
Each crate's Copyright is the copyright lines of its licence files, else its
Cargo.toml authors, else "the <crate> authors" with its repository. Its
License is its Cargo.toml `license` (SPDX, parsed by license-expression:
python3-license-expression) in DEP-5's spelling, or its `license-file`
recognised by its text. A Comment says whether the crate is linked into the
shipped binaries (vreqplay, vreq_drv_video.so), only runs at build time
(build scripts: bindgen, cc, pkg-config) or only builds the tests and tools.
Every licence named gets a standalone paragraph: a pointer into
/usr/share/common-licenses where Debian ships the text, else the text found
in the vendored crates (copyright lines removed).
Needs: cargo, python3 (>= 3.11, tomllib), python3-license-expression.
Errors (a vendored crate the graph lacks, a crate without licence, a licence
without text) are one line on stderr and exit status 1.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tomllib

from license_expression import (AND, OR, LicenseSymbol, LicenseWithExceptionSymbol,
                                get_spdx_licensing)

PRODUCTS = ("vreqplay", "vreq-va")  # the packages whose artefacts are shipped
DEFAULT_PLATFORMS = ("x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu")
COMMON_LICENSES = "/usr/share/common-licenses"
# SPDX ids whose DEP-5 short name is spelled otherwise (copyright-format 1.0,
# "License short name")
DEP5_NAME = {"BSD-2-Clause": "BSD-2-clause", "BSD-3-Clause": "BSD-3-clause",
             "GPL-2.0": "GPL-2", "GPL-2.0-only": "GPL-2", "GPL-2.0-or-later": "GPL-2+",
             "LGPL-2.1-only": "LGPL-2.1", "LGPL-2.1-or-later": "LGPL-2.1+"}
# a licence file without an SPDX expression (Cargo.toml license-file) is
# recognised by a sentence of its text
LICENSE_FILE_TEXTS = {"MIT": "Permission is hereby granted, free of charge",
                      "Apache-2.0": "Apache License", "BSD-3-clause": "Neither the name"}


class Fail(Exception):
    pass


def cargo_metadata(src, platforms):
    cmd = ["cargo", "metadata", "--format-version", "1", "--locked", "--offline",
           "--config", 'source.crates-io.replace-with="vendored"',
           "--config", 'source.vendored.directory="vendor"']
    for p in platforms:
        cmd += ["--filter-platform", p]
    r = subprocess.run(cmd, cwd=src, capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        raise Fail(f"cargo metadata in {src} failed: {last}")
    return json.loads(r.stdout)


def classify(meta):
    """package id -> 'linked' | 'build' | 'test': the first of these that
    reaches it from the shipped packages (linked: normal dependencies only;
    build: through a build dependency; test: dev dependencies, tools)."""
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    roots = [p["id"] for p in meta["packages"]
             if p["name"] in PRODUCTS and p["source"] is None]
    if len(roots) != len(PRODUCTS):
        raise Fail(f"workspace lacks one of {', '.join(PRODUCTS)}")
    cls = {}

    def walk(start, kinds, label):
        stack = list(start)
        while stack:
            i = stack.pop()
            if i in cls:
                continue
            cls[i] = label
            for d in nodes[i]["deps"]:
                if any(k["kind"] in kinds for k in d["dep_kinds"]):
                    stack.append(d["pkg"])
    walk(roots, {None}, "linked")
    build_starts = [d["pkg"] for i in list(cls) for d in nodes[i]["deps"]
                    if any(k["kind"] == "build" for k in d["dep_kinds"])]
    walk(build_starts, {None, "build"}, "build")
    for i in nodes:
        cls.setdefault(i, "test")
    return cls


def vendor_dirs(src):
    """(name, version) -> vendor/<dir> for every vendored crate with sources
    (cargo-vendor-filterer leaves an empty stub for a crate it filtered out)."""
    out = {}
    vdir = os.path.join(src, "vendor")
    if not os.path.isdir(vdir):
        raise Fail(f"{vdir} missing (scripts/package-deb.sh vendors the crates)")
    for d in sorted(os.listdir(vdir)):
        man = os.path.join(vdir, d, "Cargo.toml")
        if not os.path.isfile(man):
            continue
        with open(man, "rb") as f:
            pkg = tomllib.load(f).get("package", {})
        out[(pkg.get("name"), str(pkg.get("version")))] = f"vendor/{d}"
    return out


def is_stub(src, rel):
    files = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(src, rel)) for f in fs]
    return not any(f.endswith(".rs") and os.path.getsize(f) > 0 for f in files)


LICENSE_FILE_RE = re.compile(r"^(LICEN[CS]E|COPYING|UNLICENSE|COPYRIGHT)", re.I)
# "Copyright 2019 A", "(c) 2019 A", "© A" (not the Apache licence's clause "(c) You must")
COPYRIGHT_LINE_RE = re.compile(r"^\s*(copyright\b|\(c\)\s*\d|©)", re.I)
TEMPLATE_RE = re.compile(r"\[yyyy\]|\{yyyy\}|\[name of copyright owner\]|<year>|"
                         r"copyright notice|copyright (owner|holder|license)|copyright and license|"
                         r"copyright laws|copyright statement", re.I)


def license_files(src, rel):
    d = os.path.join(src, rel)
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if LICENSE_FILE_RE.match(f) and os.path.isfile(os.path.join(d, f)))


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def copyright_lines(src, rel, pkg):
    seen = []
    for f in license_files(src, rel):
        for line in read(f).splitlines():
            if COPYRIGHT_LINE_RE.match(line) and not TEMPLATE_RE.search(line):
                c = re.sub(r"^\s*(copyright\s*)?(\(c\)\s*|©\s*)?", "", line.strip(), flags=re.I)
                c = c.strip().rstrip(".")
                if c and c not in seen:
                    seen.append(c)
    if not seen:
        seen = [a.replace(" <>", "") for a in pkg.get("authors") or []]
    if not seen:
        repo = pkg.get("repository") or pkg.get("homepage") or "crates.io"
        seen = [f"the {pkg['name']} authors (no notice in the crate; {repo})"]
    return seen


def dep5(expr):
    """a parsed SPDX expression in DEP-5 syntax; also returns the licence
    short names it names"""
    names = []

    def r(e, top):
        if isinstance(e, LicenseWithExceptionSymbol):
            base = DEP5_NAME.get(e.license_symbol.key, e.license_symbol.key)
            exc = e.exception_symbol.key.removesuffix("-exception")
            n = f"{base} with {exc} exception"
            names.append(n)
            return n
        if isinstance(e, LicenseSymbol):
            n = DEP5_NAME.get(e.key, e.key)
            names.append(n)
            return n
        op = " or " if isinstance(e, OR) else " and " if isinstance(e, AND) else None
        if op is None:
            raise Fail(f"cannot render licence expression {e}")
        s = op.join(r(a, False) for a in e.args)
        return s if top else f"({s})"
    return r(expr, True), names


def crate_license(licensing, src, rel, pkg):
    spdx = pkg.get("license")
    if spdx:
        spdx = re.sub(r"\s*/\s*", " OR ", spdx)  # the old "MIT/Apache-2.0"
        try:
            return dep5(licensing.parse(spdx, validate=True, strict=True))
        except Exception as e:  # license_expression raises its own error types
            raise Fail(f"{pkg['name']} {pkg['version']}: licence {pkg['license']!r}: {e}")
    lf = pkg.get("license_file")
    if lf:
        text = read(os.path.join(src, rel, os.path.basename(lf)))
        for name, needle in LICENSE_FILE_TEXTS.items():
            if needle in text:
                return name, [name]
        raise Fail(f"{pkg['name']} {pkg['version']}: license-file {lf} not recognised")
    raise Fail(f"{pkg['name']} {pkg['version']}: no licence in Cargo.toml")


# which licence file of a crate holds which licence's text: its name says so
# (LICENSE-MIT, LICENSE-APACHE, LICENSE-ZLIB, UNLICENSE, LICENSE-UNICODE,
# LICENSE-Apache-2.0_WITH_LLVM-exception), or it is the crate's only one
FILE_HINTS = {"MIT": ("mit",), "Apache-2.0": ("apache",), "Zlib": ("zlib",),
              "Unlicense": ("unlicense",), "Unicode-3.0": ("unicode",),
              "0BSD": ("0bsd",), "ISC": ("isc",), "BSD-3-clause": ("bsd",),
              "BSD-2-clause": ("bsd",), "MPL-2.0": ("mpl",), "BSL-1.0": ("bsl", "boost")}


def license_text(name, candidates):
    """the text of licence `name` from the crates that declare it: the first
    file that names it (or the lone licence file of a single-licence crate),
    copyright lines removed"""
    want_llvm = "LLVM" in name
    base = name.split(" with ")[0]
    hints = FILE_HINTS.get(base, (base.lower(),))
    for files, single in candidates:
        pick = None
        for f in files:
            b = os.path.basename(f).lower()
            if any(h in b for h in hints) and (("llvm" in b) == want_llvm):
                pick = f
                break
        if pick is None and single and len(files) == 1 and not want_llvm:
            pick = files[0]
        if pick:
            lines = [ln.rstrip() for ln in read(pick).splitlines()
                     if not (COPYRIGHT_LINE_RE.match(ln) and not TEMPLATE_RE.search(ln))]
            while lines and not lines[0].strip():
                lines.pop(0)
            while lines and not lines[-1].strip():
                lines.pop()
            if lines:
                return lines
    return None


def body(lines):
    return "\n".join(" " + ln if ln.strip() else " ." for ln in lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source_dir")
    ap.add_argument("--platform", action="append")
    ap.add_argument("-o", "--output")
    a = ap.parse_args()
    src = os.path.abspath(a.source_dir)
    platforms = a.platform or list(DEFAULT_PLATFORMS)
    licensing = get_spdx_licensing()

    meta = cargo_metadata(src, platforms)
    cls = classify(meta)
    vendored = vendor_dirs(src)
    root = meta["workspace_root"]
    with open(os.path.join(root, "Cargo.toml"), "rb") as f:
        ws = tomllib.load(f)
    project_lic, used = dep5(licensing.parse(ws["workspace"]["package"]["license"]))
    used = list(used)
    proj_copy = copyright_lines(src, ".", {"name": "vreqplay"})
    out = ["Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
           "Upstream-Name: vreqplay",
           "Comment: Generated by scripts/gen-copyright.py at package build time from",
           " `cargo metadata --locked --filter-platform` for " + ", ".join(platforms) + ":",
           " every crate vendored for that build (vendor/), and whether it is linked",
           " into the shipped binaries.",
           "",
           "Files: *",
           "Copyright: " + "\n           ".join(proj_copy),
           "License: " + project_lic,
           ""]
    # third_party/linux-uapi: kernel headers bindgen reads (their SOURCE file
    # names the Debian package and licence)
    srcfile = os.path.join(src, "third_party/linux-uapi/SOURCE")
    if os.path.isfile(srcfile):
        info = read(srcfile)
        m = re.search(r"^Licen[cs]e:\s*(.+)$", info, re.M)
        if not m:
            raise Fail(f"{srcfile}: no Licence: line")
        lic, names = dep5(licensing.parse(m.group(1)))
        used += names
        out += ["Files: third_party/linux-uapi/*",
                "Copyright: the Linux kernel's authors",
                "License: " + lic,
                "Comment: Linux UAPI headers, " + info.splitlines()[0].strip() + "; read by",
                " bindgen at build time (struct layouts, constants), not linked.",
                ""]

    paragraphs = []
    texts = {}  # licence name -> [(files, single-licence crate)]
    missing = []
    for p in sorted(meta["packages"], key=lambda p: (p["name"], p["version"])):
        if p["source"] is None:
            mp = os.path.relpath(os.path.dirname(p["manifest_path"]), src)
            if not mp.startswith("third_party/"):
                continue  # a workspace member: Files: *
            rel = mp
        else:
            rel = vendored.get((p["name"], p["version"]))
            if rel is None:
                missing.append(f"{p['name']} {p['version']}")
                continue
        lic, names = crate_license(licensing, src, rel, p)
        used += names
        files = license_files(src, rel)
        for n in names:
            texts.setdefault(n, []).append((files, len(set(names)) == 1))
        where = {"linked": "linked into the shipped binaries",
                 "build": "runs at build time only (build scripts)",
                 "test": "builds the tests and tools only, not shipped"}[cls[p["id"]]]
        paragraphs += [f"Files: {rel}/*",
                       "Copyright: " + "\n           ".join(copyright_lines(src, rel, p)),
                       "License: " + lic,
                       f"Comment: crate {p['name']} {p['version']}: {where}", ""]
        vendored.pop((p["name"], p["version"]), None)
    if missing:
        raise Fail("not vendored: " + ", ".join(missing))
    extra = [d for d in vendored.values() if not is_stub(src, d)]
    if extra:
        raise Fail("vendored but not in the Linux build graph: " + ", ".join(extra))
    out += paragraphs
    out += ["Files: debian/*",
            "Copyright: " + "\n           ".join(proj_copy),
            "License: " + project_lic, ""]

    for n in sorted(set(used), key=str.lower):
        base = n.split(" with ")[0]
        common = os.path.join(COMMON_LICENSES, base)
        if " with " in n and os.path.isfile(common) and texts.get(n):
            # the base licence by reference (lintian: no full Apache-2.0 text
            # in the file), the exception's own text from the crates' file
            lines = license_text(n, texts.get(n, []))
            exc = n.split(" with ")[1].removesuffix(" exception")
            start = next((i for i, ln in enumerate(lines or [])
                          if exc.lower() in ln.lower() and "exception" in ln.lower()), None)
            if start is None:
                raise Fail(f"no text found for the exception of {n}")
            out += [f"License: {n}",
                    body([f"On Debian systems, the complete text of the {base} licence can be",
                          f"found in {common}. The exception:", ""] + lines[start:]), ""]
            continue
        if " with " not in n and os.path.isfile(common):
            out += [f"License: {n}",
                    f" On Debian systems, the complete text of the {n} licence can be",
                    f" found in {common}.", ""]
            continue
        lines = license_text(n, texts.get(n, []))
        if lines is None and n in (project_lic.split(" or ")):
            lines = license_text(n, [(license_files(src, "."), False)])
        if lines is None and n.startswith("GPL-2 with Linux-syscall-note"):
            # the exception's text: third_party/linux-uapi/Linux-syscall-note
            # (the SPDX list's text of the kernel's
            # LICENSES/exceptions/Linux-syscall-note)
            note = os.path.join(src, "third_party/linux-uapi/Linux-syscall-note")
            if not os.path.isfile(note):
                raise Fail(f"{note} missing: the text of the Linux-syscall-note exception")
            lines = ([f"On Debian systems, the complete text of the GPL-2 licence can be",
                      f"found in {COMMON_LICENSES}/GPL-2. The exception:", ""]
                     + [ln.strip() for ln in read(note).strip("\n").splitlines()])
        if lines is None:
            raise Fail(f"no text found for licence {n}")
        out += [f"License: {n}", body(lines), ""]

    text = "\n".join(out).rstrip("\n") + "\n"
    if a.output:
        with open(a.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print(f"gen-copyright: {e}", file=sys.stderr)
        sys.exit(1)
