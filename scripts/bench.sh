#!/bin/bash
# bench.sh - the bench script: CPU detile / unpack (src/frame/detile.rs) vs memcpy
# at 1920x1080 (benches/detile.rs; release profile). Prints the table.
# Usage: scripts/bench.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench detile -- "$@"
