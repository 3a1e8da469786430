"""Solutions to exercises/ch01_language_models.ipynb (instructor copy; students
do not see this file).
"""

import math
from collections import Counter


def bigram_probabilities(sentences):
    """Maximum-likelihood bigram model: {context: {next word: c(context, next) /
    c(context)}}, with <s> and </s>.
    """
    pair_counts = Counter()
    for sentence in sentences:
        padded = ["<s>"] + list(sentence) + ["</s>"]
        pair_counts.update(zip(padded[:-1], padded[1:]))
    context_counts = Counter()
    for (context, _word), count in pair_counts.items():
        context_counts[context] += count
    probabilities = {}
    for (context, word), count in pair_counts.items():
        probabilities.setdefault(context, {})[word] = (
            count / context_counts[context]
        )
    return probabilities


def perplexity(logprob, sentences):
    """exp(-mean natural-log probability per predicted token); every word and
    every </s> is a token.
    """
    total, n_tokens = 0.0, 0
    for sentence in sentences:
        padded = ["<s>"] + list(sentence) + ["</s>"]
        for previous, word in zip(padded[:-1], padded[1:]):
            total += logprob(word, previous)
            n_tokens += 1
    return math.exp(-total / n_tokens)


def add_k_probability(
    word, context, bigram_counts, context_counts, vocab_size, k=1.0
):
    """(c(context, word) + k) / (c(context) + k * V): sums to 1 over the V words
    of the vocabulary.
    """
    return (bigram_counts[(context, word)] + k) / (
        context_counts[context] + k * vocab_size
    )
