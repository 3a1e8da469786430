"""Sentence embeddings from a Transformer encoder: mean pooling, cosine similarity, batched encoding.

Chapter 2 writes these out step by step and checks them against ``sentence-transformers``; later
chapters (semantic search in chapter 8) import them from here instead of copying them.

Shapes: ``B`` sentences, ``T`` tokens (after padding), ``D`` hidden size.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch


def _as_tensor(x, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    try:
        return torch.as_tensor(x)
    except Exception:
        raise ValueError(f"{name} must be a tensor (or array), not {type(x).__name__}.") from None


def mean_pool(hidden_states, attention_mask) -> torch.Tensor:
    """Average the token vectors of each sentence, counting only real tokens (mask 1), never padding.

    hidden_states: [B, T, D], e.g. ``model(**batch).last_hidden_state``.
    attention_mask: [B, T], 1 for real tokens and 0 for padding (the tokenizer's ``attention_mask``).
    Returns [B, D]: ``sum_t m_bt h_btd / sum_t m_bt``.
    """
    hidden_states = _as_tensor(hidden_states, "hidden_states")
    attention_mask = _as_tensor(attention_mask, "attention_mask")
    if hidden_states.dim() != 3:
        raise ValueError(f"mean_pool: hidden_states must be [batch, seq, dim] but has shape {tuple(hidden_states.shape)}.")
    if attention_mask.shape != hidden_states.shape[:2]:
        raise ValueError(f"mean_pool: attention_mask must be [batch, seq] = {tuple(hidden_states.shape[:2])} "
                         f"to match hidden_states, but has shape {tuple(attention_mask.shape)}.")
    mask = attention_mask.unsqueeze(-1).to(hidden_states.dtype)  # [B, T, 1]
    summed = (hidden_states * mask).sum(dim=1)  # [B, D]
    counts = mask.sum(dim=1).clamp(min=1e-9)  # [B, 1]; an all-padding row gives zeros, not NaN
    return summed / counts


def cosine_similarity_matrix(a, b=None, eps: float = 1e-12) -> torch.Tensor:
    """Cosine similarity of every row of ``a`` with every row of ``b``.

    a: [N, D], b: [M, D] (``b`` defaults to ``a``). Returns [N, M] with entry (i, j) equal to
    ``a_i . b_j / (|a_i| |b_j|)``; zero rows get similarity 0 instead of NaN.
    """
    a = _as_tensor(a, "a").float()
    b = a if b is None else _as_tensor(b, "b").float()
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError(f"cosine_similarity_matrix: both inputs must be 2-D [n, dim], got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}.")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"cosine_similarity_matrix: the vectors must have the same dimension, got "
                         f"{a.shape[1]} and {b.shape[1]}.")
    a_unit = a / a.norm(dim=1, keepdim=True).clamp(min=eps)  # [N, D]
    b_unit = b / b.norm(dim=1, keepdim=True).clamp(min=eps)  # [M, D]
    return a_unit @ b_unit.T


@torch.inference_mode()
def encode(texts: Sequence[str], tokenizer, model, *, batch_size: int = 32, max_length: int = 256,
           normalize: bool = True) -> torch.Tensor:
    """Sentence embeddings [len(texts), D]: tokenize, run the encoder, mean-pool, L2-normalise.

    Texts are processed in batches sorted by length (less padding, same result) and returned in
    the original order. With the all-MiniLM-L6-v2 model this reproduces
    ``SentenceTransformer(...).encode(texts)`` (chapter 2 checks it).
    """
    if isinstance(texts, str):
        raise ValueError("encode: pass a list of texts, not a single string (wrap it as [text]).")
    texts = list(texts)
    if not texts:
        raise ValueError("encode: the list of texts is empty.")
    model.eval()
    device = next(model.parameters()).device
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = [None] * len(texts)
    for start in range(0, len(texts), batch_size):
        idx = order[start:start + batch_size]
        batch = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                          return_tensors="pt").to(device)
        pooled = mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])  # [b, D]
        if normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        for row, i in zip(pooled.cpu(), idx):
            out[i] = row
    return torch.stack(out)
