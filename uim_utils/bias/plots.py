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


TEST_NICKNAMES = {"weat1": "control", "weat3": "race", "weat6": "names", "weat6b": "terms",
                  "weat7": "math", "weat8": "science"}
"""Short names of the association tests, for axis labels."""


def debiasing_panels(weat_after: pd.DataFrame, summary: pd.DataFrame, test_keys: list[str]) -> Any:
    """The four panels of the chapter's debiasing comparison, one bar colour per method.

    Parameters
    ----------
    weat_after : DataFrame
        A :func:`weat_table` with a ``method`` column: the SEAT effect sizes after each
        projection.
    summary : DataFrame
        One row per method (the index, named ``method``, in the order the bars are drawn), the columns of
        :func:`summarise_downstream`: flip rates, placebo flip rates and the P(work) gap
        with their bounds (``flip lo`` ...), ``accuracy`` and ``gender recovery``.
    test_keys : list of str
        The tests of ``weat_after`` in the order of panel (a).

    Returns
    -------
    matplotlib Figure
        (a) associations after projection, (b) counterfactual flips against the placebo,
        (c) the direction of the tilt, (d) accuracy and what a probe recovers of gender.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    methods = list(summary.index)
    missing = [m for m in dict.fromkeys(weat_after["method"]) if m not in methods]
    if missing:
        raise ValueError(f"weat_after has method(s) {missing} that summary lacks; summary has {methods}")
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    pal = dict(zip(methods, sns.color_palette("colorblind", len(methods))))
    _associations_panel(axes[0, 0], weat_after, test_keys, pal)
    x = np.arange(len(methods))
    ax = axes[0, 1]
    for off, col, label, color in ((-0.18, "flip", "gender swap", "tab:purple"),
                                   (0.18, "placebo", "same-gender swap (placebo)", "tab:grey")):
        m = summary["flip rate" if col == "flip" else "placebo flip rate"]
        ax.bar(x + off, m, 0.36, yerr=[m - summary[f"{col} lo"], summary[f"{col} hi"] - m], capsize=4,
               color=color, label=label)
    ax.set(xticks=x, xticklabels=methods, ylabel="share of pairs whose label flips",
           title="(b) Counterfactual flips (ambiguous sentences)")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    m = summary["P(work) gap"]
    ax.bar(x, m, yerr=[m - summary["gap lo"], summary["gap hi"] - m], capsize=6, color=[pal[k] for k in methods])
    ax.axhline(0, color="k", lw=1)
    ax.set(xticks=x, xticklabels=methods, ylabel="mean P(work | male) - P(work | female)",
           title="(c) Direction of the tilt (95% CI)")
    _cost_panel(axes[1, 1], summary, pal)
    fig.tight_layout()
    return fig


def _associations_panel(ax: Any, weat_after: pd.DataFrame, test_keys: list[str], pal: dict[str, Any]) -> None:
    import seaborn as sns

    sns.barplot(data=weat_after, x="test", y="effect_size", hue="method", palette=pal, ax=ax, order=test_keys)
    ax.set_xticks(range(len(test_keys)), [f"{k}\n{TEST_NICKNAMES.get(k, '')}" for k in test_keys])
    ax.legend(title="", fontsize=8, ncol=3, loc="lower left")
    ax.axhline(0, color="k", lw=1)
    ax.set(ylabel="SEAT effect size d", xlabel="", title="(a) Associations after projection")


def _cost_panel(ax: Any, summary: pd.DataFrame, pal: dict[str, Any]) -> None:
    import seaborn as sns

    long = summary[["accuracy", "gender recovery"]].reset_index().melt(
        id_vars="method", var_name="measure", value_name="value")
    sns.barplot(data=long, x="measure", y="value", hue="method", palette=pal, ax=ax)
    ax.axhline(0.5, color="k", lw=1, ls="--")
    ax.text(-0.45, 0.52, "chance", fontsize=8)
    ax.set_ylim(0, 1.22)
    ax.legend(title="", fontsize=8, ncol=3, loc="upper center")
    ax.set(xlabel="", ylabel="held-out accuracy", title="(d) What it costs, and what survives")
