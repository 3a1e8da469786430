"""Execute the book's chapter notebooks two at a time into jupyter-cache, before Sphinx reads them.

jupyter-book 1.x executes notebooks one after another; with a cache that already holds every
notebook's outputs it executes none. This script fills that cache with a pool of one process per
core (jupyter-cache's "local-parallel" executor), so the build takes about half the time on two
cores. Notebooks already cached are skipped, except those that show benchmark figures when
benchmarks/results.json changed after their cached run. It never fails the build: a notebook that errors here
is simply not cached, and Sphinx then runs it again and reports the error properly.

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


RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results.json"


def forget_stale_benchmark_pages(cache, notebooks: list[str]) -> None:
    """Drop the cached run of every notebook that shows benchmark figures, when results.json changed after that run.

    Such a notebook reads benchmarks/results.json when it executes; its cached outputs would show old figures (or
    none) after a new benchmark run, because the cache only sees the notebook's own content.
    """
    if not RESULTS.exists():
        return
    # jupyter-cache stores naive UTC times: compare in UTC, or a machine east of Greenwich re-runs every page for hours
    changed = datetime.fromtimestamp(RESULTS.stat().st_mtime, timezone.utc).replace(tzinfo=None)
    for path in notebooks:
        if "bench_results" not in Path(path).read_text(encoding="utf-8"):
            continue
        try:
            record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            continue
        if record.created < changed:
            cache.remove_cache(record.pk)
            # Sphinx re-reads only sources whose mtime changed: without this it would keep the old page
            os.utime(path)
            print(f"==> {path}: benchmark figures changed since its last run, executing it again", flush=True)


def main(cache_dir: str, notebooks: list[str]) -> int:
    cache = get_cache(cache_dir)
    forget_stale_benchmark_pages(cache, notebooks)
    records = [cache.add_nb_to_project(path) for path in notebooks]
    todo = cache.list_unexecuted(filter_pks=[r.pk for r in records])
    print(f"==> {len(todo)} of {len(records)} notebooks need executing", flush=True)
    if not todo:
        return 0
    start = time.perf_counter()
    logger = logging.getLogger("pre_execute")
    logger.addHandler(logging.StreamHandler(sys.stdout))
    logger.setLevel(logging.WARNING)
    result = load_executor("local-parallel", cache, logger=logger).run_and_cache(
        filter_pks=[r.pk for r in todo], timeout=TIMEOUT_S)
    failed = result.excepted + result.errored
    print(f"==> executed {len(result.succeeded)} notebooks in {time.perf_counter() - start:.0f} s"
          + (f"; {len(failed)} failed and will be re-run by the build: {', '.join(failed)}" if failed else ""),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
