"""Chapter 7 checkers: the solutions pass, each diagnosed mistake fails with its
message, stubs say "not written yet".
"""

import pytest
import torch
import torch.nn.functional as F

from mutants import Wrong, assert_rejects
from sklearn.metrics import precision_recall_fscore_support
from solutions import ch07_fine_tuning as sol

from course_utils.checks import ch07
from course_utils.errors import CheckFailed


def stub(*args, **kwargs):
    raise NotImplementedError


# --- compute_metrics ----------------------------------------------------------


def test_compute_metrics_solution_passes(capsys):
    ch07.check_compute_metrics(sol.compute_metrics)
    assert "compute_metrics: all checks passed" in capsys.readouterr().out


def test_compute_metrics_stub():
    with pytest.raises(CheckFailed, match="compute_metrics is not written yet"):
        ch07.check_compute_metrics(stub)


def _with_average(average):
    """A compute_metrics that averages the classes with ``average``."""

    def metrics(eval_pred):
        logits, labels = eval_pred
        return ch07._reference_metrics(logits, labels, average)

    return metrics


def _swapped(eval_pred):
    out = sol.compute_metrics(eval_pred)
    out["macro_precision"], out["macro_recall"] = (
        out["macro_recall"],
        out["macro_precision"],
    )
    return out


def _argmax_axis0(eval_pred):
    logits, labels = eval_pred
    return sol.compute_metrics((logits.T, labels))


def _with_zero_division_1(eval_pred):
    return ch07._reference_metrics(*eval_pred, zero_division=1)


def _per_class(eval_pred):
    logits, labels = eval_pred
    out = sol.compute_metrics(eval_pred)
    p, r, f, _ = precision_recall_fscore_support(
        labels, logits.argmax(-1), average=None, zero_division=0
    )
    return {**out, "macro_precision": p, "macro_recall": r, "macro_f1": f}


GENERIC = "gives a different result on"

METRICS_WRONG = [
    Wrong("average='weighted'", _with_average("weighted"), "'weighted'"),
    Wrong("average='micro'", _with_average("micro"), "'micro'"),
    Wrong("precision and recall swapped", _swapped, "swapped"),
    Wrong(
        "macro_f1 is the accuracy",
        lambda ep: {
            **sol.compute_metrics(ep),
            "macro_f1": sol.compute_metrics(ep)["accuracy"],
        },
        "equals the accuracy",
    ),
    Wrong("zero_division=1", _with_zero_division_1, "zero_division=0"),
    Wrong(
        "every class of the logits averaged",
        lambda ep: ch07._reference_metrics(*ep, "all"),
        "classes present",
    ),
    Wrong(
        "accuracy hard-coded",
        lambda ep: {**sol.compute_metrics(ep), "accuracy": 0.0},
        GENERIC,
    ),
    Wrong(
        "argmin for the predictions",
        lambda ep: sol.compute_metrics((-ep[0], ep[1])),
        GENERIC,
    ),
    Wrong("argmax over the examples", _argmax_axis0, "raised|" + GENERIC),
    Wrong("scores per class", _per_class, "single number"),
    Wrong("keys missing", lambda ep: {"accuracy": 0.5}, "missing the key"),
    Wrong("a list returned", lambda ep: [0.5], "returned a list"),
]


def test_compute_metrics_rejects_wrong_answers():
    assert_rejects(ch07.check_compute_metrics, METRICS_WRONG)


# --- warm-up schedule ---------------------------------------------------------


def test_warmup_solution_passes(capsys):
    ch07.check_warmup_multiplier(sol.warmup_multiplier)
    assert "warmup_multiplier: all checks passed" in capsys.readouterr().out


def test_warmup_stub():
    with pytest.raises(
        CheckFailed, match="warmup_multiplier is not written yet"
    ):
        ch07.check_warmup_multiplier(stub)


def _decay(s, w, t):
    return max(0.0, (t - s) / max(1, t - w))


def _warm(warm, decay=_decay):
    return lambda s, w, t: warm(s, w) if s < w else decay(s, w, t)


WARMUP_WRONG = [
    Wrong("starts at 1", _warm(lambda s, w: 1.0), "starts at 1"),
    Wrong("one step ahead", _warm(lambda s, w: (s + 1) / w), "one step ahead"),
    Wrong(
        "no decay",
        _warm(lambda s, w: s / max(1, w), lambda s, w, t: 1.0),
        "stays at 1",
    ),
    Wrong(
        "decay over total_steps",
        _warm(lambda s, w: s / max(1, w), lambda s, w, t: (t - s) / t),
        "divides by total_steps",
    ),
    Wrong(
        "not clipped at 0",
        _warm(
            lambda s, w: s / max(1, w),
            lambda s, w, t: (t - s) / max(1, t - w),
        ),
        "below 0",
    ),
    Wrong("squared warm-up", _warm(lambda s, w: (s / w) ** 2), GENERIC),
    Wrong(
        "decay one step late",
        _warm(
            lambda s, w: s / w,
            lambda s, w, t: min(1.0, max(0.0, (t - s + 1) / max(1, t - w))),
        ),
        GENERIC,
    ),
    Wrong(
        "warmup_steps ignored",
        lambda s, w, t: max(0.0, (t - s) / max(1, t)),
        GENERIC,
    ),
    Wrong(
        "no guard for warmup_steps=0",
        lambda s, w, t: s / w if s < w else max(0.0, (t - s) / (t - w)),
        "ZeroDivisionError",
    ),
    Wrong("a string returned", lambda s, w, t: "x", "return one number"),
]


def test_warmup_rejects_wrong_answers():
    assert_rejects(ch07.check_warmup_multiplier, WARMUP_WRONG)


# --- the buggy loop -----------------------------------------------------------


def _loop(
    zero_grad=True,
    modes=True,
    aligned=True,
    order="zero_backward_step",
    val_labels="val",
    eval_at="end",
    skip_last=False,
    global_shuffle=False,
    loss="mean",
    epochs_seen=None,
):
    """The official loop with the named change."""

    def evaluate(model, val_x, val_y, y):
        if modes:
            model.eval()
        labels = val_y if val_labels == "val" else y[: len(val_y)]
        with torch.no_grad():
            return (model(val_x).argmax(-1) == labels).float().mean().item()

    def fit(
        model, optimizer, x, y, val_x, val_y, epochs, batch_size, generator
    ):
        accuracies = []
        for _ in range(epochs_seen or epochs):
            if eval_at == "start":
                accuracies.append(evaluate(model, val_x, val_y, y))
            if modes:
                model.train()
            perm_x = (
                torch.randperm(len(x))
                if global_shuffle
                else torch.randperm(len(x), generator=generator)
            )
            perm_y = (
                perm_x
                if aligned
                else torch.randperm(len(y), generator=generator)
            )
            end = len(x) - batch_size + 1 if skip_last else len(x)
            for i in range(0, end, batch_size):
                batch = F.cross_entropy(
                    model(x[perm_x[i : i + batch_size]]),
                    y[perm_y[i : i + batch_size]],
                    reduction="sum" if loss == "sum" else "mean",
                )
                if zero_grad and order == "zero_backward_step":
                    optimizer.zero_grad()
                batch.backward()
                if order == "backward_zero_step":
                    optimizer.zero_grad()
                optimizer.step()
            if eval_at == "end":
                accuracies.append(evaluate(model, val_x, val_y, y))
        return accuracies[:epochs] + [0.5] * (epochs - len(accuracies))

    return fit


def test_fit_solution_passes(capsys):
    ch07.check_fit(sol.fit)
    assert "fit (gradients reset" in capsys.readouterr().out


def test_fit_stub():
    with pytest.raises(CheckFailed, match="fit is not written yet"):
        ch07.check_fit(stub)


def test_fit_broken_loop_names_all_bugs():
    with pytest.raises(CheckFailed, match="bug") as err:
        ch07.check_fit(_loop(zero_grad=False, modes=False, aligned=False))
    text = str(err.value)
    for phrase in (
        "3 bug",
        "gradients accumulate",
        "dropout is still active",
        "shuffled separately",
    ):
        assert phrase in text


@pytest.mark.parametrize(
    "kwargs, message, absent",
    [
        ({"zero_grad": False}, "1 bug.*gradients accumulate", "shuffled"),
        ({"aligned": False}, "1 bug.*shuffled separately", "accumulate"),
        ({"modes": False}, "1 bug.*dropout is still active", "accumulate"),
    ],
)
def test_fit_each_bug_alone_is_named(kwargs, message, absent):
    with pytest.raises(CheckFailed, match=message) as err:
        ch07.check_fit(_loop(**kwargs))
    assert absent not in str(err.value)


def test_fit_eval_without_train_is_named():
    def fit(
        model, optimizer, x, y, val_x, val_y, epochs, batch_size, generator
    ):
        accuracies = []
        # model.eval() after each epoch, but never model.train() again
        for _ in range(epochs):
            perm = torch.randperm(len(x), generator=generator)
            for i in range(0, len(x), batch_size):
                loss = F.cross_entropy(
                    model(x[perm[i : i + batch_size]]),
                    y[perm[i : i + batch_size]],
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                accuracies.append(
                    (model(val_x).argmax(-1) == val_y).float().mean().item()
                )
        return accuracies

    with pytest.raises(CheckFailed, match="1 bug.*not in training mode"):
        ch07.check_fit(fit)


def test_fit_that_never_evaluates():
    def fit(
        model, optimizer, x, y, val_x, val_y, epochs, batch_size, generator
    ):
        _loop()(
            model,
            optimizer,
            x,
            y,
            x[:10],
            y[:10],
            epochs,
            batch_size,
            generator,
        )
        return [0.5] * epochs

    with pytest.raises(CheckFailed, match="never ran the model on val_x"):
        ch07.check_fit(fit)


def test_fit_wrong_return():
    with pytest.raises(CheckFailed, match="accuracies for 3 epochs"):
        ch07.check_fit(lambda *a: [0.1])


def _hard_coded(*args):
    return [0.3, 0.4, 0.5]


FIT_WRONG = [
    Wrong("no zero_grad", _loop(zero_grad=False), "1 bug.*accumulate"),
    Wrong("no train/eval modes", _loop(modes=False), "1 bug.*dropout"),
    Wrong("labels shuffled apart", _loop(aligned=False), "1 bug.*shuffled"),
    Wrong(
        "zero_grad between backward and step (issue 16)",
        _loop(order="backward_zero_step"),
        "1 bug.*found no gradients",
    ),
    Wrong(
        "validation accuracy against the training labels (issue 16)",
        _loop(val_labels="train"),
        "1 bug.*not those of the model's predictions",
    ),
    Wrong(
        "evaluation at the start of each epoch (issue 16)",
        _loop(eval_at="start"),
        "1 bug.*END of every epoch",
    ),
    Wrong(
        "last short batch skipped", _loop(skip_last=True), "1 bug.*every row"
    ),
    Wrong(
        "shuffle from the global random state",
        _loop(global_shuffle=True),
        "1 bug.*generator",
    ),
    Wrong("summed loss", _loop(loss="sum"), "1 bug.*mean cross-entropy"),
    Wrong("one epoch too few", _loop(epochs_seen=2), "every row|END of every"),
    Wrong("accuracies hard-coded", _hard_coded, "never trained"),
    Wrong(
        "all three bugs of broken_fit",
        _loop(zero_grad=False, modes=False, aligned=False),
        "3 bug",
    ),
]


def test_fit_rejects_wrong_answers():
    assert_rejects(ch07.check_fit, FIT_WRONG)
