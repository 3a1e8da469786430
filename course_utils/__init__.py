"""course_utils: the small package every notebook of the course imports.

Modules: ``config`` (FAST vs full mode), ``assets`` (offline-first models and data), ``data``
(loaders returning ``datasets`` objects), ``train`` (seeding, timing), ``plots``, ``checks``
(exercise checkers) and ``errors`` (one-sentence errors).
"""
from __future__ import annotations

__version__ = "0.1.0"

from .assets import asset_path, hub_reachable, hub_revision, resolve_checkpoint  # noqa: F401
from .config import is_fast, mode_name, pick  # noqa: F401
from .errors import AssetMissingError, CheckFailed, CourseError, install_short_tracebacks  # noqa: F401
from .train import set_seed, timer  # noqa: F401

from . import checks, data, plots  # noqa: E402,F401  (so that `cu.data.load_wikipedia()` works after `import course_utils as cu`)


def start_notebook(seed: int = 0) -> None:
    """The first call of every notebook: seed everything, shorten course errors, say how we run.

    Prints one line such as ``FAST mode | seed 0 | torch 2.13.0 | transformers 5.24.0 | Hub: offline``.
    """
    import matplotlib
    import torch
    import transformers

    set_seed(seed)
    install_short_tracebacks()
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "figure.autolayout": True})
    from .assets import hub_mode

    hub = "offline (packaged models)"
    if hub_reachable():
        hub = "local cache (COURSE_HUB=cache)" if hub_mode() == "cache" else "reachable"
    print(f"{mode_name()} mode | seed {seed} | torch {torch.__version__} | "
          f"transformers {transformers.__version__} | Hub: {hub}")
