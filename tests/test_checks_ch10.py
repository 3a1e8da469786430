"""The chapter 10 checkers: the solutions pass, stubs say "not written yet",
and every wrong answer in the lists below is rejected with its diagnosis
(the mutation score printed at the end of the run).
"""

import warnings

import numpy as np
import pytest
import torch
from mutants import Wrong, assert_rejects
from solutions import ch10_outlook as sol

from course_utils.checks import ch10
from course_utils.errors import CheckFailed


def stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize(
    "checker",
    [
        ch10.check_weat_effect_size,
        ch10.check_permutation_p_value,
        ch10.check_gradient_x_input,
    ],
)
def test_a_stub_is_not_written_yet(checker):
    with pytest.raises(CheckFailed, match="is not written yet"):
        checker(stub)


# ---------------------------------------------------------------- effect size


def _associations(W, A, B, normalise=True, mean=True, targets=True):
    W, A, B = (np.asarray(M, dtype=float) for M in (W, A, B))
    if normalise:
        A, B = (M / np.linalg.norm(M, axis=1, keepdims=True) for M in (A, B))
        if targets:
            W = W / np.linalg.norm(W, axis=1, keepdims=True)
    reduce = np.mean if mean else np.sum
    return reduce(W @ A.T, axis=1) - reduce(W @ B.T, axis=1)


def _effect(spread=lambda sx, sy: np.concatenate([sx, sy]).std(ddof=1), **kw):
    """The effect size with the associations or the spread changed."""

    def d(X, Y, A, B):
        sx, sy = _associations(X, A, B, **kw), _associations(Y, A, B, **kw)
        # a mutant's spread of one word is nan (ddof=1): the wrong answer
        # the checker must reject, not a warning for the test log
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return (sx.mean() - sy.mean()) / spread(sx, sy)

    return d


def _float32(X, Y, A, B):
    return sol.weat_effect_size(*(np.float32(M) for M in (X, Y, A, B)))


def _memorised(X, Y, A, B):
    """Right on the old checker's two inputs (X of 5 or 6 words), 0.5
    elsewhere."""
    if len(X) in (5, 6) and X.shape[1] == 12:
        return sol.weat_effect_size(X, Y, A, B)
    return 0.5


def test_effect_size_solution_passes(capsys):
    ch10.check_weat_effect_size(sol.weat_effect_size)
    assert "all checks passed" in capsys.readouterr().out


def test_effect_size_in_float32_passes(capsys):
    ch10.check_weat_effect_size(_float32)
    assert "all checks passed" in capsys.readouterr().out


EFFECT_WRONG = [
    Wrong(
        "sign flipped",
        lambda X, Y, A, B: -sol.weat_effect_size(X, Y, A, B),
        "sign is flipped",
    ),
    Wrong(
        "X and Y swapped",
        lambda X, Y, A, B: sol.weat_effect_size(Y, X, A, B),
        "sign is flipped",
    ),
    Wrong("dot products", _effect(normalise=False), "not unit vectors"),
    Wrong(
        "targets not normalised",
        _effect(targets=False),
        "not the target words",
    ),
    Wrong(
        "population std",
        _effect(lambda sx, sy: np.concatenate([sx, sy]).std()),
        r"ddof=0",
    ),
    Wrong(
        "std of X",
        _effect(lambda sx, sy: sx.std(ddof=1)),
        "not over X alone",
    ),
    Wrong(
        "no division",
        lambda X, Y, A, B: (
            _associations(X, A, B).mean() - _associations(Y, A, B).mean()
        ),
        "divide it by the standard deviation",
    ),
    Wrong("sums in s", _effect(mean=False), "MEAN cosine"),
    Wrong(
        "A and B swapped",
        lambda X, Y, A, B: sol.weat_effect_size(X, Y, B, A),
        "sign is flipped",
    ),
    Wrong("a constant", lambda X, Y, A, B: 0.5, "different result on"),
    Wrong("hard-coded for the old inputs", _memorised, "different result on"),
    Wrong("a list", lambda X, Y, A, B: [0.5], "return one number"),
    Wrong("no return", lambda X, Y, A, B: None, "return"),
    Wrong("stub", stub, "not written yet"),
]


def test_effect_size_rejects_every_wrong_answer():
    assert_rejects(ch10.check_weat_effect_size, EFFECT_WRONG)


# ------------------------------------------------------ permutation p-value


def _deltas(x, y, n, rng, sizes=None):
    pooled = np.concatenate([x, y])
    n_x = sizes or len(x)
    shuffled = rng.permuted(np.tile(pooled, (n, 1)), axis=1)
    deltas = shuffled[:, :n_x].mean(1) - shuffled[:, n_x:].mean(1)
    return deltas, x.mean() - y.mean()


def _vectorised(x, y, n, rng):
    deltas, observed = _deltas(x, y, n, rng)
    return (1 + np.sum(deltas >= observed)) / (1 + n)


def _no_plus_one(x, y, n, rng):
    deltas, observed = _deltas(x, y, n, rng)
    return np.mean(deltas >= observed)


def _two_sided(x, y, n, rng):
    deltas, observed = _deltas(x, y, n, rng)
    return (1 + np.sum(np.abs(deltas) >= abs(observed))) / (1 + n)


def _wrong_direction(x, y, n, rng):
    deltas, observed = _deltas(x, y, n, rng)
    return (1 + np.sum(deltas <= observed)) / (1 + n)


def _strict(x, y, n, rng):
    deltas, observed = _deltas(x, y, n, rng)
    return (1 + np.sum(deltas > observed)) / (1 + n)


def _halves(x, y, n, rng):
    half = (len(x) + len(y)) // 2
    deltas, observed = _deltas(x, y, n, rng, sizes=half)
    return (1 + np.sum(deltas >= observed)) / (1 + n)


def _global_generator(x, y, n, rng):
    """Ignores `rng`: np.random's global state (the issue's example)."""
    return sol.permutation_p_value(x, y, n, np.random.default_rng())


def _own_seed(x, y, n, rng):
    """Ignores `rng`, reproducibly: a generator seeded inside."""
    return sol.permutation_p_value(x, y, n, np.random.default_rng(0))


def _fixed_count(x, y, n, rng):
    """Ignores n_permutations: always 1000 shuffles."""
    return sol.permutation_p_value(x, y, 1000, rng)


def _loop(x, y, n, rng, shuffles):
    pooled, n_x = np.concatenate([x, y]), len(x)
    count = 0
    for _ in range(shuffles):
        shuffled = rng.permutation(pooled)
        count += shuffled[:n_x].mean() - shuffled[n_x:].mean() >= (
            x.mean() - y.mean()
        )
    return (1 + count) / (1 + n)


def _with_replacement(x, y, n, rng):
    pooled, n_x = np.concatenate([x, y]), len(x)
    count = 0
    for _ in range(n):
        sample = rng.choice(pooled, size=len(pooled), replace=True)
        count += sample[:n_x].mean() - sample[n_x:].mean() >= (
            x.mean() - y.mean()
        )
    return (1 + count) / (1 + n)


def _exact(x, y, n, rng):
    """Enumerates every split: right in the limit, but not what was asked
    and independent of the generator."""
    deltas, observed = ch10._split_deltas(x, y)
    return float(np.mean(deltas >= observed - 1e-12))


def test_permutation_solution_passes(capsys):
    ch10.check_permutation_p_value(sol.permutation_p_value)
    assert "all checks passed" in capsys.readouterr().out


def test_vectorised_permutation_passes():
    ch10.check_permutation_p_value(_vectorised)


def test_shuffle_in_place_passes():
    """rng.shuffle on a copy draws differently from rng.permutation and is
    just as right."""

    def shuffled_copy(x, y, n, rng):
        pooled, count = np.concatenate([x, y]), 0
        for _ in range(n):
            rng.shuffle(pooled)
            count += pooled[: len(x)].mean() - pooled[len(x) :].mean() >= (
                x.mean() - y.mean()
            )
        return (1 + count) / (1 + n)

    ch10.check_permutation_p_value(shuffled_copy)


PERMUTATION_WRONG = [
    Wrong("no plus one", _no_plus_one, r"count / n_permutations"),
    Wrong("two-sided", _two_sided, "absolute values"),
    Wrong("wrong direction", _wrong_direction, "at most the observed"),
    Wrong("strict >", _strict, r"delta > observed"),
    Wrong("two halves", _halves, "keep the sizes"),
    Wrong(
        "n_permutations + 1 shuffles",
        lambda x, y, n, rng: _loop(x, y, n, rng, n + 1),
        r"n_permutations \+ 1 times",
    ),
    Wrong(
        "n_permutations - 1 shuffles",
        lambda x, y, n, rng: _loop(x, y, n, rng, n - 1),
        "n_permutations - 1 times",
    ),
    Wrong("ignores rng (global state)", _global_generator, "same seed"),
    Wrong("ignores rng (own seed)", _own_seed, "whatever the generator"),
    Wrong("ignores n_permutations", _fixed_count, "whole count"),
    Wrong("with replacement", _with_replacement, "too far from the exact"),
    Wrong("exact enumeration", _exact, "whatever the generator"),
    Wrong("above 1", lambda x, y, n, rng: 1.5, "not a probability"),
    Wrong("a string", lambda x, y, n, rng: "0.05", "return one number"),
    Wrong("stub", stub, "not written yet"),
]


def test_permutation_rejects_every_wrong_answer():
    assert_rejects(ch10.check_permutation_p_value, PERMUTATION_WRONG)


# ------------------------------------------------------------ gradient x input


def _gradient(model, input_ids, attention_mask, target, score=None, mask=True):
    score = score or (lambda logits, t: logits[0, t])
    embeddings = (
        model.get_input_embeddings()(input_ids).detach().requires_grad_(True)
    )
    logits = model(
        inputs_embeds=embeddings,
        attention_mask=attention_mask if mask else None,
    ).logits
    score(logits, target).backward()
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


def _no_mask(model, input_ids, attention_mask, target):
    grad, emb = _gradient(model, input_ids, attention_mask, target, mask=False)
    return (grad * emb).sum(-1)


def _absolute(model, input_ids, attention_mask, target):
    return sol.gradient_x_input(model, input_ids, attention_mask, target).abs()


def _predicted_class(model, input_ids, attention_mask, target):
    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=attention_mask)
    predicted = int(logits.logits.argmax())
    return sol.gradient_x_input(model, input_ids, attention_mask, predicted)


def _no_sum(model, input_ids, attention_mask, target):
    grad, emb = _gradient(model, input_ids, attention_mask, target)
    return grad * emb


def _gradient_alone(model, input_ids, attention_mask, target):
    return _gradient(model, input_ids, attention_mask, target)[0].sum(-1)


def _all_logits(model, input_ids, attention_mask, target):
    grad, emb = _gradient(
        model, input_ids, attention_mask, target, lambda z, t: z.sum()
    )
    return (grad * emb).sum(-1)


def _class_zero(model, input_ids, attention_mask, target):
    return sol.gradient_x_input(model, input_ids, attention_mask, 0)


def test_gradient_x_input_solution_passes(capsys):
    ch10.check_gradient_x_input(sol.gradient_x_input)
    assert "all checks passed" in capsys.readouterr().out


SALIENCY_WRONG = [
    Wrong("gradient norm", _gradient_norm, "gradient norms"),
    Wrong("probability", _probability, "probability of the class"),
    Wrong("absolute values", _absolute, "absolute values"),
    Wrong("predicted class", _predicted_class, "predicted class"),
    Wrong("no attention mask", _no_mask, "without the attention mask"),
    Wrong("sum of all logits", _all_logits, "sum of all logits"),
    Wrong("gradient alone", _gradient_alone, "summed the gradient alone"),
    Wrong("no sum over hidden", _no_sum, "sum the products over the hidden"),
    Wrong("always class 0", _class_zero, "different result on"),
    Wrong("stub", stub, "not written yet"),
]


def test_gradient_x_input_rejects_every_wrong_answer():
    assert_rejects(ch10.check_gradient_x_input, SALIENCY_WRONG)


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
