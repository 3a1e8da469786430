"""Grading an instructor can run (issue 16): the exercise notebooks generate an
nbgrader source (scripts/nbgrader_source.py), its release is the student
notebook without a line of the solutions, and the real `nbgrader autograde`
gives full marks to the official solutions and the expected partial marks to
a submission with known mistakes. Nothing of exercises/solutions/ ships in the
course package or the wheel that the student install uses.

Everything runs in temporary folders; two light exercise notebooks (chapters 1
and 4, whose checkers run in seconds) go through nbgrader, and the generator is
checked on every exercise notebook.
"""

from __future__ import annotations

import ast
import csv
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import exercise_tools  # noqa: E402  (maintainer's tools in scripts/)
import nbgrader_source  # noqa: E402
import student_env  # noqa: E402

from course_utils.errors import CourseError  # noqa: E402

GRADED_NOTEBOOKS = ("ch01_language_models", "ch04_math")
ASSIGNMENT = "week01"  # both notebooks in one assignment: one autograde run
# known mistakes, by the grade_id of the answer cell they replace; each costs
# the point of its exercise
MISTAKES = {
    "answer_perplexity": """\
def perplexity(logprob, sentences):
    total, n_tokens = 0.0, 0
    for sentence in sentences:
        padded = ["<s>"] + list(sentence)  # forgets "</s>"
        for previous, word in zip(padded[:-1], padded[1:]):
            total += logprob(word, previous)
            n_tokens += 1
    return math.exp(-total / n_tokens)
""",
    "answer_causal_lm_loss": """\
def causal_lm_loss(logits, labels):
    keep = labels != -100  # no shift: position t scored against token t
    log_probs = torch.log_softmax(logits, dim=-1)
    nll = -log_probs.gather(-1, labels.clamp(min=0)[..., None])[..., 0]
    return nll[keep].mean()
""",
}
# (points of the official solutions, of the flawed submission, maximum):
# 3 exercises in chapter 1, 4 in chapter 4, a point each
EXPECTED_SCORES = (7.0, 5.0, 7.0)


def _nbgrader(course: Path, *arguments: str) -> str:
    """Run one nbgrader command in the course folder; its output."""
    env = nbgrader_source.nbgrader_environment()
    env.setdefault("COURSE_FAST", "1")
    result = subprocess.run(
        [*nbgrader_source.nbgrader_command(), *arguments],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"nbgrader {arguments[0]}:\n{log[-4000:]}"
    return log


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _submit(course: Path, student: str, name: str, mistakes: dict):
    """Hand in the released notebook ``name`` with every answer cell filled
    with the official solution, except the cells that ``mistakes`` replaces.
    """
    release = course / "release" / ASSIGNMENT / f"{name}.ipynb"
    notebook = nbformat.read(release, as_version=4)
    solved = exercise_tools.fill_notebook(REPO / "exercises" / f"{name}.ipynb")
    for cell, solved_cell in zip(notebook.cells, solved.cells, strict=True):
        grade_id = _grade_id(cell)
        if grade_id in mistakes:
            cell.source = mistakes[grade_id]
        elif grade_id and grade_id.startswith("answer_"):
            cell.source = solved_cell.source
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / release.name)


@pytest.fixture(scope="module")
def graded_course():
    """A course folder in which an assignment of two exercise notebooks was
    released, handed in twice (official solutions, known mistakes) and
    autograded; yields the folder and the grades nbgrader exported as CSV.
    """
    with tempfile.TemporaryDirectory(prefix="nbgrader-course-") as folder:
        course = Path(folder)
        result = subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "nbgrader_source.py"),
                *GRADED_NOTEBOOKS,
                "--assignment",
                ASSIGNMENT,
                "--course",
                str(course),
                "--release",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        for name in GRADED_NOTEBOOKS:
            _submit(course, "official", name, {})
            _submit(course, "flawed", name, MISTAKES)
        _nbgrader(course, "autograde", ASSIGNMENT)
        _nbgrader(course, "export", "--to", "grades.csv")
        with open(course / "grades.csv", newline="", encoding="utf-8") as f:
            grades = list(csv.DictReader(f))
        yield course, grades


def test_every_exercise_notebook_generates_an_nbgrader_source(tmp_path):
    written = nbgrader_source.write_course(tmp_path)
    notebooks = exercise_tools.student_notebooks()
    assert [p.stem for p in written] == [p.stem for p in notebooks]
    assert (tmp_path / "nbgrader_config.py").exists()
    for path, student_path in zip(written, notebooks, strict=True):
        assert path == tmp_path / "source" / path.stem / path.name
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        student = nbformat.read(student_path, as_version=4)
        answers = [
            c for c in student.cells if "answer" in c.metadata.get("tags", [])
        ]
        solutions = [
            c
            for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("solution")
        ]
        tests = [
            c
            for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("grade")
        ]
        assert len(solutions) == len(tests) == len(answers) > 0, path.name
        for cell in solutions:
            assert nbgrader_source.BEGIN_SOLUTION in cell.source, path.name
            assert nbgrader_source.END_SOLUTION in cell.source, path.name
            assert "NotImplementedError" not in cell.source, path.name
            ast.parse(cell.source)  # the answered cell is Python
        for cell in tests:
            assert cell.metadata.nbgrader["points"] == 1, path.name
            assert cell.metadata.nbgrader["locked"], path.name
            assert "check_" in cell.source, path.name
        ids = [_grade_id(c) for c in notebook.cells if _grade_id(c)]
        assert len(ids) == len(set(ids)), f"{path.name}: repeated grade_id"


def test_the_release_is_the_student_notebook_without_solutions(
    graded_course,
):
    course, _ = graded_course
    released = sorted((course / "release" / ASSIGNMENT).iterdir())
    assert [p.name for p in released] == [
        f"{name}.ipynb" for name in GRADED_NOTEBOOKS
    ]
    for name in GRADED_NOTEBOOKS:
        release = nbformat.read(
            course / "release" / ASSIGNMENT / f"{name}.ipynb", as_version=4
        )
        student = nbformat.read(
            REPO / "exercises" / f"{name}.ipynb", as_version=4
        )
        assert [c.source for c in release.cells] == [
            c.source for c in student.cells
        ], f"{name}: the release differs from the student notebook"
        text = "\n".join(c.source for c in release.cells)
        assert "BEGIN SOLUTION" not in text
        leaks = [
            body
            for body in _solution_bodies(name).values()
            if _normalised(body) in _normalised(text)
        ]
        assert not leaks, f"{name}: solution code released: {leaks}"


def test_autograde_scores_the_solutions_and_the_mistakes(graded_course):
    course, grades = graded_course
    scores = {
        (row["assignment"], row["student_id"]): (
            float(row["score"]),
            float(row["max_score"]),
        )
        for row in grades
    }
    full, partial, maximum = EXPECTED_SCORES
    assert scores == {
        (ASSIGNMENT, "official"): (full, maximum),
        (ASSIGNMENT, "flawed"): (partial, maximum),
    }
    # the points lost are those of the exercises with a mistake
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, "flawed")
        lost = {
            grade.name
            for notebook in submission.notebooks
            for grade in notebook.grades
            if grade.score < grade.max_score
        }
    assert lost == {
        mistake.replace("answer_", "check_") for mistake in MISTAKES
    }
    # the autograded notebook shows why: the checker's error in that cell
    autograded = nbformat.read(
        course / "autograded" / "flawed" / ASSIGNMENT / "ch04_math.ipynb",
        as_version=4,
    )
    (checker,) = [
        c for c in autograded.cells if _grade_id(c) == "check_causal_lm_loss"
    ]
    assert [o.get("ename") for o in checker.outputs] == ["CheckFailed"]


def _solution_bodies(stem: str) -> dict[str, str]:
    """Each exercise function of a solution module -> its body's source."""
    path = exercise_tools.SOLUTIONS / f"{stem}.py"
    text = path.read_text(encoding="utf-8")
    return {
        name: nbgrader_source.solution_body(function, text.splitlines())
        for name, function in nbgrader_source._functions(
            ast.parse(text)
        ).items()
    }


def _normalised(text: str) -> str:
    """Code with each line stripped: indentation cannot hide a copy."""
    return "\n".join(line.strip() for line in text.splitlines())


def _body_fingerprints(text: str) -> set[str]:
    """The syntax tree of every function body in a module, docstrings left
    out: equal for the same code however it is laid out or commented.
    """
    fingerprints = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = nbgrader_source._without_docstring(node.body)
            fingerprints.add(ast.dump(ast.Module(body=body, type_ignores=[])))
    return fingerprints


def _shipped_files(tmp_path: Path) -> dict[str, str]:
    """Path -> text of every file of course_utils/ and of the course wheel
    (built from a copy of the package, so the repository stays clean).
    """
    files = {
        str(path.relative_to(REPO)): path.read_text(
            encoding="utf-8", errors="replace"
        )
        for path in (REPO / "course_utils").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    stage = tmp_path / "stage"
    stage.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, stage / name)
    shutil.copytree(
        REPO / "course_utils",
        stage / "course_utils",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    wheel = student_env.build_wheel(tmp_path / "dist", source=stage)
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            files[f"wheel:{name}"] = archive.read(name).decode(
                "utf-8", errors="replace"
            )
    return files


def test_no_solution_ships_in_the_package_or_the_student_install(tmp_path):
    shipped = _shipped_files(tmp_path)
    assert any(name.startswith("wheel:course_utils/") for name in shipped)
    assert not [
        name for name in shipped if "solutions" in name or "exercises/" in name
    ]
    solutions = {}  # fingerprint -> "module: function"
    for module in sorted(exercise_tools.SOLUTIONS.glob("ch*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for name, function in nbgrader_source._functions(tree).items():
            body = nbgrader_source._without_docstring(function.body)
            dump = ast.dump(ast.Module(body=body, type_ignores=[]))
            solutions[dump] = f"{module.name}: {name}"
    assert len(solutions) >= 30
    copies = []
    for name, text in shipped.items():
        if not name.endswith(".py"):
            continue
        for fingerprint in _body_fingerprints(text) & solutions.keys():
            copies.append(f"{solutions[fingerprint]} in {name}")
    assert not copies, f"official solutions ship to students: {copies}"


def test_slips_are_one_clear_sentence(tmp_path, monkeypatch):
    with pytest.raises(CourseError, match="ch01_language_models"):
        nbgrader_source.select_notebooks(["ch99"])
    assert nbgrader_source.main(["ch99", "--course", str(tmp_path)]) == 1
    with pytest.raises(CourseError, match="assignment"):
        nbgrader_source.write_course(tmp_path, ["ch01"], assignment="week 1")
    monkeypatch.setitem(sys.modules, "nbgrader", None)  # not installed
    with pytest.raises(CourseError, match="pip install nbgrader"):
        nbgrader_source.nbgrader_command()


def test_a_stub_that_disagrees_with_its_solution_is_reported(
    tmp_path, monkeypatch
):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "ch99_demo.py").write_text(
        "def double(x, factor=2):\n    return factor * x\n"
    )
    monkeypatch.setattr(nbgrader_source, "SOLUTIONS", solutions)
    notebook = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell(
        "def double(x):\n    # TODO\n    raise NotImplementedError"
    )
    answer.metadata.update(tags=["answer"], solution=["double"])
    notebook.cells += [
        answer,
        nbformat.v4.new_code_cell("check_double(double)"),
    ]
    path = tmp_path / "ch99_demo.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(CourseError, match="signature"):
        nbgrader_source.nbgrader_notebook(path)
    (solutions / "ch99_demo.py").write_text(
        "def double(x):\n    return 2 * x\n"
    )
    source = nbgrader_source.nbgrader_notebook(path).cells[0].source
    assert source.splitlines() == [
        "def double(x):",
        "    # TODO",
        "    ### BEGIN SOLUTION",
        "    return 2 * x",
        "    ### END SOLUTION",
    ]
    notebook.cells.pop()  # no checker after the answer
    nbformat.write(notebook, path)
    with pytest.raises(CourseError, match="checker"):
        nbgrader_source.nbgrader_notebook(path)
