"""Checkers for the exercises of chapter 8, second half (search,
summarization, generation).

Each checker first compares the student's function with an independent
reference (:mod:`course_utils.search` for recall@k, a few lines of torch for
the centroid, plain counting for distinct-n) on fixed cases and on cases
drawn from a seeded generator (k larger than a ranking, one query, one
sentence, texts shorter than n, empty texts, repeats). Only then does it
name a mistake, and only one that, written as a function, gives the
student's output on every case; otherwise it says which input differed.

Definitions used (stated in the exercise notebook as well):

* recall@k of a query = |relevant ids among the first k| / |relevant ids|,
  averaged over queries;
* centroid score of sentence i = cos(u_i, mean_j u_j) with u_i the sentence
  vector scaled to length 1;
* distinct-n = number of distinct word n-grams / number of word n-grams,
  pooled over all texts, n-grams never crossing from one text to the next.
"""

from __future__ import annotations

import random

import torch

from course_utils import search
from course_utils.errors import CheckFailed

from . import Case, as_tensor, compare_with_reference, fail, passed
from .ch08a import screened


def _number(result, *args) -> float:
    """The student's result as a float, or one sentence about what came
    back instead."""
    if isinstance(result, torch.Tensor) and result.numel() == 1:
        return float(result)
    if isinstance(result, (list, tuple)) or (
        isinstance(result, torch.Tensor) and result.numel() > 1
    ):
        fail(
            "your function returned one value per query or text; return a "
            "single number over all of them."
        )
    if isinstance(result, (str, bytes)):
        fail(
            f"your function returned the text {result!r:.40}; return a "
            "single number (a float)."
        )
    try:
        return float(result)
    except (TypeError, ValueError):
        fail(
            f"your function returned a {type(result).__name__}; return a "
            "single number (a float)."
        )


def _compare_or_hint(student, reference, cases, name, diagnoses, hints):
    """:func:`compare_with_reference`, and where it names no mistake, the
    first of ``hints`` (``(message, test(results))``) that applies to the
    student's results: a rule any right answer keeps (a recall between 0
    and 1), said before the generic message.
    """
    results = []

    def recorded(*args, **kwargs):
        results.append(student(*args, **kwargs))
        return results[-1]

    try:
        compare_with_reference(
            recorded, reference, cases, name=name, diagnoses=diagnoses
        )
    except CheckFailed as err:
        # only where every call returned and no mistake was named
        if str(err).startswith(f"{name} gives a different result"):
            for message, test in hints:
                if test(results):
                    fail(message)
        raise


# ------------------------------------------------------------------------------
# recall@k
# ------------------------------------------------------------------------------

RECALL_CASES = [
    # (rankings, relevant, k). In the first case every typical mistake gives a
    # different value from the answer and from each other
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
    # k larger than every ranking; a relevant id listed twice counts once
    ([["a", "b", "c"], ["d"]], [["c", "c", "z"], ["d"]], 10),
    # integer ids, an empty ranking
    ([[3, 1, 2], []], [[2], [7, 8]], 2),
]


def _random_recall_case(rng: random.Random) -> tuple:
    ids = list(range(12))
    rankings, relevant = [], []
    for _ in range(rng.randint(1, 4)):
        rankings.append(rng.sample(ids, rng.randint(1, 8)))
        relevant.append(rng.sample(ids, rng.randint(1, 5)))
    return rankings, relevant, rng.randint(1, 9)


def _recall_cases() -> list[Case]:
    rng = random.Random(0)
    cases = RECALL_CASES + [_random_recall_case(rng) for _ in range(40)]
    return [
        Case(f"rankings {r}, relevant {rel}, k={k}", (r, rel, k))
        for r, rel, k in cases
    ]


def _per_query(count, divide, top=lambda k: k, average=True):
    """A recall@k with its parts replaceable (for the mistakes):
    ``count(ranked_top, relevant)``, ``divide(hits, ranked, relevant, k)``,
    ``top(k)`` results looked at, mean or sum over the queries."""

    def recall(rankings, relevant, k):
        values = [
            divide(count(list(r)[: max(top(k), 0)], rel), r, rel, k)
            for r, rel in zip(rankings, relevant)
        ]
        return sum(values) / (len(values) if average else 1)

    return recall


def _hits(ranked, rel):
    return len(set(rel) & set(ranked))


def _by_relevant(hits, ranked, rel, k):
    return hits / len(set(rel))


def _pooled(rankings, relevant, k):
    hits = sum(_hits(list(r)[:k], rel) for r, rel in zip(rankings, relevant))
    return hits / sum(len(set(rel)) for rel in relevant)


_RECALL_DIAGNOSES = [
    (
        "you counted relevant ids found anywhere in the ranking: only the "
        "first k results count (use ranked[:k]).",
        _per_query(_hits, _by_relevant, top=lambda k: 10**9),
    ),
    (
        "you divided the hits by k, which is precision@k: recall divides by "
        "the number of relevant ids of the query, len(set(relevant[q])).",
        _per_query(_hits, lambda h, r, rel, k: h / k),
    ),
    (
        "you divided by min(k, number of relevant ids): recall@k divides by "
        "the number of relevant ids of the query, even when k is smaller.",
        _per_query(_hits, lambda h, r, rel, k: h / min(k, len(set(rel)))),
    ),
    (
        "you divided by the number of results looked at, len(ranked[:k]) "
        "(a precision): recall divides by the number of relevant ids of the "
        "query.",
        _per_query(
            _hits, lambda h, r, rel, k: h / len(r[:k]) if len(r) else 0.0
        ),
    ),
    (
        "you divided by len(relevant[q]), which counts an id listed twice "
        "twice: divide by the number of distinct relevant ids, "
        "len(set(relevant[q])).",
        _per_query(_hits, lambda h, r, rel, k: h / len(rel)),
    ),
    (
        "you gave each query 1 when any relevant id is in the top k (the hit "
        "rate): count how many of its relevant ids are there and divide by "
        "their number.",
        _per_query(
            lambda top, rel: float(bool(set(rel) & set(top))),
            lambda h, r, rel, k: h,
        ),
    ),
    (
        "you added up the recall of the queries without averaging: divide "
        "the sum by the number of queries.",
        _per_query(_hits, _by_relevant, average=False),
    ),
    (
        "you pooled the hits of all queries and divided by all relevant ids "
        "together: compute the recall of each query first, then take the "
        "mean over the queries, so that every query counts equally.",
        _pooled,
    ),
    (
        "you counted the first k + 1 results: ranked[:k] holds exactly k "
        "ids (slices stop before the end).",
        _per_query(_hits, _by_relevant, top=lambda k: k + 1),
    ),
    (
        "you counted only the first k - 1 results: ranked[:k] holds exactly "
        "k ids.",
        _per_query(_hits, _by_relevant, top=lambda k: k - 1),
    ),
]


def check_recall_at_k(recall_at_k) -> None:
    """Check ``recall_at_k(rankings, relevant, k) -> float`` (the mean over
    queries)."""
    _compare_or_hint(
        screened(recall_at_k, _number),
        search.recall_at_k,
        _recall_cases(),
        "recall_at_k",
        _RECALL_DIAGNOSES,
        [
            (
                "recall_at_k returned a value outside [0, 1], but a recall "
                "lies between 0 and 1: check the division.",
                lambda values: any(not 0 <= v <= 1 + 1e-9 for v in values),
            )
        ],
    )
    passed("recall_at_k")


# ------------------------------------------------------------------------------
# centroid scores
# ------------------------------------------------------------------------------


def _fixed_centroid_inputs():
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
    yield torch.tensor([[3.0, 4.0]])  # one sentence: its score is 1
    yield torch.tensor([[1.0, 0.0], [0.0, 5.0]])  # a square case, n = dim


def _random_centroid_input(g: torch.Generator) -> torch.Tensor:
    """Rows of random lengths around a shared direction (so that the
    centroid is far from zero and the cosines well defined)."""
    n = int(torch.randint(1, 9, (1,), generator=g))
    d = int(torch.randint(1, 9, (1,), generator=g))
    lengths = torch.exp(torch.randn(n, 1, generator=g) * 1.5)
    rows = torch.randn(n, d, generator=g) + 1.5 * torch.randn(d, generator=g)
    while float((rows / rows.norm(dim=1, keepdim=True)).mean(0).norm()) < 0.3:
        rows = rows + torch.ones(d)
    return rows * lengths


def _centroid_cases() -> list[Case]:
    g = torch.Generator().manual_seed(0)
    inputs = list(_fixed_centroid_inputs())
    inputs += [_random_centroid_input(g) for _ in range(30)]
    return [
        Case(
            f"embeddings of shape {tuple(E.shape)}: "
            f"{[[round(x, 2) for x in row] for row in E.tolist()]}",
            (E,),
        )
        for E in inputs
    ]


def _unit(x, dim=1):
    return x / x.norm(dim=dim, keepdim=True)


def _reference_centroid(E):
    U = _unit(E.double())
    c = U.mean(dim=0)
    return U @ (c / c.norm())


def _centroid(rows, centre, normalise_centre=True):
    """A centroid score with its parts replaceable (for the mistakes):
    ``rows(E)`` the vectors scored, ``centre(E)`` the centroid."""

    def scores(E):
        E = E.double()
        c = centre(E)
        return rows(E) @ (c / c.norm() if normalise_centre else c)

    return scores


_CENTROID_DIAGNOSES = [
    (
        "you returned dot products with the mean of the raw vectors: scale "
        "every sentence vector to length 1 first, and the centroid too, so "
        "that the scores are cosines.",
        _centroid(lambda E: E, lambda E: E.mean(0), normalise_centre=False),
    ),
    (
        "your scores are the cosines times the centroid's length: divide the "
        "centroid by its norm before the dot products (a cosine of a vector "
        "with itself is 1).",
        _centroid(_unit, lambda E: _unit(E).mean(0), normalise_centre=False),
    ),
    (
        "you averaged the raw vectors, so long vectors pull the centroid "
        "towards them: average the unit vectors (each row divided by its "
        "norm) instead.",
        _centroid(_unit, lambda E: E.mean(0)),
    ),
    (
        "you scored the raw sentence vectors (dot products with the unit "
        "centroid): scale every row to length 1 before the product too, so "
        "that the scores are cosines.",
        _centroid(lambda E: E, lambda E: _unit(E).mean(0)),
    ),
    (
        "you scaled the columns to length 1 (norm over dim=0) instead of the "
        "rows: each sentence vector is a row, so divide by "
        "E.norm(dim=1, keepdim=True).",
        _centroid(lambda E: _unit(E, 0), lambda E: _unit(E, 0).mean(0)),
    ),
    (
        "you returned 1 - cosine, a distance: return the similarity itself "
        "(central sentences score high).",
        lambda E: 1 - _reference_centroid(E),
    ),
    (
        "you used the sum of the unit vectors without normalising it: divide "
        "the centroid by its norm.",
        _centroid(_unit, lambda E: _unit(E).sum(0), normalise_centre=False),
    ),
]


def _scores_tensor(result, E) -> torch.Tensor:
    """The student's scores as a tensor of shape [n], or one sentence about
    the type or the shape."""
    result = as_tensor(result, "centroid_scores")
    n, d = E.shape
    shape = tuple(result.shape)
    if shape == (n,):
        return result
    if shape == (d,):
        fail(
            "you averaged over the wrong axis: the centroid is the mean over "
            "the sentences (dim=0), and the result has one score per "
            f"sentence, shape [{n}], not [{d}]."
        )
    if shape in {(n, 1), (1, n)}:
        fail(
            f"your result has shape {shape}: return a 1-D tensor of shape "
            f"[{n}] (squeeze the extra axis)."
        )
    fail(
        "centroid_scores should return one score per sentence, shape "
        f"[{n}], for embeddings of shape {(n, d)}, but returned shape "
        f"{shape}."
    )


def check_centroid_scores(centroid_scores) -> None:
    """Check ``centroid_scores(embeddings [n, dim]) -> [n]``."""
    student = screened(
        centroid_scores,
        _scores_tensor,
        in_place="centroid_scores changed its input in place: normalise "
        "into a new tensor (E / norm, not E /= norm).",
    )
    _compare_or_hint(
        student,
        _reference_centroid,
        _centroid_cases(),
        "centroid_scores",
        _CENTROID_DIAGNOSES,
        [
            (
                "some of your scores lie outside [-1, 1], which a cosine "
                "cannot: normalise the sentence vectors and the centroid.",
                lambda values: any(
                    bool((v.abs() > 1 + 1e-5).any()) for v in values
                ),
            )
        ],
    )
    passed("centroid_scores")


# ------------------------------------------------------------------------------
# distinct-n
# ------------------------------------------------------------------------------

DISTINCT_CASES = [
    (["the cat sat on the mat", "the cat sat on the hat"], 2),
    (["a a a a", "b a a b"], 1),
    (["to be or not to be", "to be", "not"], 2),
    (["I said it and I said it again", "again I said it"], 3),
    # texts shorter than n, an empty text, and none long enough at all
    (["one two", "", "three four five"], 3),
    (["too short", "x"], 4),
    ([], 2),
    # spaces, a tab and a newline: text.split() takes any run of them
    (["the  cat\tsat\non the mat ", " the cat sat"], 2),
]

_WORDS = "the cat sat on a mat and it was the end".split()


def _random_texts(rng: random.Random) -> tuple[list[str], int]:
    """A few texts from a small vocabulary (so that n-grams repeat, within
    and across texts), some shorter than n."""
    texts = [
        " ".join(
            rng.choice(_WORDS[: rng.randint(2, 11)])
            for _ in range(rng.randint(0, 9))
        )
        for _ in range(rng.randint(1, 4))
    ]
    return texts, rng.randint(1, 4)


def _distinct_cases() -> list[Case]:
    rng = random.Random(0)
    cases = DISTINCT_CASES + [_random_texts(rng) for _ in range(40)]
    return [Case(f"texts {t}, n={n}", (t, n)) for t, n in cases]


def _grams(text, n, split=str.split, extra=0):
    words = split(text)
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1 + extra)]


def _ratio(grams) -> float:
    return len(set(grams)) / len(grams) if grams else 0.0


def _reference_distinct(texts, n):
    return _ratio([g for t in texts for g in _grams(t, n)])


def _pooled_distinct(**how):
    """distinct-n over all texts, with the n-gram extraction changed."""

    def distinct(texts, n):
        return _ratio([g for t in texts for g in _grams(t, n, **how)])

    return distinct


def _per_text_mean(texts, n):
    values = [_ratio(_grams(t, n)) for t in texts if _grams(t, n)]
    return sum(values) / len(values) if values else 0.0


def _distinct_within_texts(texts, n):
    grams = [_grams(t, n) for t in texts]
    total = sum(len(g) for g in grams)
    return sum(len(set(g)) for g in grams) / total if total else 0.0


def _count(texts, n):
    return float(len({g for t in texts for g in _grams(t, n)}))


def _inverse(texts, n):
    grams = [g for t in texts for g in _grams(t, n)]
    return len(grams) / len(set(grams)) if grams else 0.0


def _characters(texts, n):
    return _ratio([t[i : i + n] for t in texts for i in range(len(t) - n + 1)])


_DISTINCT_DIAGNOSES = [
    (
        "you joined the texts before taking n-grams, so some n-grams run "
        "from the end of one text into the next: take the n-grams of each "
        "text separately, then pool them.",
        lambda texts, n: _ratio(_grams(" ".join(texts), n)),
    ),
    (
        "you averaged the distinct-n of each text: pool the n-grams of all "
        "texts and divide the number of distinct ones by the total, so that "
        "repetition across texts counts.",
        _per_text_mean,
    ),
    (
        "you counted the distinct n-grams of each text separately and added "
        "them up, so an n-gram repeated in two texts counts twice: put the "
        "n-grams of all texts into one set.",
        _distinct_within_texts,
    ),
    (
        "you returned the number of distinct n-grams: divide it by the total "
        "number of n-grams.",
        _count,
    ),
    (
        "you divided the total by the number of distinct n-grams: it is "
        "distinct / total, between 0 and 1.",
        _inverse,
    ),
    (
        "you counted character n-grams: split each text into words "
        "(text.split()) and take n words at a time.",
        _characters,
    ),
    (
        "you always counted single words: take n consecutive words, "
        "tuple(words[i:i + n]).",
        lambda texts, n: _reference_distinct(texts, 1),
    ),
    (
        "you split on single spaces (text.split(' ')), which keeps empty "
        "strings and words with tabs or newlines: use text.split(), which "
        "splits on any run of whitespace.",
        _pooled_distinct(split=lambda t: t.split(" ")),
    ),
    (
        "you missed the last n-gram of each text: a text of L words has "
        "L - n + 1 n-grams, range(len(words) - n + 1).",
        _pooled_distinct(extra=-1),
    ),
    (
        "you took one n-gram too many per text (the last one is shorter "
        "than n words): a text of L words has L - n + 1 n-grams, "
        "range(len(words) - n + 1).",
        _pooled_distinct(extra=1),
    ),
]


def check_distinct_n(distinct_n) -> None:
    """Check ``distinct_n(texts, n) -> float``."""
    _compare_or_hint(
        screened(distinct_n, _number),
        _reference_distinct,
        _distinct_cases(),
        "distinct_n",
        _DISTINCT_DIAGNOSES,
        [
            (
                "distinct_n returned a value outside [0, 1]; distinct / "
                "total lies between 0 and 1 (0.0 when there are no n-grams).",
                lambda values: any(not 0 <= v <= 1 + 1e-9 for v in values),
            )
        ],
    )
    passed("distinct_n")
