"""Execute the book's chapter notebooks two at a time into jupyter-cache, before
Sphinx reads them.

jupyter-book 1.x executes notebooks one after another; with a cache that already
holds every notebook's outputs it executes none. This script fills that cache
with a pool of one process per core (jupyter-cache's "local-parallel" executor),
so the build takes about half the time on two cores. Notebooks already cached
are skipped, except those that show benchmark figures when the benchmark results
changed after their cached run. It never fails the build: a notebook that errors
here is simply not cached, and Sphinx then runs it again and reports the error
properly.

    python scripts/pre_execute.py CACHE_DIR NOTEBOOK...
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor

TIMEOUT_S = 900  # per cell, as in _config.yml


RESULTS = (
    Path(__file__).resolve().parent.parent
    / "course_utils"
    / "course_data"
    / "benchmark_results.json"
)


def forget_stale_benchmark_pages(cache, notebooks: list[str]) -> None:
    """Drop the cached run of every notebook that shows benchmark figures, when
    the benchmark results changed after that run.

    Such a notebook reads the benchmark results (shipped with course_utils) when
    it executes; its cached outputs would show old figures (or none) after a new
    benchmark run, because the cache only sees the notebook's own content.
    """
    if not RESULTS.exists():
        return
    # jupyter-cache stores naive UTC times: compare in UTC, or a machine east of
    # Greenwich re-runs every page for hours
    changed = datetime.fromtimestamp(
        RESULTS.stat().st_mtime, timezone.utc
    ).replace(tzinfo=None)
    for path in notebooks:
        if "bench_results" not in Path(path).read_text(encoding="utf-8"):
            continue
        try:
            record = cache.match_cache_notebook(
                nbformat.read(path, as_version=4)
            )
        except KeyError:
            continue
        if record.created < changed:
            cache.remove_cache(record.pk)
            # Sphinx re-reads only sources whose mtime changed: without this it
            # would keep the old page
            os.utime(path)
            print(
                f"==> {path}: benchmark figures changed since its last run, "
                "executing it again",
                flush=True,
            )


def run_alone(cache, records, timeout: int) -> tuple[list[str], list[str]]:
    """Execute each notebook alone with the student's environment
    (scripts/student_env.py).

    Two at a time, each copied into an empty folder and run as a non-root user
    with the wheel of course_utils and no network; the executed copy goes into
    the cache as if it had run here, and a failure leaves its traceback where
    tests/test_chapter_notebooks.py reports it.
    """
    from concurrent.futures import ThreadPoolExecutor

    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord

    import student_env

    def one(record):
        started = time.perf_counter()
        ok, executed, tb = student_env.execute_alone(Path(record.uri), timeout)
        seconds = time.perf_counter() - started
        print(
            f"    {'ok    ' if ok else 'FAILED'} {seconds:5.0f} s  "
            f"{record.uri}",
            flush=True,
        )
        if not ok:
            NbProjectRecord.set_traceback(record.uri, tb, cache.db)
            return record.uri, False
        bundle = CacheBundleIn(
            nbformat.read(executed, as_version=4),
            record.uri,
            data={"execution_seconds": seconds, "alone": True},
        )
        cache.cache_notebook_bundle(
            bundle, check_validity=False, overwrite=True
        )
        # the build must find this run, or Sphinx would quietly execute the page
        # again
        try:
            cache.match_cache_notebook(nbformat.read(record.uri, as_version=4))
        except KeyError:
            NbProjectRecord.set_traceback(
                record.uri,
                "the executed copy does not match the "
                "notebook in the cache (changed metadata?)",
                cache.db,
            )
            return record.uri, False
        return record.uri, True

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, records))
    return [u for u, ok in results if ok], [u for u, ok in results if not ok]


def alone_failures_file(cache_dir) -> Path:
    """Notebooks that failed alone, kept until they pass alone (Sphinx may still
    run them).
    """
    return Path(cache_dir).parent / "alone_failures.json"


def update_alone_failures(
    cache, cache_dir, succeeded: list[str], failed: list[str]
) -> None:
    import hashlib
    import json

    path = alone_failures_file(cache_dir)
    known = json.loads(path.read_text()) if path.exists() else {}
    for uri in succeeded:
        known.pop(uri, None)
    for uri in failed:
        known[uri] = {
            "sha256": hashlib.sha256(Path(uri).read_bytes()).hexdigest(),
            "traceback": cache.get_project_record(uri).traceback,
        }
    path.write_text(json.dumps(known, indent=1))


def main(cache_dir: str, notebooks: list[str]) -> int:
    cache = get_cache(cache_dir)
    forget_stale_benchmark_pages(cache, notebooks)
    records = [cache.add_nb_to_project(path) for path in notebooks]
    todo = cache.list_unexecuted(filter_pks=[r.pk for r in records])
    print(
        f"==> {len(todo)} of {len(records)} notebooks need executing",
        flush=True,
    )
    if not todo:
        return 0
    start = time.perf_counter()
    if os.environ.get("BOOK_ALONE") == "1":
        print(
            "==> each notebook alone: an empty folder, the student's "
            "wheel-installed "
            "environment, a non-root user, no network",
            flush=True,
        )
        succeeded, failed = run_alone(cache, todo, TIMEOUT_S)
        update_alone_failures(cache, cache_dir, succeeded, failed)
    else:
        logger = logging.getLogger("pre_execute")
        logger.addHandler(logging.StreamHandler(sys.stdout))
        logger.setLevel(logging.WARNING)
        result = load_executor(
            "local-parallel", cache, logger=logger
        ).run_and_cache(filter_pks=[r.pk for r in todo], timeout=TIMEOUT_S)
        succeeded, failed = result.succeeded, result.excepted + result.errored
    print(
        f"==> executed {len(succeeded)} notebooks in "
        f"{time.perf_counter() - start:.0f} s"
        + (
            f"; {len(failed)} failed and will be re-run by the build: "
            f"{', '.join(failed)}"
            if failed
            else ""
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
