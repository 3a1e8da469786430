"""The chapter 1 checkers: the solutions pass, each diagnosed mistake fails with
its message, stubs fail.
"""

from __future__ import annotations

import importlib.util
import math
from collections import Counter
from pathlib import Path

import pytest

from course_utils.checks.ch01 import (
    check_add_k_probability,
    check_bigram_probabilities,
    check_perplexity,
)
from course_utils.errors import CheckFailed
from mutants import Wrong, assert_rejects

SOLUTIONS = (
    Path(__file__).resolve().parent.parent
    / "exercises"
    / "solutions"
    / "ch01_language_models.py"
)


@pytest.fixture(scope="module")
def sol():
    spec = importlib.util.spec_from_file_location("ch01_solutions", SOLUTIONS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stub(*args, **kwargs):
    raise NotImplementedError


# -------------------------------------------------------------------------
# exercise 1
def _mle_from(pairs_of_sentence, divide_by_total=False):
    """Build a bigram function from a rule that turns one sentence into its list
    of pairs.
    """

    def bigram_probabilities(sentences):
        pairs = Counter()
        for s in sentences:
            pairs.update(pairs_of_sentence(s))
        totals = Counter()
        for (v, _w), c in pairs.items():
            totals[v] += c
        grand = sum(pairs.values())
        out = {}
        for (v, w), c in pairs.items():
            out.setdefault(v, {})[w] = c / (
                grand if divide_by_total else totals[v]
            )
        return out

    return bigram_probabilities


def _pairs(seq):
    return list(zip(seq[:-1], seq[1:]))


def test_bigram_solution_passes(sol, capsys):
    check_bigram_probabilities(sol.bigram_probabilities)
    assert "all checks passed" in capsys.readouterr().out


def test_bigram_stub_not_written_yet():
    with pytest.raises(CheckFailed, match="not written yet"):
        check_bigram_probabilities(stub)


def test_bigram_forgot_end_token():
    wrong = _mle_from(lambda s: _pairs(["<s>"] + s))
    with pytest.raises(
        CheckFailed, match="forgot the end-of-sentence token </s>"
    ):
        check_bigram_probabilities(wrong)


def test_bigram_forgot_start_token():
    wrong = _mle_from(lambda s: _pairs(s + ["</s>"]))
    with pytest.raises(CheckFailed, match="no context '<s>'"):
        check_bigram_probabilities(wrong)


def test_bigram_divided_by_total():
    wrong = _mle_from(
        lambda s: _pairs(["<s>"] + s + ["</s>"]), divide_by_total=True
    )
    with pytest.raises(CheckFailed, match="divided by the total count"):
        check_bigram_probabilities(wrong)


def test_bigram_not_normalised():
    def wrong(sentences):
        pairs = Counter(
            p for s in sentences for p in _pairs(["<s>"] + s + ["</s>"])
        )
        words = Counter(
            w for s in sentences for w in s
        )  # c(v) from word counts: wrong for <s>
        out = {}
        for (v, w), c in pairs.items():
            out.setdefault(v, {})[w] = c / (words[v] if v in words else 1)
        return out

    with pytest.raises(
        CheckFailed,
        match="do not sum to 1 over the vocabulary for context '<s>'",
    ):
        check_bigram_probabilities(wrong)


def test_bigram_across_sentences():
    def wrong(sentences):
        seq = ["<s>"]
        for s in sentences:
            seq += s + ["</s>"]
        return _mle_from(lambda _s: _pairs(seq))([[]])

    with pytest.raises(CheckFailed, match="across sentence boundaries"):
        check_bigram_probabilities(wrong)


def test_bigram_mutates_input_and_bad_type():
    def mutating(sentences):
        for s in sentences:
            s.append("</s>")
        return {}

    with pytest.raises(CheckFailed, match="changed the sentences"):
        check_bigram_probabilities(mutating)
    with pytest.raises(CheckFailed, match="must return a dict"):
        check_bigram_probabilities(lambda sentences: [0.5, 0.5])
    with pytest.raises(CheckFailed, match="returned None"):
        check_bigram_probabilities(lambda sentences: None)


# -------------------------------------------------------------------------
# exercise 2
def _ppl(
    transform_total,
    *,
    score_eos=True,
    count_eos=True,
    count_bos=False,
    skip_first=False,
):
    """A perplexity function with one switchable mistake; transform_total(total,
    n) gives the result.
    """

    def perplexity(logprob, sentences):
        total, n = 0.0, 0
        for s in sentences:
            seq = ["<s>"] + list(s) + ["</s>"]
            for i, (prev, w) in enumerate(zip(seq[:-1], seq[1:])):
                if skip_first and i == 0:
                    continue
                if w == "</s>":
                    if score_eos:
                        total += logprob(w, prev)
                    n += count_eos
                else:
                    total += logprob(w, prev)
                    n += 1
            n += count_bos
        return transform_total(total, n)

    return perplexity


CORRECT = lambda total, n: math.exp(-total / n)  # noqa: E731


def test_perplexity_solution_passes(sol, capsys):
    check_perplexity(sol.perplexity)
    assert "all checks passed" in capsys.readouterr().out
    check_perplexity(_ppl(CORRECT))


def test_perplexity_stub_not_written_yet():
    with pytest.raises(CheckFailed, match="not written yet"):
        check_perplexity(stub)


@pytest.mark.parametrize(
    "wrong,message",
    [
        (_ppl(lambda t, n: -t / n), "returned the cross-entropy"),
        (_ppl(lambda t, n: -t / n / math.log(2)), "cross-entropy in bits"),
        (_ppl(lambda t, n: 2 ** (-t / n)), "mixed logarithm bases"),
        (_ppl(lambda t, n: 10 ** (-t / n)), "mixed logarithm bases"),
        (
            _ppl(lambda t, n: math.exp(-t / n / math.log(10))),
            "mixed logarithm bases",
        ),
        (_ppl(lambda t, n: math.exp(t / n)), "forgot the minus sign"),
        (
            _ppl(lambda t, n: math.exp(-t)),
            "divide it by the number of predicted tokens",
        ),
        (
            _ppl(CORRECT, score_eos=False, count_eos=False),
            "did not count the </s> tokens",
        ),
        (_ppl(CORRECT, count_eos=False), "did not count the </s> tokens in N"),
        (_ppl(CORRECT, score_eos=False), "did not add their log-probabilities"),
        (_ppl(CORRECT, count_bos=True), "counted '<s>' as a token"),
        (_ppl(CORRECT, skip_first=True), "did not score the first word"),
    ],
)
def test_perplexity_diagnoses(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check_perplexity(wrong)


def test_perplexity_averaging_probabilities():
    def wrong(logprob, sentences):
        probs = []
        for s in sentences:
            seq = ["<s>"] + list(s) + ["</s>"]
            probs += [
                math.exp(logprob(w, prev)) for prev, w in zip(seq[:-1], seq[1:])
            ]
        return 1 / (sum(probs) / len(probs))

    with pytest.raises(
        CheckFailed,
        match="averaged the probabilities instead of the log-probabilities",
    ):
        check_perplexity(wrong)


def test_perplexity_per_sentence_average():
    def wrong(logprob, sentences):
        return sum(_ppl(CORRECT)(logprob, [s]) for s in sentences) / len(
            sentences
        )

    with pytest.raises(CheckFailed, match="averaged per-sentence perplexities"):
        check_perplexity(wrong)


def test_perplexity_forgets_start_context_and_scores_bos():
    def no_bos(logprob, sentences):
        total, n = 0.0, 0
        for s in sentences:
            seq = [None] + list(s) + ["</s>"]
            for prev, w in zip(seq[:-1], seq[1:]):
                total += logprob(w, prev)
                n += 1
        return math.exp(-total / n)

    with pytest.raises(CheckFailed, match="predicted from the start token"):
        check_perplexity(no_bos)

    def scores_bos(logprob, sentences):
        logprob("<s>", "<s>")
        return 1.0

    with pytest.raises(CheckFailed, match="never predicted"):
        check_perplexity(scores_bos)


# -------------------------------------------------------------------------
# exercise 3
def test_add_k_solution_passes(sol, capsys):
    check_add_k_probability(sol.add_k_probability)
    assert "all checks passed" in capsys.readouterr().out


def test_add_k_stub_not_written_yet():
    with pytest.raises(CheckFailed, match="not written yet"):
        check_add_k_probability(stub)


@pytest.mark.parametrize(
    "formula,message",
    [
        (
            lambda c, ch, V, k: (c + k) / ch,
            "forgot to add k \\* V to the denominator",
        ),
        (lambda c, ch, V, k: (c + k) / (ch + k), "not just k"),
        (lambda c, ch, V, k: (c + k) / (ch + V), "must grow by k \\* V, not V"),
        (lambda c, ch, V, k: (c + 1) / (ch + V), "ignored k"),
        (lambda c, ch, V, k: c / (ch + k * V), "add k to the numerator"),
        (lambda c, ch, V, k: (c + k) / (ch + k * (V + 1)), "not normalised"),
    ],
)
def test_add_k_diagnoses(formula, message):
    def wrong(word, context, bigram_counts, context_counts, vocab_size, k=1.0):
        return formula(
            bigram_counts[(context, word)],
            context_counts[context],
            vocab_size,
            k,
        )

    with pytest.raises(CheckFailed, match=message):
        check_add_k_probability(wrong)


def test_add_k_divides_by_zero_for_unseen_context():
    def wrong(word, context, bigram_counts, context_counts, vocab_size, k=1.0):
        mle = (
            bigram_counts[(context, word)] / context_counts[context]
        )  # crashes when c(h) = 0
        return (bigram_counts[(context, word)] + k) / (
            context_counts[context] + k * vocab_size
        ) + 0 * mle

    with pytest.raises(
        CheckFailed, match="never seen in training, c\\(h\\) = 0"
    ):
        check_add_k_probability(wrong)


def test_add_k_returns_wrong_type():
    with pytest.raises(CheckFailed, match="one number"):
        check_add_k_probability(lambda *args, **kwargs: [0.1])


# -------------------------------------------------------------------------
# wrong answers each checker must reject (tests/mutants.py)


def _once_per_sentence(sentences):
    """The issue's example: a set of pairs per sentence."""
    return _mle_from(lambda s: set(_pairs(["<s>"] + s + ["</s>"])))(sentences)


def _hard_coded_table(sentences):
    """Right for the checker's first corpus, whatever the input."""
    from course_utils.checks.ch01 import _SENTENCES, _reference_bigrams

    return _reference_bigrams(_SENTENCES)


def _distinct_pairs(sentences):
    """A dict instead of a Counter: every pair counted once in all."""
    pairs = {p: 1 for s in sentences for p in _pairs(["<s>"] + s + ["</s>"])}
    return _mle_from(lambda _s: list(pairs))([[]])


def _raw_counts(sentences):
    out = {}
    for s in sentences:
        for v, w in _pairs(["<s>"] + s + ["</s>"]):
            out.setdefault(v, {})[w] = out.get(v, {}).get(w, 0) + 1
    return out


BIGRAM_WRONG = [
    Wrong("each pair once per sentence", _once_per_sentence, "once per sent"),
    Wrong(
        "hard-coded table of the first corpus",
        _hard_coded_table,
        r"'saw' is missing .* on the corpus \[\['the', 'cat', 'saw'",
    ),
    Wrong(
        "no <s>", _mle_from(lambda s: _pairs(s + ["</s>"])), "no context '<s>'"
    ),
    Wrong(
        "no </s>",
        _mle_from(lambda s: _pairs(["<s>"] + s)),
        "forgot the end-of-sentence",
    ),
    Wrong(
        "divided by all bigrams",
        _mle_from(lambda s: _pairs(["<s>"] + s + ["</s>"]), True),
        "divided by the total count",
    ),
    Wrong("every pair counted once", _distinct_pairs, r"should be .* yours"),
    Wrong(
        "two <s> (trigram padding)",
        _mle_from(lambda s: _pairs(["<s>", "<s>"] + s + ["</s>"])),
        r"P\('the' \| '<s>'\) .* should be 0.6000",
    ),
    Wrong("counts, not probabilities", _raw_counts, "do not sum to 1"),
    Wrong(
        "the notebook's toy sentences instead of the argument",
        lambda sentences: _mle_from(lambda s: _pairs(["<s>"] + s + ["</s>"]))(
            [["the", "cat", "sat"], ["the", "dog", "sat", "down"]]
        ),
        r"on the corpus|should be",
    ),
]


def test_bigram_rejects_wrong_answers():
    assert_rejects(check_bigram_probabilities, BIGRAM_WRONG)


def _hard_coded_perplexity(logprob, sentences):
    return 4.0  # about the toy model's value on its three sentences


PERPLEXITY_WRONG = [
    Wrong("cross-entropy", _ppl(lambda t, n: -t / n), "the cross-entropy"),
    Wrong("bits", _ppl(lambda t, n: -t / n / math.log(2)), "in bits"),
    Wrong("2 ** nats", _ppl(lambda t, n: 2 ** (-t / n)), "logarithm bases"),
    Wrong("no minus", _ppl(lambda t, n: math.exp(t / n)), "minus sign"),
    Wrong("sum, not mean", _ppl(lambda t, n: math.exp(-t)), "divide it by"),
    Wrong(
        "no </s>",
        _ppl(CORRECT, score_eos=False, count_eos=False),
        "did not count the </s> tokens",
    ),
    Wrong("</s> not in N", _ppl(CORRECT, count_eos=False), "in N"),
    Wrong("</s> not scored", _ppl(CORRECT, score_eos=False), "did not add"),
    Wrong("<s> in N", _ppl(CORRECT, count_bos=True), "counted '<s>'"),
    Wrong("first word", _ppl(CORRECT, skip_first=True), "first word"),
    Wrong(
        "N off by one",
        _ppl(lambda t, n: math.exp(-t / (n + 1))),
        r"should be .* but yours",
    ),
    Wrong("a hard-coded value", _hard_coded_perplexity, "never called"),
    Wrong(
        "divided by the number of sentences",
        lambda logprob, sentences: _ppl(
            lambda t, n: math.exp(-t / len(sentences))
        )(logprob, sentences),
        r"should be .* yours",
    ),
]


def test_perplexity_rejects_wrong_answers():
    assert_rejects(check_perplexity, PERPLEXITY_WRONG)


def _add_k(formula, default_k=1.0):
    def add_k_probability(
        word, context, bigram_counts, context_counts, vocab_size, k=default_k
    ):
        return formula(
            bigram_counts[(context, word)],
            context_counts[context],
            vocab_size,
            k,
        )

    return add_k_probability


def _hard_coded_counts(word, context, bigram_counts, context_counts, V, k=1):
    """Ignores the counts it is given: the exercise's own."""
    from course_utils.checks.ch01 import (
        _SENTENCES,
        _bigram_counts,
        _context_counts,
    )

    bigrams = _bigram_counts(_SENTENCES)
    contexts = _context_counts(bigrams)
    return (bigrams[(context, word)] + k) / (contexts[context] + k * V)


ADD_K_WRONG = [
    Wrong("no k * V", _add_k(lambda c, ch, V, k: (c + k) / ch), r"k \* V to"),
    Wrong("+ k", _add_k(lambda c, ch, V, k: (c + k) / (ch + k)), "not just k"),
    Wrong("+ V", _add_k(lambda c, ch, V, k: (c + k) / (ch + V)), "not V"),
    Wrong("k = 1", _add_k(lambda c, ch, V, k: (c + 1) / (ch + V)), "ignored k"),
    Wrong("no k above", _add_k(lambda c, ch, V, k: c / (ch + k * V)), "numer"),
    Wrong(
        "V + 1",
        _add_k(lambda c, ch, V, k: (c + k) / (ch + k * (V + 1))),
        "not normalised",
    ),
    Wrong(
        "default k = 0.5",
        _add_k(lambda c, ch, V, k: (c + k) / (ch + k * V), default_k=0.5),
        r"with k = 1.0 should be",
    ),
    Wrong(
        "k * V - 1 in the denominator",
        _add_k(lambda c, ch, V, k: (c + k) / (ch + k * V - 1)),
        "not normalised",
    ),
    Wrong(
        "the exercise's counts, hard-coded",
        _hard_coded_counts,
        r"not normalised|should be",
    ),
]


def test_add_k_rejects_wrong_answers():
    assert_rejects(check_add_k_probability, ADD_K_WRONG)
