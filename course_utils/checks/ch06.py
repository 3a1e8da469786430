"""Checkers for the chapter 6 exercises (exercises/ch06_pretraining.ipynb).

Each checker first decides right or wrong by running the student's function
and the reference on fixed cases (one per known mistake) and on cases drawn
from a seeded generator; only then does it name a mistake, and only when
that mistake, written as a function, gives the student's output on every
case. The references: chapter 6's ``course_utils.pretraining.group_texts``
and transformers' own ``TopKLogitsWarper`` and ``TopPLogitsWarper``.

A result of the wrong kind is named as such (``validate``), and the generic
"gives a different result" message gets a hint.
"""

from __future__ import annotations

import functools
import math
import random

import torch

from course_utils import pretraining

from ..errors import CheckFailed
from . import (
    Case,
    compare_with_reference,
    fail,
    passed,
    student_line,
    validator,
)


# ------------------------------------------------------------------------------
# group_texts
# ------------------------------------------------------------------------------

_COLUMNS = ("input_ids", "attention_mask", "labels")


def _block_lists(value):
    """``value`` as a list of lists of ints, or None."""
    try:
        return [[int(t) for t in block] for block in value]
    except Exception:  # noqa: BLE001 - anything that is not blocks of ints
        return None


def _validate_groups(out, examples, block_size) -> None:
    """Name a result that is not a dict of the right columns of blocks."""
    if not isinstance(out, dict):
        fail(
            f"group_texts returned a {type(out).__name__}; return a dict of "
            "columns (input_ids, attention_mask, labels), each a list of "
            "blocks."
        )
    missing = [k for k in [*examples, "labels"] if k not in out]
    if "attention_mask" in missing:
        fail(
            "group_texts dropped the attention_mask column: group every "
            "column of the batch alongside input_ids (loop over "
            "examples.keys()), or the rows no longer line up."
        )
    if "labels" in missing and len(missing) == 1:
        fail(
            "group_texts returned no 'labels': add labels, a copy of the "
            "input_ids blocks (the causal LM head shifts them itself)."
        )
    if missing:
        fail(
            f"group_texts returned no {missing} column(s) for a batch with "
            f"the columns {list(examples)}: group every column (loop over "
            "examples.keys()) and add labels."
        )
    extra = sorted(set(out) - set(examples) - {"labels"})
    if extra:
        fail(
            f"group_texts returned extra columns {extra}: return only the "
            "grouped columns and labels."
        )
    if any(_block_lists(out[k]) is None for k in out):
        fail(
            "group_texts: every column must be a list of blocks, each a list "
            "of token ids."
        )


def _same_groups(expected: dict, got: dict) -> bool:
    """The same columns of the same blocks; labels must not share lists with
    input_ids unless ``expected`` shares them too (a mistake reproduced).
    """
    if not isinstance(got, dict) or set(got) != set(expected):
        return False
    if any(_block_lists(got[k]) != expected[k] for k in expected):
        return False
    return _aliased(expected) or not _aliased(got)


def _aliased(out: dict) -> bool:
    labels, ids = out.get("labels"), out.get("input_ids")
    if labels is None or ids is None:
        return False
    return labels is ids or any(a is b for a, b in zip(labels, ids))


def _group_cases() -> list[Case]:
    """Fixed cases (a remainder to drop, an empty article, fewer tokens than
    a block, a third column), then seeded random batches.
    """
    fixed = [
        ([[1, 2, 3, 4, 5], [6, 7, 8, 9]], [[1, 1, 0, 1, 1], [1, 0, 1, 1]], 3),
        (
            [[11, 12], [13, 14, 15, 16, 17], [18, 19, 20]],
            [[1, 0], [0, 1, 1, 0, 1], [1, 1, 0]],
            4,
        ),
        ([[21, 22, 23, 24, 25, 26, 27, 28]], [[1, 1, 1, 1, 0, 0, 1, 1]], 4),
        ([[31, 32], [33]], [[1, 1], [1]], 5),
        ([[41, 42, 43], [], [44, 45, 46]], [[1, 1, 0], [], [0, 1, 1]], 2),
        ([[7, 7, 7], [7, 7, 7, 7]], [[1, 1, 1], [1, 1, 1, 1]], 7),
    ]
    cases = [
        Case(
            f"examples={{'input_ids': {ids}, ...}}, block_size={size}",
            ({"input_ids": ids, "attention_mask": mask}, size),
        )
        for ids, mask, size in fixed
    ]
    three = {
        "input_ids": [[1, 2, 3], [4, 5, 6, 7]],
        "token_type_ids": [[0, 0, 1], [1, 1, 0, 0]],
        "attention_mask": [[1, 1, 1], [1, 1, 1, 0]],
    }
    cases.append(Case("a batch with a token_type_ids column too", (three, 3)))
    rng = random.Random(0)
    for k in range(12):
        lengths = [rng.randint(0, 12) for _ in range(rng.randint(1, 5))]
        ids = [[rng.randint(0, 9) for _ in range(n)] for n in lengths]
        mask = [[rng.randint(0, 1) for _ in range(n)] for n in lengths]
        size = rng.randint(2, 6)
        cases.append(
            Case(
                f"random batch {k} (lengths {lengths}, block_size={size})",
                ({"input_ids": ids, "attention_mask": mask}, size),
            )
        )
    return cases


def _per_example(examples, block_size):
    """Each article cut into blocks on its own."""
    out = {
        k: [
            s[i : i + block_size]
            for s in v
            for i in range(0, len(s) // block_size * block_size, block_size)
        ]
        for k, v in examples.items()
    }
    out["labels"] = [list(b) for b in out["input_ids"]]
    return out


def _keep_short(examples, block_size):
    """The remainder kept as a short last block."""
    cat = {k: sum(v, []) for k, v in examples.items()}
    out = {
        k: [s[i : i + block_size] for i in range(0, len(s), block_size)]
        for k, s in cat.items()
    }
    out["labels"] = [list(b) for b in out["input_ids"]]
    return out


def _relabelled(make_labels):
    """The right blocks with ``make_labels(result, examples, block_size)``."""

    def grouped(examples, block_size):
        out = pretraining.group_texts(examples, block_size)
        out["labels"] = make_labels(out, examples, block_size)
        return out

    return grouped


def _shifted_from_text(out, examples, block_size):
    flat = [t for s in examples["input_ids"] for t in s]
    return [
        flat[i + 1 : i + 1 + block_size]
        for i in range(0, len(out["input_ids"]) * block_size, block_size)
    ]


_SHIFTS = [
    lambda out, ex, n: [b[1:] for b in out["input_ids"]],
    _shifted_from_text,
    lambda out, ex, n: [b[1:] + [-100] for b in out["input_ids"]],
]


def _mask_untouched(examples, block_size):
    out = pretraining.group_texts(examples, block_size)
    out["attention_mask"] = examples["attention_mask"]
    return out


def _fixed_block(size):
    def grouped(examples, block_size):
        return pretraining.group_texts(examples, size)

    return grouped


def _group_diagnoses():
    shifted = (
        "group_texts shifts the labels by hand: make labels an exact copy of "
        "input_ids; GPT2LMHeadModel compares position t with token t+1 "
        "itself, so shifting here shifts twice."
    )
    diagnoses = [
        (
            "group_texts cuts each example on its own: concatenate all the "
            "examples of the batch first, then cut the long list into blocks.",
            _per_example,
        ),
        (
            "group_texts keeps a short last block: drop the remainder, total "
            "= len(concatenated) // block_size * block_size.",
            _keep_short,
        ),
        *[(shifted, _relabelled(shift)) for shift in _SHIFTS],
        (
            "group_texts did not group attention_mask alongside input_ids: "
            "apply the same concatenate-and-cut to every column.",
            _mask_untouched,
        ),
        (
            "group_texts: labels share the very same lists as input_ids; make "
            "a copy ([list(b) for b in blocks]) so that changing one never "
            "changes the other.",
            _relabelled(lambda out, ex, n: out["input_ids"]),
        ),
    ]
    diagnoses += [
        (
            f"group_texts made blocks of {size} tokens whatever the "
            "block_size: use the block_size argument, not a fixed number.",
            _fixed_block(size),
        )
        for size in range(2, 17)
    ]
    return diagnoses


def check_group_texts(group_texts) -> None:
    """``group_texts(examples, block_size)``: concatenate each column, cut
    into blocks, drop the rest, add labels.
    """
    compare_with_reference(
        group_texts,
        pretraining.group_texts,
        _group_cases(),
        name="group_texts",
        same=_same_groups,
        diagnoses=_group_diagnoses(),
        validate=validator(_validate_groups),
        hint="Concatenate every column, cut it into blocks of block_size, "
        "drop the remainder and add labels, a copy of the input_ids blocks.",
    )
    passed("group_texts")


# ------------------------------------------------------------------------------
# top-k / top-p
# ------------------------------------------------------------------------------


def reference_probs(logits, top_k=0, top_p=1.0) -> torch.Tensor:
    """transformers' top-k then top-p warpers (the order ``generate``
    uses), then a softmax.
    """
    from transformers import TopKLogitsWarper, TopPLogitsWarper

    dummy = torch.zeros((logits.shape[0], 1), dtype=torch.long)
    out = logits.clone()
    if top_k > 0:
        out = TopKLogitsWarper(top_k=top_k)(dummy, out)
    if top_p < 1.0:
        out = TopPLogitsWarper(top_p=top_p)(dummy, out)
    return out.softmax(-1)


_reference_probs = reference_probs  # the name the tests knew


def _same_probs(expected, got) -> bool:
    """The same distribution; a softmax over <= 60 float32 logits: a few u
    relative.
    """
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        return False
    return torch.allclose(
        got.detach().double(),
        expected.double(),
        atol=1e-6,
        rtol=1e-5,
        equal_nan=True,
    )


def _validate_probs(out, logits, top_k=0, top_p=1.0) -> None:
    """Name a result that is not one distribution per row."""
    where = _where(logits, top_k, top_p)
    if not isinstance(out, torch.Tensor):
        fail(
            f"filter_distribution returned a {type(out).__name__}; return a "
            "torch tensor of probabilities."
        )
    if tuple(out.shape) != tuple(logits.shape):
        fail(
            f"filter_distribution returned shape {tuple(out.shape)} for "
            f"logits of shape {tuple(logits.shape)}: return one probability "
            "per token, the same shape as logits."
        )
    out = out.detach().double()
    sums = out.nan_to_num(0.0).sum(-1)
    if torch.isnan(out).all(-1).any() or (sums.abs() < 1e-9).any():
        fail(
            f"filter_distribution removed every token {where}: always keep "
            "at least the most probable token, even when its probability "
            "alone is above top_p."
        )
    if (
        not torch.isfinite(out).all()
        or (out < -1e-9).any()
        or (out > 1 + 1e-9).any()
    ):
        fail(
            f"filter_distribution returned values outside [0, 1] {where}: "
            "return probabilities, i.e. apply softmax to the filtered logits "
            "(-inf where a token is removed)."
        )
    if not torch.allclose(sums, torch.ones_like(sums), atol=1e-5):
        fail(
            "filter_distribution's probabilities are not renormalised (they "
            f"sum to {[round(s, 4) for s in sums.tolist()]}) {where}: after "
            "removing tokens, divide the kept probabilities by their sum (or "
            "softmax the filtered logits)."
        )


def _where(logits, top_k, top_p) -> str:
    shown = [round(v, 3) for v in logits[0].tolist()[:8]]
    more = "..." if logits.shape[-1] > 8 else ""
    return (
        f"(top_k={top_k}, top_p={top_p}, logits of shape "
        f"{tuple(logits.shape)}, first row {shown}{more})"
    )


def _top_k_crash_named(student):
    """A crash when top_k exceeds the vocabulary, named as such."""

    @functools.wraps(student)
    def wrapper(logits, top_k=0, top_p=1.0):
        try:
            return student(logits, top_k=top_k, top_p=top_p)
        except (NotImplementedError, CheckFailed):
            raise
        except Exception as exc:
            if top_k <= logits.shape[-1]:
                raise
            fail(
                f"filter_distribution crashed with top_k={top_k} on a "
                f"vocabulary of {logits.shape[-1]} tokens ({exc}): top-k "
                "keeps at most the whole vocabulary, so use "
                "min(top_k, logits.shape[-1])." + student_line(exc)
            )

    return wrapper


def _filter_cases() -> list[Case]:
    """Fixed cases for each known mistake, then seeded random rows."""
    fixed = [
        ([[2.0, 1.0, 0.5, 0.0, -1.0, -2.0, 0.2, 1.5]], 0, 0.8, "top-p only"),
        ([[3.0, 2.0, 2.0, 2.0, 1.0, 0.0, -1.0]], 2, 1.0, "ties at the k-th"),
        ([[5.0, 1.0, 0.5, 0.0, -1.0]], 0, 0.3, "the top token alone > p"),
        ([[1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]], 6, 0.5, ""),
        ([[1.0, 3.0, 2.0, 0.5]], 10, 1.0, "top_k larger than V"),
        ([[1.0, 3.0, 2.0, 0.5]], 4, 0.7, "top_k equal to V"),
        ([[0.3, -0.2, 2.5]], 1, 1.0, "top_k=1"),
        ([[0.7]], 1, 0.5, "a vocabulary of one token"),
        ([[4.0, 1.0, 0.0, 3.0]], 0, 1.0, "no filter"),
        ([[300.0, 0.0, -500.0, 299.0]], 0, 0.9, "large logits"),
    ]
    cases = [
        Case(
            f"logits={rows}, top_k={k}, top_p={p}"
            + (f" ({why})" if why else ""),
            (torch.tensor(rows),),
            {"top_k": k, "top_p": p},
        )
        for rows, k, p, why in fixed
    ]
    gen = torch.Generator().manual_seed(0)
    rng = random.Random(0)
    for i in range(14):
        rows, vocab = rng.randint(1, 4), rng.randint(2, 60)
        top_k = rng.choice([0, 0, 1, rng.randint(1, vocab), vocab + 3])
        top_p = rng.choice([1.0, 0.0, rng.uniform(0.05, 0.99)])
        if i % 3 == 2:  # whole numbers: ties everywhere, so top-k only
            logits = torch.randint(-3, 4, (rows, vocab), generator=gen).float()
            top_p = 1.0
        else:
            logits = torch.randn(rows, vocab, generator=gen) * rng.choice(
                [0.5, 2.0, 8.0]
            )
        cases.append(
            Case(
                f"random logits {i} of shape {(rows, vocab)}, "
                f"top_k={top_k}, top_p={top_p:.3g}",
                (logits,),
                {"top_k": top_k, "top_p": top_p},
            )
        )
    return cases


def _masked(logits, keep):
    return logits.masked_fill(~keep, -math.inf)


def _filtered(exact_k=False, rule="right", p_first=False):
    """A filter with one known mistake (see :func:`_filter_diagnoses`)."""

    def probs(logits, top_k=0, top_p=1.0):
        filtered = logits.clone()
        V = logits.shape[-1]
        if top_k > 0 and exact_k:
            idx = logits.topk(min(top_k, V), dim=-1).indices
            keep = torch.zeros_like(logits, dtype=torch.bool)
            filtered = _masked(logits, keep.scatter(-1, idx, True))
        elif top_k > 0:
            kth = logits.topk(min(top_k, V), dim=-1).values[..., -1:]
            filtered = logits.masked_fill(logits < kth, -math.inf)
        if top_p < 1.0:
            base = (logits if p_first else filtered).softmax(-1)
            filtered = _masked(filtered, _top_p_keep(base, top_p, rule))
        return filtered.softmax(-1)

    return probs


def _top_p_keep(probs, top_p, rule):
    descending = rule != "ascending"
    sp, order = probs.sort(-1, descending=descending)
    if rule in ("ascending", "one_too_few"):
        keep_sorted = sp.cumsum(-1) <= top_p
    else:
        keep_sorted = (sp.cumsum(-1) - sp) < top_p
        keep_sorted[..., 0] = True
    return torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)


def _filter_diagnoses():
    return [
        (
            "your top-p keeps the smallest tokens: sort the probabilities in "
            "DEcreasing order (descending=True) before the cumulative sum; "
            "the most probable token is always kept.",
            _filtered(rule="ascending"),
        ),
        (
            "top-k ties: keep every token whose logit equals the k-th "
            "largest, as transformers does (remove only logits < the k-th "
            "largest value), instead of exactly k indices.",
            _filtered(exact_k=True),
        ),
        (
            "filter_distribution keeps one token too few: keep the token "
            "whose probability makes the cumulative sum cross top_p (keep "
            "while the mass BEFORE a token is < top_p).",
            _filtered(rule="one_too_few"),
        ),
        (
            "filter_distribution applies top-p to the unfiltered "
            "distribution: apply top-k first, then top-p to the renormalised "
            "top-k distribution (the order `generate` uses).",
            _filtered(p_first=True),
        ),
    ]


def check_filter_distribution(filter_distribution) -> None:
    """``filter_distribution(logits, top_k=0, top_p=1.0)`` -> the
    renormalised distribution, shape of ``logits``.
    """
    compare_with_reference(
        _top_k_crash_named(filter_distribution),
        reference_probs,
        _filter_cases(),
        name="filter_distribution",
        same=_same_probs,
        diagnoses=_filter_diagnoses(),
        validate=validator(_validate_probs),
        hint="Apply top-k (remove logits below the k-th largest), then top-p "
        "on what is left (keep the most probable tokens until their mass "
        "reaches top_p), and return the softmax of the filtered logits.",
    )
    passed("filter_distribution")
