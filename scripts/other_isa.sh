#!/usr/bin/env bash
# Execute the numerics-heavy chapters (3, 4 and 9) in FAST mode once more with other CPU kernels:
# oneDNN limited to SSE4.1, PyTorch's own kernels without AVX, MKL in its compatible mode. A float32
# tolerance that holds only for the kernels of one CPU then fails on every machine
# (CONTRIBUTING.md). tests/test_other_isa.py reports these notebooks and runs the numeric unit
# tests and every exercise checker with its solution under the same settings.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONEDNN_MAX_CPU_ISA=SSE41 ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE
export COURSE_FAST=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
mapfile -t notebooks < <(find chapters/03_* chapters/04_* chapters/09_* -name '*.ipynb' \
  -not -path '*/.ipynb_checkpoints/*' | sort)
echo "==> ${#notebooks[@]} notebooks of chapters 3, 4 and 9 under ONEDNN_MAX_CPU_ISA=SSE41 ATEN_CPU_CAPABILITY=default"
.venv/bin/python scripts/pre_execute.py _build/other-isa/.jupyter_cache "${notebooks[@]}"
