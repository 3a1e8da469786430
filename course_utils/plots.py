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
