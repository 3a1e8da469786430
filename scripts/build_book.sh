#!/usr/bin/env bash
# Build the HTML book: set everything up, execute every chapter, fail on any warning.
#   bash scripts/build_book.sh                 student edition, full mode  -> _build/html
#   COURSE_FAST=1 bash scripts/build_book.sh   student edition, FAST mode  -> _build/fast/_build/html
#   BOOK_EDITION=instructor bash scripts/build_book.sh   the same with every exercise answered
#                                              -> _build/instructor/_build/html (FAST: _build/instructor-fast/...)
# Executed notebooks are cached per mode (jupyter-cache): a rebuild re-runs only changed notebooks,
# and the instructor edition reuses the student edition's executed chapters.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${BOOK_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
# Offline is the tested default: nothing may wait on the Hub.
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
case "${COURSE_FAST:-}" in 1|true|yes|on) mode=FAST base=_build/fast suffix=-fast ;; *) mode=full base=. suffix= ;; esac
cache="$base/_build/.jupyter_cache"
mapfile -t notebooks < <(find chapters -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
case "${BOOK_EDITION:-student}" in
  student) src=. out=$base ;;
  instructor)
    src=_build/instructor-src$suffix out=_build/instructor$suffix
    .venv/bin/python scripts/stage_instructor_book.py "$src" "$cache"
    mapfile -t -O "${#notebooks[@]}" notebooks < <(find "$src/exercises" -maxdepth 1 -name '*.ipynb' | sort) ;;
  *) echo "BOOK_EDITION must be student or instructor, not '${BOOK_EDITION}'." >&2; exit 2 ;;
esac
echo "==> building the ${BOOK_EDITION:-student} edition in $mode mode into $out/_build/html"
start=$(date +%s)
# execute the notebooks two at a time into the build's cache; Sphinx then only reads the outputs
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} .venv/bin/python scripts/pre_execute.py "$cache" "${notebooks[@]}"
.venv/bin/jupyter-book build "$src" --path-output "$out" --builder html -W --keep-going
echo "==> book built in $(( $(date +%s) - start )) s: open $out/_build/html/index.html"
