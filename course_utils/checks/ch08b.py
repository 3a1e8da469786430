"""Checkers for the exercises of chapter 8, second half (search,
summarization, generation).

Each checker runs the student's function on small cases whose answers come
from an independent reference (:mod:`course_utils.search` for recall@k, a few
lines of torch for the centroid, plain counting for distinct-n) and, when the
answer is wrong, compares it with what each typical wrong answer would give.

Definitions used (stated in the exercise notebook as well):

* recall@k of a query = |relevant ids among the first k| / |relevant ids|,
  averaged over queries;
* centroid score of sentence i = cos(u_i, mean_j u_j) with u_i the sentence
  vector scaled to length 1;
* distinct-n = number of distinct word n-grams / number of word n-grams,
  pooled over all texts, n-grams never crossing from one text to the next.
"""

from __future__ import annotations

import math

import torch

from course_utils import search
from . import as_tensor, call_student, fail, passed, tensors_close

# ------------------------------------------------------------------------------
# ---------------
# recall@k
# ------------------------------------------------------------------------------
# ---------------

RECALL_CASES = [
    # (rankings, relevant, k). In the first case every typical mistake gives a
    # different value from the answer
    # and from each other (found by search), so the first failing case already
    # names the mistake.
    (
        [
            ["d", "c", "b", "a", "f", "h"],
            ["g", "e", "c", "h", "b", "a"],
            ["e", "b", "f", "c", "g", "d"],
        ],
        [["a", "c", "e", "h"], ["c", "g"], ["h"]],
        3,
    ),
    (
        [
            ["a", "b", "c", "d", "e"],
            ["x", "y", "z", "w", "v"],
            ["p", "q", "r", "s", "t"],
        ],
        [["c", "e"], ["y"], ["t", "p", "s"]],
        3,
    ),
    (
        [["d1", "d2", "d3", "d4"], ["d5", "d6", "d7", "d8"]],
        [["d2", "d4", "d9"], ["d8"]],
        2,
    ),
    ([["a", "b", "c", "d", "e", "f"]], [["b", "f"]], 4),
    (
        [["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"]],
        [["a"], ["d"], ["x"], ["g", "h"]],
        1,
    ),
]


def _number(result, what: str) -> float:
    if isinstance(result, torch.Tensor) and result.numel() == 1:
        return float(result)
    if isinstance(result, (list, tuple)) or (
        isinstance(result, torch.Tensor) and result.numel() > 1
    ):
        fail(
            f"{what} returned one value per query; return a single number, the "
            "mean over the queries."
        )
    try:
        value = float(result)
    except (TypeError, ValueError):
        fail(
            f"{what} returned a {type(result).__name__}; return a single "
            "number (a float)."
        )
    return value


def _recall_mistakes(rankings, relevant, k) -> dict[str, float]:
    def mean(values):
        return sum(values) / len(values)

    pairs = list(zip(rankings, relevant))
    return {
        "beyond k": mean(
            [len(set(rel) & set(r)) / len(set(rel)) for r, rel in pairs]
        ),
        "divide by k": mean(
            [len(set(rel) & set(r[:k])) / k for r, rel in pairs]
        ),
        "divide by min": mean(
            [
                len(set(rel) & set(r[:k])) / min(k, len(set(rel)))
                for r, rel in pairs
            ]
        ),
        "hit rate": mean(
            [float(bool(set(rel) & set(r[:k]))) for r, rel in pairs]
        ),
        "sum": sum(
            len(set(rel) & set(r[:k])) / len(set(rel)) for r, rel in pairs
        ),
        "pooled": sum(len(set(rel) & set(r[:k])) for r, rel in pairs)
        / sum(len(set(rel)) for r, rel in pairs),
        "k plus one": mean(
            [
                len(set(rel) & set(r[: k + 1])) / len(set(rel))
                for r, rel in pairs
            ]
        ),
        "k minus one": mean(
            [
                len(set(rel) & set(r[: k - 1])) / len(set(rel))
                for r, rel in pairs
            ]
        ),
    }


_RECALL_MESSAGES = {
    "beyond k": (
        "you counted relevant ids found anywhere in the ranking: only the "
        "first k results count (use ranked[:k])."
    ),
    "divide by k": (
        "you divided the hits by k, which is precision@k: recall divides by "
        "the number of relevant ids of the query, len(relevant[q])."
    ),
    "divide by min": (
        "you divided by min(k, number of relevant ids): recall@k divides by "
        "the number of relevant ids of the query, even when k is smaller."
    ),
    "hit rate": (
        "you gave each query 1 when any relevant id is in the top k (the hit "
        "rate): count how many of its relevant ids are there and divide by "
        "their number."
    ),
    "sum": (
        "you added up the recall of the queries without averaging: divide the "
        "sum by the number of queries."
    ),
    "pooled": (
        "you pooled the hits of all queries and divided by all relevant ids "
        "together: compute the recall of each query first, then take the mean "
        "over the queries, so that every query counts equally."
    ),
    "k plus one": (
        "you counted the first k + 1 results: ranked[:k] holds exactly k ids "
        "(slices stop before the end)."
    ),
    "k minus one": (
        "you counted only the first k - 1 results: ranked[:k] holds exactly k "
        "ids."
    ),
}


def check_recall_at_k(recall_at_k) -> None:
    """Check ``recall_at_k(rankings, relevant, k) -> float`` (the mean over
    queries)."""
    for rankings, relevant, k in RECALL_CASES:
        args = ([list(r) for r in rankings], [list(r) for r in relevant], k)
        value = _number(
            call_student(recall_at_k, *args, name="recall_at_k"), "recall_at_k"
        )
        expected = search.recall_at_k(rankings, relevant, k)
        if math.isclose(value, expected, abs_tol=1e-9):
            continue
        for name, wrong in _recall_mistakes(rankings, relevant, k).items():
            if not math.isclose(wrong, expected, abs_tol=1e-9) and math.isclose(
                value, wrong, abs_tol=1e-9
            ):
                fail(_RECALL_MESSAGES[name])
        if value > 1 + 1e-9 or value < 0:
            fail(
                f"recall_at_k returned {value:.3f}, but a recall lies between "
                "0 and 1: check the division."
            )
        fail(
            f"recall_at_k gives {value:.4f} for k={k} on rankings {rankings} "
            f"with relevant ids {relevant}, but the mean recall is "
            f"{expected:.4f}: for each query, count its relevant ids among the "
            "first k, divide by its number of relevant ids, then average."
        )
    passed("recall_at_k")


# ------------------------------------------------------------------------------
# ---------------
# centroid scores
# ------------------------------------------------------------------------------
# ---------------


def _centroid_cases():
    g = torch.Generator().manual_seed(0)
    # rows of very different lengths, more sentences than dimensions, and the
    # reverse
    yield (
        torch.randn(5, 3, generator=g)
        * torch.tensor([[0.5], [3.0], [1.0], [8.0], [0.2]])
        + 0.3
    )
    yield (
        torch.randn(3, 6, generator=g) * torch.tensor([[4.0], [0.3], [1.5]])
        + 0.5
    )
    yield torch.randn(7, 4, generator=g) + 1.0


def _unit(x, dim=1):
    return x / x.norm(dim=dim, keepdim=True)


def _reference_centroid(E):
    U = _unit(E.double())
    c = U.mean(dim=0)
    return U @ (c / c.norm())


def _centroid_mistakes(E) -> dict[str, torch.Tensor]:
    E = E.double()
    U = _unit(E)
    c = U.mean(dim=0)
    raw_c = E.mean(dim=0)
    return {
        "no normalisation": E @ raw_c,
        "centroid not normalised": U @ c,
        "raw mean": U @ (raw_c / raw_c.norm()),
        "distance": 1 - U @ (c / c.norm()),
        "sum": U @ U.sum(dim=0),
    }


_CENTROID_MESSAGES = {
    "no normalisation": (
        "you returned dot products with the mean of the raw vectors: scale "
        "every sentence vector to length 1 first, and the centroid too, so "
        "that the scores are cosines."
    ),
    "centroid not normalised": (
        "your scores are the cosines times the centroid's length: divide the "
        "centroid by its norm before the dot products (a cosine of a vector "
        "with itself is 1)."
    ),
    "raw mean": (
        "you averaged the raw vectors, so long vectors pull the centroid "
        "towards them: average the unit vectors (each row divided by its "
        "norm) instead."
    ),
    "distance": (
        "you returned 1 - cosine, a distance: return the similarity itself "
        "(central sentences score high)."
    ),
    "sum": (
        "you used the sum of the unit vectors without normalising it: divide "
        "the centroid by its norm."
    ),
}


def check_centroid_scores(centroid_scores) -> None:
    """Check ``centroid_scores(embeddings [n, dim]) -> [n]``."""
    for E in _centroid_cases():
        n, d = E.shape
        E_in = E.clone()
        result = as_tensor(
            call_student(centroid_scores, E_in, name="centroid_scores"),
            "centroid_scores",
        )
        if not torch.equal(E_in, E):
            fail(
                "centroid_scores changed its input in place: normalise into a "
                "new tensor (E / norm, not E /= norm)."
            )
        if tuple(result.shape) != (n,):
            if tuple(result.shape) == (d,):
                fail(
                    "you averaged over the wrong axis: the centroid is the "
                    "mean over the sentences (dim=0), and the result has one "
                    f"score per sentence, shape [{n}], not [{d}]."
                )
            if tuple(result.shape) in {(n, 1), (1, n)}:
                fail(
                    f"your result has shape {tuple(result.shape)}: return a "
                    f"1-D tensor of shape [{n}] (squeeze the extra axis)."
                )
            fail(
                "centroid_scores should return one score per sentence, shape "
                f"[{n}], for embeddings of shape {(n, d)}, but returned shape "
                f"{tuple(result.shape)}."
            )
        expected = _reference_centroid(E)
        if tensors_close(result, expected, atol=1e-5):
            continue
        for name, wrong in _centroid_mistakes(E).items():
            if tensors_close(result, wrong, atol=1e-5):
                fail(_CENTROID_MESSAGES[name])
        if (result.abs() > 1 + 1e-5).any():
            fail(
                "some of your scores lie outside [-1, 1], which a cosine "
                "cannot: normalise the sentence vectors and the centroid."
            )
        fail(
            "centroid_scores gives wrong values for embeddings of shape "
            f"{(n, d)}: score i should be the cosine of unit vector i with "
            "the mean of all unit vectors."
        )
    passed("centroid_scores")


# ------------------------------------------------------------------------------
# ---------------
# distinct-n
# ------------------------------------------------------------------------------
# ---------------

DISTINCT_CASES = [
    (["the cat sat on the mat", "the cat sat on the hat"], 2),
    (["a a a a", "b a a b"], 1),
    (["to be or not to be", "to be", "not"], 2),
    (["I said it and I said it again", "again I said it"], 3),
]


def _grams(text, n):
    words = text.split()
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def _reference_distinct(texts, n):
    grams = [g for t in texts for g in _grams(t, n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def _distinct_mistakes(texts, n) -> dict[str, float]:
    grams = [g for t in texts for g in _grams(t, n)]
    joined = _grams(" ".join(texts), n)
    per_text = [
        len(set(_grams(t, n))) / len(_grams(t, n))
        for t in texts
        if _grams(t, n)
    ]
    chars = [t[i : i + n] for t in texts for i in range(len(t) - n + 1)]
    unigrams = [w for t in texts for w in t.split()]
    return {
        "crossing": len(set(joined)) / len(joined),
        "per text": sum(per_text) / len(per_text),
        "count": float(len(set(grams))),
        "inverse": len(grams) / len(set(grams)),
        "characters": len(set(chars)) / len(chars),
        "unigrams": len(set(unigrams)) / len(unigrams),
    }


_DISTINCT_MESSAGES = {
    "crossing": (
        "you joined the texts before taking n-grams, so some n-grams run from "
        "the end of one text into the next: take the n-grams of each text "
        "separately, then pool them."
    ),
    "per text": (
        "you averaged the distinct-n of each text: pool the n-grams of all "
        "texts and divide the number of distinct ones by the total, so that "
        "repetition across texts counts."
    ),
    "count": (
        "you returned the number of distinct n-grams: divide it by the total "
        "number of n-grams."
    ),
    "inverse": (
        "you divided the total by the number of distinct n-grams: it is "
        "distinct / total, between 0 and 1."
    ),
    "characters": (
        "you counted character n-grams: split each text into words "
        "(text.split()) and take n words at a time."
    ),
    "unigrams": (
        "you always counted single words: take n consecutive words, "
        "tuple(words[i:i + n])."
    ),
}


def check_distinct_n(distinct_n) -> None:
    """Check ``distinct_n(texts, n) -> float``."""
    for texts, n in DISTINCT_CASES:
        value = _number(
            call_student(distinct_n, list(texts), n, name="distinct_n"),
            "distinct_n",
        )
        expected = _reference_distinct(texts, n)
        if math.isclose(value, expected, abs_tol=1e-9):
            continue
        for name, wrong in _distinct_mistakes(texts, n).items():
            if not math.isclose(wrong, expected, abs_tol=1e-9) and math.isclose(
                value, wrong, abs_tol=1e-9
            ):
                fail(_DISTINCT_MESSAGES[name])
        fail(
            f"distinct_n gives {value:.4f} for n={n} on {texts}, but the "
            f"answer is {expected:.4f}: the number of distinct word n-grams "
            "divided by the number of word n-grams, over all texts."
        )
    passed("distinct_n")
