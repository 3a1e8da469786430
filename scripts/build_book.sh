#!/usr/bin/env bash
# Build the HTML book: set everything up, execute every chapter, fail on any warning.
#   bash scripts/build_book.sh                 full mode  -> _build/html
#   COURSE_FAST=1 bash scripts/build_book.sh   FAST mode  -> _build/fast/_build/html
# Executed notebooks are cached per mode (jupyter-cache): a rebuild re-runs only changed notebooks.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${BOOK_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
# Offline is the tested default: nothing may wait on the Hub.
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
case "${COURSE_FAST:-}" in 1|true|yes|on) out=_build/fast ;; *) out=. ;; esac
echo "==> building the book in $([ "$out" = . ] && echo full || echo FAST) mode into $out/_build/html"
start=$(date +%s)
# execute the chapters two at a time into the build's cache; Sphinx then only reads the outputs
mapfile -t notebooks < <(find chapters -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} .venv/bin/python scripts/pre_execute.py "$out/_build/.jupyter_cache" "${notebooks[@]}"
.venv/bin/jupyter-book build . --path-output "$out" --builder html -W --keep-going
echo "==> book built in $(( $(date +%s) - start )) s: open $out/_build/html/index.html"
