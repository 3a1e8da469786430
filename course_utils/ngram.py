"""Word-level n-gram language models: the reference implementation of chapter 1.

Chapter 1 builds the counting and a bigram model step by step and checks its numbers against
this module; chapter 6 compares a neural language model with the best model here on the same text.

Conventions used everywhere in this module:

* A *sentence* is a list of word strings **without** boundary tokens, e.g. ``["the", "cat", "sat"]``.
  The model pads it as ``<s> ... <s> the cat sat </s>`` (``n - 1`` start tokens).
* ``<s>`` is only ever a context; it is never predicted. ``</s>`` is predicted like a word, which is
  what makes the probabilities of all finite sentences sum to 1.
* The prediction vocabulary (:class:`Vocab`) holds the kept words plus ``</s>`` and ``<unk>``.
  Every distribution returned here sums to 1 over exactly that vocabulary.
* Log-probabilities are natural logarithms; perplexity is ``exp`` of the mean negative
  log-likelihood per predicted token, ``</s>`` included.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import CourseError

BOS = "<s>"
EOS = "</s>"
UNK = "<unk>"

SMOOTHINGS = ("mle", "add-k", "kn", "mkn")


class NgramError(CourseError, ValueError):
    """Bad input to an n-gram model; the message says what to pass instead."""


# --------------------------------------------------------------------------------------------
# Tokenisation
# --------------------------------------------------------------------------------------------

# A sentence ends after . ! or ? followed by white space and then (optionally an opening quote or
# bracket and) an upper-case letter or a digit. Abbreviations such as "e.g. Smith" are split wrongly;
# for counting words that is a small, documented price.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
# Numbers keep their inner . and , ("3.14", "1,000"); words keep inner apostrophes and hyphens
# ("don't", "well-known"); every other non-space character is a token of its own.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|\w+(?:['\u2019-]\w+)*|[^\w\s]")


def split_sentences(text: str) -> list[str]:
    """Split raw text into sentence strings: first at line breaks, then after ``. ! ?``."""
    sentences = []
    for line in text.split("\n"):
        line = line.strip()
        if line:
            sentences.extend(s for s in _SENTENCE_BREAK.split(line) if s.strip())
    return sentences


def word_tokenize(sentence: str) -> list[str]:
    """Lower-case a sentence string and cut it into words, numbers and punctuation marks."""
    return _TOKEN.findall(sentence.lower())


def tokenize(text: str) -> list[list[str]]:
    """Raw text -> list of sentences, each a list of lower-cased tokens (no boundary tokens)."""
    if not isinstance(text, str):
        raise NgramError(f"tokenize expects a string of text, got {type(text).__name__}.")
    return [tokens for tokens in map(word_tokenize, split_sentences(text)) if tokens]


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

class Vocab:
    """The prediction vocabulary: ``</s>``, ``<unk>`` and the kept words (most frequent first).

    ``len(vocab)`` is the number of outcomes a model distributes probability over; ``<s>`` is not
    one of them.
    """

    def __init__(self, words: Iterable[str]):
        self.itos: list[str] = [EOS, UNK]
        for word in words:
            if word in (BOS, EOS, UNK):
                continue
            self.itos.append(word)
        self.stoi: dict[str, int] = {w: i for i, w in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise NgramError("Vocab got the same word twice: pass each word once.")

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, word: str) -> bool:
        return word in self.stoi

    def __repr__(self) -> str:
        return f"Vocab({len(self)} types: {self.itos[:8]}...)"

    def map(self, sentence: Sequence[str]) -> list[str]:
        """Replace every word outside the vocabulary with ``<unk>``."""
        stoi = self.stoi
        return [w if w in stoi else UNK for w in sentence]

    def encode(self, sentence: Sequence[str]) -> list[int]:
        """Words -> ids (unknown words -> the id of ``<unk>``)."""
        stoi, unk = self.stoi, self.stoi[UNK]
        return [stoi.get(w, unk) for w in sentence]


def build_vocab(sentences: Iterable[Sequence[str]], min_count: int = 2) -> Vocab:
    """Keep the words seen at least ``min_count`` times; order: frequency, then alphabetical."""
    if min_count < 1:
        raise NgramError(f"min_count must be at least 1, got {min_count}.")
    counts = Counter(w for sentence in sentences for w in sentence)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return Vocab(kept)


def oov_rate(sentences: Iterable[Sequence[str]], vocab: Vocab) -> float:
    """Fraction of word tokens (``</s>`` not counted) that are outside ``vocab``."""
    total = unknown = 0
    for sentence in sentences:
        total += len(sentence)
        unknown += sum(w not in vocab for w in sentence)
    return unknown / max(total, 1)


# --------------------------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------------------------

def pad(sentence: Sequence[str], n: int) -> list[str]:
    """``n - 1`` start tokens, the sentence, one end token: ``pad(["a"], 3) == ["<s>", "<s>", "a", "</s>"]``."""
    return [BOS] * (n - 1) + list(sentence) + [EOS]


def ngrams(sentence: Sequence[str], n: int, pad_to: int | None = None) -> list[tuple[str, ...]]:
    """The n-grams whose last token is a predicted token (a word or ``</s>``).

    The sentence is padded for an order-``pad_to`` model (default ``n``), so there is one n-gram per
    predicted token: ``len(sentence) + 1`` of them.
    """
    pad_to = n if pad_to is None else pad_to
    seq = pad(sentence, pad_to)
    start = pad_to - 1  # index of the first predicted token
    return [tuple(seq[i - n + 1:i + 1]) for i in range(start, len(seq))]


def count_ngrams(sentences: Iterable[Sequence[str]], n: int) -> Counter:
    """Counter of n-gram tuples (``n - 1`` start tokens of padding, ``</s>`` at the end)."""
    counts: Counter = Counter()
    for sentence in sentences:
        counts.update(ngrams(sentence, n))
    return counts


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------

def continuation_counts(higher: Counter, raw: Counter) -> Counter:
    """Kneser-Ney counts for the m-grams of ``raw``, given the distinct (m+1)-grams in ``higher``.

    ``N1+(. g)``: how many distinct words precede the m-gram ``g``. An m-gram that starts with
    ``<s>`` is always preceded by another ``<s>`` of the padding, so its continuation count would
    say nothing; as in KenLM it keeps its raw count instead.
    """
    cont: Counter = Counter(gram[1:] for gram in higher if gram[1] != BOS)
    cont.update({gram: c for gram, c in raw.items() if gram[0] == BOS})
    return cont


@dataclass
class _Context:
    """Counts that follow one context at one order (raw counts or Kneser-Ney continuation counts)."""

    total: float  # sum over followers of their counts
    gamma: float  # back-off weight: discount mass / total (0 for add-k and MLE)
    followers: dict  # word -> count


def _count_of_counts(counts: Iterable[int], up_to: int = 4) -> list[int]:
    n_r = [0] * (up_to + 1)
    for c in counts:
        if c <= up_to:
            n_r[c] += 1
    return n_r


def _kn_discount(n_r: Sequence[int]) -> float:
    """Ney's estimate D = n1 / (n1 + 2 n2), from the numbers of n-grams seen once and twice.

    Falls back to 0.5 when no n-gram was seen exactly once (e.g. a unigram level whose vocabulary
    kept only words seen at least twice) or the counts are too few to estimate anything.
    """
    denom = n_r[1] + 2 * n_r[2]
    return n_r[1] / denom if denom > 0 and n_r[1] > 0 else 0.5


def _mkn_discounts(n_r: Sequence[int]) -> tuple[float, float, float]:
    """Chen and Goodman's three discounts D1, D2, D3+ (clipped to (0, r] for tiny corpora)."""
    y = _kn_discount(n_r)
    defaults = (0.5, 1.0, 1.5)
    out = []
    for r in (1, 2, 3):
        if n_r[r] > 0:
            d = r - (r + 1) * y * n_r[r + 1] / n_r[r]
        else:
            d = defaults[r - 1]
        out.append(float(min(max(d, 0.05), r)))
    return tuple(out)


class NgramLM:
    """A word n-gram language model with one of four estimators.

    ``smoothing``:

    * ``"mle"``: maximum likelihood, ``c(h w) / c(h)``; unseen events get probability 0
      (and a context never seen gets 0 for every word: it has no estimate).
    * ``"add-k"``: ``(c(h w) + k) / (c(h) + k V)`` with ``V = len(vocab)``; ``k = 1`` is Laplace.
    * ``"kn"``: interpolated Kneser-Ney with one absolute discount ``D`` per order
      (``D = n1 / (n1 + 2 n2)`` unless ``discount`` is given); lower orders use continuation
      counts, and the unigram level is interpolated with the uniform distribution ``1 / V``.
    * ``"mkn"``: the same with Chen and Goodman's three discounts (for counts 1, 2 and 3+).

    Usage::

        lm = NgramLM(3, vocab, smoothing="kn").fit(train_sentences)
        lm.prob("cat", ("the", "black"))      # P(cat | the black)
        lm.distribution(("the", "black"))     # array (V,), sums to 1
        lm.perplexity(test_sentences)

    Words outside ``vocab`` are mapped to ``<unk>`` both when fitting and when scoring.
    """

    def __init__(self, n: int, vocab: Vocab, smoothing: str = "kn", k: float = 1.0,
                 discount: float | None = None):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise NgramError(f"n must be a positive integer (1 = unigram, 2 = bigram, ...), got {n!r}.")
        if smoothing not in SMOOTHINGS:
            raise NgramError(f"Unknown smoothing {smoothing!r}: choose one of {', '.join(SMOOTHINGS)}.")
        if not isinstance(vocab, Vocab):
            raise NgramError("vocab must be a course_utils.ngram.Vocab: build one with build_vocab(train_sentences).")
        if smoothing == "add-k" and not k > 0:
            raise NgramError(f"add-k smoothing needs k > 0, got k={k}; use smoothing='mle' for no smoothing.")
        if discount is not None and not 0 < discount <= 1:
            raise NgramError(f"A Kneser-Ney discount must lie in (0, 1], got {discount}.")
        self.n = int(n)
        self.vocab = vocab
        self.smoothing = smoothing
        self.k = float(k)
        self.fixed_discount = discount
        self.discounts: dict[int, tuple[float, ...]] = {}
        self._levels: dict[int, dict[tuple, _Context]] = {}
        self._fitted = False

    def __repr__(self) -> str:
        extra = f", k={self.k:g}" if self.smoothing == "add-k" else ""
        return f"NgramLM(n={self.n}, smoothing={self.smoothing!r}{extra}, V={len(self.vocab)})"

    # ---------------------------------------------------------------- fitting
    def fit(self, sentences: Iterable[Sequence[str]]) -> NgramLM:
        """Count the n-grams of the training sentences (lists of words without boundary tokens)."""
        sentences = list(sentences)
        if not sentences:
            raise NgramError("fit got no sentences: pass a non-empty list of tokenised sentences.")
        if any(isinstance(s, str) for s in sentences):
            raise NgramError("fit expects sentences as lists of words, not strings: use tokenize(text) first.")
        sentences = [self.vocab.map(s) for s in sentences]
        n = self.n
        if self.smoothing in ("mle", "add-k"):
            self._levels = {n: self._group(count_ngrams(sentences, n), discounts=None)}
            self._fitted = True
            return self
        # raw[m]: the m-grams ending at each predicted token, with the padding of the order-n model
        raw = {m: Counter() for m in range(1, n + 1)}
        for sentence in sentences:
            for m in range(1, n + 1):
                raw[m].update(ngrams(sentence, m, pad_to=n))
        self._levels = {}
        for m in range(1, n + 1):
            counts = raw[m] if m == n else continuation_counts(raw[m + 1], raw[m])
            n_r = _count_of_counts(counts.values())
            if self.fixed_discount is not None:
                d = (self.fixed_discount,) * 3
            elif self.smoothing == "kn":
                d = (_kn_discount(n_r),) * 3
            else:
                d = _mkn_discounts(n_r)
            self.discounts[m] = d if self.smoothing == "mkn" else d[:1]
            self._levels[m] = self._group(counts, discounts=d)
        self._fitted = True
        return self

    def _group(self, counts: Counter, discounts) -> dict[tuple, _Context]:
        by_context: dict[tuple, dict] = defaultdict(dict)
        for gram, c in counts.items():
            by_context[gram[:-1]][gram[-1]] = c
        levels = {}
        for h, followers in by_context.items():
            total = float(sum(followers.values()))
            if discounts is None:
                gamma = 0.0
            else:
                d1, d2, d3 = (tuple(discounts) * 3)[:3]
                n1 = sum(1 for c in followers.values() if c == 1)
                n2 = sum(1 for c in followers.values() if c == 2)
                n3 = len(followers) - n1 - n2
                gamma = (d1 * n1 + d2 * n2 + d3 * n3) / total
            levels[h] = _Context(total, gamma, followers)
        return levels

    def _check_fitted(self):
        if not self._fitted:
            raise NgramError("This model has not been fitted yet: call lm.fit(train_sentences) first.")

    def _context(self, context: Sequence[str]) -> tuple:
        """Map OOV words to <unk>, keep the last n-1 tokens, pad on the left with <s>."""
        if isinstance(context, str):
            raise NgramError(f"context must be a sequence of words such as ('the',), not the string {context!r}.")
        h = tuple(w if (w == BOS or w in self.vocab) else UNK for w in context)
        if self.n == 1:
            return ()
        h = h[-(self.n - 1):]
        return (BOS,) * (self.n - 1 - len(h)) + h

    def _discount(self, order: int, c: float) -> float:
        d = self.discounts[order]
        if len(d) == 1:
            return d[0]
        return d[0] if c == 1 else d[1] if c == 2 else d[2]

    # ---------------------------------------------------------------- probabilities
    def prob(self, word: str, context: Sequence[str] = ()) -> float:
        """P(word | context). ``context`` may be longer or shorter than n-1 (it is cut or padded)."""
        self._check_fitted()
        if word == BOS:
            raise NgramError("<s> is never predicted: it only marks the start of a context.")
        w = word if word in self.vocab else UNK
        return self._prob(w, self._context(context))

    def _prob(self, w: str, h: tuple) -> float:
        V = len(self.vocab)
        if self.smoothing in ("mle", "add-k"):
            entry = self._levels[self.n].get(h)
            c_hw = entry.followers.get(w, 0) if entry else 0
            c_h = entry.total if entry else 0.0
            if self.smoothing == "mle":
                return c_hw / c_h if c_h > 0 else 0.0
            return (c_hw + self.k) / (c_h + self.k * V)
        # interpolated (modified) Kneser-Ney, from the unigram level up
        p = 1.0 / V
        for m in range(1, self.n + 1):
            entry = self._levels[m].get(h[len(h) - (m - 1):] if m > 1 else ())
            if entry is None:
                continue  # unseen context: this level hands the lower-order estimate through
            c = entry.followers.get(w, 0)
            p = max(c - self._discount(m, c), 0.0) / entry.total + entry.gamma * p if c else entry.gamma * p
        return p

    def logprob(self, word: str, context: Sequence[str] = ()) -> float:
        """Natural log of P(word | context) (``-inf`` when the probability is 0)."""
        p = self.prob(word, context)
        return math.log(p) if p > 0 else -math.inf

    def distribution(self, context: Sequence[str] = ()) -> np.ndarray:
        """P(. | context) over ``vocab.itos`` as an array of shape (V,); it sums to 1."""
        self._check_fitted()
        h = self._context(context)
        V = len(self.vocab)
        stoi = self.vocab.stoi
        if self.smoothing in ("mle", "add-k"):
            entry = self._levels[self.n].get(h)
            p = np.zeros(V)
            if entry:
                idx = np.fromiter((stoi[w] for w in entry.followers), dtype=np.int64)
                p[idx] = np.fromiter(entry.followers.values(), dtype=float)
            c_h = entry.total if entry else 0.0
            if self.smoothing == "mle":
                return p / c_h if c_h > 0 else p
            return (p + self.k) / (c_h + self.k * V)
        p = np.full(V, 1.0 / V)
        for m in range(1, self.n + 1):
            entry = self._levels[m].get(h[len(h) - (m - 1):] if m > 1 else ())
            if entry is None:
                continue
            idx = np.fromiter((stoi[w] for w in entry.followers), dtype=np.int64)
            c = np.fromiter(entry.followers.values(), dtype=float)
            if len(self.discounts[m]) == 1:
                d = self.discounts[m][0]
            else:
                d1, d2, d3 = self.discounts[m]
                d = np.where(c == 1, d1, np.where(c == 2, d2, d3))
            p = entry.gamma * p
            p[idx] += np.maximum(c - d, 0.0) / entry.total
        return p

    # ---------------------------------------------------------------- evaluation
    def token_logprobs(self, sentences: Iterable[Sequence[str]]) -> np.ndarray:
        """Log-probability of every predicted token (each word and each ``</s>``), shape (N,)."""
        self._check_fitted()
        out = []
        n = self.n
        for sentence in sentences:
            if isinstance(sentence, str):
                raise NgramError("Sentences must be lists of words, not strings: use tokenize(text) first.")
            seq = pad(self.vocab.map(sentence), n)
            for i in range(n - 1, len(seq)):
                p = self._prob(seq[i], tuple(seq[i - n + 1:i]))
                out.append(math.log(p) if p > 0 else -math.inf)
        return np.asarray(out, dtype=float)

    def sentence_logprob(self, sentence: Sequence[str]) -> float:
        """log P(sentence): the sum of the token log-probabilities, ``</s>`` included."""
        return float(self.token_logprobs([sentence]).sum())

    def perplexity(self, sentences: Iterable[Sequence[str]]) -> float:
        """exp(mean negative log-likelihood per predicted token, ``</s>`` included)."""
        return perplexity_from_logprobs(self.token_logprobs(sentences))

    # ---------------------------------------------------------------- generation
    def sample(self, rng: np.random.Generator | int = 0, max_words: int = 40,
               context: Sequence[str] = ()) -> list[str]:
        """Draw one sentence word by word until ``</s>`` (not returned) or ``max_words`` words."""
        self._check_fitted()
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        history = [BOS] * (self.n - 1) + list(context)
        words = []
        for _ in range(max_words):
            p = self.distribution(history)
            word = self.vocab.itos[rng.choice(len(p), p=p / p.sum())]
            if word == EOS:
                break
            words.append(word)
            history.append(word)
        return words


def perplexity_from_logprobs(logprobs) -> float:
    """exp(-mean(logprobs)) for natural-log token log-probabilities (``inf`` if any is ``-inf``)."""
    lp = np.asarray(logprobs, dtype=float)
    if lp.ndim != 1 or lp.size == 0:
        raise NgramError(f"Expected a non-empty 1-D array of token log-probabilities, got shape {lp.shape}.")
    if np.any(lp > 1e-9):
        raise NgramError("A log-probability is positive: pass natural logs of probabilities (all <= 0).")
    if np.isneginf(lp).any():
        return math.inf
    return float(np.exp(-lp.mean()))


# --------------------------------------------------------------------------------------------
# The chapter's data, prepared once for chapters 1 and 6
# --------------------------------------------------------------------------------------------

@dataclass
class LMCorpus:
    """Tokenised Wikipedia split by article.

    ``train`` / ``test``: lists of sentences (lists of lower-cased tokens, OOV words NOT yet
    replaced); ``vocab``: words seen at least ``min_count`` times in ``train``; ``split``: the
    ``datasets.DatasetDict`` of articles (``title``, ``text``) the sentences come from.
    """

    train: list
    test: list
    vocab: Vocab
    split: object


def load_lm_corpus(n_articles: int | None = None, test_size: float = 0.1, seed: int = 0,
                   min_count: int = 2, articles=None) -> LMCorpus:
    """The Wikipedia articles, split ``1 - test_size`` / ``test_size`` by article, then tokenised.

    ``n_articles`` keeps only the first articles (FAST mode); the split itself is
    ``Dataset.train_test_split(test_size, seed=seed)``, so chapters that call this with the same
    arguments get the same articles on each side. ``articles`` lets a notebook pass the Dataset of
    ``cu.data.load_wikipedia()`` that it has already loaded (loading takes a few seconds).
    """
    if articles is None:
        from .data import load_wikipedia

        articles = load_wikipedia()
    if n_articles is not None:
        articles = articles.select(range(min(n_articles, len(articles))))
    split = articles.train_test_split(test_size=test_size, seed=seed)
    train = [s for text in split["train"]["text"] for s in tokenize(text)]
    test = [s for text in split["test"]["text"] for s in tokenize(text)]
    return LMCorpus(train=train, test=test, vocab=build_vocab(train, min_count), split=split)
