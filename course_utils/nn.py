"""The Transformer from scratch: attention, masks, multi-head attention, FFN, positions, layers.

Chapter 3 builds these pieces one at a time and proves each one equal to the library version
(``torch.nn.functional.scaled_dot_product_attention``, ``torch.nn.MultiheadAttention``, a layer of
the pretrained BERT model, a ``GPT2Block``). They are written to be read, not to be fast: no
dropout inside attention, no key/value cache.

Shape names used in the docstrings: ``B`` batch, ``H`` heads, ``L`` sequence length (``L_q``
queries, ``L_k`` keys), ``D`` model dimension (``d_model``), ``d_k`` / ``d_v`` the dimension of one
key / value vector, ``d_head = D / H``.

Masks are boolean and say where attention is *allowed*: ``True`` = this query may attend to this
key. (``torch.nn.MultiheadAttention`` uses the opposite convention for its boolean masks;
``torch.nn.functional.scaled_dot_product_attention`` uses ours.)
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .errors import CourseError

__all__ = [
    "scaled_dot_product_attention", "causal_mask", "padding_mask", "MultiHeadAttention", "PositionwiseFFN",
    "sinusoidal_positional_encoding", "LearnedPositionalEmbedding", "EncoderLayer", "DecoderBlock",
    "load_bert_layer", "load_gpt2_block", "ACTIVATIONS",
]


# ---------------------------------------------------------------------------------------------
# Attention and masks
# ---------------------------------------------------------------------------------------------

def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V, every query against every key.

    Args:
        q: queries ``[..., L_q, d_k]``.
        k: keys ``[..., L_k, d_k]``.
        v: values ``[..., L_k, d_v]``.
        mask: optional boolean tensor broadcastable to ``[..., L_q, L_k]``; ``True`` = may attend.

    Returns:
        ``(output, weights)``: ``output[..., i, :] = sum_j weights[..., i, j] * v[..., j, :]`` of shape
        ``[..., L_q, d_v]``, and the attention weights ``[..., L_q, L_k]`` (each row sums to 1).

    A masked score is replaced by the most negative float before the softmax, so its weight is exactly
    0. (Transformers does the same; with ``-inf`` a query that may see no key at all would get NaNs.)
    """
    if q.shape[-1] != k.shape[-1]:
        raise CourseError(f"scaled_dot_product_attention: queries have dimension {q.shape[-1]} but keys have "
                          f"{k.shape[-1]}; q and k must share their last dimension d_k to take dot products.")
    if k.shape[-2] != v.shape[-2]:
        raise CourseError(f"scaled_dot_product_attention: there are {k.shape[-2]} keys but {v.shape[-2]} values; "
                          "k and v need one row per position (the same second-to-last dimension).")
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # [..., L_q, L_k]: every query with every key
    if mask is not None:
        if mask.dtype != torch.bool:
            raise CourseError(f"scaled_dot_product_attention: the mask has dtype {mask.dtype}; pass a boolean mask "
                              "(True = may attend), e.g. causal_mask(L) or padding_mask(attention_mask).")
        try:
            torch.broadcast_shapes(mask.shape, scores.shape)
        except RuntimeError:
            raise CourseError(f"scaled_dot_product_attention: a mask of shape {tuple(mask.shape)} does not broadcast "
                              f"to the scores {tuple(scores.shape)} ([..., L_q, L_k]).") from None
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = scores.softmax(dim=-1)  # row-wise: over the keys, for each query
    return weights @ v, weights


def causal_mask(seq_len: int, device: torch.device | str | None = None) -> Tensor:
    """``[L, L]`` boolean mask, True on and below the diagonal: position i may attend to j <= i."""
    if seq_len < 1:
        raise CourseError(f"causal_mask: seq_len must be at least 1, got {seq_len}.")
    return torch.ones(seq_len, seq_len, dtype=torch.bool, device=device).tril()


def padding_mask(attention_mask: Tensor) -> Tensor:
    """Turn a tokenizer's ``attention_mask`` ``[B, L]`` (1 = real token, 0 = padding) into ``[B, 1, 1, L]`` bool.

    The result broadcasts over heads and queries: every query may attend to every real key and to no
    padding key. Combine it with a causal mask by ``&``: ``padding_mask(m) & causal_mask(L)``.
    """
    if attention_mask.dim() != 2:
        raise CourseError(f"padding_mask: expected an attention_mask of shape [batch, seq_len] (as the tokenizer "
                          f"returns), got shape {tuple(attention_mask.shape)}.")
    return attention_mask.bool()[:, None, None, :]


# ---------------------------------------------------------------------------------------------
# Multi-head attention
# ---------------------------------------------------------------------------------------------

class MultiHeadAttention(nn.Module):
    """Multi-head attention: project to Q, K, V, split the MODEL dimension into heads, attend, merge, project.

    Each head ``h`` sees its own slice ``[h * d_head, (h + 1) * d_head)`` of the projected features, which
    is the same as having its own ``D x d_head`` projection matrices; every head sees the whole sequence.
    """

    def __init__(self, d_model: int, n_heads: int, bias: bool = True):
        super().__init__()
        if n_heads < 1 or d_model % n_heads != 0:
            raise CourseError(f"MultiHeadAttention: d_model={d_model} is not divisible by n_heads={n_heads}; each "
                              "head gets d_model / n_heads features, so choose n_heads that divides d_model.")
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.o_proj = nn.Linear(d_model, d_model, bias=bias)  # W_O: mixes the concatenated heads

    def split_heads(self, x: Tensor) -> Tensor:
        """``[B, L, D]`` -> ``[B, H, L, d_head]``: cut the feature dimension into H slices, one per head."""
        if x.dim() != 3 or x.shape[-1] != self.d_model:
            raise CourseError(f"split_heads: expected [batch, seq_len, {self.d_model}], got {tuple(x.shape)}.")
        b, length, _ = x.shape
        return x.view(b, length, self.n_heads, self.d_head).transpose(1, 2)

    def merge_heads(self, x: Tensor) -> Tensor:
        """``[B, H, L, d_head]`` -> ``[B, L, D]``: the inverse of :meth:`split_heads` (concatenate the heads)."""
        if x.dim() != 4 or x.shape[1] != self.n_heads or x.shape[-1] != self.d_head:
            raise CourseError(f"merge_heads: expected [batch, {self.n_heads}, seq_len, {self.d_head}], "
                              f"got {tuple(x.shape)}.")
        b, _, length, _ = x.shape
        return x.transpose(1, 2).reshape(b, length, self.d_model)

    def forward(self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None,
                mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Self-attention when only ``query`` ``[B, L, D]`` is given; cross-attention with ``key``/``value`` ``[B, L_k, D]``.

        ``mask``: boolean, broadcastable to ``[B, H, L_q, L_k]`` (e.g. ``[L, L]`` or ``[B, 1, 1, L_k]``).
        Returns ``(output [B, L_q, D], weights [B, H, L_q, L_k])``.
        """
        key = query if key is None else key
        value = key if value is None else value
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.dim() != 3 or t.shape[-1] != self.d_model:
                raise CourseError(f"MultiHeadAttention: {name} must be [batch, seq_len, {self.d_model}], "
                                  f"got {tuple(t.shape)}.")
        q = self.split_heads(self.q_proj(query))  # [B, H, L_q, d_head]
        k = self.split_heads(self.k_proj(key))    # [B, H, L_k, d_head]
        v = self.split_heads(self.v_proj(value))  # [B, H, L_k, d_head]
        heads, weights = scaled_dot_product_attention(q, k, v, mask)  # d_k = d_head: the scale uses it
        return self.o_proj(self.merge_heads(heads)), weights


# ---------------------------------------------------------------------------------------------
# Feed-forward network and positions
# ---------------------------------------------------------------------------------------------

ACTIVATIONS = {
    "relu": F.relu,
    "gelu": F.gelu,  # exact: x * Phi(x), as BERT uses
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),  # GPT-2's "gelu_new"
}
ACTIVATIONS["gelu_new"] = ACTIVATIONS["gelu_tanh"]


class PositionwiseFFN(nn.Module):
    """FFN(x) = act(x W1 + b1) W2 + b2, the same two-layer network applied at every position.

    ``[..., L, D]`` -> ``[..., L, D]`` through a hidden layer of width ``d_ff`` (usually 4 D).
    ``activation``: "gelu" (BERT), "gelu_tanh" / "gelu_new" (GPT-2) or "relu" (the original Transformer).
    """

    def __init__(self, d_model: int, d_ff: int, activation: str = "gelu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise CourseError(f"PositionwiseFFN: unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}.")
        self.activation = activation
        self.fc1 = nn.Linear(d_model, d_ff)  # W1, b1
        self.fc2 = nn.Linear(d_ff, d_model)  # W2, b2

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(ACTIVATIONS[self.activation](self.fc1(x)))


def sinusoidal_positional_encoding(max_len: int, d_model: int, base: float = 10000.0) -> Tensor:
    """The fixed encodings of Vaswani et al. (2017): ``[max_len, d_model]``.

    ``PE[pos, 2i] = sin(pos / base^(2i/d_model))`` and ``PE[pos, 2i+1] = cos(pos / base^(2i/d_model))``:
    each pair of columns is a clock turning at its own frequency, from 1 radian per position down to
    1 / base.
    """
    if d_model % 2 != 0 or d_model < 2:
        raise CourseError(f"sinusoidal_positional_encoding: d_model must be even (sin/cos pairs), got {d_model}.")
    positions = torch.arange(max_len, dtype=torch.float32)[:, None]              # [max_len, 1]
    inv_freq = base ** (-torch.arange(0, d_model, 2, dtype=torch.float32) / d_model)  # [d_model / 2]
    angles = positions * inv_freq                                                   # [max_len, d_model / 2]
    pe = torch.empty(max_len, d_model)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles)
    return pe


class LearnedPositionalEmbedding(nn.Module):
    """One trainable vector per position (BERT, GPT-2): ``x [B, L, D]`` -> ``x + P[:L]``.

    Unlike the sinusoidal encoding it cannot go past ``max_len`` (512 for BERT, 1024 for GPT-2).
    """

    def __init__(self, max_len: int, d_model: int):
        super().__init__()
        self.max_len = max_len
        self.embedding = nn.Embedding(max_len, d_model)

    def forward(self, x: Tensor) -> Tensor:
        length = x.shape[-2]
        if length > self.max_len:
            raise CourseError(f"LearnedPositionalEmbedding: the sequence has {length} positions but only "
                              f"{self.max_len} were learned; truncate the input to max_len tokens.")
        positions = torch.arange(length, device=x.device)
        return x + self.embedding(positions)  # [L, D] broadcasts over the batch


# ---------------------------------------------------------------------------------------------
# Layers: BERT-style encoder layer, GPT-2-style decoder block
# ---------------------------------------------------------------------------------------------

class EncoderLayer(nn.Module):
    """A BERT encoder layer (post-LayerNorm): ``x = LN(x + Attn(x)); x = LN(x + FFN(x))``.

    ``[B, L, D]`` -> ``[B, L, D]``. ``mask`` is a boolean padding mask (see :func:`padding_mask`).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, activation: str = "gelu",
                 layer_norm_eps: float = 1e-12, dropout: float = 0.0):
        super().__init__()
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.ln1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.ffn = PositionwiseFFN(d_model, d_ff, activation)
        self.ln2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor | None = None, return_attention: bool = False):
        attended, weights = self.attn(x, mask=mask)
        x = self.ln1(x + self.dropout(attended))  # residual, then normalise
        x = self.ln2(x + self.dropout(self.ffn(x)))
        return (x, weights) if return_attention else x


class DecoderBlock(nn.Module):
    """A GPT-2 block (pre-LayerNorm, causal): ``x = x + Attn(LN(x)); x = x + MLP(LN(x))``.

    ``[B, L, D]`` -> ``[B, L, D]``. The causal mask is always applied; ``attention_mask`` ``[B, L]``
    (1 = real token) can add padding on top of it. ``d_ff`` defaults to ``4 * d_model``.
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int | None = None, activation: str = "gelu_tanh",
                 layer_norm_eps: float = 1e-5, dropout: float = 0.0):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.ffn = PositionwiseFFN(d_model, d_ff or 4 * d_model, activation)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, attention_mask: Tensor | None = None, return_attention: bool = False):
        mask = causal_mask(x.shape[-2], device=x.device)  # [L, L]
        if attention_mask is not None:
            mask = mask & padding_mask(attention_mask)   # [B, 1, L, L]
        attended, weights = self.attn(self.ln1(x), mask=mask)
        x = x + self.dropout(attended)  # the residual stream itself is never normalised
        x = x + self.dropout(self.ffn(self.ln2(x)))
        return (x, weights) if return_attention else x


# ---------------------------------------------------------------------------------------------
# Loading weights from transformers
# ---------------------------------------------------------------------------------------------

def _copy(target: Tensor, source: Tensor, what: str) -> None:
    if target.shape != source.shape:
        raise CourseError(f"cannot copy {what}: ours has shape {tuple(target.shape)}, the model's has "
                          f"{tuple(source.shape)}; build our layer with the model's d_model, n_heads and d_ff.")
    with torch.no_grad():
        target.copy_(source)


def _copy_linear(ours: nn.Linear, weight: Tensor, bias: Tensor, what: str) -> None:
    _copy(ours.weight, weight, what + ".weight")
    _copy(ours.bias, bias, what + ".bias")


def load_bert_layer(ours: EncoderLayer, hf_layer: nn.Module) -> EncoderLayer:
    """Copy the weights of a transformers ``BertLayer`` into our :class:`EncoderLayer`; returns ``ours``.

    ``nn.Linear`` stores weights as ``[out, in]`` in both, so they copy as they are.
    """
    att = hf_layer.attention
    pairs = [
        (ours.attn.q_proj, att.self.query), (ours.attn.k_proj, att.self.key), (ours.attn.v_proj, att.self.value),
        (ours.attn.o_proj, att.output.dense), (ours.ln1, att.output.LayerNorm),
        (ours.ffn.fc1, hf_layer.intermediate.dense), (ours.ffn.fc2, hf_layer.output.dense),
        (ours.ln2, hf_layer.output.LayerNorm),
    ]
    for mine, theirs in pairs:
        _copy_linear(mine, theirs.weight, theirs.bias, type(theirs).__name__)
    ours.ln1.eps, ours.ln2.eps = att.output.LayerNorm.eps, hf_layer.output.LayerNorm.eps
    return ours


def load_gpt2_block(ours: DecoderBlock, hf_block: nn.Module) -> DecoderBlock:
    """Copy the weights of a transformers ``GPT2Block`` into our :class:`DecoderBlock`; returns ``ours``.

    GPT-2 uses ``Conv1D`` layers, which compute ``x @ W + b`` with ``W`` stored as ``[in, out]``: the
    transpose of ``nn.Linear``'s ``[out, in]``. Its ``c_attn`` packs the Q, K and V projections side by
    side in one ``[D, 3D]`` matrix, so we cut it into three ``[D, D]`` blocks.
    """
    d = ours.attn.d_model
    c_attn = hf_block.attn.c_attn
    if tuple(c_attn.weight.shape) != (d, 3 * d):
        raise CourseError(f"load_gpt2_block: the block's c_attn weight is {tuple(c_attn.weight.shape)} but our "
                          f"d_model={d} needs ({d}, {3 * d}); build DecoderBlock with the config's n_embd.")
    w_q, w_k, w_v = c_attn.weight.split(d, dim=1)  # three [D, D] blocks, each [in, out]
    b_q, b_k, b_v = c_attn.bias.split(d)
    _copy_linear(ours.attn.q_proj, w_q.T, b_q, "c_attn (query part)")
    _copy_linear(ours.attn.k_proj, w_k.T, b_k, "c_attn (key part)")
    _copy_linear(ours.attn.v_proj, w_v.T, b_v, "c_attn (value part)")
    _copy_linear(ours.attn.o_proj, hf_block.attn.c_proj.weight.T, hf_block.attn.c_proj.bias, "attn.c_proj")
    _copy_linear(ours.ffn.fc1, hf_block.mlp.c_fc.weight.T, hf_block.mlp.c_fc.bias, "mlp.c_fc")
    _copy_linear(ours.ffn.fc2, hf_block.mlp.c_proj.weight.T, hf_block.mlp.c_proj.bias, "mlp.c_proj")
    _copy_linear(ours.ln1, hf_block.ln_1.weight, hf_block.ln_1.bias, "ln_1")
    _copy_linear(ours.ln2, hf_block.ln_2.weight, hf_block.ln_2.bias, "ln_2")
    ours.ln1.eps, ours.ln2.eps = hf_block.ln_1.eps, hf_block.ln_2.eps
    return ours
