#!/usr/bin/env bash
# Time and peak memory of the data commands (issue: foundation). Targets: synth --scale 1 < 30 s, < 2 GiB.
# Usage: benchmarks/data_build.sh [OUT_DIR]   (needs ../shared/data/raw for the l1000 build)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
mkdir -p "$out"
measure() {
  /usr/bin/time -v "$@" 2> "$out/time.txt" > /dev/null
  printf '%-60s wall %ss  peak RSS %s MiB\n' "$*" \
    "$(grep 'Elapsed (wall clock)' "$out/time.txt" | awk '{print $NF}')" \
    "$(( $(grep 'Maximum resident' "$out/time.txt" | awk '{print $NF}') / 1024 ))"
}
measure .venv/bin/motive -q data synth --out "$out/synthetic" --scale 1 --seed 0
measure .venv/bin/motive -q data build l1000 --mirror ../shared/data/raw --cache "$out/cache" --out "$out/l1000"
