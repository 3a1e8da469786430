"""Recipe of the course's tiny GPT (chapter 6): byte-level BPE + GPT2LMHeadModel trained with Trainer.

The training itself is :func:`course_utils.pretraining.train_tiny_gpt`, the same function whose settings
the chapter asserts it uses, so a model rebuilt here is the chapter's model.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

CHAPTER = "chapter 6 (chapters/06_pretraining/01_data_and_tiny_gpt.ipynb)"


def build(out_dir: Path, fast: bool) -> None:
    """Train the tiny GPT for the given mode and ``save_pretrained`` model and tokenizer into ``out_dir``."""
    from course_utils import pretraining

    with tempfile.TemporaryDirectory(prefix="tiny-gpt-") as work:
        run = pretraining.train_tiny_gpt(Path(work), fast=fast)
    run["model"].save_pretrained(out_dir)
    run["tokenizer"].save_pretrained(out_dir)
