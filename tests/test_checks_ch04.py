"""The chapter 4 checkers: the solutions pass, stubs are "not written yet",
and every wrong answer below (mostly mutations of the official solution) is
rejected with its diagnosis, or with the honest generic message where no
mistake is named (tests/mutants.py).
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from mutants import Wrong, assert_rejects
from solutions import ch04_math as sol

from course_utils.checks import ch04
from course_utils.errors import CheckFailed

GENERIC = "gives a different result on"


def stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize(
    "checker, solution",
    [
        (ch04.check_glove_weight, sol.glove_weight),
        (ch04.check_glove_loss, sol.glove_loss),
        (ch04.check_cross_entropy, sol.cross_entropy_from_logits),
        (ch04.check_causal_lm_loss, sol.causal_lm_loss),
    ],
)
def test_the_solution_passes_and_a_stub_is_not_written_yet(
    checker, solution, capsys
):
    checker(solution)
    assert "all checks passed" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="not written yet"):
        checker(stub)


# ---------------------------------------------------------------- glove_weight


def _f(ratio, above=1.0, cap=lambda x, x_max: x < x_max):
    """A weighting built like the solution, with its parts swapped."""

    def glove_weight(x, x_max=100.0, alpha=0.75):
        x = torch.as_tensor(x, dtype=torch.float64)
        capped = torch.full_like(x, above)
        return torch.where(cap(x, x_max), ratio(x, x_max, alpha), capped)

    return glove_weight


_PAPER = sol.glove_weight(torch.tensor(ch04._PAPER_X))


def _hard_coded_weight(x, x_max=100.0, alpha=0.75):
    if torch.as_tensor(x).tolist() == ch04._PAPER_X:
        return _PAPER.clone()
    return torch.zeros_like(torch.as_tensor(x))


def _weight_loop(x, x_max=100.0, alpha=0.75):
    # a loop over the elements: right for a vector, a crash for a matrix
    return torch.tensor(
        [1.0 if v >= x_max else (v / x_max) ** alpha for v in x]
    )


WEIGHT_WRONG = [
    Wrong(
        "no cap", lambda x, x_max=100.0, alpha=0.75: (x / x_max) ** alpha, "cap"
    ),
    Wrong("no alpha", _f(lambda x, m, a: x / m), "alpha is not applied"),
    Wrong("x ** a / m", _f(lambda x, m, a: x**a / m), "alpha applied wrong"),
    Wrong("** (1 / a)", _f(lambda x, m, a: (x / m) ** (1 / a)), "wrongly"),
    Wrong("ratio inverted", _f(lambda x, m, a: (m / x) ** a), "upside down"),
    Wrong("0 above x_max", _f(lambda x, m, a: (x / m) ** a, 0.0), "not 0"),
    Wrong(
        "parameters ignored",
        lambda x, x_max=100.0, alpha=0.75: sol.glove_weight(x),
        "ignores its x_max and alpha",
    ),
    Wrong(
        "wrong defaults",
        lambda x, x_max=10.0, alpha=0.5: sol.glove_weight(x, x_max, alpha),
        "default arguments",
    ),
    Wrong(
        "three weights only",
        lambda x, x_max=100.0, alpha=0.75: sol.glove_weight(x, x_max, alpha)[
            :3
        ],
        "one weight per count",
    ),
    Wrong(
        "flattened",
        lambda x, x_max=100.0, alpha=0.75: sol.glove_weight(
            x.reshape(-1), x_max, alpha
        ),
        "one weight per count",
    ),
    Wrong(
        "f(0) = 0.1",
        lambda x, x_max=100.0, alpha=0.75: (
            sol.glove_weight(x, x_max, alpha) + 0.1
        ),
        rf"{GENERIC} x = \[0\.0\]",
    ),
    Wrong(
        "cap one below x_max",
        _f(lambda x, m, a: (x / m) ** a, cap=lambda x, m: x < m - 1),
        rf"{GENERIC} x = \[0\.0, 0\.5.*1 otherwise",
    ),
    Wrong("hard-coded for the paper's x", _hard_coded_weight, GENERIC),
    Wrong("a loop over a vector", _weight_loop, "raised"),
]


def test_glove_weight_rejects_wrong_answers():
    assert_rejects(ch04.check_glove_weight, WEIGHT_WRONG)


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
    transpose=False,
    half=False,
):
    """A GloVe loss written like the solution, one switch per mistake."""

    def glove_loss(W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75):
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
        if transpose:
            i, j = j, i
        pred = (W[i] * (W_ctx if ctx else W)[j]).sum(-1) + (
            (b[i] + b_ctx[j]) if biases else 0
        )
        target = torch.log(counts) if use_log else counts
        terms = weight(counts, x_max, alpha) * (pred - target) ** 2
        terms = terms / 2 if half else terms
        return terms.sum() if reduce == "sum" else terms.mean()

    return glove_loss


def _uncapped(x, x_max=100.0, alpha=0.75):
    return (x / x_max) ** alpha


def _x_pow_alpha(x, x_max=100.0, alpha=0.75):
    return torch.where(x < x_max, x**alpha / x_max, torch.ones_like(x))


def _detached_context(W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75):
    return sol.glove_loss(W, W_ctx.detach(), b, b_ctx, X, x_max, alpha)


def _swapped_biases(W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75):
    return sol.glove_loss(W, W_ctx, b_ctx, b, X, x_max, alpha)


def _hard_coded_loss(W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75):
    if X.shape == (6, 6):  # the old checker's one test matrix
        return sol.glove_loss(W, W_ctx, b, b_ctx, X, x_max, alpha)
    return (W * 0).sum()


GLOVE_WRONG = [
    Wrong("X instead of log X", _loss_with(use_log=False), "instead of log X"),
    Wrong("no biases", _loss_with(biases=False), "biases missing"),
    Wrong("W for both", _loss_with(ctx=False), "W for both words"),
    Wrong("transposed", _loss_with(transpose=True), "rows and columns"),
    Wrong("uncapped", _loss_with(weight=_uncapped), "not capped at 1"),
    Wrong("x ** a / m", _loss_with(weight=_x_pow_alpha), "alpha applied"),
    Wrong(
        "no weight",
        _loss_with(weight=lambda x, x_max, alpha: torch.ones_like(x)),
        r"weighting f\(X_ij\) is missing",
    ),
    Wrong("mean", _loss_with(reduce="mean"), "not a mean"),
    Wrong("all cells", _loss_with(nonzero=False), "not finite"),
    Wrong(
        "parameters ignored",
        _loss_with(fixed_params=True),
        "ignores its x_max / alpha",
    ),
    Wrong("half", _loss_with(half=True), f"{GENERIC}.*J = sum"),
    Wrong("biases swapped", _swapped_biases, GENERIC),
    Wrong(
        ".item()",
        lambda W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75: sol.glove_loss(
            W, W_ctx, b, b_ctx, X, x_max, alpha
        ).item(),
        "autograd",
    ),
    Wrong(
        "a vector",
        lambda W, W_ctx, b, b_ctx, X, x_max=100.0, alpha=0.75: W.sum(-1),
        "single number",
    ),
    Wrong("W_ctx detached", _detached_context, "wrong gradient.*W_ctx"),
    Wrong("hard-coded for a 6-word matrix", _hard_coded_loss, GENERIC),
]


def test_glove_loss_rejects_wrong_answers():
    assert_rejects(ch04.check_glove_loss, GLOVE_WRONG)


# ---------------------------------------------------------------- cross-entropy


def _rows(logits):
    return torch.arange(len(logits))


def _ce_hard_coded(z, y):
    if z.shape == (4, 5):  # the old checker's batch
        return F.cross_entropy(z, y)
    return torch.tensor(1.0)


def _ce_no_add_back(z, y):
    m = z.max(dim=-1, keepdim=True).values
    return (torch.log(torch.exp(z - m).sum(-1)) - z[_rows(z), y]).mean()


def _ce_batch_max(z, y):
    m = z.max()
    log_z = m + torch.log(torch.exp(z - m).sum(dim=-1))
    return (log_z - z[_rows(z), y]).mean()


CE_WRONG = [
    Wrong(
        "softmax over the batch",
        lambda z, y: -torch.log_softmax(z, dim=0)[_rows(z), y].mean(),
        "wrong axis",
    ),
    Wrong(
        "log of logits",
        lambda z, y: -torch.log(z)[_rows(z), y].mean(),
        "log of the logits",
    ),
    Wrong(
        "exp / sum exp",
        lambda z, y: (
            -torch.log(
                (torch.exp(z) / torch.exp(z).sum(-1, keepdim=True))[_rows(z), y]
            ).mean()
        ),
        "not numerically stable",
    ),
    Wrong(
        "log(softmax)",
        lambda z, y: -torch.log(torch.softmax(z, -1)[_rows(z), y]).mean(),
        "not numerically stable",
    ),
    Wrong(
        "log sum exp without the max",
        lambda z, y: (torch.log(torch.exp(z).sum(-1)) - z[_rows(z), y]).mean(),
        "not numerically stable",
    ),
    Wrong(
        "sum",
        lambda z, y: (torch.logsumexp(z, -1) - z[_rows(z), y]).sum(),
        "not the sum",
    ),
    Wrong(
        "sign",
        lambda z, y: -(torch.logsumexp(z, -1) - z[_rows(z), y]).mean(),
        "wrong sign",
    ),
    Wrong(
        "softmax twice",
        lambda z, y: F.cross_entropy(torch.softmax(z, -1), y),
        "softmax twice",
    ),
    Wrong(
        "no log",
        lambda z, y: -torch.softmax(z, -1)[_rows(z), y].mean(),
        "take the log",
    ),
    Wrong(
        "per-row losses",
        lambda z, y: torch.logsumexp(z, -1) - z[_rows(z), y],
        "single number",
    ),
    Wrong("max not added back", _ce_no_add_back, "add it back"),
    Wrong("max of the batch", _ce_batch_max, "own maximum"),
    Wrong(
        "logits[:, targets]",
        lambda z, y: (torch.logsumexp(z, -1) - z[:, y]).mean(),
        r"logits\[:, targets\]",
    ),
    Wrong(
        "targets ignored (class 0)",
        lambda z, y: (torch.logsumexp(z, -1) - z[:, 0]).mean(),
        GENERIC,
    ),
    Wrong("hard-coded for a (4, 5) batch", _ce_hard_coded, GENERIC),
]


def test_cross_entropy_rejects_wrong_answers():
    assert_rejects(ch04.check_cross_entropy, CE_WRONG)


# ---------------------------------------------------------------- causal LM
# loss


def _nll(logits, targets, dim=-1):
    return (
        -torch.log_softmax(logits, dim)
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


def _sequence_losses(logits, labels):
    return torch.stack(
        [
            sol.causal_lm_loss(logits[i : i + 1], labels[i : i + 1])
            for i in range(len(labels))
        ]
    )


def _per_sequence(logits, labels):
    return _sequence_losses(logits, labels).mean()


def _per_sequence_nan_skipped(logits, labels):
    losses = _sequence_losses(logits, labels)
    return losses[~losses.isnan()].mean()  # a sequence with no target skipped


def _crashes_on_minus_100(logits, labels):
    return (
        -torch.log_softmax(logits[:, :-1], -1)
        .gather(-1, labels[:, 1:, None])
        .mean()
    )


def _summed(logits, labels):
    target = labels[:, 1:]
    return _nll(logits[:, :-1], target)[target != -100].sum()


def _mask_from_unshifted(logits, labels):
    target = labels[:, 1:]
    return _nll(logits[:, :-1], target)[labels[:, :-1] != -100].mean()


def _zero_ignored_too(logits, labels):
    target = labels[:, 1:]
    keep = (target != -100) & (target != 0)
    return _nll(logits[:, :-1], target)[keep].mean()


def _softmax_over_time(logits, labels):
    target = labels[:, 1:]
    return _nll(logits[:, :-1], target, dim=1)[target != -100].mean()


def _shape_mismatch(logits, labels):
    return F.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]), labels.reshape(-1)
    )


def _hard_coded_lm(logits, labels):
    if logits.shape[:2] == (3, 10):  # the old checker's padded batch
        return sol.causal_lm_loss(logits, labels)
    return torch.tensor(2.0)


LM_WRONG = [
    Wrong("no shift", _unshifted, "labels not shifted"),
    Wrong("shift the wrong way", _wrong_direction, "wrong way"),
    Wrong("padding counted", _padding_counted, "averaged over padding"),
    Wrong(
        "zeroed, divided by all",
        _zeroed_but_divided_by_all,
        "still divided by all positions",
    ),
    Wrong("mean per sequence", _per_sequence, "per sequence"),
    Wrong(
        "mean per sequence, empty skipped",
        _per_sequence_nan_skipped,
        "per sequence",
    ),
    Wrong("-100 as an index", _crashes_on_minus_100, "-100 is not ignored"),
    Wrong("sum", _summed, "not the sum"),
    Wrong("mask one position off", _mask_from_unshifted, "one position off"),
    Wrong("label 0 ignored", _zero_ignored_too, "label 0"),
    Wrong("softmax over time", _softmax_over_time, "wrong axis"),
    Wrong("labels not cut", _shape_mismatch, "raised"),
    Wrong("hard-coded for a (3, 10) batch", _hard_coded_lm, GENERIC),
]


def test_causal_lm_loss_rejects_wrong_answers():
    assert_rejects(ch04.check_causal_lm_loss, LM_WRONG)


def test_the_flawed_nbgrader_submission_is_named():
    """tests/test_nbgrader.py's flawed causal_lm_loss (no shift)."""

    def causal_lm_loss(logits, labels):
        keep = labels != -100
        log_probs = torch.log_softmax(logits, dim=-1)
        nll = -log_probs.gather(-1, labels.clamp(min=0)[..., None])[..., 0]
        return nll[keep].mean()

    with pytest.raises(CheckFailed, match="labels not shifted"):
        ch04.check_causal_lm_loss(causal_lm_loss)


def _tiny_gpt_batch():
    """A 1-layer GPT-2's logits, labels and own loss on a padded batch."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=50, n_positions=16, n_embd=16, n_layer=1, n_head=2
    )
    model = GPT2LMHeadModel(config).eval()
    gen = torch.Generator().manual_seed(1)
    input_ids = torch.randint(2, 50, (3, 10), generator=gen)
    mask = torch.ones_like(input_ids)
    mask[1, 6:] = 0
    mask[2, :3] = 0  # one right-padded and one left-padded sequence
    labels = input_ids.masked_fill(mask == 0, -100)
    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=mask, labels=labels)
    return out.logits, labels, out.loss


def test_the_reference_is_the_model_loss():
    """The checker's reference equals GPT2LMHeadModel's own loss."""
    logits, labels, model_loss = _tiny_gpt_batch()
    torch.testing.assert_close(ch04._lm_ref(logits, labels).float(), model_loss)
    torch.testing.assert_close(sol.causal_lm_loss(logits, labels), model_loss)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(2, 8),
    st.integers(2, 12),
    st.integers(0, 2**31 - 1),
)
def test_the_solution_matches_the_reference_on_generated_batches(B, T, V, seed):
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, T + 1, (B,), generator=gen).tolist()
    lengths[0] = T  # at least one token to predict
    for side in ("right", "left"):
        logits, labels = ch04._lm_batch(gen, lengths, T, V, side)
        torch.testing.assert_close(
            sol.causal_lm_loss(logits, labels).double(),
            ch04._lm_ref(logits, labels),
            rtol=1e-4,
            atol=1e-5,
        )
        z = logits[:, 0] * 100  # large logits
        y = labels[:, 0].clamp(min=0)
        torch.testing.assert_close(
            sol.cross_entropy_from_logits(z, y).double(),
            ch04._ce_ref(z, y),
            rtol=1e-4,
            atol=1e-3,  # logits of ~1e3 in float32: ulp 6e-5, a few ops
        )
