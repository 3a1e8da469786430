"""Chapter 8 (search and generation) checkers: the solutions pass, each
diagnosed mistake fails with its message, stubs say "not written yet"."""

import pytest
import torch

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


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda R, rel, k: _mean(
                [len(set(g) & set(r)) / len(set(g)) for r, g in zip(R, rel)]
            ),
            "anywhere in the ranking",
        ),
        (
            lambda R, rel, k: _mean(
                [len(set(g) & set(r[:k])) / k for r, g in zip(R, rel)]
            ),
            "precision@k",
        ),
        (
            lambda R, rel, k: _mean(
                [
                    len(set(g) & set(r[:k])) / min(k, len(g))
                    for r, g in zip(R, rel)
                ]
            ),
            r"min\(k",
        ),
        (
            lambda R, rel, k: _mean(
                [float(bool(set(g) & set(r[:k]))) for r, g in zip(R, rel)]
            ),
            "hit rate",
        ),
        (
            lambda R, rel, k: sum(
                len(set(g) & set(r[:k])) / len(set(g)) for r, g in zip(R, rel)
            ),
            "without averaging",
        ),
        (
            lambda R, rel, k: [
                len(set(g) & set(r[:k])) / len(set(g)) for r, g in zip(R, rel)
            ],
            "one value per query",
        ),
        (
            lambda R, rel, k: (
                sum(len(set(g) & set(r[:k])) for r, g in zip(R, rel))
                / sum(len(g) for g in rel)
            ),
            "pooled",
        ),
        (
            lambda R, rel, k: _mean(
                [
                    len(set(g) & set(r[: k + 1])) / len(set(g))
                    for r, g in zip(R, rel)
                ]
            ),
            "k \\+ 1",
        ),
        (lambda R, rel, k: 2.0, "between 0 and 1"),
        (lambda R, rel, k: 0.123, "but the mean recall is"),
        (lambda R, rel, k: "high", "return a single number"),
    ],
)
def test_recall_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch08b.check_recall_at_k(wrong)


# --- centroid scores ----------------------------------------------------------


def test_centroid_solution_passes(capsys):
    ch08b.check_centroid_scores(sol.centroid_scores)
    assert "centroid_scores: all checks passed" in capsys.readouterr().out


def test_centroid_stub_is_not_written_yet():
    with pytest.raises(CheckFailed, match="centroid_scores is not written yet"):
        ch08b.check_centroid_scores(stub)


def _unit(x, dim=1):
    return x / x.norm(dim=dim, keepdim=True)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda E: E @ E.mean(dim=0),
            "dot products with the mean of the raw vectors",
        ),
        (
            lambda E: _unit(E) @ _unit(E).mean(dim=0),
            "times the centroid's length",
        ),
        (
            lambda E: _unit(E) @ (E.mean(dim=0) / E.mean(dim=0).norm()),
            "averaged the raw vectors",
        ),
        (lambda E: 1 - sol.centroid_scores(E), "a distance"),
        (lambda E: _unit(E) @ _unit(E).sum(dim=0), "sum of the unit vectors"),
        (lambda E: _unit(E).T @ _unit(E).mean(dim=1), "wrong axis"),
        (lambda E: sol.centroid_scores(E)[:, None], "squeeze the extra axis"),
        (lambda E: 2 * sol.centroid_scores(E), r"outside \[-1, 1\]"),
        (lambda E: sol.centroid_scores(E) ** 3, "gives wrong values"),
        (lambda E: sol.centroid_scores(E).tolist(), "return a torch tensor"),
    ],
)
def test_centroid_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch08b.check_centroid_scores(wrong)


def test_centroid_in_place_change_is_caught():
    def in_place(E):
        E /= E.norm(dim=1, keepdim=True)
        c = E.mean(dim=0)
        return E @ (c / c.norm())

    with pytest.raises(CheckFailed, match="changed its input in place"):
        ch08b.check_centroid_scores(in_place)


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


def _grams(t, n):
    w = t.split()
    return [tuple(w[i : i + n]) for i in range(len(w) - n + 1)]


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda T, n: sol.distinct_n([" ".join(T)], n), "joined the texts"),
        (
            lambda T, n: _mean(
                [sol.distinct_n([t], n) for t in T if _grams(t, n)]
            ),
            "averaged the distinct-n of each text",
        ),
        (
            lambda T, n: float(len({g for t in T for g in _grams(t, n)})),
            "returned the number of distinct",
        ),
        (lambda T, n: 1 / sol.distinct_n(T, n), "divided the total"),
        (
            lambda T, n: (
                len({t[i : i + n] for t in T for i in range(len(t) - n + 1)})
                / len([t[i : i + n] for t in T for i in range(len(t) - n + 1)])
            ),
            "character n-grams",
        ),
        (lambda T, n: sol.distinct_n(T, 1), "always counted single words"),
        (lambda T, n: 0.123, "but the answer is"),
        (lambda T, n: None, "returned None"),
    ],
)
def test_distinct_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch08b.check_distinct_n(wrong)
