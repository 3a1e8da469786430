"""Execution mode of the course: FAST (CI, quick checks) or full (the built book, students).

One environment variable switches it: ``COURSE_FAST=1`` selects FAST mode. FAST mode shrinks
data and training steps; it never skips a cell's logic.
"""
from __future__ import annotations

import os
from pathlib import Path

FAST_ENV_VAR = "COURSE_FAST"


def is_fast() -> bool:
    """True when the environment asks for FAST mode (``COURSE_FAST`` set to 1/true/yes)."""
    return os.environ.get(FAST_ENV_VAR, "").strip().lower() in {"1", "true", "yes", "on"}


def pick(fast, full):
    """Return ``fast`` in FAST mode and ``full`` otherwise, e.g. ``n_steps = pick(20, 2000)``."""
    return fast if is_fast() else full


def mode_name() -> str:
    return "FAST" if is_fast() else "full"


def cache_dir() -> Path:
    """Where the course keeps files it makes (trained models, processed data).

    ``COURSE_CACHE`` overrides it; the default is ``.course_cache`` at the root of the repository
    (or in the working directory when the package is installed elsewhere, as on Colab).
    """
    override = os.environ.get("COURSE_CACHE")
    if override:
        path = Path(override)
    else:
        repo_root = Path(__file__).resolve().parent.parent
        base = repo_root if (repo_root / "_toc.yml").exists() else Path.cwd()
        path = base / ".course_cache"
    path.mkdir(parents=True, exist_ok=True)
    return path
