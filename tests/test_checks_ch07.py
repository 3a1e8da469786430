"""Chapter 7 checkers: the solutions pass, each diagnosed mistake fails with its
message, stubs say "not written yet".
"""

import pytest
import torch
import torch.nn.functional as F

from course_utils.checks import ch07
from course_utils.errors import CheckFailed
from solutions import ch07_fine_tuning as sol


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


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_with_average("weighted"), "average='weighted'"),
        (_with_average("micro"), "average='micro'"),
        (_swapped, "precision and recall are swapped"),
        (lambda ep: {"accuracy": 0.5}, "missing the key"),
        (lambda ep: [0.5], "returned a list"),
        (
            lambda ep: {
                **sol.compute_metrics(ep),
                "macro_f1": sol.compute_metrics(ep)["accuracy"],
            },
            "equals the accuracy",
        ),
        (
            lambda ep: {**sol.compute_metrics(ep), "accuracy": 0.0},
            "wrong accuracy",
        ),
    ],
)
def test_compute_metrics_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch07.check_compute_metrics(wrong)


# --- warm-up schedule ---------------------------------------------------------


def test_warmup_solution_passes(capsys):
    ch07.check_warmup_multiplier(sol.warmup_multiplier)
    assert "warmup_multiplier: all checks passed" in capsys.readouterr().out


def test_warmup_stub():
    with pytest.raises(
        CheckFailed, match="warmup_multiplier is not written yet"
    ):
        ch07.check_warmup_multiplier(stub)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda s, w, t: (
                max(0.0, (t - s) / max(1, t - w)) if s >= w else 1.0
            ),
            "starts at 1",
        ),
        (
            lambda s, w, t: (
                (s + 1) / w if s < w else max(0.0, (t - s) / max(1, t - w))
            ),
            "one step ahead",
        ),
        (lambda s, w, t: s / max(1, w) if s < w else 1.0, "stays at 1"),
        (
            lambda s, w, t: s / max(1, w) if s < w else (t - s) / t,
            "divides by total_steps",
        ),
        (
            lambda s, w, t: (
                s / max(1, w) if s < w else (t - s) / max(1, t - w) - 0.5
            ),
            "below 0",
        ),
        (
            lambda s, w, t: (
                (s / max(1, w)) ** 2
                if s < w
                else max(0.0, (t - s) / max(1, t - w))
            ),
            "returned",
        ),
        (lambda s, w, t: "x", "return one number"),
    ],
)
def test_warmup_mistakes_are_named(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch07.check_warmup_multiplier(wrong)


# --- the buggy loop -----------------------------------------------------------


def _loop(zero_grad=True, modes=True, aligned=True):
    def fit(
        model, optimizer, x, y, val_x, val_y, epochs, batch_size, generator
    ):
        accuracies = []
        for _ in range(epochs):
            if modes:
                model.train()
            perm_x = torch.randperm(len(x), generator=generator)
            perm_y = (
                perm_x
                if aligned
                else torch.randperm(len(y), generator=generator)
            )
            for i in range(0, len(x), batch_size):
                loss = F.cross_entropy(
                    model(x[perm_x[i : i + batch_size]]),
                    y[perm_y[i : i + batch_size]],
                )
                if zero_grad:
                    optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            if modes:
                model.eval()
            with torch.no_grad():
                accuracies.append(
                    (model(val_x).argmax(-1) == val_y).float().mean().item()
                )
        return accuracies

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
        return [0.5, 0.5]

    with pytest.raises(CheckFailed, match="never ran the model on val_x"):
        ch07.check_fit(fit)


def test_fit_wrong_return():
    with pytest.raises(CheckFailed, match="accuracies for 2 epochs"):
        ch07.check_fit(lambda *a: [0.1])
