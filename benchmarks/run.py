"""Measure the course's performance figures and write them to
course_utils/course_data/benchmark_results.json.

    # everything: notebook times in FAST and full mode, install size
    python benchmarks/run.py
    # only FAST-mode notebook times (a couple of minutes)
    python benchmarks/run.py --modes fast
    # only notebooks whose path contains "01_"
    python benchmarks/run.py --only 01_
    # only the figures of the benchmarks/bench_*.py modules
    python benchmarks/run.py --skip-notebooks
    # only bench modules whose name contains "ch06"
    python benchmarks/run.py --skip-notebooks --bench ch06
    # notebook times as measured by the last book builds (jupyter-cache
    # records each execution), no re-run
    python benchmarks/run.py --from-book-cache

Chapters add their own figures (perplexities, accuracies, speed ratios) as
modules ``benchmarks/bench_<topic>.py`` with a function
``run(mode: str) -> dict`` returning entries in the same format; this script
runs every such module in full mode, when --modes includes full.

Each entry is {name: {value, unit, baseline, baseline_value, seconds}}: the
measured value, the figure it is compared with (a budget from the developers'
guide or a reference measurement), and the wall time the measurement took.
Existing entries for other names are kept; results are merged into the file
under a lock, so two benchmark runs at once do not lose each other's figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from filelock import FileLock

import notebook_values  # benchmarks/, on sys.path when this script runs

REPO = Path(__file__).resolve().parent.parent
# shipped with the package, so that a chapter opened outside the repository
# (Colab) shows them too
RESULTS = REPO / "course_utils" / "course_data" / "benchmark_results.json"
BUDGET_S = {"fast": 60, "full": 300}


def _notebooks(only: str | None) -> list[Path]:
    paths = sorted((REPO / "chapters").rglob("*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    if only:
        paths = [p for p in paths if only in p.as_posix()]
    return paths


def time_notebook(path: Path, mode: str) -> float:
    """Execute a notebook in a fresh kernel (as a student would) and return the
    wall time in seconds.
    """
    return notebook_values.execute(path, mode)[0]


def time_from_book_cache(path: Path, mode: str) -> float | None:
    """Execution time that the last book build of this mode recorded for the
    notebook as it is now.
    """
    from jupyter_cache import get_cache

    folder = REPO / (
        "_build/fast/_build/.jupyter_cache"
        if mode == "fast"
        else "_build/.jupyter_cache"
    )
    if not folder.exists():
        return None
    try:
        cached = get_cache(folder).match_cache_notebook(
            nbformat.read(path, as_version=4)
        )
    except KeyError:  # the notebook changed since that build
        return None
    return cached.data.get("execution_seconds")


def _du_mb(path: Path) -> float:
    out = subprocess.run(
        ["du", "-sm", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return float(out.split()[0])


def bench_modules() -> list[Path]:
    return sorted((REPO / "benchmarks").glob("bench_*.py"))


def record(entries: dict) -> None:
    """Merge ``entries`` into the results file (locked read-modify-write)."""
    # the lock lives here, not in course_data/, whose files all ship in the
    # wheel (.gitignore names it)
    with FileLock(str(REPO / "benchmarks" / "results.json.lock")):
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results.update(entries)
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def run_bench_module(path: Path, mode: str) -> dict:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.run(mode)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--modes", default="fast,full", help="comma-separated: fast, full"
    )
    parser.add_argument(
        "--only", default=None, help="substring of the notebook paths to time"
    )
    parser.add_argument(
        "--skip-notebooks",
        action="store_true",
        help="do not time the notebooks",
    )
    parser.add_argument(
        "--bench",
        default=None,
        help="substring of the bench_*.py module names to run",
    )
    parser.add_argument(
        "--from-book-cache",
        action="store_true",
        help="take notebook times from the book builds' execution cache "
        "instead of running them",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results = {}

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        for path in [] if args.skip_notebooks else _notebooks(args.only):
            rel = path.relative_to(REPO).with_suffix("").as_posix()
            if args.from_book_cache:
                seconds = time_from_book_cache(path, mode)
                if seconds is None:
                    print(
                        f"{mode:>4}  {rel:<60} no record in the {mode} book "
                        "build's cache: build the book first"
                    )
                    continue
            else:
                seconds = time_notebook(path, mode)
            results[f"notebook_time/{mode}/{rel}"] = {
                "value": round(seconds, 1),
                "unit": "s",
                "baseline": f"budget per notebook in {mode} mode",
                "baseline_value": BUDGET_S[mode],
                "seconds": round(seconds, 1),
            }
            print(
                f"{mode:>4}  {rel:<60} {seconds:6.1f} s  (budget "
                f"{BUDGET_S[mode]} s)",
                flush=True,
            )

    # quality figures are full-mode targets: the chapter modules run only when
    # full mode is asked for
    for path in bench_modules() if "full" in modes else []:
        if args.bench and args.bench not in path.stem:
            continue
        os.environ["COURSE_FAST"] = ""
        entries = run_bench_module(path, "full")
        record(entries)
        for name, entry in entries.items():
            print(
                f"{name}: {entry['value']} {entry['unit']} (baseline "
                f"{entry['baseline']}: {entry['baseline_value']})"
            )

    for name, folder, reference in [
        ("install_size/venv", REPO / ".venv", 2560.0),
        ("install_size/node_modules", REPO / "node_modules", None),
    ]:
        if folder.exists():
            start = time.perf_counter()
            mb = _du_mb(folder)
            results[name] = {
                "value": mb,
                "unit": "MB",
                "baseline": "DESIGN.md reference install (2.5 GB)"
                if reference
                else "none",
                "baseline_value": reference,
                "seconds": round(time.perf_counter() - start, 1),
            }
            print(f"{name}: {mb:.0f} MB")

    record(results)
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
