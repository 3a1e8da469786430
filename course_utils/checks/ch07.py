"""Checkers for the exercises of chapter 7 (fine-tuning): compute_metrics, the
warm-up schedule, a buggy loop.

``check_compute_metrics`` and ``check_warmup_multiplier`` decide right or
wrong against scikit-learn and ``get_linear_schedule_with_warmup`` on fixed
and seeded random cases, and name a mistake only when it reproduces the
answer. ``check_fit`` runs the student's training loop on a tiny linear "spy"
model and optimizer that record every forward (training flag, rows seen, the
gradient into the logits) and every step (its gradients, the weights before
and after), and checks what training must do: each step applies its own
batch's mean cross-entropy gradient with aligned labels and moves the
weights, every row is seen once per epoch, evaluation runs in eval mode after
each epoch, the accuracies returned are those of the recorded predictions,
and the same generator gives the same run.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

import random

from . import (
    Case,
    call_student,
    compare_with_reference,
    fail,
    passed,
    same_result,
    validator,
)

KEYS = ("accuracy", "macro_precision", "macro_recall", "macro_f1")


# ------------------------------------------------------------------------------
# compute_metrics
# ------------------------------------------------------------------------------


def _metric_cases() -> list[Case]:
    """Imbalanced classes (macro and weighted averages differ), a class never
    predicted, ties in the logits, one example, two classes, then seeded
    random cases.
    """
    rng = np.random.default_rng(0)
    labels = np.array([0] * 14 + [1] * 4 + [2] * 2)
    logits = rng.normal(size=(20, 3)).astype(np.float32)
    # better than chance, not perfect
    logits[np.arange(20), labels] += rng.uniform(0, 2, size=20)
    fixed = [
        ("20 imbalanced examples of 3 classes", logits, labels),
        (
            "3 examples, class 2 neither in labels nor predicted",
            np.array([[2, 1, 0], [0, 3, 1], [1, 0, -1]], "f4"),
            np.array([0, 1, 1]),
        ),
        (
            "4 examples, class 2 never predicted",
            np.array([[2, 1, 0], [0, 3, 1], [1, 0, 0], [0, 2, 1]], "f4"),
            np.array([0, 1, 2, 1]),
        ),
        (
            "3 examples with tied logits",
            np.array([[1, 1, 0], [0, 2, 2], [5, 5, 5]], "f4"),
            np.array([1, 2, 0]),
        ),
        ("one example", np.array([[0.2, 0.9]], "f4"), np.array([0])),
        (
            "6 examples of 2 classes",
            np.array([[1, 0], [0, 1], [2, 1], [1, 3], [0, 2], [3, 1]], "f4"),
            np.array([0, 1, 1, 1, 0, 0]),
        ),
    ]
    for k in range(8):
        n, classes = int(rng.integers(2, 40)), int(rng.integers(2, 6))
        labels = rng.integers(0, classes, size=n)
        logits = rng.normal(size=(n, classes)).astype(np.float32)
        logits[np.arange(n), labels] += rng.uniform(0, 1.5, size=n)
        fixed.append((f"random case {k} ({n} examples)", logits, labels))
    return [
        Case(f"{label} (logits of shape {logits.shape})", ((logits, y),))
        for label, logits, y in fixed
    ]


def _reference_metrics(logits, labels, average="macro", zero_division=0):
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    pred = logits.argmax(-1)
    p, r, f, _ = precision_recall_fscore_support(
        labels,
        pred,
        labels=np.arange(logits.shape[-1]) if average == "all" else None,
        average="macro" if average == "all" else average,
        zero_division=zero_division,
    )
    return {
        "accuracy": accuracy_score(labels, pred),
        "macro_precision": p,
        "macro_recall": r,
        "macro_f1": f,
    }


def reference_metrics(eval_pred) -> dict:
    """The official ``compute_metrics``: scikit-learn's macro scores."""
    return _reference_metrics(*eval_pred)


def _same_metrics(expected: dict, got) -> bool:
    """The four scores within 1e-6 (a handful of float divisions); other
    keys are allowed, Trainer logs them too.
    """
    if not isinstance(got, dict) or any(k not in got for k in KEYS):
        return False
    try:
        values = [float(got[k]) for k in KEYS]
    except (TypeError, ValueError):
        return False
    return all(
        math.isclose(v, expected[k], abs_tol=1e-6) for k, v in zip(KEYS, values)
    )


def _validate_metrics(result, eval_pred) -> None:
    """Name a result that is not a dict of four numbers."""
    if not isinstance(result, dict):
        fail(
            f"compute_metrics returned a {type(result).__name__}; return a "
            "dict such as {'accuracy': ..., 'macro_f1': ...}."
        )
    missing = [k for k in KEYS if k not in result]
    if missing:
        fail(
            f"compute_metrics is missing the key(s) {missing}: return "
            f"{list(KEYS)}."
        )
    try:
        [float(result[k]) for k in KEYS]
    except (TypeError, ValueError):
        fail(
            "every value of compute_metrics must be a single number (a "
            "float), not an array."
        )


def _metrics_with(**changes):
    """The reference with one change (see :func:`_metric_diagnoses`)."""

    def metrics(eval_pred):
        logits, labels = eval_pred
        if changes.get("swap"):
            out = _reference_metrics(logits, labels)
            out["macro_precision"], out["macro_recall"] = (
                out["macro_recall"],
                out["macro_precision"],
            )
            return out
        out = _reference_metrics(
            logits,
            labels,
            changes.get("average", "macro"),
            changes.get("zero_division", 0),
        )
        if changes.get("f1_is_accuracy"):
            out["macro_f1"] = out["accuracy"]
        return out

    return metrics


def _metric_diagnoses():
    averages = [
        (
            f"you used average='{avg}': macro scores give every class the "
            "same weight, so pass average='macro' to "
            "precision_recall_fscore_support / f1_score.",
            _metrics_with(average=avg),
        )
        for avg in ("weighted", "micro")
    ]
    return averages + [
        (
            "your precision and recall are swapped: precision is the share of "
            "the predicted class that is correct, recall the share of the "
            "true class that is found; check the argument order (y_true "
            "first).",
            _metrics_with(swap=True),
        ),
        (
            "your macro_f1 equals the accuracy: compute F1 per class and "
            "average the classes (average='macro').",
            _metrics_with(f1_is_accuracy=True),
        ),
        (
            "a class that is never predicted counts as precision 1: pass "
            "zero_division=0, so that it counts as 0, as the exercise asks.",
            _metrics_with(zero_division=1),
        ),
        (
            "you averaged over every class of the logits, also classes that "
            "appear neither in the labels nor in the predictions: average "
            "over the classes present (scikit-learn's default labels).",
            _metrics_with(average="all"),
        ),
    ]


def check_compute_metrics(compute_metrics) -> None:
    """Check ``compute_metrics((logits [n, classes], labels [n])) -> dict``
    against scikit-learn.
    """
    compare_with_reference(
        compute_metrics,
        reference_metrics,
        _metric_cases(),
        name="compute_metrics",
        same=_same_metrics,
        diagnoses=_metric_diagnoses(),
        validate=validator(_validate_metrics),
        hint="Predictions are logits.argmax(axis=-1), and the scores are "
        "macro averages over the classes (precision_recall_fscore_support"
        "(labels, predictions, average='macro', zero_division=0)).",
    )
    passed("compute_metrics")


# ------------------------------------------------------------------------------
# warm-up schedule
# ------------------------------------------------------------------------------


def reference_multiplier(step, warmup_steps, total_steps) -> float:
    """transformers' ``get_linear_schedule_with_warmup`` multiplier."""
    return _schedule_lambda(warmup_steps, total_steps)(step)


@functools.lru_cache(maxsize=64)
def _schedule_lambda(warmup_steps, total_steps):
    # one scheduler per schedule, not per step: building one takes ~5 ms
    from transformers import get_linear_schedule_with_warmup

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = get_linear_schedule_with_warmup(opt, warmup_steps, total_steps)
    return sched.lr_lambdas[0]


def _warmup_cases() -> list[Case]:
    """Every step (and two past the end) of fixed schedules, among them no
    warm-up and warm-up to the last step, then seeded random ones.
    """
    schedules = [(4, 20), (10, 30), (0, 8), (3, 3), (1, 5), (0, 1), (7, 9)]
    rng = random.Random(0)
    for _ in range(5):
        warmup = rng.randint(0, 12)
        schedules.append((warmup, warmup + rng.randint(1, 25)))
    return [
        Case(f"step={s}, warmup_steps={w}, total_steps={t}", (s, w, t))
        for w, t in schedules
        for s in range(t + 3)
    ]


def _same_multiplier(expected: float, got) -> bool:
    # a division or two in float64
    return same_result(expected, got, atol=1e-9, rtol=1e-9)


def _validate_multiplier(value, step, warmup_steps, total_steps) -> None:
    try:
        float(value)
    except (TypeError, ValueError):
        fail(
            f"warmup_multiplier returned {value!r}; return one number, the "
            "multiplier of the learning rate."
        )


def _schedule(warm, decay):
    """A multiplier from ``warm(s, w)`` and ``decay(s, w, t)``."""

    def multiplier(step, warmup_steps, total_steps):
        if step < warmup_steps:
            return warm(step, warmup_steps)
        return decay(step, warmup_steps, total_steps)

    return multiplier


def _right_decay(s, w, t):
    return max(0.0, (t - s) / max(1, t - w))


def _warmup_diagnoses():
    return [
        (
            "the multiplier starts at 1: during warm-up it must grow "
            "linearly from 0, step / warmup_steps.",
            _schedule(lambda s, w: 1.0, _right_decay),
        ),
        (
            "your warm-up is one step ahead: at step 0 the multiplier is 0, "
            "so use step / warmup_steps, not (step + 1) / warmup_steps.",
            _schedule(lambda s, w: (s + 1) / w, _right_decay),
        ),
        (
            "after warm-up your multiplier stays at 1: it must fall linearly "
            "to 0 at total_steps.",
            _schedule(lambda s, w: s / w, lambda s, w, t: 1.0),
        ),
        (
            "your decay divides by total_steps: after warm-up the multiplier "
            "goes from 1 to 0 over the remaining total_steps - warmup_steps "
            "steps.",
            _schedule(
                lambda s, w: s / w, lambda s, w, t: max(0.0, (t - s) / t)
            ),
        ),
        (
            "your decay divides by total_steps: after warm-up the multiplier "
            "goes from 1 to 0 over the remaining total_steps - warmup_steps "
            "steps.",
            _schedule(lambda s, w: s / w, lambda s, w, t: (t - s) / t),
        ),
        (
            "your multiplier goes below 0 after total_steps: clip it at 0 "
            "(max(0.0, ...)).",
            _schedule(
                lambda s, w: s / w, lambda s, w, t: (t - s) / max(1, t - w)
            ),
        ),
    ]


def check_warmup_multiplier(warmup_multiplier) -> None:
    """Check ``warmup_multiplier(step, warmup_steps, total_steps)`` against
    get_linear_schedule_with_warmup.
    """
    compare_with_reference(
        warmup_multiplier,
        reference_multiplier,
        _warmup_cases(),
        name="warmup_multiplier",
        same=_same_multiplier,
        diagnoses=_warmup_diagnoses(),
        validate=validator(_validate_multiplier),
        hint="Use step / max(1, warmup_steps) during warm-up, then max(0, "
        "(total_steps - step) / max(1, total_steps - warmup_steps)).",
    )
    passed("warmup_multiplier")


# ------------------------------------------------------------------------------
# The buggy training loop
# ------------------------------------------------------------------------------


class _SpyModel(torch.nn.Module):
    """logits = x W^T + b, appending each forward to ``log``: training flag,
    rows seen, logits and the gradient that flows back into them.
    """

    def __init__(self, dim, classes, log, seed=0):
        super().__init__()
        self.linear = torch.nn.Linear(dim, classes)
        # a generator of its own: the student's global random state is left
        # alone, so a shuffle that uses it shows up as irreproducible
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.linear.weight.copy_(torch.randn(classes, dim, generator=g))
            self.linear.bias.copy_(torch.randn(classes, generator=g))
        self.log = log

    def forward(self, x):
        logits = self.linear(x)
        record = {
            "kind": "forward",
            "training": self.training,
            "x": x.detach().clone(),
            "logits": logits.detach().clone(),
            "dlogits": None,
        }
        if logits.requires_grad:
            logits.register_hook(
                lambda g: record.__setitem__("dlogits", g.detach().clone())
            )
        self.log.append(record)
        return logits


class _SpyOptimizer(torch.optim.SGD):
    """SGD that appends each step to ``log``: the gradients it was given
    and the weights before and after.
    """

    def __init__(self, params, lr, log):
        super().__init__(params, lr=lr)
        self.log = log

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def step(self, closure=None):
        record = {
            "kind": "step",
            "grads": [
                None if p.grad is None else p.grad.detach().clone()
                for p in self._params()
            ],
            "before": [p.detach().clone() for p in self._params()],
        }
        out = super().step(closure)
        record["after"] = [p.detach().clone() for p in self._params()]
        self.log.append(record)
        return out


BUG_MESSAGES = {
    "zero_grad": "gradients accumulate across steps (call "
    "optimizer.zero_grad() once per step)",
    "no_grad": "optimizer.step() found no gradients, so the weights did not "
    "move (the order in every step is optimizer.zero_grad(), "
    "loss.backward(), optimizer.step())",
    "train": "the model is not in training mode while it trains (call "
    "model.train() at the start of every epoch)",
    "eval": "dropout is still active during evaluation (call model.eval() "
    "before predicting on the validation set)",
    "labels": "the labels are shuffled separately from the inputs (index x "
    "and y with the same permutation)",
    "loss": "the loss is not the mean cross-entropy of the batch (use "
    "F.cross_entropy(model(x[idx]), y[idx]))",
    "batches": "an epoch does not train once on every row in mini-batches of "
    "batch_size with one optimizer step each (for i in range(0, len(x), "
    "batch_size); the last batch may be shorter)",
    "timing": "the validation accuracy is not measured on all of val_x after "
    "each epoch's training (evaluate at the END of every epoch)",
    "accuracy": "the accuracies returned are not those of the model's "
    "predictions on val_x (compare model(val_x).argmax(-1) with val_y, not "
    "with the training labels, and return the share that agree)",
    "generator": "the shuffle does not follow `generator`: the same "
    "generator must give the same batches, another seed other ones (use "
    "torch.randperm(len(x), generator=generator))",
}
# the three bugs of broken_fit, named as fixed once they are gone
_BROKEN_FIT_BUGS = ("zero_grad", "eval", "labels")

_N, _DIM, _CLASSES, _VAL, _EPOCHS, _BATCH, _LR = 26, 5, 3, 20, 3, 6, 0.1
# column 0 names each row: row / 100 in x, 10 + row / 100 in val_x (small,
# so that it does not saturate the softmax; exact after rounding)
_SCALE, _VAL_ROW = 100.0, 10.0


def _data():
    """Training and validation sets whose column 0 names each row."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(_N, _DIM, generator=g)
    x[:, 0] = torch.arange(_N) / _SCALE
    y = torch.randint(0, _CLASSES, (_N,), generator=g)
    val_x = torch.randn(_VAL, _DIM, generator=g)
    val_x[:, 0] = _VAL_ROW + torch.arange(_VAL) / _SCALE
    val_y = torch.randint(0, _CLASSES, (_VAL,), generator=g)
    return x, y, val_x, val_y


def _run(fit, seed=0):
    """Run the student's fit on the spies: (accuracies, log, model)."""
    log = []
    model = _SpyModel(_DIM, _CLASSES, log)  # in training mode, as built
    optimizer = _SpyOptimizer(model.parameters(), _LR, log)
    x, y, val_x, val_y = _data()
    result = call_student(
        fit,
        model,
        optimizer,
        x,
        y,
        val_x,
        val_y,
        _EPOCHS,
        _BATCH,
        torch.Generator().manual_seed(seed),
        name="fit",
    )
    try:
        accuracies = [float(a) for a in result]
    except (TypeError, ValueError):
        fail(
            "fit must return a list with the validation accuracy of each "
            "epoch (floats)."
        )
    if len(accuracies) != _EPOCHS:
        fail(
            f"fit returned {len(accuracies)} accuracies for {_EPOCHS} "
            "epochs: evaluate once after every epoch."
        )
    return accuracies, log, model


def _rows(tags: torch.Tensor) -> torch.Tensor:
    """The row numbers that column 0 names."""
    return (tags * _SCALE).round().long()


def _is_val(record) -> bool:
    return bool((record["x"][:, 0] >= _VAL_ROW).all())


def _steps(log):
    """[(step record, the training forwards since the step before)]."""
    steps, batch = [], []
    for record in log:
        if record["kind"] == "step":
            steps.append((record, batch))
            batch = []
        elif record["dlogits"] is not None and not _is_val(record):
            batch.append(record)
    return steps


def _forward_bugs(log, y) -> set:
    """Training mode, evaluation mode, labels and loss, read back from each
    forward: mean cross-entropy has dL/dlogits = (softmax - onehot) / B.
    """
    found = set()
    for c in log:
        if c["kind"] != "forward":
            continue
        if _is_val(c):
            found |= {"eval"} if c["training"] else set()
            continue
        if c["dlogits"] is None:
            continue
        found |= set() if c["training"] else {"train"}
        batch = len(c["x"])
        probs = torch.softmax(c["logits"], -1)
        used = (probs - c["dlogits"] * batch).argmax(-1)
        rows = _rows(c["x"][:, 0])
        if not torch.equal(used, y[rows]):
            found.add("labels")
            continue
        onehot = F.one_hot(y[rows], _CLASSES).float()
        # a softmax and a subtraction, float32: a few u
        if not torch.allclose(
            c["dlogits"], (probs - onehot) / batch, atol=1e-6, rtol=1e-4
        ):
            found.add("loss")
    return found


def _step_bugs(steps) -> set:
    """Each step must apply the gradient of its own batch, and move."""
    found = set()
    for step, batch in steps:
        if not batch:
            found.add("batches")
            continue
        grads = step["grads"]
        if any(g is None or not g.any() for g in grads):
            found.add("no_grad")
            continue
        dlogits = torch.cat([c["dlogits"] for c in batch])
        x = torch.cat([c["x"] for c in batch])
        fresh = [dlogits.T @ x, dlogits.sum(0)]  # weight, bias
        # one matmul over the batch (CONTRIBUTING.md); accumulated
        # gradients differ by a whole gradient
        if not all(
            torch.allclose(g, f, atol=1e-5, rtol=1e-5)
            for g, f in zip(grads, fresh)
        ):
            found.add("zero_grad")
        elif all(
            torch.equal(a, b) for a, b in zip(step["before"], step["after"])
        ):
            found.add("no_grad")
    return found


def _epoch_ends(log, steps):
    """The log index of each epoch's last step, or None when the steps do
    not come in epochs of full coverage.
    """
    per_epoch = math.ceil(_N / _BATCH)
    if len(steps) != _EPOCHS * per_epoch:
        return None
    rows = [
        _rows(torch.cat([c["x"][:, 0] for c in batch])) for _, batch in steps
    ]
    for e in range(_EPOCHS):
        seen = torch.cat(rows[e * per_epoch : (e + 1) * per_epoch])
        if not torch.equal(seen.sort().values, torch.arange(_N)):
            return None
    step_at = [i for i, r in enumerate(log) if r["kind"] == "step"]
    return [step_at[(e + 1) * per_epoch - 1] for e in range(_EPOCHS)]


def _evaluated(log, start, end, val_y):
    """The accuracy of the predictions on val_x between log[start] and
    log[end], or None when they do not cover every row of val_x.
    """
    predictions = torch.full((_VAL,), -1)
    for c in log[start:end]:
        if c["kind"] == "forward" and _is_val(c):
            rows = _rows(c["x"][:, 0] - _VAL_ROW)
            predictions[rows] = c["logits"].argmax(-1)
    if (predictions < 0).any():
        return None
    return (predictions == val_y).double().mean().item()


def _evaluation_bugs(log, steps, accuracies, val_y) -> set:
    """Evaluation after every epoch, and the accuracies it gives."""
    ends = _epoch_ends(log, steps)
    if ends is None:
        return {"batches"}
    starts = [
        next((i for i in range(end, len(log)) if _trains(log[i])), len(log))
        for end in ends
    ]
    found = set()
    for end, start_next, reported in zip(ends, starts, accuracies):
        accuracy = _evaluated(log, end, start_next, val_y)
        if accuracy is None:
            return {"timing"}
        # a share of 20 predictions: exact up to float32 rounding
        if not math.isclose(accuracy, reported, abs_tol=1e-6):
            found.add("accuracy")
    return found


def _trains(record) -> bool:
    return record["kind"] == "forward" and record["dlogits"] is not None


def _reproducibility_bugs(fit, accuracies, model, log) -> set:
    """The same seed gives the same run, another seed another order."""
    again, log_again, model_again = _run(fit, seed=0)
    other_log = _run(fit, seed=1)[1]

    def order(records):
        return [c["x"][:, 0].tolist() for c in records if _trains(c)]

    same = again == accuracies and all(
        torch.equal(a, b)
        for a, b in zip(model.parameters(), model_again.parameters())
    )
    if not same or order(log_again) != order(log):
        return {"generator"}
    return {"generator"} if order(other_log) == order(log) else set()


def _diagnose(fit):
    """The set of bugs left in the student's fit, and its accuracies."""
    accuracies, log, model = _run(fit)
    x, y, val_x, val_y = _data()
    steps = _steps(log)
    if not any(_trains(c) for c in log) or not steps:
        fail(
            "fit never trained: compute the loss of each batch, call "
            "loss.backward() and optimizer.step()."
        )
    if not any(c["kind"] == "forward" and _is_val(c) for c in log):
        fail(
            "fit never ran the model on val_x: compute the validation "
            "accuracy after every epoch."
        )
    found = _forward_bugs(log, y) | _step_bugs(steps)
    found |= _evaluation_bugs(log, steps, accuracies, val_y)
    found |= _reproducibility_bugs(fit, accuracies, model, log)
    return found, accuracies


def check_fit(fit) -> None:
    """Run the student's ``fit`` on a tiny spy model and name every bug that
    is still there.
    """
    found, _ = _diagnose(fit)
    if found:
        order = [b for b in BUG_MESSAGES if b in found]
        fixed = [b for b in _BROKEN_FIT_BUGS if b not in found]
        msg = "; ".join(BUG_MESSAGES[b] for b in order)
        note = f" (already fixed: {', '.join(fixed)})" if fixed else ""
        fail(f"{len(order)} bug(s) left: {msg}{note}.")
    passed(
        "fit (gradients reset, train/eval modes, labels aligned, evaluated "
        "after each epoch)"
    )
