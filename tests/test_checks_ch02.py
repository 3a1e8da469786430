"""Chapter 2 checkers: the solutions pass, each diagnosed mistake fails with its
message, stubs say "not written yet".
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import torch
import torch.nn.functional as F

from course_utils.checks import ch02
from course_utils.errors import CheckFailed
from mutants import Wrong, assert_rejects
from solutions import ch02_core_concepts as sol


def stub(*args, **kwargs):
    raise NotImplementedError


# --- mean pooling
# ------------------------------------------------------------------------------


def test_mean_pool_solution_passes(capsys):
    ch02.check_mean_pool(sol.mean_pool)
    assert "mean_pool: all checks passed" in capsys.readouterr().out


def test_mean_pool_stub_is_not_written_yet():
    with pytest.raises(CheckFailed, match="mean_pool is not written yet"):
        ch02.check_mean_pool(stub)


def _masked_sum(hidden, mask):
    return (hidden * mask.unsqueeze(-1)).sum(dim=1)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda h, m: h.mean(dim=1),
            "averaged over padding tokens too: multiply by the mask and divide "
            "by the number of real",
        ),
        (
            lambda h, m: _masked_sum(h, m) / h.shape[1],
            "divided by the padded length",
        ),
        (
            lambda h, m: _masked_sum(h, m),
            "summed the real token vectors but did not divide",
        ),
        (
            lambda h, m: F.normalize(sol.mean_pool(h, m), dim=-1),
            "normalised the pooled vectors",
        ),
        (lambda h, m: h[:, 0], r"first \(\[CLS\]\) token"),
        (
            lambda h, m: (
                (h * m.unsqueeze(-1)).sum(dim=2) / m.sum(dim=1, keepdim=True)
            ),
            "wrong axis: you averaged over the hidden",
        ),
        (
            lambda h, m: (h * m.unsqueeze(-1)).mean(dim=0),
            r"wrong axis: you averaged over the batch",
        ),
        (
            lambda h, m: (
                _masked_sum(h, m).unsqueeze(1) / m.sum(1)[:, None, None]
            ),
            "extra axis of size 1",
        ),
        (
            lambda h, m: h.reshape(h.shape[0], -1),
            r"should return \[batch, dim\]",
        ),
        (
            lambda h, m: (
                _masked_sum(h, m)
                / (m.sum(dim=1, keepdim=True) - m.sum(dim=1, keepdim=True))
            ),
            "NaN or inf",
        ),
        (
            lambda h, m: _masked_sum(h, m) / (m.sum(dim=1, keepdim=True) + 1),
            "mean_pool gives wrong values",
        ),
        (lambda h, m: [1, 2, 3], "returned a list; return a torch tensor"),
    ],
)
def test_mean_pool_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch02.check_mean_pool(wrong)


def test_mean_pool_in_place_change_is_caught():
    def in_place(hidden, mask):
        hidden *= mask.unsqueeze(-1)
        return hidden.sum(dim=1) / mask.sum(dim=1, keepdim=True)

    with pytest.raises(CheckFailed, match="changed its inputs in place"):
        ch02.check_mean_pool(in_place)


def test_mean_pool_missing_return_is_caught():
    with pytest.raises(CheckFailed, match="returned None"):
        ch02.check_mean_pool(lambda h, m: None)


# --- cosine-similarity matrix
# ----------------------------------------------------------------


def test_cosine_solution_passes(capsys):
    ch02.check_cosine_similarity_matrix(sol.cosine_similarity_matrix)
    assert (
        "cosine_similarity_matrix: all checks passed" in capsys.readouterr().out
    )


def test_cosine_stub_is_not_written_yet():
    with pytest.raises(
        CheckFailed, match="cosine_similarity_matrix is not written yet"
    ):
        ch02.check_cosine_similarity_matrix(stub)


def _unit(x, dim=1):
    return x / x.norm(dim=dim, keepdim=True)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda a, b: a @ b.T,
            "not normalised, so you returned the dot product",
        ),
        (
            lambda a, b: _unit(a) @ b.T,
            "normalised the rows of a but not those of b",
        ),
        (
            lambda a, b: a @ _unit(b).T,
            "normalised the rows of b but not those of a",
        ),
        (lambda a, b: _unit(b) @ _unit(a).T, "transposed"),
        (
            lambda a, b: _unit(a, 0) @ _unit(b, 0).T,
            "normalised along the wrong axis",
        ),
        (lambda a, b: 1 - _unit(a) @ _unit(b).T, "cosine distance"),
        (lambda a, b: _unit(a) @ _unit(a).T, r"should return \[n, m\]"),
        (lambda a, b: 2 * _unit(a) @ _unit(b).T, r"outside \[-1, 1\]"),
        (lambda a, b: (_unit(a) @ _unit(b).T) ** 2, "gives wrong values"),
    ],
)
def test_cosine_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch02.check_cosine_similarity_matrix(wrong)


# --- pieces per word
# -------------------------------------------------------------------------


def test_pieces_solution_passes(capsys):
    ch02.check_pieces_per_word(sol.pieces_per_word)
    assert "pieces_per_word: all checks passed" in capsys.readouterr().out


def test_pieces_stub_is_not_written_yet():
    with pytest.raises(CheckFailed, match="pieces_per_word is not written yet"):
        ch02.check_pieces_per_word(stub)


def _with_specials(text, tokenizer):
    counts = {}
    for word in tokenizer(text).word_ids():
        counts[word] = (
            counts.get(word, 0) + 1
        )  # None (the specials) counted as a word
    return list(counts.values())


def _only_continuations(text, tokenizer):
    return [c - 1 for c in sol.pieces_per_word(text, tokenizer)]


def _by_spaces(text, tokenizer):
    return [len(tokenizer.tokenize(word)) for word in text.split()]


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_with_specials, r"counted the special tokens \[CLS\] and \[SEP\]"),
        (
            lambda t, tok: [1] + sol.pieces_per_word(t, tok) + [1],
            r"counted the special tokens",
        ),
        (_only_continuations, "only the ## continuation pieces"),
        (_by_spaces, "split .* on spaces"),
        (lambda t, tok: [len(w) for w in t.split()], "counted characters"),
        (
            lambda t, tok: sol.pieces_per_word(t, tok)[:-1],
            "counts, but the tokenizer sees",
        ),
        (
            lambda t, tok: sorted(sol.pieces_per_word(t, tok)),
            "wrong counts for",
        ),
        (
            lambda t, tok: {
                i: c for i, c in enumerate(sol.pieces_per_word(t, tok))
            },
            "returned a dict",
        ),
        (lambda t, tok: [tok.tokenize(w) for w in t.split()], "list of lists"),
        (lambda t, tok: 3, "returned a value of type int"),
    ],
)
def test_pieces_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch02.check_pieces_per_word(wrong)


# --- wrong answers each checker must reject (tests/mutants.py)
# ------------------------------------------------------------------------------


def _first_tokens(h, m):
    """The issue's example: right for right padding only."""
    return torch.stack(
        [x[: int(n)].mean(dim=0) for x, n in zip(h, m.sum(dim=1))]
    )


def _hard_coded_pool(h, m):
    """The right answer for the checker's first batch, whatever the input."""
    first = ch02._mean_pool_cases()[0]
    return sol.mean_pool(*first.args)


MEAN_POOL_WRONG = [
    Wrong("first mask.sum() tokens", _first_tokens, "first mask.sum"),
    Wrong("padding averaged", lambda h, m: h.mean(dim=1), "over padding"),
    Wrong(
        "padded length",
        lambda h, m: _masked_sum(h, m) / h.shape[1],
        "padded length",
    ),
    Wrong("no division", _masked_sum, "did not divide"),
    Wrong("first token", lambda h, m: h[:, 0], r"first \(\[CLS\]\)"),
    Wrong("last token", lambda h, m: h[:, -1], "gives wrong values"),
    Wrong(
        "count off by one",
        lambda h, m: _masked_sum(h, m) / (m.sum(dim=1, keepdim=True) + 1),
        "gives wrong values",
    ),
    Wrong(
        "mask ignored on the numerator",
        lambda h, m: h.sum(dim=1) / m.sum(dim=1, keepdim=True),
        "gives wrong values",
    ),
    Wrong(
        "wrong axis (hidden)",
        lambda h, m: (
            (h * m.unsqueeze(-1)).sum(dim=2) / m.sum(dim=1, keepdim=True)
        ),
        "averaged over the hidden",
    ),
    Wrong("hard-coded", _hard_coded_pool, r"should return \[batch, dim\]"),
    Wrong(
        "only the first row masked",
        lambda h, m: torch.cat(
            [sol.mean_pool(h[:1], m[:1]), h[1:].mean(dim=1)]
        ),
        "gives wrong values",
    ),
]


def test_mean_pool_rejects_wrong_answers():
    assert_rejects(ch02.check_mean_pool, MEAN_POOL_WRONG)


def _hard_coded_cosine(a, b):
    first = ch02._cosine_cases()[0]
    return sol.cosine_similarity_matrix(*first.args)


COSINE_WRONG = [
    Wrong("dot product", lambda a, b: a @ b.T, "dot product"),
    Wrong("only a", lambda a, b: _unit(a) @ b.T, "rows of a but not"),
    Wrong("only b", lambda a, b: a @ _unit(b).T, "rows of b but not"),
    Wrong("transposed", lambda a, b: _unit(b) @ _unit(a).T, "transposed"),
    Wrong("axis 0", lambda a, b: _unit(a, 0) @ _unit(b, 0).T, "wrong axis"),
    Wrong("distance", lambda a, b: 1 - _unit(a) @ _unit(b).T, "distance"),
    Wrong(
        "squared norms",
        lambda a, b: (
            (a / a.norm(dim=1, keepdim=True) ** 2)
            @ (b / b.norm(dim=1, keepdim=True) ** 2).T
        ),
        "gives wrong values|outside",
    ),
    Wrong(
        "absolute value",
        lambda a, b: (_unit(a) @ _unit(b).T).abs(),
        "gives wrong values",
    ),
    Wrong("ignores b", lambda a, b: _unit(a) @ _unit(a).T, r"\[n, m\]"),
    Wrong("hard-coded", _hard_coded_cosine, r"\[n, m\]"),
]


def test_cosine_rejects_wrong_answers():
    assert_rejects(ch02.check_cosine_similarity_matrix, COSINE_WRONG)


def _by_word_text(text, tokenizer):
    counts = {}
    encoding = tokenizer(text)
    for i in encoding.word_ids():
        if i is not None:
            word = text[slice(*encoding.word_to_chars(i))]
            counts[word] = counts.get(word, 0) + 1
    return list(counts.values())


def _hard_coded_pieces(text, tokenizer):
    answers = {
        t: ch02._reference_pieces(t, tokenizer) for t in ch02.PIECES_TEXTS[:4]
    }
    return answers.get(text, [1] * len(text.split()))


PIECES_WRONG = [
    Wrong("specials", _with_specials, r"special tokens \[CLS\]"),
    Wrong("only ##", _only_continuations, "continuation"),
    Wrong("spaces", _by_spaces, "on spaces"),
    Wrong("characters", lambda t, tok: [len(w) for w in t.split()], "charac"),
    Wrong("by word text", _by_word_text, "repeated word"),
    Wrong("sorted", lambda t, tok: sorted(sol.pieces_per_word(t, tok)), "wro"),
    Wrong(
        "last word dropped",
        lambda t, tok: sol.pieces_per_word(t, tok)[:-1],
        "counts, but the tokenizer sees",
    ),
    Wrong("hard-coded", _hard_coded_pieces, "wrong counts|counts, but"),
    Wrong(
        "whole text's tokens",
        lambda t, tok: [len(tok.tokenize(t))],
        "counts, but the tokenizer sees|wrong counts",
    ),
]


def test_pieces_rejects_wrong_answers():
    assert_rejects(
        ch02.check_pieces_per_word,
        PIECES_WRONG,
        call=lambda answer: ch02.check_pieces_per_word(answer),
    )


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    extra=st.integers(0, 3),
    left=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_the_checkers_reference_is_the_course_mean_pool(
    lengths, extra, left, seed
):
    """On any padded batch, the reference the checker compares with equals
    course_utils.embeddings.mean_pool (tested against sentence-transformers).
    """
    from course_utils.embeddings import mean_pool

    t = max(lengths) + extra
    hidden = torch.randn(len(lengths), t, 3, generator=ch02._gen(seed))
    mask = ch02._mask(lengths, t, left)
    torch.testing.assert_close(
        ch02._reference_mean_pool(hidden, mask), mean_pool(hidden, mask)
    )
