"""How claims and records are shown in the book: styled verdict and record-summary
tables (pandas ``Styler``), a record's strip plot, and its one-paragraph description.

The numbers come from :meth:`uim_utils.claims.ClaimSet.verdicts` and
:func:`uim_utils.records.record_summary`; this module only lays them out. It imports
matplotlib and seaborn only when a plot is drawn, and never torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from .claim import claim_bounds
from .claims import FAILS, HOLDS, VERDICT_COLUMNS, ClaimSet, seed_text
from .records import ALL_ASSERTED, SUMMARY_COLUMNS, Record, population_interval
from .validate import check_int

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

_GREEN = "background-color: #d8f0d8; color: #14521b"
_RED = "background-color: #f8d7d5; color: #8a1c13"
_AMBER = "background-color: #fcefd2; color: #7a5300"
_MUTED_HOLDS = "background-color: #edf6ed; color: #3d6b41"
_MUTED_FAILS = "background-color: #fbeceb; color: #8a4a44"
_HOLDS_STYLE = f"{_GREEN}; font-weight: bold"
_FAILS_STYLE = f"{_RED}; font-weight: bold"
_EXPLORATORY = "font-style: italic; color: #555555"


def _verdict_style(verdict: str, asserted: bool) -> str:
    if verdict == HOLDS:
        return _HOLDS_STYLE if asserted else _MUTED_HOLDS
    if verdict == FAILS:
        return _FAILS_STYLE if asserted else _MUTED_FAILS
    return ""


def _base_style(df: pd.DataFrame, left: Sequence[str]) -> Styler:
    return (df.style.hide(axis="index")
            .format(precision=3, na_rep="")
            .set_properties(subset=list(left), **{"text-align": "left", "white-space": "normal"})
            .set_table_styles([{"selector": "th", "props": [("text-align", "left")]},
                               {"selector": "td", "props": [("vertical-align", "top")]}]))


def _check_columns(table: pd.DataFrame, columns: Sequence[str], shower: str, maker: str) -> pd.DataFrame:
    """``table`` with a fresh index, after checking it has ``columns`` (what ``maker`` returns)."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{shower} needs the columns of {maker}; missing {missing}")
    return table.reset_index(drop=True)


def _statements(table: pd.DataFrame) -> list[str]:
    """Each claim's statement, marked ``(exploratory)`` where it is not asserted."""
    return [s if a else f"{s} (exploratory)" for s, a in zip(table["statement"], table["asserted"])]


def _intervals(table: pd.DataFrame) -> list[str]:
    """Each row's interval as ``[low, high]`` (empty where there is none)."""
    return ["" if pd.isna(lo) else f"[{lo:.3f}, {hi:.3f}]" for lo, hi in zip(table["low"], table["high"])]


def show_verdicts(verdicts: pd.DataFrame) -> Styler:
    """A readable verdict table for a notebook (a pandas ``Styler``).

    Numbers are rounded to 3 decimals, the interval is shown as ``[low, high]``, the
    statement in full (no truncation), exploratory claims are marked and shown in
    italics, and the verdict is coloured (green holds, red does not hold; paler for
    exploratory claims).

    Parameters
    ----------
    verdicts : DataFrame
        The output of :meth:`ClaimSet.verdicts` or :meth:`ClaimSet.check`.
    """
    v = _check_columns(verdicts, VERDICT_COLUMNS, "show_verdicts", "ClaimSet.verdicts")
    shown = pd.DataFrame({
        "claim": v["id"],
        "statement": _statements(v),
        "statistic": v["statistic"],
        "worlds": v["n_worlds"],
        "estimate": v["estimate"],
        "interval": _intervals(v),
        "rule": v["rule"],
        "SEs beyond": v["distance_se"],
        "verdict": v["verdict"],
    })
    asserted = v["asserted"].astype(bool).to_numpy()

    def row_style(row: pd.Series) -> list[str]:
        base = "" if asserted[row.name] else _EXPLORATORY
        return [_verdict_style(row["verdict"], asserted[row.name]) if col == "verdict" else base
                for col in row.index]

    return _base_style(shown, ["claim", "statement", "statistic", "interval", "rule", "verdict"]).apply(
        row_style, axis=1)


def show_summary(summary: pd.DataFrame) -> Styler:
    """A readable record summary for a notebook (a pandas ``Styler``).

    Numbers rounded to 3 decimals, statements in full, exploratory claims marked and in
    italics, and "held in" coloured: green in every run, amber in some, red in none.
    """
    s = _check_columns(summary, SUMMARY_COLUMNS, "show_summary", "record_summary")
    shown = pd.DataFrame({
        "claim": s["id"],
        "statement": _statements(s),
        "held in (notebook runs)": s["held_in"],
        "statistic": s["statistic"],
        "mean over worlds": s["estimate"],
        "interval": _intervals(s),
        "worlds": s["worlds"],
        "rule": s["rule"],
        "SEs beyond (mean per run)": s["distance_se"],
        "SEs beyond (all worlds)": s["distance_se_worlds"],
    })
    asserted = s["asserted"].astype(bool).to_numpy()
    frac = (s["held"] / s["runs"]).to_numpy()

    def row_style(row: pd.Series) -> list[str]:
        i = row.name
        base = "" if asserted[i] else _EXPLORATORY
        if s.loc[i, "id"] == "all" and s.loc[i, "statement"] == ALL_ASSERTED:
            base = "font-weight: bold; border-top: 2px solid #999999"
        undecided = str(s.loc[i, "held_in"]).startswith("not decided")  # verdict over all worlds instead
        verdict_held = str(s.loc[i, "held_in"]).endswith(f": {HOLDS}")
        colour = (_MUTED_HOLDS if undecided and verdict_held else _MUTED_FAILS if undecided else
                  _GREEN if frac[i] == 1 else _RED if frac[i] == 0 else _AMBER)
        return [f"{base}; {colour}; font-weight: bold" if col == "held in (notebook runs)" else base
                for col in row.index]

    return _base_style(shown, ["claim", "statement", "held in (notebook runs)", "statistic", "interval",
                               "rule"]).apply(row_style, axis=1)


def plot_record(spec: ClaimSet, record: Record, confidence: float = 0.95, ncols: int = 4) -> Figure:
    """One strip plot per claim: the statistic of every world, its interval, the rule's bound.

    Each dot is one world of the record; the black point and bar are the claim's own
    interval over all worlds (the level its rule reads); the dashed red line(s) are the
    bound(s) the rule compares it with (:func:`claim_bounds`). Exploratory claims are grey.
    Imports matplotlib and seaborn when called.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    check_int("ncols", ncols, 1)
    claims = spec.claims
    ncols = min(ncols, len(claims))
    nrows = -(-len(claims) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.1 * ncols, 3.1 * nrows), squeeze=False)
    for ax, c in zip(axes.flat, claims):
        values = record.table[c.statistic].to_numpy(dtype=float)
        sns.stripplot(y=values, ax=ax, color="tab:blue" if c.asserted else "tab:gray", alpha=0.7, size=4,
                      jitter=0.2)
        est = population_interval(c, values, confidence)
        ax.errorbar([0.5], [est.estimate], yerr=[[est.estimate - est.low], [est.high - est.estimate]], fmt="o",
                    color="black", capsize=4, ms=5)
        for b in claim_bounds(c):
            ax.axhline(b, ls="--", lw=1.2, color="tab:red")
        ax.set_xlim(-0.6, 0.9)
        ax.set_xticks([])
        ax.set_title(f"claim {c.id}" + ("" if c.asserted else " (exploratory)"), fontsize=10)
        ax.set_ylabel(c.statistic)
        ax.set_xlabel(f"{len(values)} worlds | {c.rule(confidence)}", fontsize=8)
    for ax in axes.flat[len(claims):]:
        ax.set_visible(False)
    fig.suptitle(f"{spec.chapter} ({record.meta['profile']}): one dot per world; bar: interval of the mean; "
                 "dashed: the rule's bound", fontsize=10)
    fig.tight_layout()
    return fig


def describe_record(record: Record) -> str:
    """One paragraph of a record's metadata (for the appendix)."""
    m = record.meta
    design = seed_text(m["design_seeds"]) if m["design_seeds"] else "none recorded"
    heldout = seed_text(m["heldout_seeds"]) if m["heldout_seeds"] else "none (every complete window)"
    commit = (m.get("git_commit") or "")[:12] or "unknown"
    return (f"{m['chapter']} ({m['profile']} profile), claims version {m['version']} "
            f"(fingerprint {m['fingerprint']}); {len(m['seeds'])} worlds (seeds {seed_text(m['seeds'])}); "
            f"{m['n_worlds']} worlds per notebook run; held-out base seeds {heldout}; development seeds "
            f"{design}; uim_utils {m.get('uim_utils_version', '?')}, commit {commit}, made {m.get('created', '?')}."
            + (f" Note: {m['note']}" if m.get("note") else ""))


__all__ = ["describe_record", "plot_record", "show_summary", "show_verdicts"]
