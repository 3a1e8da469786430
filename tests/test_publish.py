"""A notebook opened on its own installs what it needs, from the one configured
address.

[tool.course] of pyproject.toml says where the course is published;
scripts/publish.py writes it into every notebook's install cell and the book's
buttons. The package must declare every library a notebook, an exercise or the
package itself imports: a downloaded notebook gets only what
``pip install course_utils[assets]`` brings.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(
        name, REPO / "scripts" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_install_cell_and_button_uses_the_configured_address():
    publish = _load("publish")
    assert publish.main(["--check"]) == 0
    settings = publish.course_settings()
    assert settings["repository"] in (REPO / "README.md").read_text()
    assert settings["repository"] in (REPO / "_config.yml").read_text()


def test_the_install_cell_installs_a_pinned_release_not_a_branch():
    publish = _load("publish")
    settings = publish.course_settings()
    ref = settings["ref"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert publish.ref_problem(settings) is None
    # a tag names this version of the package: a release bumps both
    assert re.fullmatch(r"[0-9a-f]{40}", ref) or ref == f"v{project['version']}"
    cell = publish.install_cell(settings)
    assert re.search(rf"git\+\{{repo\}}@{re.escape(ref)}\"", cell)
    branches = {"main", "master", "develop", "dev", "gh-pages", "HEAD"}
    git = subprocess.run(
        ["git", "branch", "--all", "--format=%(refname:lstrip=-1)"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    branches |= set(git.stdout.split())
    assert ref not in branches
    # the check can fail: a branch or a loose version is refused
    for moving in ("main", "master", "v0.1", "latest", "release/0.1"):
        assert publish.ref_problem({**settings, "ref": moving})


def test_publish_refuses_a_branch_before_writing_anything(monkeypatch):
    publish = _load("publish")
    settings = {**publish.course_settings(), "ref": "main"}
    monkeypatch.setattr(publish, "course_settings", lambda: settings)
    monkeypatch.setattr(publish, "notebooks", lambda: pytest.fail("wrote"))
    assert publish.main([]) == 1


def test_the_install_cell_installs_this_package_with_its_asset_extra():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    cell = _load("publish").install_cell(_load("publish").course_settings())
    assert f'"{project["name"]}[assets] @ git+' in cell
    assert "assets" in project["optional-dependencies"]


def _code_sources():
    """(file, source) of every code cell and module that runs in a student's
    environment.
    """
    paths = [*REPO.glob("chapters/*/*.ipynb"), *REPO.glob("exercises/*.ipynb")]
    for path in paths:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                # IPython magics and shell lines are not Python: keep the
                # indentation, drop them
                yield (
                    path,
                    re.sub(
                        r"^(\s*)[%!].*$",
                        r"\1pass",
                        cell.source,
                        flags=re.MULTILINE,
                    ),
                )
    for path in [
        *REPO.glob("course_utils/**/*.py"),
        *REPO.glob("exercises/solutions/*.py"),
    ]:
        yield path, path.read_text(encoding="utf-8")


def _top_level_imports(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    specs = [
        *project["project"]["dependencies"],
        *sum(project["project"]["optional-dependencies"].values(), []),
        *project["tool"]["course"]["no_deps"],
    ]
    return {
        re.split(r"[<>=!\[ ;]", s)[0].lower().replace("_", "-") for s in specs
    }


def test_the_package_declares_every_library_the_course_imports():
    provided_by = md.packages_distributions()
    declared = _declared()
    missing = {}
    for path, source in _code_sources():
        for module in _top_level_imports(source):
            if module in sys.stdlib_module_names or module in (
                "course_utils",
                "solutions",
            ):
                continue
            dists = {
                d.lower().replace("_", "-") for d in provided_by.get(module, [])
            }
            if not dists:
                pytest.fail(
                    f"{path.relative_to(REPO)} imports {module!r}, which no "
                    "installed "
                    "distribution provides"
                )
            if not dists & declared:
                missing.setdefault(sorted(dists)[0], path.relative_to(REPO))
    assert not missing, (
        "imported but not declared in pyproject.toml (a downloaded notebook "
        f"would fail): {missing}"
    )
