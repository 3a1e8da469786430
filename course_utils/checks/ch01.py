"""Checkers for the chapter 1 exercises (exercises/ch01_language_models.ipynb).

Each checker first decides right or wrong by comparing the student's function
with the reference written here on fixed cases (one per known mistake) and on
corpora drawn from a seeded generator; only then does it name a mistake, and
only when that mistake, written as a function, gives the student's output on
every case.

* :func:`check_bigram_probabilities` - maximum-likelihood bigram model with
  ``<s>`` and ``</s>``.
* :func:`check_perplexity` - perplexity of a bigram model over sentences
  (``</s>`` counted).
* :func:`check_add_k_probability` - add-k smoothed bigram probability.

A checker's own sentence for an unnamed mistake comes from the ``explain``
argument of :func:`~course_utils.checks.compare_with_reference`.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping

from ..ngram import BOS, EOS
from . import (
    Case,
    call_student,
    compare_with_reference,
    fail,
    passed,
)


def _close(a, b, tol=1e-6):
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=1e-12)


# ------------------------------------------------------------------------------
# Exercise 1: bigram probabilities by maximum likelihood
# ------------------------------------------------------------------------------

# Uneven counts, so that the typical wrong answers give different numbers.
_SENTENCES = [
    ["the", "cat", "sat"],
    ["the", "dog", "sat", "down"],
    ["a", "cat", "ran"],
    ["the", "cat", "ran", "away"],
    ["a", "dog", "sat"],
]
_WORDS = ["the", "a", "cat", "dog", "sat", "ran", "down", "away", "mat"]


def _bigram_counts(
    sentences, with_bos=True, with_eos=True, across=False, once=False
):
    """Counts of (v, w) pairs; the flags rebuild the typical mistakes
    (``once``: each pair counted once per sentence).
    """
    counts = Counter()
    if across:  # one long sequence: pairs cross sentence boundaries
        seq = [BOS] if with_bos else []
        for s in sentences:
            seq += list(s) + ([EOS] if with_eos else [])
        counts.update(zip(seq[:-1], seq[1:]))
        return counts
    for s in sentences:
        seq = (
            ([BOS] if with_bos else []) + list(s) + ([EOS] if with_eos else [])
        )
        pairs = zip(seq[:-1], seq[1:])
        counts.update(set(pairs) if once else pairs)
    return counts


def _mle(counts, divide_by_total=False):
    totals = Counter()
    for (v, _w), c in counts.items():
        totals[v] += c
    grand = sum(counts.values())
    table: dict = {}
    for (v, w), c in counts.items():
        table.setdefault(v, {})[w] = c / (
            grand if divide_by_total else totals[v]
        )
    return table


def _reference_bigrams(sentences):
    return _mle(_bigram_counts(sentences))


def _as_table(result):
    """The student's table with float probabilities, or None if it is not a
    dict of dicts of numbers.
    """
    if not isinstance(result, Mapping) or not all(
        isinstance(row, Mapping) for row in result.values()
    ):
        return None
    try:
        return {
            v: {w: float(p) for w, p in row.items()}
            for v, row in result.items()
        }
    except (TypeError, ValueError):
        return None


def _same_table(reference, student) -> bool:
    """Same non-zero entries with the same values (zero entries in the
    student's table are allowed).
    """
    student = _as_table(student)
    if student is None:
        return False
    for v, row in reference.items():
        srow = student.get(v, {})
        if any(not _close(srow.get(w, 0.0), p) for w, p in row.items()):
            return False
    return all(
        not p or _close(p, reference.get(v, {}).get(w, 0.0))
        for v, srow in student.items()
        for w, p in srow.items()
    )


def _bigram_cases() -> list[Case]:
    """The chapter's corpus, corpora with a pair repeated inside a sentence,
    one-word and empty sentences, and random corpora.
    """
    cases = [
        Case("the corpus of the exercise's toy sentences", (_SENTENCES,)),
        Case(
            "the corpus [['the', 'cat', 'saw', 'the', 'cat']], whose pair "
            "('the', 'cat') occurs twice",
            ([["the", "cat", "saw", "the", "cat"]],),
        ),
        Case(
            "the corpus [['a', 'a', 'a'], ['a']]",
            ([["a", "a", "a"], ["a"]],),
        ),
        Case(
            "the corpus [['hello'], []] (one word, then empty)",
            ([["hello"], []],),
        ),
        Case("an empty corpus []", ([],)),
    ]
    rng = random.Random(0)
    for i in range(12):
        corpus = [
            [rng.choice(_WORDS[: rng.randint(2, 9)]) for _ in range(n)]
            for n in (rng.randint(1, 7) for _ in range(rng.randint(1, 6)))
        ]
        cases.append(Case(f"the random corpus {corpus}", (corpus,)))
    return cases


def _bigram_variant(**flags):
    """A bigram model with one of the typical mistakes switched on."""
    divide = flags.pop("divide_by_total", False)
    return lambda sentences: _mle(_bigram_counts(sentences, **flags), divide)


_BIGRAM_DIAGNOSES = [
    (
        "there is no context '<s>': you forgot the start token, so the first "
        "word of a sentence is never predicted; pad each sentence as "
        "['<s>'] + sentence + ['</s>'] before counting pairs.",
        _bigram_variant(with_bos=False),
    ),
    (
        "you forgot the end-of-sentence token </s>: append '</s>' to every "
        "sentence so that P('</s>' | last word) is estimated and the "
        "probabilities over sentences of all lengths sum to 1.",
        _bigram_variant(with_eos=False),
    ),
    (
        "you counted pairs across sentence boundaries (such as ('</s>', "
        "'the') or ('sat', 'the')): pad and count each sentence on its own, "
        "so that '</s>' is never a context.",
        _bigram_variant(across=True),
    ),
    (
        "you divided by the total count of all bigrams instead of the count "
        "of the context: P(w | v) = c(v, w) / c(v), where c(v) is the number "
        "of pairs that start with v.",
        _bigram_variant(divide_by_total=True),
    ),
    (
        "you counted each pair only once per sentence (a set?): in 'the cat "
        "saw the cat' the pair ('the', 'cat') occurs twice and counts twice; "
        "count every occurrence, e.g. with Counter.update(zip(...)).",
        _bigram_variant(once=True),
    ),
]


def _explain_bigrams(case, args, expected, got) -> str:
    """What is wrong with the student's table on one corpus, as observed."""
    table = _as_table(got)
    if table is None:
        return (
            "bigram_probabilities must return a dict that maps each context "
            "word to a dict {next word: probability} of numbers, e.g. "
            "{'the': {'cat': 0.67, 'dog': 0.33}, ...}."
        )
    where = f"on {case.label}"
    nonzero = {v for v, row in table.items() if any(row.values())}
    if EOS in nonzero:
        return (
            f"'</s>' is a context in your table {where}: you counted pairs "
            "across sentence boundaries; pad and count each sentence on its "
            "own."
        )
    for v in expected:
        if v not in nonzero:
            return (
                f"the context {v!r} is missing from your dict {where}: every "
                "token that is followed by something (including '<s>') needs "
                "its row of probabilities."
            )
    for v, row in table.items():
        total = sum(row.values())
        if row and not _close(total, 1.0):
            return (
                "your probabilities do not sum to 1 over the vocabulary for "
                f"context {v!r} {where} (they sum to {total:.4f}): divide "
                f"each count c({v!r}, w) by the count of the context c({v!r})."
            )
    for v, row in expected.items():
        for w, p in row.items():
            if not _close(table[v].get(w, 0.0), p):
                return (
                    f"P({w!r} | {v!r}) {where} should be {p:.4f} but yours is "
                    f"{table[v].get(w, 0.0):.4f}: count the pairs (v, w) of "
                    "each padded sentence and divide by the number of pairs "
                    "that start with v."
                )
    return (
        f"your dict {where} has probabilities for pairs that never occur in "
        "the sentences: only count the pairs you see."
    )


def check_bigram_probabilities(bigram_probabilities) -> None:
    """``bigram_probabilities(sentences) -> {context: {next word: P(next |
    context)}}`` with <s> and </s>.
    """
    name = "bigram_probabilities"
    sentences = [list(s) for s in _SENTENCES]
    call_student(bigram_probabilities, sentences, name=name)
    if sentences != _SENTENCES:
        fail(
            "bigram_probabilities changed the sentences it was given: work on "
            "a padded copy, e.g. ['<s>'] + sentence + ['</s>'], instead of "
            "appending to the input lists."
        )
    compare_with_reference(
        bigram_probabilities,
        _reference_bigrams,
        _bigram_cases(),
        name=name,
        diagnoses=_BIGRAM_DIAGNOSES,
        same=_same_table,
        explain=_explain_bigrams,
    )
    passed(name)


# ------------------------------------------------------------------------------
# Exercise 2: perplexity
# ------------------------------------------------------------------------------

_PPL_TABLE = {  # P(next | previous) for a toy bigram model; every row sums to 1
    BOS: {"the": 0.6, "a": 0.4},
    "the": {"cat": 0.5, "dog": 0.3, EOS: 0.2},
    "a": {"cat": 0.3, "dog": 0.6, EOS: 0.1},
    "cat": {"sat": 0.4, "ran": 0.4, EOS: 0.2},
    "dog": {"sat": 0.7, "ran": 0.1, EOS: 0.2},
    "sat": {EOS: 0.9, "down": 0.1},
    "ran": {EOS: 0.8, "away": 0.2},
    "down": {EOS: 1.0},
    "away": {EOS: 1.0},
}
_PPL_SENTENCES = [
    ["the", "cat", "sat"],
    ["a", "dog", "ran", "away"],
    ["the", "dog"],
]


class _ToyBigram:
    """``logprob(word, previous)`` with natural logs, recording the calls it
    gets.
    """

    def __init__(self, table):
        self.table = table
        self.calls = []

    def __call__(self, word, previous):
        self.calls.append((word, previous))
        if word == BOS:
            fail(
                "you asked for the log-probability of '<s>': the start token "
                "is only a context, it is never predicted and never counted "
                "in N."
            )
        if previous not in self.table:
            fail(
                f"logprob was called with previous word {previous!r}, which is "
                "not a word of this model: the first word of a sentence is "
                "predicted from the start token, logprob(first_word, '<s>')."
            )
        p = self.table[previous].get(word, 0.0)
        if p == 0.0:
            fail(
                f"logprob({word!r}, {previous!r}) is not a pair of consecutive "
                "tokens in the sentences: walk through "
                "['<s>'] + sentence + ['</s>'] and score each token given the "
                "one before it."
            )
        return math.log(p)


def _random_table(rng: random.Random, words: list[str]) -> dict:
    """A bigram model over ``words`` and </s>: every pair has probability >
    0, uneven, each row summing to 1.
    """
    table = {}
    for v in [BOS, *words]:
        weights = [rng.uniform(0.05, 1.0) for _ in range(len(words) + 1)]
        total = sum(weights)
        table[v] = {w: x / total for w, x in zip([*words, EOS], weights)}
    return table


def _ppl_cases() -> list[Case]:
    """The toy model on several sentence sets, a uniform model (perplexity
    10 on any text), and random models and sentences.
    """
    uniform_words = [f"w{i}" for i in range(9)]
    uniform = {
        v: {w: 0.1 for w in [*uniform_words, EOS]}
        for v in [BOS, *uniform_words]
    }
    cases = [
        Case(
            "the toy model on three sentences",
            (_ToyBigram(_PPL_TABLE), _PPL_SENTENCES),
        ),
        Case(
            "the toy model on ['the', 'cat', 'sat']",
            (_ToyBigram(_PPL_TABLE), _PPL_SENTENCES[:1]),
        ),
        Case(
            "a model uniform over 10 tokens (perplexity 10 on any text)",
            (_ToyBigram(uniform), [["w1", "w5", "w2"], ["w0"]]),
        ),
        Case(
            "the toy model on a repeated one-word sentence",
            (_ToyBigram(_PPL_TABLE), [["the"], ["the"], ["a", "cat"]]),
        ),
    ]
    rng = random.Random(0)
    for i in range(8):
        words = _WORDS[: rng.randint(2, 8)]
        sentences = [
            [rng.choice(words) for _ in range(rng.randint(0 if i else 1, 6))]
            for _ in range(rng.randint(1, 5))
        ]
        table = _random_table(rng, words)
        cases.append(
            Case(
                f"a random bigram model on the sentences {sentences}",
                (_ToyBigram(table), sentences),
            )
        )
    return cases


def _ppl_parts(logprob, sentences, *, skip_first=False):
    """Log-probabilities of the words and of the </s> tokens, and the
    probabilities of all predicted tokens.
    """
    words, ends, probs = [], [], []
    for s in sentences:
        seq = [BOS, *s, EOS]
        for i, (prev, w) in enumerate(zip(seq[:-1], seq[1:])):
            if skip_first and i == 0:
                continue
            lp = logprob(w, prev)
            (ends if w == EOS else words).append(lp)
            probs.append(math.exp(lp))
    return words, ends, probs


def _ppl_variant(
    transform=None,
    *,
    score_eos=True,
    count_eos=True,
    count_bos=False,
    skip_first=False,
):
    """A perplexity function with one switchable mistake: ``transform(total,
    n)`` turns the summed log-probability and N into the result.
    """
    transform = transform or (lambda total, n: math.exp(-total / n))

    def perplexity(logprob, sentences):
        words, ends, _ = _ppl_parts(logprob, sentences, skip_first=skip_first)
        total = sum(words) + (sum(ends) if score_eos else 0.0)
        n = len(words) + (len(ends) if count_eos else 0)
        n += len(sentences) if count_bos else 0
        return transform(total, n)

    return perplexity


def _mean_prob(logprob, sentences):
    return 1 / _mean_prob_no_inverse(logprob, sentences)


def _mean_prob_no_inverse(logprob, sentences):
    probs = _ppl_parts(logprob, sentences)[2]
    return sum(probs) / len(probs)


def _per_sentence_mean(logprob, sentences):
    one = _ppl_variant()
    return sum(one(logprob, [s]) for s in sentences) / len(sentences)


_reference_perplexity = _ppl_variant()

_PPL_VARIANTS = {
    "cross_entropy": _ppl_variant(lambda t, n: -t / n),
    "cross_entropy_bits": _ppl_variant(lambda t, n: -t / n / math.log(2)),
    "two_to_nats": _ppl_variant(lambda t, n: 2 ** (-t / n)),
    "ten_to_nats": _ppl_variant(lambda t, n: 10 ** (-t / n)),
    "exp_of_log10": _ppl_variant(lambda t, n: math.exp(-t / n / math.log(10))),
    "no_minus": _ppl_variant(lambda t, n: math.exp(t / n)),
    "mean_prob": _mean_prob,
    "mean_prob_no_inverse": _mean_prob_no_inverse,
    "no_eos": _ppl_variant(score_eos=False, count_eos=False),
    "eos_not_in_n": _ppl_variant(count_eos=False),
    "eos_not_scored": _ppl_variant(score_eos=False),
    "bos_in_n": _ppl_variant(count_bos=True),
    "sum_not_mean": _ppl_variant(lambda t, n: math.exp(-t)),
    "first_word_skipped": _ppl_variant(skip_first=True),
    "per_sentence_mean": _per_sentence_mean,
}
_PPL_MESSAGES = {
    "cross_entropy": "you returned the cross-entropy (the mean negative "
    "log-likelihood), not the perplexity: "
    "perplexity = exp(cross-entropy), so apply math.exp to it.",
    "cross_entropy_bits": "you returned the cross-entropy in bits, not the "
    "perplexity: perplexity = "
    "exp(mean negative natural-log likelihood) (= 2 ** cross-entropy in bits).",
    "two_to_nats": "you mixed logarithm bases: the log-probabilities are "
    "natural logs, so exponentiate with "
    "math.exp (2 ** x only undoes log2).",
    "ten_to_nats": "you mixed logarithm bases: the log-probabilities are "
    "natural logs, so exponentiate with "
    "math.exp (10 ** x only undoes log10).",
    "exp_of_log10": "you mixed logarithm bases: a cross-entropy computed with "
    "log10 must be undone with 10 ** x, "
    "and one computed with natural logs (as logprob returns) with math.exp.",
    "no_minus": "your value is below 1, the inverse of the perplexity: you "
    "forgot the minus sign, "
    "perplexity = exp(-mean log-probability).",
    "mean_prob": "you averaged the probabilities instead of the "
    "log-probabilities: perplexity is "
    "exp(-mean of log P), the inverse of the geometric mean probability, not "
    "of the arithmetic mean.",
    "mean_prob_no_inverse": (
        "you returned the mean probability: perplexity is "
        "exp(-mean of the log-probabilities)."
    ),
    "no_eos": "you did not count the </s> tokens: every sentence also predicts "
    "'</s>' after its last word, so add "
    "logprob('</s>', last_word) to the sum and count one more token per "
    "sentence in N.",
    "eos_not_in_n": "you added the log-probabilities of '</s>' but did not "
    "count the </s> tokens in N: N is the number "
    "of words plus one '</s>' per sentence.",
    "eos_not_scored": "you counted the </s> tokens in N but did not add their "
    "log-probabilities: add "
    "logprob('</s>', last_word) for every sentence.",
    "bos_in_n": "you counted '<s>' as a token: it is never predicted, so N is "
    "the number of words plus one "
    "'</s>' per sentence.",
    "sum_not_mean": "you exponentiated the total log-probability: divide it by "
    "the number of predicted tokens N "
    "first (perplexity = exp(-total / N)).",
    "first_word_skipped": "you did not score the first word of each sentence: "
    "predict it from the start token, "
    "logprob(first_word, '<s>'), and count it in N.",
    "per_sentence_mean": "you averaged per-sentence perplexities: pool all "
    "tokens of all sentences, "
    "perplexity = exp(-(sum of all log-probabilities) / N).",
}


def _same_number(expected, got) -> bool:
    """``got`` is a number equal to ``expected`` up to float64 rounding in
    another summation order.
    """
    if isinstance(got, bool):
        return False
    try:
        got = float(got)
    except (TypeError, ValueError):
        return False
    return _close(got, expected) or (math.isnan(got) and math.isnan(expected))


def _explain_perplexity(case, args, expected, got) -> str:
    """What is wrong with the student's perplexity on one case, as
    observed (the model records the calls it got).
    """
    try:
        value = float(got)
    except (TypeError, ValueError):
        return (
            "perplexity must return one number (a float), not "
            f"{type(got).__name__}."
        )
    if math.isnan(value):
        return (
            "perplexity returned nan: check for 0 * log(0) or a division by "
            "zero."
        )
    model = args[0]
    if not model.calls:
        return (
            f"perplexity should be {expected:.4f} for {case.label} but yours "
            f"is {value:.4f}, and it never called logprob: score each "
            "predicted token with logprob(word, previous)."
        )
    if not any(w == EOS for w, _prev in model.calls):
        return _PPL_MESSAGES["no_eos"]
    return (
        f"perplexity should be {expected:.4f} for {case.label} but yours is "
        f"{value:.4f}: compute exp(-(sum of logprob(w, previous) over every "
        "word and every '</s>') / N)."
    )


def check_perplexity(perplexity) -> None:
    """``perplexity(logprob, sentences) -> float`` with ``logprob(word,
    previous)`` in natural logs.
    """
    compare_with_reference(
        perplexity,
        _reference_perplexity,
        _ppl_cases(),
        name="perplexity",
        diagnoses=[
            (_PPL_MESSAGES[key], fn) for key, fn in _PPL_VARIANTS.items()
        ],
        same=_same_number,
        explain=_explain_perplexity,
    )
    passed("perplexity")


# ------------------------------------------------------------------------------
# Exercise 3: add-k smoothing
# ------------------------------------------------------------------------------

_ADDK_VOCAB = [
    "the",
    "cat",
    "dog",
    "sat",
    "ran",
    "a",
    "down",
    "away",
    EOS,
    "<unk>",
]


def _context_counts(bigrams: Counter) -> Counter:
    contexts = Counter()
    for (v, _w), c in bigrams.items():
        contexts[v] += c
    return contexts


def _row(formula):
    """The function that asks ``formula(word, context, bigram_counts,
    context_counts, vocab_size, k)`` for the probability of every word of
    the vocabulary after one context: one case is one row, so that the
    checker can see whether it sums to 1. ``k=None`` leaves k at the
    function's default.

    A ZeroDivisionError (a context never seen, c(h) = 0) gives NaN, which
    the explanation recognises.
    """

    def row(vocab, context, bigram_counts, context_counts, k=None):
        extra = () if k is None else (k,)
        probs = []
        for word in vocab:
            try:
                p = formula(
                    word,
                    context,
                    bigram_counts,
                    context_counts,
                    len(vocab),
                    *extra,
                )
            except ZeroDivisionError:
                p = math.nan
            probs.append(p)
        return probs

    return row


def _formula(rule):
    """An add-k function from ``rule(c, c_h, V, k, n_bigrams)``."""

    def add_k_probability(word, context, bigrams, contexts, vocab_size, k=1.0):
        return rule(
            bigrams[(context, word)],
            contexts[context],
            vocab_size,
            k,
            sum(contexts.values()),
        )

    return add_k_probability


_reference_add_k = _formula(lambda c, ch, V, k, n: (c + k) / (ch + k * V))

_ADDK_DIAGNOSES = [
    (
        "your probabilities are not normalised because you forgot to add "
        "k * V to the denominator: use (c + k) / (c(h) + k * V).",
        lambda c, ch, V, k, n: (c + k) / ch,
    ),
    (
        "your probabilities are not normalised: add k once for every word of "
        "the vocabulary, k * V, to the denominator, not just k.",
        lambda c, ch, V, k, n: (c + k) / (ch + k),
    ),
    (
        "your probabilities are not normalised: the denominator must grow by "
        "k * V, not V.",
        lambda c, ch, V, k, n: (c + k) / (ch + V),
    ),
    (
        "you ignored k and always added 1: use the k that is passed in, "
        "(c + k) / (c(h) + k * V).",
        lambda c, ch, V, k, n: (c + 1) / (ch + V),
    ),
    (
        "words never seen after the context get probability 0: add k to the "
        "numerator as well, (c(h, w) + k) / (c(h) + k * V).",
        lambda c, ch, V, k, n: c / (ch + k * V),
    ),
    (
        "you divided by the total number of bigrams instead of the count of "
        "the context: use (c(h, w) + k) / (c(h) + k * V).",
        lambda c, ch, V, k, n: (c + k) / (n + k * V),
    ),
]


def _addk_cases() -> list[Case]:
    """Rows of the exercise's counts (seen, rare and never-seen contexts,
    several k, k left at its default), then rows of random counts.
    """
    bigrams = _bigram_counts(_SENTENCES)
    contexts = _context_counts(bigrams)
    cases = []
    for k in (1.0, 0.5, 2.0, 0.01):
        for context in ("the", "cat", BOS, "down", "zebra"):
            cases.append(
                Case(
                    f"the context {context!r} with k = {k} "
                    f"(c(h) = {contexts[context]})",
                    (_ADDK_VOCAB, context, bigrams, contexts, k),
                )
            )
    rng = random.Random(0)
    for _ in range(6):
        vocab = [*_WORDS[: rng.randint(1, 9)], EOS]
        pairs = Counter(
            {
                (v, w): rng.randint(1, 9)
                for v in [BOS, *vocab[:-1]]
                for w in vocab
                if rng.random() < 0.5
            }
        )
        context = rng.choice([BOS, *vocab[:-1], "zebra"])
        k = rng.choice([0.1, 0.5, 1.0, 3.0])
        cases.append(
            Case(
                f"the context {context!r} with k = {k}, random counts and "
                f"the vocabulary {vocab}",
                (vocab, context, pairs, _context_counts(pairs), k),
            )
        )
    return cases


def _explain_add_k(case, args, expected, got) -> str:
    """What is wrong with one row of the student's probabilities."""
    vocab, context, _, contexts = args[:4]
    k = args[4] if len(args) > 4 else 1.0
    values = []
    for p in got:
        try:
            values.append(float(p))
        except (TypeError, ValueError):
            return (
                "add_k_probability must return one number (a float), not "
                f"{type(p).__name__}."
            )
    if contexts[context] == 0 and any(math.isnan(p) for p in values):
        return (
            f"for the context {context!r}, never seen in training, c(h) = 0 "
            "and your code divides by zero: the add-k denominator "
            "c(h) + k * V is never zero, use it as it is."
        )
    total = sum(values)
    if not _close(total, 1.0):
        return (
            f"your probabilities are not normalised: they sum to {total:.3f} "
            f"over the vocabulary for {case.label}; the add-k denominator is "
            "c(h) + k * V."
        )
    i = next(
        i for i, p in enumerate(values) if not _same_number(expected[i], p)
    )
    return (
        f"P({vocab[i]!r} | {context!r}) with k = {k} should be "
        f"{expected[i]:.4f} but yours is {values[i]:.4f}: use "
        "(c(h, w) + k) / (c(h) + k * V)."
    )


def check_add_k_probability(add_k_probability) -> None:
    """``add_k_probability(word, context, bigram_counts, context_counts,
    vocab_size, k)``, asked for whole rows of the vocabulary.
    """
    name = "add_k_probability"
    cases = _addk_cases()
    # k left at its default (1.0) once: a wrong default is a mistake too
    default = Case(
        "the context 'the' with k left at its default", cases[0].args[:4]
    )
    cases.append(default)
    compare_with_reference(
        _row(add_k_probability),
        _row(_reference_add_k),
        cases,
        name=name,
        diagnoses=[(m, _row(_formula(rule))) for m, rule in _ADDK_DIAGNOSES],
        same=lambda e, g: (
            isinstance(g, list)
            and len(g) == len(e)
            and all(_same_number(x, y) for x, y in zip(e, g))
        ),
        explain=_explain_add_k,
    )
    passed(name)
