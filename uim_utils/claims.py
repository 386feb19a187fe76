"""A chapter's claims, declared once and evaluated over worlds.

A **world** is everything one base seed draws: the concepts, the corpus, the model's
initialisation. A chapter's claims are about worlds, not about one world, so a chapter

1. declares its claims once, as a :class:`ClaimSet` of :class:`Claim` objects (what is
   claimed, which per-world statistic measures it, and the rule it must pass);
2. measures one row of statistics per world (a table with a ``seed`` column and one
   column per statistic, e.g. made by :func:`uim_utils.worlds.run_worlds`);
3. evaluates every claim over the worlds with :meth:`ClaimSet.verdicts` and asserts the
   asserted ones with :meth:`ClaimSet.check` in its ``Checks`` cell.

Three kinds of claim (:data:`KINDS`):

``effect``
    The mean of the statistic over worlds is beyond ``threshold``: the lower end of the
    Student-t interval (over worlds) is above it (``direction="greater"``), or the upper
    end is below it (``"less"``).
``equivalence``
    A negative control: the mean is within ``±margin`` of zero. Two one-sided tests
    (TOST), each at level ``alpha = 1 - confidence`` (0.05 for ``confidence=0.95``): the
    ``1 - 2 alpha = 2 confidence - 1`` interval (90%) lies inside ``(-margin, margin)``
    (Schuirmann 1987; see :func:`uim_utils.stats.equivalence_test`). An effect claim's
    "95% CI low > threshold" is a one-sided test at 0.025; TOST at 0.05 per side is the
    usual equivalence convention, and a 95% interval would make a negative control
    needlessly hard to pass.
``non_inferiority``
    A cost: the statistic is a difference treatment - reference, and the treatment is
    not worse by more than ``margin``: the interval's lower end is above ``-margin``
    (``"greater"``: larger is better), or its upper end below ``margin`` (``"less"``:
    smaller is better).

A claim with ``within="concepts"`` (or another unit) is decided in **every world on its
own**, with the world's interval over that unit read from the column
``<statistic>_se`` (normal interval ``estimate +- z se``): it holds only if it holds in
each world. Use it for a claim about every world's model when a run can afford too few
worlds for a Student-t interval over worlds (with 2 worlds, t = 12.7).

A claim with ``asserted=False`` is exploratory: shown with its estimate, never asserted.
A claim with ``correlation=True`` has a correlation per world; its interval is built on
Fisher's z scale (:func:`uim_utils.stats.correlations_interval`).

This module does not import torch.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from . import stats
from .stats import Estimate, TestResult
from .validate import check_int

if TYPE_CHECKING:  # pragma: no cover
    from pandas.io.formats.style import Styler

KINDS: tuple[str, ...] = ("effect", "equivalence", "non_inferiority")
"""The kinds of claim; see the module docstring."""

DIRECTIONS: tuple[str, ...] = ("greater", "less")
"""Which side of the threshold (or margin) a claim's interval must lie on."""

VERDICT_COLUMNS: tuple[str, ...] = ("id", "statement", "kind", "asserted", "statistic", "n_worlds", "estimate",
                                    "low", "high", "se", "rule", "distance_se", "verdict")
"""Columns of :meth:`ClaimSet.verdicts`, in order."""

HOLDS, FAILS = "holds", "does not hold"
UNDECIDED = "needs 2+ worlds"
"""Verdict of an exploratory claim over worlds in a run of one world (nothing to average)."""


def _check_confidence(confidence: float) -> None:
    try:
        ok = 0.5 < float(confidence) < 1 and not isinstance(confidence, bool)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"confidence must be a number in (0.5, 1), got {confidence!r}")


def _number(x: float) -> str:
    """A threshold as a reader writes it: ``0.2`` -> ``"0.20"``, ``0.025`` -> ``"0.025"``."""
    return f"{x:.2f}" if abs(round(x, 2) - x) < 1e-12 else f"{x:.4g}"


def _percent(confidence: float) -> str:
    return f"{100 * confidence:.4g}%"


@dataclass(frozen=True)
class Claim:
    """One claim of a chapter, and the rule by which worlds decide it.

    Attributes
    ----------
    id : str
        Short id, e.g. ``"1"`` or ``"2a"`` (the number in "The published claim").
    statement : str
        One sentence a reader understands, e.g. ``"Recall on the 3 rarest classes is
        lower than on the 3 most frequent"``.
    statistic : str
        The column of the per-world table that measures the claim.
    kind : str
        One of :data:`KINDS`.
    threshold : float
        ``effect`` only: the value the interval must clear. Must be 0 for the other kinds
        (their rule is set by ``margin``).
    margin : float, optional
        ``equivalence`` and ``non_inferiority``: the margin, > 0 (required). Must be
        ``None`` for ``effect``.
    direction : str
        ``"greater"`` or ``"less"``; see the module docstring. Ignored by
        ``equivalence``.
    asserted : bool
        ``False`` for an exploratory claim: evaluated and shown, never asserted.
    correlation : bool
        The statistic is a correlation per world: its interval is built on Fisher's z
        scale.
    within : str, optional
        Decide the claim in every world on its own, with the interval over this unit
        (e.g. ``"concepts"``) whose standard error the column ``<statistic>_se`` holds.
        ``None`` (default): one interval over worlds.

    Raises
    ------
    ValueError
        On an empty id, statement or statistic, an unknown kind or direction, a margin
        that is missing, not positive or given for an ``effect`` claim, a non-zero
        threshold on a margin claim, or a non-finite number.
    """

    id: str
    statement: str
    statistic: str
    kind: str
    threshold: float = 0.0
    margin: float | None = None
    direction: str = "greater"
    asserted: bool = True
    correlation: bool = False
    within: str | None = None

    def __post_init__(self) -> None:
        for name in ("id", "statement", "statistic"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"claim {name} must be a non-empty string, got {value!r}")
        if self.statistic == "seed":
            raise ValueError(f"claim {self.id!r}: 'seed' is the world column, not a statistic")
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id!r}: unknown kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"claim {self.id!r}: unknown direction {self.direction!r}; "
                             f"choose one of {', '.join(DIRECTIONS)}")
        if self.within is not None and (not isinstance(self.within, str) or not self.within.strip()):
            raise ValueError(f"claim {self.id!r}: within must be a unit name such as 'concepts' or None, "
                             f"got {self.within!r}")
        if self.within is not None and self.correlation:
            raise ValueError(f"claim {self.id!r}: a per-world claim (within={self.within!r}) cannot be a correlation")
        for name in ("asserted", "correlation"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"claim {self.id!r}: {name} must be True or False, got {getattr(self, name)!r}")
            object.__setattr__(self, name, bool(getattr(self, name)))
        threshold = self._finite("threshold", self.threshold)
        object.__setattr__(self, "threshold", threshold)
        if self.kind == "effect":
            if self.margin is not None:
                raise ValueError(f"claim {self.id!r}: an effect claim takes a threshold, not a margin "
                                 f"(got margin={self.margin!r}); margins are for equivalence and non_inferiority")
        else:
            if self.margin is None:
                raise ValueError(f"claim {self.id!r}: a {self.kind} claim needs a margin > 0, got None")
            margin = self._finite("margin", self.margin)
            if margin <= 0:
                raise ValueError(f"claim {self.id!r}: margin must be > 0, got {self.margin!r}")
            object.__setattr__(self, "margin", margin)
            if threshold != 0:
                raise ValueError(f"claim {self.id!r}: a {self.kind} claim is decided by its margin; "
                                 f"its threshold must be 0, got {self.threshold!r}")

    def _finite(self, name: str, value: Any) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"claim {self.id!r}: {name} must be a number, got {value!r}") from None
        if isinstance(value, bool) or not math.isfinite(v):
            raise ValueError(f"claim {self.id!r}: {name} must be a finite number, got {value!r}")
        return v

    def interval_confidence(self, confidence: float = 0.95) -> float:
        """The level of the interval the claim's rule reads.

        ``confidence`` for effect and non-inferiority claims; ``2 * confidence - 1`` for
        equivalence (two one-sided tests, each at ``alpha = 1 - confidence``: 0.90 for
        0.95).
        """
        _check_confidence(confidence)
        return 2 * confidence - 1 if self.kind == "equivalence" else float(confidence)

    def interval(self, values: Sequence[float] | np.ndarray | pd.Series, confidence: float = 0.95) -> Estimate:
        """Interval of the mean statistic over worlds, at the level the rule reads.

        Student-t over worlds (Fisher z for a correlation), at ``confidence``, or at
        ``2 * confidence - 1`` for an equivalence claim (see :meth:`interval_confidence`).

        Parameters
        ----------
        values : array-like
            The statistic, one value per world (at least 2).
        confidence : float
            The claim's confidence level.

        Raises
        ------
        ValueError
            If a value is NaN or infinite, or there are fewer than 2 worlds.
        """
        level = self.interval_confidence(confidence)
        v = np.asarray(values, dtype=float).ravel()
        if not np.isfinite(v).all():
            raise ValueError(f"claim {self.id!r}: statistic {self.statistic!r} has non-finite values "
                             f"{v[~np.isfinite(v)].tolist()}")
        if v.size < 2:
            raise ValueError(f"claim {self.id!r}: an interval over worlds needs at least 2 worlds, got {v.size}")
        if self.correlation:
            return stats.correlations_interval(v, confidence=level)
        return stats.t_interval(v, confidence=level)

    def test(self, values: Sequence[float] | np.ndarray | pd.Series, confidence: float = 0.95) -> TestResult:
        """Decide the claim on the given worlds (see the module docstring for the rules)."""
        return self.decide(self.interval(values, confidence))

    def decide(self, est: Estimate) -> TestResult:
        """Apply the claim's rule (its kind, threshold or margin, direction) to an interval."""
        if self.kind == "effect":
            return stats.effect_test(est, threshold=self.threshold, direction=self.direction)
        assert self.margin is not None  # __post_init__: margin claims have one
        if self.kind == "equivalence":
            return stats.equivalence_test(est, self.margin)
        return stats.non_inferiority_test(est, self.margin, direction=self.direction)

    @property
    def se_column(self) -> str | None:
        """The column of within-world standard errors a per-world claim reads (else None)."""
        return None if self.within is None else f"{self.statistic}_se"

    def test_each_world(self, values: Sequence[float] | np.ndarray, ses: Sequence[float] | np.ndarray,
                        confidence: float = 0.95) -> list[TestResult]:
        """Decide a per-world claim (``within`` set) in each world on its own.

        Parameters
        ----------
        values, ses : array-like
            Per world, the statistic and its standard error over the ``within`` unit.

        Returns
        -------
        list of TestResult, one per world (normal interval ``value +- z se``).
        """
        if self.within is None:
            raise ValueError(f"claim {self.id!r} is decided over worlds, not in each world (within=None)")
        v = np.asarray(values, dtype=float).ravel()
        se = np.asarray(ses, dtype=float).ravel()
        if v.size == 0 or v.size != se.size:
            raise ValueError(f"claim {self.id!r}: {v.size} values but {se.size} standard errors")
        if not (np.isfinite(v).all() and np.isfinite(se).all()) or (se < 0).any():
            raise ValueError(f"claim {self.id!r}: values and standard errors must be finite, se >= 0; "
                             f"got {v.tolist()} and {se.tolist()}")
        level = self.interval_confidence(confidence)
        z = float(scipy_stats.norm.ppf(0.5 + level / 2))
        out = []
        for x, s in zip(v, se):
            out.append(self.decide(Estimate(float(x), float(x - z * s), float(x + z * s), float(s), 1, self.within,
                                            "normal", level)))
        return out

    def rule(self, confidence: float = 0.95) -> str:
        """The pass rule in words, e.g. ``"95% CI low > 0.20"`` or ``"90% CI inside ±0.10"``."""
        if self.within is not None:
            level = _percent(self.interval_confidence(confidence))
            over = self._rule_over_worlds(confidence).replace(f"{level} CI", f"{level} CI over {self.within}")
            return f"{over} in every world"
        return self._rule_over_worlds(confidence)

    def _rule_over_worlds(self, confidence: float) -> str:
        level = _percent(self.interval_confidence(confidence))
        if self.kind == "effect":
            side = "low >" if self.direction == "greater" else "high <"
            return f"{level} CI {side} {_number(self.threshold)}"
        assert self.margin is not None
        if self.kind == "equivalence":
            return f"{level} CI inside ±{_number(self.margin)}"
        if self.direction == "greater":
            return f"{level} CI low > {_number(-self.margin)}"
        return f"{level} CI high < {_number(self.margin)}"


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
        _check_confidence(confidence)
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
                     f"(seeds {_seed_text(seeds)}):"]
            for r in failed.itertuples():
                lines.append(f"  claim {r.id} ({r.statement}): {r.statistic} = {r.estimate:.3f} "
                             f"[{r.low:.3f}, {r.high:.3f}]; rule {r.rule}; {r.distance_se:+.2f} SE")
            raise AssertionError("\n".join(lines))
        return v


def _seed_text(seeds: Sequence[int]) -> str:
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


_HOLDS_STYLE = "background-color: #d8f0d8; color: #14521b; font-weight: bold"
_FAILS_STYLE = "background-color: #f8d7d5; color: #8a1c13; font-weight: bold"
_MUTED_HOLDS = "background-color: #edf6ed; color: #3d6b41"
_MUTED_FAILS = "background-color: #fbeceb; color: #8a4a44"


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
    missing = [c for c in VERDICT_COLUMNS if c not in verdicts.columns]
    if missing:
        raise ValueError(f"show_verdicts needs the columns of ClaimSet.verdicts; missing {missing}")
    v = verdicts.reset_index(drop=True)
    shown = pd.DataFrame({
        "claim": v["id"],
        "statement": [s if a else f"{s} (exploratory)" for s, a in zip(v["statement"], v["asserted"])],
        "statistic": v["statistic"],
        "worlds": v["n_worlds"],
        "estimate": v["estimate"],
        "interval": ["" if pd.isna(lo) else f"[{lo:.3f}, {hi:.3f}]" for lo, hi in zip(v["low"], v["high"])],
        "rule": v["rule"],
        "SEs beyond": v["distance_se"],
        "verdict": v["verdict"],
    })
    asserted = v["asserted"].astype(bool).to_numpy()

    def row_style(row: pd.Series) -> list[str]:
        base = "" if asserted[row.name] else "font-style: italic; color: #555555"
        return [_verdict_style(row["verdict"], asserted[row.name]) if col == "verdict" else base
                for col in row.index]

    return _base_style(shown, ["claim", "statement", "statistic", "interval", "rule", "verdict"]).apply(
        row_style, axis=1)


__all__ = ["DIRECTIONS", "KINDS", "VERDICT_COLUMNS", "Claim", "ClaimSet", "show_verdicts"]
