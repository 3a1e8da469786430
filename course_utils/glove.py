"""GloVe and its count-based baseline: the reference implementation of chapter 4.

Chapter 4 writes the weighting function and the GloVe objective in the open and checks them against
this module; the benchmark (``benchmarks/bench_glove.py``) and the tests use the same code.

The pieces, in the order the chapter uses them:

* :func:`tokenize`, :func:`build_vocab`: lower-cased word tokens and a frequency-sorted vocabulary.
* :func:`cooccurrence_matrix`: the symmetric, distance-weighted co-occurrence counts ``X`` as a
  ``scipy.sparse`` matrix of shape ``(V, V)``, computed with array operations (no loop over tokens).
* :func:`weighting` and :func:`glove_loss`: ``f(x) = min(1, (x / x_max) ** alpha)`` and
  ``J = sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij) ** 2`` over the non-zero entries
  (Pennington, Socher and Manning 2014).
* :func:`train_glove`: mini-batch AdaGrad (as in the paper) or Adam over the shuffled non-zero entries.
* :func:`ppmi` and :func:`svd_vectors`: positive pointwise mutual information and truncated SVD,
  the count-based baseline computed from the same ``X``.
* :func:`similarity_spearman`, :func:`analogy_accuracy`, :func:`nearest_neighbours`: evaluation.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch

from .errors import CourseError

X_MAX = 100.0  # the paper's values
ALPHA = 0.75

_WORD = re.compile(r"[a-z]+(?:['\u2019-][a-z]+)*")


class GloveError(CourseError, ValueError):
    """Bad input to the GloVe code; the message says what to pass instead."""


# --------------------------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------------------------

def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens: letters with inner apostrophes or hyphens; digits and punctuation dropped."""
    return _WORD.findall(text.lower())


def build_vocab(docs: Iterable[Sequence[str]], min_count: int = 5) -> list[str]:
    """The words seen at least ``min_count`` times, most frequent first (ties in alphabetical order)."""
    if min_count < 1:
        raise GloveError(f"min_count must be at least 1, got {min_count}.")
    counts = Counter(w for doc in docs for w in doc)
    kept = [(w, c) for w, c in counts.items() if c >= min_count]
    kept.sort(key=lambda wc: (-wc[1], wc[0]))
    return [w for w, _ in kept]


def cooccurrence_matrix(docs: Iterable[Sequence[str]], vocab: Sequence[str], window: int = 5,
                        distance_weighting: bool = True) -> sp.csr_matrix:
    """Symmetric co-occurrence counts ``X`` of shape ``(V, V)`` (float64, CSR).

    Words outside ``vocab`` are removed first (as the GloVe reference tool does), then every pair of
    words at distance ``d <= window`` inside the same document adds ``1 / d`` (or 1 when
    ``distance_weighting`` is False) to both ``X[i, j]`` and ``X[j, i]``. Pairs never cross documents.
    The work is one vectorised pass per distance ``d``, not a Python loop over tokens.
    """
    if window < 1:
        raise GloveError(f"window must be at least 1, got {window}.")
    if isinstance(docs, str) or (isinstance(docs, Sequence) and docs and isinstance(docs[0], str)):
        raise GloveError("cooccurrence_matrix expects a list of documents, each a list of word tokens "
                         "(e.g. [tokenize(text) for text in texts]), not a single string or a flat token list.")
    word_to_id = {w: i for i, w in enumerate(vocab)}
    if not word_to_id:
        raise GloveError("the vocabulary is empty: lower min_count or pass more text.")
    ids, doc_of = [], []
    for n, doc in enumerate(docs):
        kept = [word_to_id[w] for w in doc if w in word_to_id]
        ids.append(np.asarray(kept, dtype=np.int64))
        doc_of.append(np.full(len(kept), n, dtype=np.int64))
    ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    doc_of = np.concatenate(doc_of) if doc_of else np.zeros(0, np.int64)
    rows, cols, vals = [], [], []
    for d in range(1, window + 1):
        if len(ids) <= d:
            break
        same_doc = doc_of[:-d] == doc_of[d:]
        left, right = ids[:-d][same_doc], ids[d:][same_doc]
        weight = 1.0 / d if distance_weighting else 1.0
        rows.append(left)
        cols.append(right)
        vals.append(np.full(len(left), weight))
    V = len(word_to_id)
    if not rows:
        return sp.csr_matrix((V, V))
    # one direction (left word, right word); duplicates are summed when converting to CSR
    C = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(V, V)).tocsr()
    X = (C + C.T).tocsr()  # both directions; exactly symmetric, since a + b == b + a in floating point
    X.sort_indices()
    return X


# --------------------------------------------------------------------------------------------
# The objective
# --------------------------------------------------------------------------------------------

def weighting(x: torch.Tensor, x_max: float = X_MAX, alpha: float = ALPHA) -> torch.Tensor:
    """``f(x) = (x / x_max) ** alpha`` for ``x < x_max``, else 1 (elementwise, any shape; f(0) = 0)."""
    if x_max <= 0:
        raise GloveError(f"x_max must be positive, got {x_max}.")
    x = torch.as_tensor(x)
    if not torch.is_floating_point(x):
        x = x.float()
    if (x < 0).any():
        raise GloveError("co-occurrence counts cannot be negative.")
    return torch.where(x < x_max, (x / x_max) ** alpha, torch.ones_like(x))


def glove_loss(W: torch.Tensor, W_ctx: torch.Tensor, b: torch.Tensor, b_ctx: torch.Tensor,
               rows: torch.Tensor, cols: torch.Tensor, counts: torch.Tensor,
               x_max: float = X_MAX, alpha: float = ALPHA) -> torch.Tensor:
    """The GloVe objective summed over the given non-zero entries ``X[rows[k], cols[k]] = counts[k]``.

    Shapes: ``W, W_ctx`` (V, d); ``b, b_ctx`` (V,); ``rows, cols, counts`` (N,). Returns a scalar.
    Zero counts are not allowed (``log 0``): pass only the non-zero entries, as ``f(0) = 0`` anyway.
    """
    if W.shape != W_ctx.shape or W.dim() != 2:
        raise GloveError(f"W and W_ctx must both have shape (V, d); got {tuple(W.shape)} and {tuple(W_ctx.shape)}.")
    if b.shape != (W.shape[0],) or b_ctx.shape != (W.shape[0],):
        raise GloveError(f"b and b_ctx must have shape ({W.shape[0]},); got {tuple(b.shape)} and {tuple(b_ctx.shape)}.")
    if not (rows.shape == cols.shape == counts.shape) or rows.dim() != 1:
        raise GloveError("rows, cols and counts must be 1-D and of the same length (one entry per non-zero X_ij).")
    if (counts <= 0).any():
        raise GloveError("glove_loss got a count <= 0: pass only the non-zero entries of X (log 0 is -inf).")
    pred = (W[rows] * W_ctx[cols]).sum(-1) + b[rows] + b_ctx[cols]  # (N,)
    return (weighting(counts, x_max, alpha) * (pred - torch.log(counts)) ** 2).sum()


def glove_loss_dense(W, W_ctx, b, b_ctx, X: torch.Tensor, x_max: float = X_MAX, alpha: float = ALPHA) -> torch.Tensor:
    """The same objective for a dense ``X`` of shape (V, V): the sum runs over its non-zero entries."""
    X = torch.as_tensor(X)
    if X.dim() != 2 or X.shape[0] != X.shape[1] or X.shape[0] != W.shape[0]:
        raise GloveError(f"X must be a square (V, V) matrix with V = {W.shape[0]}, got shape {tuple(X.shape)}.")
    rows, cols = torch.nonzero(X, as_tuple=True)
    return glove_loss(W, W_ctx, b, b_ctx, rows, cols, X[rows, cols].to(W.dtype), x_max, alpha)


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

@dataclass
class GloveModel:
    """Trained parameters (numpy arrays) and the mean weighted loss of each epoch."""

    W: np.ndarray  # (V, d) word vectors
    W_ctx: np.ndarray  # (V, d) context vectors
    b: np.ndarray  # (V,)
    b_ctx: np.ndarray  # (V,)
    losses: list[float] = field(default_factory=list)
    seconds: float = float("nan")

    @property
    def vectors(self) -> np.ndarray:
        """``W + W_ctx``, the vectors the paper uses (the two sets differ only by initialisation)."""
        return self.W + self.W_ctx


def init_params(V: int, dim: int, seed: int = 0) -> list[torch.Tensor]:
    """``[W, W_ctx, b, b_ctx]`` as in the reference code: uniform in (-0.5/d, 0.5/d), biases 0."""
    gen = torch.Generator().manual_seed(seed)
    W = (torch.rand(V, dim, generator=gen) - 0.5) / dim
    W_ctx = (torch.rand(V, dim, generator=gen) - 0.5) / dim
    return [p.requires_grad_() for p in (W, W_ctx, torch.zeros(V), torch.zeros(V))]


def _as_triples(X) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    if not sp.issparse(X):
        raise GloveError("train_glove expects X as a scipy.sparse matrix, e.g. from cooccurrence_matrix().")
    X = sp.coo_matrix(X)
    keep = X.data > 0
    return (torch.from_numpy(X.row[keep].astype(np.int64)), torch.from_numpy(X.col[keep].astype(np.int64)),
            torch.from_numpy(X.data[keep].astype(np.float32)))


@contextmanager
def torch_threads(n: int | None):
    """Run the block with ``n`` torch CPU threads (None: leave the setting alone), then restore it.

    GloVe's backward pass is a scatter-add of many small rows into the embedding matrices, which
    torch parallelises badly: on 2 cores one thread is faster, and much faster on a busy machine.
    """
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train_glove(X, dim: int = 50, epochs: int = 20, x_max: float = X_MAX, alpha: float = ALPHA,
                lr: float = 0.2, batch_size: int = 16384, optimizer: str = "adagrad", seed: int = 0,
                threads: int | None = 1, verbose: bool = False) -> GloveModel:
    """Fit GloVe to the co-occurrence matrix ``X`` (scipy.sparse, (V, V)).

    Each epoch visits the non-zero entries in a new random order, in mini-batches of ``batch_size``;
    the mini-batch loss is the *sum* of its terms. The paper's AdaGrad updates one entry at a time
    with step 0.05; with summed mini-batches a word gets one step per batch instead of one per
    entry, hence the larger default step. ``optimizer`` is ``"adagrad"`` (the paper) or ``"adam"``.
    The loop is the one chapter 4 writes out; ``losses`` holds each epoch's mean weighted loss.
    """
    with torch_threads(threads):
        return _train(X, dim, epochs, x_max, alpha, lr, batch_size, optimizer, seed, verbose)


def _train(X, dim, epochs, x_max, alpha, lr, batch_size, optimizer, seed, verbose) -> GloveModel:
    import time

    if optimizer not in ("adagrad", "adam"):
        raise GloveError(f"optimizer must be 'adagrad' or 'adam', got {optimizer!r}.")
    if X.shape[0] != X.shape[1]:
        raise GloveError(f"X must be square, got shape {X.shape}.")
    rows, cols, counts = _as_triples(X)
    if len(counts) == 0:
        raise GloveError("X has no non-zero entries: there is nothing to fit.")
    params = init_params(X.shape[0], dim, seed)
    opt = (torch.optim.Adagrad(params, lr=lr) if optimizer == "adagrad" else torch.optim.Adam(params, lr=lr))
    weights, log_counts = weighting(counts, x_max, alpha), torch.log(counts)
    gen = torch.Generator().manual_seed(seed)
    model = GloveModel(*(p.detach().numpy() for p in params))
    start = time.perf_counter()
    for epoch in range(epochs):
        order = torch.randperm(len(counts), generator=gen)
        total = 0.0
        for s in range(0, len(order), batch_size):
            k = order[s:s + batch_size]
            loss = glove_step_loss(params, rows[k], cols[k], weights[k], log_counts[k])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        model.losses.append(total / len(counts))
        if verbose:
            print(f"epoch {epoch + 1:3d}: mean weighted loss {model.losses[-1]:.4f}")
    model.seconds = time.perf_counter() - start
    model.W, model.W_ctx, model.b, model.b_ctx = (p.detach().numpy().copy() for p in params)
    return model


def glove_step_loss(params, rows, cols, weights, log_counts) -> torch.Tensor:
    """Summed weighted squared error of one mini-batch, with ``f(X_ij)`` and ``log X_ij`` precomputed."""
    W, W_ctx, b, b_ctx = params
    pred = ((W.index_select(0, rows) * W_ctx.index_select(0, cols)).sum(-1)
            + b.index_select(0, rows) + b_ctx.index_select(0, cols))
    return (weights * (pred - log_counts) ** 2).sum()


# --------------------------------------------------------------------------------------------
# The count-based baseline
# --------------------------------------------------------------------------------------------

def ppmi(X) -> sp.csr_matrix:
    """Positive pointwise mutual information ``max(0, log(X_ij * N / (X_i. * X_.j)))`` of a sparse count matrix.

    ``N`` is the sum of all counts; zero counts stay zero (their PMI is -inf, clipped to 0).
    """
    if not sp.issparse(X):
        X = sp.csr_matrix(np.asarray(X, dtype=float))
    X = sp.coo_matrix(X, dtype=np.float64)
    if (X.data < 0).any():
        raise GloveError("PPMI needs non-negative counts.")
    keep = X.data > 0
    r, c, x = X.row[keep], X.col[keep], X.data[keep]
    total = x.sum()
    if total == 0:
        raise GloveError("the count matrix is all zeros: PPMI is undefined.")
    row_sum = np.asarray(X.sum(axis=1)).ravel()
    col_sum = np.asarray(X.sum(axis=0)).ravel()
    pmi = np.log(x) + math.log(total) - np.log(row_sum[r]) - np.log(col_sum[c])
    pos = pmi > 0
    return sp.csr_matrix((pmi[pos], (r[pos], c[pos])), shape=X.shape)


def svd_vectors(M, dim: int = 100, power: float = 0.5, seed: int = 0) -> np.ndarray:
    """Truncated SVD word vectors ``U_d * S_d ** power`` (shape (V, dim)) of a sparse matrix ``M``.

    ``power = 0.5`` is the symmetric split that Levy, Goldberg and Dagan (2015) recommend.
    """
    from sklearn.utils.extmath import randomized_svd

    if dim >= min(M.shape):
        raise GloveError(f"dim must be smaller than the matrix size {min(M.shape)}, got {dim}.")
    U, S, _ = randomized_svd(M, n_components=dim, n_iter=5, random_state=seed)
    return U * S ** power


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------

def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def similarity_spearman(vectors: np.ndarray, word_to_id: dict, pairs) -> tuple[float, int, int]:
    """Spearman correlation between cosine similarities and human scores, over the pairs in the vocabulary.

    ``pairs``: a Dataset (or dict of lists) with ``word1``, ``word2``, ``score``. Returns
    ``(rho, pairs used, pairs in the set)``.
    """
    from scipy.stats import spearmanr

    E = _unit_rows(vectors)
    human, model = [], []
    for a, b, s in zip(pairs["word1"], pairs["word2"], pairs["score"]):
        if a in word_to_id and b in word_to_id:
            human.append(s)
            model.append(float(E[word_to_id[a]] @ E[word_to_id[b]]))
    if len(human) < 3:
        raise GloveError(f"only {len(human)} pairs are in the vocabulary: too few for a correlation.")
    return float(spearmanr(human, model).statistic), len(human), len(pairs["word1"])


def read_analogies(path) -> list[tuple[str, str, str, str, str]]:
    """``(section, a, b, c, d)`` tuples, lower-cased, from a questions-words.txt file (": section" headers)."""
    out, section = [], ""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == ":":
                section = parts[1]
            elif len(parts) == 4:
                out.append((section, *(p.lower() for p in parts)))
    return out


def analogy_accuracy(vectors: np.ndarray, word_to_id: dict, questions, batch: int = 1024) -> tuple[float, int, int]:
    """3CosAdd accuracy: ``argmax_x cos(x, b - a + c)`` over the vocabulary minus ``a, b, c`` must be ``d``.

    Only questions whose four words are in the vocabulary count. Returns ``(accuracy, used, total)``.
    """
    E = _unit_rows(vectors).astype(np.float32)
    covered = [q for q in questions if all(w in word_to_id for w in q[1:])]
    if not covered:
        return float("nan"), 0, len(questions)
    ids = np.array([[word_to_id[w] for w in q[1:]] for q in covered])
    correct = 0
    for s in range(0, len(ids), batch):
        a, b, c, d = ids[s:s + batch].T
        scores = (E[b] - E[a] + E[c]) @ E.T  # (batch, V)
        rows = np.arange(len(a))
        for excluded in (a, b, c):
            scores[rows, excluded] = -np.inf
        correct += int((scores.argmax(1) == d).sum())
    return correct / len(covered), len(covered), len(questions)


def nearest_neighbours(vectors: np.ndarray, vocab: Sequence[str], word: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` words with the highest cosine similarity to ``word`` (itself excluded)."""
    word_to_id = {w: i for i, w in enumerate(vocab)}
    if word not in word_to_id:
        raise GloveError(f"{word!r} is not in the vocabulary.")
    E = _unit_rows(vectors)
    sims = E @ E[word_to_id[word]]
    sims[word_to_id[word]] = -np.inf
    best = np.argsort(-sims)[:k]
    return [(vocab[i], float(sims[i])) for i in best]
