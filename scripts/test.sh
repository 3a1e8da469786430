#!/usr/bin/env bash
# Run every test: course_utils unit tests, exercise checkers, every notebook (nbval, FAST mode,
# exercises with the solutions filled in), the book build with warnings as errors, and the
# browser checks of the built pages.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export COURSE_FAST=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# two pytest workers share two cores: one thread each, or torch oversubscribes and every notebook slows down
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
.venv/bin/python -m course_utils fill-exercises _build/filled_exercises
set +e
.venv/bin/python -m pytest -n 2 --dist loadfile --nbval --nbval-cell-timeout=600 -p no:cacheprovider \
  tests chapters _build/filled_exercises "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "pytest collected no tests: the test paths are wrong or empty, which is a failure here." >&2
  exit 1
fi
exit $rc
