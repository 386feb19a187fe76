"""The report card: every chapter's inherited flaw, the published effect and the lab's, at a glance.

A :class:`Card` names, for one chapter, the flaw of the pre-training data it studies, the
consequence the paper files it under (:data:`CONSEQUENCES`), the published effect in a
sentence, and which of the chapter's claims carry the inherited effect and the
mitigation's gain. :func:`report_card` reads the chapter's reproduction record (the
held-out worlds of ``scripts/sweep.py``) and computes a status from those claims, never
typed by hand:

- **reproduced**: every effect claim and every mitigation claim of the card holds over
  the record's worlds, and all asserted claims held together in every held-out run;
- **partly**: at least one effect claim holds over the worlds, but not all of the above;
- **not reproduced**: no effect claim of the card holds over the worlds.

A chapter on the claims machinery without a record, or with a record of other claims
(another version or fingerprint), raises: the report card page then fails the build,
as the appendix does. A chapter not yet on the machinery (not in
:data:`uim_utils.chapters.REGISTRY`) is shown without a status.

Torch-free (reads records only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import chapters
from .claim import claim_bounds
from .records import load_record, record_summary

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

CONSEQUENCES: tuple[str, ...] = ("bias", "lack of generalization", "deteriorated performance",
                                 "security vulnerability", "privacy leakage", "value misalignment")
"""The six consequences of catastrophic inheritance named by Chen et al. (2024)."""

REPRODUCED, PARTLY, NOT_REPRODUCED, NO_RECORD = "reproduced", "partly", "not reproduced", "no record yet"
STATUSES = (REPRODUCED, PARTLY, NOT_REPRODUCED, NO_RECORD)


@dataclass(frozen=True)
class Card:
    """One chapter on the report card.

    Attributes
    ----------
    chapter : str
        The chapter's notebook stem, e.g. ``"01_long_tail"``.
    flaw : str
        The flaw of the pre-training data it studies.
    consequences : tuple of str
        The consequences (of :data:`CONSEQUENCES`) it shows.
    published : str
        The published effect, in a sentence, with its source (author, year).
    effect : tuple of str
        Ids of the chapter's claims that carry the inherited effect (at least one).
    mitigation : tuple of str
        Ids of the claims that carry the mitigation's gain (may be empty).
    """

    chapter: str
    flaw: str
    consequences: tuple[str, ...]
    published: str
    effect: tuple[str, ...]
    mitigation: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.chapter or not isinstance(self.chapter, str):
            raise ValueError(f"a card needs a chapter stem, got {self.chapter!r}")
        bad = [c for c in self.consequences if c not in CONSEQUENCES]
        if not self.consequences or bad:
            raise ValueError(f"{self.chapter}: consequences must be some of {CONSEQUENCES}, got "
                             f"{self.consequences!r}")
        if not self.effect:
            raise ValueError(f"{self.chapter}: a card needs at least one effect claim id")
        if set(self.effect) & set(self.mitigation):
            raise ValueError(f"{self.chapter}: claim ids {sorted(set(self.effect) & set(self.mitigation))} "
                             "are both effect and mitigation")


CARDS: tuple[Card, ...] = (
    Card("01_long_tail", "long-tailed concept frequencies", ("deteriorated performance", "bias"),
         "Per-class zero-shot accuracy tracks how often a concept appears in the pre-training data "
         "(Parashar et al. 2024; log-linear in Udandarao et al. 2024); prompting with the most frequent "
         "synonym (REAL-Prompt) lifts the rare classes (Parashar et al. 2024).",
         effect=("1", "2"), mitigation=("6", "6b")),
    Card("02_noisy_captions", "wrong captions (label noise)", ("lack of generalization",),
         "Any pre-training label noise lowers out-of-domain transfer, while slight noise (5-10%) can raise "
         "in-domain linear-probe accuracy; NMTune recovers part of the loss (Chen et al. 2024).",
         effect=("1", "4"), mitigation=("7",)),
    Card("03_social_bias", "social associations in the text", ("bias",),
         "Sentence encoders carry human-like associations measurable by SEAT, with mixed results across "
         "tests (May et al. 2019); projecting out bias directions reduces them (Chuang et al. 2023).",
         effect=("1", "5"), mitigation=("8",)),
    Card("04_backdoor_poisoning", "poisoned image-caption pairs", ("security vulnerability",),
         "Poisoning 0.01% of the pairs plants a patch backdoor in CLIP (Carlini and Terzis 2022); CleanCLIP's "
         "fine-tuning cuts the attack success sharply at a small cost in clean accuracy (Bansal et al. 2023).",
         effect=("1", "4"), mitigation=("7",)),
    Card("05_lost_robustness", "narrow pre-training data, narrow fine-tuning", ("lack of generalization",),
         "The diversity of the pre-training data gives CLIP its effective robustness (Fang et al. 2022); "
         "fine-tuning loses it out of distribution, below a linear probe (Kumar et al. 2022); interpolating "
         "zero-shot and fine-tuned weights (WiSE-FT) recovers it at no extra cost (Wortsman et al. 2022).",
         effect=("1", "3"), mitigation=("5",)),
    Card("06_duplication_privacy", "duplicated pairs", ("privacy leakage",),
         "Memorization grows with the number of duplicates and membership inference is near chance for "
         "data seen once; deduplication mitigates it (Kandpal et al. 2022); CLIP's training pairs can be "
         "inferred from image-caption similarity (Ko et al. 2023).",
         effect=("1", "4"), mitigation=("5",)),
    Card("07_value_misalignment", "harmful content in the pre-training text", ("value misalignment",),
         "Safety alignment is only a few tokens deep: it changes the first tokens of an answer, so prefilling "
         "a harmful answer's start brings harmful answers back; safety-recovery examples make it deeper and "
         "the attack much weaker (Qi et al. 2025).",
         effect=("1", "4"), mitigation=("9",)),
)
"""The book's chapters on the report card (chapters about the book itself, the template
and the lab, are not)."""

ABOUT_THE_BOOK: tuple[str, ...] = ("00_chapter_template", "00_the_lab")
"""Registered chapters about the book itself (its template and its lab), not about a flaw."""

PLANNED: dict[str, str] = {}
"""Chapters planned for consequences the book does not show yet (or shows once)."""


def card_status(effect_holds: list[bool], mitigation_holds: list[bool], all_asserted_every_run: bool) -> str:
    """The status of a card from its claims' verdicts over worlds (see the module docstring)."""
    if not effect_holds:
        raise ValueError("a card's status needs at least one effect claim verdict")
    if not any(effect_holds):
        return NOT_REPRODUCED
    if all(effect_holds) and all(mitigation_holds) and all_asserted_every_run:
        return REPRODUCED
    return PARTLY


def report_card(cards: tuple[Card, ...] = CARDS, profile: str = "ci", root: Path | str | None = None,
                confidence: float = 0.95) -> pd.DataFrame:
    """One row per claim on the cards: the lab's estimate over worlds beside the published effect.

    Parameters
    ----------
    cards : tuple of Card
    profile : str
        The records' profile (``"ci"`` or ``"lab"``).
    root : path, optional
        Where the records are (default: the ones shipped with the book).
    confidence : float
        Level of the intervals.

    Returns
    -------
    DataFrame
        Columns ``chapter``, ``flaw``, ``consequences``, ``published``, ``role`` (``effect`` or
        ``mitigation``), ``claim``, ``statement``, ``estimate``, ``low``, ``high``, ``rule``,
        ``holds`` (over the record's worlds), ``worlds``, ``held_in`` (held-out notebook runs
        in which the claim held) and ``status`` (of the chapter). A chapter not on the
        claims machinery has one row with status :data:`NO_RECORD`.

    Raises
    ------
    ValueError
        If a chapter on the machinery has no record, a record of other claims, or a card
        names a claim the chapter does not make.
    """
    rows = []
    for card in cards:
        base = {"chapter": card.chapter, "flaw": card.flaw, "consequences": ", ".join(card.consequences),
                "published": card.published}
        if card.chapter not in chapters.REGISTRY:
            rows.append({**base, "role": "", "claim": "", "statement": "not measured over worlds yet",
                         "status": NO_RECORD})
            continue
        spec = chapters.get_chapter(card.chapter).spec
        record = load_record(spec, profile, root)
        summary = record_summary(spec, record, confidence).set_index("id")
        every_run = bool(summary.loc["all", "held"] == summary.loc["all", "runs"])
        verdicts: dict[str, list[bool]] = {"effect": [], "mitigation": []}
        chapter_rows = []
        for role, ids in (("effect", card.effect), ("mitigation", card.mitigation)):
            for cid in ids:
                spec.get(cid)  # a card naming a claim the chapter does not make is an error
                row = summary.loc[cid]
                verdicts[role].append(bool(row["holds_over_worlds"]))
                chapter_rows.append({**base, "role": role, "claim": cid, "statement": row["statement"],
                                     "estimate": row["estimate"], "low": row["low"], "high": row["high"],
                                     "holds": bool(row["holds_over_worlds"]), "rule": row["rule"],
                                     "worlds": len(record.table), "held_in": row["held_in"]})
        status = card_status(verdicts["effect"], verdicts["mitigation"], every_run)
        rows.extend({**r, "status": status} for r in chapter_rows)
    columns = ["chapter", "flaw", "consequences", "published", "role", "claim", "statement", "estimate", "low",
               "high", "rule", "holds", "worlds", "held_in", "status"]
    return pd.DataFrame(rows, columns=columns)


def chapters_without_card(cards: tuple[Card, ...] = CARDS) -> list[str]:
    """Registered chapters about a flaw (not :data:`ABOUT_THE_BOOK`) that have no card."""
    return sorted(set(chapters.REGISTRY) - set(ABOUT_THE_BOOK) - {c.chapter for c in cards})


def coverage(cards: tuple[Card, ...] = CARDS) -> pd.DataFrame:
    """For each of :data:`CONSEQUENCES`, the chapters that show it and the planned ones."""
    rows = []
    for c in CONSEQUENCES:
        shown = [card.chapter for card in cards if c in card.consequences]
        rows.append({"consequence": c, "chapters": ", ".join(shown) or "none yet", "planned": PLANNED.get(c, "")})
    return pd.DataFrame(rows)


def chapter_status(card: pd.DataFrame) -> pd.DataFrame:
    """One row per chapter of a :func:`report_card` table: chapter, flaw, consequences, status."""
    return card.drop_duplicates("chapter")[["chapter", "flaw", "consequences", "published", "status"]] \
        .reset_index(drop=True)


def plot_card(card: pd.DataFrame, cards: tuple[Card, ...] = CARDS) -> Figure:
    """One panel per measured chapter: each card claim's mean over worlds with its interval,
    and the bound(s) its rule compares it with (dashed). Effects are red, mitigations blue;
    a hollow marker is a claim that does not hold over the worlds."""
    import matplotlib.pyplot as plt

    measured = [c for c in cards if c.chapter in set(card.loc[card["status"] != NO_RECORD, "chapter"])]
    if not measured:
        raise ValueError("plot_card needs at least one chapter with a record")
    fig, axes = plt.subplots(len(measured), 1, figsize=(8, 1.1 + 0.55 * max(len(c.effect) + len(c.mitigation)
                                                                              for c in measured) * len(measured)),
                             squeeze=False)
    for ax, c in zip(axes[:, 0], measured):
        rows = card[card["chapter"] == c.chapter].reset_index(drop=True)
        spec = chapters.get_chapter(c.chapter).spec
        y = np.arange(len(rows))[::-1]
        for yi, r in zip(y, rows.itertuples()):
            colour = "tab:red" if r.role == "effect" else "tab:blue"
            ax.errorbar([r.estimate], [yi], xerr=[[r.estimate - r.low], [r.high - r.estimate]], fmt="o",
                        color=colour, mfc=colour if r.holds else "white", capsize=3)
            for b in claim_bounds(spec.get(r.claim)):
                ax.plot([b, b], [yi - 0.35, yi + 0.35], ls="--", color="grey", lw=1)
        ax.set_yticks(y, [f"{r.role} {r.claim}: {spec.get(r.claim).statistic}" for r in rows.itertuples()],
                      fontsize=8)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_title(f"{c.chapter}: {rows['status'].iloc[0]}", fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle("The lab's effects over held-out worlds (mean and interval; dashed: the rule's bound)",
                 fontsize=10)
    fig.tight_layout()
    return fig


__all__ = ["ABOUT_THE_BOOK", "CARDS", "CONSEQUENCES", "Card", "NOT_REPRODUCED", "NO_RECORD", "PARTLY", "PLANNED",
           "REPRODUCED", "STATUSES", "card_status", "chapter_status", "chapters_without_card", "coverage", "plot_card",
           "report_card"]
