"""Chapter 3 checkers: the solutions pass, each diagnosed mistake fails with its
message, stubs say "not written yet".
"""

import math

import pytest
import torch

from course_utils.checks import ch03
from course_utils.errors import CheckFailed
from solutions import ch03_transformer as sol


def stub(*args, **kwargs):
    raise NotImplementedError


def make_attention(scale="sqrt_dk", dim=-1, mask_mode="fill", diagonal=False):
    """A scaled dot-product attention with one deliberate mistake."""

    def attention(q, k, v, mask=None):
        if diagonal:
            # [..., L, 1]
            scores = (q * k).sum(-1, keepdim=True) / math.sqrt(q.shape[-1])
            weights = scores.softmax(-1)
            return weights * v, weights
        raw = q @ k.transpose(-2, -1)
        divisor = {
            "sqrt_dk": math.sqrt(q.shape[-1]),
            "none": 1.0,
            "dk": q.shape[-1],
            "length": k.shape[-2],
            "sqrt_length": math.sqrt(k.shape[-2]),
        }[scale]
        scores = raw / divisor
        if mask is not None and mask_mode == "fill":
            scores = scores.masked_fill(~mask, float("-inf"))
        elif mask is not None and mask_mode == "inverted":
            scores = scores.masked_fill(mask, float("-inf"))
        elif mask is not None and mask_mode == "zero":
            scores = scores.masked_fill(~mask, 0.0)
        weights = scores.softmax(dim=dim)
        if mask is not None and mask_mode == "after":
            weights = weights * mask
        return weights @ v, weights

    return attention


def test_attention_solution_passes(capsys):
    ch03.check_scaled_dot_product_attention(sol.scaled_dot_product_attention)
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (make_attention(scale="none"), "not scaled"),
        (
            make_attention(scale="dk"),
            "divided the scores by d_k; divide by its square root",
        ),
        (
            make_attention(scale="length"),
            "scaled the scores by the sequence length",
        ),
        (
            make_attention(scale="sqrt_length"),
            "square root of the sequence length",
        ),
        (make_attention(dim=-2), "softmax runs over the wrong axis"),
        (make_attention(diagonal=True), "only the diagonal of Q K\\^T"),
        (make_attention(mask_mode="ignored"), "mask is ignored"),
        (make_attention(mask_mode="inverted"), "mask is inverted"),
        (make_attention(mask_mode="zero"), "set the masked scores to 0"),
        (
            make_attention(mask_mode="after"),
            "applied the mask after the softmax",
        ),
    ],
)
def test_attention_mistakes_are_diagnosed(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch03.check_scaled_dot_product_attention(wrong)


def test_attention_other_failures():
    with pytest.raises(CheckFailed, match="not written yet"):
        ch03.check_scaled_dot_product_attention(stub)
    with pytest.raises(CheckFailed, match="returned one tensor"):
        ch03.check_scaled_dot_product_attention(
            lambda q, k, v, mask=None: sol.scaled_dot_product_attention(
                q, k, v, mask
            )[0]
        )

    # k.transpose(1, 2) works for [B, T, d] but not with a heads dimension
    def transposed_1_2(q, k, v, mask=None):
        w = (q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])).softmax(-1)
        return w @ v, w

    with pytest.raises(CheckFailed, match="heads dimension"):
        ch03.check_scaled_dot_product_attention(transposed_1_2)


def test_causal_mask():
    ch03.check_causal_mask(sol.causal_mask)
    cases = [
        (
            lambda n: torch.ones(n, n, dtype=torch.bool).triu(),
            "position 2 can see position 3",
        ),
        (lambda n: torch.ones(n, n, dtype=torch.bool).triu(1), "inverted"),
        (
            lambda n: torch.ones(n, n, dtype=torch.bool).tril(-1),
            "diagonal is masked: a token must see itself",
        ),
        (
            lambda n: torch.ones(n, n, dtype=torch.bool),
            "position 2 can see position 3",
        ),
        (
            lambda n: (
                torch.ones(n, n, dtype=torch.bool).tril()
                & torch.ones(n, n, dtype=torch.bool).triu(-1)
            ),
            "cannot see the earlier position",
        ),
        (lambda n: torch.ones(n, n).tril(), "boolean tensor"),
        (
            lambda n: torch.zeros(n, n).masked_fill(
                torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf")
            ),
            "additive",
        ),
        (
            lambda n: torch.ones(n, n + 1, dtype=torch.bool).tril(),
            "should be \\[4, 4\\]",
        ),
        (
            lambda n: torch.ones(n, n, dtype=torch.bool).tril().tolist(),
            "return a torch tensor",
        ),
        (stub, "not written yet"),
    ]
    for wrong, message in cases:
        with pytest.raises(CheckFailed, match=message):
            ch03.check_causal_mask(wrong)


def test_causal_mask_message_names_position_2_and_3():
    def sees_one_ahead(n):  # allows j <= i + 1
        return torch.ones(n, n, dtype=torch.bool).tril(1)

    with pytest.raises(
        CheckFailed, match="position 2 can see position 3, a later token"
    ):
        ch03.check_causal_mask(sees_one_ahead)


def test_split_merge():
    ch03.check_split_merge(sol.split_heads, sol.merge_heads)

    def split_sequence(x, n_heads):  # cuts the positions into H chunks
        b, length, d = x.shape
        return x.view(b, n_heads, length // n_heads, d)

    def split_no_transpose(x, n_heads):
        b, length, d = x.shape
        return x.view(b, length, n_heads, d // n_heads)

    def split_direct_reshape(x, n_heads):
        b, length, d = x.shape
        return x.reshape(b, n_heads, length, d // n_heads)

    def merge_direct_reshape(x):
        b, h, length, d_head = x.shape
        return x.reshape(b, length, h * d_head)

    def merge_wrong_shape(x):
        return x.transpose(1, 2)

    cases = [
        (split_sequence, sol.merge_heads, "heads split along the sequence"),
        (split_no_transpose, sol.merge_heads, "transpose\\(1, 2\\)"),
        (split_direct_reshape, sol.merge_heads, "mixes tokens"),
        (sol.split_heads, merge_direct_reshape, "merge does not invert split"),
        (sol.split_heads, merge_wrong_shape, "should give back \\[B, T, d\\]"),
        (stub, sol.merge_heads, "not written yet"),
        (sol.split_heads, stub, "not written yet"),
    ]
    for split, merge, message in cases:
        with pytest.raises(CheckFailed, match=message):
            ch03.check_split_merge(split, merge)


def test_sinusoidal_encoding():
    ch03.check_sinusoidal_encoding(sol.sinusoidal_encoding)

    def variant(kind):
        def pe(max_len, d_model):
            return ch03._sinusoid_variants(max_len, d_model)[kind].float()

        return pe

    for kind, message in [
        ("swapped", "sine and cosine are swapped"),
        ("concatenated", "interleave them"),
        ("exponent i", "2i/d_model for the i-th pair"),
        ("column frequency", "share one frequency"),
        ("positions from 1", "positions start at 0"),
    ]:
        with pytest.raises(CheckFailed, match=message):
            ch03.check_sinusoidal_encoding(variant(kind))
    with pytest.raises(CheckFailed, match="should be \\[50, 16\\]"):
        ch03.check_sinusoidal_encoding(lambda n, d: torch.zeros(d, n))
    with pytest.raises(CheckFailed, match="differs from the formula"):
        ch03.check_sinusoidal_encoding(lambda n, d: torch.zeros(n, d))
    with pytest.raises(CheckFailed, match="not written yet"):
        ch03.check_sinusoidal_encoding(stub)
