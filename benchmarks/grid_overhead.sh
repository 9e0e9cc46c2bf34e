#!/usr/bin/env bash
# What a run costs in a grid beyond its own training and evaluation: one 2-epoch mlp run as an
# experiment against ten (seeds 0-9) on the MOTIVE-size synthetic graph (scale 1), one process
# each, after the split exists. Target on 2 cores: the ten cost <= 2x the one.
# Then the same with the evaluation the issue was filed against (no calibration, no bootstrap).
# Usage: benchmarks/grid_overhead.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-$(mktemp -d)}")
mkdir -p "$out"
motive=.venv/bin/motive
[ -d "$out/synthetic/data" ] || $motive -q data synth --out "$out/synthetic" --scale 1 --seed 0 > /dev/null
for folder in "$out"/grid-*; do  # never replaced: a rerun goes to another OUT_DIR
  [ ! -e "$folder" ] || { echo "$folder exists; give another OUT_DIR" >&2; exit 2; }
done
printf 'models: [mlp]\nsplits: [random]\ngraphs: [st_expanded]\nsettings: {epochs: 2}\n' > "$out/grid-mlp.yaml"
$motive -q experiment "$out/grid-mlp.yaml" --data "$out/synthetic" --seeds 1 --out "$out/grid-split" > /dev/null  # makes the split
for evaluation in default lean; do
  extra=()
  [ $evaluation = lean ] && extra=(--no-calibrate --bootstrap 0)
  for seeds in 1 10; do
    start=$(date +%s.%N)
    $motive -q experiment "$out/grid-mlp.yaml" --data "$out/synthetic" --seeds $seeds --out "$out/grid-$evaluation-$seeds" \
      "${extra[@]}" > /dev/null
    seconds[$seeds]=$(echo "$(date +%s.%N) - $start" | bc)
  done
  runs=$(cat "$out/grid-$evaluation-10"/runs/*/timing.json | grep '"seconds"' | awk '{print $2}' | tr -d , | tail -9 |
    awk '{s += $1} END {printf "%.2f", s / NR}')
  printf '%s evaluation: 1 run %.1f s, 10 runs %.1f s (ratio %.2f); a later run of the ten: %s s inside the process\n' \
    $evaluation "${seconds[1]}" "${seconds[10]}" "$(echo "${seconds[10]} / ${seconds[1]}" | bc -l)" "$runs"
done
