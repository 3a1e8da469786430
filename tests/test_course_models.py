"""course_models: missing models are rebuilt once, with a message; saves are
atomic; bad names are one sentence.
"""

from pathlib import Path

import pytest

from course_utils import course_models
from course_utils.course_models import CourseModelError
from course_utils.errors import CourseError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def recipe(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    calls = []

    def build(out_dir, fast):
        calls.append(fast)
        (out_dir / "config.json").write_text("{}")

    toy = course_models.Recipe("chapter 0 (a test)", build)
    monkeypatch.setitem(course_models.RECIPES, "toy-model", toy)
    return calls


def test_ensure_builds_once_and_says_so(recipe, capsys):
    folder = course_models.ensure("toy-model")
    # conftest sets FAST mode
    assert (folder / "config.json").exists() and folder.name == "toy-model-fast"
    assert "not saved yet" in capsys.readouterr().out
    assert course_models.ensure("toy-model") == folder
    assert recipe == [True] and capsys.readouterr().out == ""
    course_models.ensure("toy-model", rebuild=True)
    assert recipe == [True, True]


def test_fast_and_full_models_live_apart(recipe, monkeypatch):
    fast_dir = course_models.ensure("toy-model")
    monkeypatch.setenv("COURSE_FAST", "0")
    assert not course_models.is_built("toy-model")
    assert course_models.ensure("toy-model") != fast_dir and recipe == [
        True,
        False,
    ]


def test_failed_save_leaves_nothing_behind(recipe, tmp_path):
    def broken(folder):
        (folder / "half.bin").write_text("x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        course_models.save("toy-model", broken)
    assert not course_models.is_built("toy-model")
    assert [
        p.name
        for p in (tmp_path / "models").iterdir()
        if not p.name.endswith(".lock")
    ] == []


def test_failing_recipe_is_one_sentence(recipe, monkeypatch):
    def build(out_dir, fast):
        raise ValueError("bad shape")

    toy = course_models.Recipe("chapter 0 (a test)", build)
    monkeypatch.setitem(course_models.RECIPES, "toy-model", toy)
    with pytest.raises(
        CourseModelError,
        match="Training course model 'toy-model' failed.*chapter 0",
    ):
        course_models.ensure("toy-model")


def test_unknown_model_names_the_known_ones(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    with pytest.raises(
        CourseModelError, match="no course model called 'tiny-gtp'"
    ):
        course_models.ensure("tiny-gtp")


def test_every_recipe_names_a_function_that_exists():
    """A recipe's builder is a function exported from its chapter's page."""
    import importlib

    for name, recipe in course_models.RECIPES.items():
        module, _, function = recipe.builder.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), (
            name
        )
        notebook = recipe.chapter.split("(")[1].rstrip(")")
        assert (REPO / notebook).exists(), name


def test_save_checks_the_name_before_it_touches_the_disk(monkeypatch, tmp_path):
    """``save`` replaces the model's folder: a bad name must never reach
    rmtree, even one that a test has put into RECIPES."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("COURSE_CACHE", str(cache))
    victim = cache / "precious"
    victim.mkdir(parents=True)
    (victim / "keep.txt").write_text("x")
    with pytest.raises(CourseModelError, match="no course model called"):
        course_models.save("../precious", lambda d: None)
    toy = course_models.Recipe("chapter 0 (a test)", lambda d, f: None)
    monkeypatch.setitem(course_models.RECIPES, "../precious", toy)
    with pytest.raises(CourseError, match="points outside the course cache"):
        course_models.save("../precious", lambda d: None, fast=False)
    assert (victim / "keep.txt").read_text() == "x"
    assert not (cache / "models").exists()
