"""How the course runs: FAST or full mode, its cache folder, seeding, timing.

One environment variable switches the mode: ``COURSE_FAST=1`` selects FAST mode.
FAST mode shrinks data and training steps; it never skips a cell's logic.
"""

from __future__ import annotations

import os
import random
import time
from contextlib import contextmanager
from pathlib import Path

FAST_ENV_VAR = "COURSE_FAST"


def is_fast() -> bool:
    """True when ``COURSE_FAST`` is set to 1/true/yes/on (FAST mode)."""
    value = os.environ.get(FAST_ENV_VAR, "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def pick(fast, full):
    """``fast`` in FAST mode, else ``full``: ``n_steps = pick(20, 2000)``."""
    return fast if is_fast() else full


def mode_name() -> str:
    """``"FAST"`` or ``"full"``, for messages."""
    return "FAST" if is_fast() else "full"


def cache_dir() -> Path:
    """Where the course keeps files it makes (trained models, processed data).

    ``COURSE_CACHE`` overrides it; the default is ``.course_cache`` at the
    root of the repository (or in the working directory when the package is
    installed elsewhere, as on Colab).
    """
    override = os.environ.get("COURSE_CACHE")
    if override:
        path = Path(override)
    else:
        repo_root = Path(__file__).resolve().parent.parent
        in_repo = (repo_root / "_toc.yml").exists()
        path = (repo_root if in_repo else Path.cwd()) / ".course_cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and torch; ask torch for deterministic kernels."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    torch.use_deterministic_algorithms(True, warn_only=True)


@contextmanager
def timer(label: str = "elapsed", verbose: bool = True):
    """``with timer("training") as t: ...``; then ``t["seconds"]`` is the
    wall time (printed as ``label: 1.2 s`` unless ``verbose=False``)."""
    record = {"seconds": float("nan")}
    start = time.perf_counter()
    try:
        yield record
    finally:
        record["seconds"] = time.perf_counter() - start
        if verbose:
            print(f"{label}: {record['seconds']:.1f} s")
