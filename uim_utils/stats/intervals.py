"""Intervals by the right unit: Student-t over worlds, the per-concept mean and SE, and
bootstraps over images, clusters (concepts) and crossed units, paired differences and the
ROC AUC. One vocabulary: ``confidence``, ``n_boot``, ``seed``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats

from ..validate import check_int
from ._checks import (
    _as_labels,
    _as_values,
    _check_boot,
    _check_confidence,
    _check_same_length,
    _check_statistic,
    _multiplicities,
)
from .results import Estimate


def _percentile_estimate(point: float, boot: np.ndarray, confidence: float, n: int,
                         unit: str, method: str) -> Estimate:
    boot = boot[np.isfinite(boot)]
    if boot.size < 2:
        raise ValueError("the bootstrap produced fewer than 2 finite replicates")
    alpha = 1 - confidence
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return Estimate(float(point), float(min(low, high)), float(max(low, high)), float(boot.std(ddof=1)),
                    int(n), unit, method, confidence)


def t_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95, unit: str = "worlds") -> Estimate:
    """Mean and Student-t interval: ``mean +- t_{n-1} * sd / sqrt(n)``.

    For an effect measured once per unit (world, seed, corpus): the interval is about the
    average over such units, not about any one of them.

    Parameters
    ----------
    values : 1-D array of at least 2 finite numbers, one per unit
    confidence : float in (0, 1)
    unit : str
        What one value is measured on.

    Returns
    -------
    Estimate
        ``method="student-t"``. Equal values give ``se=0`` and a zero-width interval.
    """
    confidence = _check_confidence(confidence)
    v = _as_values(values, "values", min_n=2)
    mean = float(v.mean())
    se = float(v.std(ddof=1) / math.sqrt(v.size))
    if np.all(v == v[0]):
        se, mean = 0.0, float(v[0])
    half = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1)) * se
    return Estimate(mean, mean - half, mean + half, se, int(v.size), unit, "student-t", confidence)


def concept_mean_se(values: Sequence[float] | np.ndarray, concepts: Sequence[Any] | np.ndarray) -> tuple[float, float]:
    """Mean over concepts of the per-concept mean of ``values``, and its standard error.

    For claims whose unit is the concept: each concept's items (e.g. test images, or
    paired differences of two models on them) are averaged first, then the concepts
    (Student-t standard error, sd / sqrt(n)). Equal per-concept means give 0.

    Parameters
    ----------
    values : 1-D array of finite numbers, one per item
    concepts : 1-D array of labels, one per item; at least 2 distinct

    Returns
    -------
    (estimate, se) : tuple of float
    """
    v = _as_values(values, "values")
    c = np.asarray(concepts)
    if c.shape != v.shape:
        raise ValueError(f"values and concepts must be 1-D of equal length, got {v.shape} and {c.shape}")
    codes, k = _as_labels(c, "concepts", v)
    per = np.bincount(codes, weights=v, minlength=k) / np.bincount(codes, minlength=k)
    est = t_interval(per, unit="concepts")
    return est.estimate, est.se


def bootstrap_interval(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[..., Any] = np.mean,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    unit: str = "units",
) -> Estimate:
    """Statistic of ``values`` with a percentile-bootstrap interval over the values.

    Each value is treated as one independent unit: resample ``b`` is
    ``values[rng.integers(0, n, (n_boot, n))[b]]`` with ``rng =
    numpy.random.default_rng(seed)`` (the draws of ``scipy.stats.bootstrap`` with that
    generator). If the values come in groups (images of a concept), use
    :func:`cluster_bootstrap`.

    Parameters
    ----------
    values : 1-D array of at least 2 finite numbers
    statistic : callable
        ``statistic(values) -> float``; if it takes an ``axis`` keyword (like ``np.mean``,
        ``np.median``) the resamples are evaluated in one vectorised call.
    confidence, n_boot, seed
        Confidence level in (0, 1); number of resamples (>= 100); seed of the generator
        (the same seed gives the same interval).
    unit : str

    Returns
    -------
    Estimate
        ``method="percentile bootstrap"``, ``se`` = sd of the bootstrap distribution.
    """
    confidence = _check_confidence(confidence)
    _check_boot(n_boot, seed)
    _check_statistic(statistic)
    v = _as_values(values, "values", min_n=2)
    point = float(statistic(v))
    if np.all(v == v[0]):  # every resample is the same sample
        return Estimate(point, point, point, 0.0, int(v.size), unit, "percentile bootstrap", confidence)
    resamples = v[np.random.default_rng(seed).integers(0, v.size, (n_boot, v.size))]
    if "axis" in inspect.signature(statistic).parameters:
        boot = np.asarray(statistic(resamples, axis=-1), dtype=np.float64)
    else:
        boot = np.array([statistic(r) for r in resamples], dtype=np.float64)
    return _percentile_estimate(point, boot, confidence, v.size, unit, "percentile bootstrap")


def cluster_bootstrap(
    values: Sequence[float] | np.ndarray,
    units: Sequence[Any] | np.ndarray,
    statistic: Callable[..., Any] = np.mean,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    unit: str = "clusters",
) -> Estimate:
    """Statistic of per-item values with a bootstrap interval that resamples whole units.

    E.g. ``values`` = 0/1 correctness of every test image, ``units`` = its concept: each
    resample draws as many concepts as there are, with replacement, and evaluates the
    statistic on the pooled images of the drawn concepts (a concept drawn twice counts
    twice). The interval is over the concepts, which is what varies between test sets.

    Parameters
    ----------
    values : 1-D array of finite numbers, one per item
    units : 1-D array of labels (any hashable), one per item; at least 2 distinct labels
    statistic : callable
        ``statistic(pooled_values) -> float``. ``np.mean`` (the default) takes a fast,
        fully vectorised path (weighted means of unit sums); any other callable is
        evaluated once per resample.
    confidence, n_boot, seed, unit
        As in :func:`bootstrap_interval`.

    Returns
    -------
    Estimate
        ``n`` = number of distinct units, ``method="cluster percentile bootstrap"``.
    """
    confidence = _check_confidence(confidence)
    _check_boot(n_boot, seed)
    _check_statistic(statistic)
    v = _as_values(values, "values")
    codes, k = _as_labels(units, "units", v)
    point = float(statistic(v))
    rng = np.random.default_rng(seed)
    mult = _multiplicities(rng, k, n_boot)
    if statistic is np.mean:
        sums = np.bincount(codes, weights=v, minlength=k)
        counts: np.ndarray = np.bincount(codes, minlength=k).astype(np.float64)
        boot = (mult @ sums) / (mult @ counts)
    else:
        order = np.argsort(codes, kind="stable")
        sorted_v = v[order]
        counts = np.bincount(codes, minlength=k)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        boot = np.empty(n_boot)
        for b in range(n_boot):
            m = mult[b].astype(np.intp)
            drawn = np.repeat(np.arange(k), m)  # each unit as often as it was drawn
            lengths = counts[drawn]
            offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            boot[b] = statistic(sorted_v[np.repeat(starts[drawn], lengths) + offsets])
    return _percentile_estimate(point, boot, confidence, k, unit, "cluster percentile bootstrap")


def index_bootstrap(
    statistic: Callable[[np.ndarray], Any],
    n: int,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    unit: str = "units",
) -> Estimate:
    """A statistic of ``n`` units, with a percentile bootstrap evaluated in one call.

    The vectorised form of :func:`cluster_bootstrap` with one item per unit: each
    resample draws ``n`` units with replacement (the same draws as
    :func:`cluster_bootstrap` with the same seed), and ``statistic`` receives all
    resamples at once as a ``(n_boot, n)`` matrix of unit indices (each row sorted) and
    returns ``n_boot`` values. Use it where the statistic is cheap to vectorise over rows
    (e.g. rank correlations of per-unit values).

    Parameters
    ----------
    statistic : callable
        ``statistic(indices) -> values``, ``indices`` of shape ``(B, n)``.
    n : int
        Units, at least 2.
    confidence, n_boot, seed, unit
        As in :func:`bootstrap_interval`.

    Returns
    -------
    Estimate
        ``estimate`` = ``statistic`` of the units as they are, ``method="cluster
        percentile bootstrap"``.
    """
    confidence = _check_confidence(confidence)
    _check_boot(n_boot, seed)
    _check_statistic(statistic)
    check_int("n", n, 2)
    point = float(np.asarray(statistic(np.arange(n)[None, :])).reshape(-1)[0])
    mult = _multiplicities(np.random.default_rng(seed), n, n_boot).astype(np.intp)
    rows = np.repeat(np.tile(np.arange(n), n_boot), mult.ravel()).reshape(n_boot, n)
    boot = np.asarray(statistic(rows), dtype=np.float64)
    if boot.size != n_boot:
        raise ValueError(f"statistic must return one value per resample ({n_boot}) for indices of shape "
                         f"{rows.shape}, got an array of shape {boot.shape}")
    boot = boot.reshape(n_boot)
    return _percentile_estimate(point, boot, confidence, n, unit, "cluster percentile bootstrap")


def crossed_bootstrap(
    values: Sequence[float] | np.ndarray,
    rows: Sequence[Any] | np.ndarray,
    cols: Sequence[Any] | np.ndarray,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    unit: str = "rows x cols",
) -> Estimate:
    """Mean of values in a two-way crossed design, with Owen's pigeonhole bootstrap.

    E.g. a score per (activity, subject) pair varies with the activity and with the
    subject. Each resample draws the rows with replacement and, independently, the
    columns; an item's weight is (multiplicity of its row) x (multiplicity of its column)
    and the replicate is the weighted mean (Owen 2007). Resampling only the items would
    ignore both sources of variation; resampling only rows would ignore the columns.
    The pigeonhole bootstrap is mildly conservative (its variance slightly overstates the
    item-noise term).

    Parameters
    ----------
    values : 1-D array of finite numbers, one per item (a cell may hold several items,
        or none)
    rows, cols : 1-D arrays of labels, one per item; at least 2 distinct labels each
    confidence, n_boot, seed, unit
        As in :func:`bootstrap_interval`.

    Returns
    -------
    Estimate
        ``estimate`` = plain mean of ``values``; ``n`` = number of items;
        ``method="pigeonhole percentile bootstrap"``. In a sparse design a resample in
        which no item has both a drawn row and a drawn column has no mean and is dropped.
    """
    confidence = _check_confidence(confidence)
    _check_boot(n_boot, seed)
    v = _as_values(values, "values")
    r, n_rows = _as_labels(rows, "rows", v)
    c, n_cols = _as_labels(cols, "cols", v)
    sums = np.zeros((n_rows, n_cols))
    counts = np.zeros((n_rows, n_cols))
    np.add.at(sums, (r, c), v)
    np.add.at(counts, (r, c), 1.0)
    rng = np.random.default_rng(seed)
    wr = _multiplicities(rng, n_rows, n_boot)
    wc = _multiplicities(rng, n_cols, n_boot)
    num = ((wr @ sums) * wc).sum(axis=1)
    den = ((wr @ counts) * wc).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return _percentile_estimate(float(v.mean()), boot, confidence, v.size, unit,
                                "pigeonhole percentile bootstrap")


def paired_difference(
    after: Sequence[float] | np.ndarray,
    before: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    method: str = "t",
    n_boot: int = 2000,
    seed: int = 0,
    unit: str = "worlds",
) -> Estimate:
    """Mean of ``after - before`` over paired units, with an interval.

    Note the order: ``after`` first (the difference is ``after - before``).

    Parameters
    ----------
    after, before : 1-D arrays of equal length (>= 2), entry ``i`` of both on the same unit
    method : ``"t"`` (Student-t, :func:`t_interval`) or ``"bootstrap"``
        (:func:`bootstrap_interval` of the mean); ``n_boot`` and ``seed`` are used by the
        bootstrap only.

    Returns
    -------
    Estimate
    """
    if method not in ("t", "bootstrap"):
        raise ValueError(f"method must be 't' or 'bootstrap', got {method!r}")
    a = _as_values(after, "after")
    b = _as_values(before, "before")
    _check_same_length(a, b, "after", "before")
    d = a - b
    if method == "t":
        return t_interval(d, confidence=confidence, unit=unit)
    return bootstrap_interval(d, np.mean, confidence=confidence, n_boot=n_boot, seed=seed, unit=unit)


def auc_interval(scores: Sequence[float] | np.ndarray, positive: Sequence[bool] | np.ndarray,
                 confidence: float = 0.95) -> Estimate:
    """ROC AUC of ``scores`` for ``positive`` items, with the Hanley-McNeil normal interval.

    The AUC is the probability that a random positive item scores above a random negative
    one (ties count one half; scikit-learn's ``roc_auc_score``). Its standard error is the
    closed form of Hanley & McNeil (1982, Radiology 143:29-36), over the items of both
    classes: ``se^2 = (A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)) / (n1 n0)`` with
    ``Q1 = A/(2-A)``, ``Q2 = 2A^2/(1+A)``. The interval is ``A +- z se``, clipped to [0, 1].

    Parameters
    ----------
    scores : 1-D array of finite numbers (higher = more likely positive)
    positive : 1-D bool array of the same length, with both classes present
    confidence : float in (0, 1)

    Returns
    -------
    Estimate
        ``unit="items"``, ``method="hanley-mcneil normal"``, ``n`` = number of positives.
    """
    from sklearn.metrics import roc_auc_score

    confidence = _check_confidence(confidence)
    s = _as_values(scores, "scores", min_n=2)
    pos = _as_positive(positive, s)
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError(f"positive must contain both classes, got {n1} positive of {pos.size}")
    a = float(roc_auc_score(pos, s))
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0)
    se = math.sqrt(max(var, 0.0))
    half = float(stats.norm.ppf(0.5 + confidence / 2)) * se
    return Estimate(a, max(0.0, a - half), min(1.0, a + half), se, n1, "items", "hanley-mcneil normal",
                    confidence)


def _as_positive(positive: Sequence[bool] | np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``positive`` as a bool array of the scores' shape, or a ValueError naming both."""
    pos = np.asarray(positive)
    if pos.shape != scores.shape or pos.dtype != bool:
        raise ValueError(f"positive must be a bool array of the scores' shape {scores.shape}, "
                         f"got dtype {pos.dtype} and shape {pos.shape}")
    return pos


def _placements(s: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's structural components of one score: per positive, the share of negatives it
    beats (ties count one half); per negative, the share of positives that beat it."""
    from scipy.stats import rankdata

    n1, n0 = int(pos.sum()), int((~pos).sum())
    r_all = rankdata(s)
    v10 = (r_all[pos] - rankdata(s[pos])) / n0
    v01 = 1.0 - (r_all[~pos] - rankdata(s[~pos])) / n1
    return v10, v01


def paired_auc_difference(scores_a: Sequence[float] | np.ndarray, scores_b: Sequence[float] | np.ndarray,
                          positive: Sequence[bool] | np.ndarray, confidence: float = 0.95) -> Estimate:
    """ROC AUC of ``scores_a`` minus that of ``scores_b`` on the same items, with DeLong's
    paired standard error.

    Two models score the same positive and negative items; their AUCs are correlated, and
    DeLong, DeLong and Clarke-Pearson (1988, Biometrics 44:837-845) give the variance of
    the difference from each item's structural components (per positive, the share of
    negatives it outscores; per negative, the share of positives that outscore it), their
    covariance across the two models included: ``var = (s10_aa + s10_bb - 2 s10_ab) / n1 +
    (s01_aa + s01_bb - 2 s01_ab) / n0`` (the components by midranks, as in Sun and Xu 2014
    and pROC's ``delong.paired.test``). Adding the two AUCs' separate variances instead
    overstates the error when the models agree on which items are hard.

    Parameters
    ----------
    scores_a, scores_b : 1-D arrays of finite numbers, item ``i`` of both the same item
    positive : 1-D bool array of the same length, with at least 2 items of each class
    confidence : float in (0, 1)

    Returns
    -------
    Estimate
        ``estimate`` = AUC(a) - AUC(b), a normal interval, ``n`` = positives,
        ``unit="items"``, ``method="delong paired normal"``.
    """
    confidence = _check_confidence(confidence)
    a = _as_values(scores_a, "scores_a", min_n=2)
    b = _as_values(scores_b, "scores_b", min_n=2)
    _check_same_length(a, b, "scores_a", "scores_b")
    pos = _as_positive(positive, a)
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 < 2 or n0 < 2:
        raise ValueError(f"positive needs at least 2 items of each class, got {n1} positive of {pos.size}")
    (x_a, y_a), (x_b, y_b) = _placements(a, pos), _placements(b, pos)
    diff = float(x_a.mean() - x_b.mean())
    var = float(np.var(x_a - x_b, ddof=1) / n1 + np.var(y_a - y_b, ddof=1) / n0)
    se = math.sqrt(max(var, 0.0))
    half = float(stats.norm.ppf(0.5 + confidence / 2)) * se
    return Estimate(diff, diff - half, diff + half, se, n1, "items", "delong paired normal", confidence)
