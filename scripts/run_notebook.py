"""Execute one notebook in the folder it lies in, the way a student runs it top
to bottom.

    python run_notebook.py NOTEBOOK.ipynb EXECUTED.ipynb [--timeout SECONDS]

Runs inside the student's environment (scripts/student_env.py copies it there),
so it uses only what that environment has: nbclient, which JupyterLab brings.
Writes the executed notebook (outputs included, also after an error), and on an
error also EXECUTED.ipynb.error with the traceback; exits 0 when every cell ran,
1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook", type=Path)
    parser.add_argument("executed", type=Path)
    parser.add_argument(
        "--timeout", type=int, default=900, help="seconds per cell"
    )
    args = parser.parse_args()
    nb = nbformat.read(args.notebook, as_version=4)
    # record_timing off: timing metadata in the cells would change the
    # notebook's hash, and jupyter-cache would then not recognise the run as
    # this notebook's (as its executor does)
    client = NotebookClient(
        nb,
        timeout=args.timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(args.notebook.parent)}},
    )
    error_file = args.executed.with_name(args.executed.name + ".error")
    error_file.unlink(missing_ok=True)
    try:
        client.execute()
        status = 0
    except (CellExecutionError, CellTimeoutError):
        error_file.write_text(traceback.format_exc(), encoding="utf-8")
        status = 1
    nbformat.write(nb, args.executed)
    return status


if __name__ == "__main__":
    sys.exit(main())
