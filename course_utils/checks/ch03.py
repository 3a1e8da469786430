"""Checkers for the exercises of chapter 3 (the Transformer).

Each checker runs the student's function on small random tensors, compares it
with PyTorch (or the
course's reference in ``course_utils.nn``) and, when it differs, recognises the
usual mistakes by
comparing with what each typical wrong answer would produce.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_utils import nn as cnn

from . import as_tensor, call_student, fail, passed, tensors_close

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


def _attention_variants(
    q, k, v, mask=None
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """What the correct answer and the typical wrong answers return: name ->
    (output, weights).
    """
    d_k, length = q.shape[-1], k.shape[-2]
    raw = q @ k.transpose(-2, -1)

    def finish(scores, dim=-1, fill=float("-inf"), m=mask):
        if m is not None:
            scores = scores.masked_fill(~m, fill)
        w = scores.softmax(dim=dim)
        return w @ v, w

    variants = {
        "correct": cnn.scaled_dot_product_attention(q, k, v, mask),
        "unscaled": finish(raw),
        "scaled by d_k": finish(raw / d_k),
        "scaled by length": finish(raw / length),
        "scaled by sqrt(length)": finish(raw / math.sqrt(length)),
        "softmax over queries": finish(raw / math.sqrt(d_k), dim=-2),
        "softmax over batch": finish(raw / math.sqrt(d_k), dim=0),
    }
    if mask is not None:
        variants["mask ignored"] = finish(raw / math.sqrt(d_k), m=None)
        variants["mask filled with 0"] = finish(raw / math.sqrt(d_k), fill=0.0)
        variants["mask inverted"] = finish(raw / math.sqrt(d_k), m=~mask)
        # zeroed after the softmax, not renormalised
        w = (raw / math.sqrt(d_k)).softmax(-1) * mask
        variants["mask after softmax"] = (w @ v, w)
    return variants


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


def _call_attention(fn, q, k, v, mask, what):
    result = (
        call_student(fn, q, k, v, mask=mask)
        if mask is not None
        else call_student(fn, q, k, v)
    )
    if isinstance(result, torch.Tensor):
        fail(f"{what} returned one tensor; return the pair (output, weights).")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(
            f"{what} should return a pair (output, weights), got "
            f"{type(result).__name__}."
        )
    out, w = (_as_tensor(t, what) for t in result)
    return out, w


def _diagnose_attention(out, w, q, k, v, mask, case: str) -> None:
    variants = _attention_variants(q, k, v, mask)
    ref_out, ref_w = variants["correct"]
    if _close(out, ref_out) and _close(w, ref_w):
        return
    lead, l_q, l_k = tuple(q.shape[:-2]), q.shape[-2], k.shape[-2]
    # only the diagonal q_i . k_i: weights of the wrong shape, a diagonal
    # matrix, or output = v
    if l_q == l_k and (
        tuple(w.shape) in {lead + (l_q,), lead + (l_q, 1), tuple(q.shape)}
        or (
            tuple(w.shape) == tuple(ref_w.shape)
            and torch.count_nonzero(
                w - torch.diag_embed(w.diagonal(dim1=-2, dim2=-1))
            )
            == 0
        )
        or _close(out, v)
    ):
        fail(_DIAGONAL)
    if tuple(w.shape) != tuple(ref_w.shape):
        fail(
            f"{case}: the weights have shape {tuple(w.shape)} but should be "
            f"{tuple(ref_w.shape)} ([..., T_q, T_k]: "
            "one row per query, one column per key)."
        )
    if tuple(out.shape) != tuple(ref_out.shape):
        fail(
            f"{case}: the output has shape {tuple(out.shape)} but should be "
            f"{tuple(ref_out.shape)} ([..., T_q, d_v]): "
            "return weights @ v."
        )
    for name, (v_out, v_w) in variants.items():
        if name != "correct" and _close(w, v_w) and _close(out, v_out):
            fail(_ATTENTION_MESSAGES[name])
    if _close(w, ref_w):
        fail(
            f"{case}: the weights are right but the output is not: return "
            "weights @ v (row i is sum_j a_ij v_j)."
        )
    if not _close(w.sum(-1), torch.ones_like(w.sum(-1)), atol=1e-4):
        fail(
            f"{case}: the rows of your weights do not sum to 1: apply "
            "softmax(dim=-1) to the scaled scores."
        )
    diff = (w.detach().double() - ref_w.double()).abs().max().item()
    fail(
        f"{case}: your weights differ from softmax(Q K^T / sqrt(d_k)) by up to "
        f"{diff:.3g}; compute the scores as "
        "q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])."
    )


def check_scaled_dot_product_attention(fn) -> None:
    """Check ``fn(q, k, v, mask=None) -> (output, weights)`` against PyTorch on
    several shapes and masks.
    """
    name = "scaled_dot_product_attention"
    g = _gen(3)
    # 1. self-attention shapes: 5 tokens, d_k = 16 (so sqrt(d_k) = 4 differs
    # from the length and its root)
    q, k, v = (torch.randn(2, 5, 16, generator=g) for _ in range(3))
    out, w = _call_attention(fn, q, k, v, None, name)
    _diagnose_attention(out, w, q, k, v, None, "with 5 queries and keys")
    # one attention (CONTRIBUTING.md), rtol with room for the student's
    # summation order
    torch.testing.assert_close(
        out.detach().float(),
        F.scaled_dot_product_attention(q, k, v),
        atol=1e-5,
        rtol=1e-4,
    )

    # 2. different numbers of queries and keys, d_v != d_k
    q2, k2, v2 = (
        torch.randn(2, 3, 16, generator=g),
        torch.randn(2, 7, 16, generator=g),
        torch.randn(2, 7, 4, generator=g),
    )
    out, w = _call_attention(fn, q2, k2, v2, None, name)
    _diagnose_attention(
        out, w, q2, k2, v2, None, "with 3 queries, 7 keys and values of size 4"
    )

    # 3. a heads dimension: [batch, heads, L, d]
    q3, k3, v3 = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))
    try:
        out, w = _call_attention(fn, q3, k3, v3, None, name)
        _diagnose_attention(out, w, q3, k3, v3, None, "with a heads dimension")
    except Exception as exc:  # noqa: BLE001  (a CheckFailed or a crash: say what the case was)
        fail(
            f"{name} works on [batch, T, d] but not with a heads dimension "
            f"[batch, heads, L, d] ({exc}): transpose "
            "the last two dimensions of k with k.transpose(-2, -1)."
        )

    # 4. the causal mask (True = may attend)
    causal = cnn.causal_mask(5)
    out, w = _call_attention(fn, q, k, v, causal, name)
    _diagnose_attention(out, w, q, k, v, causal, "with a causal mask")
    torch.testing.assert_close(
        out.detach().float(),
        F.scaled_dot_product_attention(q, k, v, is_causal=True),
        atol=1e-5,
        rtol=1e-4,
    )

    # 5. a padding mask [batch, 1, T_k] that broadcasts over the queries
    pad = torch.tensor([[True] * 5, [True, True, True, False, False]])[
        :, None, :
    ]
    out, w = _call_attention(fn, q, k, v, pad, name)
    _diagnose_attention(out, w, q, k, v, pad, "with a padding mask")
    passed(name)


# -----------------------------------------------------------------------------
# Causal mask
# -----------------------------------------------------------------------------


def check_causal_mask(fn) -> None:
    """Check ``fn(seq_len) -> [seq_len, seq_len]`` boolean mask, True where
    query i may attend to key j <= i.
    """
    name = "causal_mask"
    for length in (4, 1, 7):
        m = _as_tensor(call_student(fn, length), name)
        if tuple(m.shape) != (length, length):
            fail(
                f"causal_mask({length}) has shape {tuple(m.shape)}; it should "
                f"be [{length}, {length}]: one row per "
                "query position, one column per key position."
            )
        if m.dtype != torch.bool:
            values = set(m.flatten().tolist())
            if any(math.isinf(x) for x in values):
                fail(
                    "return a boolean mask (True = may attend), not the "
                    "additive 0 / -inf form: e.g. "
                    "torch.ones(T, T, dtype=torch.bool).tril()."
                )
            fail(
                f"causal_mask returned dtype {m.dtype}; return a boolean "
                "tensor (True = may attend), e.g. with "
                "dtype=torch.bool or .bool()."
            )
        ref = cnn.causal_mask(length)
        if torch.equal(m, ref):
            continue
        if torch.equal(m, ~ref):
            fail(
                "your mask is inverted: it is True on the future positions "
                "(position 2 can see position 3); True must "
                "mean 'may attend', so keep the lower triangle with torch.tril."
            )
        upper = m & ~ref
        if upper.any():
            # the example people know
            i, j = (
                (2, 3)
                if length >= 4 and upper[2, 3]
                else upper.nonzero()[0].tolist()
            )
            fail(
                f"position {i} can see position {j}, a later token: a causal "
                "mask allows only j <= i (torch.tril)."
            )
        if not m.diagonal().all():
            fail(
                "the diagonal is masked: a token must see itself, so position "
                "i may attend to j <= i including j = i "
                "(torch.tril without diagonal=-1)."
            )
        i, j = (~m & ref).nonzero()[0].tolist()
        fail(
            f"position {i} cannot see the earlier position {j}: a causal mask "
            "allows every j <= i."
        )
    # compare with PyTorch's own causal attention
    g = _gen(5)
    q, k, v = (torch.randn(1, 6, 8, generator=g) for _ in range(3))
    mask = _as_tensor(call_student(fn, 6), name)
    # one attention, two of torch's kernels (CONTRIBUTING.md)
    torch.testing.assert_close(
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        F.scaled_dot_product_attention(q, k, v, is_causal=True),
        atol=1e-5,
        rtol=1e-5,
    )
    passed(name)


# -----------------------------------------------------------------------------
# Splitting and merging heads
# -----------------------------------------------------------------------------


def _check_split(split_heads, x: torch.Tensor, n_heads: int) -> None:
    b, length, d = x.shape
    d_head = d // n_heads
    s = _as_tensor(call_student(split_heads, x, n_heads), "split_heads")
    expected = cnn.split_heads(x, n_heads)
    if _close(s, expected):
        return
    if tuple(s.shape) == (b, n_heads, length // n_heads, d) or _close(
        s, x.view(b, n_heads, length // n_heads, d)
    ):
        fail(
            "heads split along the sequence: each head got "
            f"{length // n_heads} of the {length} positions with all "
            f"{d} features; split the model (feature) dimension instead: view "
            "as [B, T, h, d/h], then transpose(1, 2)."
        )
    if tuple(s.shape) == (b, length, n_heads, d_head):
        fail(
            "split_heads returns [B, T, h, d/h]: move the head axis in front "
            "of the positions with transpose(1, 2) "
            "to get [B, h, T, d/h]."
        )
    if tuple(s.shape) != tuple(expected.shape):
        fail(
            f"split_heads(x, {n_heads}) for x of shape {tuple(x.shape)} "
            f"returned shape {tuple(s.shape)}; expected "
            f"{tuple(expected.shape)} ([B, h, T, d/h])."
        )
    if _close(s, x.reshape(b, n_heads, length, d_head)):
        fail(
            "split_heads has the right shape but mixes tokens: reshaping [B, "
            "T, d] straight to [B, h, T, d/h] puts "
            "features of different positions into one head; view as [B, T, h, "
            "d/h] first, then transpose(1, 2)."
        )
    fail(
        "split_heads has the right shape but wrong contents: head h must hold "
        f"features h*{d_head} to "
        f"(h+1)*{d_head}-1 of every token (x.view(B, T, h, d/h).transpose(1, "
        "2))."
    )


def _check_merge(merge_heads, x: torch.Tensor, n_heads: int) -> None:
    b, length, d = x.shape
    split = cnn.split_heads(x, n_heads)  # the correct split
    m = _as_tensor(call_student(merge_heads, split.clone()), "merge_heads")
    if _close(m, x):
        return
    if tuple(m.shape) != (b, length, d):
        fail(
            f"merge_heads returned shape {tuple(m.shape)} for heads of shape "
            f"{tuple(split.shape)}; it should give "
            f"back [B, T, d] = {(b, length, d)} by concatenating the heads of "
            "each token."
        )
    if _close(m, split.reshape(b, length, d)):
        fail(
            "merge does not invert split: reshaping [B, h, T, d/h] straight to "
            "[B, T, d] mixes tokens; transpose(1, 2) "
            "back to [B, T, h, d/h] first, then reshape."
        )
    fail(
        "merge does not invert split: merge_heads(split_heads(x)) must give x "
        "back (each token's head outputs side by side)."
    )


def check_split_merge(split_heads, merge_heads) -> None:
    """Check ``split_heads(x, n_heads)`` ([B, T, d] -> [B, h, T, d/h]) and
    ``merge_heads`` (the inverse), then use them in a multi-head attention and
    compare with ``torch.nn.MultiheadAttention``."""
    # distinct values show any mix-up
    x = torch.arange(2 * 6 * 12, dtype=torch.float32).view(2, 6, 12)
    _check_split(split_heads, x, 3)
    _check_merge(merge_heads, x, 3)
    x2 = torch.randn(1, 5, 8, generator=_gen(7))
    _check_split(split_heads, x2, 2)
    _check_merge(merge_heads, x2, 2)
    round_trip = _as_tensor(
        call_student(
            merge_heads,
            _as_tensor(call_student(split_heads, x, 4), "split_heads"),
        ),
        "merge_heads",
    )
    if not _close(round_trip, x):
        fail(
            "merge does not invert split: merge_heads(split_heads(x, 4)) "
            "differs from x."
        )

    # multi-head attention with the student's split/merge against PyTorch's
    # module
    torch.manual_seed(0)
    d, h = 12, 3
    mha = torch.nn.MultiheadAttention(d, h, batch_first=True).eval()
    x3 = torch.randn(2, 6, d, generator=_gen(11))
    with torch.no_grad():
        w_q, w_k, w_v = mha.in_proj_weight.split(d)
        b_q, b_k, b_v = mha.in_proj_bias.split(d)
        q = call_student(split_heads, x3 @ w_q.T + b_q, h)
        k = call_student(split_heads, x3 @ w_k.T + b_k, h)
        v = call_student(split_heads, x3 @ w_v.T + b_v, h)
        heads = F.scaled_dot_product_attention(q, k, v)
        ours = mha.out_proj(call_student(merge_heads, heads))
        ref, _ = mha(x3, x3, x3)
    # one attention with its projections (CONTRIBUTING.md)
    if not _close(ours, ref, atol=1e-5):
        fail(
            "with your split_heads and merge_heads, multi-head attention "
            "differs from torch.nn.MultiheadAttention."
        )
    passed("split_heads and merge_heads")


# -----------------------------------------------------------------------------
# Sinusoidal positional encoding
# -----------------------------------------------------------------------------


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


def check_sinusoidal_encoding(fn) -> None:
    """Check ``fn(max_len, d_model) -> [max_len, d_model]`` against the formula
    of Vaswani et al. (2017).
    """
    name = "sinusoidal_encoding"
    for max_len, d_model in ((50, 16), (7, 4)):
        pe = _as_tensor(call_student(fn, max_len, d_model), name)
        variants = _sinusoid_variants(max_len, d_model)
        if tuple(pe.shape) != (max_len, d_model):
            fail(
                f"{name}({max_len}, {d_model}) has shape {tuple(pe.shape)}; it "
                f"should be [{max_len}, {d_model}]: one "
                "row per position, one column per dimension."
            )
        # float32 angles up to 49 rad: off by ~50 u = 3e-6 at most
        if _close(pe, variants["correct"]):
            continue
        for key, message in _SINUSOID_MESSAGES.items():
            if _close(pe, variants[key]):
                fail(message)
        diff = (pe.double() - variants["correct"]).abs().max().item()
        fail(
            f"{name}({max_len}, {d_model}) differs from the formula by up to "
            f"{diff:.3g}: PE[pos, 2i] = "
            "sin(pos / 10000^(2i/d_model)), PE[pos, 2i+1] = cos(pos / "
            "10000^(2i/d_model))."
        )
    passed(name)
