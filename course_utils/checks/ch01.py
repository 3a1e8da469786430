"""Checkers for the chapter 1 exercises (exercises/ch01_language_models.ipynb).

Each checker runs the student's function on small cases whose answers are
computed here independently, and names the typical mistake when the answer
matches what that mistake produces.

* :func:`check_bigram_probabilities` - maximum-likelihood bigram model with
  ``<s>`` and ``</s>``.
* :func:`check_perplexity` - perplexity of a bigram model over sentences
  (``</s>`` counted).
* :func:`check_add_k_probability` - add-k smoothed bigram probability.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

from ..ngram import BOS, EOS
from . import call_student, fail, passed

# Small corpora with uneven counts, so that the typical wrong answers give
# different numbers.
_SENTENCES = [
    ["the", "cat", "sat"],
    ["the", "dog", "sat", "down"],
    ["a", "cat", "ran"],
    ["the", "cat", "ran", "away"],
    ["a", "dog", "sat"],
]


def _close(a, b, tol=1e-6):
    return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=1e-12)


def _bigram_counts(sentences, with_bos=True, with_eos=True, across=False):
    """Counts of (v, w) pairs; the flags rebuild the typical mistakes."""
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
        counts.update(zip(seq[:-1], seq[1:]))
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


def _tables_match(student, reference) -> bool:
    """Same non-zero entries with the same values (zero entries in the student's
    table are allowed).
    """
    for v, row in reference.items():
        srow = student.get(v, {})
        for w, p in row.items():
            if not _close(srow.get(w, 0.0), p):
                return False
    for v, srow in student.items():
        for w, p in srow.items():
            if p and not _close(p, reference.get(v, {}).get(w, 0.0)):
                return False
    return True


# ------------------------------------------------------------------------------
# Exercise 1: bigram probabilities by maximum likelihood
# ------------------------------------------------------------------------------


def check_bigram_probabilities(bigram_probabilities) -> None:
    """``bigram_probabilities(sentences) -> {context: {next word: P(next |
    context)}}`` with <s> and </s>.
    """
    sentences = [list(s) for s in _SENTENCES]
    result = call_student(
        bigram_probabilities, sentences, name="bigram_probabilities"
    )
    if sentences != _SENTENCES:
        fail(
            "bigram_probabilities changed the sentences it was given: work on "
            "a padded copy, e.g. "
            "['<s>'] + sentence + ['</s>'], instead of appending to the input "
            "lists."
        )
    if not isinstance(result, Mapping) or not all(
        isinstance(row, Mapping) for row in result.values()
    ):
        fail(
            "bigram_probabilities must return a dict that maps each context "
            "word to a dict "
            "{next word: probability}, e.g. "
            "{'the': {'cat': 0.67, 'dog': 0.33}, ...}."
        )
    try:
        result = {
            v: {w: float(p) for w, p in row.items()}
            for v, row in result.items()
        }
    except (TypeError, ValueError):
        fail(
            "the probabilities must be numbers: each inner dict maps a next "
            "word to a float."
        )

    reference = _mle(_bigram_counts(sentences))
    if _tables_match(result, reference):
        passed("bigram_probabilities")
        return

    if BOS not in result:
        fail(
            "there is no context '<s>': you forgot the start token, so the "
            "first word of a sentence is never "
            "predicted; pad each sentence as ['<s>'] + sentence + ['</s>'] "
            "before counting pairs."
        )
    if not any(EOS in row for row in result.values()):
        fail(
            "you forgot the end-of-sentence token </s>: append '</s>' to every "
            "sentence so that P('</s>' | last word) "
            "is estimated and the probabilities over sentences of all lengths "
            "sum to 1."
        )
    if (
        _tables_match(result, _mle(_bigram_counts(sentences, across=True)))
        or EOS in result
    ):
        fail(
            "you counted pairs across sentence boundaries (such as ('</s>', "
            "'the') or ('sat', 'the')): pad and "
            "count each sentence on its own, so that '</s>' is never a context."
        )
    if _tables_match(
        result, _mle(_bigram_counts(sentences), divide_by_total=True)
    ):
        fail(
            "you divided by the total count of all bigrams instead of the "
            "count of the context: "
            "P(w | v) = c(v, w) / c(v), where c(v) is the number of pairs that "
            "start with v."
        )
    for v in reference:
        if v not in result:
            fail(
                f"the context {v!r} is missing from your dict: every word that "
                "is followed by something "
                f"(including '<s>') needs its row of probabilities."
            )
    for v, row in result.items():
        total = sum(row.values())
        if not _close(total, 1.0, tol=1e-6):
            fail(
                "your probabilities do not sum to 1 over the vocabulary for "
                f"context {v!r} (they sum to {total:.4f}): "
                f"divide each count c({v!r}, w) by the count of the context "
                f"c({v!r})."
            )
    for v, row in reference.items():
        for w, p in row.items():
            got = result[v].get(w, 0.0)
            if not _close(got, p):
                fail(
                    f"P({w!r} | {v!r}) should be {p:.4f} but yours is "
                    f"{got:.4f}: count the pairs (v, w) of each padded "
                    "sentence and divide by the number of pairs that start "
                    "with v."
                )
    fail(
        "your dict has probabilities for pairs that never occur in the "
        "sentences: only count the pairs you see."
    )


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
                "is only a context, it is never "
                "predicted and never counted in N."
            )
        if previous not in self.table:
            fail(
                f"logprob was called with previous word {previous!r}, which is "
                "not a word of this model: the first "
                "word of a sentence is predicted from the start token, "
                "logprob(first_word, '<s>')."
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


def _ppl_candidates(table, sentences):
    """The right answer and what the typical mistakes return, by name."""
    lp_words, lp_eos, per_sentence, probs, lp_first = [], [], [], [], []
    for s in sentences:
        seq = [BOS] + list(s) + [EOS]
        lps = [math.log(table[v][w]) for v, w in zip(seq[:-1], seq[1:])]
        lp_first.append(lps[0])
        lp_words += lps[:-1]
        lp_eos.append(lps[-1])
        per_sentence.append(math.exp(-sum(lps) / len(lps)))
        probs += [table[v][w] for v, w in zip(seq[:-1], seq[1:])]
    n_words, n_sent = len(lp_words), len(sentences)
    n_all = n_words + n_sent
    total = sum(lp_words) + sum(lp_eos)
    h = -total / n_all  # cross-entropy in nats
    return {
        "correct": math.exp(h),
        "cross_entropy": h,
        "cross_entropy_bits": h / math.log(2),
        "two_to_nats": 2**h,
        "ten_to_nats": 10**h,
        "exp_of_log10": math.exp(h / math.log(10)),
        "no_minus": math.exp(-h),
        "mean_prob": 1 / (sum(probs) / len(probs)),
        "mean_prob_no_inverse": sum(probs) / len(probs),
        "no_eos": math.exp(-sum(lp_words) / n_words),
        "eos_not_in_n": math.exp(-total / n_words),
        "eos_not_scored": math.exp(-sum(lp_words) / n_all),
        "bos_in_n": math.exp(-total / (n_all + n_sent)),
        "sum_not_mean": math.exp(-total),
        "per_sentence_mean": sum(per_sentence) / len(per_sentence),
        "first_word_skipped": math.exp(
            -(total - sum(lp_first)) / (n_all - n_sent)
        ),
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


def check_perplexity(perplexity) -> None:
    """``perplexity(logprob, sentences) -> float`` with ``logprob(word,
    previous)`` in natural logs.
    """
    for table, sentences in [
        (_PPL_TABLE, _PPL_SENTENCES),
        (_PPL_TABLE, _PPL_SENTENCES[:1]),
    ]:
        model = _ToyBigram(table)
        value = call_student(
            perplexity, model, [list(s) for s in sentences], name="perplexity"
        )
        try:
            value = float(value)
        except (TypeError, ValueError):
            fail(
                "perplexity must return one number (a float), not "
                f"{type(value).__name__}."
            )
        if math.isnan(value):
            fail(
                "perplexity returned nan: check for 0 * log(0) or a division "
                "by zero."
            )
        candidates = _ppl_candidates(table, sentences)
        if _close(value, candidates["correct"]):
            continue
        for name, expected in candidates.items():
            if name != "correct" and _close(value, expected):
                fail(_PPL_MESSAGES[name])
        if not any(w == EOS for w, _prev in model.calls):
            fail(_PPL_MESSAGES["no_eos"])
        fail(
            f"perplexity should be {candidates['correct']:.4f} on this toy "
            f"model but yours is {value:.4f}: compute "
            "exp(-(sum of logprob(w, previous) over every word and every "
            "'</s>') / N)."
        )
    # A uniform model over 10 outcomes has perplexity 10 on any text.
    uniform = {
        v: {w: 0.1 for w in [f"w{i}" for i in range(9)] + [EOS]}
        for v in [BOS] + [f"w{i}" for i in range(9)]
    }
    value = call_student(
        perplexity,
        _ToyBigram(uniform),
        [["w1", "w5", "w2"], ["w0"]],
        name="perplexity",
    )
    if not _close(value, 10.0):
        fail(
            "a model that spreads probability evenly over 10 tokens must have "
            f"perplexity 10, yours gives {value:.4f}."
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


def _addk_counts():
    bigrams = _bigram_counts(_SENTENCES)
    contexts = Counter()
    for (v, _w), c in bigrams.items():
        contexts[v] += c
    return bigrams, contexts


def check_add_k_probability(add_k_probability) -> None:
    """``add_k_probability(word, context, bigram_counts, context_counts,
    vocab_size, k)``.
    """
    bigrams, contexts = _addk_counts()
    V = len(_ADDK_VOCAB)

    def call(word, context, k):
        try:
            value = call_student(
                add_k_probability,
                word,
                context,
                Counter(bigrams),
                Counter(contexts),
                V,
                k,
                name="add_k_probability",
            )
        except Exception as exc:
            if "ZeroDivisionError" in str(exc):
                fail(
                    f"for the context {context!r}, never seen in training, "
                    "c(h) = 0 and your code divides by zero: "
                    "the add-k denominator c(h) + k * V is never zero, use it "
                    "as it is."
                )
            raise
        try:
            return float(value)
        except (TypeError, ValueError):
            fail(
                "add_k_probability must return one number (a float), not "
                f"{type(value).__name__}."
            )

    for k in (1.0, 0.5):
        for context in [
            "the",
            "cat",
            BOS,
            "down",
            "zebra",
        ]:  # "zebra": a context never seen
            probs = {w: call(w, context, k) for w in _ADDK_VOCAB}
            c_h = contexts[context]
            expected = {
                w: (bigrams[(context, w)] + k) / (c_h + k * V)
                for w in _ADDK_VOCAB
            }
            if all(_close(probs[w], expected[w]) for w in _ADDK_VOCAB):
                continue
            total = sum(probs.values())

            def matches(formula):
                try:
                    return all(
                        _close(probs[w], formula(bigrams[(context, w)]))
                        for w in _ADDK_VOCAB
                    )
                except ZeroDivisionError:
                    return False

            if c_h and matches(lambda c: (c + k) / c_h):
                fail(
                    "your probabilities are not normalised: they sum to "
                    f"{total:.3f} over the vocabulary for "
                    f"context {context!r} because you forgot to add k * V to "
                    "the denominator: use (c + k) / (c(h) + k * V)."
                )
            if matches(lambda c: (c + k) / (c_h + k)):
                fail(
                    "your probabilities are not normalised (they sum to "
                    f"{total:.3f} for context {context!r}): "
                    "add k once for every word of the vocabulary, k * V, to "
                    "the denominator, not just k."
                )
            if k != 1 and matches(lambda c: (c + k) / (c_h + V)):
                fail(
                    "your probabilities are not normalised (they sum to "
                    f"{total:.3f} for context {context!r}): "
                    f"the denominator must grow by k * V, not V."
                )
            if k != 1 and matches(lambda c: (c + 1) / (c_h + V)):
                fail(
                    "you ignored k and always added 1: use the k that is "
                    "passed in, (c + k) / (c(h) + k * V)."
                )
            if matches(lambda c: c / (c_h + k * V)):
                fail(
                    "words never seen after the context get probability 0: add "
                    "k to the numerator as well, "
                    "(c(h, w) + k) / (c(h) + k * V)."
                )
            if matches(lambda c: (c + k) / (sum(contexts.values()) + k * V)):
                fail(
                    "you divided by the total number of bigrams instead of the "
                    "count of the context: "
                    "use (c(h, w) + k) / (c(h) + k * V)."
                )
            if not _close(total, 1.0):
                fail(
                    "your probabilities are not normalised: they sum to "
                    f"{total:.3f} over the vocabulary for "
                    f"context {context!r}; the add-k denominator is c(h) + k * "
                    "V."
                )
            w = next(
                w for w in _ADDK_VOCAB if not _close(probs[w], expected[w])
            )
            fail(
                f"P({w!r} | {context!r}) with k = {k} should be "
                f"{expected[w]:.4f} but yours is {probs[w]:.4f}: "
                f"use (c(h, w) + k) / (c(h) + k * V)."
            )
    passed("add_k_probability")
