#!/usr/bin/env bash
# Build the HTML book: set everything up, execute every chapter, fail on any warning.
#   bash scripts/build_book.sh                 full mode  -> _build/html       (about 9 min on 2 cores)
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
.venv/bin/jupyter-book build . --path-output "$out" --builder html -W --keep-going
echo "==> book built in $(( $(date +%s) - start )) s: open $out/_build/html/index.html"
