"""Checkers for the exercises of chapter 3 (the Transformer).

Each checker first decides right or wrong by comparing the student's function
with the course's reference (``course_utils.nn``, tested against PyTorch) on
fixed cases (one per known mistake) and on tensors from a seeded generator:
several leading dimensions, one query, one key, d_k = 1, masks of every kind
(causal, padding on the right and on the left), tied and large scores. Only
then does it name a mistake, and only when that mistake, written as a
function, gives the student's output on every case; otherwise it says on
which input the results differ.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F

from course_utils import nn as cnn

from . import (
    Case,
    as_tensor,
    call_student,
    compare_with_reference,
    fail,
    passed,
    tensors_close,
)
from .ch02 import _first_difference, _same_tensor

ATOL = 1e-5

_as_tensor = as_tensor
# atol 1e-5 / rtol 1e-4: one attention at most (CONTRIBUTING.md), in any
# summation order
_close = tensors_close


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# -----------------------------------------------------------------------------
# Scaled dot-product attention
# -----------------------------------------------------------------------------


def _attention(scale="sqrt_dk", dim=-1, mask_mode="fill"):
    """Scaled dot-product attention, right by default; the arguments switch
    on one of the typical mistakes.
    """

    def attention(q, k, v, mask=None):
        divisor = {
            "sqrt_dk": math.sqrt(q.shape[-1]),
            "none": 1.0,
            "dk": q.shape[-1],
            "length": k.shape[-2],
            "sqrt_length": math.sqrt(k.shape[-2]),
        }[scale]
        scores = q @ k.transpose(-2, -1) / divisor
        if mask is not None and mask_mode != "after":
            keep = {"fill": mask, "zero": mask, "inverted": ~mask}
            fill = 0.0 if mask_mode == "zero" else float("-inf")
            if mask_mode in keep:
                scores = scores.masked_fill(~keep[mask_mode], fill)
        weights = scores.softmax(dim=dim)
        if mask is not None and mask_mode == "after":
            weights = weights * mask  # zeroed, not renormalised
        return weights @ v, weights

    return attention


def _diagonal_attention(q, k, v, mask=None):
    """Only q_i . k_i: one score per query, weights [..., T, 1]."""
    scores = (q * k).sum(-1, keepdim=True) / math.sqrt(q.shape[-1])
    weights = scores.softmax(-1)
    return weights * v, weights


_reference_attention = _attention()

_ATTENTION_VARIANTS = {
    "unscaled": _attention(scale="none"),
    "scaled by d_k": _attention(scale="dk"),
    "scaled by length": _attention(scale="length"),
    "scaled by sqrt(length)": _attention(scale="sqrt_length"),
    "softmax over queries": _attention(dim=-2),
    "softmax over batch": _attention(dim=0),
    "mask ignored": _attention(mask_mode="ignored"),
    "mask filled with 0": _attention(mask_mode="zero"),
    "mask inverted": _attention(mask_mode="inverted"),
    "mask after softmax": _attention(mask_mode="after"),
}

_ATTENTION_MESSAGES = {
    "unscaled": (
        "your scores are not scaled: divide Q K^T by sqrt(d_k), the square root"
        " of the key dimension (q.shape[-1]), before the softmax."
    ),
    "scaled by d_k": (
        "you divided the scores by d_k; divide by its square root,"
        " math.sqrt(d_k)."
    ),
    "scaled by length": (
        "you scaled the scores by the sequence length; the divisor is sqrt(d_k)"
        " with d_k = q.shape[-1], the key dimension, not the number of tokens."
    ),
    "scaled by sqrt(length)": (
        "you scaled the scores by the square root of the sequence length; the"
        " divisor is sqrt(d_k) with d_k = q.shape[-1], the key dimension, not"
        " the number of tokens."
    ),
    "softmax over queries": (
        "your softmax runs over the wrong axis (the queries): take it over the"
        " last axis, the keys, so that each query's row of weights sums to 1"
        " (softmax(dim=-1))."
    ),
    "softmax over batch": (
        "your softmax runs over the wrong axis (the batch): take it over the"
        " last axis, the keys (softmax(dim=-1))."
    ),
    "mask ignored": (
        "the mask is ignored: your output with the causal mask equals the"
        " output without it; set the masked scores to float('-inf') before the"
        " softmax (scores.masked_fill(~mask, float('-inf')))."
    ),
    "mask filled with 0": (
        "you set the masked scores to 0, which still gives them weight exp(0) >"
        " 0; fill them with float('-inf') instead."
    ),
    "mask inverted": (
        "your mask is inverted: True means 'may attend', so fill the scores"
        " where the mask is False (scores.masked_fill(~mask, float('-inf')))."
    ),
    "mask after softmax": (
        "you applied the mask after the softmax, so the rows no longer sum to"
        " 1; set the masked scores to float('-inf') before the softmax instead."
    ),
}

_DIAGONAL = (
    "you computed only the diagonal of Q K^T (each query with its own key): "
    "the scores must be the full "
    "matrix q @ k.transpose(-2, -1), every query with every key, of shape "
    "[..., T_q, T_k]."
)


def _qkv(g, lead, t_q, t_k, d_k, d_v, scale=1.0):
    return (
        torch.randn(*lead, t_q, d_k, generator=g) * scale,
        torch.randn(*lead, t_k, d_k, generator=g),
        torch.randn(*lead, t_k, d_v, generator=g),
    )


def _padding(lengths, length: int, left: bool) -> torch.Tensor:
    """[B, T] boolean, True on the real tokens, padded on one side."""
    rows = [[True] * n + [False] * (length - n) for n in lengths]
    return torch.tensor([r[::-1] if left else r for r in rows])


def _random_mask(g, shape) -> torch.Tensor:
    """A random boolean mask in which every query keeps at least one key."""
    mask = torch.rand(*shape, generator=g) < 0.6
    first = torch.zeros(shape, dtype=torch.bool)
    first[..., 0] = True  # the first key always stays: no row all masked
    return mask | first


def _attention_cases() -> list[Case]:
    """Fixed cases for each known mistake, then random shapes and masks."""
    g = _gen(3)
    qkv = _qkv(g, (2,), 5, 5, 16, 16)  # sqrt(d_k) = 4: not T, not sqrt(T)
    causal = cnn.causal_mask(5)
    heads = _qkv(g, (2, 3), 5, 5, 8, 8)
    pad_heads = _padding([5, 2], 5, left=True)[:, None, None, :]
    cases = [
        Case("q, k, v of shape [2, 5, 16], no mask", qkv),
        Case(
            "3 queries, 7 keys and values of size 4",
            _qkv(g, (2,), 3, 7, 16, 4),
        ),
        Case("a heads dimension, q, k, v of shape [2, 3, 5, 8]", heads),
        Case(
            "a causal mask, q, k, v of shape [2, 5, 16]", qkv, {"mask": causal}
        ),
        Case(
            "a padding mask [2, 1, 5], the second sentence right-padded",
            qkv,
            {"mask": _padding([5, 3], 5, left=False)[:, None, :]},
        ),
        Case(
            "a padding mask [2, 1, 5], the second sentence left-padded",
            qkv,
            {"mask": _padding([5, 3], 5, left=True)[:, None, :]},
        ),
        Case(
            "heads, with a left-padding mask [2, 1, 1, 5] and a causal mask",
            heads,
            {"mask": pad_heads & causal},
        ),
        Case("one query and 6 keys", _qkv(g, (2,), 1, 6, 4, 3)),
        Case("one key", _qkv(g, (2,), 4, 1, 4, 3)),
        Case("d_k = 1", _qkv(g, (3,), 4, 4, 1, 2)),
        Case(
            "all queries zero (every score equal: uniform weights)",
            (torch.zeros(1, 3, 4), *_qkv(g, (1,), 3, 4, 4, 2)[1:]),
        ),
        Case("large scores (q times 4)", _qkv(g, (2,), 4, 5, 8, 3, scale=4.0)),
        Case(
            "2-D inputs without a batch dimension, [4, 6]",
            _qkv(g, (), 4, 4, 6, 6),
        ),
    ]
    for _ in range(8):
        lead = tuple(
            torch.randint(
                1,
                4,
                (int(torch.randint(1, 3, (1,), generator=g)),),
                generator=g,
            ).tolist()
        )
        t_q, t_k, d_k, d_v = torch.randint(1, 7, (4,), generator=g).tolist()
        kwargs = {}
        if torch.rand(1, generator=g) < 0.5:
            kwargs["mask"] = _random_mask(g, (*lead, t_q, t_k))
        label = f"random q {(*lead, t_q, d_k)}, k {(*lead, t_k, d_k)}, v "
        label += f"{(*lead, t_k, d_v)}" + (", a random mask" if kwargs else "")
        cases.append(Case(label, _qkv(g, lead, t_q, t_k, d_k, d_v), kwargs))
    return cases


def _as_pair(result, what: str):
    """The student's (output, weights) as tensors, or one sentence."""
    if isinstance(result, torch.Tensor):
        fail(f"{what} returned one tensor; return the pair (output, weights).")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(
            f"{what} should return a pair (output, weights), got "
            f"{type(result).__name__}."
        )
    return tuple(as_tensor(t, what) for t in result)


def _probe_attention(fn, case: Case, name: str) -> None:
    """On the first case: a pair of tensors of the right shapes, where a
    wrong shape is named when only the diagonal of Q K^T was computed.
    """
    out, w = _as_pair(call_student(fn, *case.args, name=name), name)
    ref_out, ref_w = _reference_attention(*case.args)
    if w.shape == ref_w.shape and out.shape == ref_out.shape:
        return
    diag_out, diag_w = _diagonal_attention(*case.args)
    if _close(w, diag_w) and _close(out, diag_out):
        fail(_DIAGONAL)
    _shape_message(out, w, ref_out, ref_w, case.label)


def _shape_message(out, w, ref_out, ref_w, label: str) -> None:
    if w.shape != ref_w.shape:
        fail(
            f"with {label}: the weights have shape {tuple(w.shape)} but "
            f"should be {tuple(ref_w.shape)} ([..., T_q, T_k]: one row per "
            "query, one column per key)."
        )
    if out.shape != ref_out.shape:
        fail(
            f"with {label}: the output has shape {tuple(out.shape)} but should "
            f"be {tuple(ref_out.shape)} ([..., T_q, d_v]): return weights @ v."
        )


def _same_pair(expected, got) -> bool:
    return (
        isinstance(got, (tuple, list))
        and len(got) == 2
        and all(map(_same_tensor, expected, got))
    )


def _explain_attention(case, args, expected, got) -> str:
    """What is wrong with the student's attention on one case."""
    name = "scaled_dot_product_attention"
    out, w = _as_pair(got, name)
    ref_out, ref_w = expected
    _shape_message(out, w, ref_out, ref_w, case.label)
    if _close(w, ref_w):
        return (
            f"with {case.label}: the weights are right but the output is not: "
            "return weights @ v (row i is sum_j a_ij v_j)."
        )
    sums = w.sum(-1)
    if not _close(sums, torch.ones_like(sums), atol=1e-4):
        return (
            f"with {case.label}: the rows of your weights do not sum to 1: "
            "apply softmax(dim=-1) to the scaled (and masked) scores."
        )
    return (
        f"with {case.label}: your weights differ from "
        f"softmax(Q K^T / sqrt(d_k)), {_first_difference(ref_w, w)}; compute "
        "the scores as q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]) and "
        "fill the masked ones with float('-inf') before the softmax."
    )


def check_scaled_dot_product_attention(fn) -> None:
    """Check ``fn(q, k, v, mask=None) -> (output, weights)`` against the
    reference on many shapes and masks.
    """
    name = "scaled_dot_product_attention"
    cases = _attention_cases()
    _probe_attention(fn, cases[0], name)
    compare_with_reference(
        fn,
        _reference_attention,
        cases,
        name=name,
        diagnoses=[
            (_ATTENTION_MESSAGES[key], variant)
            for key, variant in _ATTENTION_VARIANTS.items()
        ],
        same=_same_pair,
        explain=_explain_attention,
    )
    passed(name)


# -----------------------------------------------------------------------------
# Causal mask
# -----------------------------------------------------------------------------


def _explain_causal(case, args, expected, got) -> str:
    """What is wrong with the student's mask for one length, as observed."""
    (length,) = case.args
    m = as_tensor(got, "causal_mask")
    if tuple(m.shape) != (length, length):
        return (
            f"causal_mask({length}) has shape {tuple(m.shape)}; it should be "
            f"[{length}, {length}]: one row per query position, one column "
            "per key position."
        )
    if m.dtype != torch.bool:
        if any(math.isinf(x) for x in m.flatten().tolist()):
            return (
                "return a boolean mask (True = may attend), not the additive "
                "0 / -inf form: e.g. torch.ones(T, T, dtype=torch.bool).tril()."
            )
        return (
            f"causal_mask returned dtype {m.dtype}; return a boolean tensor "
            "(True = may attend), e.g. with dtype=torch.bool or .bool()."
        )
    if length > 1 and torch.equal(m, ~expected):
        return (
            "your mask is inverted: it is True on the future positions "
            "(position 0 can see position 1); True must mean 'may attend', "
            "so keep the lower triangle with torch.tril."
        )
    upper = m & ~expected
    if upper.any():
        i, j = (2, 3) if length >= 4 and upper[2, 3] else upper.nonzero()[0]
        return (
            f"position {int(i)} can see position {int(j)}, a later token: a "
            "causal mask allows only j <= i (torch.tril)."
        )
    if not m.diagonal().all():
        return (
            "the diagonal is masked: a token must see itself, so position i "
            "may attend to j <= i including j = i (torch.tril without "
            "diagonal=-1)."
        )
    i, j = (~m & expected).nonzero()[0].tolist()
    return (
        f"position {i} cannot see the earlier position {j} (causal_mask"
        f"({length})): a causal mask allows every j <= i."
    )


def _same_mask(expected, got) -> bool:
    """The same boolean tensor (a 0/1 float mask is a different thing)."""
    return (
        isinstance(got, torch.Tensor)
        and got.dtype == torch.bool
        and torch.equal(got, expected)
    )


def check_causal_mask(fn) -> None:
    """Check ``fn(seq_len) -> [seq_len, seq_len]`` boolean mask, True where
    query i may attend to key j <= i.
    """
    name = "causal_mask"
    lengths = (4, 1, 7, 2, 3, 5, 6, 8, 16, 33)
    compare_with_reference(
        fn,
        cnn.causal_mask,
        [Case(f"causal_mask({n})", (n,)) for n in lengths],
        name=name,
        same=_same_mask,
        explain=_explain_causal,
    )
    # as the exercise says: the mask in PyTorch's attention gives the same as
    # its own is_causal=True (one attention, two kernels: CONTRIBUTING.md)
    g = _gen(5)
    q, k, v = (torch.randn(1, 6, 8, generator=g) for _ in range(3))
    torch.testing.assert_close(
        F.scaled_dot_product_attention(
            q, k, v, attn_mask=as_tensor(call_student(fn, 6, name=name), name)
        ),
        F.scaled_dot_product_attention(q, k, v, is_causal=True),
        atol=1e-5,
        rtol=1e-5,
    )
    passed(name)


# -----------------------------------------------------------------------------
# Splitting and merging heads
# -----------------------------------------------------------------------------


def _split_shapes() -> list[tuple[int, int, int, int]]:
    """(B, T, d, h): fixed shapes (T = h, h = 1, d/h = 1, h = d/h, T = d/h),
    then random ones.
    """
    shapes = [
        (2, 6, 12, 3),
        (1, 5, 8, 2),
        (2, 4, 12, 4),
        (1, 3, 5, 1),
        (3, 1, 6, 6),
        (2, 5, 9, 3),
        (1, 4, 8, 2),
    ]
    g = _gen(7)
    for _ in range(6):
        b, t, h, d_head = torch.randint(1, 5, (4,), generator=g).tolist()
        shapes.append((b, t, h * d_head, h))
    return shapes


def _split_cases() -> list[Case]:
    g = _gen(8)
    cases = []
    for i, (b, t, d, h) in enumerate(_split_shapes()):
        # the first: distinct integers, which show any mix-up at a glance
        x = (
            torch.arange(b * t * d, dtype=torch.float32).view(b, t, d)
            if i == 0
            else torch.randn(b, t, d, generator=g)
        )
        cases.append(Case(f"x of shape {(b, t, d)} with {h} heads", (x, h)))
    return cases


def _merge_cases() -> list[Case]:
    cases = []
    for case in _split_cases():
        heads = cnn.split_heads(*case.args)
        cases.append(Case(f"heads of shape {tuple(heads.shape)}", (heads,)))
    return cases


def _split_along_sequence(x, n_heads):
    b, t, d = x.shape
    return x.view(b, n_heads, t // n_heads, d)


def _split_no_transpose(x, n_heads):
    b, t, d = x.shape
    return x.view(b, t, n_heads, d // n_heads)


def _probe_split(split_heads, case: Case) -> None:
    """On the first case: the shape [B, h, T, d/h], with the two usual wrong
    shapes named when they are what the student returned.
    """
    x, h = case.args
    s = as_tensor(call_student(split_heads, x.clone(), h), "split_heads")
    expected = cnn.split_heads(x, h)
    if s.shape == expected.shape:
        return
    b, t, d = x.shape
    if _close(s, _split_along_sequence(x, h)):
        fail(
            f"heads split along the sequence: each head got {t // h} of the "
            f"{t} positions with all {d} features; split the model (feature) "
            "dimension instead: view as [B, T, h, d/h], then transpose(1, 2)."
        )
    if _close(s, _split_no_transpose(x, h)):
        fail(
            "split_heads returns [B, T, h, d/h]: move the head axis in front "
            "of the positions with transpose(1, 2) to get [B, h, T, d/h]."
        )
    fail(
        f"split_heads(x, {h}) for x of shape {tuple(x.shape)} returned shape "
        f"{tuple(s.shape)}; expected {tuple(expected.shape)} ([B, h, T, d/h])."
    )


_SPLIT_DIAGNOSES = [
    (
        "split_heads has the right shape but mixes tokens: reshaping [B, T, d] "
        "straight to [B, h, T, d/h] puts features of different positions "
        "into one head; view as [B, T, h, d/h] first, then transpose(1, 2).",
        lambda x, h: x.reshape(x.shape[0], h, x.shape[1], x.shape[2] // h),
    ),
]


def _explain_split(case, args, expected, got) -> str:
    x, h = case.args
    s = as_tensor(got, "split_heads")
    if s.shape != expected.shape:
        return (
            f"split_heads(x, {h}) for {case.label} returned shape "
            f"{tuple(s.shape)}; expected {tuple(expected.shape)} "
            "([B, h, T, d/h])."
        )
    d_head = x.shape[-1] // h
    return (
        f"split_heads has the right shape but wrong contents for "
        f"{case.label} ({_first_difference(expected, s)}): head i must hold "
        f"features i*{d_head} to (i+1)*{d_head}-1 of every token "
        "(x.view(B, T, h, d/h).transpose(1, 2))."
    )


def _explain_merge(case, args, expected, got) -> str:
    (heads,) = case.args
    m = as_tensor(got, "merge_heads")
    if m.shape != expected.shape:
        return (
            f"merge_heads returned shape {tuple(m.shape)} for {case.label}; "
            f"it should give back [B, T, d] = {tuple(expected.shape)} by "
            "concatenating the heads of each token."
        )
    return (
        f"merge does not invert split on {case.label} "
        f"({_first_difference(expected, m)}): merge_heads(split_heads(x)) "
        "must give x back (each token's head outputs side by side)."
    )


_MERGE_DIAGNOSES = [
    (
        "merge does not invert split: reshaping [B, h, T, d/h] straight to "
        "[B, T, d] mixes tokens; transpose(1, 2) back to [B, T, h, d/h] "
        "first, then reshape.",
        lambda x: x.reshape(x.shape[0], x.shape[2], -1),
    ),
]


def _check_with_torch_mha(split_heads, merge_heads) -> None:
    """Multi-head attention built with the student's split and merge equals
    ``torch.nn.MultiheadAttention`` (the exercise promises this check).
    """
    d, h = 12, 3
    with torch.random.fork_rng():  # leave the student's own seed alone
        torch.manual_seed(0)
        mha = torch.nn.MultiheadAttention(d, h, batch_first=True).eval()
    x = torch.randn(2, 6, d, generator=_gen(11))
    with torch.no_grad():
        w_q, w_k, w_v = mha.in_proj_weight.split(d)
        b_q, b_k, b_v = mha.in_proj_bias.split(d)
        q, k, v = (
            call_student(split_heads, x @ w.T + bias, h)
            for w, bias in ((w_q, b_q), (w_k, b_k), (w_v, b_v))
        )
        heads = F.scaled_dot_product_attention(q, k, v)
        ours = mha.out_proj(call_student(merge_heads, heads))
        ref, _ = mha(x, x, x)
    # one attention with its projections (CONTRIBUTING.md)
    if not _close(ours, ref, atol=1e-5):
        fail(
            "with your split_heads and merge_heads, multi-head attention "
            "differs from torch.nn.MultiheadAttention."
        )


def check_split_merge(split_heads, merge_heads) -> None:
    """Check ``split_heads(x, n_heads)`` ([B, T, d] -> [B, h, T, d/h]) and
    ``merge_heads`` (the inverse), each against the reference, then use them
    in a multi-head attention and compare with
    ``torch.nn.MultiheadAttention``."""
    split_cases, merge_cases = _split_cases(), _merge_cases()
    _probe_split(split_heads, split_cases[0])
    compare_with_reference(
        split_heads,
        cnn.split_heads,
        split_cases,
        name="split_heads",
        diagnoses=_SPLIT_DIAGNOSES,
        same=_same_tensor,
        explain=_explain_split,
    )
    compare_with_reference(
        merge_heads,
        cnn.merge_heads,
        merge_cases,
        name="merge_heads",
        diagnoses=_MERGE_DIAGNOSES,
        same=_same_tensor,
        explain=_explain_merge,
    )
    _check_with_torch_mha(split_heads, merge_heads)
    passed("split_heads and merge_heads")


# -----------------------------------------------------------------------------
# Sinusoidal positional encoding
# -----------------------------------------------------------------------------


@lru_cache(maxsize=32)  # each wrong answer is compared with every variant
def _sinusoid_variants(max_len: int, d_model: int) -> dict[str, torch.Tensor]:
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]
    i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angles = pos / 10000 ** (i / d_model)  # [max_len, d_model / 2]
    half = torch.arange(d_model // 2, dtype=torch.float64)
    angles_i = pos / 10000 ** (half / d_model)  # exponent i/d instead of 2i/d
    cols = torch.arange(d_model, dtype=torch.float64)
    # each column its own frequency
    angles_col = pos / 10000 ** (cols / d_model)

    def interleave(even, odd):
        pe = torch.empty(max_len, d_model, dtype=torch.float64)
        pe[:, 0::2], pe[:, 1::2] = even, odd
        return pe

    per_col = torch.where(
        cols.long() % 2 == 0, torch.sin(angles_col), torch.cos(angles_col)
    )
    angles_1 = (pos + 1) / 10000 ** (i / d_model)
    return {
        "correct": cnn.sinusoidal_positional_encoding(
            max_len, d_model, dtype=torch.float64
        ),
        "swapped": interleave(torch.cos(angles), torch.sin(angles)),
        "concatenated": torch.cat(
            [torch.sin(angles), torch.cos(angles)], dim=1
        ),
        "exponent i": interleave(torch.sin(angles_i), torch.cos(angles_i)),
        "column frequency": per_col,
        "positions from 1": interleave(
            torch.sin(angles_1), torch.cos(angles_1)
        ),
    }


_SINUSOID_MESSAGES = {
    "swapped": (
        "sine and cosine are swapped: the even columns 2i hold sin(pos /"
        " 10000^(2i/d_model)), the odd columns 2i+1 the cosine."
    ),
    "concatenated": (
        "you put all the sines first and all the cosines after; interleave"
        " them: column 2i is the sine and column 2i+1 the cosine of the same"
        " frequency (pe[:, 0::2] and pe[:, 1::2])."
    ),
    "exponent i": (
        "the exponent should be 2i/d_model for the i-th pair (i = 0 .."
        " d_model/2 - 1), not i/d_model: use torch.arange(0, d_model, 2) /"
        " d_model."
    ),
    "column frequency": (
        "each sin/cos pair must share one frequency: columns 2i and 2i+1 both"
        " use 10000^(2i/d_model), not 10000^(column/d_model)."
    ),
    "positions from 1": (
        "positions start at 0: the first row is sin(0) = 0 and cos(0) = 1"
        " alternating."
    ),
}


def _sinusoid_variant(kind: str):
    return lambda max_len, d_model: _sinusoid_variants(max_len, d_model)[kind]


def _sinusoid_cases() -> list[Case]:
    """Fixed sizes (one position, one pair of columns, a wide model), then
    random ones; max_len stays <= 64, where float32 angles are within 1e-5.
    """
    sizes = [(50, 16), (7, 4), (1, 2), (1, 8), (3, 2), (10, 512), (64, 6)]
    g = _gen(12)
    for _ in range(5):
        max_len = int(torch.randint(1, 41, (1,), generator=g))
        sizes.append(
            (max_len, 2 * int(torch.randint(1, 17, (1,), generator=g)))
        )
    return [Case(f"sinusoidal_encoding{size}", size) for size in sizes]


def _explain_sinusoid(case, args, expected, got) -> str:
    max_len, d_model = case.args
    pe = as_tensor(got, "sinusoidal_encoding")
    if pe.shape != expected.shape:
        return (
            f"sinusoidal_encoding({max_len}, {d_model}) has shape "
            f"{tuple(pe.shape)}; it should be [{max_len}, {d_model}]: one row "
            "per position, one column per dimension."
        )
    diff = (pe.double() - expected).abs().nan_to_num(math.inf).max().item()
    return (
        f"sinusoidal_encoding({max_len}, {d_model}) differs from the formula "
        f"by up to {diff:.3g}: PE[pos, 2i] = sin(pos / 10000^(2i/d_model)), "
        "PE[pos, 2i+1] = cos(pos / 10000^(2i/d_model))."
    )


def check_sinusoidal_encoding(fn) -> None:
    """Check ``fn(max_len, d_model) -> [max_len, d_model]`` against the formula
    of Vaswani et al. (2017).
    """
    name = "sinusoidal_encoding"
    compare_with_reference(
        fn,
        _sinusoid_variant("correct"),
        _sinusoid_cases(),
        name=name,
        diagnoses=[
            (message, _sinusoid_variant(kind))
            for kind, message in _SINUSOID_MESSAGES.items()
        ],
        same=_same_tensor,
        explain=_explain_sinusoid,
    )
    passed(name)
