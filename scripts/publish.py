"""Write where the course is published into every place that names it.

    # rewrite what disagrees with pyproject.toml
    python scripts/publish.py
    # only report it (tests/test_publish.py); exit 1 if any
    python scripts/publish.py --check

The one source is ``[tool.course]`` in pyproject.toml (``repository``,
``ref``, ``no_deps``). From it come: the install cell at the top of every
chapter and exercise notebook (what a Colab user or a downloaded notebook runs
first), the book's repository, Colab, Binder and issue buttons (``repository``
in _config.yml: the launch buttons open the plain copies in ``colab/`` at
``ref``), the addresses in README.md and ``[project.urls]``. Writing also
regenerates the Colab copies (scripts/colab.py), which carry the install cell.
A fork changes ``[tool.course]`` and runs this script.

``ref`` is a release tag or a commit, never a branch: the install cell
installs exactly the release whose notebooks Colab opens, so a later push to a
branch cannot break a notebook on Colab (README.md, "Releasing").
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
MARKER = 'importlib.util.find_spec("course_utils")'
# where scripts/colab.py writes the plain copies that Colab opens
COLAB_FOLDER = "colab"
# a release tag (v1.2.3, as [project] version 1.2.3) or a full commit hash
PINNED_REF = re.compile(r"^(v\d+\.\d+\.\d+|[0-9a-f]{40})$")


def course_settings() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"][
        "course"
    ]


def ref_problem(settings: dict) -> str | None:
    """Why ``ref`` is not a pinned reference, or None when it is."""
    ref = str(settings.get("ref", ""))
    if not PINNED_REF.match(ref):
        return (
            f"[tool.course] ref = {ref!r} is not a release tag (v1.2.3) or a "
            "40-digit commit: a branch moves, and Colab would install code "
            "that its notebooks were not tested with."
        )
    return None


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
        f'git+{{repo}}@{settings["ref"]}"',
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
    # plain json, in the notebooks' own format (indent 1, UTF-8, final
    # newline): a rewrite changes the install cell and nothing else
    nb = json.loads(path.read_text(encoding="utf-8"))
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    cells = [c for c in code_cells if MARKER in "".join(c["source"])]
    if len(cells) != 1 or cells[0] is not code_cells[0]:
        return (
            f"{path.relative_to(REPO)}: "
            "its first code cell must be the install cell"
        )
    if "".join(cells[0]["source"]) == cell_text:
        return None
    if write:
        lines = cell_text.split("\n")
        cells[0]["source"] = [line + "\n" for line in lines[:-1]] + lines[-1:]
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
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
    if ref_problem(settings):
        print(ref_problem(settings))
        return 1
    repository, ref = settings["repository"], settings["ref"]
    cell = install_cell(settings)
    problems = [sync_notebook(path, cell, write) for path in notebooks()]
    text_rules = [
        ("_config.yml", r"^(  url: ).*$", rf"\g<1>{repository}"),
        # the launch buttons (Colab, Binder) open colab/<page>.ipynb at ref
        ("_config.yml", r"^(  branch: ).*$", rf"\g<1>{ref}"),
        ("_config.yml", r"^(  path_to_book: ).*$", rf"\g<1>{COLAB_FOLDER}"),
        (
            "pyproject.toml",
            r'^(Repository = ").*(")$',
            rf"\g<1>{repository}\g<2>",
        ),
        # README: the pip install line and the Colab address
        (
            "README.md",
            r'(@ git\+)[^@"\s]+@[^"\s]+(")',
            rf"\g<1>{repository}@{ref}\g<2>",
        ),
        (
            "README.md",
            r"(https://colab\.research\.google\.com/github/)\S+?/blob/[^/]+/"
            rf"{COLAB_FOLDER}/",
            rf"\g<1>{re.sub(r'^https://github.com/', '', repository)}/blob/"
            rf"{ref}/{COLAB_FOLDER}/",
        ),
    ]
    problems += [
        sync_text(REPO / name, pattern, replacement, write)
        for name, pattern, replacement in text_rules
    ]
    problems = [p for p in problems if p]
    for problem in problems:
        print(("fixed: " if write else "") + problem)
    if write:
        # the copies carry the install cell and links at ref
        return colab_module().main([])
    if problems:
        print(
            "Run `python scripts/publish.py` to write [tool.course] of "
            "pyproject.toml "
            "into these files."
        )
        return 1
    return 0


def colab_module():
    sys.path.insert(0, str(REPO / "scripts"))
    import colab

    return colab


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
