#!/usr/bin/env bash
# The whole `paper` preset (10 models x 3 splits x 5 seeds, st_expanded, default epochs with early
# stopping) on the MOTIVE-size synthetic graph (scale 1, Hits@500) and on the real l1000 dataset
# (Hits@25), two runs at once (--workers 2, one torch thread each), then the report.
# Targets on 2 cores: MOTIVE scale <= 30 min, l1000 <= 3 min, <= 2 GiB per worker.
#
# Usage: benchmarks/experiment_paper.sh [OUT_DIR] [synthetic|l1000 ...]
#   BEFORE=REV benchmarks/experiment_paper.sh ...   the same with the code of git revision REV
#   (a temporary worktree on this venv), for a before/after table measured back to back.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(realpath -m "${1:-$(mktemp -d)}")
shift || true
datasets=("$@")
[ ${#datasets[@]} -gt 0 ] || datasets=(synthetic l1000)
mkdir -p "$out"
export PYTHONPATH=""
if [ -n "${BEFORE:-}" ]; then
  code="$out/code-$BEFORE"
  [ -d "$code" ] || git worktree add -q --detach "$code" "$BEFORE"
  export PYTHONPATH="$code/src"  # the venv's motive is this checkout's; the worktree's src comes first
  tag="before-$BEFORE"
else
  tag="after-$(git rev-parse --short HEAD)"
fi
motive() { "$root/.venv/bin/python" -m motive.cli "$@"; }
[ -d "$out/synthetic/data" ] || motive -q data synth --out "$out/synthetic" --scale 1 --seed 0 > /dev/null
[ -d "$out/l1000/data" ] || motive -q data build l1000 --mirror "$root/../shared/data/raw" --out "$out/l1000" > /dev/null
for name in "${datasets[@]}"; do
  case $name in
    synthetic) hits=500 ;;
    l1000) hits=25 ;;
    *) echo "unknown dataset $name (synthetic or l1000)" >&2; exit 2 ;;
  esac
  results="$out/$tag-$name"
  for folder in "$results" "$results-report"; do  # never replaced: a rerun goes to another OUT_DIR
    [ ! -e "$folder" ] || { echo "$folder exists; give another OUT_DIR" >&2; exit 2; }
  done
  /usr/bin/time -v "$root/.venv/bin/python" -m motive.cli -q experiment paper --data "$out/$name" --hits-k "$hits" \
    --workers 2 --out "$results" > "$results.txt" 2> "$results.time" || true
  wall=$(grep "Elapsed" "$results.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident" "$results.time" | awk '{printf "%.2f GiB", $NF / 1048576}')
  echo "$tag $name: $(tail -1 "$results.txt"); wall $wall, peak RSS of one process $rss"
  motive -q report "$results" --out "$results-report" > /dev/null
done
