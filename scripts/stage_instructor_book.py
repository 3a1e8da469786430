"""Stage the instructor edition of the book: the same sources with every
exercise answered.

    python scripts/stage_instructor_book.py DEST CACHE_DIR

copies the book's sources (``_config.yml``, ``_toc.yml``, ``book/``,
``chapters/``, ``exercises/``) into DEST, replaces each exercise notebook with
its solution-filled copy (the cells tagged ``answer`` get the code of
``exercises/solutions/<notebook>.py``, as in the tests), and edits the copy of
``_config.yml``: the exercises are executed (so each checker's verdict shows),
the chapters reuse the student edition's execution cache CACHE_DIR (nothing is
run twice), and every page carries an "instructor edition" banner. The student
edition is the repository itself: it has no solutions.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from exercise_tools import fill_all  # noqa: E402

BANNER = (
    "Instructor edition: the exercises are answered. "
    "Do not share this build with students."
)


def stage(dest: Path, cache_dir: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ("_toc.yml", "book", "chapters", "exercises"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source,
                dest / name,
                ignore=shutil.ignore_patterns(
                    ".ipynb_checkpoints", "__pycache__", "solutions"
                ),
            )
        else:
            shutil.copy2(source, dest / name)
    # offline_assets vendors JS from here
    (dest / "node_modules").symlink_to(REPO / "node_modules")
    for filled in fill_all(dest / "exercises"):  # overwrites the student copies
        print(f"answered {filled.relative_to(dest)}")

    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    config["title"] = config["title"] + " (instructor edition)"
    config["execute"]["exclude_patterns"] = []
    config["execute"]["cache"] = str(cache_dir.resolve())
    config.setdefault("html", {})["announcement"] = BANNER
    # sphinx paths that name files relative to the repository stay valid: the
    # build runs from the repository
    (dest / "_config.yml").write_text(
        yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )


if __name__ == "__main__":
    stage(Path(sys.argv[1]), Path(sys.argv[2]))
