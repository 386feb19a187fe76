"""Figures of the social-bias chapter."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def plot_effect_sizes(table: pd.DataFrame, hue: str, ax: Any, title: str = "") -> None:
    """Effect sizes with bootstrap intervals: one row per test, one marker per ``hue`` level.

    ``table`` is a :func:`weat_table`; p-values are written at the right margin.
    """
    import seaborn as sns

    keys = list(dict.fromkeys(table["test"]))
    levels = list(dict.fromkeys(table[hue]))
    colors = sns.color_palette("colorblind", len(levels))
    for j, (level, color) in enumerate(zip(levels, colors)):
        sub = table[table[hue] == level].set_index("test").loc[keys]
        y = np.arange(len(keys)) + (j - (len(levels) - 1) / 2) * 0.25
        err = [sub["effect_size"] - sub["ci_low"], sub["ci_high"] - sub["effect_size"]]
        ax.errorbar(sub["effect_size"], y, xerr=err, fmt="o", color=color, capsize=3, label=level)
        for yi, p in zip(y, sub["p_value"]):
            ax.annotate(f"p={p:.3f}" if p >= 0.001 else "p<0.001", (2.05, yi), fontsize=8,
                        va="center", color=color, annotation_clip=False)
    titles = table.drop_duplicates("test").set_index("test").loc[keys, "title"]
    ax.set_yticks(np.arange(len(keys)), [f"{k}: {t}" for k, t in zip(keys, titles)])
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=1)
    ax.set_xlim(-2.0, 2.0)
    ax.set_xlabel("effect size d (95% bootstrap interval over words)")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(levels), fontsize=8,
              frameon=False)
