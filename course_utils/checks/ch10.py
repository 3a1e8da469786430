"""Checkers for the chapter 10 exercises (exercises/ch10_outlook.ipynb).

``check_weat_effect_size`` compares the student's effect size with the reference
on embeddings that are not normalised and lists of different sizes;
``check_permutation_p_value`` compares the student's one-sided permutation
p-value with the exact one (every split enumerated); ``check_gradient_x_input``
compares the student's saliency scores with a reference on a small randomly
initialised BERT classifier. On a mistake each one computes what the typical
wrong answers give, to name it.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from . import call_student, fail, passed

# ------------------------------------------------------------------------------
# WEAT effect size
# ------------------------------------------------------------------------------


def _unit(M) -> np.ndarray:
    M = np.asarray(M, dtype=np.float64)
    return M / np.linalg.norm(M, axis=1, keepdims=True)


def _associations(
    W, A, B, cosine: bool = True, mean: bool = True
) -> np.ndarray:
    if cosine:
        W, A, B = _unit(W), _unit(A), _unit(B)
    else:
        W, A, B = (np.asarray(M, dtype=np.float64) for M in (W, A, B))
    if mean:
        return (W @ A.T).mean(axis=1) - (W @ B.T).mean(axis=1)
    return (W @ A.T).sum(axis=1) - (W @ B.T).sum(axis=1)


def _effect_size_variants(X, Y, A, B) -> dict:
    """The reference effect size and what the typical mistakes give, each with
    the message that names it.
    """
    sx, sy = _associations(X, A, B), _associations(Y, A, B)
    both = np.concatenate([sx, sy])
    diff = sx.mean() - sy.mean()
    n_x, n_y = len(sx), len(sy)
    pooled_within = np.sqrt(
        ((n_x - 1) * sx.var(ddof=1) + (n_y - 1) * sy.var(ddof=1))
        / (n_x + n_y - 2)
    )
    sxd, syd = (
        _associations(X, A, B, cosine=False),
        _associations(Y, A, B, cosine=False),
    )
    sxs, sys_ = (
        _associations(X, A, B, mean=False),
        _associations(Y, A, B, mean=False),
    )
    return {
        "reference": diff / both.std(ddof=1),
        "sign": (
            -diff / both.std(ddof=1),
            "the sign is flipped: d is positive when X is closer to A "
            "(and Y to B). Compute "
            "mean s(x) - mean s(y), with s(w) = mean cos(w, A) - mean "
            "cos(w, B).",
        ),
        "dot": (
            (sxd.mean() - syd.mean()) / np.concatenate([sxd, syd]).std(ddof=1),
            "you used dot products, but these embeddings are not unit "
            "vectors: use the cosine similarity "
            "(divide each row by its norm first).",
        ),
        "population std": (
            diff / both.std(ddof=0),
            "you divided by the population standard deviation "
            "(ddof=0); the chapter's effect size "
            "uses the sample standard deviation, np.std(..., "
            "ddof=1).",
        ),
        "std of X": (
            diff / sx.std(ddof=1),
            "the denominator is the standard deviation of s(w) over "
            "ALL target words, X and Y together, "
            "not over X alone.",
        ),
        "std of X (ddof 0)": (
            diff / sx.std(ddof=0),
            "the denominator is the standard deviation of "
            "s(w) over ALL target words, X and Y "
            "together (with ddof=1), not over X alone.",
        ),
        "pooled within": (
            diff / pooled_within,
            "you used Cohen's pooled within-group standard "
            "deviation; WEAT divides by the standard "
            "deviation over all target words X and Y together "
            "(ddof=1).",
        ),
        "no division": (
            diff,
            "you returned the difference of the mean associations; "
            "divide it by the standard deviation "
            "of s(w) over all target words.",
        ),
        "sums in s": (
            (sxs.mean() - sys_.mean())
            / np.concatenate([sxs, sys_]).std(ddof=1),
            "s(w, A, B) uses the MEAN cosine with A minus the MEAN "
            "cosine with B; with lists of "
            "different sizes, sums are not comparable.",
        ),
        "sums over targets": (
            (sx.sum() - sy.sum()) / both.std(ddof=1),
            "the numerator is the difference of the MEAN "
            "associations of X and of Y (the test "
            "statistic uses sums; the effect size uses "
            "means).",
        ),
    }


def _effect_size_cases():
    rng = np.random.default_rng(0)
    dim = 12
    directions = rng.normal(size=(2, dim))

    def group(direction, n, spread):
        vectors = directions[direction] + spread * rng.normal(size=(n, dim))
        # different lengths: cosines differ from dot products
        return vectors * rng.uniform(0.3, 4.0, size=(n, 1))

    # X near A, Y near B, lists of four different sizes: a clear positive effect
    yield group(0, 5, 1.0), group(1, 7, 1.0), group(0, 4, 1.0), group(1, 6, 1.0)
    # no structure at all: a small effect of either sign
    yield (
        rng.normal(size=(6, dim)) * 2,
        rng.normal(size=(4, dim)),
        rng.normal(size=(3, dim)),
        rng.normal(size=(5, dim)),
    )


def check_weat_effect_size(weat_effect_size) -> None:
    """``weat_effect_size(X, Y, A, B)``: the WEAT effect size for embedding
    matrices [n, dim] (not normalised).
    """
    for X, Y, A, B in _effect_size_cases():
        got = call_student(
            weat_effect_size,
            X.copy(),
            Y.copy(),
            A.copy(),
            B.copy(),
            name="weat_effect_size",
        )
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(
                f"weat_effect_size returned {type(got).__name__} {got!r}; "
                "return one number (a float)."
            )
        variants = _effect_size_variants(X, Y, A, B)
        true = variants.pop("reference")
        # atol: d is a difference of mean cosines over their spread; near 0
        # (second case, d = 0.013) a float32 student is 1.5e-7 off, more than
        # rtol allows; the mistakes differ by more than 5e-4
        if np.isclose(got, true, rtol=1e-5, atol=1e-5):
            continue
        for value, message in variants.values():
            if np.isclose(got, value, rtol=1e-5, atol=1e-5):
                fail(f"Expected d = {true:.4f}, got {got:.4f}: {message}")
        fail(
            f"Expected d = {true:.4f}, got {got:.4f}. Check each step: cosines "
            "of unit vectors, s(w) as the "
            "difference of two means, then (mean over X - mean over Y) / std "
            "over X and Y together (ddof=1)."
        )
    passed("weat_effect_size")


# ------------------------------------------------------------------------------
# Permutation p-value
# ------------------------------------------------------------------------------


def _exact_p(
    x, y, two_sided: bool = False, sizes: tuple[int, int] | None = None
) -> float:
    """Share of all splits of x + y into groups of len(x) and len(y) whose mean
    difference is >= the observed.

    ``two_sided`` compares absolute values; ``sizes`` splits into other group
    sizes (a typical mistake).
    """
    pooled = np.concatenate([x, y])
    observed = np.mean(x) - np.mean(y)
    n_first = sizes[0] if sizes else len(x)
    count = total = 0
    for chosen in itertools.combinations(range(len(pooled)), n_first):
        mask = np.zeros(len(pooled), dtype=bool)
        mask[list(chosen)] = True
        delta = pooled[mask].mean() - pooled[~mask].mean()
        count += (
            (abs(delta) >= abs(observed) - 1e-12)
            if two_sided
            else (delta >= observed - 1e-12)
        )
        total += 1
    return count / total


def check_permutation_p_value(permutation_p_value) -> None:
    """``permutation_p_value(x_scores, y_scores, n_permutations, rng)``:
    one-sided p of mean(x) - mean(y).
    """

    def call(x, y, n, seed):
        got = call_student(
            permutation_p_value,
            np.array(x, dtype=float),
            np.array(y, dtype=float),
            n,
            np.random.default_rng(seed),
            name="permutation_p_value",
        )
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(
                f"permutation_p_value returned {type(got).__name__} {got!r}; "
                "return one number (a float)."
            )
        if not 0 <= got <= 1:
            fail(
                f"permutation_p_value returned {got}, which is not a "
                "probability."
            )
        return got

    # completely separated groups
    high, low = np.linspace(1.0, 2.0, 10), np.linspace(-2.0, -1.0, 10)
    n = 2000
    p = call(high, low, n, 0)
    if p == 0:
        fail(
            "For completely separated groups you returned p = 0. No finite "
            "number of permutations can show that: "
            "count the observed split too, p = (1 + number of permutations "
            "with delta >= observed) / "
            "(1 + n_permutations)."
        )
    if p > 0.5:
        fail(
            f"When every x is larger than every y you returned p = {p:.3f}: "
            "you counted the permutations with a "
            "delta at most the observed one. Count those with delta >= "
            "observed (mean(x) - mean(y))."
        )
    if abs(p - 1 / (n + 1)) > 3 / (n + 1):
        fail(
            "When every x is larger than every y, almost no random split is "
            "as extreme, so p should be about "
            f"1 / (1 + {n}) = {1 / (n + 1):.5f}; you returned {p:.5f}."
        )
    p = call(low, high, n, 1)
    if p < 0.5:
        fail(
            f"When every x is SMALLER than every y you returned p = {p:.4f}; "
            "the one-sided p-value of "
            "mean(x) - mean(y) must then be close to 1. Do not take absolute "
            "values: the hypothesis names a "
            "direction, so count only permutations with delta >= observed."
        )

    rng = np.random.default_rng(3)
    # unequal sizes, exact p = 0.255
    x, y = rng.normal(0.6, 1.0, size=3), rng.normal(0.0, 1.0, size=11)
    exact = _exact_p(x, y)
    n = 20_000
    p = call(x, y, n, 2)
    if abs(p - exact) > 0.02:
        if abs(p - _exact_p(x, y, two_sided=True)) <= 0.02:
            fail(
                f"Expected p close to {exact:.3f} (exact, over all splits); "
                f"you returned {p:.3f}, the two-sided "
                "p-value. Count only permutations with delta >= observed, "
                "without absolute values."
            )
        if abs(p - _exact_p(x, y, sizes=(7, 7))) <= 0.02:
            fail(
                f"Expected p close to {exact:.3f}; you returned {p:.3f}. The "
                "random splits must keep the sizes of "
                f"the groups: the first len(x) = {len(x)} values of the "
                "shuffled pool against the other "
                f"{len(y)}, not two halves."
            )
        fail(
            f"Expected p close to {exact:.3f} (exact, over every split of the "
            f"{len(x) + len(y)} values into "
            f"groups of {len(x)} and {len(y)}); you returned {p:.3f}. Shuffle "
            "the pooled scores without "
            "replacement (rng.permutation), split them into the sizes of x "
            "and y, and count the deltas >= the "
            "observed one."
        )
    passed("permutation_p_value")


# ------------------------------------------------------------------------------
# Gradient x input
# ------------------------------------------------------------------------------


def _tiny_classifier():
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
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
    return BertForSequenceClassification(config).eval()


def _saliency_variants(model, input_ids, attention_mask, target) -> dict:
    """Reference gradient x input and what the typical mistakes give, each
    [T]."""

    def gradient(score_fn, embeddings):
        embeddings = embeddings.detach().requires_grad_(True)
        logits = model(
            inputs_embeds=embeddings, attention_mask=attention_mask
        ).logits
        (grad,) = torch.autograd.grad(score_fn(logits), embeddings)
        return grad[0], embeddings.detach()[0]

    words = model.get_input_embeddings()(input_ids)
    grad, emb = gradient(lambda z: z[0, target], words)
    reference = (grad * emb).sum(-1)
    grad_p, _ = gradient(lambda z: z.softmax(-1)[0, target], words)
    variants = {
        "reference": reference,
        "gradient norm": (
            (
                grad.norm(dim=-1),
                "these are gradient norms (the saliency of Simonyan et al.); "
                "multiply the gradient by the "
                "embedding and sum over the "
                "hidden "
                "dimension.",
            )
        ),
        "absolute": (
            reference.abs(),
            "you took absolute values; gradient x input keeps its sign "
            "(negative tokens "
            "push away from the class).",
        ),
        "probability": (
            (grad_p * emb).sum(-1),
            "you differentiated the probability of the class; use its logit "
            "(before the softmax).",
        ),
        "gradient sum": (
            grad.sum(-1),
            "you summed the gradient alone; multiply it by the input "
            "embedding first.",
        ),
    }
    for other in range(model.config.num_labels):
        if other != target:
            g, e = gradient(lambda z, o=other: z[0, o], words)
            variants[f"class {other}"] = (
                (g * e).sum(-1),
                f"these are the scores for class {other}: "
                "differentiate the "
                "logit of `target` "
                f"({target}).",
            )
    # the output of the whole embedding layer (word + position + token type,
    # LayerNorm) instead of the word rows
    captured = {}

    def keep(module, inputs, output):
        output.retain_grad()
        captured["h"] = output

    handle = model.bert.embeddings.register_forward_hook(keep)
    try:
        model(input_ids=input_ids, attention_mask=attention_mask).logits[
            0, target
        ].backward()
    finally:
        handle.remove()
    h = captured["h"]
    variants["layer output"] = (
        (h.grad[0] * h.detach()[0]).sum(-1),
        "you used the output of the embedding layer "
        "(positions, token types and LayerNorm "
        "included); use the token embeddings, "
        "model.get_input_embeddings()(input_ids), and "
        "pass them with inputs_embeds.",
    )
    model.zero_grad(set_to_none=True)
    return variants


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    # a backward pass (CONTRIBUTING.md): 1e-4 relative to the largest score, so
    # small scores keep an atol
    return a.shape == b.shape and bool(
        (a - b).abs().max() <= 1e-4 * b.abs().max() + 1e-7
    )


def check_gradient_x_input(gradient_x_input) -> None:
    """``gradient_x_input(model, input_ids, attention_mask, target)``: one score
    per token, shape [T].
    """
    model = _tiny_classifier()
    g = torch.Generator().manual_seed(1)
    cases = [
        (
            torch.randint(5, 60, (1, 9), generator=g),
            torch.ones(1, 9, dtype=torch.long),
            2,
        ),
        (
            torch.randint(5, 60, (1, 12), generator=g),
            torch.tensor([[1] * 8 + [0] * 4]),
            0,
        ),
    ]
    for input_ids, attention_mask, target in cases:
        got = call_student(
            gradient_x_input,
            model,
            input_ids.clone(),
            attention_mask.clone(),
            target,
            name="gradient_x_input",
        )
        if not isinstance(got, torch.Tensor):
            try:
                got = torch.as_tensor(np.asarray(got))
            except Exception:
                fail(
                    f"gradient_x_input returned a {type(got).__name__}; return "
                    "a tensor of shape [T]."
                )
        got = got.detach().float()
        T = input_ids.shape[1]
        # a batch dimension of 1 is fine
        if got.dim() >= 2 and got.shape[0] == 1:
            got = got[0]
        if got.dim() == 2 and got.shape == (T, model.config.hidden_size):
            fail(
                f"Your result has shape {tuple(got.shape)}: sum the products "
                "over the hidden dimension, so that "
                f"each of the {T} tokens gets one score."
            )
        if got.shape != (T,):
            fail(
                f"Expected one score per token, shape ({T},); got shape "
                f"{tuple(got.shape)}."
            )
        model.zero_grad(set_to_none=True)
        variants = _saliency_variants(model, input_ids, attention_mask, target)
        reference = variants.pop("reference")
        if _close(got, reference):
            continue
        for value, message in variants.values():
            if _close(got, value):
                fail(message)
        fail(
            "Your scores differ from gradient x input (largest difference "
            f"{float((got - reference).abs().max()):.3g}"
            "). Take the token embeddings "
            "model.get_input_embeddings()(input_ids), detach them and set "
            "requires_grad, run the model with inputs_embeds and the "
            "attention mask, backpropagate the logit of "
            "`target`, and sum grad * embedding over the hidden dimension."
        )
    passed("gradient_x_input")
