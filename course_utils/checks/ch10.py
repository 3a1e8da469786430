"""Checkers for the chapter 10 exercises (exercises/ch10_outlook.ipynb).

``check_weat_effect_size`` and ``check_gradient_x_input`` compare the
student's function with a reference on fixed and on generated inputs
(embeddings that are not unit vectors, lists of different sizes down to one
word; sequences of one token, right and left padding, every class) and name
a mistake only when that mistake, written as a function, gives the
student's output on every input.

``check_permutation_p_value`` cannot compare values with a reference: the
right answer is random. It requires instead that the function (1) gives the
same p-value for two generators of the same seed and different ones for
different seeds, (2) returns (1 + count) / (1 + n_permutations) with a whole
count (so that n_permutations is checked exactly, not by luck), and (3) gives
counts that a binomial distribution with the exact share of splits (every
split enumerated) makes plausible, on every input. A mistake is named when
its own exact distribution explains every result.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import torch

from . import (
    Case,
    call_student,
    compare_with_reference,
    fail,
    passed,
    same_result,
)
from .ch08a import screened

# ------------------------------------------------------------------------------
# WEAT effect size
# ------------------------------------------------------------------------------


def _unit(M) -> np.ndarray:
    M = np.asarray(M, dtype=np.float64)
    return M / np.linalg.norm(M, axis=1, keepdims=True)


def _associations(W, A, B, cosine=True, mean=True, unit_w=True):
    """s(w, A, B) for every row of W; the switches are the mistakes."""
    if cosine:
        W, A, B = (
            (_unit(W) if unit_w else np.asarray(W, float)),
            _unit(A),
            _unit(B),
        )
    else:
        W, A, B = (np.asarray(M, dtype=np.float64) for M in (W, A, B))
    reduce = np.mean if mean else np.sum
    return reduce(W @ A.T, axis=1) - reduce(W @ B.T, axis=1)


def _effect(spread="both", sign=1, numerator=np.mean, **assoc):
    """An effect size with its parts replaceable: ``spread`` the
    denominator, ``numerator`` the reduction over X and over Y."""

    def d(X, Y, A, B):
        sx, sy = (
            _associations(X, A, B, **assoc),
            _associations(Y, A, B, **assoc),
        )
        diff = sign * (numerator(sx) - numerator(sy))
        # one-word lists: ddof=1 gives nan, with a warning (warnings.warn,
        # which errstate does not cover) the student need not see
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return float(diff / _SPREADS[spread](sx, sy))

    return d


def _pooled_within(sx, sy):
    n_x, n_y = len(sx), len(sy)
    within = (n_x - 1) * sx.var(ddof=1) + (n_y - 1) * sy.var(ddof=1)
    return np.sqrt(within / (n_x + n_y - 2))


_SPREADS = {
    "both": lambda sx, sy: np.concatenate([sx, sy]).std(ddof=1),
    "both ddof 0": lambda sx, sy: np.concatenate([sx, sy]).std(ddof=0),
    "X": lambda sx, sy: sx.std(ddof=1),
    "X ddof 0": lambda sx, sy: sx.std(ddof=0),
    "within": _pooled_within,
    "none": lambda sx, sy: 1.0,
}

_reference_effect = _effect()

_EFFECT_DIAGNOSES = [
    (
        "the sign is flipped: d is positive when X is closer to A (and Y to "
        "B). Compute mean s(x) - mean s(y), with s(w) = mean cos(w, A) - "
        "mean cos(w, B).",
        _effect(sign=-1),
    ),
    (
        "you used dot products, but these embeddings are not unit vectors: "
        "use the cosine similarity (divide each row by its norm first).",
        _effect(cosine=False),
    ),
    (
        "you normalised A and B but not the target words X and Y: a cosine "
        "divides by both lengths, so scale every row of X and Y to length 1 "
        "too.",
        _effect(unit_w=False),
    ),
    (
        "you divided by the population standard deviation (ddof=0); the "
        "chapter's effect size uses the sample standard deviation, "
        "np.std(..., ddof=1).",
        _effect(spread="both ddof 0"),
    ),
    (
        "the denominator is the standard deviation of s(w) over ALL target "
        "words, X and Y together, not over X alone.",
        _effect(spread="X"),
    ),
    (
        "the denominator is the standard deviation of s(w) over ALL target "
        "words, X and Y together (with ddof=1), not over X alone.",
        _effect(spread="X ddof 0"),
    ),
    (
        "you used Cohen's pooled within-group standard deviation; WEAT "
        "divides by the standard deviation over all target words X and Y "
        "together (ddof=1).",
        _effect(spread="within"),
    ),
    (
        "you returned the difference of the mean associations; divide it by "
        "the standard deviation of s(w) over all target words.",
        _effect(spread="none"),
    ),
    (
        "s(w, A, B) uses the MEAN cosine with A minus the MEAN cosine with "
        "B; with lists of different sizes, sums are not comparable.",
        _effect(mean=False),
    ),
    (
        "the numerator is the difference of the MEAN associations of X and "
        "of Y (the test statistic uses sums; the effect size uses means).",
        _effect(numerator=np.sum),
    ),
]


def _effect_inputs():
    """(X, Y, A, B): near their attribute direction or not, of random
    lengths (cosines differ from dot products), lists of 1 to 7 words."""
    rng = np.random.default_rng(0)
    dim = 12
    directions = rng.normal(size=(2, dim))

    def group(direction, n, spread, d=dim):
        vectors = directions[direction][:d] + spread * rng.normal(size=(n, d))
        return vectors * rng.uniform(0.3, 4.0, size=(n, 1))

    # X near A, Y near B, lists of four different sizes: a clear effect
    yield group(0, 5, 1.0), group(1, 7, 1.0), group(0, 4, 1.0), group(1, 6, 1.0)
    # no structure at all: a small effect of either sign
    yield tuple(
        rng.normal(size=(n, dim)) * s
        for n, s in ((6, 2), (4, 1), (3, 1), (5, 1))
    )
    # one word in X, in A and in B
    yield group(0, 1, 1.0), group(1, 4, 1.0), group(0, 1, 0.5), group(1, 1, 0.5)
    for _ in range(12):
        d = int(rng.integers(2, 13))
        sizes = rng.integers(1, 8, size=4)
        sizes[:2] = np.maximum(sizes[:2], [1, 2])
        spread = float(rng.uniform(0.5, 3.0))
        yield tuple(
            group(k % 2, int(n), spread, d) for k, n in enumerate(sizes)
        )


def _effect_cases() -> list[Case]:
    return [
        Case(
            f"X, Y, A, B of {len(X)}, {len(Y)}, {len(A)} and {len(B)} words "
            f"in {X.shape[1]} dimensions (input {k})",
            (X, Y, A, B),
        )
        for k, (X, Y, A, B) in enumerate(_effect_inputs())
    ]


def _one_number(result, *args) -> float:
    """The student's result as a float, or one sentence about its type."""
    if isinstance(result, (str, bytes, list, tuple, dict)):
        fail(
            f"your function returned a {type(result).__name__}; return one "
            "number (a float)."
        )
    try:
        return float(result)
    except (TypeError, ValueError):
        fail(
            f"your function returned {type(result).__name__} {result!r:.60}; "
            "return one number (a float)."
        )


def _same_effect(expected, got) -> bool:
    # atol: d near 0 (input 1, d = 0.013) from a float32 student is 1.5e-7
    # off; the mistakes differ by more than 5e-4
    return same_result(expected, got, atol=1e-5, rtol=1e-5)


def check_weat_effect_size(weat_effect_size) -> None:
    """``weat_effect_size(X, Y, A, B)``: the WEAT effect size for embedding
    matrices [n, dim] (not normalised).
    """
    compare_with_reference(
        screened(weat_effect_size, _one_number),
        _reference_effect,
        _effect_cases(),
        name="weat_effect_size",
        diagnoses=_EFFECT_DIAGNOSES,
        same=_same_effect,
    )
    passed("weat_effect_size")


# ------------------------------------------------------------------------------
# Permutation p-value
# ------------------------------------------------------------------------------

# scores are multiples of 1/8: every mean is exact, so a shuffle that gives
# the observed split back gives exactly the observed delta (ties are ties)
_FIRST_SMALLEST = ([1.0, 2.0], [3.0, 4.0, 5.0, 6.0, 7.0])  # exact p = 1
_SEPARATED = ([6.0, 7.0, 8.0, 9.0, 10.0, 11.0], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
_TOP_TWO = ([8.0, 9.0], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
# three against nine (default_rng(0) rounded to 1/8): one-sided 0.091,
# two-sided 0.186, "delta <= observed" 0.923
_UNEQUAL = (
    [0.625, 0.375, 1.125],
    [0.125, -0.5, 0.375, 1.25, 1.0, -0.75, -1.25, -0.625, 0.0],
)


def _p_cases() -> list[tuple[str, tuple, int, int]]:
    """(label, (x, y), n_permutations, seed). The last two groups are
    repeated with the same seeds (reproducibility) and vary the seed."""
    cases = [
        ("x = [1, 2] below every y (exact p = 1)", _FIRST_SMALLEST, n, s)
        for n, s in ((1, 0), (5, 1), (12, 2), (200, 3))
    ]
    cases += [
        ("two groups of six, every x above every y", _SEPARATED, 300, 4),
        ("x = [8, 9] above eight y values", _TOP_TWO, 2000, 5),
    ]
    unequal = "three x against nine y (exact p = 0.091)"
    cases += [(unequal, _UNEQUAL, n, 6 + n) for n in (1, 2, 6, 40)]
    cases += [(unequal, _UNEQUAL, 3000, 20)]
    cases += [(unequal, _UNEQUAL, 60, seed) for seed in range(30, 36)]
    return cases


_REPEATED = slice(-7, None)  # the cases run a second time, same seeds
_SEEDS_VARY = slice(-6, None)  # one input, six seeds


def _split_deltas(x, y, n_first=None) -> tuple[np.ndarray, float]:
    """The mean difference of every split of x + y into n_first values
    against the rest, and the observed difference."""
    pooled = np.concatenate([x, y])
    n_first = n_first or len(x)
    chosen = np.array(list(itertools.combinations(range(len(pooled)), n_first)))
    mask = np.zeros((len(chosen), len(pooled)), dtype=bool)
    np.put_along_axis(mask, chosen, True, axis=1)
    first = (mask * pooled).sum(1) / n_first
    rest = (~mask * pooled).sum(1) / (len(pooled) - n_first)
    return first - rest, float(np.mean(x) - np.mean(y))


def _share(x, y, rule, n_first=None) -> float:
    """The exact share of splits that a p-value rule counts."""
    deltas, observed = _split_deltas(np.asarray(x), np.asarray(y), n_first)
    return float(np.mean(rule(deltas, observed)))


def _at_least(d, o):
    return d >= o


class _Model:
    """How a p-value function behaves: the exact share ``q`` of random
    splits it counts, the number of shuffles, and p from the count."""

    def __init__(self, rule=_at_least, halves=False, extra=0, plus_one=True):
        self.rule, self.halves = rule, halves
        self.extra, self.plus_one = extra, plus_one

    def explains(self, x, y, n, p) -> bool:
        """Whether p is this model's p for some whole count that a binomial
        (draws, q) makes plausible (tail probability >= 1e-7)."""
        draws = n + self.extra
        count = p * (n + 1) - 1 if self.plus_one else p * n
        if draws < 0 or abs(count - round(count)) > 1e-6 * (n + 1):
            return False
        count = round(count)
        n_first = (len(x) + len(y)) // 2 if self.halves else None
        q = _share(x, y, self.rule, n_first)
        return 0 <= count <= draws and _binomial_tail(count, draws, q) >= 1e-7


def _binomial_tail(c: int, n: int, q: float) -> float:
    """min(P(C <= c), P(C >= c)) for C ~ Binomial(n, q)."""
    if q <= 0 or q >= 1:
        return 1.0 if c == (0 if q <= 0 else n) else 0.0

    def pmf(k):
        log = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        return math.exp(log + k * math.log(q) + (n - k) * math.log1p(-q))

    below = sum(pmf(k) for k in range(0, c + 1))
    above = sum(pmf(k) for k in range(c, n + 1))
    return min(below, above)


_REFERENCE_MODEL = _Model()

_P_DIAGNOSES = [
    (
        "you returned count / n_permutations: count the observed split too, "
        "p = (1 + count) / (1 + n_permutations). No finite number of "
        "permutations can show p = 0.",
        _Model(plus_one=False),
    ),
    (
        "you counted the permutations with a delta at most the observed one "
        "(so when every x is larger than every y, p is close to 1): count "
        "those with delta >= observed, delta = mean(x) - mean(y).",
        _Model(rule=lambda d, o: d <= o),
    ),
    (
        "you returned the two-sided p-value (absolute values): the "
        "hypothesis names a direction, so count only permutations with "
        "delta >= observed, without absolute values.",
        _Model(rule=lambda d, o: np.abs(d) >= abs(o)),
    ),
    (
        "you counted the permutations with delta > observed: count delta >= "
        "observed (ties count; the observed split itself is one of them).",
        _Model(rule=lambda d, o: d > o),
    ),
    (
        "the random splits must keep the sizes of the groups: the first "
        "len(x) values of the shuffled pool against the others, not two "
        "halves.",
        _Model(halves=True),
    ),
    (
        "you shuffled n_permutations + 1 times (check the range of your "
        "loop): shuffle exactly n_permutations times.",
        _Model(extra=1),
    ),
    (
        "you shuffled n_permutations - 1 times (check the range of your "
        "loop): shuffle exactly n_permutations times.",
        _Model(extra=-1),
    ),
]


def _p_results(permutation_p_value) -> list[float]:
    """The student's p-value on every case, then again on the repeated
    ones (each call with a fresh generator of the case's seed)."""
    student = screened(permutation_p_value, _one_number)
    cases = _p_cases()
    results = []
    for _, (x, y), n, seed in cases + cases[_REPEATED]:
        p = call_student(
            student,
            np.array(x),
            np.array(y),
            n,
            np.random.default_rng(seed),
            name="permutation_p_value",
        )
        results.append(p)
    return results


def _explained(model, cases, results) -> bool:
    return all(
        model.explains(x, y, n, p)
        for (_, (x, y), n, _), p in zip(cases, results)
    )


def _p_generic(cases, results) -> None:
    """Fail with the first rule the results break: a probability, the same
    p for the same seed, a p that depends on the seed, the granularity
    1 / (1 + n_permutations), then the distribution."""
    first, second = results[: len(cases)], results[len(cases) :]
    for (label, _, n, _), p in zip(cases, first):
        if not 0 <= p <= 1:
            fail(
                f"permutation_p_value returned {p} on {label} with "
                f"n_permutations={n}, which is not a probability."
            )
    if first[_REPEATED] != second:
        fail(
            "permutation_p_value gives different p-values for two generators "
            "of the same seed, so results cannot be reproduced: draw every "
            "shuffle from the `rng` argument (rng.permutation), not from "
            "np.random or a generator of your own."
        )
    if len(set(first[_SEEDS_VARY])) == 1:
        fail(
            "permutation_p_value returns the same p-value whatever the "
            "generator: shuffle with the `rng` argument, not with a "
            "generator seeded inside your function."
        )
    for (label, _, n, _), p in zip(cases, first):
        count = p * (n + 1) - 1
        if abs(count - round(count)) > 1e-6 * (n + 1):
            fail(
                f"with n_permutations={n} (on {label}) you returned p = {p}, "
                f"which is not (1 + count) / {n + 1} for a whole count: "
                "shuffle exactly n_permutations times and divide by 1 + "
                "n_permutations."
            )
    for (label, (x, y), n, _), p in zip(cases, first):
        if not _REFERENCE_MODEL.explains(x, y, n, p):
            exact = _share(x, y, _at_least)
            fail(
                f"on {label} with n_permutations={n} you returned p = "
                f"{p:.4f}, too far from the exact {exact:.4f} (the share of "
                "all splits with delta >= observed) to come from random "
                "splits: shuffle the pooled scores (rng.permutation), take "
                "the first len(x) as x, and count the deltas >= observed."
            )


def check_permutation_p_value(permutation_p_value) -> None:
    """``permutation_p_value(x_scores, y_scores, n_permutations, rng)``:
    one-sided p of mean(x) - mean(y), reproducible with ``rng``.
    """
    cases = _p_cases()
    results = _p_results(permutation_p_value)
    first = results[: len(cases)]
    right = (
        _explained(_REFERENCE_MODEL, cases, first)
        and first[_REPEATED] == results[len(cases) :]
        and len(set(first[_SEEDS_VARY])) > 1
    )
    if not right:
        for message, model in _P_DIAGNOSES:
            if _explained(model, cases, first):
                fail(message)
        _p_generic(cases, results)
    passed("permutation_p_value")


# ------------------------------------------------------------------------------
# Gradient x input
# ------------------------------------------------------------------------------


def _tiny_classifier():
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=60,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
        num_labels=3,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        initializer_range=0.2,
    )
    with torch.random.fork_rng():  # leave the student's own seed alone
        torch.manual_seed(0)
        return BertForSequenceClassification(config).eval()


def _saliency(
    score=lambda logits, target: logits[0, target],
    combine=lambda grad, emb: (grad * emb).sum(-1),
    use_mask=True,
    target_of=lambda model, ids, mask, target: target,
):
    """Gradient x input with its parts replaceable (for the mistakes):
    ``score`` what is differentiated, ``combine`` the gradient and the
    embeddings into one score per token, ``use_mask`` the attention mask
    passed, ``target_of`` the class explained."""

    def scores(model, input_ids, attention_mask, target):
        target = target_of(model, input_ids, attention_mask, target)
        emb = model.get_input_embeddings()(input_ids).detach()
        emb.requires_grad_(True)
        mask = attention_mask if use_mask else None
        logits = model(inputs_embeds=emb, attention_mask=mask).logits
        (grad,) = torch.autograd.grad(score(logits, target), emb)
        return combine(grad[0], emb.detach()[0]).detach()

    return scores


def _layer_output(model, input_ids, attention_mask, target):
    """Gradient x input taken at the output of the whole embedding layer
    (positions, token types and LayerNorm included)."""
    captured = {}

    def keep(module, inputs, output):
        output.retain_grad()
        captured["h"] = output

    handle = model.bert.embeddings.register_forward_hook(keep)
    try:
        logits = model(input_ids=input_ids, attention_mask=attention_mask)
        logits.logits[0, target].backward()
    finally:
        handle.remove()
    h = captured["h"]
    return (h.grad[0] * h.detach()[0]).sum(-1)


def _predicted(model, input_ids, attention_mask, target):
    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=attention_mask)
    return int(logits.logits.argmax())


_reference_saliency = _saliency()

_SALIENCY_DIAGNOSES = [
    (
        "these are gradient norms (the saliency of Simonyan et al.); "
        "multiply the gradient by the embedding and sum over the hidden "
        "dimension.",
        _saliency(combine=lambda g, e: g.norm(dim=-1)),
    ),
    (
        "you took absolute values; gradient x input keeps its sign "
        "(negative tokens push away from the class).",
        _saliency(combine=lambda g, e: (g * e).sum(-1).abs()),
    ),
    (
        "you differentiated the probability of the class; use its logit "
        "(before the softmax).",
        _saliency(score=lambda z, t: z.softmax(-1)[0, t]),
    ),
    (
        "you differentiated the log-probability of the class; use its logit "
        "(before the log-softmax).",
        _saliency(score=lambda z, t: z.log_softmax(-1)[0, t]),
    ),
    (
        "you differentiated the sum of all logits; differentiate the logit "
        "of `target` alone, logits[0, target].",
        _saliency(score=lambda z, t: z.sum()),
    ),
    (
        "you summed the gradient alone; multiply it by the input embedding "
        "first.",
        _saliency(combine=lambda g, e: g.sum(-1)),
    ),
    (
        "these are the scores of the predicted class; differentiate the "
        "logit of `target`, the class asked for.",
        _saliency(target_of=_predicted),
    ),
    (
        "you ran the model without the attention mask, so padding tokens "
        "took part: pass attention_mask=attention_mask with inputs_embeds.",
        _saliency(use_mask=False),
    ),
    (
        "you used the output of the embedding layer (positions, token types "
        "and LayerNorm included); use the token embeddings, "
        "model.get_input_embeddings()(input_ids), and pass them with "
        "inputs_embeds.",
        _layer_output,
    ),
]


def _saliency_cases() -> list[Case]:
    """One input at a time ([1, T]): no padding, right and left padding,
    one token, every class as the target."""
    model = _tiny_classifier()
    g = torch.Generator().manual_seed(1)
    shapes = [  # (T, padding, side, target)
        (9, 0, "right", 2),
        (12, 4, "right", 0),
        (10, 3, "left", 1),
        (1, 0, "right", 0),
        (2, 1, "right", 1),
        (16, 7, "left", 2),
        (6, 0, "right", 1),
    ]
    cases = []
    for T, pad, side, target in shapes:
        ids = torch.randint(5, 60, (1, T), generator=g)
        ones = [1] * (T - pad)
        mask = ones + [0] * pad if side == "right" else [0] * pad + ones
        label = (
            f"{T} tokens, {pad} of them padding on the {side}, target {target}"
        )
        cases.append(Case(label, (model, ids, torch.tensor([mask]), target)))
    return cases


def _as_scores(result, model, input_ids, attention_mask, target):
    """The student's scores as a float tensor [T], or one sentence about
    the type or the shape."""
    if not isinstance(result, torch.Tensor):
        try:
            result = torch.as_tensor(np.asarray(result))
        except Exception:
            fail(
                f"gradient_x_input returned a {type(result).__name__}; "
                "return a tensor of shape [T]."
            )
    got = result.detach().float()
    T = input_ids.shape[1]
    if got.dim() >= 2 and got.shape[0] == 1:  # a batch dimension of 1
        got = got[0]
    if got.dim() == 2 and got.shape == (T, model.config.hidden_size):
        fail(
            f"Your result has shape {tuple(got.shape)}: sum the products over "
            f"the hidden dimension, so that each of the {T} tokens gets one "
            "score."
        )
    if got.shape != (T,):
        fail(
            f"Expected one score per token, shape ({T},); got shape "
            f"{tuple(got.shape)}."
        )
    return got


def _close(expected, got) -> bool:
    # a backward pass (CONTRIBUTING.md): 1e-4 relative to the largest score,
    # so small scores keep an atol
    a, b = torch.as_tensor(got).double(), torch.as_tensor(expected).double()
    return a.shape == b.shape and bool(
        (a - b).abs().max() <= 1e-4 * b.abs().max() + 1e-7
    )


def check_gradient_x_input(gradient_x_input) -> None:
    """``gradient_x_input(model, input_ids, attention_mask, target)``: one
    score per token, shape [T].
    """
    compare_with_reference(
        screened(gradient_x_input, _as_scores),
        _reference_saliency,
        _saliency_cases(),
        name="gradient_x_input",
        diagnoses=_SALIENCY_DIAGNOSES,
        same=_close,
    )
    passed("gradient_x_input")
