"""Chapter 5 checkers: the solutions pass, each diagnosed mistake fails with its
message, stubs say "not written yet"."""

from collections import Counter

import pytest

from course_utils.checks import ch05
from course_utils.errors import CheckFailed
from solutions import ch05_tokenization as sol


def stub(*args, **kwargs):
    raise NotImplementedError


# --- BPE merges ---------------------------------------------------------------
# -------------------


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


def test_bpe_solution_passes(capsys):
    ch05.check_learn_bpe_merges(sol.learn_bpe_merges)
    assert "learn_bpe_merges: all checks passed" in capsys.readouterr().out


def test_bpe_stub_is_not_written_yet():
    with pytest.raises(
        CheckFailed, match="learn_bpe_merges is not written yet"
    ):
        ch05.check_learn_bpe_merges(stub)


def test_reference_equals_library_trainer():
    """The checker's reference, chapter 5's learn_bpe, learns the trainer's
    merges on every case."""
    from course_utils import tokenization

    for word_counts, n in ch05.BPE_CASES:
        library = ch05._library_bpe(tuple(word_counts.items()), n)
        assert tokenization.learn_bpe(word_counts, n) == library
        assert sol.learn_bpe_merges(word_counts, n) == library


def test_student_model_without_mistakes_passes(capsys):
    ch05.check_learn_bpe_merges(student_bpe())
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (student_bpe(weighted=False), "once per word type"),
        (
            student_bpe(apply=False),
            "kept counting pairs on the original spelling",
        ),
        (student_bpe(cross=True), "across word boundaries"),
        (
            student_bpe(tie="strings"),
            "same count: break ties by the pair with the smaller",
        ),
        (student_bpe(tie="least"), "the most frequent pair is"),
        (student_bpe(stop=False), "when no pair is left"),
        (lambda wc, n: student_bpe()(wc, n)[:-1], r"num_merges=\d+ asks for"),
        (
            lambda wc, n: [a + b for a, b in student_bpe()(wc, n)],
            "returned strings such as",
        ),
        (lambda wc, n: {p: 1 for p in student_bpe()(wc, n)}, "returned a dict"),
        (lambda wc, n: 42, "returned a int"),
        (lambda wc, n: [("a", "b", "c")], "must be a pair"),
        (lambda wc, n: None, "returned None"),
    ],
)
def test_bpe_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch05.check_learn_bpe_merges(wrong)


def test_bpe_mutating_the_corpus_is_caught():
    def mutating(word_counts, num_merges):
        merges = sol.learn_bpe_merges(word_counts, num_merges)
        word_counts.clear()
        return merges

    with pytest.raises(CheckFailed, match="changed the word_counts dict"):
        ch05.check_learn_bpe_merges(mutating)


def test_bpe_replay_names_a_wrong_tie_inside_one_case():
    # right everywhere except on the corpus where string order and creation
    # order disagree
    def wrong_on_ties(word_counts, num_merges):
        if word_counts == {"cab": 2, "abc": 2}:
            return [("a", "b"), ("ab", "c"), ("c", "ab")]
        return sol.learn_bpe_merges(word_counts, num_merges)

    with pytest.raises(CheckFailed, match=r"both occur 2 times|same count"):
        ch05.check_learn_bpe_merges(wrong_on_ties)


def test_bpe_replay_names_an_impossible_pair():
    def boundary_pair(word_counts, num_merges):
        merges = sol.learn_bpe_merges(word_counts, num_merges)
        return (
            merges[:1] + [("w", "l")] + merges[2:]
        )  # "wl" is inside no word of the toy corpus

    with pytest.raises(CheckFailed, match="occurs inside no word"):
        ch05.check_learn_bpe_merges(boundary_pair)


# --- WordPiece ----------------------------------------------------------------
# -------------------


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


def test_wordpiece_solution_passes(capsys):
    ch05.check_wordpiece_tokenize(sol.wordpiece_tokenize)
    assert "wordpiece_tokenize: all checks passed" in capsys.readouterr().out


def test_wordpiece_stub_is_not_written_yet():
    with pytest.raises(
        CheckFailed, match="wordpiece_tokenize is not written yet"
    ):
        ch05.check_wordpiece_tokenize(stub)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (student_wordpiece(prefix=""), "with the ## prefix"),
        (
            lambda w, v, unk="[UNK]": [
                p.removeprefix("##") for p in sol.wordpiece_tokenize(w, v, unk)
            ],
            "with the ## prefix",
        ),
        (student_wordpiece(longest=False), "not the shortest"),
        (student_wordpiece(partial=True), "the whole word becomes"),
        (student_wordpiece(hard_unk=True), "return the `unk` argument"),
        (
            student_wordpiece(first_prefix=True),
            "only pieces after the first one",
        ),
        (
            lambda w, v, unk="[UNK]": " ".join(
                sol.wordpiece_tokenize(w, v, unk)
            ),
            "returned the string",
        ),
        (
            lambda w, v, unk="[UNK]": [
                v[p] for p in sol.wordpiece_tokenize(w, v, unk)
            ],
            "not ids",
        ),
        (
            lambda w, v, unk="[UNK]": list(w),
            "wrong pieces for|whole word becomes|## prefix",
        ),
    ],
)
def test_wordpiece_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch05.check_wordpiece_tokenize(wrong)


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


# --- fertility and [UNK] rate
# --------------------------------------------------------------------


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


def test_stats_solution_passes(capsys):
    ch05.check_tokenizer_stats(sol.tokenizer_stats)
    assert "tokenizer_stats: all checks passed" in capsys.readouterr().out


def test_stats_stub_is_not_written_yet():
    with pytest.raises(CheckFailed, match="tokenizer_stats is not written yet"):
        ch05.check_tokenizer_stats(stub)


def test_stats_agree_with_course_utils():
    from course_utils import tokenization

    tok = ch05._bert_tokenizer()
    stats = sol.tokenizer_stats(tok, ch05.STATS_TEXTS)
    assert stats["fertility"] == pytest.approx(
        tokenization.fertility(tok, ch05.STATS_TEXTS)
    )
    assert stats["unk_rate"] == pytest.approx(
        tokenization.unk_rate(tok, ch05.STATS_TEXTS)
    )


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda tok, texts: {
                "fertility": _counts(tok, texts, special=True)[1]
                / _counts(tok, texts)[3],
                "unk_rate": sol.tokenizer_stats(tok, texts)["unk_rate"],
            },
            r"counts \[CLS\] and \[SEP\]",
        ),
        (
            _stats(lambda ids, t, u, w, tok, texts: w / t, RIGHT_UNK),
            "upside down",
        ),
        (
            _stats(
                lambda ids, t, u, w, tok, texts: (
                    t / sum(len("".join(x.split())) for x in texts)
                ),
                RIGHT_UNK,
            ),
            "number of characters",
        ),
        (
            _stats(
                lambda ids, t, u, w, tok, texts: (
                    sum(len(s) / len(x.split()) for s, x in zip(ids, texts))
                    / len(texts)
                ),
                RIGHT_UNK,
            ),
            "averaged the fertility of each text",
        ),
        (
            _stats(lambda ids, t, u, w, tok, texts: t / w + 0.5, RIGHT_UNK),
            "wrong fertility for",
        ),
        (
            _stats(RIGHT_FERT, lambda ids, t, u, w, tok, texts: float(u)),
            r"number of \[UNK\] tokens",
        ),
        (
            _stats(RIGHT_FERT, lambda ids, t, u, w, tok, texts: u / w),
            r"divided the \[UNK\] count by the number of words",
        ),
        (
            _stats(RIGHT_FERT, lambda ids, t, u, w, tok, texts: 100 * u / t),
            "percentage",
        ),
        (
            _stats(RIGHT_FERT, lambda ids, t, u, w, tok, texts: 0.5),
            r"wrong \[UNK\] rate",
        ),
        (lambda tok, texts: (1.0, 0.0), "exactly the keys"),
        (
            lambda tok, texts: {"fertility": "high", "unk_rate": 0},
            "should return numbers",
        ),
    ],
)
def test_stats_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch05.check_tokenizer_stats(wrong)
