"""Checkers for the exercises of chapter 5 (tokenization): BPE merges by hand,
WordPiece by hand.

``check_learn_bpe_merges`` compares the student's merges with ``tokenizers``'
own ``BpeTrainer`` on small corpora; when they differ it runs chapter 5's
``learn_bpe`` (``course_utils.tokenization``, which the tests keep equal to the
trainer) with the usual mistakes built in, and replays the student's merges to
find the first wrong one and names the usual mistake: pairs counted once per
word type instead of by frequency, pairs across word boundaries, another tie
rule, merges not applied before counting again. ``check_wordpiece_tokenize``
compares the student's greedy longest-match-first tokenizer with the WordPiece
model inside the packaged BERT tokenizer and with a tiny hand-made vocabulary.
"""

from __future__ import annotations

from functools import lru_cache

from course_utils import tokenization

from . import call_student, fail, passed

# ------------------------------------------------------------------------------
# ---------------
# BPE merges
# ------------------------------------------------------------------------------
# ---------------

TIE_RULE = (
    "break ties by the pair with the smaller (left number, right number), "
    "where characters are numbered "
    "in alphabetical order and each merged symbol gets the next number when "
    "it is created"
)

BPE_CASES = [
    (
        {"low": 5, "lower": 2, "newest": 6, "widest": 3},
        10,
    ),  # Sennrich et al.'s toy corpus
    (
        {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5},
        6,
    ),  # frequency weighting decides
    (
        {"cab": 2, "abc": 2},
        3,
    ),  # ties where string order and creation order disagree
    ({"banana": 3, "bandana": 2, "ban": 4, "nab": 1}, 8),
    ({"aaabdaaabac": 1}, 6),  # overlapping pairs (a a a) and repeated merges
]


def _numbers(word_counts) -> dict[str, int]:
    """The tie rule's numbers of the characters: alphabetical order."""
    return {
        ch: i
        for i, ch in enumerate(sorted({ch for w in word_counts for ch in w}))
    }


def _unweighted(word_counts: dict[str, int]) -> dict[str, int]:
    """The corpus with every word counted once (the mistake of counting per word
    type)."""
    return dict.fromkeys(word_counts, 1)


# Tie rules a student may use instead of the library's (see
# tokenization.most_frequent_pair).
WRONG_TIE_RULES = {
    "string": lambda counts, number: min(counts, key=lambda p: (-counts[p], p)),
    # Counter.most_common keeps first-seen order among equal counts
    "first": lambda counts, number: counts.most_common(1)[0][0],
    "last": lambda counts, number: max(counts, key=lambda p: (counts[p], p)),
}


def _without_recounting(
    word_counts: dict[str, int], num_merges: int
) -> list[tuple[str, str]]:
    """The mistake of never applying a merge: every merge picked from the first
    counts, minus the pairs taken."""
    counts = tokenization.pair_counts(
        {w: list(w) for w in word_counts}, word_counts
    )
    number = _numbers(word_counts)
    merges: list[tuple[str, str]] = []
    while counts and len(merges) < num_merges:
        best = tokenization.most_frequent_pair(counts, number)
        merges.append(best)
        del counts[best]
    return merges


def _across_boundaries(
    word_counts: dict[str, int], num_merges: int
) -> list[tuple[str, str]]:
    """The mistake of treating the corpus as one long string: each word repeated
    count times, glued together."""
    stream = "".join(w * c for w, c in word_counts.items())
    return tokenization.learn_bpe({stream: 1}, num_merges)


@lru_cache(maxsize=None)
def _library_bpe(corpus_items: tuple, num_merges: int) -> list[tuple[str, str]]:
    """The merges of tokenizers' BpeTrainer on the corpus (chapter 5's
    train_library_bpe)."""
    return tokenization.bpe_merges(
        tokenization.train_library_bpe(dict(corpus_items), num_merges)
    )


def _as_merges(result, what: str) -> list[tuple[str, str]]:
    if isinstance(result, dict):
        fail(
            f"{what} returned a dict; return a list of (left, right) pairs in "
            "the order they were merged."
        )
    try:
        items = list(result)
    except TypeError:
        fail(
            f"{what} returned a {type(result).__name__}; return a list of "
            "(left, right) pairs."
        )
    merges = []
    for item in items:
        if isinstance(item, str):
            fail(
                f"{what} returned strings such as {item!r}; return each merge "
                "as a pair of symbols, "
                f"e.g. ('e', 's'), not the merged symbol."
            )
        try:
            left, right = item
        except (TypeError, ValueError):
            fail(
                f"{what} returned {item!r} as a merge; each merge must be a "
                "pair (left, right) of two strings."
            )
        if not (isinstance(left, str) and isinstance(right, str)):
            fail(
                f"{what} returned {item!r}; each merge must be a pair of "
                "strings (the two symbols)."
            )
        merges.append((left, right))
    return merges


def _diagnose_bpe(result, expected, word_counts, num_merges):
    """One sentence naming the first wrong merge and, where recognisable, the
    mistake behind it."""
    variants = [
        (
            tokenization.learn_bpe(_unweighted(word_counts), num_merges),
            "you counted each pair once per word type: weight every pair by "
            "the count of the word it occurs in "
            "(a pair inside a word seen 6 times counts 6).",
        ),
        (
            _without_recounting(word_counts, num_merges),
            "you kept counting pairs on the original spelling: after each "
            "merge, rewrite every word with the new "
            "symbol and count the pairs again before choosing the next merge.",
        ),
        (
            _across_boundaries(word_counts, num_merges),
            "you counted pairs across word boundaries (the last letter of one "
            "word with the first of the next): "
            "count pairs inside each word only, weighted by the word's count.",
        ),
    ]
    for variant, message in variants:
        if result == variant and variant != expected:
            fail(message)
    for rule in WRONG_TIE_RULES.values():
        variant = tokenization.learn_bpe(word_counts, num_merges, pick=rule)
        if result == variant and variant != expected:
            fail(
                "your merges are right except where two pairs have the same "
                f"count: {TIE_RULE} "
                f"(for {word_counts} the merges are {expected})."
            )
    # replay the merges the student got right, and look at the first wrong one
    k = next(
        (i for i, (a, b) in enumerate(zip(result, expected)) if a != b),
        min(len(result), len(expected)),
    )
    if k == min(len(result), len(expected)):
        if len(result) > len(expected):
            fail(
                f"you returned {len(result)} merges for {word_counts} with "
                f"num_merges={num_merges}, but after "
                f"{len(expected)} merges every word is a single symbol: stop "
                "when there is no pair left."
            )
        fail(
            f"you returned {len(result)} merges for {word_counts}, but "
            f"num_merges={num_merges} asks for "
            f"{len(expected)}: keep merging until you have num_merges merges "
            "(or no pair is left)."
        )
    splits = {w: list(w) for w in word_counts}
    for pair in expected[:k]:
        splits = {
            w: tokenization.merge_pair(s, pair) for w, s in splits.items()
        }
    counts = tokenization.pair_counts(splits, word_counts)
    unweighted = tokenization.pair_counts(splits, _unweighted(word_counts))
    wrong, right = result[k], expected[k]
    step = (
        f"at merge {k + 1} (after {expected[:k]})"
        if k
        else "at the first merge"
    )
    if not any(wrong[0] + wrong[1] in w for w in word_counts):
        fail(
            f"{step} you merged {wrong}, but {wrong[0] + wrong[1]!r} occurs "
            "inside no word: you counted pairs "
            f"across word boundaries; count pairs inside each word only."
        )
    if wrong in counts and counts[wrong] == counts[right]:
        fail(
            f"{step} {wrong} and {right} both occur {counts[right]} times and "
            f"you chose {wrong}: {TIE_RULE}."
        )
    if (
        wrong in unweighted
        and unweighted[wrong] == max(unweighted.values())
        and counts.get(wrong, 0) < counts[right]
    ):
        fail(
            f"{step} you chose {wrong}, which occurs in the most word types, "
            "but weighted by word counts it "
            f"occurs {counts.get(wrong, 0)} times and {right} {counts[right]} "
            "times: weight each pair by the "
            f"count of its word."
        )
    if wrong not in counts:
        fail(
            f"{step} you merged {wrong}, but after the earlier merges no word "
            f"has {wrong[0]!r} next to "
            f"{wrong[1]!r} any more: apply each merge to every word before "
            "counting the pairs again."
        )
    fail(
        f"{step} you merged {wrong} ({counts[wrong]} occurrences), but the "
        f"most frequent pair is {right} "
        f"({counts[right]} occurrences, weighted by word counts)."
    )


def check_learn_bpe_merges(learn_bpe_merges) -> None:
    """Check ``learn_bpe_merges(word_counts, num_merges) -> list[tuple[str,
    str]]`` against BpeTrainer."""
    for word_counts, num_merges in BPE_CASES:
        corpus = dict(word_counts)
        result = _as_merges(
            call_student(
                learn_bpe_merges, corpus, num_merges, name="learn_bpe_merges"
            ),
            "learn_bpe_merges",
        )
        if corpus != word_counts:
            fail(
                "learn_bpe_merges changed the word_counts dict it was given: "
                "work on a copy of the words."
            )
        expected = _library_bpe(tuple(word_counts.items()), num_merges)
        if result != expected:
            _diagnose_bpe(result, expected, word_counts, num_merges)
    # a corpus that runs out of pairs before num_merges
    tiny = {"ab": 3, "c": 1}
    try:
        result = learn_bpe_merges(dict(tiny), 5)
    except NotImplementedError:
        fail(
            "learn_bpe_merges is not written yet: replace the `raise "
            "NotImplementedError` line with your code."
        )
    except Exception as exc:
        fail(
            f"learn_bpe_merges({tiny}, 5) raised {type(exc).__name__}: {exc}; "
            "when no pair is left (every word "
            f"is one symbol), stop and return the merges found so far."
        )
    result = _as_merges(result, "learn_bpe_merges")
    if result != [("a", "b")]:
        fail(
            f"learn_bpe_merges({tiny}, 5) should return [('a', 'b')] (after "
            "that merge no pair is left), "
            f"not {result}."
        )
    passed("learn_bpe_merges")


# ------------------------------------------------------------------------------
# ---------------
# WordPiece: greedy longest match first
# ------------------------------------------------------------------------------
# ---------------

WORDPIECE_WORDS = [
    "the",
    "tokenization",
    "unaffable",
    "electroencephalography",
    "transformers",
    "huggingface",
    "embeddings",
    "ouagadougou",
    "unbelievably",
    "gpt",
    "bpe",
    "wordpiece",
    "subword",
    "antidisestablishmentarianism",
    "photosynthesis",
    "kaleidoscopic",
    "xylophonist",
    "quizzically",
    "zzzz",
    "2024",
    "3rd",
    "covid19",
    "snowman",
    "wikipedia",
    "astronomy",
    "ngrams",
    "pretrained",
    "finetuning",
    "softmax",
    "logits",
    "x☃y",
    "☃",
    "snow☃",
    "🤗",
    "abc🤗def",
    "a",
    "ab",
    "qwertyuiop",
    "mississippi",
    "preprocessing",
]

TINY_VOCAB = {
    "[UNK]": 0,
    "<unk>": 1,
    "un": 2,
    "##aff": 3,
    "##able": 4,
    "a": 5,
    "##a": 6,
    "##b": 7,
    "##l": 8,
    "##e": 9,
    "##f": 10,
    "##ab": 11,
    "ab": 12,
    "##le": 13,
    "u": 14,
    "##n": 15,
    "b": 16,
}
TINY_WORDS = [
    "unaffable",
    "aaab",
    "able",
    "unable",
    "ab",
    "unx",
    "ba",
    "baffle",
]


@lru_cache(maxsize=1)
def _bert_tokenizer():
    from transformers import AutoTokenizer

    from ..assets import resolve_checkpoint

    return AutoTokenizer.from_pretrained(resolve_checkpoint("all-MiniLM-L6-v2"))


@lru_cache(maxsize=4)
def _wordpiece_model(vocab_items: tuple, unk: str):
    from tokenizers import models

    return models.WordPiece(
        vocab=dict(vocab_items), unk_token=unk, max_input_chars_per_word=100
    )


def _library_pieces(model, word: str) -> list[str]:
    return [t.value for t in model.tokenize(word)]


def _variant(
    word: str,
    vocab,
    unk: str,
    *,
    prefix: str = "##",
    longest: bool = True,
    partial: bool = False,
):
    """Greedy WordPiece with switches that reproduce the usual mistakes."""
    pieces, start = [], 0
    while start < len(word):
        ends = (
            range(len(word), start, -1)
            if longest
            else range(start + 1, len(word) + 1)
        )
        piece = None
        for end in ends:
            candidate = (
                word[start:end] if start == 0 else prefix + word[start:end]
            )
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
        fail(
            f"{what} returned the string {result!r}; return a list of pieces, "
            "e.g. ['token', '##ization']."
        )
    try:
        pieces = list(result)
    except TypeError:
        fail(
            f"{what} returned a {type(result).__name__}; return a list of "
            "strings (the pieces)."
        )
    if not all(isinstance(p, str) for p in pieces):
        fail(
            f"{what} returned {pieces!r}; return the pieces as strings, not "
            "ids or tuples."
        )
    return pieces


def _diagnose_wordpiece(word, result, expected, vocab, unk):
    if expected == [unk] and result != [unk]:
        if unk in result or _variant(word, vocab, unk, partial=True) == result:
            fail(
                f"for {word!r} you returned {result}: when no vocabulary "
                "entry matches at some position, the "
                f"whole word becomes [{unk.strip('[]')}] ({[unk]!r}), without "
                "the pieces found before it."
            )
        fail(
            f"{word!r} cannot be spelled with the vocabulary, so the answer "
            f"is {[unk]!r}, not {result}."
        )
    if result and result[0].startswith("##"):
        fail(
            f"for {word!r} your first piece is {result[0]!r}: only pieces "
            "after the first one carry the ## "
            f"prefix."
        )
    if result == [p.removeprefix("##") for p in expected] or result == _variant(
        word, vocab, unk, prefix=""
    ):
        fail(
            f"for {word!r} you returned {result}, but the answer is "
            f"{expected}: look up (and return) every "
            "piece after the first with the ## prefix, which marks a piece "
            "that continues a word."
        )
    if result == _variant(word, vocab, unk, longest=False):
        fail(
            f"for {word!r} you returned {result}, but the answer is "
            f"{expected}: at each position take the "
            "longest vocabulary entry that matches (start from the end of "
            "the word and shorten), not the "
            f"shortest."
        )
    if unk in result and expected != [unk]:
        fail(
            f"for {word!r} you returned {result} with an unknown token, but "
            "the word can be spelled: "
            f"{expected}; check that you look up candidates with the ## "
            "prefix after the first piece."
        )
    fail(f"wrong pieces for {word!r}: expected {expected}, got {result}.")


def check_wordpiece_tokenize(wordpiece_tokenize, tokenizer=None) -> None:
    """Check ``wordpiece_tokenize(word, vocab, unk) -> list[str]`` against
    BERT's WordPiece model."""
    tokenizer = tokenizer or _bert_tokenizer()
    vocab = tokenizer.get_vocab()
    cases = [
        (w, vocab, "[UNK]", tokenizer.backend_tokenizer.model)
        for w in WORDPIECE_WORDS
    ]
    tiny = _wordpiece_model(tuple(TINY_VOCAB.items()), "<unk>")
    cases += [(w, TINY_VOCAB, "<unk>", tiny) for w in TINY_WORDS]
    for word, vocab_used, unk, model in cases:
        result = _as_pieces(
            call_student(
                wordpiece_tokenize,
                word,
                vocab_used,
                unk=unk,
                name="wordpiece_tokenize",
            ),
            "wordpiece_tokenize",
        )
        expected = [
            unk if p == model.unk_token else p
            for p in _library_pieces(model, word)
        ]
        if result == expected:
            continue
        if (
            vocab_used is TINY_VOCAB
            and expected == [unk]
            and result == ["[UNK]"]
        ):
            fail(
                f"for {word!r} with unk='<unk>' you returned ['[UNK]']: "
                "return the `unk` argument, not a "
                f"hard-coded '[UNK]'."
            )
        _diagnose_wordpiece(word, result, expected, vocab_used, unk)
    passed("wordpiece_tokenize")


# ------------------------------------------------------------------------------
# ---------------
# Fertility and [UNK] rate
# ------------------------------------------------------------------------------
# ---------------

STATS_TEXTS = [
    "Tokenization of unbelievably rare words",
    "snow☃man melts under the 🤗 sun",
    "语言模型 means language model",
    "Plain words only here",
]


def check_tokenizer_stats(tokenizer_stats, tokenizer=None) -> None:
    """Check ``tokenizer_stats(tokenizer, texts) -> {"fertility": float,
    "unk_rate": float}``."""
    tokenizer = tokenizer or _bert_tokenizer()
    for texts in (STATS_TEXTS, STATS_TEXTS[:1], STATS_TEXTS[1:3]):
        result = call_student(
            tokenizer_stats, tokenizer, list(texts), name="tokenizer_stats"
        )
        if not isinstance(result, dict) or set(result) != {
            "fertility",
            "unk_rate",
        }:
            fail(
                f"tokenizer_stats returned {result!r}; return a dict with "
                "exactly the keys 'fertility' and "
                f"'unk_rate'."
            )
        try:
            fert, unk = float(result["fertility"]), float(result["unk_rate"])
        except (TypeError, ValueError):
            fail(
                "tokenizer_stats should return numbers for 'fertility' and "
                "'unk_rate'."
            )
        ids = [
            tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts
        ]
        tokens = sum(map(len, ids))
        unknown = sum(i == tokenizer.unk_token_id for seq in ids for i in seq)
        words = sum(len(t.split()) for t in texts)
        chars = sum(len("".join(t.split())) for t in texts)
        close = lambda a, b: abs(a - b) <= 1e-6 * max(1.0, abs(b))  # noqa: E731
        if not close(fert, tokens / words):
            if close(fert, (tokens + 2 * len(texts)) / words):
                fail(
                    "your fertility counts [CLS] and [SEP]: tokenize with "
                    "add_special_tokens=False, so that only "
                    "the text's own tokens are counted."
                )
            if close(fert, words / tokens):
                fail(
                    "your fertility is upside down (words per token): divide "
                    "the number of tokens by the number "
                    "of words."
                )
            if close(fert, tokens / chars):
                fail(
                    "you divided by the number of characters: fertility here "
                    "is tokens per white-space word "
                    "(text.split())."
                )
            if (
                close(
                    fert,
                    sum(len(s) / len(t.split()) for s, t in zip(ids, texts))
                    / len(texts),
                )
                and len(texts) > 1
            ):
                fail(
                    "you averaged the fertility of each text: add up all "
                    "tokens and all words first, then divide "
                    "once, so that long texts weigh more."
                )
            fail(
                f"wrong fertility for {texts!r}: {tokens} tokens over {words} "
                "white-space words gives "
                f"{tokens / words:.4f}, not {fert:.4f}."
            )
        if not close(unk, unknown / tokens):
            if unknown and close(unk, float(unknown)):
                fail(
                    "you returned the number of [UNK] tokens: divide it by "
                    "the number of tokens to get a rate."
                )
            if unknown and close(unk, unknown / words):
                fail(
                    "you divided the [UNK] count by the number of words: the "
                    "rate is per token, so divide by the "
                    "number of tokens."
                )
            if close(unk, 100 * unknown / tokens):
                fail(
                    "you returned a percentage: return the share as a number "
                    "between 0 and 1."
                )
            fail(
                f"wrong [UNK] rate for {texts!r}: {unknown} of {tokens} "
                "tokens are [UNK], a rate of "
                f"{unknown / tokens:.4f}, not {unk:.4f}."
            )
    passed("tokenizer_stats")
