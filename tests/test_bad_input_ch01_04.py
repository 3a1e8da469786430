"""Bad input to the code that chapters 1, 2 and 4 export (course_utils.ngram,
course_utils.embeddings, course_utils.glove) ends in one CourseError sentence
or in the result the docstring documents: never a raw traceback, a silent
wrong answer or a hang.

Property tests generate wrong types, wrong shapes, empty input, out-of-range
numbers and NaN; the explicit tests are the examples of issue 15.
"""

import math

import datasets
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from bad_input import PROPERTY_SETTINGS, clear_error, clear_error_or_result
from hypothesis import given
from hypothesis import strategies as st

from course_utils import embeddings, glove, ngram

# anything that is not a list of token lists: wrong types for every guard
NOT_A_NUMBER = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.binary(max_size=4),
    st.booleans(),
)
NUMBERS = st.one_of(
    st.integers(-5, 50), st.floats(allow_nan=True, allow_infinity=True)
)
ANYTHING = st.one_of(NOT_A_NUMBER, NUMBERS)
WORD = st.text("abcdef", min_size=1, max_size=4)
TOKEN_LISTS = st.lists(st.lists(WORD, max_size=6), max_size=5)
# a list of sentences where some "sentence" is a string or holds a non-string
BROKEN_SENTENCES = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.lists(st.one_of(st.integers(), st.none()), min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=4,
)
TOY = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "ran"]]


@pytest.fixture(scope="module")
def lm():
    vocab = ngram.build_vocab(TOY, min_count=1)
    return ngram.NgramLM(2, vocab, smoothing="kn").fit(TOY)


# -------------------------------------------------- the examples of issue 15
def test_ngram_build_vocab_refuses_strings_instead_of_token_lists():
    message = clear_error(lambda: ngram.build_vocab(["the cat sat"]))
    assert "list of words" in message and "tokenize" in message
    clear_error(lambda: ngram.build_vocab("the cat sat"))


def test_glove_vocabulary_refuses_strings_instead_of_token_lists():
    message = clear_error(lambda: glove.frequent_words(["the cat sat"]))
    assert "list of documents" in message
    clear_error(lambda: glove.frequent_words("the cat sat", min_count=1))
    clear_error(lambda: glove.frequent_words([["the", 3]], min_count=1))


def test_glove_weighting_refuses_nan():
    clear_error(lambda: glove.weighting(float("nan")))
    clear_error(lambda: glove.weighting(torch.tensor([1.0, float("nan")])))
    clear_error(lambda: glove.weighting(1.0, x_max=float("nan")))
    clear_error(lambda: glove.weighting(1.0, alpha=float("nan")))


def test_nearest_neighbours_with_k_at_least_V_gives_the_other_words():
    vocab = ["a", "b", "c", "d"]
    vectors = np.eye(4) + 0.1  # (V, d)
    for k in (3, 4, 100):
        found = glove.nearest_neighbours(vectors, vocab, "a", k=k)
        assert len(found) == 3  # V - 1: every word but the query
        assert "a" not in [w for w, _ in found]
        assert all(math.isfinite(s) for _, s in found)
    clear_error(lambda: glove.nearest_neighbours(vectors, vocab, "a", k=0))
    clear_error(lambda: glove.nearest_neighbours(vectors, vocab, "a", k=2.5))
    clear_error(lambda: glove.nearest_neighbours(vectors[:3], vocab, "a"))


# ------------------------------------------------------------------- ngram
@PROPERTY_SETTINGS
@given(ANYTHING)
def test_ngram_text_functions_take_only_strings(text):
    for function in (
        ngram.tokenize,
        ngram.split_sentences,
        ngram.word_tokenize,
    ):
        kind, value = clear_error_or_result(lambda: function(text))
        if kind == "ok":
            assert isinstance(text, str) and isinstance(value, list)


@PROPERTY_SETTINGS
@given(BROKEN_SENTENCES, st.one_of(st.integers(-3, 4), NOT_A_NUMBER))
def test_ngram_counting_refuses_strings_and_non_words(sentences, n):
    clear_error(lambda: ngram.build_vocab(sentences))
    clear_error(lambda: ngram.count_ngrams(sentences, 2))
    kind, _ = clear_error_or_result(lambda: ngram.count_ngrams(TOY, n))
    assert kind == "error" or (isinstance(n, int) and n >= 1)


@PROPERTY_SETTINGS
@given(TOKEN_LISTS, st.one_of(st.integers(-3, 4), NOT_A_NUMBER))
def test_ngram_build_vocab_on_token_lists(sentences, min_count):
    kind, vocab = clear_error_or_result(
        lambda: ngram.build_vocab(sentences, min_count)
    )
    if kind == "ok":
        words = {w for s in sentences for w in s}
        assert set(vocab.itos[2:]) <= words  # words, never their letters


@PROPERTY_SETTINGS
@given(
    st.lists(WORD, max_size=4),
    st.one_of(st.integers(-3, 4), NOT_A_NUMBER),
    st.one_of(st.none(), st.integers(-3, 5), NOT_A_NUMBER),
)
def test_ngram_pad_and_ngrams(sentence, n, pad_to):
    kind, grams = clear_error_or_result(
        lambda: ngram.ngrams(sentence, n, pad_to=pad_to)
    )
    if kind == "ok":
        assert len(grams) == len(sentence) + 1  # one per predicted token
        assert all(len(g) == n for g in grams)
    clear_error(lambda: ngram.pad(" ".join(sentence), 2))


@PROPERTY_SETTINGS
@given(
    st.one_of(st.integers(-2, 4), NOT_A_NUMBER, st.floats()),
    st.sampled_from(["mle", "add-k", "kn", "mkn", "laplace", None]),
    NUMBERS,
    st.one_of(st.none(), NUMBERS, st.text(max_size=3)),
)
def test_ngram_model_settings(n, smoothing, k, discount):
    vocab = ngram.build_vocab(TOY, min_count=1)
    kind, lm = clear_error_or_result(
        lambda: ngram.NgramLM(n, vocab, smoothing, k=k, discount=discount)
    )
    if kind == "ok":
        lm.fit(TOY)
        p = lm.distribution(["the"])
        assert np.isfinite(p).all() and math.isclose(p.sum(), 1.0)


@PROPERTY_SETTINGS
@given(ANYTHING, st.one_of(ANYTHING, st.lists(ANYTHING, max_size=3)))
def test_ngram_prob_and_sample(lm, word, context):
    kind, p = clear_error_or_result(lambda: lm.prob(word, context))
    if kind == "ok":
        assert 0 <= p <= 1
    kind, words = clear_error_or_result(lambda: lm.sample(word, context=()))
    if kind == "ok":
        assert all(w in lm.vocab for w in words)
    kind, _ = clear_error_or_result(lambda: lm.sample(0, max_words=word))


@PROPERTY_SETTINGS
@given(
    st.one_of(
        st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=5),
        st.lists(st.text(max_size=2), min_size=1, max_size=3),
        NOT_A_NUMBER,
    )
)
def test_ngram_perplexity_from_logprobs(logprobs):
    kind, ppl = clear_error_or_result(
        lambda: ngram.perplexity_from_logprobs(logprobs)
    )
    if kind == "ok":
        assert ppl >= 1 - 1e-9 and not math.isnan(ppl)


def test_ngram_examples_that_used_to_fail(lm):
    clear_error(lambda: ngram.perplexity_from_logprobs([float("nan")]))
    clear_error(lambda: ngram.perplexity_from_logprobs(["a"]))
    clear_error(lambda: ngram.NgramLM(True, lm.vocab))
    clear_error(lambda: ngram.NgramLM(2, lm.vocab, "add-k", k="1"))
    clear_error(lambda: ngram.NgramLM(2, lm.vocab, "add-k", k=math.inf))
    clear_error(lambda: ngram.NgramLM(2, lm.vocab, "kn", discount="0.5"))
    clear_error(lambda: lm.prob(3))
    clear_error(lambda: lm.prob("cat", None))
    clear_error(lambda: lm.sample("seed"))
    clear_error(lambda: lm.sample(0, max_words=-1))
    clear_error(lambda: ngram.Vocab("abc"))
    clear_error(lambda: lm.vocab.map("the cat"))
    clear_error(lambda: ngram.ngrams(["a"], 3, pad_to=1))
    clear_error(lambda: ngram.oov_rate(TOY, ["a"]))


@PROPERTY_SETTINGS
@given(
    st.one_of(st.none(), st.integers(-2, 6), NOT_A_NUMBER),
    st.one_of(st.floats(allow_nan=True), NOT_A_NUMBER),
    st.one_of(st.integers(0, 3), NOT_A_NUMBER),
)
def test_ngram_load_lm_corpus_arguments(n_articles, test_size, seed):
    articles = datasets.Dataset.from_dict(
        {
            "title": [f"t{i}" for i in range(6)],
            "text": [f"The cat {i} sat. A dog ran." for i in range(6)],
        }
    )
    kind, corpus = clear_error_or_result(
        lambda: ngram.load_lm_corpus(
            n_articles, test_size, seed, articles=articles
        )
    )
    if kind == "ok":
        assert corpus.train and corpus.test  # both sides hold sentences


# ------------------------------------------------------------------- glove
@PROPERTY_SETTINGS
@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.lists(st.floats(allow_nan=True), max_size=4),
        st.integers(-3, 300),
        NOT_A_NUMBER,
    ),
    st.one_of(NUMBERS, NOT_A_NUMBER),
    st.one_of(NUMBERS, NOT_A_NUMBER),
)
def test_glove_weighting(x, x_max, alpha):
    kind, f = clear_error_or_result(lambda: glove.weighting(x, x_max, alpha))
    if kind == "ok":
        assert torch.isfinite(f).all() and (0 <= f).all() and (f <= 1).all()


@PROPERTY_SETTINGS
@given(
    st.one_of(TOKEN_LISTS, BROKEN_SENTENCES, NOT_A_NUMBER),
    st.one_of(st.integers(-2, 4), NOT_A_NUMBER, st.floats()),
)
def test_glove_counting(docs, window):
    kind, words = clear_error_or_result(
        lambda: glove.frequent_words(docs, min_count=1)
    )
    if kind == "ok":
        assert set(words) <= {w for doc in docs for w in doc}
    vocab = ["a", "b", "c"]
    kind, X = clear_error_or_result(
        lambda: glove.cooccurrence_matrix(docs, vocab, window=window)
    )
    if kind == "ok":
        assert X.shape == (3, 3) and abs(X - X.T).max() == 0


@PROPERTY_SETTINGS
@given(
    st.integers(1, 4),
    st.integers(1, 3),
    st.sampled_from(["ok", "nan", "zero", "float ids", "out of range"]),
    st.sampled_from(["ok", "numpy", "short bias", "3-D"]),
)
def test_glove_loss(V, d, counts_kind, params_kind):
    gen = torch.Generator().manual_seed(0)
    W, W_ctx = (
        torch.randn(V, d, generator=gen),
        torch.randn(V, d, generator=gen),
    )
    b, b_ctx = torch.zeros(V), torch.zeros(V)
    rows, cols = torch.arange(V), torch.arange(V).flip(0)
    counts = torch.rand(V, generator=gen) + 0.5  # (V,) all > 0
    if counts_kind == "nan":
        counts[0] = float("nan")
    elif counts_kind == "zero":
        counts[0] = 0.0
    elif counts_kind == "float ids":
        rows = rows.float()
    elif counts_kind == "out of range":
        cols = cols + 1
    if params_kind == "numpy":
        W = W.numpy()
    elif params_kind == "short bias":
        b = b[:-1]
    elif params_kind == "3-D":
        W, W_ctx = W[None], W_ctx[None]
    kind, loss = clear_error_or_result(
        lambda: glove.glove_loss(W, W_ctx, b, b_ctx, rows, cols, counts)
    )
    valid = counts_kind == "ok" and params_kind == "ok"
    assert (kind == "ok") == valid
    if valid:
        assert torch.isfinite(loss) and loss >= 0


@PROPERTY_SETTINGS
@given(
    st.one_of(st.integers(-2, 0), NOT_A_NUMBER, st.floats()),
    st.sampled_from(["dim", "epochs", "batch_size", "lr", "threads"]),
)
def test_glove_training_arguments(value, name):
    X = glove.cooccurrence_matrix([["a", "b", "a", "c"]], ["a", "b", "c"])
    if name == "lr" and isinstance(value, float) and 0 < value < math.inf:
        value = -value  # a positive learning rate would be valid
    if name == "threads" and value is None:
        value = 0  # None keeps torch's setting: valid
    arguments = {"epochs": 1, name: value}
    clear_error(lambda: glove.train_glove(X, **arguments))


def test_glove_examples_that_used_to_fail():
    X = glove.cooccurrence_matrix([["a", "b", "a", "c"]], ["a", "b", "c"])
    clear_error(lambda: glove.train_glove("X"))
    clear_error(lambda: glove.train_glove(X.toarray()))
    bad = X.copy()
    bad.data[0] = float("nan")
    clear_error(lambda: glove.train_glove(bad))
    clear_error(lambda: glove.ppmi([[1.0, float("nan")], [1.0, 1.0]]))
    clear_error(lambda: glove.ppmi([["a"]]))
    clear_error(lambda: glove.ppmi(np.ones((2, 3))))
    clear_error(lambda: glove.svd_vectors(sp.eye(4).tocsr(), dim=1.5))
    clear_error(lambda: glove.cooccurrence_matrix([["a"]], "abc"))
    clear_error(lambda: glove.cooccurrence_matrix([["a"]], ["a"], window=1.5))
    clear_error(lambda: glove.tokenize(None))
    clear_error(lambda: glove.init_params(0, 3))
    clear_error(lambda: glove.read_analogies("/no/such/file.txt"))
    clear_error(lambda: glove.glove_loss_dense(*glove.init_params(2, 2), "X"))


@PROPERTY_SETTINGS
@given(
    st.sampled_from(["ok", "nan", "1-D", "text", "too few rows"]),
    st.sampled_from(["ok", "list", "missing column"]),
)
def test_glove_evaluation(vectors_kind, pairs_kind):
    words = ["a", "b", "c", "d", "e"]
    word_to_id = {w: i for i, w in enumerate(words)}
    vectors = np.random.default_rng(0).normal(size=(5, 3))  # (V, d)
    if vectors_kind == "nan":
        vectors[0, 0] = np.nan
    elif vectors_kind == "1-D":
        vectors = vectors[:, 0]
    elif vectors_kind == "text":
        vectors = [["x"] * 3] * 5
    elif vectors_kind == "too few rows":
        vectors = vectors[:2]
    pairs = {
        "word1": ["a", "b", "c", "d"],
        "word2": ["b", "c", "d", "e"],
        "score": [1.0, 2.0, 3.0, 4.0],
    }
    if pairs_kind == "list":
        pairs = list(zip(*pairs.values()))
    elif pairs_kind == "missing column":
        pairs = {key: pairs[key] for key in ("word1", "word2")}
    kind, result = clear_error_or_result(
        lambda: glove.similarity_spearman(vectors, word_to_id, pairs)
    )
    valid = vectors_kind == "ok" and pairs_kind == "ok"
    assert (kind == "ok") == valid
    if valid:
        assert -1 <= result[0] <= 1 and result[1:] == (4, 4)
    questions = [("s", "a", "b", "c", "d")]
    kind, result = clear_error_or_result(
        lambda: glove.analogy_accuracy(vectors, word_to_id, questions)
    )
    assert (kind == "ok") == (vectors_kind == "ok")
    clear_error(lambda: glove.analogy_accuracy(vectors, word_to_id, ["abcd"]))


# --------------------------------------------------------------- embeddings
SHAPES = st.lists(st.integers(0, 3), min_size=0, max_size=4)


@PROPERTY_SETTINGS
@given(SHAPES, SHAPES, st.booleans(), st.sampled_from([1, 2, 0.5]))
def test_embeddings_mean_pool(hidden_shape, mask_shape, with_nan, mask_value):
    hidden = torch.ones(hidden_shape)
    with_nan = with_nan and hidden.numel() > 0
    if with_nan:
        hidden.view(-1)[0] = float("nan")
    mask = torch.full(mask_shape, mask_value)
    kind, pooled = clear_error_or_result(
        lambda: embeddings.mean_pool(hidden, mask)
    )
    if kind == "ok":
        assert len(hidden_shape) == 3 and mask_value == 1 and not with_nan
        assert pooled.shape == (hidden_shape[0], hidden_shape[2])
        assert torch.isfinite(pooled).all()


@PROPERTY_SETTINGS
@given(SHAPES, SHAPES, st.booleans(), st.one_of(NUMBERS, NOT_A_NUMBER))
def test_embeddings_cosine_matrix(a_shape, b_shape, with_nan, eps):
    a, b = torch.ones(a_shape), torch.ones(b_shape)
    if with_nan and a.numel():
        a.view(-1)[0] = float("nan")
    kind, sims = clear_error_or_result(
        lambda: embeddings.cosine_similarity_matrix(a, b, eps=eps)
    )
    if kind == "ok":
        assert sims.shape == (a_shape[0], b_shape[0])
        assert torch.isfinite(sims).all()


@PROPERTY_SETTINGS
@given(
    st.one_of(st.text(max_size=5), st.lists(ANYTHING, max_size=3), ANYTHING),
    st.one_of(st.integers(-2, 0), NOT_A_NUMBER),
)
def test_embeddings_encode_refuses_bad_texts_and_sizes(texts, batch_size):
    # no tokenizer or model is needed: the guards answer before they are used
    clear_error(lambda: embeddings.encode(texts, None, None))
    clear_error(lambda: embeddings.encode(["a"], None, None, batch_size=0))
    clear_error(
        lambda: embeddings.encode(["a"], None, None, batch_size=batch_size)
    )


def test_embeddings_examples():
    clear_error(lambda: embeddings.mean_pool("hidden", torch.ones(1, 2)))
    clear_error(
        lambda: embeddings.mean_pool(torch.ones(1, 2, 3), torch.full((1, 2), 2))
    )
    clear_error(lambda: embeddings.cosine_similarity_matrix([["a"]]))
    clear_error(
        lambda: embeddings.cosine_similarity_matrix(torch.ones(2, 3), eps=0)
    )
    clear_error(lambda: embeddings.encode([1, 2], None, torch.nn.Linear(1, 1)))
    clear_error(lambda: embeddings.encode(["a"], None, torch.nn.Linear(1, 1)))
