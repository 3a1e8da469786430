"""Recipes that rebuild the course's own models; see :mod:`course_utils.course_models`.

Each module defines ``CHAPTER`` (the chapter that teaches the recipe) and
``build(out_dir: Path, fast: bool) -> None``.
"""
