"""The package's chapter modules are generated from the notebooks' export cells.

scripts/export.py writes every code cell marked ``#| export NAME`` into
course_utils/NAME.py; these tests fail when a generated module and its
notebooks disagree, and pin what the exporter refuses.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import export  # noqa: E402


def test_generated_modules_match_their_notebooks():
    found = export.differences(export.generate())
    assert not found, "\n".join(found) + "\nRun `python scripts/export.py`."


def write_notebook(root: Path, name: str, cells: list) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    path = root / "chapters" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def exported(source: str):
    return nbformat.v4.new_code_cell(source)


def test_export_gathers_cells_in_reading_order(tmp_path):
    md = nbformat.v4.new_markdown_cell("# Intro\n\n## Squares")
    write_notebook(
        tmp_path,
        "01_a/01_first.ipynb",
        [
            md,
            exported(
                '#| export demo\n"""Demo module."""\nimport math\n\n\n'
                "def square(x):\n    return x * x"
            ),
            exported("print(square(3))  # not exported"),
        ],
    )
    write_notebook(
        tmp_path,
        "02_b/01_second.ipynb",
        [exported("#| export demo\nimport math\n\nROOT2 = math.sqrt(2)")],
    )
    (tmp_path / "course_utils").mkdir()
    files = export.generate(tmp_path)
    text = files[tmp_path / "course_utils" / "demo.py"]
    assert text.startswith('"""Demo module.')
    assert text.count("import math") == 1  # imports gathered once, on top
    assert text.index("def square") < text.index("ROOT2")
    assert '# From chapters/01_a/01_first.ipynb\n# "Squares"' in text
    assert "print(" not in text
    path = tmp_path / "demo.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("demo", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.square(3) == 9 and module.ROOT2 == pytest.approx(2**0.5)


@pytest.mark.parametrize(
    "source, says",
    [
        ('#| export demo\n"""Demo."""\nprint(1)', "not a definition"),
        (
            "#| export demo\ndef f():\n    return 1",
            "must begin with a docstring",
        ),
        ("#| export demo\ndef f(:\n", "cannot be parsed"),
    ],
)
def test_export_refuses_what_cannot_be_a_module(tmp_path, source, says):
    write_notebook(tmp_path, "01_a/01_first.ipynb", [exported(source)])
    with pytest.raises(export.ExportError, match=says):
        export.generate(tmp_path)


def test_check_mode_reports_a_hand_edit(tmp_path):
    cell = exported('#| export demo\n"""Demo."""\nX = 1')
    write_notebook(tmp_path, "01_a/01_first.ipynb", [cell])
    (tmp_path / "course_utils").mkdir()
    files = export.generate(tmp_path)
    for path, text in files.items():
        path.write_text(text.replace("X = 1", "X = 2"))
    found = export.differences(files, tmp_path)
    assert found and "differs from its notebooks" in found[0]


def test_export_check_runs_from_the_command_line():
    result = subprocess.run(
        [sys.executable, "scripts/export.py", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
