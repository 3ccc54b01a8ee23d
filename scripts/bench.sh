#!/bin/bash
# bench.sh - the bench script: CPU detile / unpack (crates/frame/src/detile.rs)
# vs memcpy at 1920x1080 (crates/frame/benches/detile.rs; release profile).
# Prints the table.
# Usage: scripts/bench.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p vreq-frame --bench detile -- "$@"
