"""The chapter 6 checkers: the solutions pass, each diagnosed mistake fails with
its message, stubs fail."""

import math

import pytest
import torch
from solutions import ch06_pretraining as sol

from course_utils.checks import ch06
from course_utils.errors import CheckFailed


def stub(*args, **kwargs):
    raise NotImplementedError


# ---------------------------------------------------------------- group_texts


def test_group_texts_solution_passes(capsys):
    ch06.check_group_texts(sol.group_texts)
    assert "all checks passed" in capsys.readouterr().out


def _per_example(examples, block_size):
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
    cat = {k: sum(v, []) for k, v in examples.items()}
    out = {
        k: [s[i : i + block_size] for i in range(0, len(s), block_size)]
        for k, s in cat.items()
    }
    out["labels"] = [list(b) for b in out["input_ids"]]
    return out


def _shifted(examples, block_size):
    out = sol.group_texts(examples, block_size)
    out["labels"] = [b[1:] for b in out["input_ids"]]
    return out


def _no_mask(examples, block_size):
    out = sol.group_texts(examples, block_size)
    del out["attention_mask"]
    return out


def _mask_untouched(examples, block_size):
    out = sol.group_texts(examples, block_size)
    out["attention_mask"] = examples["attention_mask"]
    return out


def _no_labels(examples, block_size):
    out = sol.group_texts(examples, block_size)
    del out["labels"]
    return out


def _fixed_block(examples, block_size):
    return sol.group_texts(examples, 4)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_per_example, "cuts each example on its own"),
        (_keep_short, "keeps a short last block"),
        (_shifted, "shifts the labels by hand"),
        (_no_mask, "dropped the attention_mask"),
        (_mask_untouched, "did not group attention_mask"),
        (_no_labels, "returned no 'labels'"),
        (_fixed_block, "use the block_size argument"),
        (lambda examples, block_size: [examples], "return a dict"),
        (lambda examples, block_size: None, "returned None"),
    ],
)
def test_group_texts_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch06.check_group_texts(wrong)


def test_group_texts_stub():
    with pytest.raises(CheckFailed, match="not written yet"):
        ch06.check_group_texts(stub)


def test_group_texts_matches_pretraining_module():
    from course_utils import pretraining

    examples = {
        "input_ids": [[1, 2, 3], [4, 5, 6, 7, 8]],
        "attention_mask": [[1, 1, 1], [1, 1, 1, 1, 1]],
    }
    assert sol.group_texts(examples, 3) == pretraining.group_texts(examples, 3)


# ----------------------------------------------------------------
# filter_distribution


def test_filter_distribution_solution_passes(capsys):
    ch06.check_filter_distribution(sol.filter_distribution)
    assert "all checks passed" in capsys.readouterr().out


def _topk(logits, top_k):
    if top_k > 0:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    return logits


def _top_p_keep(probs, top_p, rule):
    sp, order = probs.sort(-1, descending=rule != "ascending")
    if rule == "ascending":
        keep_sorted = sp.cumsum(-1) <= top_p
    elif rule == "one_too_few":
        keep_sorted = sp.cumsum(-1) <= top_p
    else:
        keep_sorted = (sp.cumsum(-1) - sp) < top_p
    return torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)


def _variant(
    rule="right",
    renormalise=True,
    exact_k=False,
    p_first=False,
    as_logits=False,
    zero_k_means_none=False,
):
    def f(logits, top_k=0, top_p=1.0):
        if zero_k_means_none and top_k == 0:
            return torch.zeros_like(logits)
        if exact_k and top_k > 0:
            idx = logits.topk(top_k, dim=-1).indices
            keep = torch.zeros_like(logits, dtype=torch.bool).scatter(
                -1, idx, True
            )
            filtered = logits.masked_fill(~keep, -math.inf)
        else:
            filtered = _topk(logits, top_k)
        if top_p < 1.0:
            base = logits if p_first else filtered
            keep = _top_p_keep(base.softmax(-1), top_p, rule)
            filtered = filtered.masked_fill(~keep, -math.inf)
        if as_logits:
            return filtered
        if renormalise:
            return filtered.softmax(-1)
        return logits.softmax(-1) * torch.isfinite(filtered)

    return f


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_variant(rule="ascending"), "keeps the smallest tokens"),
        (_variant(renormalise=False), "not renormalised"),
        (_variant(rule="one_too_few"), "removed every token|one token too few"),
        (_variant(exact_k=True), "top-k ties"),
        (
            _variant(p_first=True),
            "applies top-p to the unfiltered distribution",
        ),
        (_variant(as_logits=True), "outside \\[0, 1\\]"),
        (
            _variant(zero_k_means_none=True),
            "removed every token|nothing should be filtered",
        ),
        (
            lambda logits, top_k=0, top_p=1.0: logits.softmax(-1)[0],
            "returned shape",
        ),
        (
            lambda logits, top_k=0, top_p=1.0: logits.softmax(-1).tolist(),
            "return a torch tensor",
        ),
    ],
)
def test_filter_distribution_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch06.check_filter_distribution(wrong)


def test_one_too_few_named_when_the_top_token_is_below_p():
    # on a case where the top token alone is below p, the off-by-one keeps one
    # token too few
    wrong = _variant(rule="one_too_few")
    logits = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0, -2.0, 0.2, 1.5]])
    ref = ch06._reference_probs(logits, 0, 0.8)
    assert (wrong(logits, 0, 0.8) > 0).sum() == (ref > 0).sum() - 1
    with pytest.raises(CheckFailed, match="one token too few"):
        ch06.check_filter_distribution(
            lambda lg, top_k=0, top_p=1.0: (
                sol.filter_distribution(lg, top_k, top_p)
                if top_p in (1.0, 0.3)
                else wrong(lg, top_k, top_p)
            )
        )


def test_filter_distribution_stub():
    with pytest.raises(CheckFailed, match="not written yet"):
        ch06.check_filter_distribution(stub)
