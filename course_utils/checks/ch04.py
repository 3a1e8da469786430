"""Checkers for the chapter 4 exercises (exercises/ch04_math.ipynb).

Each checker runs the student's function on small cases whose answers are
computed here independently (double loops, ``torch.nn.functional``, a tiny
``GPT2LMHeadModel``), and when the answer is wrong it compares it with what each
typical mistake would produce, to name the mistake.
"""

from __future__ import annotations

import math

import torch

from ..glove import glove_loss_dense, weighting
from . import call_student, fail, passed

# every exercise here is a short float32 chain (element-wise, or sums of <= 50
# terms): a few u; 1e-4 leaves room
# for another summation order, and the typical mistakes differ by percents
_RTOL, _ATOL = 1e-4, 1e-5


def _as_tensor(value, name: str, what: str) -> torch.Tensor:
    try:
        return torch.as_tensor(value).detach().to(torch.float64)
    except Exception:  # noqa: BLE001 - anything that is not array-like
        fail(
            f"{name} returned {type(value).__name__}; return {what} as a torch "
            "tensor."
        )


def _close(a: torch.Tensor, b) -> bool:
    b = torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(
        torch.allclose(a, b, rtol=_RTOL, atol=_ATOL, equal_nan=False)
    )


def _scalar(value, name: str, what: str) -> torch.Tensor:
    t = _as_tensor(value, name, what)
    if t.numel() != 1:
        fail(
            f"{name} returned a tensor of shape {tuple(t.shape)}; return "
            f"{what} as a single number "
            "(a 0-dim tensor): sum or average as the formula says."
        )
    return t.reshape(())


# ------------------------------------------------------------------------------
# GloVe weighting function
# ------------------------------------------------------------------------------


def _f_ref(x: torch.Tensor, x_max: float, alpha: float) -> torch.Tensor:
    """The chapter's weighting function, in float64."""
    return weighting(x.double(), x_max, alpha)


_F_CASES = [
    (
        torch.tensor(
            [0.0, 0.5, 1.0, 3.0, 10.0, 50.0, 99.0, 100.0, 150.0, 1000.0]
        ),
        100.0,
        0.75,
    ),
    (torch.tensor([0.0, 1.0, 2.5, 5.0, 9.0, 10.0, 12.0, 40.0]), 10.0, 0.5),
]


def _f_variants(x, x_max, alpha):
    ratio = x / x_max
    return {
        "uncapped": ratio**alpha,
        "no_alpha": torch.where(x < x_max, ratio, torch.ones_like(x)),
        "x_pow_alpha_over_xmax": torch.where(
            x < x_max, x**alpha / x_max, torch.ones_like(x)
        ),
        "inverse_alpha": torch.where(
            x < x_max, ratio ** (1 / alpha), torch.ones_like(x)
        ),
        "uncapped_no_alpha": ratio,
        "inverted_ratio": torch.where(
            x < x_max, (x_max / x.clamp(min=1e-12)) ** alpha, torch.ones_like(x)
        ),
    }


def _diagnose_f(out, x, x_max, alpha, name):
    v = _f_variants(x, x_max, alpha)
    if _close(out, v["uncapped"]) or _close(out, v["uncapped_no_alpha"]):
        fail(
            f"{name}: f is not capped at 1 for x >= x_max (f({x.max():g}) "
            f"should be 1 with x_max = {x_max:g}): "
            "return 1 wherever x >= x_max, e.g. with torch.where."
        )
    if _close(out, v["no_alpha"]):
        fail(
            f"{name}: alpha is not applied: below x_max, f(x) = (x / x_max) ** "
            "alpha."
        )
    if _close(out, v["x_pow_alpha_over_xmax"]) or _close(
        out, v["inverse_alpha"]
    ):
        fail(
            f"{name}: alpha applied wrongly: raise the ratio to the power "
            "alpha, (x / x_max) ** alpha "
            "(not x ** alpha / x_max, not ** (1 / alpha))."
        )
    if _close(out, v["inverted_ratio"]):
        fail(
            f"{name}: the ratio is upside down: use (x / x_max) ** alpha, "
            "which grows with x."
        )


def check_glove_weight(glove_weight) -> None:
    """``glove_weight(x, x_max=100.0, alpha=0.75)``: f(x) = (x / x_max) ** alpha
    below x_max, else 1.
    """
    name = "glove_weight"
    for k, (x, x_max, alpha) in enumerate(_F_CASES):
        out = call_student(
            glove_weight, x.clone(), x_max=x_max, alpha=alpha, name=name
        )
        out = _as_tensor(out, name, "one weight per count")
        if out.shape != x.shape:
            fail(
                f"{name} returned shape {tuple(out.shape)} for counts of shape "
                f"{tuple(x.shape)}: "
                "return one weight per count (apply f elementwise)."
            )
        expected = _f_ref(x.double(), x_max, alpha)
        if _close(out, expected):
            continue
        if torch.isnan(out).any():
            fail(
                f"{name} returned NaN for some counts: compute (x / x_max) ** "
                "alpha, which is 0 at x = 0."
            )
        if out[0] != 0:
            fail(
                f"{name}(0) = {out[0].item():g}, but f(0) must be 0 (pairs "
                "that never co-occur get no weight)."
            )
        _diagnose_f(out, x.double(), x_max, alpha, name)
        if k == 1 and _close(out, _f_ref(x.double(), 100.0, 0.75)):
            fail(
                f"{name} ignores its x_max and alpha arguments (it gave the "
                "x_max = 100, alpha = 3/4 values "
                "when called with x_max = 10, alpha = 0.5): use the "
                "parameters, not fixed numbers."
            )
        fail(
            f"{name} gives {[round(v, 4) for v in out.tolist()]} for x = "
            f"{x.tolist()} (x_max = {x_max:g}, "
            f"alpha = {alpha:g}), expected "
            f"{[round(v, 4) for v in expected.tolist()]}: "
            "f(x) = (x / x_max) ** alpha for x < x_max and 1 otherwise."
        )
    # default arguments: the paper's values
    x = _F_CASES[0][0]
    out = _as_tensor(
        call_student(glove_weight, x.clone(), name=name),
        name,
        "one weight per count",
    )
    if not _close(out, _f_ref(x.double(), 100.0, 0.75)):
        fail(
            f"{name}'s default arguments should be the paper's values, x_max = "
            "100 and alpha = 3/4."
        )
    passed("glove_weight")


# ------------------------------------------------------------------------------
# GloVe loss
# ------------------------------------------------------------------------------


def _glove_case(seed: int):
    gen = torch.Generator().manual_seed(seed)
    V, d = 6, 3
    W = torch.randn(V, d, generator=gen, dtype=torch.float64)
    W_ctx = torch.randn(V, d, generator=gen, dtype=torch.float64)
    b = torch.randn(V, generator=gen, dtype=torch.float64)
    b_ctx = torch.randn(V, generator=gen, dtype=torch.float64)
    X = torch.rand(V, V, generator=gen, dtype=torch.float64) * 30
    X[torch.rand(V, V, generator=gen) < 0.4] = (
        0.0  # zero entries: never co-occur
    )
    X[0, 1], X[1, 0], X[2, 2], X[3, 4] = (
        250.0,
        120.0,
        0.5,
        100.0,
    )  # some at or above x_max
    return W, W_ctx, b, b_ctx, X


def _loss_loop(
    W,
    W_ctx,
    b,
    b_ctx,
    X,
    x_max,
    alpha,
    *,
    use_log=True,
    biases=True,
    weight="f",
    ctx=True,
):
    total = 0.0
    V = X.shape[0]
    for i in range(V):
        for j in range(V):
            x = X[i, j].item()
            if x <= 0:
                continue
            other = W_ctx[j] if ctx else W[j]
            pred = float(W[i] @ other) + (
                (b[i] + b_ctx[j]).item() if biases else 0.0
            )
            target = math.log(x) if use_log else x
            if weight == "f":
                f = 1.0 if x >= x_max else (x / x_max) ** alpha
            elif weight == "uncapped":
                f = (x / x_max) ** alpha
            elif weight == "no_alpha":
                f = 1.0 if x >= x_max else x / x_max
            elif weight == "x_pow_alpha":
                f = 1.0 if x >= x_max else x**alpha / x_max
            else:  # "none"
                f = 1.0
            total += f * (pred - target) ** 2
    return total


def check_glove_loss(glove_loss) -> None:
    """``glove_loss(W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75)``: the GloVe
    objective over the non-zero X_ij.
    """
    name = "glove_loss"
    for seed, x_max, alpha in [(0, 100.0, 0.75), (1, 10.0, 0.5)]:
        W, W_ctx, b, b_ctx, X = _glove_case(seed)
        params = [p.clone().requires_grad_() for p in (W, W_ctx, b, b_ctx)]
        out = call_student(
            glove_loss, *params, X.clone(), x_max=x_max, alpha=alpha, name=name
        )
        if not isinstance(out, torch.Tensor) or (
            out.numel() == 1 and not out.requires_grad
        ):
            fail(
                f"{name} returned a tensor that autograd cannot differentiate: "
                "keep the computation in torch "
                "(no .item(), float() or numpy) so that the optimiser can "
                "train W, W_ctx, b and b_ctx."
            )
        value = _scalar(out, name, "the loss J")
        # the chapter's objective, in float64
        expected = glove_loss_dense(W, W_ctx, b, b_ctx, X, x_max, alpha).item()
        if math.isclose(value.item(), expected, rel_tol=1e-4, abs_tol=1e-6):
            continue
        if not torch.isfinite(value):
            fail(
                f"{name} is not finite ({value.item()}): sum only over the "
                "entries with X_ij > 0 "
                "(f(0) = 0, but log 0 = -inf and 0 * inf is NaN)."
            )
        n_nonzero = int((X > 0).sum())
        variants = [
            (
                "log",
                _loss_loop(W, W_ctx, b, b_ctx, X, x_max, alpha, use_log=False),
                "you used X instead of log X: the model fits w_i . w~_j + b_i "
                "+ b~_j to log X_ij.",
            ),
            (
                "bias",
                _loss_loop(W, W_ctx, b, b_ctx, X, x_max, alpha, biases=False),
                "biases missing: the prediction is w_i . w~_j + b_i + b~_j "
                "(the biases absorb log X_i and log X_j).",
            ),
            (
                "ctx",
                _loss_loop(W, W_ctx, b, b_ctx, X, x_max, alpha, ctx=False),
                "you used W for both words: the second word of the pair takes "
                "its context vector, W_ctx[j].",
            ),
            (
                "cap",
                _loss_loop(
                    W, W_ctx, b, b_ctx, X, x_max, alpha, weight="uncapped"
                ),
                "f is not capped at 1 for x >= x_max: the weight of a pair "
                "with X_ij >= x_max must be 1.",
            ),
            (
                "alpha",
                _loss_loop(
                    W, W_ctx, b, b_ctx, X, x_max, alpha, weight="no_alpha"
                ),
                "alpha applied wrongly (not at all): the weight below x_max is "
                "(X_ij / x_max) ** alpha.",
            ),
            (
                "alpha",
                _loss_loop(
                    W, W_ctx, b, b_ctx, X, x_max, alpha, weight="x_pow_alpha"
                ),
                "alpha applied wrongly: the weight below x_max is (X_ij / "
                "x_max) ** alpha, not X_ij ** alpha / x_max.",
            ),
            (
                "weight",
                _loss_loop(W, W_ctx, b, b_ctx, X, x_max, alpha, weight="none"),
                "the weighting f(X_ij) is missing: multiply each squared error "
                "by f(X_ij).",
            ),
            (
                "mean",
                expected / n_nonzero,
                "J is a sum over the non-zero entries, not a mean: drop the "
                "division.",
            ),
            (
                "mean_all",
                expected / X.numel(),
                "J is a sum over the non-zero entries, not a mean over all V * "
                "V entries.",
            ),
        ]
        if seed == 1:
            variants.append(
                (
                    "params",
                    _loss_loop(W, W_ctx, b, b_ctx, X, 100.0, 0.75),
                    "glove_loss ignores its x_max / alpha arguments: pass them "
                    "on to the weighting.",
                )
            )
        for _key, wrong, message in variants:
            if math.isclose(value.item(), wrong, rel_tol=1e-4, abs_tol=1e-6):
                fail(f"{name}: {message}")
        fail(
            f"{name} gives {value.item():.6g} on a 6-word test matrix, "
            f"expected {expected:.6g}: J = sum over "
            "X_ij > 0 of f(X_ij) * (w_i . w~_j + b_i + b~_j - log X_ij) ** 2."
        )
    passed("glove_loss")


# ------------------------------------------------------------------------------
# Cross-entropy from logits
# ------------------------------------------------------------------------------


def _ce_ref(logits: torch.Tensor, targets: torch.Tensor) -> float:
    total = 0.0
    for row, y in zip(logits.double().tolist(), targets.tolist()):
        m = max(row)
        log_z = m + math.log(sum(math.exp(v - m) for v in row))
        total += log_z - row[y]
    return total / len(targets)


def check_cross_entropy(cross_entropy_from_logits) -> None:
    """``cross_entropy_from_logits(logits, targets)``: mean of -log
    softmax(logits)[target], stable.
    """
    name = "cross_entropy_from_logits"
    gen = torch.Generator().manual_seed(0)
    logits = (
        torch.randn(4, 5, generator=gen) * 2
    )  # (batch, classes): not square, so the axis matters
    targets = torch.tensor([1, 0, 4, 2])
    out = call_student(
        cross_entropy_from_logits, logits.clone(), targets.clone(), name=name
    )
    value = _scalar(out, name, "the mean cross-entropy")
    expected = _ce_ref(logits, targets)
    if not math.isclose(value.item(), expected, rel_tol=1e-4, abs_tol=1e-6):
        rows = torch.arange(4)
        wrong_axis = -torch.log_softmax(logits.double(), dim=0)[rows, targets]
        p = torch.softmax(logits.double(), dim=-1)
        with torch.no_grad():
            log_of_logits = -torch.log(logits.double())[rows, targets]
        variants = [
            (
                wrong_axis.mean().item(),
                "softmax over the wrong axis: normalise over the classes "
                "(dim=-1), "
                "so that each row, not each column, sums to 1.",
            ),
            (
                wrong_axis.sum().item(),
                "softmax over the wrong axis: normalise over the classes "
                "(dim=-1), "
                "so that each row, not each column, sums to 1.",
            ),
            (
                log_of_logits.mean().item(),
                "you took the log of the logits: the logits are not "
                "probabilities; "
                "use log p_y = z_y - log sum_c exp(z_c).",
            ),
            (
                -expected,
                "wrong sign: the cross-entropy is -log p_y, a positive number.",
            ),
            (
                expected * len(targets),
                "average over the batch: return the mean, not the sum, of -log "
                "p_y.",
            ),
            (
                -torch.log(torch.softmax(p, dim=-1)[rows, targets])
                .mean()
                .item(),
                "you applied the softmax twice: the function takes logits and "
                "applies softmax once.",
            ),
            (
                (-p[rows, targets]).mean().item(),
                "take the log: the loss is -log p_y, not -p_y.",
            ),
        ]
        if torch.isnan(value):
            fail(
                f"{name} returned NaN on ordinary logits: did you take the log "
                "of the logits (some are "
                "negative)? Use log p_y = z_y - log sum_c exp(z_c)."
            )
        for wrong, message in variants:
            if math.isfinite(wrong) and math.isclose(
                value.item(), wrong, rel_tol=1e-4, abs_tol=1e-6
            ):
                fail(f"{name}: {message}")
        fail(
            f"{name} gives {value.item():.6g} on a (4, 5) batch, expected "
            f"{expected:.6g}: the mean over the "
            "batch of -z_y + log sum_c exp(z_c)."
        )

    # exp(1000) overflows; in the last row p_y = exp(-200) underflows to 0, so
    # log(softmax) gives inf too
    big = torch.tensor(
        [[1000.0, 998.0, 990.0], [-500.0, -495.0, -520.0], [0.0, 200.0, 0.0]]
    )
    big_targets = torch.tensor([1, 0, 0])
    out = call_student(
        cross_entropy_from_logits, big.clone(), big_targets.clone(), name=name
    )
    value = _scalar(out, name, "the mean cross-entropy")
    expected = _ce_ref(big, big_targets)
    if not torch.isfinite(value):
        fail(
            f"{name} is not numerically stable: exp(1000) overflows to inf and "
            "a probability of exp(-200) "
            "underflows to 0; compute log p_y = z_y - m - log sum_c exp(z_c - "
            "m) with m the row maximum "
            "(the log-sum-exp trick), never log(softmax)."
        )
    if not math.isclose(value.item(), expected, rel_tol=1e-4, abs_tol=1e-5):
        fail(
            f"{name} gives {value.item():.6g} for large logits, expected "
            f"{expected:.6g}: after subtracting the "
            "row maximum m, add it back, log sum exp(z) = m + log sum exp(z - "
            "m)."
        )
    passed("cross_entropy_from_logits")


# ------------------------------------------------------------------------------
# Causal LM loss
# ------------------------------------------------------------------------------


def _tiny_gpt_case():
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        torch.manual_seed(0)
        config = GPT2Config(
            vocab_size=50,
            n_positions=16,
            n_embd=16,
            n_layer=1,
            n_head=2,
            bos_token_id=0,
            eos_token_id=1,
        )
        model = GPT2LMHeadModel(config).eval()
        return _tiny_gpt_batch(model, config)
    finally:
        hf_logging.set_verbosity(previous)


def _tiny_gpt_batch(model, config):
    gen = torch.Generator().manual_seed(1)
    input_ids = torch.randint(2, 50, (3, 10), generator=gen)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 6:] = 0  # sequence 1 has 6 real tokens, sequence 2 has 3
    attention_mask[2, 3:] = 0
    input_ids = input_ids.masked_fill(attention_mask == 0, 0)
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    with torch.no_grad():
        out = model(
            input_ids=input_ids, attention_mask=attention_mask, labels=labels
        )
        # larger logits make the wrong variants clearly different from the right
        # one
        logits = out.logits * 20
        reference = model.loss_function(
            logits=logits, labels=labels, vocab_size=config.vocab_size
        )
    return logits, labels, input_ids, out.loss, reference


def _nll(logits, targets):
    return (
        -torch.log_softmax(logits.double(), dim=-1)
        .gather(-1, targets.clamp(min=0)[..., None])
        .squeeze(-1)
    )


def check_causal_lm_loss(causal_lm_loss) -> None:
    """``causal_lm_loss(logits, labels)``: the loss GPT2LMHeadModel returns for
    ``labels``.
    """
    name = "causal_lm_loss"
    logits, labels, input_ids, _, reference = _tiny_gpt_case()
    # first a batch without padding, so that a crash on -100 can be told apart
    # from other crashes
    full = labels[:1]
    out = call_student(
        causal_lm_loss, logits[:1].clone(), full.clone(), name=name
    )
    value = _scalar(out, name, "the mean loss")
    ref_full = torch.nn.functional.cross_entropy(
        logits[:1, :-1].reshape(-1, 50), full[:, 1:].reshape(-1)
    )
    checks = [(value, ref_full, logits[:1], full, False)]
    out = call_student(
        causal_lm_loss,
        logits.clone(),
        labels.clone(),
        name=name,
        crash_message=lambda exc: (
            f"{name} crashes when labels contain -100 (padding) "
            f"({type(exc).__name__}): -100 is not ignored; "
            "leave those positions out before indexing, or use "
            "ignore_index=-100."
        ),
    )
    checks.append(
        (_scalar(out, name, "the mean loss"), reference, logits, labels, True)
    )

    for value, expected, lg, lb, padded in checks:
        if math.isclose(
            value.item(), expected.item(), rel_tol=1e-4, abs_tol=1e-5
        ):
            continue
        if not torch.isfinite(value):
            fail(
                f"{name} is not finite: ignore the positions whose label is "
                "-100 instead of using them as indices."
            )
        pred, target = lg[:, :-1], lb[:, 1:]
        keep = target != -100
        unshift_keep = lb != -100
        variants = [
            (
                _nll(lg, lb)[unshift_keep].mean(),
                "labels not shifted: the logits at position t predict the "
                "token at t + 1, so compare "
                "logits[:, :-1] with labels[:, 1:].",
            ),
            (
                _nll(lg[:, 1:], lb[:, :-1])[lb[:, :-1] != -100].mean(),
                "shifted the wrong way: drop the LAST logit and the FIRST "
                "label (logits[:, :-1] with labels[:, 1:]).",
            ),
            (
                _nll(pred, target)[keep].sum(),
                "return the mean over the predicted tokens, not the sum.",
            ),
        ]
        if padded:
            nll_all = _nll(pred, target)
            variants += [
                (
                    nll_all.mean(),
                    "averaged over padding: -100 not ignored; leave out (and "
                    "do not count) the "
                    "positions whose label is -100.",
                ),
                (
                    _nll(pred, input_ids[:, 1:])[:, :].mean(),
                    "averaged over padding: -100 not ignored; the padding "
                    "positions must not count as targets.",
                ),
                (
                    (nll_all * keep).sum() / keep.numel(),
                    "averaged over padding: you zeroed the -100 positions but "
                    "still divided by all positions; divide by the number of "
                    "positions whose label is not -100.",
                ),
                (
                    torch.stack(
                        [nll_all[i][keep[i]].mean() for i in range(len(lb))]
                    ).mean(),
                    "you averaged per sequence and then over sequences: "
                    "average over all predicted tokens of the "
                    "batch at once (short sequences must not weigh more).",
                ),
            ]
        for wrong, message in variants:
            if math.isclose(
                value.item(), wrong.item(), rel_tol=1e-4, abs_tol=1e-5
            ):
                fail(f"{name}: {message}")
        fail(
            f"{name} gives {value.item():.6g}, but GPT2LMHeadModel's loss is "
            f"{expected.item():.6g}"
            f"{' on a padded batch' if padded else ''}: the mean of -log "
            "softmax(logits[:, :-1])[labels[:, 1:]] "
            "over the labels that are not -100."
        )
    passed("causal_lm_loss")
