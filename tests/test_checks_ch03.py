"""Chapter 3 checkers: the solutions pass, each diagnosed mistake fails with its
message, stubs say "not written yet".
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import torch

from course_utils.checks import ch03
from course_utils.errors import CheckFailed
from mutants import Wrong, assert_rejects
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

    # k.transpose(1, 2) works for [B, T, d] but not with a heads dimension:
    # the crash names the student's own line
    def transposed_1_2(q, k, v, mask=None):
        w = (q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])).softmax(-1)
        return w @ v, w

    with pytest.raises(
        CheckFailed, match=r"line \d+: `w = \(q @ k.transpose\(1, 2\)"
    ):
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


# --- wrong answers each checker must reject (tests/mutants.py)
# ------------------------------------------------------------------------------


def _softmax_dim_2(q, k, v, mask=None):
    """The issue's example: dim=2 is the keys only for 3-D inputs."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=2)
    return weights @ v, weights


def _hard_coded_attention(q, k, v, mask=None):
    """Right on the checker's first case, whatever the input."""
    first = ch03._attention_cases()[0]
    return sol.scaled_dot_product_attention(*first.args)


def _mask_with_large_negative_on_kept(q, k, v, mask=None):
    """The mask ignored for the padding (broadcast) case only: applies it to
    the last query row."""
    if mask is not None and mask.shape[-2] == 1:
        mask = None
    return sol.scaled_dot_product_attention(q, k, v, mask)


ATTENTION_WRONG = [
    Wrong("softmax(dim=2)", _softmax_dim_2, r"line \d+: `weights = .*dim=2"),
    Wrong("unscaled", make_attention(scale="none"), "not scaled"),
    Wrong("/ d_k", make_attention(scale="dk"), "divided the scores by d_k"),
    Wrong("/ T", make_attention(scale="length"), "sequence length"),
    Wrong("/ sqrt(T)", make_attention(scale="sqrt_length"), "square root of"),
    Wrong("softmax dim -2", make_attention(dim=-2), "wrong axis"),
    Wrong("diagonal", make_attention(diagonal=True), "only the diagonal"),
    Wrong("mask ignored", make_attention(mask_mode="ignored"), "ignored"),
    Wrong("mask inverted", make_attention(mask_mode="inverted"), "inverted"),
    Wrong("mask 0", make_attention(mask_mode="zero"), "masked scores to 0"),
    Wrong("mask after", make_attention(mask_mode="after"), "after the soft"),
    Wrong("hard-coded", _hard_coded_attention, r"should be \(2, 3, 7\)"),
    Wrong(
        "padding masks ignored",
        _mask_with_large_negative_on_kept,
        r"padding mask .* your weights differ",
    ),
    Wrong(
        "weights returned before the mask",
        lambda q, k, v, mask=None: (
            sol.scaled_dot_product_attention(q, k, v, mask)[0],
            sol.scaled_dot_product_attention(q, k, v)[1],
        ),
        r"causal mask.*your weights differ",
    ),
]


def test_attention_rejects_wrong_answers():
    assert_rejects(ch03.check_scaled_dot_product_attention, ATTENTION_WRONG)


def _ones(n):
    return torch.ones(n, n, dtype=torch.bool)


def _hard_coded_mask(n):
    """Right for the lengths 4, 1 and 7, whatever the input."""
    return {4: _ones(4).tril(), 1: _ones(1), 7: _ones(7).tril()}.get(
        n, _ones(4).tril()
    )


CAUSAL_WRONG = [
    Wrong("triu", lambda n: _ones(n).triu(), "position 2 can see position 3"),
    Wrong("inverted", lambda n: _ones(n).triu(1), "inverted"),
    Wrong("diagonal masked", lambda n: _ones(n).tril(-1), "diagonal is mask"),
    Wrong("one ahead", lambda n: _ones(n).tril(1), "2 can see position 3"),
    Wrong("all ones", _ones, "position 2 can see position 3"),
    Wrong(
        "a band of two",
        lambda n: _ones(n).tril() & _ones(n).triu(-1),
        "cannot see the earlier",
    ),
    Wrong("floats", lambda n: torch.ones(n, n).tril(), "boolean tensor"),
    Wrong("size n + 1", lambda n: _ones(n + 1).tril(), r"should be \[4, 4\]"),
    Wrong("hard-coded", _hard_coded_mask, r"causal_mask\(2\) has shape"),
    Wrong("list", lambda n: _ones(n).tril().tolist(), "return a torch tensor"),
]


def test_causal_mask_rejects_wrong_answers():
    assert_rejects(ch03.check_causal_mask, CAUSAL_WRONG)


def _split_h_and_dh_swapped(x, n_heads):
    b, length, d = x.shape
    return x.view(b, length, d // n_heads, n_heads).transpose(1, 2)


def _split_ignores_n_heads(x, n_heads):
    return sol.split_heads(x, 3 if x.shape[-1] % 3 == 0 else 1)


def _merge_interleaved(x):
    """Features ordered feature-major across heads: mixes the heads."""
    b, h, length, d_head = x.shape
    return x.permute(0, 2, 3, 1).reshape(b, length, h * d_head)


def _merge_first_head(x):
    return x[:, 0]


SPLIT_WRONG = [
    (
        "along the sequence",
        lambda x, h: x.view(x.shape[0], h, x.shape[1] // h, x.shape[2]),
        "split along the sequence",
    ),
    (
        "no transpose",
        lambda x, h: x.view(*x.shape[:2], h, x.shape[2] // h),
        r"transpose\(1, 2\)",
    ),
    (
        "direct reshape",
        lambda x, h: x.reshape(x.shape[0], h, x.shape[1], x.shape[2] // h),
        "mixes tokens",
    ),
    ("h and d/h swapped", _split_h_and_dh_swapped, r"returned shape .*expe"),
    ("n_heads ignored", _split_ignores_n_heads, r"returned shape"),
    (
        "transpose(2, 3) as well",
        lambda x, h: sol.split_heads(x, h).transpose(2, 3),
        r"returned shape|wrong contents",
    ),
]
MERGE_WRONG = [
    (
        "direct reshape",
        lambda x: x.reshape(x.shape[0], x.shape[2], -1),
        "transpose\\(1, 2\\) back",
    ),
    ("transpose only", lambda x: x.transpose(1, 2), r"give back \[B, T, d\]"),
    ("heads interleaved", _merge_interleaved, "merge does not invert split"),
    ("first head only", _merge_first_head, r"give back \[B, T, d\]"),
    ("heads summed", lambda x: x.sum(dim=1), r"give back \[B, T, d\]"),
    (
        "heads in reverse order",
        lambda x: sol.merge_heads(x.flip(1)),
        "merge does not invert split",
    ),
]


def test_split_merge_rejects_wrong_answers():
    assert_rejects(
        ch03.check_split_merge,
        [Wrong(f"split: {m}", fn, d) for m, fn, d in SPLIT_WRONG],
        call=lambda split: ch03.check_split_merge(split, sol.merge_heads),
    )
    assert_rejects(
        ch03.check_split_merge,
        [Wrong(f"merge: {m}", fn, d) for m, fn, d in MERGE_WRONG],
        call=lambda merge: ch03.check_split_merge(sol.split_heads, merge),
    )


def _pe_variant(kind):
    return lambda n, d: ch03._sinusoid_variants(n, d)[kind].float()


def _pe_base_1000(max_len, d_model):
    positions = torch.arange(max_len, dtype=torch.float32)[:, None]
    angles = positions / 1000 ** (torch.arange(0, d_model, 2) / d_model)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(angles), torch.cos(angles)
    return pe


def _pe_hard_coded(max_len, d_model):
    return sol.sinusoidal_encoding(50, 16)[:max_len, :d_model]


SINUSOID_WRONG = [
    Wrong("swapped", _pe_variant("swapped"), "swapped"),
    Wrong("concatenated", _pe_variant("concatenated"), "interleave"),
    Wrong("exponent i/d", _pe_variant("exponent i"), "2i/d_model for the"),
    Wrong("per-column frequency", _pe_variant("column frequency"), "share"),
    Wrong("positions from 1", _pe_variant("positions from 1"), "start at 0"),
    Wrong("base 1000", _pe_base_1000, "differs from the formula"),
    Wrong("transposed", lambda n, d: sol.sinusoidal_encoding(n, d).T, "shape"),
    Wrong(
        "hard-coded (50, 16)",
        _pe_hard_coded,
        r"sinusoidal_encoding\(7, 4\) differs from the formula",
    ),
    Wrong(
        "angles multiplied",
        lambda n, d: _pe_mul(n, d),
        "differs from the formula",
    ),
]


def _pe_mul(max_len, d_model):
    positions = torch.arange(max_len, dtype=torch.float32)[:, None]
    angles = positions * 10000 ** (torch.arange(0, d_model, 2) / d_model)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(angles), torch.cos(angles)
    return pe


def test_sinusoidal_rejects_wrong_answers():
    assert_rejects(ch03.check_sinusoidal_encoding, SINUSOID_WRONG)


@settings(max_examples=40, deadline=None)
@given(
    t_q=st.integers(1, 6),
    t_k=st.integers(1, 6),
    d_k=st.integers(1, 8),
    masked=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_the_checkers_reference_is_pytorchs_attention(
    t_q, t_k, d_k, masked, seed
):
    """On any shapes and masks (each query keeps a key), the reference the
    checker compares with equals torch's scaled_dot_product_attention.
    """
    g = ch03._gen(seed)
    q, k, v = ch03._qkv(g, (2,), t_q, t_k, d_k, 3)
    mask = ch03._random_mask(g, (2, t_q, t_k)) if masked else None
    out, _ = ch03._reference_attention(q, k, v, mask)
    expected = torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=mask
    )
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-4)
