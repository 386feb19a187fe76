"""One claim of a chapter: what is claimed, which per-world statistic measures it, and
the rule its interval over worlds must pass (:class:`Claim`).

A chapter declares its claims as a :class:`uim_utils.claims.ClaimSet`; see that module
for how claims are evaluated over worlds.

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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from . import stats
from .stats import Estimate, TestResult
from .validate import finite_float

KINDS: tuple[str, ...] = ("effect", "equivalence", "non_inferiority")
"""The kinds of claim; see the module docstring."""

DIRECTIONS: tuple[str, ...] = ("greater", "less")
"""Which side of the threshold (or margin) a claim's interval must lie on."""

HOLDS, FAILS = "holds", "does not hold"
UNDECIDED = "needs 2+ worlds"
"""Verdict of an exploratory claim over worlds in a run of one world (nothing to average)."""


def check_confidence(confidence: float) -> None:
    """Raise a ``ValueError`` naming ``confidence`` unless it is a number in (0.5, 1)."""
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
        return finite_float(f"claim {self.id!r}: {name}", value)

    def interval_confidence(self, confidence: float = 0.95) -> float:
        """The level of the interval the claim's rule reads.

        ``confidence`` for effect and non-inferiority claims; ``2 * confidence - 1`` for
        equivalence (two one-sided tests, each at ``alpha = 1 - confidence``: 0.90 for
        0.95).
        """
        check_confidence(confidence)
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


def claim_bounds(claim: Claim) -> list[float]:
    """The values a claim's rule compares its interval with (for plots).

    ``[threshold]`` for an effect, ``[-margin, margin]`` for an equivalence, ``[-margin]``
    (``"greater"``) or ``[margin]`` (``"less"``) for a non-inferiority claim.
    """
    if claim.kind == "effect":
        return [claim.threshold]
    assert claim.margin is not None
    if claim.kind == "equivalence":
        return [-claim.margin, claim.margin]
    return [-claim.margin] if claim.direction == "greater" else [claim.margin]


__all__ = ["DIRECTIONS", "FAILS", "HOLDS", "KINDS", "UNDECIDED", "Claim", "check_confidence", "claim_bounds"]
