"""Every chapter notebook runs top to bottom in FAST mode, its own asserts
included.

The notebooks are executed once, by the FAST book build (scripts/build_book.sh,
which scripts/test.sh runs first), into the build's jupyter-cache.
scripts/test.sh sets BOOK_ALONE=1, so that each notebook runs alone: copied into
an empty folder and executed as a non-root user in the wheel-installed student
environment with the network cut (scripts/student_env.py); a notebook that
passes only inside the repository fails here. Each test looks up its notebook,
as it is now, in that cache and reports the notebook's traceback if it failed.
Run alone (without COURSE_BOOK_PREBUILT=1), the module first executes whatever
the cache lacks, the way the build does.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from notebook_cache import fail_unless_ran

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "_build" / "fast" / "_build" / ".jupyter_cache"
NOTEBOOKS = sorted(
    p
    for p in (REPO / "chapters").rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)


@pytest.fixture(scope="module")
def cache():
    from jupyter_cache import get_cache

    if os.environ.get("COURSE_BOOK_PREBUILT") != "1":
        env = dict(
            os.environ, COURSE_FAST="1", OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1"
        )
        subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "pre_execute.py"),
                str(CACHE),
                *map(str, NOTEBOOKS),
            ],
            cwd=REPO,
            env=env,
            check=True,
            timeout=3600,
        )
    if not CACHE.exists():
        pytest.fail(
            f"No FAST execution cache at {CACHE}: run `COURSE_FAST=1 bash "
            "scripts/build_book.sh` first."
        )
    return get_cache(CACHE)


def alone_failure(path: Path) -> str | None:
    """The traceback of this notebook's last run alone (scripts/student_env.py),
    if it failed.
    """
    failures = CACHE.parent / "alone_failures.json"
    if not failures.exists():
        return None
    entry = json.loads(failures.read_text()).get(str(path))
    if (
        entry
        and entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    ):
        return entry["traceback"] or "(no traceback recorded)"
    return None


@pytest.mark.parametrize(
    "path",
    NOTEBOOKS,
    ids=lambda p: p.relative_to(REPO / "chapters").with_suffix("").as_posix(),
)
def test_chapter_notebook_runs_in_fast_mode(cache, path):
    alone = alone_failure(path)
    if alone:
        pytest.fail(
            f"{path.relative_to(REPO)} failed when run alone (an empty folder, "
            "the "
            "wheel-installed student environment, a non-root user, no "
            "network):\n"
            f"{alone[-4000:]}"
        )
    fail_unless_ran(
        cache,
        CACHE,
        path,
        "in FAST mode",
        "COURSE_FAST=1 bash scripts/build_book.sh",
    )
