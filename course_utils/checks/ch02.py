"""Checkers for the exercises of chapter 2 (tokens, embeddings, sentence
similarity).

Each checker first decides right or wrong by comparing the student's function
with the reference (``course_utils.embeddings``, which the tests check against
sentence-transformers, or the tokenizer's own ``word_ids()``) on fixed cases
and on inputs from a seeded generator (padding on either side, one token, one
row, repeats, large and small scales). Only then does it name a mistake, and
only when that mistake, written as a function, gives the student's output on
every case; otherwise it says on which input the results differ.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F

from . import (
    Case,
    as_tensor,
    call_student,
    compare_with_reference,
    fail,
    passed,
    tensors_close,
)

ATOL = 1e-5

_as_tensor = as_tensor
# atol 1e-5 / rtol 1e-4: masked means and cosines are sums of <= 7 float32 terms
_close = tensors_close


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _shape(t: torch.Tensor) -> tuple:
    return tuple(t.shape)


def _same_tensor(expected, got) -> bool:
    """``got`` is a tensor (or array) equal to ``expected`` within the
    float32 tolerance.
    """
    try:
        got = as_tensor(got, "")
    except Exception:  # not a tensor: the explanation says so
        return False
    return _close(expected, got)


def _first_difference(expected: torch.Tensor, got: torch.Tensor) -> str:
    """``at [1, 0] expected 0.25, got 0.5``: the largest difference."""
    diff = (expected.double() - got.double()).abs()
    diff = torch.where(diff.isnan(), torch.inf, diff)
    index = tuple(int(i) for i in torch.nonzero(diff == diff.max())[0])
    return (
        f"at {list(index)} expected {expected[index].item():.4g}, got "
        f"{got[index].item():.4g}"
    )


# ------------------------------------------------------------------------------
# Mean pooling with an attention mask
# ------------------------------------------------------------------------------


def _reference_mean_pool(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(dim=1) / m.sum(dim=1)


def _mask(lengths, length: int, left: bool, dtype=torch.long):
    """A padding mask: row b has ``lengths[b]`` ones, on the left (right
    padding) or on the right (left padding).
    """
    rows = []
    for n in lengths:
        row = [1] * n + [0] * (length - n)
        rows.append(row[::-1] if left else row)
    return torch.tensor(rows, dtype=dtype)


def _mean_pool_cases() -> list[Case]:
    """Right- and left-padded batches, a mask with a hole, unpadded rows, one
    token, one row, large values; then random batches.
    """
    g = _gen(0)
    fixed = [
        ("two sentences, the first right-padded", (2, 5, 3), [3, 5], False),
        ("three sentences, right-padded", (3, 6, 4), [2, 5, 6], False),
        ("one unpadded sentence", (1, 4, 7), [4], False),
        ("two sentences, the first left-padded", (2, 5, 3), [3, 5], True),
        ("three sentences, left-padded", (3, 6, 4), [1, 4, 6], True),
        ("one sentence of one token", (1, 1, 3), [1], False),
    ]
    cases = []
    for label, shape, lengths, left in fixed:
        hidden = torch.randn(*shape, generator=g) * 2 + 1
        cases.append(Case(label, (hidden, _mask(lengths, shape[1], left))))
    hole = torch.tensor([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1]]).float()
    cases.append(
        Case(
            "a float mask with gaps inside the sentences",
            (torch.randn(2, 5, 3, generator=g), hole),
        )
    )
    cases.append(
        Case(
            "large values (about 1e4), left-padded",
            (torch.randn(2, 4, 3, generator=g) * 1e4, _mask([2, 4], 4, True)),
        )
    )
    for i in range(10):
        b, t, d = (int(x) for x in torch.randint(1, 7, (3,), generator=g))
        lengths = torch.randint(1, t + 1, (b,), generator=g).tolist()
        left = i % 2 == 1
        dtype = torch.float32 if i % 3 == 0 else torch.long
        side = "left" if left else "right"
        cases.append(
            Case(
                f"a random batch of shape {(b, t, d)}, {side}-padded, "
                f"lengths {lengths}",
                (
                    torch.randn(b, t, d, generator=g),
                    _mask(lengths, t, left, dtype),
                ),
            )
        )
    return cases


def _masked_sum(hidden, mask):
    return (hidden * mask.unsqueeze(-1).to(hidden.dtype)).sum(dim=1)


def _first_tokens_pool(hidden, mask):
    """The issue's example: the mean of the first mask.sum() tokens, right
    only when the padding is on the right.
    """
    rows = [h[: int(n)].mean(dim=0) for h, n in zip(hidden, mask.sum(dim=1))]
    return torch.stack(rows)


_MEAN_POOL_DIAGNOSES = [
    (
        "you averaged over padding tokens too: multiply by the mask and "
        "divide by the number of real tokens, mask.sum(dim=1).",
        lambda h, m: h.mean(dim=1),
    ),
    (
        "you averaged the first mask.sum() tokens of each sentence, which is "
        "right only when the padding is on the right: weight every token by "
        "its mask value, (hidden * mask[..., None]).sum(1) / mask.sum(1), so "
        "that left padding works too.",
        _first_tokens_pool,
    ),
    (
        "you zeroed the padding but divided by the padded length: divide by "
        "the number of real tokens of each sentence, mask.sum(dim=1), not by "
        "hidden.shape[1].",
        lambda h, m: _masked_sum(h, m) / h.shape[1],
    ),
    (
        "you summed the real token vectors but did not divide: divide by the "
        "number of real tokens, mask.sum(dim=1) (keep its last axis so it "
        "broadcasts over dim).",
        _masked_sum,
    ),
    (
        "you normalised the pooled vectors to length 1: mean_pool should "
        "return the plain average; normalising is a separate step.",
        lambda h, m: F.normalize(_reference_mean_pool(h, m), dim=-1),
    ),
    (
        "you returned the first ([CLS]) token's vector: average the vectors "
        "of all real tokens instead.",
        lambda h, m: h[:, 0],
    ),
    (
        "you pooled over the wrong axis: you averaged over the hidden "
        "dimension and got [batch, seq]; average over the tokens, dim=1, to "
        "get [batch, dim].",
        lambda h, m: (
            (h * m.unsqueeze(-1)).sum(dim=2) / m.sum(dim=1, keepdim=True)
        ),
    ),
    (
        "you pooled over the wrong axis: you averaged over the batch (dim=0) "
        "and got [seq, dim]; average over the tokens, dim=1, to get "
        "[batch, dim].",
        lambda h, m: (h * m.unsqueeze(-1)).mean(dim=0),
    ),
    (
        "your output has an extra axis of size 1: return [batch, dim] (sum "
        "over dim=1 without keepdim, or squeeze the extra axis).",
        lambda h, m: _reference_mean_pool(h, m).unsqueeze(1),
    ),
]


def _explain_mean_pool(case, args, expected, got) -> str:
    """What is wrong with the student's pooled vectors on one batch."""
    hidden, mask = case.args
    result = as_tensor(got, "mean_pool")
    if _shape(result) != _shape(expected):
        return (
            f"mean_pool should return [batch, dim] = {_shape(expected)} for "
            f"hidden states of shape {_shape(hidden)} ({case.label}), but "
            f"returned shape {_shape(result)}."
        )
    if not torch.isfinite(result).all():
        return (
            f"your result contains NaN or inf on {case.label}: divide by the "
            "number of real tokens of each sentence (at least 1 here), not by "
            "something that can be 0."
        )
    return (
        f"mean_pool gives wrong values on {case.label} (mask "
        f"{mask.int().tolist()}): {_first_difference(expected, result)}; row "
        "b should be the sum of hidden[b, t] over the real tokens t (mask 1) "
        "divided by their number."
    )


def check_mean_pool(mean_pool) -> None:
    """Check ``mean_pool(hidden [B, T, D], mask [B, T]) -> [B, D]`` on padded
    and unpadded batches.
    """
    cases = _mean_pool_cases()
    h_in, m_in = (t.clone() for t in cases[0].args)
    call_student(mean_pool, h_in, m_in, name="mean_pool")
    if not all(map(torch.equal, (h_in, m_in), cases[0].args)):
        fail(
            "mean_pool changed its inputs in place: compute on new tensors "
            "(hidden * mask, not hidden *= mask)."
        )
    compare_with_reference(
        mean_pool,
        _reference_mean_pool,
        cases,
        name="mean_pool",
        diagnoses=_MEAN_POOL_DIAGNOSES,
        same=_same_tensor,
        explain=_explain_mean_pool,
    )
    passed("mean_pool")


# ------------------------------------------------------------------------------
# Cosine-similarity matrix
# ------------------------------------------------------------------------------


def _reference_cosine(a, b):
    return _unit(a) @ _unit(b).T


def _unit(x, dim=1):
    return x / x.norm(dim=dim, keepdim=True)


def _cosine_cases() -> list[Case]:
    """Rows of very different lengths (a dot product is not a cosine), a set
    with itself, parallel and opposite rows, one row, one feature, float64;
    then random pairs.
    """
    g = _gen(10)
    scales_a = torch.tensor([[0.5], [2.0], [4.0]])
    scales_b = torch.tensor([[3.0], [0.2], [1.0], [6.0]])
    a = torch.randn(4, 3, generator=g) * torch.tensor(
        [[1.0], [5.0], [0.3], [2.0]]
    )
    row = torch.randn(1, 5, generator=g)
    cases = [
        Case(
            "a [3, 5] and b [4, 5] with rows of different lengths",
            (
                torch.randn(3, 5, generator=g) * scales_a,
                torch.randn(4, 5, generator=g) * scales_b,
            ),
        ),
        Case(
            "a [2, 6] and b [5, 6]",
            (
                torch.randn(2, 6, generator=g) * 3,
                torch.randn(5, 6, generator=g) + 1,
            ),
        ),
        Case("a set [4, 3] with itself", (a, a.clone())),
        Case(
            "parallel and opposite rows (cosines 1 and -1)",
            (torch.cat([row, -3 * row]), torch.cat([2 * row, row, -row])),
        ),
        Case(
            "one row each, one feature",
            (torch.tensor([[-2.0]]), torch.tensor([[0.5]])),
        ),
        Case(
            "large and small rows (1e3 and 1e-3)",
            (
                torch.randn(2, 4, generator=g) * torch.tensor([[1e3], [1e-3]]),
                torch.randn(3, 4, generator=g) * 1e-3,
            ),
        ),
        Case(
            "float64 inputs [3, 2] and [2, 2]",
            (
                torch.randn(3, 2, generator=g, dtype=torch.float64),
                torch.randn(2, 2, generator=g, dtype=torch.float64),
            ),
        ),
    ]
    for _ in range(6):
        n, m, d = (int(x) for x in torch.randint(1, 7, (3,), generator=g))
        scale = torch.rand(n, 1, generator=g) * 5 + 0.1
        cases.append(
            Case(
                f"random a [{n}, {d}] and b [{m}, {d}]",
                (
                    torch.randn(n, d, generator=g) * scale,
                    torch.randn(m, d, generator=g),
                ),
            )
        )
    return cases


_COSINE_DIAGNOSES = [
    (
        "your vectors are not normalised, so you returned the dot product: "
        "divide each row of a and of b by its length "
        "(a.norm(dim=1, keepdim=True)) before multiplying.",
        lambda a, b: a @ b.T,
    ),
    (
        "you normalised the rows of a but not those of b: normalise both sets "
        "before the matrix product.",
        lambda a, b: _unit(a) @ b.T,
    ),
    (
        "you normalised the rows of b but not those of a: normalise both sets "
        "before the matrix product.",
        lambda a, b: a @ _unit(b).T,
    ),
    (
        "your result is transposed: entry (i, j) must compare row i of a with "
        "row j of b, so the shape is [n, m]; compute a_unit @ b_unit.T.",
        lambda a, b: _reference_cosine(b, a),
    ),
    (
        "you normalised along the wrong axis: each row is one vector, so "
        "divide it by its own length, the norm over dim=1 (keepdim=True), not "
        "over dim=0.",
        lambda a, b: _unit(a, 0) @ _unit(b, 0).T,
    ),
    (
        "you returned the cosine distance 1 - cos: return the similarity "
        "itself.",
        lambda a, b: 1 - _reference_cosine(a, b),
    ),
]


def _explain_cosine(case, args, expected, got) -> str:
    """What is wrong with the student's matrix on one pair of sets."""
    a, b = case.args
    result = as_tensor(got, "cosine_similarity_matrix")
    if _shape(result) != _shape(expected):
        return (
            f"cosine_similarity_matrix should return [n, m] = "
            f"{_shape(expected)} for a of shape {_shape(a)} and b of shape "
            f"{_shape(b)}, but returned shape {_shape(result)}."
        )
    if (result.abs() > 1 + 1e-4).any():
        return (
            f"some of your values lie outside [-1, 1] ({case.label}), which "
            "a cosine cannot: check the normalisation."
        )
    return (
        f"cosine_similarity_matrix gives wrong values for {case.label}: "
        f"{_first_difference(expected, result)}; entry (i, j) should be "
        "a[i] . b[j] / (|a[i]| |b[j]|)."
    )


def check_cosine_similarity_matrix(cosine_similarity_matrix) -> None:
    """Check ``cosine_similarity_matrix(a [n, d], b [m, d]) -> [n, m]``."""
    name = "cosine_similarity_matrix"
    cases = _cosine_cases()
    a_in, b_in = (t.clone() for t in cases[0].args)
    call_student(cosine_similarity_matrix, a_in, b_in, name=name)
    if not all(map(torch.equal, (a_in, b_in), cases[0].args)):
        fail(
            "cosine_similarity_matrix changed its inputs in place: normalise "
            "into new tensors (a / norm, not a /= norm)."
        )
    compare_with_reference(
        cosine_similarity_matrix,
        _reference_cosine,
        cases,
        name=name,
        diagnoses=_COSINE_DIAGNOSES,
        same=_same_tensor,
        explain=_explain_cosine,
    )
    passed(name)


# ------------------------------------------------------------------------------
# WordPiece pieces per word
# ------------------------------------------------------------------------------

PIECES_TEXTS = [
    "Tokenization isn't unbelievable!",
    "The aardwolf eats termites, mostly at night.",
    "Hello world",
    "Transformers (2017) changed NLP.",
    "the cat and the cat",  # a word repeated: count each occurrence
    "Électroencéphalographie",  # one long word, accents
    "!",
    "",
]
_PIECES_WORDS = [
    "the",
    "cat",
    "unbelievable",
    "aardwolf",
    "isn't",
    "Ouagadougou",
    "2017",
    "3.14",
    "(NLP)",
    "e-mail",
    "naïve",
    "...",
    "tokenization",
    "a",
]


@lru_cache(maxsize=1)
def _tokenizer():
    from transformers import AutoTokenizer

    from ..assets import resolve_checkpoint

    return AutoTokenizer.from_pretrained(resolve_checkpoint("all-MiniLM-L6-v2"))


def _reference_pieces(text: str, tokenizer) -> list[int]:
    counts: dict[int, int] = {}
    for word in tokenizer(text).word_ids():
        if word is not None:
            counts[word] = counts.get(word, 0) + 1
    return [counts[w] for w in sorted(counts)]


def _pieces_cases() -> list[Case]:
    """The fixed texts (punctuation, numbers, repeats, one word, one mark,
    nothing), then random texts from a pool of common and rare words.
    """
    import random

    cases = [Case(repr(text), (text,)) for text in PIECES_TEXTS]
    rng = random.Random(0)
    for _ in range(8):
        words = rng.choices(_PIECES_WORDS, k=rng.randint(1, 8))
        text = rng.choice([" ", "  "]).join(words)
        cases.append(Case(repr(text), (text,)))
    return cases


def _as_counts(result):
    """The student's counts as a list of ints, or None if they are not."""
    if isinstance(result, dict):
        return None
    if isinstance(result, torch.Tensor):
        result = result.tolist()
    try:
        counts = list(result)
        if any(isinstance(c, (list, tuple, str)) for c in counts):
            return None
        return [int(c) for c in counts]
    except (TypeError, ValueError):
        return None


def _pieces_type_message(result, what: str) -> str:
    """The sentence for a result that is not a list of integers."""
    if isinstance(result, dict):
        return (
            f"{what} returned a dict; return a list with one count per word, "
            "in the order of the words."
        )
    try:
        counts = list(result)
    except TypeError:
        return (
            f"{what} returned a value of type {type(result).__name__}; return "
            "a list of integers, one per word."
        )
    if any(isinstance(c, (list, tuple)) for c in counts):
        return (
            f"{what} returned a list of lists (the pieces themselves?); return "
            "how many pieces each word has, e.g. [1, 3, 1]."
        )
    return (
        f"{what} returned {counts!r}; return a list of integers, one per word."
    )


def _with_specials(text, tokenizer):
    """[CLS] and [SEP] counted as one more word (their word id None)."""
    counts: dict = {}
    for word in tokenizer(text).word_ids():
        counts[word] = counts.get(word, 0) + 1
    return list(counts.values())


def _pieces_diagnoses(tokenizer) -> list:
    """(message, mistaken function of the text) for the usual mistakes."""

    def ref(text):
        return _reference_pieces(text, tokenizer)

    specials = (
        "you counted the special tokens [CLS] and [SEP]: skip the tokens whose "
        "word id is None."
    )
    return [
        (specials, lambda t: _with_specials(t, tokenizer)),
        (specials, lambda t: [1, *ref(t), 1]),
        (
            "you counted only the ## continuation pieces: count every piece "
            "of a word, including the first one, which has no ##.",
            lambda t: [c - 1 for c in ref(t)],
        ),
        (
            "you split the text on spaces, so punctuation stays glued to its "
            "word: use the encoding's word_ids(), in which each punctuation "
            "mark is a word of its own.",
            lambda t: [len(tokenizer.tokenize(w)) for w in t.split()],
        ),
        (
            "you counted characters, not WordPiece tokens: count the tokens "
            "whose word id is each word.",
            lambda t: [len(w) for w in t.split()],
        ),
        (
            "you grouped the pieces by the word's text, so a repeated word "
            "counts once: group them by word id (the position of the word), "
            "as word_ids() gives it.",
            lambda t: _by_word_text(t, tokenizer),
        ),
    ]


def _by_word_text(text, tokenizer):
    encoding = tokenizer(text)
    counts: dict = {}
    for i in encoding.word_ids():
        if i is not None:
            start, end = encoding.word_to_chars(i)
            counts[text[start:end]] = counts.get(text[start:end], 0) + 1
    return list(counts.values())


def check_pieces_per_word(pieces_per_word, tokenizer=None) -> None:
    """Check ``pieces_per_word(text, tokenizer) -> list[int]`` (WordPiece tokens
    per word, specials excluded).
    """
    tokenizer = tokenizer or _tokenizer()
    name = "pieces_per_word"

    def explain(case, args, expected, got):
        text = case.args[0]
        counts = _as_counts(got)
        if counts is None:
            return _pieces_type_message(got, name)
        if len(counts) != len(expected):
            return (
                f"for {text!r} you returned {len(counts)} counts, but the "
                f"tokenizer sees {len(expected)} words (group the tokens by "
                "word_ids(), skipping None)."
            )
        return (
            f"wrong counts for {text!r}: the tokens are "
            f"{tokenizer.tokenize(text)}, so the pieces per word are "
            f"{expected}, not {counts}."
        )

    # the tokenizer is bound, not copied: a deep copy of it for every call
    # would cost seconds
    compare_with_reference(
        lambda text: pieces_per_word(text, tokenizer),
        lambda text: _reference_pieces(text, tokenizer),
        _pieces_cases(),
        name=name,
        diagnoses=_pieces_diagnoses(tokenizer),
        same=lambda expected, got: _as_counts(got) == expected,
        explain=explain,
    )
    passed(name)
