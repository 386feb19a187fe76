"""Decisions on an :class:`~uim_utils.stats.Estimate`: an effect beyond a threshold, an
equivalence within a margin (TOST), and non-inferiority within a margin.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..validate import finite_float
from ._checks import _R_CLIP, _check_direction, _check_margin
from .results import Estimate, TestResult


def _z_scale(est: Estimate) -> bool:
    return est.method.startswith("fisher-z")


def _on_scale(est: Estimate, x: float) -> float:
    """``x`` on the scale of ``est.se``: arctanh for correlations, unchanged otherwise."""
    return float(np.arctanh(np.clip(x, -_R_CLIP, _R_CLIP))) if _z_scale(est) else float(x)


def _distance(gap: float, se: float) -> float:
    if se > 0:
        return gap / se
    return math.inf if gap > 0 else -math.inf if gap < 0 else 0.0


def _sf(est: Estimate, d: float) -> float:
    """One-sided p-value of a test statistic ``d`` (in standard errors)."""
    if est.method.endswith("student-t"):
        if est.n < 2:
            raise ValueError(f"a student-t estimate needs n >= 2, got {est.n}")
        return float(stats.t.sf(d, est.n - 1))
    return float(stats.norm.sf(d))


def _check_estimate(est: object) -> Estimate:
    if not isinstance(est, Estimate):
        raise ValueError(f"est must be an Estimate, got {type(est).__name__}")
    return est


def effect_test(est: Estimate, threshold: float = 0.0, direction: str = "greater") -> TestResult:
    """Is the quantity above (``"greater"``) or below (``"less"``) ``threshold``?

    Passes iff the whole interval is beyond the threshold: ``est.low > threshold``
    (``"greater"``) or ``est.high < threshold`` (``"less"``). For a Student-t estimate at
    confidence ``c`` this is the one-sided test at level ``(1 - c) / 2``
    (``p_value < (1 - c) / 2``).

    Returns
    -------
    TestResult
        ``kind="effect"``; ``distance_se = (estimate - threshold) / se`` (``"greater"``) or
        ``(threshold - estimate) / se`` (``"less"``).
    """
    est = _check_estimate(est)
    direction = _check_direction(direction)
    threshold = finite_float("threshold", threshold)
    e, t = _on_scale(est, est.estimate), _on_scale(est, threshold)
    if direction == "greater":
        passed, gap = est.low > threshold, e - t
    else:
        passed, gap = est.high < threshold, t - e
    d = _distance(gap, est.se)
    return TestResult(bool(passed), est, threshold, "effect", d, _sf(est, d))


def equivalence_test(est: Estimate, margin: float) -> TestResult:
    """Two one-sided tests (TOST): is the quantity inside ``(-margin, margin)``?

    Passes iff ``margin > 0`` and the interval lies inside ``(-margin, margin)``.

    Build ``est`` with ``confidence = 1 - 2 * alpha`` (**0.90 for alpha = 0.05**): the
    TOST at level alpha rejects both one-sided nulls ``mean <= -margin`` and
    ``mean >= margin`` at level alpha each, which is the same as the ``1 - 2 alpha``
    interval lying inside the margins (Schuirmann 1987). A 95% interval would make the
    test needlessly strict (level 0.025).

    Returns
    -------
    TestResult
        ``kind="equivalence"``, ``threshold=margin``,
        ``distance_se = (margin - |estimate|) / se``, ``p_value`` = the larger of the two
        one-sided p-values (the TOST p).
    """
    est = _check_estimate(est)
    margin = _check_margin(margin)
    passed = est.low > -margin and est.high < margin
    e, m = _on_scale(est, est.estimate), _on_scale(est, margin)
    d = _distance(m - abs(e), est.se)
    p_low = _sf(est, _distance(e + m, est.se))  # H0: quantity <= -margin
    p_high = _sf(est, _distance(m - e, est.se))  # H0: quantity >= margin
    return TestResult(bool(passed), est, margin, "equivalence", d, max(p_low, p_high))


def non_inferiority_test(est: Estimate, margin: float, direction: str = "greater") -> TestResult:
    """Is the treatment no worse than the reference by more than ``margin``?

    ``est`` is a difference (treatment - reference). With ``direction="greater"`` higher
    is better (e.g. accuracy): passes iff ``est.low > -margin``. With ``"less"`` lower is
    better (e.g. an error rate): passes iff ``est.high < margin``. As with
    :func:`effect_test`, a Student-t interval at confidence ``c`` gives the one-sided test
    at level ``(1 - c) / 2``.

    Returns
    -------
    TestResult
        ``kind="non_inferiority"``, ``threshold=margin``; ``distance_se =
        (estimate + margin) / se`` (``"greater"``) or ``(margin - estimate) / se``
        (``"less"``).
    """
    est = _check_estimate(est)
    margin = _check_margin(margin)
    direction = _check_direction(direction)
    e, m = _on_scale(est, est.estimate), _on_scale(est, margin)
    if direction == "greater":
        passed, gap = est.low > -margin, e + m
    else:
        passed, gap = est.high < margin, m - e
    d = _distance(gap, est.se)
    return TestResult(bool(passed), est, margin, "non_inferiority", d, _sf(est, d))
