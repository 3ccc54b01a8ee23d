#!/usr/bin/env python3
"""check-crate-graph.py - the crate graph is the architecture.

Reads `cargo metadata` and fails when the workspace's crate dependencies are
not exactly the arrows drawn in docs/ARCHITECTURE.md ("The crates"):

* normal (and build) dependencies between our crates must equal ARROWS;
* dev-dependencies between our crates must be within DEV_ARROWS;
* the test-only crates (vreq-testkit, vreq-oracle, vreq-fuzz) are never a
  normal dependency of a product crate (a test-only crate may use another:
  vreq-fuzz's target bodies drive the engine against vreq-testkit's fake);
* only the player (vreqplay) reaches both vreq-present and vreq-v4l2, even
  through other crates (and the xtask, a build tool that is not shipped,
  through the player: it generates the man page from the player's clap
  definition); vreq-present never reaches vreq-v4l2; vreq-codec and
  vreq-container never reach each other.

Adding an arrow means changing this table and the document together.
Usage: scripts/check-crate-graph.py   (exit 0 and one "crate-graph: ok" line,
or 1 and one line per broken rule)
"""
import json
import subprocess
import sys

ARROWS = {
    "vreq-core": set(),
    "vreq-frame": set(),
    "vreq-container": {"vreq-core"},
    "vreq-codec": {"vreq-core"},
    "vreq-v4l2": {"vreq-core", "vreq-frame"},
    "vreq-engine": {"vreq-core", "vreq-frame", "vreq-v4l2"},
    "vreq-present": {"vreq-frame"},
    "vreq-va": {"vreq-core", "vreq-frame", "vreq-v4l2", "vreq-engine"},
    "vreq-testkit": {"vreq-core", "vreq-frame", "vreq-v4l2"},
    "vreq-oracle": {"vreq-core", "vreq-codec", "vreq-container"},
    "vreq-audio": {"vreq-core", "vreq-container"},
    "vreq-fuzz": {"vreq-core", "vreq-container", "vreq-codec", "vreq-frame",
                  "vreq-v4l2", "vreq-engine", "vreq-audio", "vreq-va",
                  "vreq-testkit"},
    "vreqplay": {"vreq-core", "vreq-container", "vreq-codec", "vreq-frame",
                 "vreq-v4l2", "vreq-engine", "vreq-present", "vreq-audio"},
    # build tool, not shipped: `cargo xtask assets` (man page, completions)
    "xtask": {"vreqplay"},
}
# Test-only arrows: what each crate's tests, examples and benches may use.
DEV_ARROWS = {
    "vreq-container": {"vreq-codec", "vreq-testkit"},
    "vreq-codec": {"vreq-container", "vreq-testkit", "vreq-oracle"},
    # tests/steady_alloc.rs: demuxer + codec + engine over the fake device
    "vreq-engine": {"vreq-testkit", "vreq-codec", "vreq-container"},
    "vreq-va": {"vreq-testkit", "vreq-codec", "vreq-container"},
    "vreq-oracle": {"vreq-testkit"},
    "vreq-audio": {"vreq-testkit"},
    "vreqplay": {"vreq-testkit"},
}
TEST_ONLY = {"vreq-testkit", "vreq-oracle", "vreq-fuzz"}
# Build tools: never a dependency of any crate.
BUILD_TOOLS = {"xtask"}


def main():
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
        check=True, capture_output=True, text=True).stdout
    pkgs = {p["name"]: p for p in json.loads(out)["packages"]}
    errors = []
    if set(pkgs) != set(ARROWS):
        errors.append(f"workspace crates {sorted(pkgs)} != the drawn ones {sorted(ARROWS)}")
    normal, dev = {}, {}
    for name, p in pkgs.items():
        normal[name], dev[name] = set(), set()
        for d in p["dependencies"]:
            if d["name"] not in ARROWS:
                continue  # an external crate
            (dev if d["kind"] == "dev" else normal)[name].add(d["name"])
    for name in sorted(pkgs):
        want = ARROWS.get(name, set())
        for extra in sorted(normal[name] - want):
            errors.append(f"{name} -> {extra}: an arrow the architecture does not have")
        for missing in sorted(want - normal[name]):
            errors.append(f"{name} -> {missing}: drawn but not a dependency (update the table and the doc)")
        for extra in sorted(dev[name] - DEV_ARROWS.get(name, set())):
            errors.append(f"{name} -(dev)-> {extra}: a test-only arrow not listed")
        for t in sorted(normal[name] & TEST_ONLY if name not in TEST_ONLY else set()):
            errors.append(f"{name} -> {t}: test-only crates are dev-dependencies only")
        for t in sorted((normal[name] | dev[name]) & BUILD_TOOLS):
            errors.append(f"{name} -> {t}: a build tool is no crate's dependency")

    def reach(name):
        seen, todo = set(), [name]
        while todo:
            for d in normal.get(todo.pop(), ()):
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return seen

    for name in sorted(pkgs):
        r = reach(name)
        if name not in {"vreqplay"} | BUILD_TOOLS and {"vreq-present", "vreq-v4l2"} <= r:
            errors.append(f"{name} reaches both vreq-present and vreq-v4l2 (only the player may)")
    if "vreq-v4l2" in reach("vreq-present"):
        errors.append("vreq-present reaches vreq-v4l2")
    if "vreq-container" in reach("vreq-codec") or "vreq-codec" in reach("vreq-container"):
        errors.append("vreq-codec and vreq-container depend on each other")
    if errors:
        for e in errors:
            print(f"crate-graph: {e}")
        return 1
    n = sum(len(v) for v in normal.values())
    print(f"crate-graph: ok ({len(pkgs)} crates, {n} arrows, "
          f"{sum(len(v) for v in dev.values())} test-only arrows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
