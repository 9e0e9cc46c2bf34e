#!/usr/bin/env bash
# The `paper` preset for gin_cp and mlp on the MOTIVE-size synthetic graph (scale 1): 3 splits x
# 2 models x 5 seeds = 30 runs with the default epochs (1000, early stopping, patience 50) and
# Hits@500. Target on 2 cores: under 30 minutes. Then the report of the results.
# Usage: benchmarks/experiment_paper.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
mkdir -p "$out"
[ -d "$out/synthetic/data" ] || .venv/bin/motive -q data synth --out "$out/synthetic" --scale 1 --seed 0 > /dev/null
# Two runs at once, one torch thread each (a run's numbers depend on its threads: TrainConfig.threads).
/usr/bin/time -v .venv/bin/motive experiment paper --data "$out/synthetic" --models gin_cp,mlp --seeds 5 --workers 2 \
  --out "$out/results" > "$out/experiment.txt" 2> "$out/time.txt" || true
tail -1 "$out/experiment.txt"
grep -E "Elapsed|Maximum resident" "$out/time.txt"
.venv/bin/motive -q report "$out/results" --out "$out/report" --overwrite
sed -n '/## Test metrics/,/## Ranking/p' "$out/report/tables.md"
