"""Figures of the real data: the long tail of concept counts, frequency against accuracy, and
the paired change between pre-training corpora.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .statistics import binned_curve, paired_table, spearman
from .tables import joined, load_counts

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def plot_long_tail(ax: Axes | None = None, dataset: str = "imagenet", pretraining: str = "laion400m",
                   data_dir: Path | str | None = None) -> Axes:
    """Rank-frequency plot (log-log) of the concept counts of a benchmark's classes in a corpus.

    Classes with count 0 cannot be drawn on a log axis; their number is given in the
    legend.
    """
    from ..plotting import rank_frequency

    ax = _axes(ax)
    counts = load_counts(dataset, pretraining, data_dir).to_numpy()
    zeros = int((counts == 0).sum())
    rank_frequency(counts, ax=ax, label=f"{dataset} classes in {pretraining} ({zeros} of {len(counts)} with 0)")
    ax.set_ylabel(f"pairs in {pretraining}")
    ax.set_xlabel("class rank")
    ax.legend(fontsize=8)
    return ax


DEFAULT_CURVES: tuple[str, ...] = ("ViT-B-32/laion400m", "RN50/cc3m", "RN50/cc12m", "RN50/yfcc15m")
"""The models of :func:`plot_frequency_accuracy` (each with its own corpus's counts)."""


"""The models of :func:`plot_frequency_accuracy` (each with its own corpus's counts)."""


def plot_frequency_accuracy(ax: Axes | None = None, dataset: str = "imagenet",
                            model_list: Sequence[str] = DEFAULT_CURVES, n_bins: int = 8,
                            data_dir: Path | str | None = None) -> Axes:
    """Per-class accuracy against log count, binned, with a t interval over each bin's classes.

    One curve per model, each with its own corpus's counts; the legend gives the
    Spearman correlation over all classes (point estimate; intervals in
    :func:`frequency_accuracy`). Bins of a single class are drawn without a bar.
    """
    ax = _axes(ax)
    for m in model_list:
        df = joined(dataset, m, None, data_dir)
        curve = binned_curve(df, n_bins)
        rho = spearman(df["log10_count"], df["accuracy"])
        yerr = np.vstack([curve["accuracy"] - curve["low"], curve["high"] - curve["accuracy"]])
        ax.errorbar(curve["log10_count"], curve["accuracy"], yerr=np.nan_to_num(yerr), marker="o", ms=4,
                    capsize=2, lw=1, label=f"{m} (Spearman {rho:+.2f})")
    ax.set_xlabel("log10(1 + pairs in the model's corpus)")
    ax.set_ylabel(f"zero-shot accuracy per class ({dataset})")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return ax


def plot_paired_change(ax: Axes | None = None, dataset: str = "imagenet", arch: str = "RN50",
                       pre_a: str = "cc3m", pre_b: str = "cc12m", data_dir: Path | str | None = None) -> Axes:
    """Per class: change of log count against change of accuracy, ``pre_a`` -> ``pre_b``."""
    ax = _axes(ax)
    t = paired_table(dataset, arch, pre_a, pre_b, data_dir)
    rho = spearman(t["d_log10_count"], t["d_accuracy"])
    ax.scatter(t["d_log10_count"], t["d_accuracy"], s=6, alpha=0.35, lw=0)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_xlabel(f"change of log10(1 + count), {pre_a} -> {pre_b}")
    ax.set_ylabel(f"change of accuracy, {arch}")
    ax.set_title(f"{dataset}: {len(t)} classes, Spearman {rho:+.2f}", fontsize=9)
    return ax
