"""Correlations over worlds: Fisher-z intervals of per-world correlations, and a correlation
pooled over worlds (world-stratified).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from ._checks import _R_CLIP, _as_values, _check_confidence, _check_same_length
from .intervals import t_interval
from .results import Estimate


def _correlation(x: np.ndarray, y: np.ndarray, method: str, where: str) -> float:
    if np.all(x == x[0]) or np.all(y == y[0]):
        raise ValueError(f"{where}: a constant variable has no correlation")
    fn = stats.spearmanr if method == "spearman" else stats.pearsonr
    return float(fn(x, y)[0])


def correlations_interval(rs: Sequence[float] | np.ndarray, confidence: float = 0.95) -> Estimate:
    """Mean correlation over worlds from the per-world correlations (random effects).

    ``z = arctanh(r)`` per world (``r`` clipped to +-0.999999), a Student-t interval of the
    mean ``z`` over the worlds, back-transformed with ``tanh``.

    Parameters
    ----------
    rs : 1-D array of at least 2 correlations in [-1, 1], one per world
    confidence : float in (0, 1)

    Returns
    -------
    Estimate
        ``estimate = tanh(mean z)``; ``se`` = standard error of the mean z (z scale);
        ``unit="worlds"``; ``method="fisher-z student-t"``.
    """
    confidence = _check_confidence(confidence)
    r = _as_values(rs, "rs", min_n=2)
    if np.any(np.abs(r) > 1):
        raise ValueError(f"rs must be correlations in [-1, 1], got {float(r[np.abs(r) > 1][0])!r}")
    z = t_interval(np.arctanh(np.clip(r, -_R_CLIP, _R_CLIP)), confidence=confidence, unit="worlds")
    return Estimate(float(np.tanh(z.estimate)), float(np.tanh(z.low)), float(np.tanh(z.high)), z.se,
                    z.n, "worlds", "fisher-z student-t", confidence)


def pooled_correlation(
    xs: Sequence[Sequence[float] | np.ndarray],
    ys: Sequence[Sequence[float] | np.ndarray],
    method: str = "spearman",
    confidence: float = 0.95,
) -> Estimate:
    """Correlation of x and y measured within every world, with an interval over worlds.

    Each world gives one correlation ``r`` (Spearman or Pearson); the worlds are the units
    (:func:`correlations_interval`): the interval is about the correlation in a new world,
    not about the items of the worlds at hand. Pooling the items of all worlds into one
    correlation would mix within- and between-world variation and would treat the items
    as independent.

    With exactly one world there is nothing to average over: the interval is Fisher's
    ``tanh(z +- z_crit / sqrt(n - 3))`` over that world's ``n >= 4`` items
    (``unit="items"``, ``method="fisher-z normal"``).

    Parameters
    ----------
    xs, ys : sequences with one 1-D array per world; ``xs[i]`` and ``ys[i]`` of equal
        length (>= 3 items, >= 4 for a single world). For a single world pass ``[x]``,
        ``[y]``.
    method : ``"spearman"`` or ``"pearson"``
    confidence : float in (0, 1)

    Returns
    -------
    Estimate
    """
    confidence = _check_confidence(confidence)
    if method not in ("spearman", "pearson"):
        raise ValueError(f"method must be 'spearman' or 'pearson', got {method!r}")
    if len(xs) > 0 and np.ndim(xs[0]) == 0:
        raise ValueError("xs must be a sequence of 1-D arrays, one per world (for one world pass [x])")
    if len(ys) > 0 and np.ndim(ys[0]) == 0:
        raise ValueError("ys must be a sequence of 1-D arrays, one per world (for one world pass [y])")
    if len(xs) == 0:
        raise ValueError("xs is empty")
    if len(ys) == 0:
        raise ValueError("ys is empty")
    if len(xs) != len(ys):
        raise ValueError(f"xs has {len(xs)} worlds but ys has {len(ys)}")
    single = len(xs) == 1
    rs, sizes = [], []
    for i, (x, y) in enumerate(zip(xs, ys)):
        xa = _as_values(x, f"xs[{i}]", min_n=4 if single else 3)
        ya = _as_values(y, f"ys[{i}]")
        _check_same_length(xa, ya, f"xs[{i}]", f"ys[{i}]")
        rs.append(_correlation(xa, ya, method, f"world {i}"))
        sizes.append(xa.size)
    if not single:
        return correlations_interval(rs, confidence=confidence)
    n = sizes[0]
    z = float(np.arctanh(np.clip(rs[0], -_R_CLIP, _R_CLIP)))
    se = 1.0 / math.sqrt(n - 3)
    half = float(stats.norm.ppf(0.5 + confidence / 2)) * se
    return Estimate(float(np.tanh(z)), float(np.tanh(z - half)), float(np.tanh(z + half)), se, n,
                    "items", "fisher-z normal", confidence)
