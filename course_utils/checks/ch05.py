"""Checkers for the exercises of chapter 5 (tokenization): BPE merges by hand,
WordPiece by hand, fertility and the [UNK] rate.

Each checker first decides right or wrong by comparing the student's function
with a reference on fixed cases (one per known mistake) and generated ones
(random corpora with ties and repeats, random vocabularies, texts with odd
white space), then names a mistake only when that mistake, written as a
function, gives the student's output on every case. The references are
chapter 5's ``learn_bpe`` (the tests keep it equal to ``tokenizers``'
``BpeTrainer``), a greedy longest-match-first WordPiece (equal to the
WordPiece model inside BERT's tokenizer) and chapter 5's ``fertility`` and
``unk_rate``.
"""

from __future__ import annotations

import random
from functools import lru_cache

from course_utils import tokenization

from . import Case, compare_with_reference, fail, passed

# ------------------------------------------------------------------------------
# BPE merges
# ------------------------------------------------------------------------------

TIE_RULE = (
    "break ties by the pair with the smaller (left number, right number), "
    "where characters are numbered in alphabetical order and each merged "
    "symbol gets the next number when it is created"
)

BPE_CASES = [
    # Sennrich et al.'s toy corpus
    ({"low": 5, "lower": 2, "newest": 6, "widest": 3}, 10),
    # frequency weighting decides
    ({"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}, 6),
    # ties where string order and creation order disagree
    ({"cab": 2, "abc": 2}, 3),
    ({"banana": 3, "bandana": 2, "ban": 4, "nab": 1}, 8),
    # overlapping pairs (a a a) and repeated merges
    ({"aaabdaaabac": 1}, 6),
    # every pair ties; the first word seen is not the first in the rule
    ({"zy": 2, "ab": 2, "yz": 1, "cd": 2}, 3),
    # the pairs run out after one merge
    ({"ab": 3, "c": 1}, 5),
    ({"a": 4}, 3),  # nothing to merge at all
    ({"low": 5, "lower": 2}, 0),
]

# the example the tie message gives
_TIE_EXAMPLE = {"cab": 2, "abc": 2}


def _bpe_cases() -> list[Case]:
    cases = [
        Case(f"{corpus} with num_merges={n}", (corpus, n))
        for corpus, n in BPE_CASES
    ]
    rng = random.Random(0)
    for _ in range(14):
        letters = rng.choice(["ab", "abc", "abcd", "xyzw"])
        corpus = {}
        for _ in range(rng.randint(1, 6)):
            word = "".join(
                rng.choice(letters) for _ in range(rng.randint(1, 7))
            )
            corpus[word] = rng.randint(1, 5)  # small counts: many ties
        n = rng.randint(1, 12)
        cases.append(Case(f"{corpus} with num_merges={n}", (corpus, n)))
    return cases


def _numbers(word_counts) -> dict[str, int]:
    """The tie rule's numbers of the characters: alphabetical order."""
    alphabet = sorted({ch for w in word_counts for ch in w})
    return {ch: i for i, ch in enumerate(alphabet)}


def _unweighted(word_counts: dict[str, int]) -> dict[str, int]:
    """The corpus with every word counted once (the mistake of counting per
    word type)."""
    return dict.fromkeys(word_counts, 1)


# Tie rules a student may use instead of the library's (see
# tokenization.most_frequent_pair).
WRONG_TIE_RULES = {
    "string": lambda counts, number: min(counts, key=lambda p: (-counts[p], p)),
    # Counter.most_common keeps first-seen order among equal counts
    "first": lambda counts, number: counts.most_common(1)[0][0],
    "last": lambda counts, number: max(counts, key=lambda p: (counts[p], p)),
}


def _per_word_type(word_counts, num_merges):
    return tokenization.learn_bpe(_unweighted(word_counts), num_merges)


def _without_recounting(
    word_counts: dict[str, int], num_merges: int
) -> list[tuple[str, str]]:
    """The mistake of never applying a merge: every merge picked from the
    first counts, minus the pairs taken."""
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
    """The mistake of treating the corpus as one long string: each word
    repeated count times, glued together."""
    stream = "".join(w * c for w, c in word_counts.items())
    return tokenization.learn_bpe({stream: 1}, num_merges)


def _tie_rule(rule):
    def learn(word_counts, num_merges):
        return tokenization.learn_bpe(word_counts, num_merges, pick=rule)

    return learn


def _bpe_diagnoses() -> list[tuple[str, object]]:
    example = tokenization.learn_bpe(_TIE_EXAMPLE, 3)
    tie_message = (
        "learn_bpe_merges: your merges are right except where two pairs "
        f"have the same count: {TIE_RULE} (for {_TIE_EXAMPLE} the merges are "
        f"{example})."
    )
    return [
        (
            "learn_bpe_merges: you counted each pair once per word type: "
            "weight every pair by the count of the word it occurs in (a pair "
            "inside a word seen 6 times counts 6).",
            _per_word_type,
        ),
        (
            "learn_bpe_merges: you kept counting pairs on the original "
            "spelling: after each merge, rewrite every word with the new "
            "symbol and count the pairs again before choosing the next merge.",
            _without_recounting,
        ),
        (
            "learn_bpe_merges: you counted pairs across word boundaries (the "
            "last letter of one word with the first of the next): count pairs "
            "inside each word only, weighted by the word's count.",
            _across_boundaries,
        ),
    ] + [(tie_message, _tie_rule(rule)) for rule in WRONG_TIE_RULES.values()]


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


def _explain_bpe(case: Case, args, expected, result) -> str:
    """What went wrong at the first merge that differs, found by replaying
    the right merges before it."""
    return (
        f"learn_bpe_merges gives a different result on {case.label}: "
        + _first_wrong_merge(case, expected, result)
    )


def _first_wrong_merge(case: Case, expected, result) -> str:
    word_counts, num_merges = case.args
    k = next(
        (i for i, (a, b) in enumerate(zip(result, expected)) if a != b),
        min(len(result), len(expected)),
    )
    if k == min(len(result), len(expected)):
        if len(result) > len(expected) and len(expected) < num_merges:
            return (
                f"you returned {len(result)} merges, but after "
                f"{len(expected)} merges every word is a single symbol: "
                "stop when there is no pair left."
            )
        return (
            f"you returned {len(result)} merges, but num_merges="
            f"{num_merges} asks for {len(expected)}: make num_merges merges "
            "(or fewer, when no pair is left)."
        )
    return _explain_merge(word_counts, expected, result, k)


def _explain_merge(word_counts, expected, result, k: int) -> str:
    """Why the student's merge ``k`` is not the right one."""
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
        return (
            f"{step} you merged {wrong}, but {wrong[0] + wrong[1]!r} occurs "
            "inside no word: count pairs inside each word only."
        )
    if wrong in counts and counts[wrong] == counts[right]:
        return (
            f"{step} {wrong} and {right} both occur {counts[right]} times and "
            f"you chose {wrong}: {TIE_RULE}."
        )
    if (
        wrong in unweighted
        and unweighted[wrong] == max(unweighted.values())
        and counts.get(wrong, 0) < counts[right]
    ):
        return (
            f"{step} you chose {wrong}, which occurs in the most word types, "
            f"but weighted by word counts it occurs {counts.get(wrong, 0)} "
            f"times and {right} {counts[right]} times: weight each pair by "
            "the count of its word."
        )
    if wrong not in counts:
        return (
            f"{step} you merged {wrong}, but after the earlier merges no word "
            f"has {wrong[0]!r} next to {wrong[1]!r} any more: apply each "
            "merge to every word before counting the pairs again."
        )
    return (
        f"{step} you merged {wrong} ({counts[wrong]} occurrences), but the "
        f"most frequent pair is {right} ({counts[right]} occurrences, "
        "weighted by word counts)."
    )


def _merges_result(result, args, kwargs):
    return _as_merges(result, "learn_bpe_merges")


def _bpe_crash(exc, args, kwargs) -> str | None:
    """A crash on a corpus whose pairs run out before num_merges."""
    try:
        word_counts, num_merges = args
        runs_out = len(tokenization.learn_bpe(word_counts, num_merges)) < (
            num_merges
        )
    except Exception:  # the student changed the arguments: say nothing
        return None
    if not runs_out:
        return None
    return (
        f"learn_bpe_merges({word_counts}, {num_merges}) raised "
        f"{type(exc).__name__}: {str(exc)[:80]}; when no pair is left (every "
        "word is one symbol), stop and return the merges found so far."
    )


def _keeping_the_corpus(learn_bpe_merges):
    """The student's function, failing when it changes ``word_counts``."""

    def checked(word_counts, num_merges):
        before = dict(word_counts)
        result = learn_bpe_merges(word_counts, num_merges)
        if word_counts != before:
            fail(
                "learn_bpe_merges changed the word_counts dict it was given: "
                "work on a copy of the words."
            )
        return result

    checked.__name__ = "learn_bpe_merges"
    return checked


def check_learn_bpe_merges(learn_bpe_merges) -> None:
    """Check ``learn_bpe_merges(word_counts, num_merges) -> list[tuple[str,
    str]]`` against chapter 5's learn_bpe (= BpeTrainer)."""
    compare_with_reference(
        _keeping_the_corpus(learn_bpe_merges),
        tokenization.learn_bpe,
        _bpe_cases(),
        name="learn_bpe_merges",
        validate=_merges_result,
        diagnoses=_bpe_diagnoses(),
        on_crash=_bpe_crash,
        explain=_explain_bpe,
    )
    passed("learn_bpe_merges")


# ------------------------------------------------------------------------------
# WordPiece: greedy longest match first
# ------------------------------------------------------------------------------


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


class FrozenVocab(dict):
    """A vocabulary the checker hands to every call as it is: copying BERT's
    30,000 entries for each of ~80 calls would take seconds, and a lookup
    changes nothing. Changing it is an error.
    """

    def __deepcopy__(self, memo):
        return self

    def _read_only(self, *args, **kwargs):
        raise TypeError("the vocabulary is read-only: do not change it.")

    __setitem__ = __delitem__ = clear = pop = popitem = _read_only
    setdefault = update = _read_only


@lru_cache(maxsize=1)
def _bert_tokenizer():
    from transformers import AutoTokenizer

    from ..assets import resolve_checkpoint

    return AutoTokenizer.from_pretrained(resolve_checkpoint("all-MiniLM-L6-v2"))


def wordpiece(
    word: str,
    vocab,
    unk: str = "[UNK]",
    *,
    prefix: str = "##",
    longest: bool = True,
    partial: bool = False,
    first_prefix: bool = False,
) -> list[str]:
    """Greedy longest-match-first WordPiece (the reference), with switches
    that reproduce the usual mistakes."""
    pieces, start = [], 0
    while start < len(word):
        if longest:
            ends = range(len(word), start, -1)
        else:
            ends = range(start + 1, len(word) + 1)
        marker = prefix if start > 0 or first_prefix else ""
        end = next((e for e in ends if marker + word[start:e] in vocab), None)
        if end is None:  # nothing matches here
            return pieces + [unk] if partial else [unk]
        pieces.append(marker + word[start:end])
        start = end
    return pieces


def _random_vocab(rng: random.Random) -> FrozenVocab:
    """Pieces of 1 to 3 letters of "abc", with and without ##; "d" is never
    in it (so words with a "d" are unknown)."""
    vocab = {"[UNK]": 0}
    for _ in range(rng.randint(4, 12)):
        piece = "".join(rng.choice("abc") for _ in range(rng.randint(1, 3)))
        vocab.setdefault(rng.choice(["", "##"]) + piece, len(vocab))
    return FrozenVocab(vocab)


def _wordpiece_cases(tokenizer) -> list[Case]:
    bert = FrozenVocab(tokenizer.get_vocab())
    tiny = FrozenVocab(TINY_VOCAB)
    cases = [
        Case(f"{w!r} (BERT's vocabulary)", (w, bert), dict(unk="[UNK]"))
        for w in WORDPIECE_WORDS
    ]
    cases += [
        Case(
            f"{w!r} (a tiny vocabulary, unk='<unk>')",
            (w, tiny),
            {"unk": "<unk>"},
        )
        for w in TINY_WORDS
    ]
    cases += [
        Case("'☃' (BERT's vocabulary, unk not given)", ("☃", bert)),
        Case(
            "'unable' with the tiny vocabulary as a set",
            ("unable", frozenset(TINY_VOCAB)),
            {"unk": "<unk>"},
        ),
    ]
    rng = random.Random(0)
    for v in range(3):
        vocab = _random_vocab(rng)
        for _ in range(8):
            word = "".join(
                rng.choice("abcd"[: 3 + (v == 2)])
                for _ in range(rng.randint(1, 8))
            )
            cases.append(
                Case(
                    f"{word!r} with the vocabulary {sorted(vocab)}",
                    (word, vocab),
                    {"unk": "[UNK]"},
                )
            )
    return cases


def _hard_coded_unk(word, vocab, unk="[UNK]"):
    return wordpiece(word, vocab, "[UNK]")


def _prefix_stripped(word, vocab, unk="[UNK]"):
    return [p.removeprefix("##") for p in wordpiece(word, vocab, unk)]


def _variant(**switches):
    def tokenize(word, vocab, unk="[UNK]"):
        return wordpiece(word, vocab, unk, **switches)

    return tokenize


_NO_PREFIX = (
    "wordpiece_tokenize: look up (and return) every piece after the first "
    "with the ## prefix, which marks a piece that continues a word."
)
WORDPIECE_DIAGNOSES = [
    (
        "wordpiece_tokenize: when no vocabulary entry matches at some "
        "position, the whole word becomes [unk] (a list of one item), "
        "without the pieces found before it.",
        _variant(partial=True),
    ),
    (_NO_PREFIX, _variant(prefix="")),
    (_NO_PREFIX, _prefix_stripped),
    (
        "wordpiece_tokenize: at each position take the longest vocabulary "
        "entry that matches (start from the end of the word and shorten), "
        "not the shortest.",
        _variant(longest=False),
    ),
    (
        "wordpiece_tokenize: return the `unk` argument for an unknown word, "
        "not a hard-coded '[UNK]'.",
        _hard_coded_unk,
    ),
    (
        "wordpiece_tokenize: only pieces after the first one carry the ## "
        "prefix; the first piece is looked up as it is.",
        _variant(first_prefix=True),
    ),
]


def _pieces_result(result, args, kwargs):
    return _as_pieces(result, "wordpiece_tokenize")


def check_wordpiece_tokenize(wordpiece_tokenize, tokenizer=None) -> None:
    """Check ``wordpiece_tokenize(word, vocab, unk) -> list[str]`` against
    the greedy longest-match-first WordPiece of BERT's tokenizer."""
    compare_with_reference(
        wordpiece_tokenize,
        wordpiece,
        _wordpiece_cases(tokenizer or _bert_tokenizer()),
        name="wordpiece_tokenize",
        validate=_pieces_result,
        diagnoses=WORDPIECE_DIAGNOSES,
        hint="At each position take the longest entry of vocab that matches "
        "(with ## after the first piece); no match at all: [unk].",
    )
    passed("wordpiece_tokenize")


# ------------------------------------------------------------------------------
# Fertility and [UNK] rate
# ------------------------------------------------------------------------------

STATS_TEXTS = [
    "Tokenization of unbelievably rare words",
    "snow☃man melts under the 🤗 sun",
    "语言模型 means language model",
    "Plain words only here",
]
# white space other than single spaces: text.split() and text.split(" ")
# count different words here
ODD_SPACES = "  two  spaces,\ta tab\nand a newline  "


class SharedTokenizer:
    """A tokenizer handed to every call as it is (deep-copying BERT's takes
    0.1 s a call, and tokenizing changes nothing); everything else is the
    tokenizer's own.
    """

    def __init__(self, tokenizer):
        object.__setattr__(self, "_tokenizer", tokenizer)

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)

    def __call__(self, *args, **kwargs):
        return self._tokenizer(*args, **kwargs)

    def __len__(self):
        return len(self._tokenizer)

    def __deepcopy__(self, memo):
        return self


@lru_cache(maxsize=1)
def _tiny_tokenizer():
    """A BERT-like WordPiece tokenizer that knows only the letters a to m:
    a second tokenizer, with a high [UNK] rate, for the same function."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    letters = "abcdefghijklm"
    specials = ["[UNK]", "[CLS]", "[SEP]"]
    pieces = specials + list(letters) + ["##" + c for c in letters]
    backend = Tokenizer(
        models.WordPiece(
            {p: i for i, p in enumerate(pieces)}, unk_token="[UNK]"
        )
    )
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 1), ("[SEP]", 2)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
    )


def _stats_cases(tokenizer) -> list[Case]:
    bert, tiny = SharedTokenizer(tokenizer), SharedTokenizer(_tiny_tokenizer())
    text_lists = [
        ("the four test texts", STATS_TEXTS),
        ("one text", STATS_TEXTS[:1]),
        ("texts 2 and 3", STATS_TEXTS[1:3]),
        (f"a text with odd white space, {ODD_SPACES!r}", [ODD_SPACES]),
        ("the same text twice", [STATS_TEXTS[1]] * 2),
        ("punctuation only, '!!! ??? ...'", ["!!! ??? ..."]),
        ("unknown symbols only, '☃ ☃☃ 🤗'", ["☃ ☃☃ 🤗"]),
    ]
    cases = [
        Case(f"{label} (BERT)", (bert, list(t))) for label, t in text_lists
    ]
    rng = random.Random(0)
    words = ["bad", "face", "zoo", "hello", "jam", "x", "deaf", "milk", "a!"]
    for _ in range(3):
        texts = [
            " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))
            for _ in range(rng.randint(1, 4))
        ]
        cases.append(
            Case(f"{texts} (a tokenizer that knows only a to m)", (tiny, texts))
        )
    return cases


def _ids(tokenizer, texts, special=False):
    return [
        tokenizer(t, add_special_tokens=special)["input_ids"] for t in texts
    ]


def _unknown(tokenizer, ids) -> int:
    return sum(i == tokenizer.unk_token_id for i in ids)


def _ref_fertility(tokenizer, texts):
    return tokenization.fertility(tokenizer, texts)


def _ref_unk_rate(tokenizer, texts):
    return tokenization.unk_rate(tokenizer, texts)


def _with(fertility=_ref_fertility, unk_rate=_ref_unk_rate):
    """The statistics with one (or both) computed the wrong way."""

    def stats(tokenizer, texts):
        return {
            "fertility": fertility(tokenizer, texts),
            "unk_rate": unk_rate(tokenizer, texts),
        }

    return stats


def _words(texts) -> int:
    return sum(len(t.split()) for t in texts)


def _flat(lists):
    return [i for ids in lists for i in ids]


def _special_fertility(tokenizer, texts):
    return len(_flat(_ids(tokenizer, texts, special=True))) / _words(texts)


def _special_unk_rate(tokenizer, texts):
    ids = _flat(_ids(tokenizer, texts, special=True))
    return _unknown(tokenizer, ids) / len(ids)


def _words_per_token(tokenizer, texts):
    return _words(texts) / len(_flat(_ids(tokenizer, texts)))


def _tokens_per_char(tokenizer, texts):
    chars = sum(len("".join(t.split())) for t in texts)
    return len(_flat(_ids(tokenizer, texts))) / chars


def _mean_of_fertilities(tokenizer, texts):
    ids = _ids(tokenizer, texts)
    return sum(len(i) / len(t.split()) for i, t in zip(ids, texts)) / len(texts)


def _split_on_spaces(tokenizer, texts):
    words = sum(len(t.split(" ")) for t in texts)
    return len(_flat(_ids(tokenizer, texts))) / words


def _unk_count(tokenizer, texts):
    return float(_unknown(tokenizer, _flat(_ids(tokenizer, texts))))


def _unk_per_word(tokenizer, texts):
    return _unknown(tokenizer, _flat(_ids(tokenizer, texts))) / _words(texts)


def _unk_percent(tokenizer, texts):
    return 100 * _ref_unk_rate(tokenizer, texts)


def _mean_of_unk_rates(tokenizer, texts):
    ids = _ids(tokenizer, texts)
    return sum(_unknown(tokenizer, i) / len(i) for i in ids) / len(ids)


_SPECIAL = (
    "tokenizer_stats: you counted [CLS] and [SEP]: tokenize with "
    "add_special_tokens=False, so that only the text's own tokens are counted."
)
STATS_DIAGNOSES = [
    (_SPECIAL, _with(fertility=_special_fertility)),
    (_SPECIAL, _with(_special_fertility, _special_unk_rate)),
    (
        "tokenizer_stats: your fertility is upside down (words per token): "
        "divide the number of tokens by the number of words.",
        _with(fertility=_words_per_token),
    ),
    (
        "tokenizer_stats: you divided by the number of characters: fertility "
        "here is tokens per white-space word (text.split()).",
        _with(fertility=_tokens_per_char),
    ),
    (
        "tokenizer_stats: you averaged the fertility of each text: add up "
        "all tokens and all words first, then divide once, so that long "
        "texts weigh more.",
        _with(fertility=_mean_of_fertilities),
    ),
    (
        "tokenizer_stats: you split on single spaces: text.split(' ') counts "
        "empty strings between repeated spaces and misses tabs and newlines; "
        "count the words of text.split().",
        _with(fertility=_split_on_spaces),
    ),
    (
        "tokenizer_stats: you returned the number of [UNK] tokens: divide it "
        "by the number of tokens to get a rate.",
        _with(unk_rate=_unk_count),
    ),
    (
        "tokenizer_stats: you divided the [UNK] count by the number of "
        "words: the rate is per token, so divide by the number of tokens.",
        _with(unk_rate=_unk_per_word),
    ),
    (
        "tokenizer_stats: you returned a percentage: return the share as a "
        "number between 0 and 1.",
        _with(unk_rate=_unk_percent),
    ),
    (
        "tokenizer_stats: you averaged the [UNK] rate of each text: add up "
        "all [UNK] tokens and all tokens first, then divide once.",
        _with(unk_rate=_mean_of_unk_rates),
    ),
]


def _stats_result(result, args, kwargs):
    if not isinstance(result, dict) or set(result) != {"fertility", "unk_rate"}:
        fail(
            f"tokenizer_stats returned {result!r:.80}; return a dict with "
            "exactly the keys 'fertility' and 'unk_rate'."
        )
    try:
        return {key: float(value) for key, value in result.items()}
    except (TypeError, ValueError):
        fail(
            "tokenizer_stats should return numbers for 'fertility' and "
            "'unk_rate'."
        )


def check_tokenizer_stats(tokenizer_stats, tokenizer=None) -> None:
    """Check ``tokenizer_stats(tokenizer, texts) -> {"fertility": float,
    "unk_rate": float}`` against chapter 5's fertility and unk_rate."""
    compare_with_reference(
        tokenizer_stats,
        _with(),
        _stats_cases(tokenizer or _bert_tokenizer()),
        name="tokenizer_stats",
        validate=_stats_result,
        diagnoses=STATS_DIAGNOSES,
        hint="Over all texts together, without special tokens: fertility = "
        "tokens / words of text.split(), unk_rate = [UNK] tokens / tokens.",
    )
    passed("tokenizer_stats")
