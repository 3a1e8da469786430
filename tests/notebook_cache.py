"""Report a notebook's run from a jupyter-cache that a build or script filled
(no re-execution).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent


def fail_unless_ran(
    cache, cache_dir: Path, path: Path, how: str, rerun: str
) -> None:
    """Pass if ``path``, as it is now, ran to the end into ``cache``; else fail
    with its traceback.

    ``how`` says how it ran ("in FAST mode"), ``rerun`` the command that runs it
    again.
    """
    try:
        cache.match_cache_notebook(nbformat.read(path, as_version=4))
        return  # executed without an error, in its current version
    except KeyError:
        pass
    try:
        traceback = cache.get_project_record(str(path)).traceback
    except KeyError:
        traceback = None
    rel = path.relative_to(REPO)
    pytest.fail(
        f"{rel} did not run to the end {how}:\n{traceback[-4000:]}"
        if traceback
        else f"{rel} has no successful run in {cache_dir.relative_to(REPO)} "
        "(the run did not "
        f"reach it, or it changed since): run `{rerun}`."
    )
