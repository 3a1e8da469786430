"""Matplotlib helpers shared by several chapters: curves, heat maps, bar charts.

Each returns the ``Axes`` it drew on so that a notebook can add to the figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .errors import CourseError


def plot_curves(
    x: Sequence,
    curves: Mapping[str, Sequence],
    *,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    logy: bool = False,
    marker: str = "o",
    ax=None,
):
    """One line per entry of ``curves`` (label -> y values), all over the same
    ``x``.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for label, ys in curves.items():
        ax.plot(x, ys, marker=marker, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend()
    return ax


def heatmap(
    matrix,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str = "",
    cmap: str = "viridis",
    annotate: bool = True,
    fmt: str = "{:.2f}",
    ax=None,
    **imshow_kw,
):
    """A labelled heat map of a 2-D array (rows x columns), e.g. attention
    weights or cosine similarities.
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape != (len(row_labels), len(col_labels)):
        raise CourseError(
            f"heatmap: the matrix is {matrix.shape} but there are "
            f"{len(row_labels)} row labels "
            f"and {len(col_labels)} column labels; pass one "
            "label per row and per column."
        )
    if ax is None:
        size = max(3.0, 0.45 * max(matrix.shape) + 1.5)
        _, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(matrix, cmap=cmap, **imshow_kw)
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=60, ha="right")
    ax.set_yticks(range(len(row_labels)), row_labels)
    if annotate and matrix.size <= 400:
        middle = (np.nanmax(matrix) + np.nanmin(matrix)) / 2
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(
                j,
                i,
                fmt.format(value),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if value < middle else "black",
            )
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title)
    return ax


def bar(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    ylabel: str = "",
    title: str = "",
    logy: bool = False,
    ax=None,
    fmt: str = "{:.0f}",
):
    """A bar chart with each value written above its bar."""
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4, 0.9 * len(labels) + 2), 3.6))
    bars = ax.bar(labels, values, color="tab:blue")
    ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=8)
    if logy:
        ax.set_yscale("log")
    ax.set(ylabel=ylabel, title=title)
    ax.grid(axis="y", alpha=0.3)
    return ax


class LiveCurve:
    """A loss curve that redraws itself in place while a model trains.

    ``add(step, value, label)`` records a point; in a notebook the figure
    under the cell is updated at most every ``every_s`` seconds (drawing
    costs time too), and ``finish()`` draws the final curve, which is what
    the built page keeps. Outside a notebook it only records.
    """

    def __init__(self, title: str = "", ylabel: str = "loss", every_s=2.0):
        self.title, self.ylabel, self.every_s = title, ylabel, every_s
        self.points: dict[str, tuple[list, list]] = {}
        self._handle, self._last_draw = None, 0.0

    def add(self, step: float, value: float, label: str = "train") -> None:
        """Record ``value`` at ``step`` on the curve named ``label``."""
        import time

        steps, values = self.points.setdefault(label, ([], []))
        steps.append(step)
        values.append(float(value))
        if time.monotonic() - self._last_draw >= self.every_s:
            self._draw()

    def finish(self) -> None:
        """Draw the final curve (also when the last update was recent)."""
        self._draw()

    def _draw(self) -> None:
        import time

        from IPython import get_ipython
        from IPython.display import display

        self._last_draw = time.monotonic()
        if get_ipython() is None or not self.points:
            return
        fig, ax = plt.subplots(figsize=(6, 3.2))
        for label, (steps, values) in self.points.items():
            ax.plot(
                steps,
                values,
                marker="." if len(steps) < 40 else None,
                label=label,
            )
        ax.set(xlabel="step", ylabel=self.ylabel, title=self.title)
        ax.grid(alpha=0.3)
        ax.legend()
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)


def live_loss_callback(title: str = "", every_s: float = 2.0):
    """A ``transformers`` ``TrainerCallback`` that feeds a :class:`LiveCurve`
    with the training loss and, when the Trainer evaluates, the validation
    loss: pass it as ``Trainer(..., callbacks=[live_loss_callback()])``.
    """
    from transformers import TrainerCallback

    curve = LiveCurve(title, every_s=every_s)

    class LiveLoss(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "loss" in logs:
                curve.add(state.global_step, logs["loss"], "train")
            if "eval_loss" in logs:
                curve.add(state.global_step, logs["eval_loss"], "validation")

        def on_train_end(self, args, state, control, **kwargs):
            curve.finish()

    callback = LiveLoss()
    callback.curve = curve
    return callback
