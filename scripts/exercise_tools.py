"""Fill the answer cells of the exercise notebooks with the solutions.

A student notebook ``exercises/chNN_topic.ipynb`` marks each answer cell
with the tag ``answer`` and lists, in the cell metadata ``"solution"``, the
names of the functions (or constants) that the cell must define. The
solutions live apart, in ``exercises/solutions/chNN_topic.py``. Filling
replaces each answer cell with the source of those names taken from the
solution module, so the tests (and the instructor build) run the same
notebook the student gets, answered.

    python scripts/exercise_tools.py OUT   # write the filled notebooks

A maintainer's tool: it reads the repository's notebooks, so it lives in
scripts/, not in the course package (which reads nothing from notebooks).
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
EXERCISES = REPO / "exercises"
SOLUTIONS = EXERCISES / "solutions"


def solution_sources(solution_file: Path) -> dict[str, str]:
    """Each top-level name a solution module defines -> its source."""
    text = solution_file.read_text(encoding="utf-8")
    sources = {}
    for node in ast.parse(text).body:
        names = []
        if isinstance(
            node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)
        ):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        segment = ast.get_source_segment(text, node, padded=True)
        if (
            isinstance(node, (ast.FunctionDef, ast.ClassDef))
            and node.decorator_list
        ):
            first = node.decorator_list[0].lineno - 1
            segment = "\n".join(text.splitlines()[first : node.end_lineno])
        for name in names:
            sources[name] = segment
    return sources


def solution_imports(solution_file: Path) -> str:
    """The import lines of a solution module (a filled cell needs them too)."""
    text = solution_file.read_text(encoding="utf-8")
    lines = [
        ast.get_source_segment(text, n)
        for n in ast.parse(text).body
        if isinstance(n, (ast.Import, ast.ImportFrom))
    ]
    return "\n".join(line for line in lines if "__future__" not in line)


def fill_notebook(student_path: Path) -> nbformat.NotebookNode:
    """The student notebook with each answer cell replaced by its solution."""
    student_path = Path(student_path)
    solution_file = SOLUTIONS / (student_path.stem + ".py")
    if not solution_file.exists():
        raise FileNotFoundError(
            f"{student_path.name} has no solution file: "
            f"expected {solution_file}."
        )
    sources = solution_sources(solution_file)
    imports = solution_imports(solution_file)
    nb = nbformat.read(student_path, as_version=4)
    filled = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or "answer" not in cell.metadata.get(
            "tags", []
        ):
            continue
        names = cell.metadata.get("solution", [])
        missing = [n for n in names if n not in sources]
        if not names or missing:
            raise KeyError(
                f"{student_path.name}: an answer cell names "
                f"{names or 'no solution'}; "
                f"missing from {solution_file.name}: {missing}"
            )
        body = "\n\n".join(sources[n].strip("\n") for n in names)
        cell.source = (imports + "\n\n" if imports else "") + body
        filled += 1
    if filled == 0:
        raise ValueError(f"{student_path.name} has no cell tagged 'answer'.")
    return nb


def student_notebooks() -> list[Path]:
    """The student exercise notebooks, in chapter order."""
    return sorted(EXERCISES.glob("ch*.ipynb"))


def fill_all(out_dir) -> list[Path]:
    """Write every filled notebook into ``out_dir``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in student_notebooks():
        target = out / path.name
        nbformat.write(fill_notebook(path), target)
        written.append(target)
    return written


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python scripts/exercise_tools.py OUT_FOLDER")
    written = fill_all(sys.argv[1])
    print(f"wrote {len(written)} filled exercise notebook(s) to {sys.argv[1]}")
