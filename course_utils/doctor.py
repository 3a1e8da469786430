"""The environment check behind ``python -m course_utils doctor``."""

from __future__ import annotations

import importlib.metadata as md
import sys

from .assets import ASSETS, asset_path, hub_reachable
from .config import cache_dir, env_flag, mode_name
from .errors import AssetMissingError, CourseError

# package -> the version the book is tested with (requirements.txt pins the full
# set)
TESTED = {
    "torch": "2.13.0",
    "transformers": "5.24.0",
    "datasets": "5.2.0",
    "tokenizers": "0.23.3",
    "accelerate": "1.15.0",
    "matplotlib": "3.11.2",
    "ipywidgets": "8.1.9",
    "bertviz": "1.4.1",
    "scikit-learn": "1.9.1",
}


def _check_packages() -> list[tuple[str, str, str]]:
    rows = []
    for name, tested in TESTED.items():
        try:
            have = md.version(name)
        except md.PackageNotFoundError:
            rows.append(
                (
                    "FAIL",
                    name,
                    "not installed: run `python install.py` (tested with "
                    f"{tested})",
                )
            )
            continue
        base = have.split("+")[0]
        status = "ok" if base == tested else "warn"
        note = (
            have
            if status == "ok"
            else f"{have} (the book is tested with {tested}; it may still work)"
        )
        rows.append((status, name, note))
    return rows


def _check_assets() -> list[tuple[str, str, str]]:
    rows = []
    for asset in ASSETS.values():
        try:
            path = asset_path(asset.name)
            rows.append(("ok", asset.name, str(path)))
        except AssetMissingError as err:
            rows.append(("FAIL", asset.name, str(err)))
    return rows


def _check_model_loads() -> list[tuple[str, str, str]]:
    try:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from .assets import resolve_checkpoint

        hf_logging.disable_progress_bar()

        ckpt = resolve_checkpoint("all-MiniLM-L6-v2")
        tok = AutoTokenizer.from_pretrained(ckpt)
        model = AutoModel.from_pretrained(ckpt)
        out = model(**tok("The doctor is in.", return_tensors="pt"))
        shape = tuple(out.last_hidden_state.shape)
        return [("ok", "load all-MiniLM-L6-v2", f"hidden states {shape}")]
    except Exception as err:  # report, never crash the doctor
        return [
            (
                "FAIL",
                "load all-MiniLM-L6-v2",
                f"{type(err).__name__}: {str(err).splitlines()[0]}",
            )
        ]


def _check_lab() -> list[tuple[str, str, str]]:
    """JupyterLab and jupyterlab-myst: needed to open the notebooks locally, not
    on Colab.
    """
    rows = []
    for name, why in [
        ("jupyterlab", "to open the notebooks on this computer"),
        ("jupyterlab-myst", "so that citations, exercises and diagrams render"),
    ]:
        try:
            rows.append(("ok", name, md.version(name)))
        except md.PackageNotFoundError:
            rows.append(
                (
                    "warn",
                    name,
                    f"not installed: needed {why} (`python install.py` "
                    "installs it; not needed on Colab)",
                )
            )
    return rows


def _check_book_tools() -> list[tuple[str, str, str]]:
    """Only needed to build the HTML book, not to run the notebooks: reported as
    warnings.
    """
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    rows = []
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    rows.append(
        ("ok", "chromium (book build)", chromium)
        if chromium
        else (
            "warn",
            "chromium (book build)",
            "not found: needed only to build the book (scripts/setup.sh "
            "installs it)",
        )
    )
    if (repo / "_toc.yml").exists():
        vendored = (repo / "node_modules" / "requirejs").exists()
        rows.append(
            ("ok", "node_modules (book build)", "installed")
            if vendored
            else (
                "warn",
                "node_modules (book build)",
                "missing: needed only to build the book (run `npm ci`)",
            )
        )
    return rows


def _setting(what: str, describe) -> tuple[str, str, str]:
    """One row for a setting read from the environment: FAIL with the
    one-sentence error when its variable holds a value the course refuses."""
    try:
        return ("ok", what, describe())
    except CourseError as err:
        return ("FAIL", what, str(err))


def _check_settings() -> list[tuple[str, str, str]]:
    """The COURSE_* variables: mode, cache folder, offline flag and Hub."""
    return [
        _setting(
            "execution mode",
            lambda: mode_name() + " (set COURSE_FAST=1 for FAST)",
        ),
        _setting("course cache", lambda: str(cache_dir())),
        _setting(
            "COURSE_OFFLINE",
            lambda: "on" if env_flag("COURSE_OFFLINE") else "off",
        ),
        _setting(
            "Hugging Face Hub",
            lambda: (
                "reachable"
                if hub_reachable()
                else "offline: packaged models will be used"
            ),
        ),
    ]


def run_doctor() -> int:
    """Print a report and return 0 when the book can run, 1 when something must
    be fixed.
    """
    py_ok = sys.version_info >= (3, 11)
    rows = [
        (
            "ok" if py_ok else "FAIL",
            "python",
            sys.version.split()[0] + ("" if py_ok else " (need 3.11 or newer)"),
        )
    ]
    rows += _check_packages()
    try:
        import torch

        threads = torch.get_num_threads()
        rows.append(
            (
                "ok",
                "torch device",
                f"cpu, {threads} threads"
                + (", CUDA available" if torch.cuda.is_available() else ""),
            )
        )
        build = (
            "CPU build"
            if torch.version.cuda is None
            else (
                f"CUDA {torch.version.cuda} build (fine with a GPU; on a "
                "CPU-only "
                "computer "
                "`python install.py` installs the much smaller CPU build)"
            )
        )
        rows.append(("ok", "torch build", build))
    except ImportError:
        pass
    rows += _check_assets()
    if all(r[0] != "FAIL" for r in rows if r[1] in ("torch", "transformers")):
        rows += _check_model_loads()
    rows += _check_lab()
    rows += _check_book_tools()
    rows += _check_settings()
    width = max(len(r[1]) for r in rows)
    for status, what, note in rows:
        print(f"[{status:>4}] {what:<{width}}  {note}")
    failures = [r for r in rows if r[0] == "FAIL"]
    if failures:
        print(
            f"\n{len(failures)} problem(s) found: fix the FAIL lines above, "
            "then run `python -m course_utils doctor` again."
        )
        return 1
    print("\nAll good: this environment can run every chapter of the book.")
    return 0
