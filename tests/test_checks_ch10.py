"""The chapter 10 checkers: the solutions pass, each diagnosed mistake fails
with its message, stubs fail.
"""

import numpy as np
import pytest
import torch
from solutions import ch10_outlook as sol

from course_utils.checks import ch10
from course_utils.errors import CheckFailed


def stub(*args, **kwargs):
    raise NotImplementedError


# ---------------------------------------------------------------- effect size


def _associations(W, A, B, normalise=True, mean=True):
    W, A, B = (np.asarray(M, dtype=float) for M in (W, A, B))
    if normalise:
        W, A, B = (
            M / np.linalg.norm(M, axis=1, keepdims=True) for M in (W, A, B)
        )
    reduce = np.mean if mean else np.sum
    return reduce(W @ A.T, axis=1) - reduce(W @ B.T, axis=1)


def _dot_products(X, Y, A, B):
    sx, sy = (
        _associations(X, A, B, normalise=False),
        _associations(Y, A, B, normalise=False),
    )
    return (sx.mean() - sy.mean()) / np.concatenate([sx, sy]).std(ddof=1)


def _population_std(X, Y, A, B):
    sx, sy = _associations(X, A, B), _associations(Y, A, B)
    return (sx.mean() - sy.mean()) / np.concatenate([sx, sy]).std()


def _std_of_x(X, Y, A, B):
    sx, sy = _associations(X, A, B), _associations(Y, A, B)
    return (sx.mean() - sy.mean()) / sx.std(ddof=1)


def _no_division(X, Y, A, B):
    return _associations(X, A, B).mean() - _associations(Y, A, B).mean()


def _sums_in_association(X, Y, A, B):
    sx, sy = (
        _associations(X, A, B, mean=False),
        _associations(Y, A, B, mean=False),
    )
    return (sx.mean() - sy.mean()) / np.concatenate([sx, sy]).std(ddof=1)


def test_effect_size_solution_passes(capsys):
    ch10.check_weat_effect_size(sol.weat_effect_size)
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda X, Y, A, B: -sol.weat_effect_size(X, Y, A, B),
            "sign is flipped",
        ),
        (
            lambda X, Y, A, B: sol.weat_effect_size(Y, X, A, B),
            "sign is flipped",
        ),
        (_dot_products, "not unit vectors"),
        (_population_std, "ddof=1"),
        (_std_of_x, "not over X alone"),
        (_no_division, "divide it by the standard deviation"),
        (_sums_in_association, "MEAN cosine"),
        (lambda X, Y, A, B: 0.5, "Check each step"),
        (lambda X, Y, A, B: None, "return"),
        (stub, "not written yet"),
    ],
)
def test_effect_size_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch10.check_weat_effect_size(wrong)


# ---------------------------------------------------------------- permutation
# p-value


def _deltas(x, y, n, rng):
    pooled, n_x = np.concatenate([x, y]), len(x)
    shuffled = rng.permuted(np.tile(pooled, (n, 1)), axis=1)
    return shuffled[:, :n_x].mean(1) - shuffled[:, n_x:].mean(
        1
    ), x.mean() - y.mean()


def _no_plus_one(x, y, n, rng):
    deltas, observed = _deltas(x, y, n, rng)
    return np.mean(deltas >= observed)


def _two_sided(x, y, n, rng):
    deltas, observed = _deltas(x, y, n, rng)
    return (1 + np.sum(np.abs(deltas) >= abs(observed))) / (1 + n)


def _wrong_direction(x, y, n, rng):
    deltas, observed = _deltas(x, y, n, rng)
    return (1 + np.sum(deltas <= observed)) / (1 + n)


def _halves(x, y, n, rng):
    pooled = np.concatenate([x, y])
    half = len(pooled) // 2
    shuffled = rng.permuted(np.tile(pooled, (n, 1)), axis=1)
    deltas = shuffled[:, :half].mean(1) - shuffled[:, half:].mean(1)
    return (1 + np.sum(deltas >= x.mean() - y.mean())) / (1 + n)


def test_permutation_solution_passes(capsys):
    ch10.check_permutation_p_value(sol.permutation_p_value)
    assert "all checks passed" in capsys.readouterr().out


def _vectorised(x, y, n, rng):
    deltas, observed = _deltas(x, y, n, rng)
    return (1 + np.sum(deltas >= observed)) / (1 + n)


def test_vectorised_permutation_passes():
    ch10.check_permutation_p_value(_vectorised)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_no_plus_one, "p = 0"),
        (_two_sided, "absolute values"),
        (_wrong_direction, "at most the observed"),
        (_halves, "keep the sizes"),
        (lambda x, y, n, rng: 1.5, "not a probability"),
        (stub, "not written yet"),
    ],
)
def test_permutation_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch10.check_permutation_p_value(wrong)


# ---------------------------------------------------------------- gradient x
# input


def _gradient(
    model,
    input_ids,
    attention_mask,
    target,
    score=lambda logits, t: logits[0, t],
):
    embeddings = (
        model.get_input_embeddings()(input_ids).detach().requires_grad_(True)
    )
    score(
        model(inputs_embeds=embeddings, attention_mask=attention_mask).logits,
        target,
    ).backward()
    return embeddings.grad[0], embeddings.detach()[0]


def _gradient_norm(model, input_ids, attention_mask, target):
    return _gradient(model, input_ids, attention_mask, target)[0].norm(dim=-1)


def _probability(model, input_ids, attention_mask, target):
    grad, emb = _gradient(
        model,
        input_ids,
        attention_mask,
        target,
        lambda z, t: z.softmax(-1)[0, t],
    )
    return (grad * emb).sum(-1)


def _absolute(model, input_ids, attention_mask, target):
    return sol.gradient_x_input(model, input_ids, attention_mask, target).abs()


def _predicted_class(model, input_ids, attention_mask, target):
    with torch.no_grad():
        predicted = int(
            model(
                input_ids=input_ids, attention_mask=attention_mask
            ).logits.argmax()
        )
    other = (
        predicted
        if predicted != target
        else (target + 1) % model.config.num_labels
    )
    return sol.gradient_x_input(model, input_ids, attention_mask, other)


def _no_sum(model, input_ids, attention_mask, target):
    grad, emb = _gradient(model, input_ids, attention_mask, target)
    return grad * emb


def test_gradient_x_input_solution_passes(capsys):
    ch10.check_gradient_x_input(sol.gradient_x_input)
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_gradient_norm, "gradient norms"),
        (_probability, "logit"),
        (_absolute, "absolute values"),
        (_predicted_class, "scores for class"),
        (_no_sum, "sum the products over the hidden dimension"),
        (stub, "not written yet"),
    ],
)
def test_gradient_x_input_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch10.check_gradient_x_input(wrong)


# ------------------------------------------------- the FAQ's fine-tuning time


def test_faq_fine_tuning_time_follows_the_chapter_7_benchmark():
    """03_faq.md's "260 steps ... 307 s ... 873 steps ... about 17 minutes"
    is computed from the shipped chapter 7 benchmark figure."""
    import json
    import math
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    figures = json.loads(
        (root / "course_utils/course_data/benchmark_results.json").read_text()
    )
    run = figures["ch07/learning_curve/finetuned/n=27931/macro_f1"]
    steps = int(re.search(r"(\d+) steps", run["setting"]).group(1))
    batch = int(re.search(r"batch_size=(\d+)", run["setting"]).group(1))
    epoch_steps = math.ceil(27931 / batch)
    minutes = round(epoch_steps * run["seconds"] / steps / 60)
    faq = " ".join((root / "chapters/10_outlook/03_faq.md").read_text().split())
    assert f"ran {steps} steps" in faq and f"({run['seconds']:.0f} s)" in faq
    assert (
        f"one epoch of {epoch_steps} steps takes about {minutes} minutes" in faq
    )
    tfidf = figures["ch07/learning_curve/tfidf_lr/n=27931/macro_f1"]["value"]
    assert f"macro-F1 {run['value']:.3f} against {tfidf:.3f}" in faq
