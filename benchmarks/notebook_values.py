"""Run a chapter notebook and read values out of its kernel, so a benchmark
reports the notebook's own figures.

Where a chapter's full mode already computes a benchmark figure (a ROUGE table,
an exact-match rate), the benchmark runs that notebook instead of repeating its
code: the notebook stays the one reference for the method.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, mode: str, expression: str | None = None):
    """Execute ``path`` top to bottom in a fresh kernel in ``mode`` ("fast" or
    "full").

    Returns ``(seconds, value)``: the wall time of the notebook's own cells and,
    when ``expression`` is given, the JSON-decoded value of
    ``json.dumps(expression)`` evaluated in the kernel afterwards (else None).
    """
    # inherited by the kernel
    os.environ["COURSE_FAST"] = "1" if mode == "fast" else ""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=1200,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.reset_execution_trackers()
    with client.setup_kernel():
        start = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        seconds = time.perf_counter() - start
        if expression is None:
            return seconds, None
        probe = nbformat.v4.new_code_cell(
            f"import json as _json\nprint(_json.dumps({expression}))"
        )
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
    text = "".join(
        o.get("text", "") for o in probe.outputs if o.get("name") == "stdout"
    )
    return seconds, json.loads(text)
