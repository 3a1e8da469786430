"""Checkers for the exercises of chapter 8, first half (named entities and
extractive question answering).

Each checker first compares the student's function with the reference on
many inputs: fixed cases that pin down each known mistake, and cases drawn
from a seeded generator (with and without special tokens, padding, windows
that start inside a word, one-token answers, the best span at either end of
the context, max_answer_len from 1 to more than the context). Only then does
it name a mistake, and only one that, written as a function, gives the
student's output on every case. The references are
:func:`course_utils.ner.align_labels` and :func:`course_utils.qa.best_span`
(both generated from chapter 8).

:func:`screened` (the student's function with its output put in shape and
its inputs watched) is shared with the checkers of chapters 8b and 10.
"""

from __future__ import annotations

import copy
import functools
import random
from functools import lru_cache

import numpy as np
import torch

from course_utils.ner import IGNORE_INDEX as IGNORE
from course_utils.ner import align_labels as _reference_align
from course_utils.qa import best_span as _qa_best_span

from . import Case, compare_with_reference, fail, passed


def _unchanged(before, after) -> bool:
    """Whether ``after`` still equals the copy ``before`` (tensors, arrays,
    lists and dicts compared item by item)."""
    if isinstance(before, torch.Tensor):
        return isinstance(after, torch.Tensor) and torch.equal(before, after)
    if isinstance(before, np.ndarray):
        return np.array_equal(before, after, equal_nan=True)
    if isinstance(before, (list, tuple)):
        return len(before) == len(after) and all(
            _unchanged(b, a) for b, a in zip(before, after)
        )
    if isinstance(before, dict):
        return before.keys() == after.keys() and all(
            _unchanged(before[k], after[k]) for k in before
        )
    if isinstance(before, torch.nn.Module):
        return True  # a model's gradients may change; its use is checked
    return before == after


def screened(
    student, shape, in_place: str | None = None, none_ok: bool = False
):
    """The student's function with its result put in the checker's form.

    ``shape(result, *args)`` returns the result as the reference gives it
    (a pair, a float, a list of ints) or fails with a sentence about the
    type. ``in_place``: the sentence for a function that changed its
    inputs (None: not watched). A None result passes through, so that
    :func:`~course_utils.checks.call_student` can say "forgot the return",
    unless ``none_ok`` (None is an answer: ``shape`` turns it into one).
    """

    @functools.wraps(student)
    def call(*args, **kwargs):
        before = copy.deepcopy((args, kwargs)) if in_place else None
        result = student(*args, **kwargs)
        if in_place and not _unchanged(before, (args, kwargs)):
            fail(in_place)
        if result is None and not none_ok:
            return None
        return shape(result, *args, **kwargs)

    return call


# ------------------------------------------------------------------------------
# Label alignment for token classification
# ------------------------------------------------------------------------------

# label ids: 0 O, 1 B-person, 2 I-person, 3 B-location, 4 I-location
_ALIGN_FIXED = [
    (
        "'Ada Lovelace visited Kathmandu' (two names in pieces)",
        [1, 2, 0, 3],
        [None, 0, 1, 1, 2, 3, 3, 3, None],
    ),
    (
        "single-piece words, a long name, padding after [SEP]",
        [0, 0, 3, 4, 0],
        [None, 0, 1, 2, 2, 3, 4, None, None, None],
    ),
    (
        "a tweet that starts with a two-piece entity",
        [1, 0, 0],
        [None, 0, 0, 1, 2, None],
    ),
    # no special tokens: the first token has no predecessor, and
    # word_ids[-1] is the same word (the wrap-around at i = 0)
    ("one word in three pieces, no special tokens", [3], [0, 0, 0]),
    ("one word in one piece, no special tokens", [1], [0]),
    ("an empty tweet: [CLS] [SEP] only", [], [None, None]),
    # a window of a long text (QA-style stride) that starts inside word 2
    (
        "a window that starts and ends inside a word",
        [0, 1, 2, 0, 3, 4],
        [None, 2, 2, 3, 4, 4, None],
    ),
]


def _random_alignment(rng: random.Random) -> tuple[list, list]:
    """Word labels and word ids as a tokenizer gives them: pieces per word,
    optional [CLS]/[SEP], padding, or a window starting inside a word."""
    n_words = rng.randint(1, 7)
    labels = [rng.randint(0, 12) for _ in range(n_words)]
    ids = [w for w in range(n_words) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.3 and len(ids) > 2:  # a window of a longer text
        first = rng.randint(1, len(ids) - 1)
        ids = ids[first : rng.randint(first + 1, len(ids))]
    if rng.random() < 0.75:
        ids = [None] + ids + [None] * rng.randint(1, 4)
    return labels, ids


def _align_cases() -> list[Case]:
    rng = random.Random(0)
    cases = [Case(label, (w, i)) for label, w, i in _ALIGN_FIXED]
    labels, ids = _real_case()
    cases.append(Case(f"a real tweet, word_ids {ids}", (labels, ids)))
    for _ in range(40):
        labels, ids = _random_alignment(rng)
        cases.append(
            Case(f"word_labels {labels} and word_ids {ids}", (labels, ids))
        )
    return cases


def _first_piece_rule(word_labels, word_ids, previous_of, label_of, special):
    """The alignment loop with its parts replaceable (for the mistakes)."""
    out = []
    for i, w in enumerate(word_ids):
        if w is None:
            out.append(special)
        elif w != previous_of(word_ids, i):
            out.append(label_of(word_labels, word_ids, i))
        else:
            out.append(IGNORE)
    return out


def _previous(ids, i):
    return ids[i - 1] if i > 0 else None


def _own_label(labels, ids, i):
    return labels[ids[i]]


def _wrap_around(labels, ids):
    return _first_piece_rule(
        labels, ids, lambda ids, i: ids[i - 1], _own_label, IGNORE
    )


def _specials_zero(labels, ids):
    return _first_piece_rule(labels, ids, _previous, _own_label, 0)


def _every_piece(labels, ids):
    return [IGNORE if w is None else labels[w] for w in ids]


def _last_piece(labels, ids):
    nxt = list(ids[1:]) + [None]
    return [
        IGNORE if w is None or n == w else labels[w] for w, n in zip(ids, nxt)
    ]


def _shift_right(labels, ids):
    return [IGNORE] + _reference_align(labels, ids)[:-1]


def _shift_left(labels, ids):
    return _reference_align(labels, ids)[1:] + [IGNORE]


def _by_position(labels, ids):
    return [labels[i] if i < len(labels) else IGNORE for i in range(len(ids))]


_ALIGN_DIAGNOSES = [
    (
        "you gave every piece of a word its word's label, so a name split "
        "into pieces gets B- on each piece and counts as several entities: "
        "give -100 to every piece after the first (a piece whose word id "
        "equals the previous token's).",
        _every_piece,
    ),
    (
        "your special tokens ([CLS], [SEP], padding: word id None) got label "
        "0 ('O'): give them -100 so that the loss ignores them.",
        _specials_zero,
    ),
    (
        "you labelled the last piece of each word instead of the first: "
        "compare each word id with the previous token's word id, and label "
        "the token where a new word starts.",
        _last_piece,
    ),
    (
        "your first token compared its word id with word_ids[-1], the LAST "
        "token (Python wraps index i - 1 = -1 around), so a text without "
        "special tokens loses its first label: the first token has no "
        "previous token (start with previous = None).",
        _wrap_around,
    ),
    (
        "your labels are shifted one token to the right (off by one): token "
        "i must get the label of word word_ids[i], read at the same "
        "position i.",
        _shift_right,
    ),
    (
        "your labels are shifted one token to the left (off by one): token i "
        "must get the label of word word_ids[i], read at the same position "
        "i.",
        _shift_left,
    ),
    (
        "you read word_labels at the token's position instead of at its "
        "word id: use word_labels[word_ids[i]] for the first piece of each "
        "word.",
        _by_position,
    ),
]


def _as_label_list(result, word_labels, word_ids) -> list[int]:
    """The student's labels as a list of ints, one per token, or one
    sentence about what came back instead."""
    what = "align_labels_with_tokens"
    if hasattr(result, "tolist") and not isinstance(result, (list, tuple)):
        result = result.tolist()  # a tensor or an array
    if isinstance(result, (str, dict)) or not hasattr(result, "__iter__"):
        fail(
            f"{what} returned a {type(result).__name__}; return a list of "
            "integers, one per token."
        )
    result = list(result)
    if any(x is None for x in result):
        fail(
            "your result contains None: the loss cannot skip None; use -100 "
            "for special tokens and for the pieces after the first."
        )
    if any(isinstance(x, str) for x in result):
        fail(
            f"{what} returned label names (strings); return the integer "
            "label ids, and -100 where the loss should ignore a token."
        )
    try:
        labels = [int(x) for x in result]
    except (TypeError, ValueError):
        fail(
            f"{what} returned {result!r:.80}; return a list of integers, one "
            "per token."
        )
    if len(labels) != len(word_ids):
        fail(
            f"you returned {len(labels)} labels for {len(word_ids)} tokens: "
            "return exactly one label per token, i.e. per entry of word_ids "
            f"(word_ids {word_ids})."
        )
    return labels


def check_align_labels_with_tokens(align_labels_with_tokens) -> None:
    """Check ``align_labels_with_tokens(word_labels, word_ids) -> list[int]``
    (first piece labelled, rest -100)."""
    student = screened(
        align_labels_with_tokens,
        _as_label_list,
        in_place="align_labels_with_tokens changed its inputs in place: "
        "build a new list of labels.",
    )
    compare_with_reference(
        student,
        _reference_align,
        _align_cases(),
        name="align_labels_with_tokens",
        diagnoses=_ALIGN_DIAGNOSES,
    )
    passed("align_labels_with_tokens")


@lru_cache(maxsize=1)
def _real_case():
    """A real tweet through the packaged WordPiece tokenizer (words already
    split, as in WNUT-16)."""
    from transformers import AutoTokenizer

    from ..assets import resolve_checkpoint

    tokenizer = AutoTokenizer.from_pretrained(
        resolve_checkpoint("all-MiniLM-L6-v2")
    )
    words = [
        "@dancefloor",
        "Watching",
        "Kathmandu",
        "documentaries",
        "with",
        "Ouagadougou",
        "friends",
    ]
    labels = [0, 0, 3, 0, 0, 3, 0]
    return labels, tokenizer(words, is_split_into_words=True).word_ids()


# ------------------------------------------------------------------------------
# Best answer span from start / end logits
# ------------------------------------------------------------------------------


def _offsets(n_question: int, n_context: int, n_pad: int = 0) -> list:
    """[CLS] question [SEP] context [SEP] padding: offsets None outside the
    context, (char, char) inside."""
    offs = [None] * (1 + n_question + 1)
    offs += [(4 * k, 4 * k + 3) for k in range(n_context)]
    offs += [None] * (1 + n_pad)
    return offs


def _span_case(label, n_q, n_c, n_pad, start_peaks, end_peaks, max_len, seed):
    """A Case with small random logits and a few peaks placed by hand."""
    n = 2 + n_q + n_c + 1 + n_pad
    g = torch.Generator().manual_seed(seed)
    start = torch.randn(n, generator=g) * 0.3
    end = torch.randn(n, generator=g) * 0.3
    for i, v in start_peaks.items():
        start[i] = v
    for i, v in end_peaks.items():
        end[i] = v
    return Case(label, (start, end, _offsets(n_q, n_c, n_pad), max_len))


def _fixed_span_cases() -> list[Case]:
    # tokens (3 question, 10 context, 2 padding): 0 [CLS], 1..3 question,
    # 4 [SEP], 5..14 context, 15 [SEP], 16..17 padding
    c = _span_case
    return [
        c(
            "a case where the best start (9) lies after the best end (7)",
            3,
            10,
            2,
            {2: 5.5, 9: 5.0, 6: 3.0},
            {1: 5.8, 7: 5.0, 11: 3.5},
            30,
            0,
        ),
        c(
            "a case whose highest logits sit on question tokens",
            3,
            10,
            2,
            {1: 6.0, 8: 3.0},
            {2: 6.0, 10: 3.0},
            30,
            1,
        ),
        c(
            "a case whose best span ignoring the limit is 8 tokens long "
            "(max_answer_len 4)",
            3,
            10,
            2,
            {6: 5.0, 10: 3.0},
            {13: 5.0, 12: 3.0},
            4,
            2,
        ),
        c(
            "a case where a span of max_answer_len + 1 tokens beats the valid "
            "ones",
            3,
            10,
            2,
            {7: 5.0, 9: 3.0},
            {11: 5.0, 10: 2.9},
            4,
            3,
        ),
        c(
            "a case where [CLS] has the highest start and end logits",
            2,
            8,
            0,
            {0: 8.0, 6: 3.0},
            {0: 8.0, 8: 3.0},
            30,
            4,
        ),
        c(
            "an easy case: one clear short answer",
            4,
            12,
            3,
            {9: 4.0},
            {10: 4.0},
            30,
            5,
        ),
        c(
            "a case whose answer is one token (start = end = 9)",
            3,
            10,
            2,
            {9: 5.0, 6: 1.0},
            {9: 5.0, 12: 1.0},
            30,
            6,
        ),
        c("a case with max_answer_len 1", 3, 10, 2, {8: 4.0}, {11: 4.0}, 1, 7),
        c(
            "a case whose best end is the [SEP] after the context",
            3,
            10,
            2,
            {12: 5.0},
            {15: 7.0, 13: 2.0},
            30,
            8,
        ),
        c(
            "a case whose best start is the [SEP] before the context",
            3,
            10,
            2,
            {4: 7.0, 7: 2.0},
            {9: 5.0},
            30,
            9,
        ),
        c(
            "a case whose answer is the last context token (14)",
            3,
            10,
            2,
            {14: 5.0},
            {14: 5.0},
            30,
            10,
        ),
        c(
            "a case whose answer starts at the first context token (5)",
            3,
            10,
            2,
            {5: 5.0},
            {7: 5.0},
            30,
            11,
        ),
        c("a context of one token", 3, 1, 2, {2: 5.0}, {7: 5.0}, 30, 12),
        c(
            "a case with the answer in the padding's highest logits",
            2,
            6,
            3,
            {12: 6.0, 5: 2.0},
            {13: 6.0, 8: 2.0},
            30,
            13,
        ),
    ]


def _random_span_case(rng: random.Random, seed: int) -> Case:
    """Random sizes and max_answer_len, random peaks anywhere (question,
    [CLS], [SEP], padding or the context's ends)."""
    n_q, n_c, n_pad = rng.randint(1, 5), rng.randint(1, 9), rng.randint(0, 3)
    n = 2 + n_q + n_c + 1 + n_pad
    ends = [0, 1 + n_q, 2 + n_q, 1 + n_q + n_c, 2 + n_q + n_c, n - 1]
    peaks = {}
    for _ in range(rng.randint(0, 3)):
        where = rng.choice(ends + [rng.randrange(n)])
        peaks[where] = rng.uniform(1.0, 6.0)
    end_peaks = {rng.choice(ends): rng.uniform(1.0, 6.0)}
    max_len = rng.randint(1, n_c + 2)
    case = _span_case("", n_q, n_c, n_pad, peaks, end_peaks, max_len, seed)
    case.label = (
        f"{n_q} question tokens, {n_c} context tokens, {n_pad} padding, "
        f"max_answer_len {max_len} (start_logits "
        f"{[round(x, 2) for x in case.args[0].tolist()]}, end_logits "
        f"{[round(x, 2) for x in case.args[1].tolist()]})"
    )
    return case


def _span_cases() -> list[Case]:
    rng = random.Random(0)
    cases = _fixed_span_cases()
    cases += [_random_span_case(rng, 100 + i) for i in range(30)]
    return cases


class _BestSpans(tuple):
    """The spans whose score is within float32 noise of the best: a tie (or
    a float32 sum) may pick any of them."""

    def __repr__(self):
        return " or ".join(str(span) for span in self)


def _span_scores(start, end, offsets, max_len, rules=()):
    """[seq, seq] scores start[s] + end[e] with the invalid pairs at -inf.

    ``rules`` names the rules a mistake leaves out or changes: "order",
    "start context", "end context", "length", "length + 1", "length - 1",
    "one token".
    """
    n = len(offsets)
    s_log = torch.as_tensor(start, dtype=torch.float64)
    e_log = torch.as_tensor(end, dtype=torch.float64)
    in_ctx = torch.tensor([o is not None for o in offsets])
    i = torch.arange(n)
    length = i[None, :] - i[:, None] + 1  # [seq, seq]: end - start + 1
    limit = max_len + ("length + 1" in rules) - ("length - 1" in rules)
    valid = torch.ones(n, n, dtype=torch.bool)
    if "order" not in rules:
        valid &= length >= (2 if "one token" in rules else 1)
    if "length" not in rules:
        valid &= length <= limit
    if "start context" not in rules:
        valid &= in_ctx[:, None]
    if "end context" not in rules:
        valid &= in_ctx[None, :]
    scores = s_log[:, None] + e_log[None, :]
    return scores.masked_fill(~valid, float("-inf"))


def _argmax_span(scores) -> tuple[int, int]:
    return divmod(int(scores.argmax()), scores.shape[0])


def _reference_spans(start, end, offsets, max_len) -> _BestSpans:
    """Every span within 1e-5 of the best valid score (the reference's own
    pick first)."""
    best = _qa_best_span(start, end, offsets, max_len)
    scores = _span_scores(start, end, offsets, max_len)
    near = (scores >= best[2] - 1e-5).nonzero().tolist()
    others = [tuple(p) for p in near if tuple(p) != best[:2]]
    return _BestSpans([best[:2], *others])


class _NoSpan(tuple):
    """A student's None ("no valid span"), kept as an answer so that the
    mistake that leads to it can be named."""

    def __repr__(self):
        return "None"


_NO_SPAN = _NoSpan((-1, -1))


def _same_span(expected, got) -> bool:
    if isinstance(expected, _BestSpans):
        return tuple(got) in expected
    return tuple(expected) == tuple(got)


def _mistake(*rules):
    def span(start, end, offsets, max_len):
        scores = _span_scores(start, end, offsets, max_len, rules)
        if scores.isinf().all():  # a loop over pairs finds none
            return _NO_SPAN
        return _argmax_span(scores)

    return span


def _independent(start, end, offsets, max_len):
    return int(start.argmax()), int(end.argmax())


def _independent_in_context(start, end, offsets, max_len):
    outside = torch.tensor([o is None for o in offsets])
    s = start.masked_fill(outside, -float("inf"))
    e = end.masked_fill(outside, -float("inf"))
    return int(s.argmax()), int(e.argmax())


def _characters(start, end, offsets, max_len):
    s, e = _qa_best_span(start, end, offsets, max_len)[:2]
    return offsets[s][0], offsets[e][1]


_SPAN_DIAGNOSES = [
    (
        "best_span returned None: did you forget the `return` statement? "
        "(Every case here has a valid span.)",
        lambda start, end, offsets, max_len: _NO_SPAN,
    ),
    (
        "you returned character offsets: return the token indices (start, "
        "end); the offsets turn them into characters afterwards.",
        _characters,
    ),
    (
        "you took the argmax of the start logits and of the end logits "
        "independently: search over pairs (start, end) with start <= end, "
        "both in the context and at most max_answer_len tokens long, and "
        "maximise start_logits[start] + end_logits[end].",
        _independent,
    ),
    (
        "you chose start and end independently (each the best context token "
        "on its own): the pair must satisfy start <= end and the length "
        "limit, so search over pairs and maximise start_logits[start] + "
        "end_logits[end].",
        _independent_in_context,
    ),
    (
        "your span has max_answer_len + 1 tokens: a span from start to end "
        "(inclusive) has end - start + 1 tokens, which must be at most "
        "max_answer_len.",
        _mistake("length + 1"),
    ),
    (
        "your spans are at most max_answer_len - 1 tokens long: a span from "
        "start to end (inclusive) has end - start + 1 tokens, and "
        "max_answer_len of them are allowed (<=, not <).",
        _mistake("length - 1"),
    ),
    (
        "you ignored max_answer_len: skip pairs with end - start + 1 > "
        "max_answer_len.",
        _mistake("length"),
    ),
    (
        "you never return a one-token answer (start == end): a span may "
        "start and end on the same token, so allow end >= start, not only "
        "end > start.",
        _mistake("one token"),
    ),
    (
        "your span uses tokens outside the context (the question, [CLS], "
        "[SEP] or padding, whose offsets are None): skip every start or end "
        "whose offset is None.",
        _mistake("start context", "end context"),
    ),
    (
        "your span can end outside the context (on [SEP] or padding): you "
        "checked that offsets[start] is not None, but offsets[end] must not "
        "be None either.",
        _mistake("end context"),
    ),
    (
        "your span can start outside the context (on [CLS], the question or "
        "[SEP]): you checked offsets[end], but offsets[start] must not be "
        "None either.",
        _mistake("start context"),
    ),
    (
        "your span ends before it starts: only consider pairs with end >= "
        "start (choosing the start and the end separately, even among "
        "context tokens, can give such a span).",
        _mistake("order"),
    ),
]


def _as_span(result, start, end, offsets, max_len) -> tuple[int, int]:
    """The student's (start, end[, score]) as a pair of token indices, or
    one sentence about what came back instead."""
    if result is None:  # "no valid span", though every case has one
        return _NO_SPAN
    if isinstance(result, torch.Tensor):
        result = result.tolist()
    if not isinstance(result, (tuple, list)) or len(result) < 2:
        fail(
            f"best_span returned {result!r:.80}; return a pair (start, end) "
            "of token indices."
        )
    try:
        s, e = int(result[0]), int(result[1])
    except (TypeError, ValueError):
        fail(
            f"best_span returned {result!r:.80}; return a pair of integer "
            "token indices (start, end)."
        )
    n = len(offsets)
    in_range = 0 <= s < n and 0 <= e < n
    if not in_range and (s, e) != _characters(start, end, offsets, max_len):
        fail(
            f"best_span returned ({s}, {e}), outside the {n} tokens: return "
            f"token indices between 0 and {n - 1}."
        )
    return s, e


def check_best_span(best_span) -> None:
    """Check ``best_span(start_logits [seq], end_logits [seq], offsets,
    max_answer_len) -> (start, end)``."""
    student = screened(
        best_span,
        _as_span,
        in_place="best_span changed the logits in place: mask into new "
        "tensors, not the inputs.",
        none_ok=True,
    )
    compare_with_reference(
        student,
        _reference_spans,
        _span_cases(),
        name="best_span",
        diagnoses=_SPAN_DIAGNOSES,
        same=_same_span,
    )
    passed("best_span")
