"""course_utils.glove: counting, the weighting function, the objective, PPMI,
evaluation, bad input.
"""

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch.testing import assert_close

from course_utils import glove
from course_utils.errors import CourseError
from course_utils.glove import GloveError


# ---------------------------------------------------------------- tokenising
# and counting


def test_tokenize_and_vocab():
    tokens = glove.tokenize("The cat's well-known 3 toys, THE end.")
    assert tokens == ["the", "cat's", "well-known", "toys", "the", "end"]
    docs = [["b", "a", "b", "c"], ["a", "b", "d"]]
    assert glove.frequent_words(docs, min_count=2) == [
        "b",
        "a",
    ]  # by frequency, then alphabetically
    assert glove.frequent_words(docs, min_count=1) == ["b", "a", "c", "d"]


def test_cooccurrence_counts_by_hand():
    docs = [["a", "b", "c", "a"], ["b", "c"]]
    X = glove.cooccurrence_matrix(docs, ["a", "b", "c"], window=2).toarray()
    # doc 1, distance 1: (a,b) (b,c) (c,a) add 1; distance 2: (a,c) (b,a) add
    # 1/2. doc 2: (b,c) adds 1.
    expected = np.array([[0.0, 1.5, 1.5], [1.5, 0.0, 2.0], [1.5, 2.0, 0.0]])
    np.testing.assert_allclose(X, expected)
    np.testing.assert_allclose(X, X.T)


def test_cooccurrence_window_self_pairs_and_unweighted():
    docs = [["a", "b", "c", "a"]]
    X = glove.cooccurrence_matrix(docs, ["a", "b", "c"], window=3).toarray()
    assert X[0, 0] == pytest.approx(
        2 / 3
    )  # a ... a at distance 3, counted in both directions
    X1 = glove.cooccurrence_matrix(
        docs, ["a", "b", "c"], window=2, distance_weighting=False
    ).toarray()
    assert X1[0, 1] == 2.0 and X1[0, 2] == 2.0


def test_cooccurrence_drops_oov_and_respects_documents():
    X = glove.cooccurrence_matrix(
        [["a", "zzz", "b"], ["c"]], ["a", "b", "c"], window=1
    ).toarray()
    assert X[0, 1] == 1.0  # zzz is removed first, so a and b become neighbours
    assert (
        X[1, 2] == 0.0 and X[2].sum() == 0.0
    )  # no pair crosses the document boundary


def test_cooccurrence_bad_input():
    with pytest.raises(GloveError, match="list of documents"):
        glove.cooccurrence_matrix("a b c", ["a"], window=2)
    with pytest.raises(GloveError, match="list of documents"):
        glove.cooccurrence_matrix(["a", "b"], ["a", "b"], window=2)
    with pytest.raises(CourseError, match="window"):
        glove.cooccurrence_matrix([["a"]], ["a"], window=0)
    with pytest.raises(GloveError, match="empty"):
        glove.cooccurrence_matrix([["a"]], [], window=2)
    with pytest.raises(CourseError, match="min_count"):
        glove.frequent_words([["a"]], min_count=0)


# ---------------------------------------------------------------- the objective


def test_weighting_function():
    x = torch.tensor([0.0, 1.0, 50.0, 99.0, 100.0, 250.0])
    f = glove.weighting(x)
    assert f[0] == 0 and f[4] == 1 and f[5] == 1
    assert_close(f[1:4], (x[1:4] / 100) ** 0.75)
    assert torch.all(f <= 1) and torch.all(f[1:] > 0)
    assert_close(
        glove.weighting(torch.tensor([5.0, 20.0]), x_max=10, alpha=0.5),
        torch.tensor([0.5**0.5, 1.0]),
    )
    assert glove.weighting(
        torch.tensor([3, 200])
    ).dtype.is_floating_point  # integer counts are fine
    with pytest.raises(GloveError, match="negative"):
        glove.weighting(torch.tensor([-1.0]))
    with pytest.raises(GloveError, match="x_max"):
        glove.weighting(torch.tensor([1.0]), x_max=0)


def _double_loop(W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75):
    total = torch.zeros((), dtype=W.dtype)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            x = X[i, j]
            if x > 0:
                f = (
                    (x / x_max) ** alpha
                    if x < x_max
                    else torch.ones((), dtype=W.dtype)
                )
                total = (
                    total
                    + f
                    * (W[i] @ W_ctx[j] + b[i] + b_ctx[j] - torch.log(x)) ** 2
                )
    return total


def test_loss_equals_double_loop():
    gen = torch.Generator().manual_seed(0)
    V, d = 7, 4
    W = torch.randn(V, d, generator=gen, dtype=torch.float64)
    W_ctx = torch.randn(V, d, generator=gen, dtype=torch.float64)
    b, b_ctx = (
        torch.randn(V, generator=gen, dtype=torch.float64),
        torch.randn(V, generator=gen, dtype=torch.float64),
    )
    X = torch.rand(V, V, generator=gen, dtype=torch.float64) * 150
    X[torch.rand(V, V, generator=gen) < 0.5] = 0
    for x_max, alpha in [(100.0, 0.75), (10.0, 0.5)]:
        assert_close(
            glove.glove_loss_dense(W, W_ctx, b, b_ctx, X, x_max, alpha),
            _double_loop(W, W_ctx, b, b_ctx, X, x_max, alpha),
        )
    # the sparse form over (i, j, X_ij) triples is the same number
    Xs = sp.coo_matrix(X.numpy())
    assert_close(
        glove.glove_loss(
            W,
            W_ctx,
            b,
            b_ctx,
            torch.from_numpy(Xs.row).long(),
            torch.from_numpy(Xs.col).long(),
            torch.from_numpy(Xs.data),
        ),
        _double_loop(W, W_ctx, b, b_ctx, X),
    )


def test_loss_bad_input():
    W = torch.zeros(3, 2)
    b = torch.zeros(3)
    idx = torch.tensor([0, 1])
    with pytest.raises(GloveError, match="shape"):
        glove.glove_loss(
            W, torch.zeros(3, 5), b, b, idx, idx, torch.tensor([1.0, 2.0])
        )
    with pytest.raises(GloveError, match="b and b_ctx"):
        glove.glove_loss(
            W, W, torch.zeros(4), b, idx, idx, torch.tensor([1.0, 2.0])
        )
    with pytest.raises(GloveError, match="non-zero"):
        glove.glove_loss(W, W, b, b, idx, idx, torch.tensor([1.0, 0.0]))
    with pytest.raises(GloveError, match="same length"):
        glove.glove_loss(W, W, b, b, idx, idx[:1], torch.tensor([1.0, 2.0]))
    with pytest.raises(GloveError, match="square"):
        glove.glove_loss_dense(W, W, b, b, torch.ones(3, 4))


def test_training_lowers_the_loss_and_is_deterministic():
    rng = np.random.default_rng(0)
    words = [f"w{k}" for k in range(30)]
    docs = [
        [words[min(29, int(rng.exponential(6)))] for _ in range(400)]
        for _ in range(5)
    ]
    vocab = glove.frequent_words(docs, min_count=1)
    X = glove.cooccurrence_matrix(docs, vocab, window=3)
    model = glove.train_glove(X, dim=8, epochs=15, x_max=10, batch_size=256)
    assert model.losses[-1] < 0.5 * model.losses[0]
    assert model.vectors.shape == (len(vocab), 8)
    again = glove.train_glove(X, dim=8, epochs=15, x_max=10, batch_size=256)
    np.testing.assert_array_equal(model.vectors, again.vectors)
    assert (
        glove.train_glove(X, dim=8, epochs=3, optimizer="adam", lr=0.01).losses[
            -1
        ]
        < model.losses[0] * 2
    )
    with pytest.raises(GloveError, match="scipy.sparse"):
        glove.train_glove(X.toarray(), dim=4, epochs=1)
    with pytest.raises(GloveError, match="optimizer"):
        glove.train_glove(X, dim=4, epochs=1, optimizer="sgd")
    with pytest.raises(GloveError, match="nothing to fit"):
        glove.train_glove(sp.csr_matrix((3, 3)), dim=4, epochs=1)


# ---------------------------------------------------------------- the baseline
# and evaluation


def test_ppmi_by_hand():
    X = np.array([[0.0, 2.0], [2.0, 1.0]])
    P = glove.ppmi(sp.csr_matrix(X)).toarray()
    # N = 5, row and column sums (2, 3): PMI(0,1) = log(2 * 5 / (2 * 3)) > 0;
    # PMI(1,1) = log(5 / 9) < 0 -> 0
    np.testing.assert_allclose(
        P, [[0.0, math.log(10 / 6)], [math.log(10 / 6), 0.0]]
    )
    np.testing.assert_allclose(
        glove.ppmi(X).toarray(), P
    )  # dense input works too
    with pytest.raises(GloveError, match="non-negative"):
        glove.ppmi(np.array([[1.0, -1.0], [0.0, 1.0]]))
    with pytest.raises(GloveError, match="all zeros"):
        glove.ppmi(np.zeros((2, 2)))


def test_svd_vectors():
    rng = np.random.default_rng(0)
    M = sp.csr_matrix(rng.random((20, 20)))
    E = glove.svd_vectors(M, dim=5)
    assert E.shape == (20, 5)
    with pytest.raises(GloveError, match="smaller"):
        glove.svd_vectors(M, dim=20)


def test_evaluation_on_constructed_vectors(tmp_path):
    vocab = ["king", "queen", "man", "woman", "apple", "pear"]
    w2i = {w: i for i, w in enumerate(vocab)}
    E = np.array(
        [
            [1, 1, 0],
            [1, -1, 0],
            [0, 1, 0.2],
            [0, -1, 0.2],
            [0, 0, 1],
            [0.1, 0, 1],
        ],
        dtype=float,
    )
    path = tmp_path / "questions.txt"
    path.write_text(
        ": family\nman woman king queen\nMan King woman queen\n: other\nman "
        "woman king unknown\n"
    )
    questions = glove.read_analogies(path)
    assert (
        questions[0] == ("family", "man", "woman", "king", "queen")
        and len(questions) == 3
    )
    acc, used, total = glove.analogy_accuracy(E, w2i, questions)
    assert (acc, used, total) == (1.0, 2, 3)
    pairs = {
        "word1": ["apple", "king", "man", "zzz"],
        "word2": ["pear", "queen", "apple", "man"],
        "score": [9.0, 1.0, 5.0, 3.0],
    }
    rho, used, total = glove.similarity_spearman(E, w2i, pairs)
    assert rho == pytest.approx(1.0) and (used, total) == (3, 4)
    assert glove.nearest_neighbours(E, vocab, "apple", k=1)[0][0] == "pear"
    with pytest.raises(GloveError, match="not in the vocabulary"):
        glove.nearest_neighbours(E, vocab, "banana")
    with pytest.raises(GloveError, match="too few"):
        glove.similarity_spearman(
            E, w2i, {"word1": ["zzz"], "word2": ["man"], "score": [1.0]}
        )
