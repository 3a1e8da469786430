#!/usr/bin/env bash
# Run every test: course_utils unit tests, exercise checkers, every chapter notebook and every exercise
# notebook (solutions filled in) in FAST mode, both editions of the book with warnings as errors, the
# browser checks of the built pages, the student install (non-root, from the wheel), every chapter
# notebook alone outside the repository with the network cut, and the numerics under a second CPU
# instruction set.
#
# The chapter notebooks run once, in the FAST book build (two at a time, into its execution cache);
# tests/test_chapter_notebooks.py then reports each notebook's result from that cache, and the book
# tests read that build, so nothing is executed twice. The exercise notebooks run under nbval.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export COURSE_FAST=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# two workers share two cores: one thread each, or torch oversubscribes and every notebook slows down
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
mkdir -p _build
# house style first (CONTRIBUTING.md): seconds, and a failure says which line
echo "==> ruff: format and lint at 80 columns; generated modules match their notebooks"
.venv/bin/ruff format --check --quiet . || { echo "run: .venv/bin/ruff format ." >&2; exit 1; }
.venv/bin/ruff check --quiet .
.venv/bin/python scripts/export.py --check
# the plain copies that Colab opens (colab/) match the notebooks and the bibliography
.venv/bin/python scripts/colab.py --check
# README's student command (install.py) as a non-root user, from the wheel, in a bare environment;
# tests/test_student_env.py reports it. The FAST build then runs every chapter notebook alone in it.
set +e
.venv/bin/python scripts/student_env.py install
student_rc=$?
set -e
if [ $student_rc -eq 0 ]; then export BOOK_ALONE=1; else
  echo "==> the student install failed: the notebooks run in the repository's environment instead" >&2
fi
echo "==> building the FAST book (executes every chapter notebook); log in _build/book_build_fast.log"
set +e
BOOK_SKIP_SETUP=1 bash scripts/build_book.sh > _build/book_build_fast.log 2>&1
echo $? > _build/book_build_fast.rc
set -e
unset BOOK_ALONE
tail -n 3 _build/book_build_fast.log
# the numerics-heavy chapters once more under another instruction set (tests/test_other_isa.py)
bash scripts/other_isa.sh
.venv/bin/python scripts/exercise_tools.py _build/filled_exercises
set +e
COURSE_BOOK_PREBUILT=1 .venv/bin/python -m pytest -n 2 --dist loadfile --nbval --nbval-cell-timeout=600 \
  -p no:cacheprovider tests _build/filled_exercises "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "pytest collected no tests: the test paths are wrong or empty, which is a failure here." >&2
  exit 1
fi
exit $rc
