"""Unit tests for course_utils.ngram: tokenizer, vocabulary, counting, the four
estimators, perplexity.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from course_utils import ngram
from course_utils.errors import CourseError
from course_utils.ngram import BOS, EOS, UNK, NgramError, NgramLM, Vocab

TOY = [
    ["the", "cat", "sat"],
    ["the", "dog", "sat"],
    ["a", "cat", "ran"],
    ["the", "cat", "ran", "away"],
    ["a", "dog", "sat", "down"],
    ["the", "bird", "sang"],
]
HELD_OUT = [
    ["the", "dog", "ran"],
    ["a", "bird", "sat", "down"],
    ["the", "zebra", "sat"],
]


@pytest.fixture(scope="module")
def vocab():
    return ngram.build_vocab(TOY, min_count=1)


# -----------------------------------------------------------------------------
# tokenisation
def test_tokenize_sentences_and_tokens():
    text = (
        "The U.S. grew 3.5% in 1999. Don't panic!\nHeading line\n\nIt's "
        "well-known."
    )
    sents = ngram.tokenize(text)
    assert sents == [
        ["the", "u", ".", "s", ".", "grew", "3.5", "%", "in", "1999", "."],
        ["don't", "panic", "!"],
        ["heading", "line"],
        ["it's", "well-known", "."],
    ]


def test_tokenize_rejects_non_string():
    with pytest.raises(NgramError, match="expects a string"):
        ngram.tokenize(["not", "a", "string"])


# -----------------------------------------------------------------------------
# vocabulary
def test_build_vocab_min_count_and_order():
    sents = [["a", "b", "a"], ["c", "a", "b"]]
    v = ngram.build_vocab(sents, min_count=2)
    assert v.itos == [EOS, UNK, "a", "b"]
    assert "c" not in v and "a" in v
    assert v.map(["a", "c"]) == ["a", UNK]
    assert v.encode(["b", "zzz"]) == [3, 1]
    assert math.isclose(ngram.oov_rate([["a", "c", "d", "b"]], v), 0.5)


def test_vocab_rejects_duplicates_and_bad_min_count():
    with pytest.raises(NgramError, match="same word twice"):
        Vocab(["a", "a"])
    with pytest.raises(CourseError, match="min_count"):
        ngram.build_vocab(TOY, min_count=0)


# -----------------------------------------------------------------------------
# counting
def test_pad_and_ngrams():
    assert ngram.pad(["a"], 3) == [BOS, BOS, "a", EOS]
    assert ngram.ngrams(["a", "b"], 2) == [(BOS, "a"), ("a", "b"), ("b", EOS)]
    assert ngram.ngrams(["a", "b"], 1) == [("a",), ("b",), (EOS,)]
    # one n-gram per predicted token, whatever n is
    for n in range(1, 6):
        assert len(ngram.ngrams(["a", "b", "c"], n)) == 4
    assert ngram.ngrams(["a"], 2, pad_to=3) == [(BOS, "a"), ("a", EOS)]


def test_count_ngrams_total():
    counts = ngram.count_ngrams(TOY, 2)
    assert sum(counts.values()) == sum(len(s) + 1 for s in TOY)
    assert counts[(BOS, "the")] == 4 and counts[("cat", "sat")] == 1


def test_continuation_counts():
    raw3 = ngram.count_ngrams(TOY, 3)
    raw2 = Counter(g for s in TOY for g in ngram.ngrams(s, 2, pad_to=3))
    cont = ngram.continuation_counts(raw3, raw2)
    # ("cat", "sat") occurs only in "the cat sat": one distinct left neighbour
    assert cont[("cat", "sat")] == 1
    assert cont[("dog", "sat")] == 2  # "the dog sat", "a dog sat"
    # bigrams that start with <s> keep their raw counts
    assert cont[(BOS, "the")] == raw2[(BOS, "the")] == 4


# -----------------------------------------------------------------------------
# estimators
ALL_MODELS = [(n, s) for n in (1, 2, 3, 4) for s in ("add-k", "kn", "mkn")]
CONTEXTS = [
    (),
    ("the",),
    ("the", "cat"),
    ("a", "dog", "sat"),
    ("never", "seen", "zzz"),
    (BOS, BOS, BOS),
]


@pytest.mark.parametrize("n,smoothing", ALL_MODELS)
def test_distributions_sum_to_one(vocab, n, smoothing):
    lm = NgramLM(n, vocab, smoothing=smoothing, k=0.5).fit(TOY)
    for context in CONTEXTS:
        p = lm.distribution(context)
        assert p.shape == (len(vocab),)
        assert math.isclose(p.sum(), 1.0, rel_tol=1e-12), (
            n,
            smoothing,
            context,
        )
        assert (p > 0).all()
        # prob() and distribution() agree word by word
        for w in vocab.itos:
            assert math.isclose(
                lm.prob(w, context), p[vocab.stoi[w]], rel_tol=1e-12
            )


def test_mle_matches_counts(vocab):
    lm = NgramLM(2, vocab, smoothing="mle").fit(TOY)
    assert math.isclose(lm.prob("cat", ["the"]), 2 / 4)
    assert math.isclose(lm.prob("the", [BOS]), 4 / 6)
    assert math.isclose(lm.prob(EOS, ["sat"]), 2 / 3)
    assert lm.prob("zebra", ["the"]) == 0.0
    assert math.isclose(lm.distribution(["the"]).sum(), 1.0)
    assert math.isinf(lm.perplexity([["the", "cat", "cat"]]))


def test_add_k_formula(vocab):
    V = len(vocab)
    lm = NgramLM(2, vocab, smoothing="add-k", k=0.5).fit(TOY)
    assert math.isclose(lm.prob("cat", ["the"]), (2 + 0.5) / (4 + 0.5 * V))
    # an unseen context gives the uniform distribution
    assert math.isclose(lm.prob("cat", ["zebra"]), 1 / V)
    uni = NgramLM(1, vocab, smoothing="add-k", k=1).fit(TOY)
    n_tokens = sum(len(s) + 1 for s in TOY)
    assert math.isclose(uni.prob("the"), (4 + 1) / (n_tokens + V))


def test_bigram_kneser_ney_by_hand(vocab):
    """Interpolated Kneser-Ney for a bigram model, written out independently."""
    V = len(vocab)
    big = ngram.count_ngrams(TOY, 2)
    ctx = Counter()
    for (v, w), c in big.items():
        ctx[v] += c
    n_left = Counter(w for (v, w) in big)
    d1 = sum(c == 1 for c in n_left.values()) / (
        sum(c == 1 for c in n_left.values())
        + 2 * sum(c == 2 for c in n_left.values())
    )
    d2 = sum(c == 1 for c in big.values()) / (
        sum(c == 1 for c in big.values())
        + 2 * sum(c == 2 for c in big.values())
    )
    total_left = sum(n_left.values())

    def p_uni(w):
        return (
            max(n_left[w] - d1, 0) / total_left
            + d1 * len(n_left) / total_left / V
        )

    def p_big(w, v):
        types = sum(1 for (a, _b) in big if a == v)
        return max(big[(v, w)] - d2, 0) / ctx[v] + d2 * types / ctx[v] * p_uni(
            w
        )

    lm = NgramLM(2, vocab, smoothing="kn").fit(TOY)
    assert math.isclose(lm.discounts[1][0], d1) and math.isclose(
        lm.discounts[2][0], d2
    )
    for v in ["the", "cat", BOS, "sat"]:
        for w in vocab.itos:
            assert math.isclose(lm.prob(w, [v]), p_big(w, v), rel_tol=1e-12)


def test_fixed_discount_and_mkn_discounts(vocab):
    lm = NgramLM(3, vocab, smoothing="kn", discount=0.75).fit(TOY)
    assert all(d == (0.75,) for d in lm.discounts.values())
    mkn = NgramLM(3, vocab, smoothing="mkn").fit(TOY)
    for d1, d2, d3 in mkn.discounts.values():
        assert 0 < d1 <= 1 and 0 < d2 <= 2 and 0 < d3 <= 3


def test_kn_on_wikipedia_sample_sums_and_improves():
    """A slightly larger real-text check: KN beats add-one and unigram on held-
    out text.
    """
    from course_utils.data import load_wikipedia

    corpus = ngram.load_lm_corpus(n_articles=8, articles=load_wikipedia())
    train, test, vocab = corpus.train, corpus.test, corpus.vocab
    uni = NgramLM(1, vocab, smoothing="kn").fit(train).perplexity(test)
    kn2 = NgramLM(2, vocab, smoothing="kn").fit(train)
    add1 = NgramLM(2, vocab, smoothing="add-k").fit(train).perplexity(test)
    assert kn2.perplexity(test) < uni and kn2.perplexity(test) < add1
    for context in [("the",), ("of",), ("qwertyuiop",)]:
        assert math.isclose(kn2.distribution(context).sum(), 1.0, rel_tol=1e-9)
    assert not set(corpus.split["train"]["title"]) & set(
        corpus.split["test"]["title"]
    )


# -----------------------------------------------------------------------------
# perplexity
def test_perplexity_definition(vocab):
    lm = NgramLM(2, vocab, smoothing="kn").fit(TOY)
    lp = lm.token_logprobs(HELD_OUT)
    assert lp.shape == (
        sum(len(s) + 1 for s in HELD_OUT),
    )  # words + one </s> per sentence
    assert math.isclose(lm.perplexity(HELD_OUT), math.exp(-lp.mean()))
    assert math.isclose(lm.sentence_logprob(HELD_OUT[0]), lp[:4].sum())
    V = len(vocab)
    assert math.isclose(
        ngram.perplexity_from_logprobs(np.full(10, -math.log(V))), V
    )


def test_perplexity_from_logprobs_bad_input():
    with pytest.raises(NgramError, match="non-empty 1-D"):
        ngram.perplexity_from_logprobs([])
    with pytest.raises(NgramError, match="positive"):
        ngram.perplexity_from_logprobs([0.5, -1.0])
    assert math.isinf(ngram.perplexity_from_logprobs([-1.0, -math.inf]))


# -----------------------------------------------------------------------------
# sampling
def test_sample_is_seeded_and_in_vocab(vocab):
    lm = NgramLM(3, vocab, smoothing="kn").fit(TOY)
    a, b = lm.sample(7, max_words=10), lm.sample(7, max_words=10)
    assert a == b
    assert len(a) <= 10 and all(w in vocab and w != EOS for w in a)
    mle = NgramLM(2, vocab, smoothing="mle").fit(TOY)
    for seed in range(5):
        s = mle.sample(seed)
        assert (BOS,) + tuple(s[:1]) in {
            g[:2] for g in ngram.count_ngrams(TOY, 2)
        } or not s


# -----------------------------------------------------------------------------
# bad input
def test_bad_arguments_give_clear_errors(vocab):
    with pytest.raises(NgramError, match="positive integer"):
        NgramLM(0, vocab)
    with pytest.raises(NgramError, match="Unknown smoothing"):
        NgramLM(2, vocab, smoothing="laplace")
    with pytest.raises(NgramError, match="k > 0"):
        NgramLM(2, vocab, smoothing="add-k", k=0)
    with pytest.raises(NgramError, match="discount"):
        NgramLM(2, vocab, smoothing="kn", discount=1.5)
    with pytest.raises(NgramError, match="Vocab"):
        NgramLM(2, ["a", "b"])
    lm = NgramLM(2, vocab)
    with pytest.raises(NgramError, match="not been fitted"):
        lm.prob("the", ["a"])
    with pytest.raises(NgramError, match="not strings"):
        lm.fit(["the cat sat"])
    with pytest.raises(NgramError, match="no sentences"):
        lm.fit([])
    lm.fit(TOY)
    with pytest.raises(NgramError, match="never predicted"):
        lm.prob(BOS, ["the"])
    with pytest.raises(NgramError, match="sequence of words"):
        lm.prob("cat", "the")
    with pytest.raises(NgramError, match="not strings"):
        lm.perplexity(["the cat"])
    # course errors are shown as one line in notebooks
    assert issubclass(NgramError, CourseError)
