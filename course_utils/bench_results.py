"""Read the figures that ``python benchmarks/run.py`` measured, to show them in
a chapter.

Full-mode quality and speed figures (perplexities, F1 scores, speed ratios) take
longer than a notebook may run, so the benchmarks command measures them and
writes them into this package (``course_data/benchmark_results.json``); a
chapter shows them with ``cu.bench_results.table("ch06/")``. Because the file
ships with the package, a chapter opened on its own (Colab, a downloaded
notebook) shows the same figures as the built book.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import CourseError, expect_type, require

RESULTS = (
    Path(__file__).resolve().parent / "course_data" / "benchmark_results.json"
)


def load() -> dict:
    """Every measured figure ({} when the file is missing, e.g. a package built
    without it).
    """
    if not RESULTS.exists():
        return {}
    try:
        figures = json.loads(RESULTS.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise CourseError(
            f"{RESULTS} cannot be read ({type(err).__name__}): run "
            "`python benchmarks/run.py --skip-notebooks` to write it again."
        ) from None
    require(
        isinstance(figures, dict),
        f"{RESULTS} holds no table of figures: run "
        "`python benchmarks/run.py --skip-notebooks` to write it again.",
    )
    return figures


def table(prefix: str):
    """The entries whose names start with ``prefix`` as a pandas DataFrame (one
    row per figure).

    Columns: figure, value, unit, baseline, baseline_value, seconds, and any
    extra fields (setting, coverage). Prints one sentence and returns an empty
    frame when there are none.
    """
    expect_type(prefix, str, "prefix")
    import pandas as pd

    rows = [
        {"figure": name, **entry}
        for name, entry in sorted(load().items())
        if name.startswith(prefix)
    ]
    if not rows:
        print(
            f"No benchmark figures starting with {prefix!r} in {RESULTS.name}: "
            "run "
            "`python benchmarks/run.py --skip-notebooks` in the course "
            "repository "
            "to measure them."
        )
    return pd.DataFrame(rows)
