"""Checkers for the chapter 4 exercises (exercises/ch04_math.ipynb).

Each checker first decides right or wrong by comparing the student's
function with a reference (the chapter's ``course_utils.glove`` code, or
``torch.nn.functional`` in float64) on fixed cases that pin down each known
mistake and on generated ones (shapes, padding on either side, ties,
extremes). Only then does it name a mistake, and only one that, written as a
function, gives the student's output on every case.

Each checker passes :func:`~course_utils.checks.compare_with_reference` a
``validate`` that converts the student's result on each call and a ``hint``
for the generic message.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F

from ..glove import ALPHA, X_MAX, glove_loss_dense, weighting
from . import (
    Case,
    as_tensor,
    call_student,
    compare_with_reference,
    fail,
    passed,
    same_result,
    tensors_close,
)


def _tensor_result(what: str) -> Callable:
    """A validator: the result as a float64 tensor."""

    def validate(result, args, kwargs):
        return as_tensor(result, what).double()

    return validate


def _scalar_result(name: str, what: str) -> Callable:
    """A validator: the result as a 0-dim float64 tensor."""

    def validate(result, args, kwargs):
        value = as_tensor(result, name)
        if value.numel() != 1:
            fail(
                f"{name} returned a tensor of shape {tuple(value.shape)}; "
                f"return {what} as a single number (a 0-dim tensor): sum or "
                "average as the formula says."
            )
        return value.double().reshape(())

    return validate


# ------------------------------------------------------------------------------
# GloVe weighting function
# ------------------------------------------------------------------------------

_PAPER_X = [0.0, 0.5, 1.0, 3.0, 10.0, 50.0, 99.0, 100.0, 150.0, 1000.0]


def _weight_ref(x, x_max=X_MAX, alpha=ALPHA):
    """The chapter's weighting function, in float64."""
    return weighting(torch.as_tensor(x).double(), x_max, alpha)


def _weight_cases() -> list[Case]:
    paper = torch.tensor(_PAPER_X)
    paper_values = dict(x_max=100.0, alpha=0.75)
    cases = [
        Case(
            "x = [0.0] (x_max = 100, alpha = 0.75)",
            (torch.zeros(1),),
            paper_values,
        ),
        Case(
            f"x = {_PAPER_X} (x_max = 100, alpha = 0.75)",
            (paper,),
            paper_values,
        ),
        Case(
            "x = [0, 1, 2.5, 5, 9, 10, 12, 40] with x_max = 10, alpha = 0.5",
            (torch.tensor([0.0, 1.0, 2.5, 5.0, 9.0, 10.0, 12.0, 40.0]),),
            dict(x_max=10.0, alpha=0.5),
        ),
        Case(
            "x just below, at and above x_max = 7 (alpha = 1.5)",
            (torch.tensor([6.99, 7.0, 7.01, 1e6, 0.0]),),
            dict(x_max=7.0, alpha=1.5),
        ),
        Case("an empty tensor of counts", (torch.zeros(0),), paper_values),
        Case(
            "float64 counts with x_max = 3, alpha = 0.25",
            (torch.tensor([0.0, 0.1, 2.9, 3.0, 30.0], dtype=torch.float64),),
            dict(x_max=3.0, alpha=0.25),
        ),
    ]
    rng, gen = random.Random(0), torch.Generator().manual_seed(0)
    for _ in range(6):
        shape = rng.choice([(7,), (3, 4), (2, 1, 3)])
        x_max = rng.choice([1.0, 5.0, 50.0, 100.0, 250.0])
        alpha = rng.choice([0.25, 0.5, 0.75, 1.0, 2.0])
        x = (torch.rand(shape, generator=gen) * 2.5 * x_max).round(decimals=2)
        x.view(-1)[:2] = torch.tensor([0.0, x_max])  # f(0) and f(x_max)
        cases.append(
            Case(
                f"a {tuple(shape)} tensor of counts with x_max = {x_max:g}, "
                f"alpha = {alpha:g}",
                (x,),
                dict(x_max=x_max, alpha=alpha),
            )
        )
    cases.append(
        Case(
            f"x = {_PAPER_X} with the default arguments (which must be "
            "x_max = 100, alpha = 3/4)",
            (paper,),
        )
    )
    return cases


def _below_cap(ratio: Callable, above: float = 1.0) -> Callable:
    """A weighting that is ``ratio(x, x_max, alpha)`` below x_max and
    ``above`` from x_max on.
    """

    def f(x, x_max=X_MAX, alpha=ALPHA):
        x = torch.as_tensor(x).double()
        capped = torch.full_like(x, above)
        return torch.where(x < x_max, ratio(x, x_max, alpha), capped)

    return f


def _uncapped(x, x_max=X_MAX, alpha=ALPHA):
    return (torch.as_tensor(x).double() / x_max) ** alpha


def _uncapped_no_alpha(x, x_max=X_MAX, alpha=ALPHA):
    return torch.as_tensor(x).double() / x_max


def _weight_fixed_parameters(x, x_max=X_MAX, alpha=ALPHA):
    return _weight_ref(x)


_NOT_CAPPED = (
    "glove_weight: f is not capped at 1: return 1 wherever x >= x_max, "
    "e.g. with torch.where."
)
_ALPHA_WRONG = (
    "glove_weight: alpha applied wrongly: raise the ratio to the power "
    "alpha, (x / x_max) ** alpha (not x ** alpha / x_max, not ** (1 / alpha))."
)
WEIGHT_DIAGNOSES = [
    (_NOT_CAPPED, _uncapped),
    (_NOT_CAPPED, _uncapped_no_alpha),
    (
        "glove_weight: alpha is not applied: below x_max, f(x) = "
        "(x / x_max) ** alpha.",
        _below_cap(lambda x, m, a: x / m),
    ),
    (_ALPHA_WRONG, _below_cap(lambda x, m, a: x**a / m)),
    (_ALPHA_WRONG, _below_cap(lambda x, m, a: (x / m) ** (1 / a))),
    (
        "glove_weight: the ratio is upside down: use (x / x_max) ** alpha, "
        "which grows with x and is 0 at x = 0.",
        _below_cap(lambda x, m, a: (m / x) ** a),
    ),
    (
        "glove_weight: from x_max on the weight is 1, not 0: frequent pairs "
        "get the full weight.",
        _below_cap(lambda x, m, a: (x / m) ** a, above=0.0),
    ),
    (
        "glove_weight ignores its x_max and alpha arguments (it always uses "
        "x_max = 100, alpha = 3/4): use the parameters, not fixed numbers.",
        _weight_fixed_parameters,
    ),
]


def _weight_validator(result, args, kwargs):
    out = as_tensor(result, "glove_weight").double()
    shape = tuple(torch.as_tensor(args[0]).shape)
    if tuple(out.shape) != shape:
        fail(
            f"glove_weight returned shape {tuple(out.shape)} for counts of "
            f"shape {shape}: return one weight per count (apply f "
            "elementwise)."
        )
    return out


def check_glove_weight(glove_weight) -> None:
    """``glove_weight(x, x_max=100.0, alpha=0.75)``: f(x) = (x / x_max) ** alpha
    below x_max, else 1, elementwise.
    """
    compare_with_reference(
        glove_weight,
        _weight_ref,
        _weight_cases(),
        name="glove_weight",
        validate=_weight_validator,
        diagnoses=WEIGHT_DIAGNOSES,
        hint="f(x) = (x / x_max) ** alpha for x < x_max and 1 otherwise.",
    )
    passed("glove_weight")


# ------------------------------------------------------------------------------
# GloVe loss
# ------------------------------------------------------------------------------

# float64 inputs; a student who computes in float32 (say, a float32 weight)
# is off by a few 1e-7 of a sum of <= 64 positive terms; the mistakes differ
# by percents
_same_loss = partial(same_result, atol=1e-6, rtol=1e-4)


def _glove_inputs(gen, V: int, d: int, zeros: float = 0.4):
    """Parameters (float64, requiring grad) and a count matrix with zeros."""
    params = [
        torch.randn(*shape, generator=gen, dtype=torch.float64)
        for shape in ((V, d), (V, d), (V,), (V,))
    ]
    X = (torch.rand(V, V, generator=gen, dtype=torch.float64) * 30).round(
        decimals=2
    )
    X[torch.rand(V, V, generator=gen) < zeros] = 0.0  # never co-occur
    return [p.requires_grad_() for p in params], X


def _glove_case(label, params, X, **kwargs) -> Case:
    return Case(label, (*params, X), kwargs)


def _glove_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(0)
    params, X = _glove_inputs(gen, 6, 3)
    # counts above, at and just below x_max; one below 1 (log X < 0)
    X[0, 1], X[1, 0], X[2, 2], X[3, 4], X[4, 3] = 250, 120, 0.5, 100, 99.5
    cases = [
        _glove_case(
            "a 6-word matrix with counts above, at and below x_max = 100 "
            "(alpha = 0.75)",
            params,
            X,
            x_max=100.0,
            alpha=0.75,
        ),
        _glove_case(
            "the same 6-word matrix with x_max = 10, alpha = 0.5",
            params,
            X,
            x_max=10.0,
            alpha=0.5,
        ),
    ]
    one, _ = _glove_inputs(gen, 1, 2)
    cases.append(
        _glove_case(
            "one word that co-occurs 3 times with itself (x_max = 100, "
            "alpha = 0.75)",
            one,
            torch.tensor([[3.0]], dtype=torch.float64),
            x_max=100.0,
            alpha=0.75,
        )
    )
    rng = random.Random(0)
    for _ in range(5):
        V, d = rng.randint(2, 7), rng.randint(1, 4)
        x_max, alpha = rng.choice([5.0, 20.0, 100.0]), rng.choice([0.5, 0.75])
        params, X = _glove_inputs(gen, V, d, zeros=rng.choice([0.2, 0.6]))
        X[0, -1] = 7.0  # not symmetric: X_ij and X_ji differ
        X[-1, 0] = 0.0
        cases.append(
            _glove_case(
                f"a random {V}-word matrix, d = {d}, x_max = {x_max:g}, "
                f"alpha = {alpha:g}",
                params,
                X,
                x_max=x_max,
                alpha=alpha,
            )
        )
    params, X = _glove_inputs(gen, 4, 2)
    cases.append(
        _glove_case(
            "a 4-word matrix with the default arguments (which must be "
            "x_max = 100, alpha = 3/4)",
            params,
            X * 10,
        )
    )
    return cases


def _glove_ref(W, W_ctx, b, b_ctx, X, x_max=X_MAX, alpha=ALPHA):
    return glove_loss_dense(W, W_ctx, b, b_ctx, X.double(), x_max, alpha)


def _glove_variant(
    *,
    log=True,
    biases="right",
    ctx=True,
    weight=_weight_ref,
    reduce="sum",
    cells="nonzero",
    transpose=False,
    fixed=False,
) -> Callable:
    """The GloVe objective with one of the usual mistakes switched on."""

    def loss(W, W_ctx, b, b_ctx, X, x_max=X_MAX, alpha=ALPHA):
        if fixed:
            x_max, alpha = X_MAX, ALPHA
        X = X.double().T if transpose else X.double()
        if cells == "nonzero":
            i, j = torch.nonzero(X, as_tuple=True)
        else:  # every cell, zeros included
            i, j = torch.cartesian_prod(
                torch.arange(len(X)), torch.arange(len(X))
            ).T
        x = X[i, j]
        pred = (W[i] * (W_ctx if ctx else W)[j]).sum(-1)
        if biases == "right":
            pred = pred + b[i] + b_ctx[j]
        target = torch.log(x) if log else x
        terms = weight(x, x_max, alpha) * (pred - target) ** 2
        if reduce == "mean":
            return terms.mean()
        if reduce == "mean_all":
            return terms.sum() / X.numel()
        return terms.sum()

    return loss


def _no_weight(x, x_max, alpha):
    return torch.ones_like(x)


GLOVE_DIAGNOSES = [
    (
        "glove_loss: you used X instead of log X: the model fits "
        "w_i . w~_j + b_i + b~_j to log X_ij.",
        _glove_variant(log=False),
    ),
    (
        "glove_loss: biases missing: the prediction is w_i . w~_j + b_i + "
        "b~_j (the biases absorb log X_i and log X_j).",
        _glove_variant(biases="none"),
    ),
    (
        "glove_loss: you used W for both words: the second word of the pair "
        "takes its context vector, W_ctx[j].",
        _glove_variant(ctx=False),
    ),
    (
        "glove_loss: rows and columns swapped: X_ij counts word i (row: W, b) "
        "with context word j (column: W_ctx, b_ctx).",
        _glove_variant(transpose=True),
    ),
    (
        "glove_loss: f is not capped at 1 for x >= x_max: the weight of a "
        "pair with X_ij >= x_max must be 1.",
        _glove_variant(weight=_uncapped),
    ),
    (
        "glove_loss: alpha applied wrongly (not at all): the weight below "
        "x_max is (X_ij / x_max) ** alpha.",
        _glove_variant(weight=_below_cap(lambda x, m, a: x / m)),
    ),
    (
        "glove_loss: alpha applied wrongly: the weight below x_max is "
        "(X_ij / x_max) ** alpha, not X_ij ** alpha / x_max.",
        _glove_variant(weight=_below_cap(lambda x, m, a: x**a / m)),
    ),
    (
        "glove_loss: the weighting f(X_ij) is missing: multiply each squared "
        "error by f(X_ij).",
        _glove_variant(weight=_no_weight),
    ),
    (
        "glove_loss: J is a sum over the non-zero entries, not a mean: drop "
        "the division.",
        _glove_variant(reduce="mean"),
    ),
    (
        "glove_loss: J is a sum over the non-zero entries, not a mean over "
        "all V * V entries.",
        _glove_variant(reduce="mean_all"),
    ),
    (
        "glove_loss is not finite: sum only over the entries with X_ij > 0 "
        "(f(0) = 0, but log 0 = -inf and 0 * inf is NaN).",
        _glove_variant(cells="all"),
    ),
    (
        "glove_loss ignores its x_max / alpha arguments: pass them on to the "
        "weighting.",
        _glove_variant(fixed=True),
    ),
]


def _glove_validator(result, args, kwargs):
    if not isinstance(result, torch.Tensor) or not result.requires_grad:
        fail(
            "glove_loss returned a value that autograd cannot differentiate: "
            "keep the computation in torch (no .item(), float() or numpy) so "
            "that the optimiser can train W, W_ctx, b and b_ctx."
        )
    return _scalar_result("glove_loss", "the loss J")(result, args, kwargs)


def _check_glove_gradients(glove_loss, case: Case) -> None:
    """The student's loss sends the right gradient to every parameter (a
    ``.detach()`` gives the right value but trains nothing).
    """
    theirs = [p.detach().clone().requires_grad_() for p in case.args[:4]]
    ours = [p.detach().clone().requires_grad_() for p in case.args[:4]]
    X = case.args[4]
    out = call_student(glove_loss, *theirs, X.clone(), **case.kwargs)
    out.sum().backward()
    _glove_ref(*ours, X.clone(), **case.kwargs).backward()
    for label, mine, ref in zip(("W", "W_ctx", "b", "b_ctx"), theirs, ours):
        # float64 and one backward pass: float32 work inside leaves ~1e-6
        if mine.grad is None or not tensors_close(
            mine.grad, ref.grad, atol=1e-6, rtol=1e-4
        ):
            fail(
                f"glove_loss has the right value but the wrong gradient with "
                f"respect to {label} on {case.label}: keep every step in "
                f"torch and attached to the graph (no .detach() on {label})."
            )


def check_glove_loss(glove_loss) -> None:
    """``glove_loss(W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75)``: the GloVe
    objective summed over the non-zero X_ij.
    """
    cases = _glove_cases()
    compare_with_reference(
        glove_loss,
        _glove_ref,
        cases,
        name="glove_loss",
        validate=_glove_validator,
        diagnoses=GLOVE_DIAGNOSES,
        hint="J = sum over X_ij > 0 of f(X_ij) * (w_i . w~_j + b_i + b~_j "
        "- log X_ij) ** 2.",
        same=_same_loss,
    )
    _check_glove_gradients(glove_loss, cases[0])
    passed("glove_loss")


# ------------------------------------------------------------------------------
# Cross-entropy from logits
# ------------------------------------------------------------------------------


def _ce_ref(logits, targets):
    """The mean cross-entropy, in float64 (exact enough to be the truth)."""
    return F.cross_entropy(logits.double(), targets)


def _logits(gen, batch, classes, scale, offset=0.0):
    """Random logits on a grid of 1/64: with an offset of 1000 every value is
    exact in float32, so ``z - max`` loses nothing.
    """
    z = torch.randn(batch, classes, generator=gen) * scale
    return (z * 64).round() / 64 + offset


def _ce_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(0)
    big = torch.tensor(
        [[1000.0, 998.0, 990.0], [-500.0, -495.0, -520.0], [0.0, 200.0, 0.0]]
    )
    cases = [
        Case(
            "a (4, 5) batch of logits (4 examples, 5 classes)",
            (_logits(gen, 4, 5, 2.0), torch.tensor([1, 0, 4, 2])),
        ),
        Case(
            "one example with 3 classes",
            (torch.tensor([[2.0, 0.0, -1.0]]), torch.tensor([0])),
        ),
        Case(
            "a (3, 1) batch: a single class, so every loss is 0",
            (torch.tensor([[0.5], [-2.0], [7.0]]), torch.zeros(3, dtype=int)),
        ),
        Case(
            "a (2, 4) batch of equal logits (every class ties)",
            (torch.full((2, 4), 1.5), torch.tensor([3, 0])),
        ),
        Case(
            "a (5, 3) batch where all the targets repeat",
            (_logits(gen, 5, 3, 1.0), torch.tensor([2, 2, 2, 0, 0])),
        ),
        Case(
            "logits in the thousands, and a probability of e^-200 "
            "(exp overflows, softmax underflows)",
            (big, torch.tensor([1, 0, 0])),
        ),
        Case(
            "logits of +-5000",
            (
                torch.tensor([[5000.0, -5000.0, 0.0], [-5000.0, 5000.0, 0.0]]),
                torch.tensor([0, 0]),
            ),
        ),
    ]
    rng = random.Random(0)
    for _ in range(8):
        batch, classes = rng.randint(1, 6), rng.randint(2, 9)
        scale, offset = rng.choice([0.1, 3.0, 30.0]), rng.choice([0, 1e3, -1e3])
        targets = torch.randint(classes, (batch,), generator=gen)
        cases.append(
            Case(
                f"a random ({batch}, {classes}) batch (logits around "
                f"{offset:g}, spread {scale:g})",
                (_logits(gen, batch, classes, scale, offset), targets),
            )
        )
    return cases


# The mistakes below compute in the logits' own dtype (float32), as a
# student's code does: that is where exp overflows and probabilities
# underflow.


def _rows(z):
    return torch.arange(len(z))


def _stable_lse(z, dim=-1):
    m = z.max(dim=dim, keepdim=True).values
    return (m + torch.log(torch.exp(z - m).sum(dim, keepdim=True))).squeeze(dim)


def _ce_terms(lse, z, y):
    return lse - z[_rows(z), y]


def _ce_wrong_axis(z, y):
    return -torch.log_softmax(z, dim=0)[_rows(z), y].mean()


def _ce_wrong_axis_sum(z, y):
    return -torch.log_softmax(z, dim=0)[_rows(z), y].sum()


def _ce_log_of_logits(z, y):
    return -torch.log(z)[_rows(z), y].mean()


def _ce_wrong_sign(z, y):
    return -_ce_terms(_stable_lse(z), z, y).mean()


def _ce_sum(z, y):
    return _ce_terms(_stable_lse(z), z, y).sum()


def _ce_softmax_twice(z, y):
    p = torch.softmax(z, dim=-1)
    return _ce_terms(_stable_lse(p), p, y).mean()


def _ce_no_log(z, y):
    return -torch.softmax(z, dim=-1)[_rows(z), y].mean()


def _ce_naive_softmax(z, y):
    p = torch.exp(z) / torch.exp(z).sum(-1, keepdim=True)
    return -torch.log(p[_rows(z), y]).mean()


def _ce_log_of_softmax(z, y):
    return -torch.log(torch.softmax(z, dim=-1)[_rows(z), y]).mean()


def _ce_naive_lse(z, y):
    return _ce_terms(torch.log(torch.exp(z).sum(-1)), z, y).mean()


def _ce_max_not_added_back(z, y):
    m = z.max(dim=-1, keepdim=True).values
    return _ce_terms(torch.log(torch.exp(z - m).sum(-1)), z, y).mean()


def _ce_batch_max(z, y):
    m = z.max()
    return _ce_terms(m + torch.log(torch.exp(z - m).sum(-1)), z, y).mean()


def _ce_all_columns(z, y):
    return (_stable_lse(z) - z[:, y]).mean()


def _ce_all_columns_by_row(z, y):
    return (_stable_lse(z)[:, None] - z[:, y]).mean()


_CE_UNSTABLE = (
    "cross_entropy_from_logits is not numerically stable: exp(1000) "
    "overflows to inf and a probability of exp(-200) underflows to 0; "
    "compute log p_y = z_y - m - log sum_c exp(z_c - m) with m the row "
    "maximum (the log-sum-exp trick), never log(softmax)."
)
_CE_WRONG_AXIS = (
    "cross_entropy_from_logits: softmax over the wrong axis: normalise over "
    "the classes (dim=-1), so that each row, not each column, sums to 1."
)
_CE_ALL_COLUMNS = (
    "cross_entropy_from_logits: logits[:, targets] takes every target's "
    "column for every row: pick one entry per row, "
    "logits[torch.arange(len(targets)), targets]."
)
CE_DIAGNOSES = [
    (_CE_WRONG_AXIS, _ce_wrong_axis),
    (_CE_WRONG_AXIS, _ce_wrong_axis_sum),
    (
        "cross_entropy_from_logits: you took the log of the logits: the "
        "logits are not probabilities; use log p_y = z_y - log sum_c "
        "exp(z_c).",
        _ce_log_of_logits,
    ),
    (
        "cross_entropy_from_logits: wrong sign: the cross-entropy is -log "
        "p_y, a positive number.",
        _ce_wrong_sign,
    ),
    (
        "cross_entropy_from_logits: average over the batch: return the "
        "mean, not the sum, of -log p_y.",
        _ce_sum,
    ),
    (
        "cross_entropy_from_logits: you applied the softmax twice: the "
        "function takes logits and applies softmax once.",
        _ce_softmax_twice,
    ),
    (
        "cross_entropy_from_logits: take the log: the loss is -log p_y, not "
        "-p_y.",
        _ce_no_log,
    ),
    (_CE_UNSTABLE, _ce_naive_softmax),
    (_CE_UNSTABLE, _ce_log_of_softmax),
    (_CE_UNSTABLE, _ce_naive_lse),
    (
        "cross_entropy_from_logits: after subtracting the row maximum m, add "
        "it back: log sum exp(z) = m + log sum exp(z - m).",
        _ce_max_not_added_back,
    ),
    (
        "cross_entropy_from_logits: subtract each row's own maximum "
        "(max over dim=-1), not the largest logit of the whole batch: a row "
        "far below it underflows to log 0 = -inf.",
        _ce_batch_max,
    ),
    (_CE_ALL_COLUMNS, _ce_all_columns),
    (_CE_ALL_COLUMNS, _ce_all_columns_by_row),
]


def check_cross_entropy(cross_entropy_from_logits) -> None:
    """``cross_entropy_from_logits(logits, targets)``: mean of -log
    softmax(logits)[target], stable.

    The default tolerance fits: a few float32 operations on logits that are
    exact in float32 (see :func:`_logits`).
    """
    compare_with_reference(
        cross_entropy_from_logits,
        _ce_ref,
        _ce_cases(),
        name="cross_entropy_from_logits",
        validate=_scalar_result(
            "cross_entropy_from_logits", "the mean cross-entropy"
        ),
        diagnoses=CE_DIAGNOSES,
        hint="The loss is the mean over the batch of -z_y + m + log sum_c "
        "exp(z_c - m), with m each row's maximum.",
    )
    passed("cross_entropy_from_logits")


# ------------------------------------------------------------------------------
# Causal LM loss
# ------------------------------------------------------------------------------


def _lm_ref(logits, labels):
    """GPT2LMHeadModel's loss (tests/test_checks_ch04.py compares them), in
    float64: the logits at t predict the label at t + 1, -100 ignored.
    """
    vocab = logits.shape[-1]
    return F.cross_entropy(
        logits[:, :-1].double().reshape(-1, vocab),
        labels[:, 1:].reshape(-1),
        ignore_index=-100,
    )


def _lm_batch(gen, lengths, T, V, side="right"):
    """Logits (B, T, V) and labels with -100 outside each sequence's
    ``lengths[b]`` real tokens (on the right or the left). Label 0 is a real
    token id.
    """
    B = len(lengths)
    logits = torch.randn(B, T, V, generator=gen) * 3
    labels = torch.randint(V, (B, T), generator=gen)
    labels[:, 1] = 0  # token 0 is an ordinary token, not padding
    positions = torch.arange(T).expand(B, T)
    n = torch.tensor(lengths)[:, None]
    pad = positions >= n if side == "right" else positions < T - n
    return logits, labels.masked_fill(pad, -100)


def _lm_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(0)
    fixed = [
        ("one sequence of 6 tokens, no padding", [6], 6, 11, "right"),
        ("two sequences of 8 tokens, no padding", [8, 8], 8, 13, "right"),
        (
            "3 right-padded sequences with 8, 5 and 2 real tokens",
            [8, 5, 2],
            8,
            17,
            "right",
        ),
        (
            "3 left-padded sequences with 8, 5 and 3 real tokens",
            [8, 5, 3],
            8,
            17,
            "left",
        ),
        (
            "2 right-padded sequences, the second with a single token "
            "(nothing to predict in it)",
            [7, 1],
            7,
            9,
            "right",
        ),
        ("2 sequences of 2 tokens (one prediction each)", [2, 2], 2, 5, "left"),
    ]
    cases = [
        Case(label, _lm_batch(gen, lengths, T, V, side))
        for label, lengths, T, V, side in fixed
    ]
    rng = random.Random(0)
    for _ in range(5):
        B, T, V = rng.randint(1, 4), rng.randint(3, 9), rng.randint(3, 20)
        lengths = [T] + [rng.randint(1, T) for _ in range(B - 1)]
        side = rng.choice(["right", "left"])
        logits, labels = _lm_batch(gen, lengths, T, V, side)
        labels[torch.rand(B, T, generator=gen) < 0.15] = -100  # masked spots
        labels[0, -1] = 1  # at least one token to predict
        cases.append(
            Case(
                f"a random batch of {B} x {T} tokens, vocabulary {V}, "
                f"{side}-padded, some labels in the middle -100",
                (logits, labels),
            )
        )
    return cases


def _nll(logits, targets, dim=-1):
    log_p = torch.log_softmax(logits.double(), dim=dim)
    return -log_p.gather(-1, targets.clamp(min=0)[..., None]).squeeze(-1)


def _lm_shifted(logits, labels):
    return _nll(logits[:, :-1], labels[:, 1:]), labels[:, 1:] != -100


def _lm_unshifted(logits, labels):
    return _nll(logits, labels)[labels != -100].mean()


def _lm_wrong_direction(logits, labels):
    target = labels[:, :-1]
    return _nll(logits[:, 1:], target)[target != -100].mean()


def _lm_sum(logits, labels):
    nll, keep = _lm_shifted(logits, labels)
    return nll[keep].sum()


def _lm_padding_counted(logits, labels):
    return _lm_shifted(logits, labels)[0].mean()


def _lm_zeroed_divided_by_all(logits, labels):
    nll, keep = _lm_shifted(logits, labels)
    return (nll * keep).sum() / keep.numel()


def _lm_per_sequence(logits, labels):
    nll, keep = _lm_shifted(logits, labels)
    return torch.stack([row[k].mean() for row, k in zip(nll, keep)]).mean()


def _lm_per_sequence_skipping_empty(logits, labels):
    nll, keep = _lm_shifted(logits, labels)
    means = [row[k].mean() for row, k in zip(nll, keep) if k.any()]
    return torch.stack(means).mean()


def _lm_mask_one_off(logits, labels):
    nll, _ = _lm_shifted(logits, labels)
    return nll[labels[:, :-1] != -100].mean()


def _lm_zero_ignored(logits, labels):
    nll, keep = _lm_shifted(logits, labels)
    return nll[keep & (labels[:, 1:] != 0)].mean()


def _lm_wrong_axis(logits, labels):
    target = labels[:, 1:]
    return _nll(logits[:, :-1], target, dim=1)[target != -100].mean()


_LM_PADDING = (
    "causal_lm_loss: averaged over padding: -100 not ignored; leave out "
    "(and do not count) the positions whose label is -100."
)
_LM_PER_SEQUENCE = (
    "causal_lm_loss: you averaged per sequence and then over sequences: "
    "average over all predicted tokens of the batch at once (short sequences "
    "must not weigh more)."
)
LM_DIAGNOSES = [
    (
        "causal_lm_loss: labels not shifted: the logits at position t "
        "predict the token at t + 1, so compare logits[:, :-1] with "
        "labels[:, 1:].",
        _lm_unshifted,
    ),
    (
        "causal_lm_loss: shifted the wrong way: drop the LAST logit and the "
        "FIRST label (logits[:, :-1] with labels[:, 1:]).",
        _lm_wrong_direction,
    ),
    (
        "causal_lm_loss: return the mean over the predicted tokens, not the "
        "sum.",
        _lm_sum,
    ),
    (_LM_PADDING, _lm_padding_counted),
    (
        "causal_lm_loss: averaged over padding: you zeroed the -100 "
        "positions but still divided by all positions; divide by the number "
        "of positions whose label is not -100.",
        _lm_zeroed_divided_by_all,
    ),
    (_LM_PER_SEQUENCE, _lm_per_sequence),
    (_LM_PER_SEQUENCE, _lm_per_sequence_skipping_empty),
    (
        "causal_lm_loss: the mask is one position off: ignore the positions "
        "where the shifted labels, labels[:, 1:], are -100.",
        _lm_mask_one_off,
    ),
    (
        "causal_lm_loss: you also ignored the label 0, which is an ordinary "
        "token id: ignore only -100.",
        _lm_zero_ignored,
    ),
    (
        "causal_lm_loss: softmax over the wrong axis: normalise over the "
        "vocabulary (dim=-1), not over the positions.",
        _lm_wrong_axis,
    ),
]


def _lm_crash(exc, args, kwargs) -> str | None:
    """A crash on a batch with -100 labels: -100 was used as an index."""
    labels = args[1] if len(args) > 1 else kwargs.get("labels")
    if isinstance(labels, torch.Tensor) and (labels == -100).any():
        return (
            f"causal_lm_loss crashes when labels contain -100 (padding) "
            f"({type(exc).__name__}: {str(exc)[:80]}): -100 is not ignored; "
            "leave those positions out before indexing, or use "
            "ignore_index=-100."
        )
    return None


def check_causal_lm_loss(causal_lm_loss) -> None:
    """``causal_lm_loss(logits, labels)``: the loss GPT2LMHeadModel returns for
    ``labels``.

    The default tolerance fits: a float32 log-softmax over <= 20 classes,
    then a mean of <= 40 terms.
    """
    compare_with_reference(
        causal_lm_loss,
        _lm_ref,
        _lm_cases(),
        name="causal_lm_loss",
        validate=_scalar_result("causal_lm_loss", "the mean loss"),
        diagnoses=LM_DIAGNOSES,
        hint="GPT2LMHeadModel's loss is the mean of -log "
        "softmax(logits[:, :-1])[labels[:, 1:]] over the labels that are "
        "not -100.",
        on_crash=_lm_crash,
    )
    passed("causal_lm_loss")
