"""Book-level checks that need no build: the table of contents and the notebooks
themselves.
"""

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _toc_files():
    files = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files.append(toc["root"])
    walk(toc)
    return files


def _notebooks():
    return sorted(
        p
        for folder in ("chapters", "exercises")
        for p in (REPO / folder).rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and "solutions" not in p.parts
    )


def test_every_toc_entry_exists():
    for entry in _toc_files():
        assert any(
            (REPO / f"{entry}{ext}").exists() for ext in ("", ".md", ".ipynb")
        ), f"_toc.yml: {entry} does not exist"


def test_every_notebook_is_in_the_toc():
    listed = {
        e.removesuffix(".ipynb").removesuffix(".md") for e in _toc_files()
    }
    for nb in _notebooks():
        rel = nb.relative_to(REPO).with_suffix("").as_posix()
        assert rel in listed, f"{rel}.ipynb is not in _toc.yml"


def test_notebooks_are_stored_clean_and_follow_the_conventions():
    for nb_path in _notebooks():
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        cells = nb["cells"]
        name = nb_path.relative_to(REPO)
        assert not any(
            c.get("outputs") or c.get("execution_count")
            for c in cells
            if c["cell_type"] == "code"
        ), f"{name} is stored with outputs: strip them (nbstripout)"
        assert cells[0]["cell_type"] == "markdown" and "".join(
            cells[0]["source"]
        ).startswith("# "), (
            f"{name} must open with a markdown cell holding its '# Title'"
        )

        # markdown without its fenced code blocks, where "# " is a comment, not
        # a heading
        def prose(cell):
            return re.sub(
                r"^(```|~~~).*?^\1",
                "",
                "".join(cell["source"]),
                flags=re.M | re.S,
            )

        h1 = [
            c
            for c in cells
            if c["cell_type"] == "markdown"
            and re.search(r"^# ", prose(c), re.M)
        ]
        assert len(h1) == 1, (
            f"{name} has {len(h1)} H1 headings; the book needs exactly one"
        )
        code = "".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "code"
        )
        assert 'find_spec("course_utils")' in code, (
            f"{name} lacks the Colab set-up cell"
        )
        assert "start_notebook(" in code, (
            f"{name} does not call cu.start_notebook()"
        )
        assert "trust_remote_code" + "=True" not in code, (
            f"{name} enables trust_remote_code"
        )
        if nb_path.parts[-3] == "chapters":
            assert "assert" in code, (
                f"{name} asserts nothing: notebooks must check what they teach"
            )
