"""Chapter 5 checkers: the solutions pass, stubs are "not written yet", and
every wrong answer below (mostly mutations of a solution written
independently of the checker) is rejected with its diagnosis, or with the
honest generic message where no mistake is named (tests/mutants.py)."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mutants import Wrong, assert_rejects

from course_utils import tokenization
from course_utils.checks import ch05
from course_utils.errors import CheckFailed
from solutions import ch05_tokenization as sol

GENERIC = "gives a different result on"


def stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize(
    "checker, solution, name",
    [
        (ch05.check_learn_bpe_merges, sol.learn_bpe_merges, "learn_bpe_merges"),
        (
            ch05.check_wordpiece_tokenize,
            sol.wordpiece_tokenize,
            "wordpiece_tokenize",
        ),
        (ch05.check_tokenizer_stats, sol.tokenizer_stats, "tokenizer_stats"),
    ],
)
def test_the_solution_passes_and_a_stub_is_not_written_yet(
    checker, solution, name, capsys
):
    checker(solution)
    assert f"{name}: all checks passed" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=f"{name} is not written yet"):
        checker(stub)


# --- BPE merges ---------------------------------------------------------------


def student_bpe(
    weighted=True, apply=True, tie="numbers", cross=False, stop=True
):
    """A student's learn_bpe_merges written independently of the checker, with
    one switch per typical mistake."""

    def merge(symbols, pair):
        out, i = [], 0
        while i < len(symbols):
            if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                out.append(symbols[i] + symbols[i + 1])
                i += 2
            else:
                out.append(symbols[i])
                i += 1
        return out

    def learn(word_counts, num_merges):
        if cross:  # one long string: pairs across word boundaries
            word_counts = {"".join(w * c for w, c in word_counts.items()): 1}
        splits = {w: list(w) for w in word_counts}
        number = {
            ch: i
            for i, ch in enumerate(
                sorted({ch for w in word_counts for ch in w})
            )
        }
        first = None
        merges = []
        for _ in range(num_merges):
            counts = Counter()
            for w, s in splits.items():
                for p in zip(s, s[1:]):
                    counts[p] += word_counts[w] if weighted else 1
            if not apply:
                first = first if first is not None else counts
                counts = Counter(
                    {p: c for p, c in first.items() if p not in merges}
                )
            if not counts and stop:
                break
            if tie == "numbers":
                best = min(
                    counts,
                    key=lambda p: (-counts[p], number[p[0]], number[p[1]]),
                )
            elif tie == "strings":
                best = min(counts, key=lambda p: (-counts[p], p))
            elif tie == "least":
                best = min(counts, key=lambda p: (counts[p], p))
            else:
                best = max(
                    counts, key=counts.get
                )  # crashes on an empty Counter when stop=False
            merges.append(best)
            number.setdefault(best[0] + best[1], len(number))
            if apply:
                splits = {w: merge(s, best) for w, s in splits.items()}
        return merges

    return learn


def test_student_model_without_mistakes_passes(capsys):
    ch05.check_learn_bpe_merges(student_bpe())
    assert "all checks passed" in capsys.readouterr().out


def test_reference_equals_library_trainer_on_the_cases():
    """The checker's reference, chapter 5's learn_bpe, learns the trainer's
    merges on every case, and so does the solution."""
    for case in ch05._bpe_cases():
        word_counts, n = case.args
        library = tokenization.bpe_merges(
            tokenization.train_library_bpe(word_counts, n)
        )
        assert tokenization.learn_bpe(word_counts, n) == library, case.label
        assert sol.learn_bpe_merges(word_counts, n) == library, case.label


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.text("abcd", min_size=1, max_size=7),
        st.integers(1, 6),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 14),
)
def test_reference_equals_library_trainer_on_generated_corpora(corpus, n):
    library = tokenization.bpe_merges(tokenization.train_library_bpe(corpus, n))
    assert tokenization.learn_bpe(corpus, n) == library


def _mutating(word_counts, num_merges):
    merges = sol.learn_bpe_merges(word_counts, num_merges)
    word_counts.clear()
    return merges


def _wrong_on_ties(word_counts, num_merges):
    # right everywhere except on the corpus where string order and creation
    # order disagree
    if word_counts == {"cab": 2, "abc": 2}:
        return [("a", "b"), ("ab", "c"), ("c", "ab")]
    return sol.learn_bpe_merges(word_counts, num_merges)


def _boundary_pair(word_counts, num_merges):
    merges = sol.learn_bpe_merges(word_counts, num_merges)
    if len(merges) > 2 and "newest" in word_counts:
        merges[1] = ("w", "l")  # "wl" is inside no word of the toy corpus
    return merges


_OLD_CASES = {
    str(corpus): sol.learn_bpe_merges(corpus, n) for corpus, n in ch05.BPE_CASES
}


def _hard_coded_bpe(word_counts, num_merges):
    return _OLD_CASES.get(str(word_counts), [])


def _one_merge_short(word_counts, num_merges):
    return sol.learn_bpe_merges(word_counts, max(num_merges - 1, 0))


def _one_merge_too_many(word_counts, num_merges):
    return sol.learn_bpe_merges(word_counts, num_merges + 1)


def _merge_first_occurrence_only(word_counts, num_merges):
    splits = {w: list(w) for w in word_counts}
    number = {c: i for i, c in enumerate(sorted(set("".join(word_counts))))}
    merges = []
    for _ in range(num_merges):
        counts = Counter()
        for w, s in splits.items():
            for pair in zip(s, s[1:]):
                counts[pair] += word_counts[w]
        if not counts:
            break
        best = min(
            counts, key=lambda p: (-counts[p], number[p[0]], number[p[1]])
        )
        merges.append(best)
        number.setdefault(best[0] + best[1], len(number))
        for w, s in splits.items():
            for i in range(len(s) - 1):
                if (s[i], s[i + 1]) == best:  # only the first one
                    splits[w] = s[:i] + [s[i] + s[i + 1]] + s[i + 2 :]
                    break
    return merges


BPE_WRONG = [
    Wrong("unweighted", student_bpe(weighted=False), "once per word type"),
    Wrong("no recount", student_bpe(apply=False), "original spelling"),
    Wrong("across words", student_bpe(cross=True), "across word boundaries"),
    Wrong("string ties", student_bpe(tie="strings"), "same count: break ties"),
    Wrong("first-seen ties", student_bpe(tie="first"), "same count"),
    Wrong("least frequent", student_bpe(tie="least"), "most frequent pair is"),
    Wrong("no stop", student_bpe(stop=False), "when no pair is left"),
    Wrong("one short", _one_merge_short, r"num_merges=\d+ asks for"),
    Wrong("one too many", _one_merge_too_many, r"num_merges=\d+ asks for"),
    Wrong(
        "merged symbols",
        lambda wc, n: [a + b for a, b in sol.learn_bpe_merges(wc, n)],
        "returned strings such as",
    ),
    Wrong(
        "a dict",
        lambda wc, n: {p: 1 for p in sol.learn_bpe_merges(wc, n)},
        "returned a dict",
    ),
    Wrong("an int", lambda wc, n: 42, "returned a int"),
    Wrong("triples", lambda wc, n: [("a", "b", "c")], "must be a pair"),
    Wrong("None", lambda wc, n: None, "returned None"),
    Wrong("corpus changed", _mutating, "changed the word_counts dict"),
    Wrong("ties wrong once", _wrong_on_ties, r"both occur 2 times"),
    Wrong("a pair inside no word", _boundary_pair, "occurs inside no word"),
    Wrong("hard-coded cases", _hard_coded_bpe, rf"{GENERIC}.*asks for"),
    Wrong(
        "first occurrence only",
        _merge_first_occurrence_only,
        "most frequent pair is",
    ),
]


def test_bpe_rejects_wrong_answers():
    assert_rejects(ch05.check_learn_bpe_merges, BPE_WRONG)


# --- WordPiece ----------------------------------------------------------------


def student_wordpiece(
    prefix="##", longest=True, partial=False, hard_unk=False, first_prefix=False
):
    def tokenize(word, vocab, unk="[UNK]"):
        unk = "[UNK]" if hard_unk else unk
        pieces, start = [], 0
        while start < len(word):
            ends = (
                range(len(word), start, -1)
                if longest
                else range(start + 1, len(word) + 1)
            )
            piece = None
            for end in ends:
                use_prefix = start > 0 or first_prefix
                candidate = (prefix if use_prefix else "") + word[start:end]
                if candidate in vocab:
                    piece = candidate
                    break
            if piece is None:
                return pieces + [unk] if partial else [unk]
            pieces.append(piece)
            start = end
        return pieces

    return tokenize


def _skip_unknown(word, vocab, unk="[UNK]"):
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            candidate = ("##" if start else "") + word[start:end]
            if candidate in vocab:
                pieces.append(candidate)
                break
        else:  # nothing matches: skip a character instead of giving up
            end = start + 1
        start = end
    return pieces or [unk]


def _never_the_whole_rest(word, vocab, unk="[UNK]"):
    # off by one: the candidates start one character short of the end
    pieces, start = [], 0
    while start < len(word):
        ends = range(len(word) - 1, start, -1) if len(word) > 1 else [1]
        for end in ends:
            candidate = ("##" if start else "") + word[start:end]
            if candidate in vocab:
                pieces.append(candidate)
                break
        else:
            return [unk]
        start = end
    return pieces


_BERT_ANSWERS = {}


def _hard_coded_wordpiece(word, vocab, unk="[UNK]"):
    if not _BERT_ANSWERS:
        vocab_bert = ch05._bert_tokenizer().get_vocab()
        for w in ch05.WORDPIECE_WORDS:
            _BERT_ANSWERS[w] = sol.wordpiece_tokenize(w, vocab_bert)
    return _BERT_ANSWERS.get(word, [unk])


def _dict_only(word, vocab, unk="[UNK]"):
    vocab.keys()  # works for a dict, not for the set the contract allows
    return sol.wordpiece_tokenize(word, vocab, unk)


WORDPIECE_WRONG = [
    Wrong("no ## prefix", student_wordpiece(prefix=""), "with the ## prefix"),
    Wrong(
        "## stripped",
        lambda w, v, unk="[UNK]": [
            p.removeprefix("##") for p in sol.wordpiece_tokenize(w, v, unk)
        ],
        "with the ## prefix",
    ),
    Wrong("shortest", student_wordpiece(longest=False), "not the shortest"),
    Wrong("partial", student_wordpiece(partial=True), "whole word becomes"),
    Wrong("'[UNK]'", student_wordpiece(hard_unk=True), "the `unk` argument"),
    Wrong(
        "## first",
        student_wordpiece(first_prefix=True),
        "only pieces after the first one",
    ),
    Wrong(
        "a string",
        lambda w, v, unk="[UNK]": " ".join(sol.wordpiece_tokenize(w, v, unk)),
        "returned the string",
    ),
    Wrong(
        "ids",
        lambda w, v, unk="[UNK]": [
            v[p] for p in sol.wordpiece_tokenize(w, v, unk)
        ],
        "not ids",
    ),
    Wrong("characters", lambda w, v, unk="[UNK]": list(w), GENERIC),
    Wrong("unknown characters skipped", _skip_unknown, GENERIC),
    Wrong("one short of the end", _never_the_whole_rest, GENERIC),
    Wrong("hard-coded BERT words", _hard_coded_wordpiece, GENERIC),
    Wrong("a dict method on vocab", _dict_only, "raised AttributeError"),
]


def test_wordpiece_rejects_wrong_answers():
    assert_rejects(ch05.check_wordpiece_tokenize, WORDPIECE_WRONG)


def test_the_reference_is_bert_wordpiece_on_the_cases():
    tokenizer = ch05._bert_tokenizer()
    model = tokenizer.backend_tokenizer.model
    for case in ch05._wordpiece_cases(tokenizer):
        word, vocab = case.args
        if vocab is not None and len(vocab) > 1000:
            expected = [t.value for t in model.tokenize(word)]
            assert ch05.wordpiece(word, vocab) == expected, case.label


@settings(max_examples=60, deadline=None)
@given(
    st.sets(
        st.tuples(st.sampled_from(["", "##"]), st.text("abc", min_size=1)),
        max_size=12,
    ),
    st.text("abcd", min_size=1, max_size=10),
)
def test_the_reference_is_the_library_wordpiece(pieces, word):
    from tokenizers import models

    vocab = {"[UNK]": 0} | {
        p + s: i + 1 for i, (p, s) in enumerate(sorted(pieces))
    }
    model = models.WordPiece(vocab=vocab, unk_token="[UNK]")
    expected = [t.value for t in model.tokenize(word)]
    assert ch05.wordpiece(word, vocab) == expected
    assert sol.wordpiece_tokenize(word, vocab) == expected


def test_wordpiece_solution_matches_bert_on_wikipedia_words():
    """Beyond the checker's list: every word of a Wikipedia article, after
    BERT's normaliser and pre-tokenizer."""
    import course_utils as cu

    tokenizer = ch05._bert_tokenizer()
    backend, vocab = tokenizer.backend_tokenizer, tokenizer.get_vocab()
    text = cu.data.load_wikipedia()[0]["text"][:20000]
    words = {
        w
        for w, _ in backend.pre_tokenizer.pre_tokenize_str(
            backend.normalizer.normalize_str(text)
        )
    }
    for word in sorted(words):
        assert sol.wordpiece_tokenize(word, vocab) == [
            t.value for t in backend.model.tokenize(word)
        ], word


# --- fertility and [UNK] rate -------------------------------------------------


def _counts(tokenizer, texts, special=False):
    ids = [tokenizer(t, add_special_tokens=special)["input_ids"] for t in texts]
    tokens = sum(map(len, ids))
    unknown = sum(i == tokenizer.unk_token_id for seq in ids for i in seq)
    words = sum(len(t.split()) for t in texts)
    return ids, tokens, unknown, words


def _stats(fert, unk):
    def stats(tokenizer, texts):
        ids, tokens, unknown, words = _counts(tokenizer, texts)
        return {
            "fertility": fert(ids, tokens, unknown, words, tokenizer, texts),
            "unk_rate": unk(ids, tokens, unknown, words, tokenizer, texts),
        }

    return stats


RIGHT_FERT = lambda ids, t, u, w, tok, texts: t / w  # noqa: E731
RIGHT_UNK = lambda ids, t, u, w, tok, texts: u / t  # noqa: E731


def test_stats_agree_with_course_utils():
    tok = ch05._bert_tokenizer()
    stats = sol.tokenizer_stats(tok, ch05.STATS_TEXTS)
    assert stats["fertility"] == pytest.approx(
        tokenization.fertility(tok, ch05.STATS_TEXTS)
    )
    assert stats["unk_rate"] == pytest.approx(
        tokenization.unk_rate(tok, ch05.STATS_TEXTS)
    )


def _own_tokenizer(tokenizer, texts):
    # ignores the tokenizer it is given and uses BERT's
    return sol.tokenizer_stats(ch05._bert_tokenizer(), texts)


def _words_split_on_spaces(ids, t, u, w, tok, texts):
    return t / sum(len(x.split(" ")) for x in texts)


def _mean_unk_rate(ids, t, u, w, tok, texts):
    rates = [sum(i == tok.unk_token_id for i in s) / len(s) for s in ids]
    return sum(rates) / len(rates)


def _hard_coded_stats(tokenizer, texts):
    if texts == ch05.STATS_TEXTS:
        return sol.tokenizer_stats(tokenizer, texts)
    return {"fertility": 1.0, "unk_rate": 0.0}


def _special_everywhere(tokenizer, texts):
    ids = [tokenizer(t)["input_ids"] for t in texts]  # [CLS] ... [SEP]
    tokens = sum(map(len, ids))
    unknown = sum(i == tokenizer.unk_token_id for s in ids for i in s)
    words = sum(len(t.split()) for t in texts)
    return {"fertility": tokens / words, "unk_rate": unknown / tokens}


STATS_WRONG = [
    Wrong(
        "[CLS] and [SEP] in the fertility",
        lambda tok, texts: {
            "fertility": _counts(tok, texts, special=True)[1]
            / _counts(tok, texts)[3],
            "unk_rate": sol.tokenizer_stats(tok, texts)["unk_rate"],
        },
        r"counted \[CLS\] and \[SEP\]",
    ),
    Wrong(
        "[CLS] and [SEP] everywhere",
        _special_everywhere,
        r"counted \[CLS\] and \[SEP\]",
    ),
    Wrong(
        "upside down",
        _stats(lambda ids, t, u, w, tok, texts: w / t, RIGHT_UNK),
        "upside down",
    ),
    Wrong(
        "per character",
        _stats(
            lambda ids, t, u, w, tok, texts: (
                t / sum(len("".join(x.split())) for x in texts)
            ),
            RIGHT_UNK,
        ),
        "number of characters",
    ),
    Wrong(
        "mean of fertilities",
        _stats(
            lambda ids, t, u, w, tok, texts: (
                sum(len(s) / len(x.split()) for s, x in zip(ids, texts))
                / len(texts)
            ),
            RIGHT_UNK,
        ),
        "averaged the fertility of each text",
    ),
    Wrong(
        "split(' ')",
        _stats(_words_split_on_spaces, RIGHT_UNK),
        "split on single spaces",
    ),
    Wrong(
        "fertility + 0.5",
        _stats(lambda ids, t, u, w, tok, texts: t / w + 0.5, RIGHT_UNK),
        GENERIC,
    ),
    Wrong(
        "[UNK] count",
        _stats(RIGHT_FERT, lambda ids, t, u, w, tok, texts: float(u)),
        r"number of \[UNK\] tokens",
    ),
    Wrong(
        "[UNK] per word",
        _stats(RIGHT_FERT, lambda ids, t, u, w, tok, texts: u / w),
        r"divided the \[UNK\] count by the number of words",
    ),
    Wrong(
        "percentage",
        _stats(RIGHT_FERT, lambda ids, t, u, w, tok, texts: 100 * u / t),
        "percentage",
    ),
    Wrong(
        "mean of [UNK] rates",
        _stats(RIGHT_FERT, _mean_unk_rate),
        r"averaged the \[UNK\] rate of each text",
    ),
    Wrong(
        "[UNK] rate 0.5",
        _stats(RIGHT_FERT, lambda ids, t, u, w, tok, texts: 0.5),
        GENERIC,
    ),
    Wrong("the tokenizer argument ignored", _own_tokenizer, GENERIC),
    Wrong("hard-coded for the four texts", _hard_coded_stats, GENERIC),
    Wrong("a tuple", lambda tok, texts: (1.0, 0.0), "exactly the keys"),
    Wrong(
        "not numbers",
        lambda tok, texts: {"fertility": "high", "unk_rate": 0},
        "should return numbers",
    ),
]


def test_stats_rejects_wrong_answers():
    assert_rejects(ch05.check_tokenizer_stats, STATS_WRONG)
