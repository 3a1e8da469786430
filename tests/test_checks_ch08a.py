"""Chapter 8 (NER and QA) checkers: the solutions pass, each diagnosed
mistake fails with its message, stubs say "not written yet"."""

import pytest
import torch

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


def _every_piece(labels, ids):
    return [-100 if w is None else labels[w] for w in ids]


def _specials_o(labels, ids):
    return [
        0 if w is None else x
        for w, x in zip(ids, sol.align_labels_with_tokens(labels, ids))
    ]


def _specials_none(labels, ids):
    return [
        None if w is None else x
        for w, x in zip(ids, sol.align_labels_with_tokens(labels, ids))
    ]


def _last_piece(labels, ids):
    out = []
    for i, w in enumerate(ids):
        nxt = ids[i + 1] if i + 1 < len(ids) else None
        out.append(-100 if w is None or nxt == w else labels[w])
    return out


def _shift_right(labels, ids):
    return [-100] + sol.align_labels_with_tokens(labels, ids)[:-1]


def _shift_left(labels, ids):
    return sol.align_labels_with_tokens(labels, ids)[1:] + [-100]


def _by_position(labels, ids):
    return [labels[i] if i < len(labels) else -100 for i in range(len(ids))]


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_every_piece, "gave every piece of a word its word's label"),
        (
            _specials_o,
            r"special tokens \(\[CLS\], \[SEP\], padding: word id None\) "
            r"got label 0",
        ),
        (_specials_none, "contains None"),
        (_last_piece, "last piece of each word instead of the first"),
        (_shift_right, "shifted one token to the right"),
        (_shift_left, "shifted one token to the left"),
        (_by_position, "at the token's position instead of at its word id"),
        (
            lambda labels, ids: sol.align_labels_with_tokens(labels, ids)[1:-1],
            "labels for .* tokens",
        ),
        (
            lambda labels, ids: [
                str(x) for x in sol.align_labels_with_tokens(labels, ids)
            ],
            "label names",
        ),
        (lambda labels, ids: {"labels": 1}, "returned a dict"),
        (
            lambda labels, ids: [
                x if x != 3 else 4
                for x in sol.align_labels_with_tokens(labels, ids)
            ],
            "wrong labels for",
        ),
    ],
)
def test_align_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch08a.check_align_labels_with_tokens(wrong)


def test_align_in_place_change_is_caught():
    def in_place(labels, ids):
        result = sol.align_labels_with_tokens(labels, ids)
        ids[0] = 0
        return result

    with pytest.raises(CheckFailed, match="changed its inputs in place"):
        ch08a.check_align_labels_with_tokens(in_place)


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
    start, end, offsets, max_len, order=True, context=True, length=True, extra=0
):
    best, best_score = None, -float("inf")
    for s in range(len(offsets)):
        for e in range(len(offsets)):
            if order and e < s:
                continue
            if context and (offsets[s] is None or offsets[e] is None):
                continue
            if length and e - s + 1 > max_len + extra:
                continue
            if float(start[s] + end[e]) > best_score:
                best, best_score = (s, e), float(start[s] + end[e])
    return best


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda s, e, o, m: (int(s.argmax()), int(e.argmax())),
            "argmax of the start logits and of the end logits",
        ),
        (
            lambda s, e, o, m: _pairs(s, e, o, m, order=False),
            "ends before it starts",
        ),
        (
            lambda s, e, o, m: _pairs(s, e, o, m, context=False),
            "tokens outside the context",
        ),
        (
            lambda s, e, o, m: _pairs(s, e, o, m, length=False),
            "ignored max_answer_len",
        ),
        (
            lambda s, e, o, m: _pairs(s, e, o, m, extra=1),
            r"max_answer_len \+ 1 tokens",
        ),
        (
            lambda s, e, o, m: (
                o[sol.best_span(s, e, o, m)[0]][0],
                o[sol.best_span(s, e, o, m)[1]][1],
            ),
            "character offsets",
        ),
        (lambda s, e, o, m: 3, "return a pair"),
        (
            lambda s, e, o, m: (
                (sol.best_span(s, e, o, m)[1], sol.best_span(s, e, o, m)[0])
                if sol.best_span(s, e, o, m)[0] != sol.best_span(s, e, o, m)[1]
                else (0, 0)
            ),
            "best valid span is|outside the context",
        ),
        (lambda s, e, o, m: (100, 101), "outside the"),
    ],
)
def test_best_span_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch08a.check_best_span(wrong)


def test_best_span_in_place_change_is_caught():
    def in_place(s, e, o, m):
        result = sol.best_span(s, e, o, m)
        s.zero_()
        return result

    with pytest.raises(CheckFailed, match="changed the logits in place"):
        ch08a.check_best_span(in_place)


def test_best_span_with_score_is_accepted(capsys):
    from course_utils.qa import best_span

    ch08a.check_best_span(
        lambda s, e, o, m: best_span(s, e, o, m)
    )  # (start, end, score) is fine
    assert "all checks passed" in capsys.readouterr().out
