"""The numerics hold under a second CPU instruction set, not only on the machine
that wrote them.

oneDNN, MKL and PyTorch's own kernels pick AVX2, AVX-512 or AMX code by CPU and
round float32 sums differently; CONTRIBUTING.md says how a tolerance is chosen
from the depth of a computation. Here the numeric unit tests, every exercise
checker with its solution (tests/test_checks_*.py) and chapters 3, 4 and 9 run
again with oneDNN limited to SSE4.1, PyTorch's kernels without AVX and MKL in
its compatible mode. scripts/other_isa.sh executes those chapters
(scripts/test.sh runs it before pytest); the tests below report them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from notebook_cache import fail_unless_ran

REPO = Path(__file__).resolve().parent.parent
ISA_ENV = {
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "ATEN_CPU_CAPABILITY": "default",
    "MKL_CBWR": "COMPATIBLE",
}
CACHE = REPO / "_build" / "other-isa" / ".jupyter_cache"
NOTEBOOKS = sorted(
    p
    for chapter in ("03_*", "04_*", "09_*")
    for p in (REPO / "chapters").glob(f"{chapter}/*.ipynb")
)
NUMERIC_TESTS = [
    "test_nn.py",
    "test_objectives.py",
    "test_embeddings.py",
    "test_glove.py",
    "test_pretraining.py",
    *sorted(p.name for p in (REPO / "tests").glob("test_checks_*.py")),
]


def test_numeric_unit_tests_and_every_checker_under_another_instruction_set():
    env = {**os.environ, **ISA_ENV, "COURSE_FAST": "1", "OMP_NUM_THREADS": "1"}
    tests = [str(REPO / "tests" / name) for name in NUMERIC_TESTS]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            *tests,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]


@pytest.fixture(scope="module")
def cache():
    from jupyter_cache import get_cache

    if os.environ.get("COURSE_BOOK_PREBUILT") != "1":
        subprocess.run(
            ["bash", str(REPO / "scripts" / "other_isa.sh")],
            cwd=REPO,
            check=True,
            timeout=3600,
        )
    if not CACHE.exists():
        pytest.fail(
            f"No execution cache at {CACHE}: run `bash scripts/other_isa.sh` "
            "first."
        )
    return get_cache(CACHE)


@pytest.mark.parametrize(
    "path",
    NOTEBOOKS,
    ids=lambda p: p.relative_to(REPO / "chapters").with_suffix("").as_posix(),
)
def test_chapter_notebook_under_another_instruction_set(cache, path):
    fail_unless_ran(
        cache, CACHE, path, f"under {ISA_ENV}", "bash scripts/other_isa.sh"
    )
