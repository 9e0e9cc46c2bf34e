#!/usr/bin/env bash
# Training speed and memory at MOTIVE scale (issue: models). Targets on 2 cores: <= 0.5 s per
# epoch, <= 2 minutes per full run (early stopping), <= 2 GiB peak RSS.
# Usage: benchmarks/train_speed.sh [OUT_DIR] [extra motive train flags, e.g. --batch-size 512]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
shift || true
mkdir -p "$out"
[ -d "$out/synthetic/data" ] || .venv/bin/motive -q data synth --out "$out/synthetic" --scale 1 --seed 0 > /dev/null
/usr/bin/time -v .venv/bin/motive -q train --data "$out/synthetic" --graph st_expanded --split random --model gin_cp \
  --model-kwargs '{"hidden": 64}' --out "$out/run" "$@" > "$out/train.txt" 2> "$out/time.txt"
tail -1 "$out/train.txt"
grep -E "Elapsed|Maximum resident" "$out/time.txt"
