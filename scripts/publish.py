"""Write where the course is published into every place that names it.

    # rewrite what disagrees with pyproject.toml
    python scripts/publish.py
    # only report it (tests/test_publish.py); exit 1 if any
    python scripts/publish.py --check

The one source is ``[tool.course]`` in pyproject.toml (``repository``,
``branch``, ``no_deps``). From it come: the install cell at the top of every
chapter and exercise notebook (what a Colab user or a downloaded notebook runs
first), the book's repository, Colab, Binder and issue buttons (``repository``
in _config.yml) and ``[project.urls]``. A fork changes ``[tool.course]`` and
runs this script.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
MARKER = 'importlib.util.find_spec("course_utils")'


def course_settings() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"][
        "course"
    ]


def install_cell(settings: dict) -> str:
    """The first code cell of every notebook: install the course where it is
    missing.
    """
    lines = [
        "# On Colab, or wherever the course package is missing, install it "
        "from the",
        "# course repository (on a machine set up with install.py this does "
        "nothing).",
        "import importlib.util",
        "",
        f"if {MARKER} is None:",
        f'    repo = "{settings["repository"]}"',
        '    %pip install -q "course_utils[assets] @ '
        f'git+{{repo}}@{settings["branch"]}"',
    ]
    lines += [
        f"    %pip install -q --no-deps {spec}" for spec in settings["no_deps"]
    ]
    # A failed install says so here, not as a ModuleNotFoundError later.
    lines += [
        "    importlib.invalidate_caches()",
        f"    if {MARKER} is None:",
        '        raise RuntimeError("The course did not install; pip says '
        'why above.")',
    ]
    return "\n".join(lines)


def notebooks() -> list[Path]:
    paths = [*REPO.glob("chapters/*/*.ipynb"), *REPO.glob("exercises/*.ipynb")]
    return sorted(p for p in paths if ".ipynb_checkpoints" not in p.parts)


def sync_notebook(path: Path, cell_text: str, write: bool) -> str | None:
    nb = nbformat.read(path, as_version=4)
    cells = [
        c for c in nb.cells if c.cell_type == "code" and MARKER in c.source
    ]
    first_code = next((c for c in nb.cells if c.cell_type == "code"), None)
    if len(cells) != 1 or cells[0] is not first_code:
        return (
            f"{path.relative_to(REPO)}: "
            "its first code cell must be the install cell"
        )
    if cells[0].source == cell_text:
        return None
    if write:
        cells[0].source = cell_text
        nbformat.write(nb, path)
    return f"{path.relative_to(REPO)}: install cell differs"


def sync_text(
    path: Path, pattern: str, replacement: str, write: bool
) -> str | None:
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if count == 0:
        return f"{path.relative_to(REPO)}: no line matches {pattern!r}"
    if new == text:
        return None
    if write:
        path.write_text(new, encoding="utf-8")
    return f"{path.relative_to(REPO)}: differs from [tool.course]"


def main(argv: list[str]) -> int:
    write = "--check" not in argv
    settings = course_settings()
    cell = install_cell(settings)
    problems = [sync_notebook(path, cell, write) for path in notebooks()]
    problems += [
        sync_text(
            REPO / "_config.yml",
            r"^(  url: ).*$",
            rf"\g<1>{settings['repository']}",
            write,
        ),
        sync_text(
            REPO / "_config.yml",
            r"^(  branch: ).*$",
            rf"\g<1>{settings['branch']}",
            write,
        ),
        sync_text(
            REPO / "pyproject.toml",
            r'^(Repository = ").*(")$',
            rf"\g<1>{settings['repository']}\g<2>",
            write,
        ),
    ]
    problems = [p for p in problems if p]
    for problem in problems:
        print(("fixed: " if write else "") + problem)
    if not write and problems:
        print(
            "Run `python scripts/publish.py` to write [tool.course] of "
            "pyproject.toml "
            "into these files."
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
