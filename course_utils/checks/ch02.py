"""Checkers for the exercises of chapter 2 (tokens, embeddings, sentence
similarity).

Each checker runs the student's function on small cases whose answers it
computes independently (``course_utils.embeddings``, which the tests check
against sentence-transformers, or the tokenizer's own ``word_ids()``) and, when
the answer is wrong, recognises the usual mistakes by comparing it with what
each typical wrong answer would produce.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ..embeddings import cosine_similarity_matrix as _reference_cosine
from ..embeddings import mean_pool as _reference_mean_pool
from . import as_tensor, call_student, fail, passed, tensors_close

ATOL = 1e-5


_as_tensor = as_tensor
# atol 1e-5 / rtol 1e-4: masked means and cosines are sums of <= 7 float32 terms
_close = tensors_close


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _shape(t: torch.Tensor) -> tuple:
    return tuple(t.shape)


# ------------------------------------------------------------------------------
# Mean pooling with an attention mask
# ------------------------------------------------------------------------------


def _mean_pool_cases():
    """(hidden [B, T, D], mask [B, T]) pairs; B, T and D all differ so that a
    wrong axis shows in the shape.
    """
    hidden = torch.randn(2, 5, 3, generator=_gen(0))
    mask = torch.tensor(
        [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    )  # row 0 is padded, row 1 is not
    yield hidden, mask
    hidden = torch.randn(3, 6, 4, generator=_gen(1)) * 2 + 1
    mask = torch.tensor(
        [[1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]]
    ).float()
    yield hidden, mask
    hidden = torch.randn(1, 4, 7, generator=_gen(2))
    mask = torch.tensor([[1, 1, 1, 1]])
    yield hidden, mask


def _mean_pool_mistakes(hidden, mask) -> dict[str, torch.Tensor]:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    masked_sum = (hidden * m).sum(dim=1)
    correct = masked_sum / m.sum(dim=1)
    return {
        "padding": hidden.mean(dim=1),
        "padded length": masked_sum / hidden.shape[1],
        "no division": masked_sum,
        "normalised": torch.nn.functional.normalize(correct, dim=-1),
        "first token": hidden[:, 0],
    }


_MEAN_POOL_MESSAGES = {
    "padding": "you averaged over padding tokens too: multiply by the mask and "
    "divide by the number of real "
    "tokens, mask.sum(dim=1).",
    "padded length": "you zeroed the padding but divided by the padded length: "
    "divide by the number of real "
    "tokens of each sentence, mask.sum(dim=1), not by hidden.shape[1].",
    "no division": "you summed the real token vectors but did not divide: "
    "divide by the number of real "
    "tokens, mask.sum(dim=1) (keep its last axis so it broadcasts over dim).",
    "normalised": "you normalised the pooled vectors to length 1: mean_pool "
    "should return the plain average; "
    "normalising is a separate step.",
    "first token": (
        "you returned the first ([CLS]) token's vector: average the "
        "vectors of all real tokens instead."
    ),
}


def check_mean_pool(mean_pool) -> None:
    """Check ``mean_pool(hidden [B, T, D], mask [B, T]) -> [B, D]`` on padded
    and unpadded batches.
    """
    for hidden, mask in _mean_pool_cases():
        B, T, D = hidden.shape
        h_in, m_in = hidden.clone(), mask.clone()
        result = _as_tensor(
            call_student(mean_pool, h_in, m_in, name="mean_pool"), "mean_pool"
        )
        if not (torch.equal(h_in, hidden) and torch.equal(m_in, mask)):
            fail(
                "mean_pool changed its inputs in place: compute on new tensors "
                "(hidden * mask, not hidden *= mask)."
            )
        shape = _shape(result)
        if shape != (B, D):
            if shape == (B, T):
                fail(
                    "you pooled over the wrong axis: you averaged over the "
                    "hidden dimension and got [batch, seq] "
                    f"= {shape}; average over the tokens, dim=1, to get "
                    f"[batch, dim] = {(B, D)}."
                )
            if shape == (T, D):
                fail(
                    "you pooled over the wrong axis: you averaged over the "
                    "batch (dim=0) and got [seq, dim] "
                    f"= {shape}; average over the tokens, dim=1, to get "
                    f"[batch, dim] = {(B, D)}."
                )
            if shape in {(B, 1, D), (B, D, 1)}:
                fail(
                    f"your output has shape {shape} with an extra axis of size "
                    f"1: return [batch, dim] = {(B, D)} "
                    "(sum over dim=1 without keepdim, or squeeze the extra "
                    "axis)."
                )
            fail(
                f"mean_pool should return [batch, dim] = {(B, D)} for hidden "
                f"states of shape {(B, T, D)}, "
                f"but returned shape {shape}."
            )
        expected = _reference_mean_pool(hidden, mask)
        if _close(result, expected):
            continue
        if not torch.isfinite(result).all():
            fail(
                "your result contains NaN or inf: divide by the number of real "
                "tokens of each sentence "
                "(at least 1 here), not by something that can be 0."
            )
        for name, value in _mean_pool_mistakes(hidden, mask).items():
            if _close(result, value):
                fail(_MEAN_POOL_MESSAGES[name])
        fail(
            "mean_pool gives wrong values for hidden states of shape "
            f"{(B, T, D)} with mask {mask.tolist()}: "
            "row b should be the sum of hidden[b, t] over the real tokens t "
            "(mask 1) divided by their number."
        )
    passed("mean_pool")


# ------------------------------------------------------------------------------
# Cosine-similarity matrix
# ------------------------------------------------------------------------------


def _cosine_cases():
    """(a [n, d], b [m, d]) pairs with rows of very different lengths, so a dot
    product is not a cosine.
    """
    g = _gen(10)
    a = torch.randn(3, 5, generator=g) * torch.tensor([[0.5], [2.0], [4.0]])
    b = torch.randn(4, 5, generator=g) * torch.tensor(
        [[3.0], [0.2], [1.0], [6.0]]
    )
    yield a, b
    g = _gen(11)
    a = torch.randn(2, 6, generator=g) * 3
    b = torch.randn(5, 6, generator=g) + 1
    yield a, b
    a = torch.randn(4, 3, generator=_gen(12)) * torch.tensor(
        [[1.0], [5.0], [0.3], [2.0]]
    )
    yield a, a.clone()  # a set with itself: the diagonal must be 1


def _cosine_mistakes(a, b) -> dict[str, torch.Tensor]:
    a_unit = a / a.norm(dim=1, keepdim=True)
    b_unit = b / b.norm(dim=1, keepdim=True)
    return {
        "dot product": a @ b.T,
        "only a": a_unit @ b.T,
        "only b": a @ b_unit.T,
        "wrong axis": (a / a.norm(dim=0, keepdim=True))
        @ (b / b.norm(dim=0, keepdim=True)).T,
        "distance": 1 - a_unit @ b_unit.T,
    }


_COSINE_MESSAGES = {
    "dot product": "your vectors are not normalised, so you returned the dot "
    "product: divide each row of a and "
    "of b by its length (a.norm(dim=1, keepdim=True)) before multiplying.",
    "only a": (
        "you normalised the rows of a but not those of b: normalise both "
        "sets before the matrix product."
    ),
    "only b": (
        "you normalised the rows of b but not those of a: normalise both "
        "sets before the matrix product."
    ),
    "wrong axis": "you normalised along the wrong axis: each row is one "
    "vector, so divide it by its own length, "
    "the norm over dim=1 (keepdim=True), not over dim=0.",
    "distance": (
        "you returned the cosine distance 1 - cos: return the "
        "similarity itself."
    ),
}


def check_cosine_similarity_matrix(cosine_similarity_matrix) -> None:
    """Check ``cosine_similarity_matrix(a [n, d], b [m, d]) -> [n, m]``."""
    for a, b in _cosine_cases():
        n, m = a.shape[0], b.shape[0]
        a_in, b_in = a.clone(), b.clone()
        result = _as_tensor(
            call_student(
                cosine_similarity_matrix,
                a_in,
                b_in,
                name="cosine_similarity_matrix",
            ),
            "cosine_similarity_matrix",
        )
        if not (torch.equal(a_in, a) and torch.equal(b_in, b)):
            fail(
                "cosine_similarity_matrix changed its inputs in place: "
                "normalise into new tensors "
                "(a / norm, not a /= norm)."
            )
        expected = _reference_cosine(a, b)
        if _shape(result) != (n, m):
            if n != m and _close(result, expected.T):
                fail(
                    "your result is transposed: entry (i, j) must compare row "
                    "i of a with row j of b, so the "
                    f"shape is [n, m] = {(n, m)}; compute a_unit @ b_unit.T."
                )
            fail(
                f"cosine_similarity_matrix should return [n, m] = {(n, m)} for "
                f"a of shape {_shape(a)} and "
                f"b of shape {_shape(b)}, but returned shape {_shape(result)}."
            )
        if _close(result, expected):
            continue
        for name, value in _cosine_mistakes(a, b).items():
            if _close(result, value, atol=1e-4):
                fail(_COSINE_MESSAGES[name])
        if (result.abs() > 1 + 1e-4).any():
            fail(
                "some of your values lie outside [-1, 1], which a cosine "
                "cannot: check the normalisation."
            )
        fail(
            "cosine_similarity_matrix gives wrong values for a of shape "
            f"{_shape(a)} and b of shape {_shape(b)}: "
            f"entry (i, j) should be a[i] . b[j] / (|a[i]| |b[j]|)."
        )
    passed("cosine_similarity_matrix")


# ------------------------------------------------------------------------------
# WordPiece pieces per word
# ------------------------------------------------------------------------------

PIECES_TEXTS = [
    "Tokenization isn't unbelievable!",
    "The aardwolf eats termites, mostly at night.",
    "Hello world",
    "Transformers (2017) changed NLP.",
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


def _as_counts(result, what: str) -> list[int]:
    if isinstance(result, dict):
        fail(
            f"{what} returned a dict; return a list with one count per word, "
            "in the order of the words."
        )
    if isinstance(result, torch.Tensor):
        result = result.tolist()
    try:
        counts = list(result)
    except TypeError:
        fail(
            f"{what} returned a value of type {type(result).__name__}; return "
            "a list of integers, one per word."
        )
    if any(isinstance(c, (list, tuple)) for c in counts):
        fail(
            f"{what} returned a list of lists (the pieces themselves?); return "
            "how many pieces each word has, "
            f"e.g. [1, 3, 1]."
        )
    try:
        return [int(c) for c in counts]
    except (TypeError, ValueError):
        fail(
            f"{what} returned {counts!r}; return a list of integers, one per "
            "word."
        )


def check_pieces_per_word(pieces_per_word, tokenizer=None) -> None:
    """Check ``pieces_per_word(text, tokenizer) -> list[int]`` (WordPiece tokens
    per word, specials excluded).
    """
    tokenizer = tokenizer or _tokenizer()
    for text in PIECES_TEXTS:
        result = _as_counts(
            call_student(
                pieces_per_word, text, tokenizer, name="pieces_per_word"
            ),
            "pieces_per_word",
        )
        expected = _reference_pieces(text, tokenizer)
        if result == expected:
            continue
        if sum(result) == sum(expected) + 2:
            fail(
                "you counted the special tokens [CLS] and [SEP] (for "
                f"{text!r}): skip the tokens whose word id "
                f"is None."
            )
        if result == [c - 1 for c in expected]:
            fail(
                "you counted only the ## continuation pieces: count every "
                "piece of a word, including the first "
                "one, which has no ##."
            )
        by_spaces = [len(tokenizer.tokenize(w)) for w in text.split()]
        if result == by_spaces and by_spaces != expected:
            fail(
                f"you split {text!r} on spaces, so punctuation stays glued to "
                "its word: use the encoding's "
                "word_ids(), in which each punctuation mark is a word of its "
                "own."
            )
        if result == [len(w) for w in text.split()]:
            fail(
                "you counted characters, not WordPiece tokens: count the "
                "tokens whose word id is each word."
            )
        if len(result) != len(expected):
            fail(
                f"for {text!r} you returned {len(result)} counts, but the "
                f"tokenizer sees {len(expected)} words "
                f"(group the tokens by word_ids(), skipping None)."
            )
        fail(
            f"wrong counts for {text!r}: the tokens are "
            f"{tokenizer.tokenize(text)}, so the pieces per word "
            f"are {expected}, not {result}."
        )
    passed("pieces_per_word")
