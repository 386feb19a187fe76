"""A chapter's claims, declared once and evaluated over worlds.

A **world** is everything one base seed draws: the concepts, the corpus, the model's
initialisation. A chapter's claims are about worlds, not about one world, so a chapter

1. declares its claims once, as a :class:`ClaimSet` of :class:`Claim` objects (what is
   claimed, which per-world statistic measures it, and the rule it must pass);
2. measures one row of statistics per world (a table with a ``seed`` column and one
   column per statistic, e.g. made by :func:`uim_utils.worlds.run_worlds`);
3. evaluates every claim over the worlds with :meth:`ClaimSet.verdicts` and asserts the
   asserted ones with :meth:`ClaimSet.check` in its ``Checks`` cell.


Each claim (:class:`uim_utils.claim.Claim`, re-exported here) is of one of three kinds
(``effect``, ``equivalence``, ``non_inferiority``) and may be decided ``within`` a unit in
every world or over worlds; :mod:`uim_utils.claim` says how each is decided. How the
verdicts are shown in a notebook is in :mod:`uim_utils.display`.

This module does not import torch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .claim import DIRECTIONS, FAILS, HOLDS, KINDS, UNDECIDED, Claim, check_confidence
from .validate import check_int

VERDICT_COLUMNS: tuple[str, ...] = ("id", "statement", "kind", "asserted", "statistic", "n_worlds", "estimate",
                                    "low", "high", "se", "rule", "distance_se", "verdict")
"""Columns of :meth:`ClaimSet.verdicts`, in order."""


@dataclass(frozen=True)
class ClaimSet:
    """A chapter's claims: declared once, evaluated over worlds.

    Attributes
    ----------
    chapter : str
        The notebook's stem, e.g. ``"00_the_lab"``.
    version : int
        >= 1. Bump it whenever a claim or the measurement changes: reproduction records
        made with another version are refused (:func:`uim_utils.records.load_record`).
    claims : tuple of Claim
        Unique ids; at least one asserted claim.
    design : mapping, optional
        The measurement's settings that decide the numbers (model, sizes, epochs, ...),
        JSON-serialisable. Part of the fingerprint, so a record made with other settings
        is refused even if nobody bumped ``version``.

    Raises
    ------
    ValueError
        On an empty chapter, a version < 1, a non-Claim element, duplicate ids, or no
        asserted claim.
    """

    chapter: str
    version: int
    claims: tuple[Claim, ...]
    design: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.chapter, str) or not self.chapter.strip():
            raise ValueError(f"chapter must be a non-empty string (the notebook stem), got {self.chapter!r}")
        check_int("version", self.version, 1)
        claims = tuple(self.claims)
        bad = [c for c in claims if not isinstance(c, Claim)]
        if bad:
            raise ValueError(f"{self.chapter}: claims must be Claim objects, got {bad[0]!r}")
        ids = [c.id for c in claims]
        dups = sorted({i for i in ids if ids.count(i) > 1})
        if dups:
            raise ValueError(f"{self.chapter}: duplicate claim ids {dups}")
        if not any(c.asserted for c in claims):
            raise ValueError(f"{self.chapter}: needs at least one asserted claim, got ids {ids} "
                             "(all exploratory or none)")
        object.__setattr__(self, "claims", claims)
        if not isinstance(self.design, Mapping):
            raise ValueError(f"{self.chapter}: design must be a mapping of settings, got {self.design!r}")
        try:
            json.dumps(dict(self.design), sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{self.chapter}: design must be JSON-serialisable ({exc}), got {self.design!r}") from None
        object.__setattr__(self, "design", dict(self.design))

    def fingerprint(self) -> str:
        """First 16 hex digits of the SHA-256 of the claims' canonical JSON.

        Covers the chapter, the version and every field of every claim (in order), so a
        changed threshold, margin or statement changes it.
        """
        blob = json.dumps({"chapter": self.chapter, "version": int(self.version),
                           "claims": [asdict(c) for c in self.claims], "design": dict(self.design)},
                          sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def asserted(self) -> tuple[Claim, ...]:
        """The claims the chapter asserts (not the exploratory ones)."""
        return tuple(c for c in self.claims if c.asserted)

    @property
    def min_worlds(self) -> int:
        """Fewest worlds a run needs: 2 if a claim is asserted over worlds, else 1.

        A claim decided in every world (``within`` set) needs one world; an interval over
        worlds needs two.
        """
        return 2 if any(c.within is None for c in self.asserted()) else 1

    def get(self, claim_id: str) -> Claim:
        """The claim with this id (ValueError listing the known ids otherwise)."""
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise ValueError(f"{self.chapter} has no claim {claim_id!r}; its claims are {[c.id for c in self.claims]}")

    @property
    def statistics(self) -> list[str]:
        """The per-world columns the claims read (statistics and within-world SEs), each once."""
        cols = [c.statistic for c in self.claims] + [c.se_column for c in self.claims if c.se_column]
        return list(dict.fromkeys(cols))

    def describe(self, confidence: float = 0.95) -> pd.DataFrame:
        """The claims as a reader sees them before any result: id, claim, rule, kind.

        ``asserted`` says whether the Checks cell asserts the claim or only shows it.
        """
        return pd.DataFrame([{"id": c.id, "claim": c.statement, "rule": c.rule(confidence), "kind": c.kind,
                              "asserted": c.asserted} for c in self.claims]).set_index("id")

    def validate_table(self, table: pd.DataFrame) -> pd.DataFrame:
        """Check a per-world table and return it sorted by seed.

        Raises
        ------
        ValueError
            If ``table`` is not a non-empty DataFrame with a ``seed`` column of unique
            integers and every statistic column, or a statistic is NaN / infinite (the
            message names the column and the seeds).
        """
        if not isinstance(table, pd.DataFrame):
            raise ValueError(f"{self.chapter}: the per-world table must be a DataFrame, got {type(table).__name__}")
        if table.empty:
            raise ValueError(f"{self.chapter}: the per-world table is empty (no worlds)")
        if "seed" not in table.columns:
            raise ValueError(f"{self.chapter}: the per-world table has no 'seed' column; "
                             f"columns: {list(table.columns)}")
        missing = [s for s in self.statistics if s not in table.columns]
        if missing:
            raise ValueError(f"{self.chapter}: the per-world table lacks the statistic column(s) {missing}; "
                             f"columns: {list(table.columns)}")
        seeds = pd.to_numeric(table["seed"], errors="coerce")
        if seeds.isna().any() or not all(float(s).is_integer() and s >= 0 for s in seeds):
            raise ValueError(f"{self.chapter}: seeds must be integers >= 0, got {table['seed'].tolist()}")
        dups = sorted({int(s) for s in seeds[seeds.duplicated()]})
        if dups:
            raise ValueError(f"{self.chapter}: the per-world table has several rows for seed(s) {dups}")
        for col in self.statistics:
            values = pd.to_numeric(table[col], errors="coerce").astype(float)
            bad = ~np.isfinite(values.to_numpy())
            if bad.any():
                raise ValueError(f"{self.chapter}: statistic {col!r} is NaN, infinite or not a number for "
                                 f"seed(s) {[int(s) for s in seeds[bad]]}")
        out = table.copy()
        out["seed"] = seeds.astype(np.int64)
        return out.sort_values("seed").reset_index(drop=True)

    def verdicts(self, table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
        """Every claim decided over the worlds of ``table``.

        Parameters
        ----------
        table : DataFrame
            One row per world: a ``seed`` column and one column per statistic.
        confidence : float
            Level of the claims' intervals (equivalence claims read ``2 confidence - 1``).

        Returns
        -------
        DataFrame
            One row per claim, columns :data:`VERDICT_COLUMNS`: the claim, ``n_worlds``,
            the ``estimate`` (mean over worlds) with ``low``, ``high`` and ``se``, the
            ``rule``, ``distance_se`` (how many standard errors the estimate lies beyond
            the rule's bound, on the passing side; negative on the failing side; see
            :class:`uim_utils.stats.TestResult`) and ``verdict``
            (``"holds"`` or ``"does not hold"``). ``attrs["seeds"]`` lists the worlds.

        Raises
        ------
        ValueError
            See :meth:`validate_table`; also if there are fewer than :attr:`min_worlds`
            worlds. In a run of one world an exploratory claim over worlds is shown with
            its value and the verdict :data:`UNDECIDED`.
        """
        check_confidence(confidence)
        table = self.validate_table(table)
        if len(table) < self.min_worlds:
            raise ValueError(f"{self.chapter}: asserted claims over worlds need at least 2 worlds, got seed(s) "
                             f"{table['seed'].tolist()}")
        rows = []
        for c in self.claims:
            values = table[c.statistic].to_numpy(dtype=float)
            if c.within is None and len(table) < 2:  # exploratory: shown, not decided
                summary = dict(n_worlds=1, estimate=float(values[0]), low=float("nan"), high=float("nan"),
                               se=float("nan"), distance_se=float("nan"), passed=None)
            elif c.within is None:
                res = c.test(values, confidence)
                est = res.estimate
                summary = dict(n_worlds=int(est.n), estimate=float(est.estimate), low=float(est.low),
                               high=float(est.high), se=float(est.se), distance_se=float(res.distance_se),
                               passed=res.passed)
            else:  # every world on its own: mean of the estimates, widest bounds, weakest world
                each = c.test_each_world(values, table[c.se_column].to_numpy(dtype=float), confidence)
                summary = dict(n_worlds=len(each), estimate=float(values.mean()),
                               low=min(r.estimate.low for r in each), high=max(r.estimate.high for r in each),
                               se=float(np.mean([r.estimate.se for r in each])),
                               distance_se=min(float(r.distance_se) for r in each),
                               passed=all(r.passed for r in each))
            rows.append({"id": c.id, "statement": c.statement, "kind": c.kind, "asserted": c.asserted,
                         "statistic": c.statistic, "n_worlds": summary["n_worlds"],
                         "estimate": summary["estimate"], "low": summary["low"], "high": summary["high"],
                         "se": summary["se"], "rule": c.rule(confidence), "distance_se": summary["distance_se"],
                         "verdict": UNDECIDED if summary["passed"] is None else HOLDS if summary["passed"] else FAILS})
        out = pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))
        out.attrs = {"chapter": self.chapter, "seeds": table["seed"].tolist(), "confidence": float(confidence)}
        return out

    def check(self, table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
        """:meth:`verdicts`, then assert every asserted claim.

        Returns the verdict table if every asserted claim holds; exploratory claims never
        raise.

        Raises
        ------
        AssertionError
            Listing every asserted claim that does not hold: its id, statement, interval
            and rule, and the worlds (seeds) it was evaluated on.
        """
        v = self.verdicts(table, confidence)
        failed = v[v["asserted"] & (v["verdict"] != HOLDS)]
        if len(failed):
            seeds = v.attrs["seeds"]
            lines = [f"{self.chapter}: {len(failed)} asserted claim(s) do not hold over {len(seeds)} worlds "
                     f"(seeds {seed_text(seeds)}):"]
            for r in failed.itertuples():
                lines.append(f"  claim {r.id} ({r.statement}): {r.statistic} = {r.estimate:.3f} "
                             f"[{r.low:.3f}, {r.high:.3f}]; rule {r.rule}; {r.distance_se:+.2f} SE")
            raise AssertionError("\n".join(lines))
        return v


def seed_text(seeds: Sequence[int]) -> str:
    """``[0, 1, 2, 3, 7]`` -> ``"0-3, 7"``."""
    s = sorted(int(x) for x in seeds)
    parts: list[str] = []
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[j] + 1:
            j += 1
        parts.append(str(s[i]) if i == j else f"{s[i]}-{s[j]}")
        i = j + 1
    return ", ".join(parts)


__all__ = ["DIRECTIONS", "FAILS", "HOLDS", "KINDS", "UNDECIDED", "VERDICT_COLUMNS", "Claim", "ClaimSet", "seed_text"]
