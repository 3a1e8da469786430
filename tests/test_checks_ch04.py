"""The chapter 4 checkers: the solutions pass, each diagnosed mistake fails with
its message, stubs fail.
"""

import pytest
import torch
import torch.nn.functional as F
from solutions import ch04_math as sol

from course_utils.checks import ch04
from course_utils.errors import CheckFailed


def stub(*args, **kwargs):
    raise NotImplementedError


# ---------------------------------------------------------------- glove_weight


def test_glove_weight_solution_passes(capsys):
    ch04.check_glove_weight(sol.glove_weight)
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda x, x_max=100.0, alpha=0.75: (x / x_max) ** alpha,
            "not capped at 1",
        ),
        (
            lambda x, x_max=100.0, alpha=0.75: torch.where(
                x < x_max, x / x_max, torch.ones_like(x)
            ),
            "alpha is not applied",
        ),
        (
            lambda x, x_max=100.0, alpha=0.75: torch.where(
                x < x_max, x**alpha / x_max, torch.ones_like(x)
            ),
            "alpha applied wrongly",
        ),
        (
            lambda x, x_max=100.0, alpha=0.75: torch.where(
                x < x_max, (x / x_max) ** (1 / alpha), torch.ones_like(x)
            ),
            "alpha applied wrongly",
        ),
        (
            lambda x, x_max=100.0, alpha=0.75: torch.where(
                x < 100, (x / 100) ** 0.75, torch.ones_like(x)
            ),
            "ignores its x_max and alpha",
        ),
        (
            lambda x, x_max=100.0, alpha=0.75: torch.where(
                x < x_max, (x / x_max) ** alpha, torch.ones_like(x)
            )[:3],
            "one weight per count",
        ),
        (
            lambda x, x_max=100.0, alpha=0.75: (
                torch.where(x < x_max, (x / x_max) ** alpha, torch.ones_like(x))
                + 0.1
            ),
            r"f\(0\) must be 0",
        ),
        (
            lambda x, x_max=10.0, alpha=0.5: torch.where(
                x < x_max, (x / x_max) ** alpha, torch.ones_like(x)
            ),
            "default arguments",
        ),
    ],
)
def test_glove_weight_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch04.check_glove_weight(wrong)


def test_glove_weight_stub():
    with pytest.raises(CheckFailed, match="not written yet"):
        ch04.check_glove_weight(stub)


# ---------------------------------------------------------------- glove_loss


def _loss_with(
    *,
    use_log=True,
    biases=True,
    weight=sol.glove_weight,
    ctx=True,
    reduce="sum",
    nonzero=True,
    fixed_params=False,
):
    def loss(W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75):
        if fixed_params:
            x_max, alpha = 100.0, 0.75
        if nonzero:
            i, j = torch.nonzero(X, as_tuple=True)
        else:
            i, j = [
                t.reshape(-1)
                for t in torch.meshgrid(
                    torch.arange(len(X)), torch.arange(len(X)), indexing="ij"
                )
            ]
        counts = X[i, j]
        pred = (W[i] * (W_ctx if ctx else W)[j]).sum(-1) + (
            (b[i] + b_ctx[j]) if biases else 0
        )
        target = torch.log(counts) if use_log else counts
        terms = weight(counts, x_max, alpha) * (pred - target) ** 2
        return terms.sum() if reduce == "sum" else terms.mean()

    return loss


def _uncapped(x, x_max=100.0, alpha=0.75):
    return (x / x_max) ** alpha


def _x_pow_alpha(x, x_max=100.0, alpha=0.75):
    return torch.where(x < x_max, x**alpha / x_max, torch.ones_like(x))


def test_glove_loss_solution_passes(capsys):
    ch04.check_glove_loss(sol.glove_loss)
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_loss_with(use_log=False), "instead of log X"),
        (_loss_with(biases=False), "biases missing"),
        (_loss_with(ctx=False), "W for both words"),
        (_loss_with(weight=_uncapped), "not capped at 1"),
        (_loss_with(weight=_x_pow_alpha), "alpha applied wrongly"),
        (
            _loss_with(weight=lambda x, x_max, alpha: torch.ones_like(x)),
            "weighting f\\(X_ij\\) is missing",
        ),
        (_loss_with(reduce="mean"), "not a mean"),
        (_loss_with(nonzero=False), "not finite"),
        (_loss_with(fixed_params=True), "ignores its x_max / alpha"),
        (
            lambda W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75: (
                sol.glove_loss(W, W_ctx, b, b_ctx, X, x_max, alpha).item()
            ),
            "autograd",
        ),
        (
            lambda W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75: torch.zeros(
                3
            ),
            "single number",
        ),
    ],
)
def test_glove_loss_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch04.check_glove_loss(wrong)


def test_glove_loss_stub():
    with pytest.raises(CheckFailed, match="not written yet"):
        ch04.check_glove_loss(stub)


# ---------------------------------------------------------------- cross-entropy


def _rows(logits):
    return torch.arange(len(logits))


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda z, y: -torch.log_softmax(z, dim=0)[_rows(z), y].mean(),
            "wrong axis",
        ),
        (lambda z, y: -torch.log(z)[_rows(z), y].mean(), "log of the logits"),
        (
            lambda z, y: (
                -torch.log(
                    (torch.exp(z) / torch.exp(z).sum(-1, keepdim=True))[
                        _rows(z), y
                    ]
                ).mean()
            ),
            "not numerically stable",
        ),
        (
            lambda z, y: -torch.log(torch.softmax(z, -1)[_rows(z), y]).mean(),
            "not numerically stable",
        ),
        (
            lambda z, y: (torch.logsumexp(z, -1) - z[_rows(z), y]).sum(),
            "not the sum",
        ),
        (
            lambda z, y: -(torch.logsumexp(z, -1) - z[_rows(z), y]).mean(),
            "wrong sign",
        ),
        (
            lambda z, y: F.cross_entropy(torch.softmax(z, -1), y),
            "softmax twice",
        ),
        (lambda z, y: torch.logsumexp(z, -1) - z[_rows(z), y], "single number"),
    ],
)
def test_cross_entropy_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch04.check_cross_entropy(wrong)


def test_cross_entropy_solution_and_stub(capsys):
    ch04.check_cross_entropy(sol.cross_entropy_from_logits)
    assert "all checks passed" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="not written yet"):
        ch04.check_cross_entropy(stub)


# ---------------------------------------------------------------- causal LM
# loss


def _nll(logits, targets):
    return (
        -torch.log_softmax(logits, -1)
        .gather(-1, targets.clamp(min=0)[..., None])
        .squeeze(-1)
    )


def _unshifted(logits, labels):
    return _nll(logits, labels)[labels != -100].mean()


def _wrong_direction(logits, labels):
    target = labels[:, :-1]
    return _nll(logits[:, 1:], target)[target != -100].mean()


def _padding_counted(logits, labels):
    return _nll(logits[:, :-1], labels[:, 1:]).mean()


def _zeroed_but_divided_by_all(logits, labels):
    target = labels[:, 1:]
    return (
        _nll(logits[:, :-1], target) * (target != -100)
    ).sum() / target.numel()


def _per_sequence(logits, labels):
    return torch.stack(
        [
            sol.causal_lm_loss(logits[i : i + 1], labels[i : i + 1])
            for i in range(len(labels))
        ]
    ).mean()


def _crashes_on_minus_100(logits, labels):
    return (
        -torch.log_softmax(logits[:, :-1], -1)
        .gather(-1, labels[:, 1:, None])
        .mean()
    )


def _summed(logits, labels):
    target = labels[:, 1:]
    return _nll(logits[:, :-1], target)[target != -100].sum()


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_unshifted, "labels not shifted"),
        (_wrong_direction, "wrong way"),
        (_padding_counted, "averaged over padding"),
        (_zeroed_but_divided_by_all, "still divided by all positions"),
        (_per_sequence, "per sequence"),
        (_crashes_on_minus_100, "-100 is not ignored"),
        (_summed, "not the sum"),
    ],
)
def test_causal_lm_loss_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch04.check_causal_lm_loss(wrong)


def test_causal_lm_loss_solution_and_stub(capsys):
    ch04.check_causal_lm_loss(sol.causal_lm_loss)
    assert "all checks passed" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="not written yet"):
        ch04.check_causal_lm_loss(stub)


def test_causal_lm_reference_is_the_model_loss():
    """The checker's reference equals GPT2LMHeadModel's own loss (with the
    original logits).
    """
    logits, labels, _, model_loss, _ = ch04._tiny_gpt_case()
    torch.testing.assert_close(
        sol.causal_lm_loss(logits / 20, labels), model_loss
    )
