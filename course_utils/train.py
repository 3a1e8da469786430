"""Seeding and timing: what every training cell in the course needs."""
from __future__ import annotations

import os
import random
import time
from contextlib import contextmanager

import numpy as np
import torch


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and torch (and ask torch for deterministic kernels where it has them)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    torch.use_deterministic_algorithms(True, warn_only=True)


@contextmanager
def timer(label: str = "elapsed", verbose: bool = True):
    """``with timer("training") as t: ...`` then ``t["seconds"]`` holds the wall time."""
    record = {"seconds": float("nan")}
    start = time.perf_counter()
    try:
        yield record
    finally:
        record["seconds"] = time.perf_counter() - start
        if verbose:
            print(f"{label}: {record['seconds']:.1f} s")
