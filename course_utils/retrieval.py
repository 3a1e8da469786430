"""Passages, queries and ranking metrics for semantic search (chapter 8), plus sentence splitting and
the lead/body split of a Wikipedia article that the summarization notebook uses.

Passages are paragraph-sized pieces of the course's Wikipedia articles and Lee news documents, each
with a stable id (``"Alabama#3"``: the fourth passage of the article *Alabama*; ``"lee-017#0"``: the
first passage of Lee document 17). The ids depend only on the packaged text and on the rules below,
so the hand-written queries in ``course_data/search_queries.json`` can name their relevant passages.

Metrics follow the usual definitions (stated once here, tested in tests/test_retrieval.py):

* ``recall@k`` of one query = (relevant passages among the first k results) / (number of relevant
  passages of the query); averaged over queries.
* ``reciprocal rank`` of one query = 1 / (rank of the first relevant result), 0 when none is ranked;
  its mean over queries is the MRR.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import datasets

MIN_PARAGRAPH_CHARS = 200  # shorter lines are headings, captions, list items or table debris
MAX_PASSAGE_CHARS = 1200  # longer paragraphs are cut at sentence boundaries into pieces of about this size
QUERIES_FILE = "search_queries.json"

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Cut text into sentences at ``.``, ``!`` or ``?`` followed by a space and a capital letter or digit.

    A regular expression, not a trained splitter: abbreviations such as "Dr. Smith" are cut wrongly,
    which is good enough for passages and extractive summaries. Line breaks always end a sentence.
    """
    if not isinstance(text, str):
        raise ValueError(f"split_sentences expects a string, not {type(text).__name__}.")
    sentences = []
    for line in text.split("\n"):
        sentences.extend(s.strip() for s in _SENTENCE_END.split(line.strip()) if s.strip())
    return sentences


def _is_heading(line: str) -> bool:
    """A short line without a sentence-final mark: a section heading (or a caption) in the cleaned text."""
    line = line.strip()
    return 0 < len(line) < 80 and not line.endswith((".", "!", "?", ":", ";", ",", '"', ")"))


def _chunks(paragraph: str, max_chars: int = MAX_PASSAGE_CHARS) -> list[str]:
    """A paragraph as one passage, or cut at sentence boundaries into pieces of at most about max_chars."""
    if len(paragraph) <= max_chars:
        return [paragraph]
    pieces, current = [], ""
    for sentence in split_sentences(paragraph):
        if current and len(current) + 1 + len(sentence) > max_chars:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def article_passages(text: str) -> list[str]:
    """The passages of one article or document: paragraphs (lines) of at least MIN_PARAGRAPH_CHARS,
    long ones cut at sentence boundaries."""
    passages = []
    for line in text.split("\n"):
        line = line.strip()
        if len(line) >= MIN_PARAGRAPH_CHARS:
            passages.extend(_chunks(line))
    return passages


def load_passages(sources: Sequence[str] = ("wikipedia", "lee")) -> datasets.Dataset:
    """All passages as a Dataset with columns ``id``, ``source``, ``title`` and ``text``.

    ``sources`` picks ``"wikipedia"`` (ids ``"<title>#<n>"``) and/or ``"lee"`` (ids ``"lee-<doc:03d>#<n>"``,
    title ``"Lee news <doc>"``). The order is the order of the articles, then of the passages.
    """
    from .data import load_lee_corpus, load_wikipedia

    unknown = set(sources) - {"wikipedia", "lee"}
    if unknown:
        raise ValueError(f"load_passages: unknown source(s) {sorted(unknown)}; use 'wikipedia' and/or 'lee'.")
    rows = {"id": [], "source": [], "title": [], "text": []}

    def add(source, title, prefix, text):
        for n, passage in enumerate(article_passages(text)):
            rows["id"].append(f"{prefix}#{n}")
            rows["source"].append(source)
            rows["title"].append(title)
            rows["text"].append(passage)

    if "wikipedia" in sources:
        wiki = load_wikipedia()
        for title, text in zip(wiki["title"], wiki["text"]):
            add("wikipedia", title, title, text)
    if "lee" in sources:
        for doc, text in enumerate(load_lee_corpus()["text"]):
            add("lee", f"Lee news {doc}", f"lee-{doc:03d}", text)
    return datasets.Dataset.from_dict(rows)


def load_queries() -> list[dict]:
    """The course's hand-written search queries: dicts with ``query``, ``relevant`` (list of passage ids)
    and ``kind`` (``"keyword"``: shares rare words with its passage; ``"paraphrase"``: says it in other words)."""
    path = Path(__file__).resolve().parent / "course_data" / QUERIES_FILE
    return json.loads(path.read_text(encoding="utf-8"))["queries"]


def lead_and_body(text: str) -> tuple[str, str]:
    """Split a cleaned Wikipedia article into its lead section (the paragraphs before the first
    heading) and the rest. Either part may be empty (an article without headings has no body)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if i > 0 and _is_heading(line):
            return "\n".join(lines[:i]).strip(), "\n".join(lines[i:]).strip()
    return text.strip(), ""


# ---------------------------------------------------------------------------------------------
# Ranking metrics
# ---------------------------------------------------------------------------------------------

def _check_k(k) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")


def _check_pair(ranked_ids, relevant_ids) -> tuple[list, set]:
    if isinstance(ranked_ids, str) or isinstance(relevant_ids, str):
        raise ValueError("ranked_ids and relevant_ids must be lists of ids, not a single string.")
    relevant = set(relevant_ids)
    if not relevant:
        raise ValueError("a query needs at least one relevant id; recall is undefined without any.")
    return list(ranked_ids), relevant


def recall_at_k_one(ranked_ids: Sequence, relevant_ids: Sequence, k: int) -> float:
    """Fraction of the query's relevant ids found among the first ``k`` ranked ids (each counted once)."""
    _check_k(k)
    ranked, relevant = _check_pair(ranked_ids, relevant_ids)
    return len(relevant & set(ranked[:k])) / len(relevant)


def reciprocal_rank(ranked_ids: Sequence, relevant_ids: Sequence) -> float:
    """1 / rank of the first relevant id in ``ranked_ids`` (ranks start at 1); 0 when none appears."""
    ranked, relevant = _check_pair(ranked_ids, relevant_ids)
    for rank, pid in enumerate(ranked, start=1):
        if pid in relevant:
            return 1.0 / rank
    return 0.0


def _check_lists(rankings, relevant) -> None:
    if len(rankings) != len(relevant):
        raise ValueError(f"there are {len(rankings)} rankings but {len(relevant)} lists of relevant ids; "
                         f"pass one of each per query.")
    if len(rankings) == 0:
        raise ValueError("no queries: pass at least one ranking.")


def recall_at_k(rankings: Sequence[Sequence], relevant: Sequence[Sequence], k: int) -> float:
    """Mean recall@k over queries: ``rankings[q]`` is query q's ranked ids, ``relevant[q]`` its relevant ids."""
    _check_lists(rankings, relevant)
    return sum(recall_at_k_one(r, rel, k) for r, rel in zip(rankings, relevant)) / len(rankings)


def mean_reciprocal_rank(rankings: Sequence[Sequence], relevant: Sequence[Sequence]) -> float:
    """MRR: the mean over queries of :func:`reciprocal_rank`."""
    _check_lists(rankings, relevant)
    return sum(reciprocal_rank(r, rel) for r, rel in zip(rankings, relevant)) / len(rankings)


def rank_ids(scores, ids: Sequence, k: int | None = None) -> list[list]:
    """Turn a score matrix [n_queries, n_passages] (higher is better) into ranked id lists, best first.

    Ties are broken by passage order (a stable sort), so the result is deterministic. ``k`` keeps the top k.
    """
    import numpy as np

    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or scores.shape[1] != len(ids):
        raise ValueError(f"rank_ids: scores must be [n_queries, n_passages] = [*, {len(ids)}], "
                         f"got shape {scores.shape}.")
    order = np.argsort(-scores, axis=1, kind="stable")
    if k is not None:
        _check_k(k)
        order = order[:, :k]
    return [[ids[j] for j in row] for row in order]


def evaluate_rankings(rankings: Sequence[Sequence], relevant: Sequence[Sequence],
                      ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """``{"recall@1": ..., "recall@5": ..., "recall@10": ..., "MRR": ...}`` for one retrieval method."""
    out = {f"recall@{k}": recall_at_k(rankings, relevant, k) for k in ks}
    out["MRR"] = mean_reciprocal_rank(rankings, relevant)
    return out
