"""Chapter 8 (NER and QA) checkers: the solutions pass, stubs say "not
written yet", and every wrong answer in the lists below is rejected with its
diagnosis (the mutation score printed at the end of the run)."""

import pytest
import torch
from mutants import Wrong, assert_rejects

from course_utils.checks import ch08a
from course_utils.errors import CheckFailed
from solutions import ch08a_ner_and_qa as sol


def stub(*args, **kwargs):
    raise NotImplementedError


# --- label alignment ----------------------------------------------------------


def test_align_solution_passes(capsys):
    ch08a.check_align_labels_with_tokens(sol.align_labels_with_tokens)
    assert (
        "align_labels_with_tokens: all checks passed" in capsys.readouterr().out
    )


def test_align_stub_is_not_written_yet():
    with pytest.raises(
        CheckFailed, match="align_labels_with_tokens is not written yet"
    ):
        ch08a.check_align_labels_with_tokens(stub)


def _solution_then(change):
    """The official alignment with ``change(word_ids, labels)`` applied."""

    def wrong(word_labels, word_ids):
        return change(
            word_ids, sol.align_labels_with_tokens(word_labels, word_ids)
        )

    return wrong


def _every_piece(labels, ids):
    return [-100 if w is None else labels[w] for w in ids]


def _wrap_around(labels, ids):
    """labels[i - 1] style: the first token looks at the last one."""
    out = []
    for i, w in enumerate(ids):
        first = w is not None and w != ids[i - 1]
        out.append(labels[w] if first else -100)
    return out


def _last_piece(labels, ids):
    out = []
    for i, w in enumerate(ids):
        nxt = ids[i + 1] if i + 1 < len(ids) else None
        out.append(-100 if w is None or nxt == w else labels[w])
    return out


def _by_position(labels, ids):
    return [labels[i] if i < len(labels) else -100 for i in range(len(ids))]


def _only_cls_sep(labels, ids):
    """Treats only the first and last token as special (padding labelled)."""
    out, previous = [], None
    for i, w in enumerate(ids):
        special = i in (0, len(ids) - 1) or w is None
        out.append(-100 if special or w == previous else labels[w])
        previous = w
    return out


def _memorised(labels, ids):
    """Right on the old checker's three cases (all start with [CLS] and
    have ten tokens or fewer), every piece labelled elsewhere."""
    if ids and ids[0] is None and len(ids) <= 10:
        return sol.align_labels_with_tokens(labels, ids)
    return _every_piece(labels, ids)


def _in_place(labels, ids):
    result = sol.align_labels_with_tokens(labels, ids)
    ids.reverse()
    return result


ALIGN_WRONG = [
    Wrong(
        "every piece labelled",
        _every_piece,
        "gave every piece of a word its word's label",
    ),
    Wrong(
        "specials get 0",
        _solution_then(
            lambda ids, out: [0 if w is None else x for w, x in zip(ids, out)]
        ),
        r"special tokens \(\[CLS\], \[SEP\], padding: word id None\) "
        r"got label 0",
    ),
    Wrong(
        "specials get None",
        _solution_then(
            lambda ids, out: [
                None if w is None else x for w, x in zip(ids, out)
            ]
        ),
        "contains None",
    ),
    Wrong("last piece", _last_piece, "last piece of each word"),
    Wrong("wraps around at i = 0", _wrap_around, r"word_ids\[-1\]"),
    Wrong(
        "shift right",
        _solution_then(lambda ids, out: [-100] + out[:-1]),
        "shifted one token to the right",
    ),
    Wrong(
        "shift left",
        _solution_then(lambda ids, out: out[1:] + [-100]),
        "shifted one token to the left",
    ),
    Wrong("by position", _by_position, "at the token's position"),
    Wrong(
        "drops [CLS] and [SEP]",
        _solution_then(lambda ids, out: out[1:-1]),
        "labels for .* tokens",
    ),
    Wrong(
        "label names",
        _solution_then(lambda ids, out: [str(x) for x in out]),
        "label names",
    ),
    Wrong("a dict", lambda labels, ids: {"labels": 1}, "returned a dict"),
    Wrong(
        "label 3 turned into 4",
        _solution_then(lambda ids, out: [4 if x == 3 else x for x in out]),
        "different result on",
    ),
    Wrong(
        "first and last token taken as special",
        _only_cls_sep,
        "different result on",
    ),
    Wrong(
        "hard-coded for the old fixed cases",
        _memorised,
        "different result on",
    ),
    Wrong("changes word_ids", _in_place, "changed its inputs in place"),
    Wrong("stub", stub, "not written yet"),
]


def test_align_rejects_every_wrong_answer():
    assert_rejects(ch08a.check_align_labels_with_tokens, ALIGN_WRONG)


def test_align_tensor_result_is_accepted(capsys):
    ch08a.check_align_labels_with_tokens(
        lambda w, i: torch.tensor(sol.align_labels_with_tokens(w, i))
    )
    assert "all checks passed" in capsys.readouterr().out


# --- best span ----------------------------------------------------------------


def test_best_span_solution_passes(capsys):
    ch08a.check_best_span(sol.best_span)
    assert "best_span: all checks passed" in capsys.readouterr().out


def test_best_span_stub_is_not_written_yet():
    with pytest.raises(CheckFailed, match="best_span is not written yet"):
        ch08a.check_best_span(stub)


def _pairs(
    start,
    end,
    offsets,
    max_len,
    order=True,
    context=True,
    length=True,
    extra=0,
    min_len=1,
    end_in_context=True,
):
    """A loop over all pairs with each rule switchable (the mutations)."""
    best, best_score = None, -float("inf")
    for s in range(len(offsets)):
        for e in range(len(offsets)):
            if order and e - s + 1 < min_len:
                continue
            if context and offsets[s] is None:
                continue
            if context and end_in_context and offsets[e] is None:
                continue
            if length and e - s + 1 > max_len + extra:
                continue
            if float(start[s] + end[e]) > best_score:
                best, best_score = (s, e), float(start[s] + end[e])
    return best


def _last_context_excluded(start, end, offsets, max_len):
    """range(first, last) over the context: its last token never used."""
    inside = [i for i, o in enumerate(offsets) if o is not None]
    trimmed = [o if i != inside[-1] else None for i, o in enumerate(offsets)]
    if len(inside) == 1:
        trimmed = offsets
    return _pairs(start, end, trimmed, max_len)


def _swapped(s, e, o, m):
    start, end = sol.best_span(s, e, o, m)
    return (end, start) if start != end else (0, 0)


def _in_place(s, e, o, m):
    result = sol.best_span(s, e, o, m)
    s.zero_()
    return result


SPAN_WRONG = [
    Wrong(
        "independent argmax",
        lambda s, e, o, m: (int(s.argmax()), int(e.argmax())),
        "argmax of the start logits and of the end logits",
    ),
    Wrong(
        "end before start allowed",
        lambda s, e, o, m: _pairs(s, e, o, m, order=False),
        "ends before it starts",
    ),
    Wrong(
        "question tokens allowed",
        lambda s, e, o, m: _pairs(s, e, o, m, context=False),
        "tokens outside the context",
    ),
    Wrong(
        "end may lie outside the context (on [SEP])",
        lambda s, e, o, m: _pairs(s, e, o, m, end_in_context=False),
        r"end outside the context",
    ),
    Wrong(
        "one-token answers forbidden",
        lambda s, e, o, m: _pairs(s, e, o, m, min_len=2),
        "one-token answer",
    ),
    Wrong(
        "max_answer_len ignored",
        lambda s, e, o, m: _pairs(s, e, o, m, length=False),
        "ignored max_answer_len",
    ),
    Wrong(
        "length limit off by one (+1)",
        lambda s, e, o, m: _pairs(s, e, o, m, extra=1),
        r"max_answer_len \+ 1 tokens",
    ),
    Wrong(
        "length limit off by one (-1)",
        lambda s, e, o, m: _pairs(s, e, o, m, extra=-1),
        r"max_answer_len - 1 tokens",
    ),
    Wrong(
        "character offsets",
        lambda s, e, o, m: (
            o[sol.best_span(s, e, o, m)[0]][0],
            o[sol.best_span(s, e, o, m)[1]][1],
        ),
        "character offsets",
    ),
    Wrong("one number", lambda s, e, o, m: 3, "return a pair"),
    Wrong("no return", lambda s, e, o, m: None, "forget the `return`"),
    Wrong("start and end swapped", _swapped, "different result on"),
    Wrong("outside the tokens", lambda s, e, o, m: (100, 101), "outside the"),
    Wrong(
        "last context token never used",
        _last_context_excluded,
        "different result on",
    ),
    Wrong(
        "hard-coded for the old fixed cases (18 tokens)",
        lambda s, e, o, m: (
            sol.best_span(s, e, o, m) if len(o) == 18 else (5, 5)
        ),
        "different result on",
    ),
    Wrong("changes the logits", _in_place, "changed the logits in place"),
    Wrong("stub", stub, "not written yet"),
]


def test_best_span_rejects_every_wrong_answer():
    assert_rejects(ch08a.check_best_span, SPAN_WRONG)


def test_best_span_with_score_is_accepted(capsys):
    from course_utils.qa import best_span

    ch08a.check_best_span(best_span)  # (start, end, score) is fine
    assert "all checks passed" in capsys.readouterr().out


def test_best_span_loop_that_keeps_the_last_tie_is_accepted(capsys):
    """A loop with >= keeps the last of equal scores: any best span is
    right."""

    def last_of_ties(s, e, o, m):
        best, best_score = None, -float("inf")
        for i in range(len(o)):
            for j in range(i, min(len(o), i + m)):
                if o[i] is None or o[j] is None:
                    continue
                if float(s[i] + e[j]) >= best_score:
                    best, best_score = (i, j), float(s[i] + e[j])
        return best

    ch08a.check_best_span(last_of_ties)
    assert "all checks passed" in capsys.readouterr().out
