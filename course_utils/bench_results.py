"""Read the figures that ``python benchmarks/run.py`` measured, to show them in a chapter.

Full-mode quality and speed figures (perplexities, F1 scores, speed ratios) take longer than a
notebook may run, so the benchmarks command measures them and writes ``benchmarks/results.json``;
a chapter shows them with ``cu.bench_results.table("ch06/")``.
"""
from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results.json"


def load() -> dict:
    """Every entry of benchmarks/results.json ({} when the file is not there, e.g. on Colab)."""
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def table(prefix: str):
    """The entries whose names start with ``prefix`` as a pandas DataFrame (one row per figure).

    Columns: figure, value, unit, baseline, baseline_value, seconds, and any extra fields
    (setting, coverage). Prints one sentence and returns an empty frame when there are none.
    """
    import pandas as pd

    rows = [{"figure": name, **entry} for name, entry in sorted(load().items()) if name.startswith(prefix)]
    if not rows:
        print(f"No benchmark figures starting with {prefix!r} in {RESULTS.name}: "
              f"run `python benchmarks/run.py --skip-notebooks` from the repository to measure them.")
    return pd.DataFrame(rows)
