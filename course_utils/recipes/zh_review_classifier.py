"""Recipe of the course model ``zh-review-classifier``: a small BERT trained from scratch on Chinese reviews.

A character-level WordPiece tokenizer is trained on the training reviews with ``tokenizers``, then a
2-layer ``BertForSequenceClassification`` (hidden 128) learns the negative/positive labels, exactly as in
chapter 7 (``course_utils.finetune.train_zh_classifier``).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

CHAPTER = "chapter 7 (chapters/07_fine_tuning/05_using_the_model.ipynb)"


def build(out_dir: Path, fast: bool) -> None:
    from ..finetune import train_zh_classifier, zh_splits

    with tempfile.TemporaryDirectory() as tmp:
        model, tokenizer, _, _ = train_zh_classifier(zh_splits(fast), tmp, fast=fast)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
