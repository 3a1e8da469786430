"""Checkers for the exercises of chapter 5 (tokenization): BPE merges by hand, WordPiece by hand.

``check_learn_bpe_merges`` compares the student's merges with ``tokenizers``' own ``BpeTrainer`` on small
corpora (and with a reference written here, which the tests keep equal to the trainer); when they differ it
replays the student's merges to find the first wrong one and names the usual mistake: pairs counted once per
word type instead of by frequency, pairs across word boundaries, another tie rule, merges not applied before
counting again. ``check_wordpiece_tokenize`` compares the student's greedy longest-match-first tokenizer with
the WordPiece model inside the packaged BERT tokenizer and with a tiny hand-made vocabulary.
"""
from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache

from . import call_student, fail, passed

# ---------------------------------------------------------------------------------------------
# BPE merges
# ---------------------------------------------------------------------------------------------

TIE_RULE = ("break ties by the pair with the smaller (left number, right number), where characters are numbered "
            "in alphabetical order and each merged symbol gets the next number when it is created")

BPE_CASES = [
    ({"low": 5, "lower": 2, "newest": 6, "widest": 3}, 10),  # Sennrich et al.'s toy corpus
    ({"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}, 6),  # frequency weighting decides
    ({"cab": 2, "abc": 2}, 3),  # ties where string order and creation order disagree
    ({"banana": 3, "bandana": 2, "ban": 4, "nab": 1}, 8),
    ({"aaabdaaabac": 1}, 6),  # overlapping pairs (a a a) and repeated merges
]


def _merge(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def _counts(splits: dict[str, list[str]], word_counts: dict[str, int], weighted: bool = True) -> Counter:
    counts = Counter()
    for word, symbols in splits.items():
        for pair in zip(symbols, symbols[1:]):
            counts[pair] += word_counts[word] if weighted else 1
    return counts


def _numbers(word_counts) -> dict[str, int]:
    return {ch: i for i, ch in enumerate(sorted({ch for w in word_counts for ch in w}))}


def _best(counts: Counter, number: dict[str, int], rule: str = "library"):
    if rule == "library":
        return min(counts, key=lambda p: (-counts[p], number[p[0]], number[p[1]]))
    if rule == "string":
        return min(counts, key=lambda p: (-counts[p], p))
    if rule == "first":  # Counter.most_common keeps first-seen order among equal counts
        return counts.most_common(1)[0][0]
    if rule == "last":
        return max(counts, key=lambda p: (counts[p], p))
    raise ValueError(rule)


def reference_bpe(word_counts: dict[str, int], num_merges: int, *, weighted: bool = True, apply: bool = True,
                  rule: str = "library") -> list[tuple[str, str]]:
    """BPE merges with switches that reproduce the usual mistakes (``weighted=False``, ``apply=False``, ``rule``)."""
    splits = {w: list(w) for w in word_counts}
    number = _numbers(word_counts)
    merges: list[tuple[str, str]] = []
    initial = _counts(splits, word_counts, weighted)
    for _ in range(num_merges):
        if apply:
            counts = _counts(splits, word_counts, weighted)
        else:  # the mistake: keep using the first counts, minus the pairs already taken
            counts = Counter({p: c for p, c in initial.items() if p not in merges})
        if not counts:
            break
        best = _best(counts, number, rule)
        merges.append(best)
        number.setdefault(best[0] + best[1], len(number))
        if apply:
            splits = {w: _merge(s, best) for w, s in splits.items()}
    return merges


def _across_boundaries(word_counts: dict[str, int], num_merges: int) -> list[tuple[str, str]]:
    """The mistake of treating the corpus as one long string: each word repeated count times, glued together."""
    stream = "".join(w * c for w, c in word_counts.items())
    return reference_bpe({stream: 1}, num_merges)


@lru_cache(maxsize=None)
def _library_bpe(corpus_items: tuple, num_merges: int) -> list[tuple[str, str]]:
    """The merges of tokenizers' BpeTrainer on the corpus (words split on white space, no pair crosses them)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    word_counts = dict(corpus_items)
    alphabet = {ch for w in word_counts for ch in w}
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(vocab_size=len(alphabet) + num_merges, show_progress=False)
    tok.train_from_iterator([" ".join([w] * c) for w, c in word_counts.items()], trainer)
    merges = json.loads(tok.to_str())["model"]["merges"]
    return [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in merges]


def _as_merges(result, what: str) -> list[tuple[str, str]]:
    if isinstance(result, dict):
        fail(f"{what} returned a dict; return a list of (left, right) pairs in the order they were merged.")
    try:
        items = list(result)
    except TypeError:
        fail(f"{what} returned a {type(result).__name__}; return a list of (left, right) pairs.")
    merges = []
    for item in items:
        if isinstance(item, str):
            fail(f"{what} returned strings such as {item!r}; return each merge as a pair of symbols, "
                 f"e.g. ('e', 's'), not the merged symbol.")
        try:
            left, right = item
        except (TypeError, ValueError):
            fail(f"{what} returned {item!r} as a merge; each merge must be a pair (left, right) of two strings.")
        if not (isinstance(left, str) and isinstance(right, str)):
            fail(f"{what} returned {item!r}; each merge must be a pair of strings (the two symbols).")
        merges.append((left, right))
    return merges


def _diagnose_bpe(result, expected, word_counts, num_merges):
    """One sentence naming the first wrong merge and, where recognisable, the mistake behind it."""
    variants = [
        (reference_bpe(word_counts, num_merges, weighted=False),
         "you counted each pair once per word type: weight every pair by the count of the word it occurs in "
         "(a pair inside a word seen 6 times counts 6)."),
        (reference_bpe(word_counts, num_merges, apply=False),
         "you kept counting pairs on the original spelling: after each merge, rewrite every word with the new "
         "symbol and count the pairs again before choosing the next merge."),
        (_across_boundaries(word_counts, num_merges),
         "you counted pairs across word boundaries (the last letter of one word with the first of the next): "
         "count pairs inside each word only, weighted by the word's count."),
    ]
    for variant, message in variants:
        if result == variant and variant != expected:
            fail(message)
    for rule in ("string", "first", "last"):
        variant = reference_bpe(word_counts, num_merges, rule=rule)
        if result == variant and variant != expected:
            fail(f"your merges are right except where two pairs have the same count: {TIE_RULE} "
                 f"(for {word_counts} the merges are {expected}).")
    # replay the merges the student got right, and look at the first wrong one
    k = next((i for i, (a, b) in enumerate(zip(result, expected)) if a != b), min(len(result), len(expected)))
    if k == min(len(result), len(expected)):
        if len(result) > len(expected):
            fail(f"you returned {len(result)} merges for {word_counts} with num_merges={num_merges}, but after "
                 f"{len(expected)} merges every word is a single symbol: stop when there is no pair left.")
        fail(f"you returned {len(result)} merges for {word_counts}, but num_merges={num_merges} asks for "
             f"{len(expected)}: keep merging until you have num_merges merges (or no pair is left).")
    splits = {w: list(w) for w in word_counts}
    for pair in expected[:k]:
        splits = {w: _merge(s, pair) for w, s in splits.items()}
    counts = _counts(splits, word_counts)
    unweighted = _counts(splits, word_counts, weighted=False)
    wrong, right = result[k], expected[k]
    step = f"at merge {k + 1} (after {expected[:k]})" if k else "at the first merge"
    if not any(wrong[0] + wrong[1] in w for w in word_counts):
        fail(f"{step} you merged {wrong}, but {wrong[0] + wrong[1]!r} occurs inside no word: you counted pairs "
             f"across word boundaries; count pairs inside each word only.")
    if wrong in counts and counts[wrong] == counts[right]:
        fail(f"{step} {wrong} and {right} both occur {counts[right]} times and you chose {wrong}: {TIE_RULE}.")
    if wrong in unweighted and unweighted[wrong] == max(unweighted.values()) and counts.get(wrong, 0) < counts[right]:
        fail(f"{step} you chose {wrong}, which occurs in the most word types, but weighted by word counts it "
             f"occurs {counts.get(wrong, 0)} times and {right} {counts[right]} times: weight each pair by the "
             f"count of its word.")
    if wrong not in counts:
        fail(f"{step} you merged {wrong}, but after the earlier merges no word has {wrong[0]!r} next to "
             f"{wrong[1]!r} any more: apply each merge to every word before counting the pairs again.")
    fail(f"{step} you merged {wrong} ({counts[wrong]} occurrences), but the most frequent pair is {right} "
         f"({counts[right]} occurrences, weighted by word counts).")


def check_learn_bpe_merges(learn_bpe_merges) -> None:
    """Check ``learn_bpe_merges(word_counts, num_merges) -> list[tuple[str, str]]`` against BpeTrainer."""
    for word_counts, num_merges in BPE_CASES:
        corpus = dict(word_counts)
        result = _as_merges(call_student(learn_bpe_merges, corpus, num_merges, name="learn_bpe_merges"),
                            "learn_bpe_merges")
        if corpus != word_counts:
            fail("learn_bpe_merges changed the word_counts dict it was given: work on a copy of the words.")
        expected = _library_bpe(tuple(word_counts.items()), num_merges)
        if result != expected:
            _diagnose_bpe(result, expected, word_counts, num_merges)
    # a corpus that runs out of pairs before num_merges
    tiny = {"ab": 3, "c": 1}
    try:
        result = learn_bpe_merges(dict(tiny), 5)
    except NotImplementedError:
        fail("learn_bpe_merges is not written yet: replace the `raise NotImplementedError` line with your code.")
    except Exception as exc:
        fail(f"learn_bpe_merges({tiny}, 5) raised {type(exc).__name__}: {exc}; when no pair is left (every word "
             f"is one symbol), stop and return the merges found so far.")
    result = _as_merges(result, "learn_bpe_merges")
    if result != [("a", "b")]:
        fail(f"learn_bpe_merges({tiny}, 5) should return [('a', 'b')] (after that merge no pair is left), "
             f"not {result}.")
    passed("learn_bpe_merges")


# ---------------------------------------------------------------------------------------------
# WordPiece: greedy longest match first
# ---------------------------------------------------------------------------------------------

WORDPIECE_WORDS = [
    "the", "tokenization", "unaffable", "electroencephalography", "transformers", "huggingface", "embeddings",
    "ouagadougou", "unbelievably", "gpt", "bpe", "wordpiece", "subword", "antidisestablishmentarianism",
    "photosynthesis", "kaleidoscopic", "xylophonist", "quizzically", "zzzz", "2024", "3rd", "covid19",
    "snowman", "wikipedia", "astronomy", "ngrams", "pretrained", "finetuning", "softmax", "logits",
    "x☃y", "☃", "snow☃", "🤗", "abc🤗def", "a", "ab", "qwertyuiop", "mississippi", "preprocessing",
]

TINY_VOCAB = {"[UNK]": 0, "<unk>": 1, "un": 2, "##aff": 3, "##able": 4, "a": 5, "##a": 6, "##b": 7, "##l": 8,
              "##e": 9, "##f": 10, "##ab": 11, "ab": 12, "##le": 13, "u": 14, "##n": 15, "b": 16}
TINY_WORDS = ["unaffable", "aaab", "able", "unable", "ab", "unx", "ba", "baffle"]


@lru_cache(maxsize=1)
def _bert_tokenizer():
    from transformers import AutoTokenizer

    from ..assets import resolve_checkpoint

    return AutoTokenizer.from_pretrained(resolve_checkpoint("all-MiniLM-L6-v2"))


@lru_cache(maxsize=4)
def _wordpiece_model(vocab_items: tuple, unk: str):
    from tokenizers import models

    return models.WordPiece(vocab=dict(vocab_items), unk_token=unk, max_input_chars_per_word=100)


def _library_pieces(model, word: str) -> list[str]:
    return [t.value for t in model.tokenize(word)]


def _variant(word: str, vocab, unk: str, *, prefix: str = "##", longest: bool = True, partial: bool = False):
    """Greedy WordPiece with switches that reproduce the usual mistakes."""
    pieces, start = [], 0
    while start < len(word):
        ends = range(len(word), start, -1) if longest else range(start + 1, len(word) + 1)
        piece = None
        for end in ends:
            candidate = word[start:end] if start == 0 else prefix + word[start:end]
            if candidate in vocab:
                piece = candidate
                break
        if piece is None:
            if partial:
                return pieces + [unk]
            return [unk]
        pieces.append(piece)
        start = end
    return pieces


def _as_pieces(result, what: str) -> list[str]:
    if isinstance(result, str):
        fail(f"{what} returned the string {result!r}; return a list of pieces, e.g. ['token', '##ization'].")
    try:
        pieces = list(result)
    except TypeError:
        fail(f"{what} returned a {type(result).__name__}; return a list of strings (the pieces).")
    if not all(isinstance(p, str) for p in pieces):
        fail(f"{what} returned {pieces!r}; return the pieces as strings, not ids or tuples.")
    return pieces


def _diagnose_wordpiece(word, result, expected, vocab, unk):
    if expected == [unk] and result != [unk]:
        if unk in result or _variant(word, vocab, unk, partial=True) == result:
            fail(f"for {word!r} you returned {result}: when no vocabulary entry matches at some position, the "
                 f"whole word becomes [{unk.strip('[]')}] ({[unk]!r}), without the pieces found before it.")
        fail(f"{word!r} cannot be spelled with the vocabulary, so the answer is {[unk]!r}, not {result}.")
    if result and result[0].startswith("##"):
        fail(f"for {word!r} your first piece is {result[0]!r}: only pieces after the first one carry the ## "
             f"prefix.")
    if result == [p.removeprefix("##") for p in expected] or result == _variant(word, vocab, unk, prefix=""):
        fail(f"for {word!r} you returned {result}, but the answer is {expected}: look up (and return) every "
             f"piece after the first with the ## prefix, which marks a piece that continues a word.")
    if result == _variant(word, vocab, unk, longest=False):
        fail(f"for {word!r} you returned {result}, but the answer is {expected}: at each position take the "
             f"longest vocabulary entry that matches (start from the end of the word and shorten), not the "
             f"shortest.")
    if unk in result and expected != [unk]:
        fail(f"for {word!r} you returned {result} with an unknown token, but the word can be spelled: "
             f"{expected}; check that you look up candidates with the ## prefix after the first piece.")
    fail(f"wrong pieces for {word!r}: expected {expected}, got {result}.")


def check_wordpiece_tokenize(wordpiece_tokenize, tokenizer=None) -> None:
    """Check ``wordpiece_tokenize(word, vocab, unk) -> list[str]`` against BERT's WordPiece model."""
    tokenizer = tokenizer or _bert_tokenizer()
    vocab = tokenizer.get_vocab()
    cases = [(w, vocab, "[UNK]", tokenizer.backend_tokenizer.model) for w in WORDPIECE_WORDS]
    tiny = _wordpiece_model(tuple(TINY_VOCAB.items()), "<unk>")
    cases += [(w, TINY_VOCAB, "<unk>", tiny) for w in TINY_WORDS]
    for word, vocab_used, unk, model in cases:
        result = _as_pieces(call_student(wordpiece_tokenize, word, vocab_used, unk=unk, name="wordpiece_tokenize"),
                            "wordpiece_tokenize")
        expected = [unk if p == model.unk_token else p for p in _library_pieces(model, word)]
        if result == expected:
            continue
        if vocab_used is TINY_VOCAB and expected == [unk] and result == ["[UNK]"]:
            fail(f"for {word!r} with unk='<unk>' you returned ['[UNK]']: return the `unk` argument, not a "
                 f"hard-coded '[UNK]'.")
        _diagnose_wordpiece(word, result, expected, vocab_used, unk)
    passed("wordpiece_tokenize")


# ---------------------------------------------------------------------------------------------
# Fertility and [UNK] rate
# ---------------------------------------------------------------------------------------------

STATS_TEXTS = [
    "Tokenization of unbelievably rare words",
    "snow☃man melts under the 🤗 sun",
    "语言模型 means language model",
    "Plain words only here",
]


def check_tokenizer_stats(tokenizer_stats, tokenizer=None) -> None:
    """Check ``tokenizer_stats(tokenizer, texts) -> {"fertility": float, "unk_rate": float}``."""
    tokenizer = tokenizer or _bert_tokenizer()
    for texts in (STATS_TEXTS, STATS_TEXTS[:1], STATS_TEXTS[1:3]):
        result = call_student(tokenizer_stats, tokenizer, list(texts), name="tokenizer_stats")
        if not isinstance(result, dict) or set(result) != {"fertility", "unk_rate"}:
            fail(f"tokenizer_stats returned {result!r}; return a dict with exactly the keys 'fertility' and "
                 f"'unk_rate'.")
        try:
            fert, unk = float(result["fertility"]), float(result["unk_rate"])
        except (TypeError, ValueError):
            fail("tokenizer_stats should return numbers for 'fertility' and 'unk_rate'.")
        ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
        tokens = sum(map(len, ids))
        unknown = sum(i == tokenizer.unk_token_id for seq in ids for i in seq)
        words = sum(len(t.split()) for t in texts)
        chars = sum(len("".join(t.split())) for t in texts)
        close = lambda a, b: abs(a - b) <= 1e-6 * max(1.0, abs(b))  # noqa: E731
        if not close(fert, tokens / words):
            if close(fert, (tokens + 2 * len(texts)) / words):
                fail("your fertility counts [CLS] and [SEP]: tokenize with add_special_tokens=False, so that only "
                     "the text's own tokens are counted.")
            if close(fert, words / tokens):
                fail("your fertility is upside down (words per token): divide the number of tokens by the number "
                     "of words.")
            if close(fert, tokens / chars):
                fail("you divided by the number of characters: fertility here is tokens per white-space word "
                     "(text.split()).")
            if close(fert, sum(len(s) / len(t.split()) for s, t in zip(ids, texts)) / len(texts)) and len(texts) > 1:
                fail("you averaged the fertility of each text: add up all tokens and all words first, then divide "
                     "once, so that long texts weigh more.")
            fail(f"wrong fertility for {texts!r}: {tokens} tokens over {words} white-space words gives "
                 f"{tokens / words:.4f}, not {fert:.4f}.")
        if not close(unk, unknown / tokens):
            if unknown and close(unk, float(unknown)):
                fail("you returned the number of [UNK] tokens: divide it by the number of tokens to get a rate.")
            if unknown and close(unk, unknown / words):
                fail("you divided the [UNK] count by the number of words: the rate is per token, so divide by the "
                     "number of tokens.")
            if close(unk, 100 * unknown / tokens):
                fail("you returned a percentage: return the share as a number between 0 and 1.")
            fail(f"wrong [UNK] rate for {texts!r}: {unknown} of {tokens} tokens are [UNK], a rate of "
                 f"{unknown / tokens:.4f}, not {unk:.4f}.")
    passed("tokenizer_stats")
