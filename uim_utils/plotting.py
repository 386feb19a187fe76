"""Small plotting helpers shared by the chapters (matplotlib + seaborn)."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np


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
