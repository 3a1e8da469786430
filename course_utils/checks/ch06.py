"""Checkers for the chapter 6 exercises (exercises/ch06_pretraining.ipynb).

``check_group_texts`` runs the student's ``group_texts`` on small batches and
compares the blocks with chapter 6's ``course_utils.pretraining.group_texts``;
``check_filter_distribution`` compares the student's top-k / top-p distribution
with transformers' own ``TopKLogitsWarper`` and ``TopPLogitsWarper``. On a
mistake each one compares the answer with what the typical wrong answers
produce, to name the mistake.
"""

from __future__ import annotations

import math

import torch

from course_utils import pretraining

from . import call_student, fail, passed

# ------------------------------------------------------------------------------
# ------------------
# group_texts
# ------------------------------------------------------------------------------
# ------------------


def _per_example_blocks(seqs, block_size):
    return [
        s[i : i + block_size]
        for s in seqs
        for i in range(0, len(s) // block_size * block_size, block_size)
    ]


def _as_lists(value):
    try:
        return [list(map(int, b)) for b in value]
    # noqa: BLE001 - anything that is not a list of lists of ints
    except Exception:
        return None


_GROUP_CASES = [
    (
        {
            "input_ids": [[1, 2, 3, 4, 5], [6, 7, 8, 9]],
            "attention_mask": [[1, 1, 0, 1, 1], [1, 0, 1, 1]],
        },
        3,
    ),
    (
        {
            "input_ids": [[11, 12], [13, 14, 15, 16, 17], [18, 19, 20]],
            "attention_mask": [[1, 0], [0, 1, 1, 0, 1], [1, 1, 0]],
        },
        4,
    ),
    (
        {
            "input_ids": [[21, 22, 23, 24, 25, 26, 27, 28]],
            "attention_mask": [[1, 1, 1, 1, 0, 0, 1, 1]],
        },
        4,
    ),
    ({"input_ids": [[31, 32], [33]], "attention_mask": [[1, 1], [1]]}, 5),
]


def check_group_texts(group_texts) -> None:
    """``group_texts(examples, block_size)``: concatenate each column, cut into
    blocks, drop the rest, add labels."""
    for examples, block_size in _GROUP_CASES:
        given = {k: [list(s) for s in v] for k, v in examples.items()}
        out = call_student(group_texts, given, block_size, name="group_texts")
        ref = pretraining.group_texts(examples, block_size)  # chapter 6's
        shown = f"examples={examples['input_ids']}, block_size={block_size}"
        if not isinstance(out, dict):
            fail(
                f"group_texts returned a {type(out).__name__}; return a dict "
                "of columns "
                "(input_ids, attention_mask, labels), each a list of blocks."
            )
        if "input_ids" not in out:
            fail(
                "group_texts returned no 'input_ids' column: return a dict "
                "with input_ids, attention_mask and labels."
            )
        ids = _as_lists(out["input_ids"])
        if ids is None:
            fail(
                "group_texts: 'input_ids' must be a list of blocks, each a "
                "list of token ids."
            )
        if ids != ref["input_ids"]:
            if ids == _per_example_blocks(examples["input_ids"], block_size):
                fail(
                    f"group_texts cuts each example on its own ({shown} gave "
                    f"{ids}): concatenate all the "
                    "examples of the batch first, then cut the long list into "
                    "blocks."
                )
            if (
                len(ids) == len(ref["input_ids"]) + 1
                and ids[:-1] == ref["input_ids"]
            ):
                fail(
                    f"group_texts keeps a short last block ({ids[-1]} with "
                    f"block_size={block_size}): drop the "
                    "remainder, total = len(concatenated) // block_size * "
                    "block_size."
                )
            if (
                len({len(b) for b in ids}) == 1
                and ids
                and len(ids[0]) != block_size
            ):
                fail(
                    f"group_texts made blocks of {len(ids[0])} tokens, but "
                    f"block_size={block_size}: "
                    "use the block_size argument, not a fixed number."
                )
            fail(
                f"group_texts({shown}) gave input_ids {ids}, expected "
                f"{ref['input_ids']}: concatenate, then cut "
                "into blocks of block_size and drop the remainder."
            )
        if "attention_mask" not in out:
            fail(
                "group_texts dropped the attention_mask column: group every "
                "column of the batch alongside "
                "input_ids (loop over examples.keys()), or the rows no longer "
                "line up."
            )
        mask = _as_lists(out["attention_mask"])
        if mask != ref["attention_mask"]:
            fail(
                "group_texts did not group attention_mask alongside "
                f"input_ids ({shown}: expected "
                f"{ref['attention_mask']}, got {out['attention_mask']}): "
                "apply the same concatenate-and-cut to "
                "every column."
            )
        if "labels" not in out:
            fail(
                "group_texts returned no 'labels': add labels, a copy of the "
                "input_ids blocks "
                "(the causal LM head shifts them itself)."
            )
        labels = _as_lists(out["labels"])
        if labels != ref["labels"]:
            flat = [t for s in examples["input_ids"] for t in s]
            shifted_concat = [
                flat[i + 1 : i + 1 + block_size]
                for i in range(
                    0, len(ref["input_ids"]) * block_size, block_size
                )
            ]
            if labels in (
                [b[1:] for b in ref["input_ids"]],
                shifted_concat,
                [b[1:] + [-100] for b in ref["input_ids"]],
            ):
                fail(
                    "group_texts shifts the labels by hand: make labels an "
                    "exact copy of input_ids; "
                    "GPT2LMHeadModel compares position t with token t+1 "
                    "itself, so shifting here shifts twice."
                )
            fail(
                "group_texts: labels should be a copy of input_ids "
                f"({ref['input_ids']}), got {out['labels']}."
            )
        extra = set(out) - {"input_ids", "attention_mask", "labels"}
        if extra:
            fail(
                f"group_texts returned extra columns {sorted(extra)}: return "
                "only the grouped columns and labels."
            )
        if out["labels"] is out["input_ids"] or any(
            a is b for a, b in zip(out["labels"], out["input_ids"])
        ):
            fail(
                "group_texts: labels share the very same lists as input_ids; "
                "make a copy "
                "([list(b) for b in blocks]) so that changing one never "
                "changes the other."
            )
    passed("group_texts")


# ------------------------------------------------------------------------------
# ------------------
# top-k / top-p
# ------------------------------------------------------------------------------
# ------------------


def _reference_probs(
    logits: torch.Tensor, top_k: int, top_p: float
) -> torch.Tensor:
    from transformers import TopKLogitsWarper, TopPLogitsWarper

    dummy = torch.zeros((logits.shape[0], 1), dtype=torch.long)
    out = logits.clone()
    if top_k > 0:
        out = TopKLogitsWarper(top_k=top_k)(dummy, out)
    if top_p < 1.0:
        out = TopPLogitsWarper(top_p=top_p)(dummy, out)
    return out.softmax(-1)


def _mask_probs(logits, keep):
    return logits.masked_fill(~keep, -math.inf).softmax(-1)


def _wrong_variants(logits, top_k, top_p):
    probs = logits.softmax(-1)
    V = logits.shape[-1]
    variants = {}
    # top-k by indices (ties broken arbitrarily): exactly k tokens
    if top_k > 0:
        idx = logits.topk(top_k, dim=-1).indices
        keep_k = torch.zeros_like(logits, dtype=torch.bool).scatter(
            -1, idx, True
        )
    else:
        keep_k = torch.ones_like(logits, dtype=torch.bool)
    after_k = logits.masked_fill(~keep_k, -math.inf)
    variants["topk_exact"] = after_k
    # top-p variants on the top-k distribution
    pk = after_k.softmax(-1)
    sp, order = pk.sort(-1, descending=True)
    before = sp.cumsum(-1) - sp

    def keep_from(sorted_keep):
        return torch.zeros_like(sorted_keep).scatter(-1, order, sorted_keep)

    variants["one_too_few"] = keep_from(sp.cumsum(-1) <= top_p) & keep_k
    asc, order_a = pk.sort(-1, descending=False)
    variants["ascending"] = torch.zeros_like(asc, dtype=torch.bool).scatter(
        -1, order_a, asc.cumsum(-1) <= top_p
    )
    # top-p computed on the original distribution, then intersected with top-k
    so, order_o = probs.sort(-1, descending=True)
    keep_p_orig = torch.zeros_like(so, dtype=torch.bool).scatter(
        -1, order_o, (so.cumsum(-1) - so) < top_p
    )
    variants["p_before_k"] = keep_p_orig & keep_k
    variants["correct_keep"] = keep_from(before < top_p)
    return variants, V


_FILTER_CASES = [
    # (logits rows, top_k, top_p)
    (torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0, -2.0, 0.2, 1.5]]), 0, 0.8),
    (
        torch.tensor([[3.0, 2.0, 2.0, 2.0, 1.0, 0.0, -1.0]]),
        2,
        1.0,
    ),  # ties at the k-th value
    (
        torch.tensor([[5.0, 1.0, 0.5, 0.0, -1.0]]),
        0,
        0.3,
    ),  # the top token alone has more than p
    (
        torch.tensor([[1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]]),
        6,
        0.5,
    ),
]


def _random_case():
    g = torch.Generator().manual_seed(6)
    return torch.randn(3, 50, generator=g) * 2, 10, 0.9


def check_filter_distribution(filter_distribution) -> None:
    """``filter_distribution(logits, top_k=0, top_p=1.0)`` -> the renormalised
    distribution, shape of ``logits``."""
    cases = list(_FILTER_CASES) + [
        _random_case(),
        (
            torch.randn(2, 30, generator=torch.Generator().manual_seed(1)),
            0,
            1.0,
        ),
    ]
    for logits, top_k, top_p in cases:
        out = call_student(
            filter_distribution,
            logits.clone(),
            top_k=top_k,
            top_p=top_p,
            name="filter_distribution",
        )
        if not isinstance(out, torch.Tensor):
            fail(
                f"filter_distribution returned a {type(out).__name__}; return "
                "a torch tensor of probabilities."
            )
        out = out.detach().to(torch.float64)
        ref = _reference_probs(logits, top_k, top_p).to(torch.float64)
        shown = [round(v, 3) for v in logits[0].tolist()[:8]]
        more = "..." if logits.shape[1] > 8 else ""
        where = f"(top_k={top_k}, top_p={top_p}, logits={shown}{more})"
        if out.shape != ref.shape:
            fail(
                f"filter_distribution returned shape {tuple(out.shape)} for "
                f"logits of shape {tuple(logits.shape)}: "
                "return one probability per token, the same shape as logits."
            )
        if torch.allclose(
            out, ref, atol=1e-6, rtol=1e-5
        ):  # a softmax over <= 50 float32 logits: a few u relative
            continue
        removed_all = (
            f"filter_distribution removed every token {where}: always keep at "
            "least the most "
            "probable token, even when its probability alone is above top_p."
        )
        if torch.isnan(out).any():
            fail(removed_all)
        if (
            torch.isinf(out).any()
            or (out < -1e-9).any()
            or (out > 1 + 1e-9).any()
        ):
            fail(
                f"filter_distribution returned values outside [0, 1] {where}: "
                "return probabilities, i.e. apply "
                "softmax to the filtered logits (-inf where a token is "
                "removed)."
            )
        if (out.sum(-1) < 1e-9).any():
            fail(removed_all)
        sums = out.sum(-1)
        kept_student = out > 0
        kept_ref = ref > 0
        if not torch.allclose(sums, torch.ones_like(sums), atol=1e-5):
            if torch.equal(kept_student, kept_ref):
                fail(
                    "filter_distribution's probabilities are not "
                    f"renormalised (they sum to {sums.tolist()}) "
                    f"{where}: after removing tokens, divide the kept "
                    "probabilities by their sum (or softmax "
                    "the filtered logits)."
                )
        if top_k == 0 and top_p == 1.0:
            fail(
                "with top_k=0 and top_p=1.0 nothing should be filtered: "
                "top_k=0 switches top-k off, and top_p=1.0 "
                "keeps the whole distribution (return softmax(logits))."
            )
        variants, _ = _wrong_variants(logits, top_k, top_p)
        argmax = logits.argmax(-1, keepdim=True)
        if not kept_student.gather(-1, argmax).all() or torch.equal(
            kept_student, variants["ascending"]
        ):
            fail(
                f"your top-p keeps the smallest tokens {where}: sort the "
                "probabilities in DEcreasing order "
                "(descending=True) before the cumulative sum; the most "
                "probable token is always kept."
            )
        if (
            top_k > 0
            and top_p == 1.0
            and torch.equal(kept_student, variants["topk_exact"] > -math.inf)
        ):
            fail(
                f"top-k ties {where}: keep every token whose logit equals the "
                "k-th largest, as transformers "
                "does (remove only logits < the k-th largest value), instead "
                "of exactly k indices."
            )
        if top_p < 1.0 and torch.equal(kept_student, variants["one_too_few"]):
            fail(
                f"filter_distribution keeps one token too few {where}: keep "
                "the token whose probability makes the "
                "cumulative sum cross top_p (keep while the mass BEFORE a "
                "token is < top_p)."
            )
        if (
            top_k > 0
            and top_p < 1.0
            and torch.equal(kept_student, variants["p_before_k"])
        ):
            fail(
                "filter_distribution applies top-p to the unfiltered "
                f"distribution {where}: apply top-k first, "
                "then top-p to the renormalised top-k distribution (the order "
                "`generate` uses)."
            )
        if torch.equal(kept_student, kept_ref):
            fail(
                "filter_distribution keeps the right tokens but their "
                f"probabilities are wrong {where}: "
                "renormalise the original probabilities of the kept tokens "
                "(softmax of the filtered logits)."
            )
        fail(
            "filter_distribution keeps tokens "
            f"{kept_student[0].nonzero().flatten().tolist()} {where}, "
            "expected "
            f"{kept_ref[0].nonzero().flatten().tolist()}: apply top-k, then "
            "keep the smallest set of most probable "
            "tokens whose probabilities reach top_p."
        )
    passed("filter_distribution")
