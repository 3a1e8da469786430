"""Solutions to the chapter 3 exercises (instructors only; the tests fill them
into the student notebook).
"""

import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k)) v, returning (output, weights). mask: boolean,
    True = may attend.
    """
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # [..., T_q, T_k]
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


def causal_mask(seq_len):
    """[seq_len, seq_len] boolean mask: True where query i may attend to key j,
    i.e. j <= i.
    """
    return torch.ones(seq_len, seq_len, dtype=torch.bool).tril()


def split_heads(x, n_heads):
    """[B, T, d] -> [B, h, T, d/h]: split the model dimension into heads."""
    b, length, d = x.shape
    return x.view(b, length, n_heads, d // n_heads).transpose(1, 2)


def merge_heads(x):
    """[B, h, T, d/h] -> [B, T, d]: concatenate the heads of each token."""
    b, h, length, d_head = x.shape
    return x.transpose(1, 2).reshape(b, length, h * d_head)


def sinusoidal_encoding(max_len, d_model):
    """[max_len, d_model]: PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] =
    cos(p / 10000^(2i/d)).
    """
    positions = torch.arange(max_len, dtype=torch.float32)[:, None]
    angles = positions / 10000 ** (
        torch.arange(0, d_model, 2, dtype=torch.float32) / d_model
    )
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles)
    return pe
