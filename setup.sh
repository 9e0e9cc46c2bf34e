#!/usr/bin/env bash
# Creates .venv (once) and installs motive with its test extras. Idempotent: a second run
# only checks that everything is there. torch==2.13.0 goes first because it is the local
# CPU build; letting pip resolve "torch" itself would pull the CUDA wheels.
set -euo pipefail
cd "$(dirname "$0")"
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null \
  || .venv/bin/pip install --quiet torch==2.13.0
.venv/bin/pip install --quiet -e ".[test]"
