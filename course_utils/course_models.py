"""Models and tokenizers the course trains itself, saved where later chapters
find them.

No GPT-style decoder, masked-LM head or fine-tuned classifier can be installed
offline, so the course makes its own: chapter 5 trains tokenizers, chapter 6
pretrains a tiny GPT and a tiny BERT, chapter 7 fine-tunes a classifier. Each
chapter trains in the open and saves with ``save_pretrained`` into
:func:`checkpoint_dir`; a later chapter loads with the ordinary API::

    model = AutoModelForCausalLM.from_pretrained(
        course_models.ensure("tiny-gpt")
    )

:func:`ensure` returns the folder, and when it is missing (a later chapter
run first, a fresh Colab session) it rebuilds it with the same recipe, saying
so in one line. The recipes are one table, :data:`RECIPES`: for each model,
the chapter that teaches it and the function on that chapter's page (exported
into the package) that trains it and ``save_pretrained``'s it into a folder.

FAST and full mode keep separate folders (``tiny-gpt-fast`` / ``tiny-gpt``): the
FAST model of CI must never stand in for the full one in the built book. Writes
are atomic and locked, so two notebooks running in parallel (pytest-xdist) never
see a half-written folder.
"""

from __future__ import annotations

import importlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from .assets import did_you_mean
from .config import cache_dir, is_fast
from .errors import CourseError, expect_type, require

COMPLETE_MARKER = "COURSE_COMPLETE"


class CourseModelError(CourseError):
    """A course-trained model is unknown or could not be built."""


@dataclass(frozen=True)
class Recipe:
    """How a course model is made: where it is taught, what trains it."""

    chapter: str  # shown in messages, e.g. "chapter 6 (chapters/...ipynb)"
    # "module:function", the function taking (out_dir: Path, fast: bool)
    builder: str | Callable[[Path, bool], None]

    def build(self, out_dir: Path, fast: bool) -> None:
        """Train the model and ``save_pretrained`` it into ``out_dir``."""
        build = self.builder
        if isinstance(build, str):
            module, _, function = build.partition(":")
            build = getattr(importlib.import_module(module), function)
        build(out_dir, fast)


def _page(chapter: int, notebook: str) -> str:
    return f"chapter {chapter} (chapters/{notebook}.ipynb)"


RECIPES: dict[str, Recipe] = {
    "tiny-gpt": Recipe(
        _page(6, "06_pretraining/01_data_and_tiny_gpt"),
        "course_utils.pretraining:build_tiny_gpt",
    ),
    "tiny-bert": Recipe(
        _page(6, "06_pretraining/03_tiny_bert"),
        "course_utils.pretraining:build_tiny_bert",
    ),
    "tweet-classifier": Recipe(
        _page(7, "07_fine_tuning/02_training_loop_and_trainer"),
        "course_utils.finetuning:build_tweet_classifier",
    ),
    "zh-review-classifier": Recipe(
        _page(7, "07_fine_tuning/05_using_the_model"),
        "course_utils.zh_reviews:build_zh_review_classifier",
    ),
}


def _recipe(name: str) -> Recipe:
    expect_type(name, str, "name")
    if name not in RECIPES:
        raise CourseModelError(
            f"There is no course model called {name!r}"
            f"{did_you_mean(name, RECIPES)}: use one of "
            f"{', '.join(known_models())}."
        )
    return RECIPES[name]


def known_models() -> list[str]:
    """Every model that has a recipe: ``['tiny-bert', 'tiny-gpt', ...]``."""
    return sorted(RECIPES)


def checkpoint_dir(name: str, fast: bool | None = None) -> Path:
    """The folder of a course model for the current mode (not created; see
    :func:`ensure`). ``name`` must be a known model (:func:`known_models`),
    so the folder is always inside the course cache.
    """
    _recipe(name)
    expect_type(fast, (bool, type(None)), "fast")
    fast = is_fast() if fast is None else fast
    models = cache_dir() / "models"
    target = models / (f"{name}-fast" if fast else name)
    # saving replaces this folder: never let a name point outside the cache
    require(
        Path(os.path.normpath(target)).parent == models,
        f"The course model name {name!r} points outside the course cache: "
        "use a plain name without '/' or '..'.",
    )
    return target


def is_built(name: str, fast: bool | None = None) -> bool:
    """Whether course model ``name`` is saved for the mode (FAST or full)."""
    return (checkpoint_dir(name, fast) / COMPLETE_MARKER).exists()


def save(
    name: str, write: Callable[[Path], None], fast: bool | None = None
) -> Path:
    """Save a course model atomically: ``write(folder)`` fills a temporary
    folder, which then replaces the model's folder. Chapters call it with
    ``lambda d: (model.save_pretrained(d), tokenizer.save_pretrained(d))``.
    """
    target = checkpoint_dir(name, fast)  # checks the name before any write
    require(
        callable(write),
        f"write must be a function that saves into a folder, not "
        f"{type(write).__name__}; pass lambda folder: "
        "model.save_pretrained(folder).",
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        return _save_locked(target, write)


def _save_locked(target: Path, write: Callable[[Path], None]) -> Path:
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        write(tmp)
        (tmp / COMPLETE_MARKER).write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def ensure(name: str, rebuild: bool = False) -> Path:
    """The folder of course model ``name``, trained first (with a message) if it
    is not there yet.
    """
    recipe = _recipe(name)
    expect_type(rebuild, bool, "rebuild")
    fast = is_fast()
    target = checkpoint_dir(name, fast)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if rebuild or not (target / COMPLETE_MARKER).exists():
            mode = "FAST" if fast else "full"
            print(
                f"Course model {name!r} ({mode} mode) is not saved yet: "
                "training it now with the recipe of "
                f"{recipe.chapter} (run that chapter to see how).",
                flush=True,
            )
            started = time.perf_counter()
            try:
                _save_locked(target, lambda folder: recipe.build(folder, fast))
            except CourseError:
                raise
            except Exception as err:
                raise CourseModelError(
                    f"Training course model {name!r} failed "
                    f"({type(err).__name__}: {err}); "
                    f"run {recipe.chapter} to see the steps."
                ) from err
            print(
                f"Saved {name!r} to {target} in "
                f"{time.perf_counter() - started:.0f} s.",
                flush=True,
            )
    return target
