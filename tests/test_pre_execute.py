"""scripts/pre_execute.py: a page that shows benchmark figures is executed
again, and re-read by Sphinx, after a new benchmark run."""

import importlib.util
import os
import time
from pathlib import Path

import nbformat
from jupyter_cache import get_cache

REPO = Path(__file__).resolve().parent.parent


def _load_pre_execute():
    spec = importlib.util.spec_from_file_location(
        "pre_execute", REPO / "scripts" / "pre_execute.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebook(path: Path, source: str) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return str(path)


def test_stale_benchmark_page_is_forgotten_and_touched(tmp_path, monkeypatch):
    pre_execute = _load_pre_execute()
    cache = get_cache(tmp_path / "cache")
    bench_page = _notebook(
        tmp_path / "bench.ipynb", "import course_utils.bench_results"
    )
    plain_page = _notebook(tmp_path / "plain.ipynb", "x = 1")
    for path in (bench_page, plain_page):
        cache.cache_notebook_file(path, check_validity=False)
        # an old source, as Sphinx last read it
        os.utime(path, (1_000_000, 1_000_000))
    results = tmp_path / "results.json"
    time.sleep(0.01)
    results.write_text("{}")  # a benchmark run after both pages were executed
    monkeypatch.setattr(pre_execute, "RESULTS", results)

    pre_execute.forget_stale_benchmark_pages(cache, [bench_page, plain_page])

    # only the page without benchmark figures stays cached
    assert len(cache.list_cache_records()) == 1
    # touched, so Sphinx reads the page again
    assert Path(bench_page).stat().st_mtime > 1_000_000
    assert Path(plain_page).stat().st_mtime == 1_000_000


def test_fresh_page_is_kept_in_any_time_zone(tmp_path, monkeypatch):
    # local clocks 8 hours ahead of the cache's UTC times
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        pre_execute = _load_pre_execute()
        cache = get_cache(tmp_path / "cache")
        results = tmp_path / "results.json"
        results.write_text("{}")
        monkeypatch.setattr(pre_execute, "RESULTS", results)
        bench_page = _notebook(
            tmp_path / "bench.ipynb", "import course_utils.bench_results"
        )
        time.sleep(0.01)
        # executed after the benchmark run
        cache.cache_notebook_file(bench_page, check_validity=False)

        pre_execute.forget_stale_benchmark_pages(cache, [bench_page])

        assert len(cache.list_cache_records()) == 1
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
