import json
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import exercise_tools  # noqa: E402  (a maintainer's tool in scripts/)


def test_every_student_notebook_has_a_solution_and_fills():
    notebooks = exercise_tools.student_notebooks()
    assert len(notebooks) >= 2
    for path in notebooks:
        filled = exercise_tools.fill_notebook(path)
        student = nbformat.read(path, as_version=4)
        answers = [
            c for c in student.cells if "answer" in c.metadata.get("tags", [])
        ]
        assert answers, path
        for cell in answers:
            assert "NotImplementedError" in cell.source, (
                f"{path.name}: an answer cell should start as a stub"
            )
        filled_answers = [
            c for c in filled.cells if "answer" in c.metadata.get("tags", [])
        ]
        for cell in filled_answers:
            assert "NotImplementedError" not in cell.source
            for name in cell.metadata["solution"]:
                assert name in cell.source


def test_student_notebooks_are_stored_without_outputs():
    for path in exercise_tools.student_notebooks():
        nb = json.loads(path.read_text())
        assert not any(
            c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"
        ), path


def test_a_missing_solution_is_reported(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("raise NotImplementedError")
    cell.metadata["tags"] = ["answer"]
    cell.metadata["solution"] = ["does_not_exist"]
    nb.cells.append(cell)
    path = tmp_path / "ch99_demo.ipynb"
    nbformat.write(nb, path)
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "ch99_demo.py").write_text(
        "import math\n\ndef something():\n    return math.pi\n"
    )
    monkeypatch.setattr(exercise_tools, "SOLUTIONS", solutions)
    with pytest.raises(KeyError, match="does_not_exist"):
        exercise_tools.fill_notebook(path)
    cell.metadata["solution"] = ["something"]
    nbformat.write(nb, path)
    filled = exercise_tools.fill_notebook(path)
    assert filled.cells[0].source.startswith("import math")
    assert "def something" in filled.cells[0].source
