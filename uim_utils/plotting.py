"""Small plotting helpers shared by the chapters (matplotlib + seaborn)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def image_grid(
    images: np.ndarray,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    ncols: int | None = None,
    size: float = 0.9,
) -> plt.Figure:
    """Show uint8 images ``(R*C, H, W, 3)`` in a grid, row-major.

    Parameters
    ----------
    images : array
        Images in row-major order.
    row_labels, col_labels : sequences of str, optional
        Labels on the left of each row / above each column.
    ncols : int, optional
        Columns; defaults to ``len(col_labels)`` or the square root of the count.
    size : float
        Inches per image.
    """
    n = len(images)
    if n == 0:
        raise ValueError("no images to show")
    ncols = ncols or (len(col_labels) if col_labels else int(np.ceil(np.sqrt(n))))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 0.8, size * nrows + 0.3), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        for s in ax.spines.values():
            s.set_visible(False)
        if i < n:
            ax.imshow(images[i])
        r, c = divmod(i, ncols)
        if row_labels is not None and c == 0 and r < len(row_labels):
            ax.set_ylabel(row_labels[r], rotation=0, ha="right", va="center", fontsize=9)
        if col_labels is not None and r == 0 and c < len(col_labels):
            ax.set_title(col_labels[c], fontsize=8)
    fig.tight_layout(pad=0.2)
    return fig


def rank_frequency(counts: np.ndarray, ax: plt.Axes | None = None, label: str | None = None) -> plt.Axes:
    """Log-log rank-frequency plot of concept counts (zeros are left out of the log axis)."""
    ax = ax or plt.gca()
    s = np.sort(np.asarray(counts))[::-1]
    ranks = np.arange(1, len(s) + 1)
    keep = s > 0
    ax.loglog(ranks[keep], s[keep], marker=".", lw=1, label=label)
    ax.set_xlabel("concept rank")
    ax.set_ylabel("pairs in the corpus")
    return ax


def error_bar_curves(ax: plt.Axes, x: Sequence[float] | np.ndarray, table: pd.DataFrame,
                     curves: Sequence[tuple[str, str, str, str]], confidence: float = 0.95) -> plt.Axes:
    """Draw ``table[col]`` against ``x`` with a normal interval of ``table[col + "_se"]``.

    Parameters
    ----------
    ax : Axes
    x : sequence of float
        One position per row of ``table``.
    table : DataFrame
        Columns ``col`` and ``col_se`` for every curve.
    curves : sequence of (col, label, colour, fmt)
        E.g. ``("asr", "attack success", "tab:red", "o-")``.
    confidence : float
        Level of the bars (0.95: 1.96 standard errors).
    """
    from scipy.stats import norm

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if len(x) != len(table):
        raise ValueError(f"x has {len(x)} positions but the table has {len(table)} rows")
    z = float(norm.ppf(0.5 + confidence / 2))
    for col, label, colour, fmt in curves:
        for need in (col, f"{col}_se"):
            if need not in table:
                raise ValueError(f"the table has no column {need!r}; it has {list(table.columns)}")
        ax.errorbar(x, table[col], yerr=z * table[f"{col}_se"], fmt=fmt, color=colour, capsize=3, label=label)
    return ax


def score_histograms(ax: plt.Axes, scores: np.ndarray, flagged_truth: np.ndarray, labels: tuple[str, str],
                     bins: int | np.ndarray = 50) -> plt.Axes:
    """Overlaid density histograms of ``scores`` for the ``False`` and the ``True`` items of
    ``flagged_truth`` (e.g. clean and poisoned pairs), each label followed by its count."""
    scores, truth = np.asarray(scores, float), np.asarray(flagged_truth, bool)
    if scores.shape != truth.shape or scores.ndim != 1:
        raise ValueError(f"scores and truth must be 1-D of equal length, got {scores.shape} and {truth.shape}")
    if isinstance(bins, int):
        bins = np.linspace(scores.min(), scores.max(), bins)
    ax.hist(scores[~truth], bins=bins, density=True, alpha=0.6, label=f"{labels[0]} ({(~truth).sum():,})")
    ax.hist(scores[truth], bins=bins, density=True, alpha=0.6, color="tab:red",
            label=f"{labels[1]} ({truth.sum():,})")
    ax.set_ylabel("density")
    return ax
