"""How the course runs: FAST or full mode, its cache folder, seeding, timing.

One environment variable switches the mode: ``COURSE_FAST=1`` selects FAST mode.
FAST mode shrinks data and training steps; it never skips a cell's logic. Every
``COURSE_*`` variable is read strictly: a value the course does not know is one
:class:`~course_utils.errors.CourseError`, never a silent default.
"""

from __future__ import annotations

import os
import random
import stat
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import CourseError, expect_int, expect_type, require

FAST_ENV_VAR = "COURSE_FAST"
CACHE_ENV_VAR = "COURSE_CACHE"
# the values a yes/no variable accepts (any case, spaces trimmed)
FLAG_VALUES = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def env_flag(name: str, default: bool = False) -> bool:
    """A yes/no environment variable: 1/true/yes/on or 0/false/no/off (any
    case); unset or empty gives ``default``, anything else is a CourseError.
    """
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in FLAG_VALUES:
        raise CourseError(
            f"{name}={os.environ[name]!r} is not a yes/no value: set it to "
            "1, true, yes or on (0, false, no, off or empty for no)."
        )
    return FLAG_VALUES[value]


def is_fast() -> bool:
    """True when ``COURSE_FAST`` is 1/true/yes/on (FAST mode); 0/false/no/off
    or unset is full mode, and any other value is a CourseError."""
    return env_flag(FAST_ENV_VAR)


def pick(fast, full):
    """``fast`` in FAST mode, else ``full``: ``n_steps = pick(20, 2000)``."""
    return fast if is_fast() else full


def mode_name() -> str:
    """``"FAST"`` or ``"full"``, for messages."""
    return "FAST" if is_fast() else "full"


def cache_dir() -> Path:
    """Where the course keeps files it makes (trained models, processed data).

    ``COURSE_CACHE`` overrides it (``~`` and ``$VARS`` are expanded; it must be
    an absolute path to a folder); the default is ``.course_cache`` at the
    root of the repository (or in the working directory when the package is
    installed elsewhere, as on Colab). A folder every user may write to (such
    as ``/tmp`` itself) is refused: another user could plant a model there.
    """
    override = os.environ.get(CACHE_ENV_VAR, "").strip()
    if override:
        path = Path(os.path.expandvars(os.path.expanduser(override)))
        require(
            path.is_absolute() and "$" not in str(path),
            f"{CACHE_ENV_VAR}={override!r} is not an absolute path: set it "
            "to a full path such as ~/course_cache (unset variables are "
            "not expanded).",
        )
    else:
        repo_root = Path(__file__).resolve().parent.parent
        in_repo = (repo_root / "_toc.yml").exists()
        path = (repo_root if in_repo else Path.cwd()) / ".course_cache"
    require(
        not path.exists() or path.is_dir(),
        f"The course cache {path} is a file, not a folder: set "
        f"{CACHE_ENV_VAR} to a folder.",
    )
    try:  # 0o755: even under umask 000 the folder is not everyone's
        path.mkdir(mode=0o755, parents=True, exist_ok=True)
    except OSError as err:
        raise CourseError(
            f"The course cache {path} cannot be created "
            f"({err.strerror or type(err).__name__}): set {CACHE_ENV_VAR} "
            "to a folder you can write to."
        ) from None
    # Windows reports every folder as writable by all: a POSIX-only check
    require(
        os.name != "posix" or not path.stat().st_mode & stat.S_IWOTH,
        f"The course cache {path} is writable by every user, so another "
        f"user could plant a model in it: set {CACHE_ENV_VAR} to a folder "
        "of your own (or a group-writable one, as the instructor guide "
        "shows).",
    )
    return path


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and torch; ask torch for deterministic kernels.

    ``seed`` is an int from 0 to 2**32 - 1 (NumPy's range).
    """
    expect_int(seed, "seed", minimum=0)
    require(
        seed < 2**32,
        f"seed must be below 2**32, got {seed}; pass a smaller int.",
    )
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
    expect_type(label, str, "label")
    expect_type(verbose, bool, "verbose")
    record = {"seconds": float("nan")}
    start = time.perf_counter()
    try:
        yield record
    finally:
        record["seconds"] = time.perf_counter() - start
        if verbose:
            print(f"{label}: {record['seconds']:.1f} s")
