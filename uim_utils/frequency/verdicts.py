"""The long-tail chapter's claims on the real data (:func:`real_claims`), measured
(:func:`real_verdicts`) and asserted (:func:`check_real`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..claims import FAILS, HOLDS, Claim, ClaimSet
from ..stats import Estimate
from .files import parse_model
from .statistics import (
    CONFIDENCE,
    N_BOOT,
    SEED,
    FrequencyAccuracy,
    frequency_accuracy,
    paired_change,
    pooled_frequency_accuracy,
)

if TYPE_CHECKING:  # pragma: no cover
    pass


REAL_VERDICT_COLUMNS: tuple[str, ...] = ("id", "statement", "asserted", "statistic", "n", "unit", "estimate",
                                         "low", "high", "se", "threshold", "rule", "distance_se", "verdict")
"""Columns of :func:`real_verdicts`, in order."""


"""Columns of :func:`real_verdicts`, in order."""


@dataclass(frozen=True)
class _RealSpec:
    """A real-data claim and how its estimate is measured."""

    claim: Claim
    measure: str  # "spearman", "slope", "pooled" or "paired"
    dataset: str
    model: str = ""  # "<arch>/<corpus>" (spearman, slope) or "<arch>" (paired)
    pre_a: str = ""
    pre_b: str = ""


def _rho_claim(cid: str, dataset: str, label: str, model: str, asserted: bool = True,
               note: str = "") -> _RealSpec:
    arch, corpus = parse_model(model)
    statement = (f"{label}: classes more frequent in {corpus} are recognised better by {arch} trained on it "
                 f"(Spearman of log count and accuracy > 0){note}")
    return _RealSpec(Claim(cid, statement, f"spearman[{dataset}, {model}]", "effect", threshold=0.0,
                           asserted=asserted, correlation=True), "spearman", dataset, model)


_SPECS: tuple[_RealSpec, ...] = (
    _rho_claim("R1", "imagenet", "ImageNet", "ViT-B-32/laion400m"),
    _rho_claim("R2", "imagenet", "ImageNet", "RN50/cc3m"),
    _RealSpec(Claim("R3", "ImageNet: accuracy rises with the log count for ViT-B-32 trained on LAION-400M "
                          "(slope of accuracy per tenfold more pairs > 0)",
                    "slope[imagenet, ViT-B-32/laion400m]", "effect", threshold=0.0),
              "slope", "imagenet", "ViT-B-32/laion400m"),
    _RealSpec(Claim("R4", "ImageNet: pooled over the 10 (model, corpus) pairs with counts, the mean Spearman of "
                          "log count and accuracy is > 0.2",
                    "mean spearman[imagenet, 10 models]", "effect", threshold=0.2, correlation=True),
              "pooled", "imagenet"),
    _RealSpec(Claim("R5", "ImageNet-Sketch: pooled over the 10 (model, corpus) pairs with counts, the mean "
                          "Spearman of log count and accuracy is > 0.2",
                    "mean spearman[imagenet-sketch, 10 models]", "effect", threshold=0.2, correlation=True),
              "pooled", "imagenet-sketch"),
    _RealSpec(Claim("R6", "ImageNet: RN50 trained on CC-3M, then on CC-12M: classes that became more frequent "
                          "gained more accuracy (Spearman of the changes > 0)",
                    "paired spearman[imagenet, RN50, cc3m->cc12m]", "effect", threshold=0.0, correlation=True),
              "paired", "imagenet", "RN50", "cc3m", "cc12m"),
    _RealSpec(Claim("R7", "Caltech-256: RN50 trained on CC-3M, then on CC-12M: classes that became more frequent "
                          "gained more accuracy (Spearman of the changes > 0)",
                    "paired spearman[caltech256, RN50, cc3m->cc12m]", "effect", threshold=0.0, correlation=True),
              "paired", "caltech256", "RN50", "cc3m", "cc12m"),
    _rho_claim("R8", "eurosat", "EuroSAT", "ViT-B-32/laion400m", asserted=False, note=" (10 classes)"),
    _rho_claim("R9", "stanfordcars", "Stanford Cars", "ViT-B-32/laion400m", asserted=False),
    _rho_claim("R10", "ucf101", "UCF101", "ViT-B-32/laion400m", asserted=False),
    _rho_claim("R11", "caltech256", "Caltech-256", "ViT-B-32/laion400m", asserted=False),
    _rho_claim("R12", "food101", "Food-101", "ViT-B-32/laion400m", asserted=False),
)


REAL_CHAPTER = "01_long_tail_real"
"""The ``chapter`` of :func:`real_claims` (the long-tail chapter's real-data section)."""


"""The ``chapter`` of :func:`real_claims` (the long-tail chapter's real-data section)."""


def real_claims() -> ClaimSet:
    """The long-tail chapter's claims on real data (ids ``R1``, ``R2``, ...).

    Asserted claims hold with a clear margin on the shipped data; the exploratory ones
    (``asserted=False``) are the benchmarks where the relation is weak, absent or
    reversed, shown with their estimates and never asserted. Every interval is over the
    benchmark's classes (``design`` records ``n_boot``, ``seed`` and ``confidence``).
    """
    return ClaimSet(REAL_CHAPTER, 1, tuple(s.claim for s in _SPECS),
                    design={"n_boot": N_BOOT, "seed": SEED, "confidence": CONFIDENCE, "data": "11ef009"})


def _measure(spec: _RealSpec, data_dir: Path | str | None,
             done: dict[tuple[str, str], FrequencyAccuracy]) -> Estimate:
    if spec.measure in ("spearman", "slope"):
        key = (spec.dataset, spec.model)
        if key not in done:  # R1 and R3 read the same fit
            done[key] = frequency_accuracy(spec.dataset, spec.model, data_dir=data_dir)
        return done[key].spearman if spec.measure == "spearman" else done[key].slope
    if spec.measure == "pooled":
        return pooled_frequency_accuracy(spec.dataset, data_dir=data_dir)
    return paired_change(spec.dataset, spec.model, spec.pre_a, spec.pre_b, data_dir=data_dir)


def real_verdicts(data_dir: Path | str | None = None) -> pd.DataFrame:
    """Every real-data claim decided on its interval over classes (:meth:`Claim.decide`).

    Uses :data:`N_BOOT`, :data:`SEED` and :data:`CONFIDENCE`, so the table is the same on
    every run.

    Returns
    -------
    DataFrame
        One row per claim, columns :data:`REAL_VERDICT_COLUMNS`: the claim, the
        ``statistic``, ``n`` units (``unit="classes"``), ``estimate`` with ``low``,
        ``high`` and ``se`` (bootstrap), the ``threshold`` and ``rule``, ``distance_se``
        (standard errors beyond the threshold, negative on the failing side) and
        ``verdict`` (``"holds"`` or ``"does not hold"``).
    """
    rows = []
    done: dict[tuple[str, str], FrequencyAccuracy] = {}
    for spec in _SPECS:
        c = spec.claim
        est = _measure(spec, data_dir, done)
        res = c.decide(est)
        rows.append({"id": c.id, "statement": c.statement, "asserted": c.asserted, "statistic": c.statistic,
                     "n": est.n, "unit": est.unit, "estimate": est.estimate, "low": est.low, "high": est.high,
                     "se": est.se, "threshold": c.threshold, "rule": c.rule(CONFIDENCE),
                     "distance_se": float(res.distance_se), "verdict": HOLDS if res.passed else FAILS})
    out = pd.DataFrame(rows, columns=list(REAL_VERDICT_COLUMNS))
    out.attrs = {"chapter": REAL_CHAPTER, "n_boot": N_BOOT, "seed": SEED, "confidence": CONFIDENCE}
    return out


def check_real(verdicts: pd.DataFrame | None = None, data_dir: Path | str | None = None) -> pd.DataFrame:
    """Assert every asserted real-data claim.

    Parameters
    ----------
    verdicts : DataFrame, optional
        A table from :func:`real_verdicts` (e.g. the one a notebook just showed);
        computed if omitted.
    data_dir : path, optional
        As in :func:`joined` (used only when ``verdicts`` is omitted).

    Raises
    ------
    AssertionError
        Naming every asserted claim that does not hold: id, statement, estimate,
        interval and rule.
    ValueError
        If ``verdicts`` does not list exactly the claims of :func:`real_claims`.
    """
    v = real_verdicts(data_dir) if verdicts is None else verdicts
    expected = [c.id for c in real_claims().claims]
    if not isinstance(v, pd.DataFrame) or "id" not in v.columns or list(v["id"]) != expected:
        got = list(v["id"]) if isinstance(v, pd.DataFrame) and "id" in v.columns else type(v).__name__
        raise ValueError(f"verdicts must be the table of real_verdicts() with claims {expected}, got {got}")
    failed = v[v["asserted"] & (v["verdict"] != HOLDS)]
    if len(failed):
        lines = [f"{REAL_CHAPTER}: {len(failed)} asserted real-data claim(s) do not hold:"]
        for r in failed.itertuples():
            lines.append(f"  claim {r.id} ({r.statement}): {r.statistic} = {r.estimate:.3f} "
                         f"[{r.low:.3f}, {r.high:.3f}] over {r.n} {r.unit}; rule {r.rule}")
        raise AssertionError("\n".join(lines))
    return v
