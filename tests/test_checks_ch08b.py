"""Chapter 8 (search and generation) checkers: the solutions pass, stubs
say "not written yet", and every wrong answer in the lists below is
rejected with its diagnosis (the mutation score printed at the end)."""

import pytest
import torch
from mutants import Wrong, assert_rejects

from course_utils.checks import ch08b
from course_utils.errors import CheckFailed
from solutions import ch08b_search_and_generation as sol


def stub(*args, **kwargs):
    raise NotImplementedError


def _mean(values):
    return sum(values) / len(values)


# --- recall@k -----------------------------------------------------------------


def test_recall_solution_passes(capsys):
    ch08b.check_recall_at_k(sol.recall_at_k)
    assert "recall_at_k: all checks passed" in capsys.readouterr().out


def test_recall_stub_is_not_written_yet():
    with pytest.raises(CheckFailed, match="recall_at_k is not written yet"):
        ch08b.check_recall_at_k(stub)


def _recall(R, rel, k, top=None, divide=None):
    """The official recall@k with the slice or the divisor changed."""
    top = k if top is None else top
    divide = divide or (lambda g, r: len(set(g)))
    return _mean(
        [len(set(g) & set(r[:top])) / divide(g, r) for r, g in zip(R, rel)]
    )


def _counts_duplicate_results(R, rel, k):
    """Counts hits by walking the top k of a list of relevant ids (a
    relevant id listed twice is found twice)."""
    return _mean(
        [sum(x in r[:k] for x in g) / len(set(g)) for r, g in zip(R, rel)]
    )


def _memorised(R, rel, k):
    """Right where the old checker looked (its five cases), else 0.5."""
    if [r for r, _, _ in ch08b.RECALL_CASES[:5]].count(R):
        return sol.recall_at_k(R, rel, k)
    return 0.5


RECALL_WRONG = [
    Wrong(
        "beyond k",
        lambda R, rel, k: _recall(R, rel, k, top=len(max(R, key=len))),
        "anywhere in the ranking",
    ),
    Wrong(
        "divided by k",
        lambda R, rel, k: _recall(R, rel, k, divide=lambda g, r: k),
        "precision@k",
    ),
    Wrong(
        "divided by min(k, |relevant|)",
        lambda R, rel, k: _recall(
            R, rel, k, divide=lambda g, r: min(k, len(set(g)))
        ),
        r"min\(k",
    ),
    Wrong(
        "divided by len(relevant) with duplicates",
        lambda R, rel, k: _recall(R, rel, k, divide=lambda g, r: len(g)),
        r"len\(set\(relevant\[q\]\)\)",
    ),
    Wrong(
        "hit rate",
        lambda R, rel, k: _mean(
            [float(bool(set(g) & set(r[:k]))) for r, g in zip(R, rel)]
        ),
        "hit rate",
    ),
    Wrong(
        "sum over queries",
        lambda R, rel, k: sum(
            len(set(g) & set(r[:k])) / len(set(g)) for r, g in zip(R, rel)
        ),
        "without averaging",
    ),
    Wrong(
        "one value per query",
        lambda R, rel, k: [
            len(set(g) & set(r[:k])) / len(set(g)) for r, g in zip(R, rel)
        ],
        "one value per query",
    ),
    Wrong(
        "pooled",
        lambda R, rel, k: (
            sum(len(set(g) & set(r[:k])) for r, g in zip(R, rel))
            / sum(len(set(g)) for g in rel)
        ),
        "pooled",
    ),
    Wrong(
        "k + 1",
        lambda R, rel, k: _recall(R, rel, k, top=k + 1),
        r"k \+ 1",
    ),
    Wrong(
        "k - 1",
        lambda R, rel, k: _recall(R, rel, k, top=k - 1),
        "k - 1",
    ),
    Wrong(
        "counts a duplicated relevant id twice",
        _counts_duplicate_results,
        "different result on",
    ),
    Wrong("above 1", lambda R, rel, k: 2.0, "between 0 and 1"),
    Wrong("a constant", lambda R, rel, k: 0.123, "different result on"),
    Wrong("hard-coded for the old cases", _memorised, "different result on"),
    Wrong("a string", lambda R, rel, k: "high", "single number"),
    Wrong("stub", stub, "not written yet"),
]


def test_recall_rejects_every_wrong_answer():
    assert_rejects(ch08b.check_recall_at_k, RECALL_WRONG)


# --- centroid scores ----------------------------------------------------------


def test_centroid_solution_passes(capsys):
    ch08b.check_centroid_scores(sol.centroid_scores)
    assert "centroid_scores: all checks passed" in capsys.readouterr().out


def test_centroid_stub_is_not_written_yet():
    with pytest.raises(CheckFailed, match="centroid_scores is not written yet"):
        ch08b.check_centroid_scores(stub)


def _unit(x, dim=1):
    return x / x.norm(dim=dim, keepdim=True)


def _in_place(E):
    E /= E.norm(dim=1, keepdim=True)
    c = E.mean(dim=0)
    return E @ (c / c.norm())


def _memorised(E):
    """Right on the old checker's three shapes, the raw mean elsewhere."""
    if tuple(E.shape) in {(5, 3), (3, 6), (7, 4)}:
        return sol.centroid_scores(E)
    return _unit(E) @ _unit(E.mean(dim=0), 0)


CENTROID_WRONG = [
    Wrong(
        "no normalisation",
        lambda E: E @ E.mean(dim=0),
        "dot products with the mean of the raw vectors",
    ),
    Wrong(
        "centroid not normalised",
        lambda E: _unit(E) @ _unit(E).mean(dim=0),
        "times the centroid's length",
    ),
    Wrong(
        "raw mean",
        lambda E: _unit(E) @ (E.mean(dim=0) / E.mean(dim=0).norm()),
        "averaged the raw vectors",
    ),
    Wrong(
        "rows not normalised",
        lambda E: E @ _unit(_unit(E).mean(dim=0), 0),
        "scored the raw sentence vectors",
    ),
    Wrong(
        "columns normalised",
        lambda E: _unit(E, 0) @ _unit(_unit(E, 0).mean(dim=0), 0),
        "columns",
    ),
    Wrong("distance", lambda E: 1 - sol.centroid_scores(E), "a distance"),
    Wrong(
        "sum",
        lambda E: _unit(E) @ _unit(E).sum(dim=0),
        "sum of the unit vectors",
    ),
    Wrong("wrong axis", lambda E: _unit(E).T @ _unit(E).mean(dim=1), "axis"),
    Wrong(
        "extra axis",
        lambda E: sol.centroid_scores(E)[:, None],
        "squeeze the extra axis",
    ),
    Wrong("doubled", lambda E: 2 * sol.centroid_scores(E), r"\[-1, 1\]"),
    Wrong("cubed", lambda E: sol.centroid_scores(E) ** 3, "different result"),
    Wrong("a list", lambda E: sol.centroid_scores(E).tolist(), "torch tensor"),
    Wrong("hard-coded for the old shapes", _memorised, "different result"),
    Wrong("in place", _in_place, "changed its input in place"),
    Wrong("stub", stub, "not written yet"),
]


def test_centroid_rejects_every_wrong_answer():
    assert_rejects(ch08b.check_centroid_scores, CENTROID_WRONG)


def test_centroid_solution_matches_the_chapter_formula():
    E = torch.randn(9, 5, generator=torch.Generator().manual_seed(3))
    unit = torch.nn.functional.normalize(E, dim=1)
    expected = unit @ torch.nn.functional.normalize(unit.mean(dim=0), dim=0)
    torch.testing.assert_close(sol.centroid_scores(E), expected)


# --- distinct-n ---------------------------------------------------------------


def test_distinct_solution_passes(capsys):
    ch08b.check_distinct_n(sol.distinct_n)
    assert "distinct_n: all checks passed" in capsys.readouterr().out


def test_distinct_stub_is_not_written_yet():
    with pytest.raises(CheckFailed, match="distinct_n is not written yet"):
        ch08b.check_distinct_n(stub)


def _grams(t, n, extra=0, split=str.split):
    w = split(t)
    return [tuple(w[i : i + n]) for i in range(len(w) - n + 1 + extra)]


def _pooled(T, n, **how):
    grams = [g for t in T for g in _grams(t, n, **how)]
    return len(set(grams)) / len(grams) if grams else 0.0


def _no_guard(T, n):
    grams = [g for t in T for g in _grams(t, n)]
    return len(set(grams)) / len(grams)


def _per_text_mean(T, n):
    values = [sol.distinct_n([t], n) for t in T if _grams(t, n)]
    return _mean(values) if values else 0.0


def _memorised(T, n):
    """Right on the old checker's four cases, 1.0 elsewhere."""
    if (T, n) in ch08b.DISTINCT_CASES[:4]:
        return sol.distinct_n(T, n)
    return 1.0


DISTINCT_WRONG = [
    Wrong(
        "texts joined",
        lambda T, n: sol.distinct_n([" ".join(T)], n),
        "joined the texts",
    ),
    Wrong("per-text mean", _per_text_mean, "averaged the distinct-n"),
    Wrong(
        "distinct counted per text",
        lambda T, n: (
            sum(len(set(_grams(t, n))) for t in T)
            / max(1, sum(len(_grams(t, n)) for t in T))
        ),
        "counted the distinct n-grams of each text separately",
    ),
    Wrong(
        "count",
        lambda T, n: float(len({g for t in T for g in _grams(t, n)})),
        "returned the number of distinct",
    ),
    Wrong(
        "inverse",
        lambda T, n: 1 / sol.distinct_n(T, n) if sol.distinct_n(T, n) else 0.0,
        "divided the total",
    ),
    Wrong(
        "characters",
        lambda T, n: _pooled(T, n, split=list),
        "character n-grams",
    ),
    Wrong("unigrams", lambda T, n: sol.distinct_n(T, 1), "single words"),
    Wrong(
        "bigrams always",
        lambda T, n: sol.distinct_n(T, 2),
        "different result on",
    ),
    Wrong(
        "split on single spaces",
        lambda T, n: _pooled(T, n, split=lambda t: t.split(" ")),
        r"split\(' '\)",
    ),
    Wrong(
        "last n-gram missed",
        lambda T, n: _pooled(T, n, extra=-1),
        "missed the last n-gram",
    ),
    Wrong(
        "one n-gram too many",
        lambda T, n: _pooled(T, n, extra=1),
        "one n-gram too many",
    ),
    Wrong("no zero guard", _no_guard, "ZeroDivisionError"),
    Wrong("above 1", lambda T, n: 2.0, r"outside \[0, 1\]"),
    Wrong("a constant", lambda T, n: 0.123, "different result on"),
    Wrong("hard-coded for the old cases", _memorised, "different result on"),
    Wrong("no return", lambda T, n: None, "returned None"),
    Wrong("stub", stub, "not written yet"),
]


def test_distinct_rejects_every_wrong_answer():
    assert_rejects(ch08b.check_distinct_n, DISTINCT_WRONG)
