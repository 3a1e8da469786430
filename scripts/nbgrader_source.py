"""Generate an nbgrader course folder from the exercise notebooks.

    python scripts/nbgrader_source.py                # every exercise notebook
    python scripts/nbgrader_source.py ch01 ch04      # some of them
    python scripts/nbgrader_source.py --release      # ... then release them
    python scripts/nbgrader_source.py ch03 ch04 --assignment week03

writes, for each exercise notebook ``exercises/chNN_topic.ipynb``, the
nbgrader source ``_build/nbgrader/source/chNN_topic/chNN_topic.ipynb`` (one
assignment per exercise notebook unless ``--assignment`` names one for them
all; ``--course DIR`` picks another folder than ``_build/nbgrader``) and the
course's ``nbgrader_config.py``. In the source notebook

- each answer cell (tagged ``answer``) is an nbgrader solution cell: the
  student's stub, whose ``raise NotImplementedError`` line is replaced by the
  body of the official solution (taken from ``exercises/solutions/``, the
  single source) between ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
- the checker call that follows it is an autograder test cell worth
  ``--points`` points (1 by default): a checker that raises fails the test.

The course's ``nbgrader_config.py`` sets the code stub to the student's own
``raise NotImplementedError``, so ``nbgrader generate_assignment`` (run by
``--release``, or by hand in the course folder) gives back exactly the student
notebook. The instructor guide (book/instructor_guide.md, "Grading with
nbgrader") gives the commands that follow: collect, autograde, export.

A maintainer's tool: it reads the repository's notebooks and solutions, so it
lives in scripts/, and what it writes goes under _build/ (never committed).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO))
from course_utils.errors import CourseError  # noqa: E402
from exercise_tools import SOLUTIONS, student_notebooks  # noqa: E402

DEFAULT_COURSE = REPO / "_build" / "nbgrader"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
# the stub line of every answer cell; nbgrader puts it back in the release
STUB_LINE = "raise NotImplementedError"
STUB_PATTERN = re.compile(r"^(\s*)raise NotImplementedError(\(\))?\s*$")
NBGRADER_SCHEMA_VERSION = 3
ASSIGNMENT_NAME = re.compile(r"[A-Za-z0-9_-]+")
NBGRADER_CONFIG = f'''\
"""nbgrader configuration of the course (written by
scripts/nbgrader_source.py)."""

c = get_config()  # noqa: F821  (nbgrader defines it)
# the release shows the student's own stub line in place of each solution
c.ClearSolutions.code_stub = {{"python": "{STUB_LINE}"}}
# a checker runs in seconds; a whole chapter's first imports take longer
c.Execute.timeout = 300
'''


def _is_answer_cell(cell) -> bool:
    return cell.cell_type == "code" and "answer" in cell.metadata.get(
        "tags", []
    )


def _parse_code(source: str) -> ast.Module | None:
    """A code cell's syntax tree, IPython magics (``%pip``, ``!ls``) read as
    ``pass``; None when the cell is not Python.
    """
    lines = [
        re.sub(r"^(\s*)[%!].*$", r"\1pass", line)
        for line in source.splitlines()
    ]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _bound_names(tree: ast.Module) -> set[str]:
    """The names that the top level of a cell binds (imports, definitions,
    assignments).
    """
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= _import_names(node)
        elif isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        ):
            names.add(node.name)
        else:
            for target in ast.walk(node):
                if isinstance(target, ast.Name) and isinstance(
                    target.ctx, ast.Store
                ):
                    names.add(target.id)
    return names


def _import_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    """The names an import statement binds."""
    return {
        alias.asname or alias.name.split(".")[0]
        for alias in node.names
        if alias.name != "*"
    }


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """The top-level functions of a module, by name."""
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0]
    is_docstring = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    return body[1:] if is_docstring and len(body) > 1 else body


def solution_body(function: ast.FunctionDef, lines: list[str]) -> str:
    """The source of a function's body without its docstring, dedented (the
    comments between its statements included).
    """
    body = function.body
    statements = _without_docstring(body)
    if statements is body:  # no docstring: the body starts after the colon
        start = statements[0].lineno - 1
        while start > function.lineno and lines[start - 1].strip().startswith(
            "#"
        ):
            start -= 1  # comments right after the signature
    else:
        start = body[0].end_lineno  # the line after the docstring
    text = "\n".join(lines[start : function.end_lineno])
    return textwrap.dedent(text).strip("\n")


def solution_region(
    stub_source: str,
    names: list[str],
    solution_file: Path,
    notebook_names: set[str],
) -> str:
    """An answer cell's stub with each ``raise NotImplementedError`` replaced
    by the solution's body between the nbgrader solution markers.

    The solution's imports that the body uses and the notebook does not import
    (``notebook_names``) open the region, as local imports.
    """
    solution_text = solution_file.read_text(encoding="utf-8")
    solution_tree = ast.parse(solution_text)
    solution_lines = solution_text.splitlines()
    solutions = _functions(solution_tree)
    imports = [
        node
        for node in solution_tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and getattr(node, "module", None) != "__future__"
    ]
    stub_tree = ast.parse(stub_source)
    stubs = _functions(stub_tree)
    stub_lines = stub_source.splitlines()
    for name in names:
        if name not in stubs or name not in solutions:
            where = "the answer cell" if name not in stubs else solution_file
            raise CourseError(
                f"{name} is not a function in {where}: an nbgrader solution "
                "cell needs a stub function and its solution of that name."
            )
        stub, solution = stubs[name], solutions[name]
        if ast.dump(stub.args) != ast.dump(solution.args):
            raise CourseError(
                f"{name} takes other arguments in {solution_file.name} than "
                "in its answer cell: make the stub's signature and the "
                "solution's the same."
            )
        stub_line = next(
            (
                i
                for i in range(stub.lineno - 1, stub.end_lineno)
                if STUB_PATTERN.match(stub_lines[i])
            ),
            None,
        )
        if stub_line is None:
            raise CourseError(
                f"the stub of {name} has no `{STUB_LINE}` line for nbgrader "
                "to replace: end its body with that line."
            )
        used = {n.id for n in ast.walk(solution) if isinstance(n, ast.Name)}
        needed = [
            ast.get_source_segment(solution_text, node)
            for node in imports
            if _import_names(node) & (used - notebook_names)
        ]
        body = solution_body(solution, solution_lines)
        indent = STUB_PATTERN.match(stub_lines[stub_line]).group(1)
        if needed:  # a blank line between the imports and the code
            needed.append("")
        region = [BEGIN_SOLUTION, *needed, body, END_SOLUTION]
        stub_lines[stub_line] = textwrap.indent("\n".join(region), indent)
    return "\n".join(stub_lines)


def _checker_cell_index(cells, answer_index: int, names: list[str]) -> int:
    """The cell after an answer cell that calls a checker on its function."""
    for index in range(answer_index + 1, len(cells)):
        cell = cells[index]
        if _is_answer_cell(cell):
            break
        tree = cell.cell_type == "code" and _parse_code(cell.source)
        if not tree:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id.startswith("check_")
                and any(
                    isinstance(arg, ast.Name) and arg.id in names
                    for arg in node.args
                )
            ):
                return index
    raise CourseError(
        f"no checker cell calls check_...({', '.join(names)}) after its "
        "answer cell: add one, or nbgrader has nothing to grade it with."
    )


def nbgrader_notebook(
    student_path: Path, points: float = 1
) -> nbformat.NotebookNode:
    """The nbgrader source of one exercise notebook: answer cells become
    solution cells, the checker call after each becomes a test cell worth
    ``points``.
    """
    student_path = Path(student_path)
    solution_file = SOLUTIONS / f"{student_path.stem}.py"
    if not solution_file.exists():
        raise CourseError(
            f"{student_path.name} has no solution module: write "
            f"exercises/solutions/{solution_file.name}."
        )
    notebook = nbformat.read(student_path, as_version=4)
    notebook_names: set[str] = set()
    graded = 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if not _is_answer_cell(cell):
            tree = _parse_code(cell.source)
            notebook_names |= _bound_names(tree) if tree else set()
            continue
        names = list(cell.metadata.get("solution", []))
        if not names:
            raise CourseError(
                f"{student_path.name}: an answer cell lists no names in its "
                "'solution' metadata: add the functions it must define."
            )
        cell.source = solution_region(
            cell.source, names, solution_file, notebook_names
        )
        exercise = "_".join(names)
        cell.metadata["nbgrader"] = {
            "grade": False,
            "grade_id": f"answer_{exercise}",
            "locked": False,
            "schema_version": NBGRADER_SCHEMA_VERSION,
            "solution": True,
            "task": False,
        }
        checker = notebook.cells[
            _checker_cell_index(notebook.cells, index, names)
        ]
        checker.metadata["nbgrader"] = {
            "grade": True,
            "grade_id": f"check_{exercise}",
            "locked": True,
            "points": points,
            "schema_version": NBGRADER_SCHEMA_VERSION,
            "solution": False,
            "task": False,
        }
        graded += 1
    if graded == 0:
        raise CourseError(
            f"{student_path.name} has no cell tagged 'answer': nbgrader "
            "would have nothing to grade."
        )
    nbformat.validate(notebook)
    return notebook


def select_notebooks(selection: list[str] | None = None) -> list[Path]:
    """The exercise notebooks named by ``selection`` (a full name such as
    ``ch01_language_models`` or its start, ``ch01``); all when it is empty.
    """
    notebooks = student_notebooks()
    if not selection:
        return notebooks
    chosen = []
    for wanted in selection:
        wanted = Path(wanted).stem
        matches = [p for p in notebooks if p.stem.startswith(wanted)]
        if not matches:
            known = ", ".join(p.stem for p in notebooks)
            raise CourseError(
                f"no exercise notebook is called {wanted!r}: choose from "
                f"{known}."
            )
        chosen += [p for p in matches if p not in chosen]
    return chosen


def write_course(
    course_dir: Path = DEFAULT_COURSE,
    selection: list[str] | None = None,
    points: float = 1,
    assignment: str | None = None,
) -> list[Path]:
    """Write the nbgrader source of the chosen exercise notebooks (and the
    course's nbgrader_config.py) into ``course_dir``; return the notebooks.

    Each notebook is an assignment of its own name, unless ``assignment``
    names one assignment for them all (a week that covers two chapters).
    """
    if assignment is not None and not ASSIGNMENT_NAME.fullmatch(assignment):
        raise CourseError(
            f"{assignment!r} cannot name an nbgrader assignment: use letters, "
            "digits, '_' and '-' only."
        )
    course_dir = Path(course_dir)
    notebooks = select_notebooks(selection)
    folders = {
        course_dir / "source" / (assignment or path.stem) for path in notebooks
    }
    for folder in folders:  # a fresh source, without stale notebooks
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    written = []
    for student_path in notebooks:
        folder = course_dir / "source" / (assignment or student_path.stem)
        target = folder / student_path.name
        nbformat.write(nbgrader_notebook(student_path, points), target)
        written.append(target)
    (course_dir / "nbgrader_config.py").write_text(
        NBGRADER_CONFIG, encoding="utf-8"
    )
    return written


def nbgrader_command() -> list[str]:
    """How to run nbgrader with this Python, or one sentence on installing
    it.
    """
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        raise CourseError(
            "nbgrader is not installed: run `pip install nbgrader==0.9.6` "
            "(requirements.txt pins it), then try again."
        ) from None
    return [sys.executable, "-m", "nbgrader"]


def nbgrader_environment() -> dict[str, str]:
    """The environment to run nbgrader in: this Python's scripts first on the
    PATH (nbgrader runs ``alembic`` from there to set up its database).
    """
    scripts = str(Path(sys.executable).parent)
    return dict(
        os.environ, PATH=os.pathsep.join([scripts, os.environ.get("PATH", "")])
    )


def release(course_dir: Path, assignments: list[str]) -> None:
    """Run ``nbgrader generate_assignment`` on each assignment: the student
    versions go to ``course_dir/release/``.
    """
    command = nbgrader_command()
    for assignment in assignments:
        result = subprocess.run(
            [*command, "generate_assignment", assignment, "--force"],
            cwd=course_dir,
            env=nbgrader_environment(),
        )
        if result.returncode != 0:
            raise CourseError(
                f"nbgrader generate_assignment failed on {assignment}: its "
                "messages above say why."
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate the nbgrader source of the exercise notebooks."
    )
    parser.add_argument(
        "notebooks",
        nargs="*",
        help="exercise notebooks by name or prefix (ch01); all by default",
    )
    parser.add_argument(
        "--course",
        type=Path,
        default=DEFAULT_COURSE,
        help="the nbgrader course folder (default: _build/nbgrader)",
    )
    parser.add_argument(
        "--points",
        type=float,
        default=1,
        help="the points of each exercise (default: 1)",
    )
    parser.add_argument(
        "--assignment",
        help="one assignment of this name for all the chosen notebooks "
        "(default: one assignment per notebook, named after it)",
    )
    parser.add_argument(
        "--release",
        action="store_true",
        help="then run `nbgrader generate_assignment` on each",
    )
    args = parser.parse_args(argv)
    try:
        written = write_course(
            args.course, args.notebooks, args.points, args.assignment
        )
        print(
            f"wrote {len(written)} nbgrader source notebook(s) under "
            f"{args.course / 'source'}"
        )
        if args.release:
            assignments = sorted({path.parent.name for path in written})
            release(args.course, assignments)
            print(f"released them under {args.course / 'release'}")
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
