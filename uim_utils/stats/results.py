"""What every statistic returns: an :class:`Estimate` (an interval and what it is over) and a
:class:`TestResult` (a decision about an estimate).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..validate import finite_float
from ._checks import _check_confidence


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval, and what the interval is over.

    Attributes
    ----------
    estimate : float
        Point estimate.
    low, high : float
        Ends of the interval.
    se : float
        Standard error of the estimate. For a bootstrap: the standard deviation of the
        bootstrap distribution. For a ``"fisher-z ..."`` method (a correlation): the
        standard error of the mean ``z = arctanh(r)``, on the z scale.
    n : int
        Number of units the interval is over (worlds, clusters, items...).
    unit : str
        What the units are, e.g. ``"worlds"``, ``"concepts"``, ``"activity x subject"``.
    method : str
        E.g. ``"student-t"``, ``"percentile bootstrap"``, ``"fisher-z student-t"``.
    confidence : float
        Confidence level of the interval, in (0, 1).
    """

    estimate: float
    low: float
    high: float
    se: float
    n: int
    unit: str
    method: str
    confidence: float

    def __post_init__(self) -> None:
        _check_confidence(self.confidence)
        for name in ("estimate", "low", "high"):
            finite_float(name, getattr(self, name))
        if not self.se >= 0:  # also rejects NaN
            raise ValueError(f"se must be >= 0, got {self.se!r}")
        if not self.low <= self.high:
            raise ValueError(f"low must be <= high, got low={self.low!r}, high={self.high!r}")
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n!r}")

    def as_tuple(self) -> tuple[float, float, float]:
        """``(estimate, low, high)``, the shape of the older ``*_ci`` helpers."""
        return (self.estimate, self.low, self.high)


@dataclass(frozen=True)
class TestResult:
    """A decision read from an :class:`Estimate`.

    Attributes
    ----------
    passed : bool
        Whether the claim is supported at the interval's confidence.
    estimate : Estimate
        The interval the decision was read from.
    threshold : float
        The threshold (``kind="effect"``) or the margin (``"equivalence"``,
        ``"non_inferiority"``).
    kind : str
        ``"effect"``, ``"equivalence"`` or ``"non_inferiority"``.
    distance_se : float
        How many standard errors the estimate sits beyond the threshold on the passing
        side (negative on the failing side). For equivalence ``(margin - |estimate|) / se``.
        ``inf`` if ``se == 0`` and the estimate is on the passing side (``-inf`` on the
        failing side, 0 on the threshold). For ``"fisher-z"`` estimates (correlations)
        distances are on the z scale: ``arctanh`` of estimate and threshold.
    p_value : float
        One-sided p-value of the test (equivalence: the TOST p, the larger of the two
        one-sided p-values), ``sf(distance_se)`` of a t distribution with ``n - 1``
        degrees of freedom when the method is Student-t, else of the standard normal
        (a normal approximation from ``se``).
    """

    __test__ = False  # not a pytest test class, despite the name

    passed: bool
    estimate: Estimate
    threshold: float
    kind: str
    distance_se: float
    p_value: float
