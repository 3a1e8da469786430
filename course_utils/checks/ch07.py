"""Checkers for the exercises of chapter 7 (fine-tuning): compute_metrics, the
warm-up schedule, a buggy loop.

``check_compute_metrics`` compares with scikit-learn on imbalanced cases;
``check_warmup_multiplier`` with
``transformers.get_linear_schedule_with_warmup``; ``check_fit`` runs the
student's training loop on a tiny linear "spy" model that records, for every
forward pass, whether it was in training mode, which rows it saw and the
gradient that flowed into its logits, and so detects each bug by its behaviour:
gradients that accumulate, dropout left on at evaluation, a model never put back
into training mode, labels shuffled apart from their inputs.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import call_student, fail, passed

KEYS = ("accuracy", "macro_precision", "macro_recall", "macro_f1")


# ------------------------------------------------------------------------------
# compute_metrics
# ------------------------------------------------------------------------------


def _metric_cases():
    rng = np.random.default_rng(0)
    # imbalanced: macro and weighted averages differ
    labels = np.array([0] * 14 + [1] * 4 + [2] * 2)
    logits = rng.normal(size=(20, 3)).astype(np.float32)
    # better than chance, not perfect
    logits[np.arange(20), labels] += rng.uniform(0, 2, size=20)
    yield logits, labels
    labels = rng.integers(0, 4, size=30)
    yield rng.normal(size=(30, 4)).astype(np.float32), labels


def _reference_metrics(logits, labels, average="macro"):
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    pred = logits.argmax(-1)
    p, r, f, _ = precision_recall_fscore_support(
        labels, pred, average=average, zero_division=0
    )
    return {
        "accuracy": accuracy_score(labels, pred),
        "macro_precision": p,
        "macro_recall": r,
        "macro_f1": f,
    }


def check_compute_metrics(compute_metrics) -> None:
    """Check ``compute_metrics((logits [n, classes], labels [n])) -> dict``
    against scikit-learn.
    """
    for logits, labels in _metric_cases():
        result = call_student(
            compute_metrics,
            (logits.copy(), labels.copy()),
            name="compute_metrics",
        )
        if not isinstance(result, dict):
            fail(
                f"compute_metrics returned a {type(result).__name__}; return a "
                "dict such as "
                f"{{'accuracy': ..., 'macro_f1': ...}}."
            )
        missing = [k for k in KEYS if k not in result]
        if missing:
            fail(
                f"compute_metrics is missing the key(s) {missing}: return "
                f"{list(KEYS)}."
            )
        try:
            values = {k: float(result[k]) for k in KEYS}
        except (TypeError, ValueError):
            fail(
                "every value of compute_metrics must be a single number (a "
                "float), not an array."
            )
        expected = _reference_metrics(logits, labels)
        wrong = [
            k
            for k in KEYS
            if not math.isclose(values[k], expected[k], abs_tol=1e-6)
        ]
        if not wrong:
            continue
        for avg in ("weighted", "micro"):
            other = _reference_metrics(logits, labels, avg)
            if all(
                math.isclose(values[k], other[k], abs_tol=1e-6)
                for k in KEYS[1:]
            ):
                fail(
                    f"you used average='{avg}': macro scores give every class "
                    "the same weight, so pass "
                    "average='macro' to precision_recall_fscore_support / "
                    "f1_score."
                )
        swapped = {
            "macro_precision": expected["macro_recall"],
            "macro_recall": expected["macro_precision"],
        }
        if all(
            math.isclose(values[k], swapped[k], abs_tol=1e-6) for k in swapped
        ):
            fail(
                "your precision and recall are swapped: precision is the share "
                "of the predicted class that is "
                "correct, recall the share of the true class that is found; "
                "check the argument order (y_true first)."
            )
        if (
            math.isclose(values["macro_f1"], expected["accuracy"], abs_tol=1e-6)
            and "accuracy" not in wrong
        ):
            fail(
                "your macro_f1 equals the accuracy: compute F1 per class and "
                "average the classes (average='macro')."
            )
        fail(
            f"compute_metrics gives wrong {', '.join(wrong)} for {len(labels)} "
            "examples: predictions are "
            "logits.argmax(axis=-1) and the scores are macro averages over "
            "the classes (scikit-learn gives "
            f"{ {k: round(expected[k], 4) for k in wrong} })."
        )
    passed("compute_metrics")


# ------------------------------------------------------------------------------
# warm-up schedule
# ------------------------------------------------------------------------------


def _reference_multipliers(warmup, total):
    from transformers import get_linear_schedule_with_warmup

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = get_linear_schedule_with_warmup(opt, warmup, total)
    return [sched.lr_lambdas[0](s) for s in range(total + 1)]


def check_warmup_multiplier(warmup_multiplier) -> None:
    """Check ``warmup_multiplier(step, warmup_steps, total_steps)`` against
    get_linear_schedule_with_warmup.
    """
    for warmup, total in ((4, 20), (10, 30), (0, 8), (3, 3)):
        expected = _reference_multipliers(warmup, total)
        got = []
        for step in range(total + 1):
            value = call_student(
                warmup_multiplier, step, warmup, total, name="warmup_multiplier"
            )
            try:
                got.append(float(value))
            except (TypeError, ValueError):
                fail(
                    f"warmup_multiplier returned {value!r}; return one number, "
                    "the multiplier of the learning rate."
                )
        if np.allclose(got, expected, atol=1e-6):
            continue
        where = f"(warmup_steps={warmup}, total_steps={total})"
        if warmup > 0 and math.isclose(got[0], 1.0, abs_tol=1e-6):
            fail(
                f"the multiplier starts at 1 {where}: during warm-up it must "
                "grow linearly from 0, step / warmup_steps."
            )
        if warmup > 0 and np.allclose(
            got[:warmup], [(s + 1) / warmup for s in range(warmup)], atol=1e-6
        ):
            fail(
                f"your warm-up is one step ahead {where}: at step 0 the "
                "multiplier is 0, so use step / warmup_steps, "
                f"not (step + 1) / warmup_steps."
            )
        if np.allclose(got[warmup:], 1.0, atol=1e-6):
            fail(
                f"after warm-up your multiplier stays at 1 {where}: it must "
                "fall linearly to 0 at total_steps."
            )
        decay_from_zero = [
            (total - s) / total for s in range(warmup, total + 1)
        ]
        if warmup > 0 and np.allclose(got[warmup:], decay_from_zero, atol=1e-6):
            fail(
                f"your decay divides by total_steps {where}: after warm-up the "
                "multiplier goes from 1 to 0 over the "
                f"remaining total_steps - warmup_steps steps."
            )
        if min(got) < -1e-9:
            fail(
                f"your multiplier goes below 0 {where}: clip it at 0 (max(0.0, "
                "...))."
            )
        bad = next(
            s
            for s in range(total + 1)
            if not math.isclose(got[s], expected[s], abs_tol=1e-6)
        )
        fail(
            f"warmup_multiplier({bad}, {warmup}, {total}) returned "
            f"{got[bad]:.4f} but the linear warm-up schedule "
            f"gives {expected[bad]:.4f}."
        )
    passed("warmup_multiplier")


# ------------------------------------------------------------------------------
# The buggy training loop
# ------------------------------------------------------------------------------


class _SpyModel(torch.nn.Module):
    """logits = x W^T + b, recording each forward: training flag, rows seen,
    logits and the gradient into them.
    """

    def __init__(self, dim, classes, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.linear = torch.nn.Linear(dim, classes)
        self.calls = []

    def forward(self, x):
        logits = self.linear(x)
        record = {
            "training": self.training,
            "x": x.detach().clone(),
            "grad_enabled": torch.is_grad_enabled(),
            "logits": logits.detach().clone(),
            "dlogits": None,
        }
        if logits.requires_grad:
            logits.register_hook(
                lambda g: record.__setitem__("dlogits", g.detach().clone())
            )
        self.calls.append(record)
        return logits


class _SpyOptimizer(torch.optim.SGD):
    def __init__(self, params, lr):
        super().__init__(params, lr=lr)
        self.grads = []

    def step(self, closure=None):
        self.grads.append(
            [
                p.grad.detach().clone() if p.grad is not None else None
                for g in self.param_groups
                for p in g["params"]
            ]
        )
        return super().step(closure)


BUG_MESSAGES = {
    "zero_grad": "gradients accumulate across steps (call "
    "optimizer.zero_grad() once per step)",
    "eval": "dropout is still active during evaluation (call model.eval() "
    "before predicting on the validation set)",
    "train": "the model is not in training mode while it trains (call "
    "model.train() at the start of every epoch)",
    "labels": "the labels are shuffled separately from the inputs (index x "
    "and y with the same permutation)",
}


def _diagnose(fit):
    n, dim, classes = 24, 5, 3
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, dim, generator=g)
    # column 0 names the row, so the checker knows which rows it saw
    x[:, 0] = torch.arange(n, dtype=torch.float32)
    y = torch.randint(0, classes, (n,), generator=g)
    val_x, val_y = (
        torch.randn(10, dim, generator=g),
        torch.randint(0, classes, (10,), generator=g),
    )
    # in training mode, as a freshly built model is
    model = _SpyModel(dim, classes)
    optimizer = _SpyOptimizer(model.parameters(), lr=0.01)
    result = call_student(
        fit,
        model,
        optimizer,
        x,
        y,
        val_x,
        val_y,
        2,
        6,
        torch.Generator().manual_seed(0),
        name="fit",
    )
    try:
        accuracies = [float(a) for a in result]
    except (TypeError, ValueError):
        fail(
            "fit must return a list with the validation accuracy of each epoch "
            "(floats)."
        )
    if len(accuracies) != 2:
        fail(
            f"fit returned {len(accuracies)} accuracies for 2 epochs: evaluate "
            "once after every epoch."
        )
    train_calls = [c for c in model.calls if c["dlogits"] is not None]
    val_calls = [
        c
        for c in model.calls
        if c["x"].shape == val_x.shape and torch.equal(c["x"], val_x)
    ]
    if not train_calls or not optimizer.grads:
        fail(
            "fit never trained: compute the loss of each batch, call "
            "loss.backward() and optimizer.step()."
        )
    if not val_calls:
        fail(
            "fit never ran the model on val_x: compute the validation accuracy "
            "after every epoch."
        )
    found = set()
    if any(c["training"] for c in val_calls):
        found.add("eval")
    if any(not c["training"] for c in train_calls):
        found.add("train")
    # labels: mean cross-entropy has dL/dlogits = (softmax(logits) -
    # onehot(labels)) / B, so the labels can be read back
    for c in train_calls:
        onehot = torch.softmax(c["logits"], -1) - c["dlogits"] * len(c["x"])
        used = onehot.argmax(-1)
        rows = c["x"][:, 0].round().long()
        if not torch.equal(used, y[rows]):
            found.add("labels")
            break
    # zero_grad: the weight gradient at each step must come from that step's
    # batch alone
    # [classes, dim] per backward
    fresh = [c["dlogits"].T @ c["x"] for c in train_calls]
    for k, grads in enumerate(optimizer.grads[: len(fresh)]):
        # one matmul dlogits^T x over the batch (CONTRIBUTING.md); accumulated
        # steps differ by a whole gradient
        if grads[0] is not None and not torch.allclose(
            grads[0], fresh[k], atol=1e-5, rtol=1e-5
        ):
            found.add("zero_grad")
            break
    return found, accuracies


def check_fit(fit) -> None:
    """Run the student's ``fit`` on a tiny spy model and name every bug that
    is still there.
    """
    found, _ = _diagnose(fit)
    if found:
        order = [
            b for b in ("zero_grad", "train", "eval", "labels") if b in found
        ]
        fixed = [
            b
            for b in ("zero_grad", "train", "eval", "labels")
            if b not in found and b != "train"
        ]
        msg = "; ".join(BUG_MESSAGES[b] for b in order)
        note = f" (already fixed: {', '.join(fixed)})" if fixed else ""
        fail(f"{len(order)} bug(s) left: {msg}{note}.")
    passed("fit (gradients reset, train/eval modes, labels aligned)")
