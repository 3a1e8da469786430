"""Recipe of the course model ``tweet-classifier``: the packaged MiniLM encoder fine-tuned on the 3-way tweets.

The same data and settings as chapter 7 (``course_utils.finetune.tweet_classifier_setup``); the saved
config names the labels (negative, neutral, positive), so ``pipeline("text-classification", model=folder)``
returns label names.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

CHAPTER = "chapter 7 (chapters/07_fine_tuning/02_training_loop_and_trainer.ipynb)"


def build(out_dir: Path, fast: bool) -> None:
    from transformers import AutoTokenizer

    from ..assets import resolve_checkpoint
    from ..finetune import finetune, tweet_classifier_setup

    checkpoint = resolve_checkpoint("all-MiniLM-L6-v2")
    splits, settings = tweet_classifier_setup(fast)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    with tempfile.TemporaryDirectory() as tmp:
        result = finetune(splits["train"], splits["validation"], settings, checkpoint, tmp, tokenizer=tokenizer)
    result.model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
