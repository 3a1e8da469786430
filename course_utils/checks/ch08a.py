"""Checkers for the exercises of chapter 8, first half (named entities and
extractive question answering).

``check_align_labels_with_tokens`` runs the student's label alignment on
word-id lists whose answers follow the convention of the chapter (the first
piece of each word gets the word's label, every other piece and every special
token gets -100). ``check_best_span`` runs the student's span search on
start/end logits built so that each typical mistake (end before start, spans
over the question, start and end chosen independently, the length limit
ignored) lands on a different, wrong span; the correct answer comes from
:func:`course_utils.qa.best_span` and the alignment from
:func:`course_utils.ner.align_labels` (both generated from chapter 8).
"""

from __future__ import annotations

from functools import lru_cache

import torch

from course_utils.ner import IGNORE_INDEX as IGNORE
from course_utils.ner import align_labels as _reference_align
from course_utils.qa import best_span as _reference_best_span

from . import call_student, fail, passed


# ------------------------------------------------------------------------------
# ---------------
# Label alignment for token classification
# ------------------------------------------------------------------------------
# ---------------

# label ids: 0 O, 1 B-person, 2 I-person, 3 B-location, 4 I-location
_ALIGN_CASES = [
    # "Ada Lovelace visited Kathmandu": Lovelace and Kathmandu split into pieces
    ([1, 2, 0, 3], [None, 0, 1, 1, 2, 3, 3, 3, None]),
    # words that are single pieces, then a long name, and padding after [SEP]
    ([0, 0, 3, 4, 0], [None, 0, 1, 2, 2, 3, 4, None, None, None]),
    # a tweet that starts with a two-piece entity
    ([1, 0, 0], [None, 0, 0, 1, 2, None]),
]


def _align_mistakes(word_labels, word_ids) -> dict[str, list]:
    correct = _reference_align(word_labels, word_ids)
    every_piece = [IGNORE if w is None else word_labels[w] for w in word_ids]
    specials_o = [0 if w is None else c for w, c in zip(word_ids, correct)]
    last_piece = []
    for i, w in enumerate(word_ids):
        nxt = word_ids[i + 1] if i + 1 < len(word_ids) else None
        last_piece.append(IGNORE if w is None or nxt == w else word_labels[w])
    by_position = [
        word_labels[i] if i < len(word_labels) else IGNORE
        for i in range(len(word_ids))
    ]
    return {
        "every piece": every_piece,
        "specials": specials_o,
        "last piece": last_piece,
        "shift right": [IGNORE] + correct[:-1],
        "shift left": correct[1:] + [IGNORE],
        "by position": by_position,
    }


_ALIGN_MESSAGES = {
    "every piece": (
        "you gave every piece of a word its word's label, so a name split "
        "into pieces gets B- on each piece and counts as several entities: "
        "give -100 to every piece after the first (a piece whose word id "
        "equals the previous token's)."
    ),
    "specials": (
        "your special tokens ([CLS], [SEP], padding: word id None) got label "
        "0 ('O'): give them -100 so that the loss ignores them."
    ),
    "last piece": (
        "you labelled the last piece of each word instead of the first: "
        "compare each word id with the previous token's word id, and label "
        "the token where a new word starts."
    ),
    "shift right": (
        "your labels are shifted one token to the right (off by one): token i "
        "must get the label of word word_ids[i], read at the same position i."
    ),
    "shift left": (
        "your labels are shifted one token to the left (off by one): token i "
        "must get the label of word word_ids[i], read at the same position i."
    ),
    "by position": (
        "you read word_labels at the token's position instead of at its word "
        "id: use word_labels[word_ids[i]] for the first piece of each word."
    ),
}


def _as_label_list(result, what: str) -> list[int]:
    if isinstance(result, torch.Tensor):
        result = result.tolist()
    if hasattr(result, "tolist") and not isinstance(result, (list, tuple)):
        result = result.tolist()
    if isinstance(result, (str, dict)) or not hasattr(result, "__iter__"):
        fail(
            f"{what} returned a {type(result).__name__}; return a list of "
            "integers, one per token."
        )
    result = list(result)
    if any(isinstance(x, str) for x in result):
        fail(
            f"{what} returned label names (strings); return the integer label "
            "ids, and -100 where the loss should ignore a token."
        )
    try:
        return [int(x) for x in result]
    except (TypeError, ValueError):
        fail(
            f"{what} returned {result!r}; return a list of integers, one per "
            "token (use -100, not None, for tokens the loss should ignore)."
        )


def check_align_labels_with_tokens(align_labels_with_tokens) -> None:
    """Check ``align_labels_with_tokens(word_labels, word_ids) -> list[int]``
    (first piece labelled, rest -100)."""
    for word_labels, word_ids in _ALIGN_CASES + [_real_case()]:
        labels_in, ids_in = list(word_labels), list(word_ids)
        raw = call_student(
            align_labels_with_tokens,
            labels_in,
            ids_in,
            name="align_labels_with_tokens",
        )
        if labels_in != list(word_labels) or ids_in != list(word_ids):
            fail(
                "align_labels_with_tokens changed its inputs in place: build "
                "a new list of labels."
            )
        if isinstance(raw, (list, tuple)) and any(x is None for x in raw):
            fail(
                "your result contains None: the loss cannot skip None; use "
                "-100 for special tokens and for the pieces after the first."
            )
        result = _as_label_list(raw, "align_labels_with_tokens")
        expected = _reference_align(word_labels, word_ids)
        if result == expected:
            continue
        if len(result) != len(word_ids):
            fail(
                f"you returned {len(result)} labels for {len(word_ids)} "
                "tokens: return exactly one label per token, i.e. per entry "
                f"of word_ids (word_ids {word_ids})."
            )
        for name, wrong in _align_mistakes(word_labels, word_ids).items():
            if result == wrong:
                fail(_ALIGN_MESSAGES[name])
        fail(
            f"wrong labels for word_labels {word_labels} and word_ids "
            f"{word_ids}: expected {expected}, got {result} (None -> -100; the "
            "first piece of word w -> word_labels[w]; later pieces -> -100)."
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
# ---------------
# Best answer span from start / end logits
# ------------------------------------------------------------------------------
# ---------------


def _offsets(n_question: int, n_context: int, n_pad: int = 0):
    """[CLS] question [SEP] context [SEP] padding: offsets None outside the
    context, (char, char) inside."""
    offs = [None] * (1 + n_question + 1)
    offs += [(4 * k, 4 * k + 3) for k in range(n_context)]
    offs += [None] * (1 + n_pad)
    return offs


def _case(n_q, n_c, n_pad, start_peaks, end_peaks, max_len, seed):
    n = 2 + n_q + n_c + 1 + n_pad
    g = torch.Generator().manual_seed(seed)
    start = torch.randn(n, generator=g) * 0.3
    end = torch.randn(n, generator=g) * 0.3
    for i, v in start_peaks.items():
        start[i] = v
    for i, v in end_peaks.items():
        end[i] = v
    return start, end, _offsets(n_q, n_c, n_pad), max_len


def _span_cases():
    # tokens: 0 [CLS], 1..3 question, 4 [SEP], 5..14 context, 15 [SEP], 16..17
    # padding
    # 1) the best start (9) lies after the best end (7): order matters
    #    (and question tokens have the highest start and end logits of all)
    yield _case(
        3, 10, 2, {2: 5.5, 9: 5.0, 6: 3.0}, {1: 5.8, 7: 5.0, 11: 3.5}, 30, 0
    )
    # 2) the highest logits sit on question tokens 1 and 2
    yield _case(3, 10, 2, {1: 6.0, 8: 3.0}, {2: 6.0, 10: 3.0}, 30, 1)
    # 3) the best unconstrained span (6..13, 8 tokens) is longer than
    # max_answer_len = 4
    yield _case(3, 10, 2, {6: 5.0, 10: 3.0}, {13: 5.0, 12: 3.0}, 4, 2)
    # 4) a span of exactly max_answer_len + 1 tokens (7..11) beats the valid
    # ones
    yield _case(3, 10, 2, {7: 5.0, 9: 3.0}, {11: 5.0, 10: 2.9}, 4, 3)
    # 5) [CLS] has the highest start and end logits (the "no answer" position)
    yield _case(2, 8, 0, {0: 8.0, 6: 3.0}, {0: 8.0, 8: 3.0}, 30, 4)
    # 6) an easy case: one clear short answer
    yield _case(4, 12, 3, {9: 4.0}, {10: 4.0}, 30, 5)


def _search(
    start,
    end,
    offsets,
    max_len,
    *,
    order=True,
    context=True,
    length=True,
    length_plus_one=False,
):
    n = len(offsets)
    best, best_score = None, -float("inf")
    for s in range(n):
        for e in range(n):
            if order and e < s:
                continue
            if context and (offsets[s] is None or offsets[e] is None):
                continue
            if length and e - s + 1 > max_len + (1 if length_plus_one else 0):
                continue
            score = float(start[s] + end[e])
            if score > best_score:
                best, best_score = (s, e), score
    return best


def _span_mistakes(start, end, offsets, max_len) -> dict[str, tuple]:
    in_ctx = torch.tensor([o is not None for o in offsets])
    masked_s = start.masked_fill(~in_ctx, -float("inf"))
    masked_e = end.masked_fill(~in_ctx, -float("inf"))
    # most specific first: a result can equal several variants, and the one that
    # drops a single rule names it best
    return {
        "length off by one": _search(
            start, end, offsets, max_len, length_plus_one=True
        ),
        "length": _search(start, end, offsets, max_len, length=False),
        "question": _search(start, end, offsets, max_len, context=False),
        "order": _search(start, end, offsets, max_len, order=False),
        "independent in context": (
            int(masked_s.argmax()),
            int(masked_e.argmax()),
        ),
        "independent": (int(start.argmax()), int(end.argmax())),
    }


_SPAN_MESSAGES = {
    "independent": (
        "you took the argmax of the start logits and of the end logits "
        "independently: search over pairs (start, end) with start <= end, "
        "both in the context and at most max_answer_len tokens long, and "
        "maximise start_logits[start] + end_logits[end]."
    ),
    "independent in context": (
        "you chose start and end independently (each the best context token "
        "on its own): the pair must satisfy start <= end and the length "
        "limit, so search over pairs and maximise start_logits[start] + "
        "end_logits[end]."
    ),
    "question": (
        "your span uses tokens outside the context (the question, [CLS], "
        "[SEP] or padding, whose offsets are None): skip every start or end "
        "whose offset is None."
    ),
    "order": (
        "your span ends before it starts: only consider pairs with end >= "
        "start (choosing the start and the end separately, even among context "
        "tokens, can give such a span)."
    ),
    "length off by one": (
        "your span has max_answer_len + 1 tokens: a span from start to end "
        "(inclusive) has end - start + 1 tokens, which must be at most "
        "max_answer_len."
    ),
    "length": (
        "you ignored max_answer_len: skip pairs with end - start + 1 > "
        "max_answer_len."
    ),
}


def _as_span(result) -> tuple[int, int]:
    if isinstance(result, torch.Tensor):
        result = result.tolist()
    if not isinstance(result, (tuple, list)) or len(result) < 2:
        fail(
            f"best_span returned {result!r}; return a pair (start, end) of "
            "token indices."
        )
    try:
        return int(result[0]), int(result[1])
    except (TypeError, ValueError):
        fail(
            f"best_span returned {result!r}; return a pair of integer token "
            "indices (start, end)."
        )


def check_best_span(best_span) -> None:
    """Check ``best_span(start_logits [seq], end_logits [seq], offsets,
    max_answer_len) -> (start, end)``."""
    for start, end, offsets, max_len in _span_cases():
        s_in, e_in = start.clone(), end.clone()
        raw = call_student(
            best_span, s_in, e_in, list(offsets), max_len, name="best_span"
        )
        if not (torch.equal(s_in, start) and torch.equal(e_in, end)):
            fail(
                "best_span changed the logits in place: mask into new "
                "tensors, not the inputs."
            )
        result = _as_span(raw)
        ref = _reference_best_span(start, end, offsets, max_len)
        expected = (ref[0], ref[1])
        if result == expected:
            continue
        s, e = result
        if result == (offsets[expected[0]][0], offsets[expected[1]][1]):
            fail(
                "you returned character offsets: return the token indices "
                "(start, end); the offsets turn them into characters "
                "afterwards."
            )
        if not (0 <= s < len(offsets) and 0 <= e < len(offsets)):
            fail(
                f"best_span returned ({s}, {e}), outside the {len(offsets)} "
                "tokens: return token indices between 0 and "
                f"{len(offsets) - 1}."
            )
        for name, wrong in _span_mistakes(start, end, offsets, max_len).items():
            if result == wrong:
                fail(_SPAN_MESSAGES[name])
        fail(
            f"best_span returned ({s}, {e}) but the best valid span is "
            f"{expected}: maximise start_logits[start] + end_logits[end] over "
            "start <= end, both offsets not None, end - start + 1 <= "
            "max_answer_len."
        )
    passed("best_span")
