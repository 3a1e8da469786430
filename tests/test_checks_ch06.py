"""The chapter 6 checkers: the solutions pass, stubs fail, and every wrong
answer in the lists below is rejected with its diagnosis (tests/mutants.py).
"""

import math

import pytest
import torch
from mutants import Wrong, assert_rejects
from solutions import ch06_pretraining as sol

from course_utils.checks import ch06
from course_utils.errors import CheckFailed


def stub(*args, **kwargs):
    raise NotImplementedError


GENERIC = "gives a different result on"

# ---------------------------------------------------------------- group_texts


def test_group_texts_solution_passes(capsys):
    ch06.check_group_texts(sol.group_texts)
    assert "all checks passed" in capsys.readouterr().out


def test_group_texts_stub():
    with pytest.raises(CheckFailed, match="not written yet"):
        ch06.check_group_texts(stub)


def _changed(change):
    """The solution, then ``change(out, examples, block_size)``."""

    def group_texts(examples, block_size):
        out = sol.group_texts(examples, block_size)
        change(out, examples, block_size)
        return out

    return group_texts


def _two_columns(examples, block_size):
    """input_ids and attention_mask hard-coded: other columns are lost."""
    return sol.group_texts(
        {k: examples[k] for k in ("input_ids", "attention_mask")}, block_size
    )


def _drop_last_full_block(examples, block_size):
    cat = {k: sum(v, []) for k, v in examples.items()}
    total = len(cat["input_ids"]) // block_size * block_size
    out = {
        k: [s[i : i + block_size] for i in range(0, total - 1, block_size)][:-1]
        for k, s in cat.items()
    }
    out["labels"] = [list(b) for b in out["input_ids"]]
    return out


def _blocks_one_longer(examples, block_size):
    return sol.group_texts(examples, block_size + 1)


def _ungrouped_labels(out, examples, block_size):
    out["labels"] = [list(s) for s in examples["input_ids"]]


GROUP_WRONG = [
    Wrong("cut each article on its own", ch06._per_example, "on its own"),
    Wrong("keep the short remainder", ch06._keep_short, "short last block"),
    Wrong(
        "labels shifted inside the block",
        _changed(
            lambda o, e, n: o.update(labels=[b[1:] for b in o["input_ids"]])
        ),
        "shifts the labels by hand",
    ),
    Wrong(
        "labels shifted along the text",
        ch06._relabelled(ch06._shifted_from_text),
        "shifts the labels by hand",
    ),
    Wrong(
        "attention_mask dropped",
        _changed(lambda o, e, n: o.pop("attention_mask")),
        "dropped the attention_mask",
    ),
    Wrong(
        "attention_mask left ungrouped",
        ch06._mask_untouched,
        "did not group attention_mask",
    ),
    Wrong(
        "no labels",
        _changed(lambda o, e, n: o.pop("labels")),
        "returned no 'labels'",
    ),
    Wrong(
        "labels are the input_ids lists themselves",
        _changed(lambda o, e, n: o.update(labels=o["input_ids"])),
        "share the very same lists",
    ),
    Wrong("block size hard-coded", ch06._fixed_block(4), "block_size argument"),
    Wrong("only two columns grouped", _two_columns, r"no \['token_type_ids'\]"),
    Wrong("last full block lost", _drop_last_full_block, GENERIC),
    Wrong("blocks one token too long", _blocks_one_longer, GENERIC),
    Wrong("labels not grouped", _changed(_ungrouped_labels), GENERIC),
    Wrong("a list returned", lambda e, n: [e], "return a dict"),
    Wrong("nothing returned", lambda e, n: None, "returned None"),
]


def test_group_texts_rejects_wrong_answers():
    assert_rejects(ch06.check_group_texts, GROUP_WRONG)


def test_group_texts_matches_pretraining_module():
    from course_utils import pretraining

    examples = {
        "input_ids": [[1, 2, 3], [4, 5, 6, 7, 8]],
        "attention_mask": [[1, 1, 1], [1, 1, 1, 1, 1]],
    }
    assert sol.group_texts(examples, 3) == pretraining.group_texts(examples, 3)


# -------------------------------------------------------- filter_distribution


def test_filter_distribution_solution_passes(capsys):
    ch06.check_filter_distribution(sol.filter_distribution)
    assert "all checks passed" in capsys.readouterr().out


def test_filter_distribution_stub():
    with pytest.raises(CheckFailed, match="not written yet"):
        ch06.check_filter_distribution(stub)


def _topk(logits, top_k, clamp=lambda k, V: min(k, V), strict=False):
    if top_k > 0:
        k = clamp(top_k, logits.shape[-1])
        kth = logits.topk(k, dim=-1).values[..., -1:]
        drop = logits <= kth if strict else logits < kth
        if strict:  # keep the k-th itself out, but never the top token
            drop &= logits < logits.max(-1, keepdim=True).values
        logits = logits.masked_fill(drop, -math.inf)
    return logits


def _top_p(filtered, top_p, always_top=True):
    if top_p < 1.0:
        sp, order = filtered.softmax(-1).sort(-1, descending=True)
        keep = (sp.cumsum(-1) - sp) < top_p
        if always_top:
            keep[..., 0] = True
        keep = torch.zeros_like(keep).scatter(-1, order, keep)
        filtered = filtered.masked_fill(~keep, -math.inf)
    return filtered


def _variant(**topk_kwargs):
    def f(logits, top_k=0, top_p=1.0):
        return _top_p(_topk(logits, top_k, **topk_kwargs), top_p).softmax(-1)

    return f


def _not_renormalised(logits, top_k=0, top_p=1.0):
    kept = torch.isfinite(sol.filter_distribution(logits, top_k, top_p).log())
    return logits.softmax(-1) * kept


def _no_top_token_rule(logits, top_k=0, top_p=1.0):
    return _top_p(_topk(logits, top_k), top_p, always_top=False).softmax(-1)


def _zero_k_means_none(logits, top_k=0, top_p=1.0):
    if top_k == 0:
        return torch.zeros_like(logits)
    return sol.filter_distribution(logits, top_k, top_p)


FILTER_WRONG = [
    Wrong(
        "top-p sorted ascending",
        ch06._filtered(rule="ascending"),
        "keeps the smallest tokens",
    ),
    Wrong("exactly k tokens on ties", ch06._filtered(exact_k=True), "ties"),
    Wrong(
        "top-p stops one token early",
        ch06._filtered(rule="one_too_few"),
        "removed every token|one token too few",
    ),
    Wrong(
        "top-p on the unfiltered distribution",
        ch06._filtered(p_first=True),
        "unfiltered distribution",
    ),
    Wrong("no min(top_k, V)", _variant(clamp=lambda k, V: k), r"min\(top_k"),
    Wrong(
        "min(top_k, V - 1)",
        _variant(clamp=lambda k, V: max(1, min(k, V - 1))),
        GENERIC,
    ),
    Wrong("the k-th logit removed too", _variant(strict=True), GENERIC),
    Wrong("not renormalised", _not_renormalised, "not renormalised"),
    Wrong(
        "top token dropped when p is small", _no_top_token_rule, "every token"
    ),
    Wrong("top_k=0 means keep none", _zero_k_means_none, "every token"),
    Wrong(
        "filtered logits returned",
        lambda logits, top_k=0, top_p=1.0: _top_p(_topk(logits, top_k), top_p),
        r"outside \[0, 1\]",
    ),
    Wrong(
        "softmax over the batch axis",
        lambda logits, top_k=0, top_p=1.0: _top_p(
            _topk(logits, top_k), top_p
        ).softmax(0),
        r"removed every token|not renormalised|outside \[0, 1\]",
    ),
    Wrong(
        "top_p ignored",
        lambda logits, top_k=0, top_p=1.0: _topk(logits, top_k).softmax(-1),
        GENERIC,
    ),
    Wrong(
        "top_k ignored",
        lambda logits, top_k=0, top_p=1.0: _top_p(logits, top_p).softmax(-1),
        GENERIC,
    ),
    Wrong(
        "first row only",
        lambda logits, top_k=0, top_p=1.0: sol.filter_distribution(
            logits, top_k, top_p
        )[0],
        "returned shape",
    ),
    Wrong(
        "a list returned",
        lambda logits, top_k=0, top_p=1.0: logits.softmax(-1).tolist(),
        "return a torch tensor",
    ),
]


def test_filter_distribution_rejects_wrong_answers():
    assert_rejects(ch06.check_filter_distribution, FILTER_WRONG)


def test_one_too_few_named_when_the_top_token_is_below_p():
    # where the top token alone is below p, the off-by-one keeps one token
    # too few
    wrong = ch06._filtered(rule="one_too_few")
    logits = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0, -2.0, 0.2, 1.5]])
    ref = ch06.reference_probs(logits, 0, 0.8)
    assert (wrong(logits, 0, 0.8) > 0).sum() == (ref > 0).sum() - 1


def test_top_k_above_the_vocabulary_is_checked():
    # issue 16: top-k without min(k, V) crashed only on inputs never tried
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.5]])
    expected = logits.softmax(-1)
    assert torch.allclose(ch06.reference_probs(logits, 10), expected)
    assert torch.allclose(sol.filter_distribution(logits, 10), expected)
