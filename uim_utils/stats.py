"""Intervals and decisions over the right units: worlds, concepts, rows x columns.

One home for the statistics of the book. Every interval is returned as an
:class:`Estimate` that says what it is an interval *over* (``n`` units of kind
``unit``) and how it was computed (``method``); every decision (an effect, an
equivalence, a non-inferiority) is a :class:`TestResult` read from such an interval.

The lesson of the module is the choice of unit. Test images of one concept are not
independent draws: they share the concept. An item-level bootstrap over 4,000 images
of 100 concepts pretends to have 4,000 independent units and gives an interval that is
far too narrow; :func:`cluster_bootstrap` resamples the concepts instead. Likewise a
score measured on activity x subject pairs varies with the activity *and* with the
subject: :func:`crossed_bootstrap` resamples both (Owen 2007). And an effect measured
once per synthetic world is about the average over worlds: :func:`t_interval` over the
worlds, :func:`pooled_correlation` for a correlation measured within every world.

Conventions: ``confidence`` (default 0.95), ``n_boot`` (default 2000) and ``seed``
(default 0) mean the same everywhere; bad input raises ``ValueError`` naming the bad
argument and value. The bootstrap intervals are percentile intervals; their ``se`` is the
standard deviation of the bootstrap distribution. Only numpy, scipy and pandas are used.

References
----------
Owen, A. B. (2007). The pigeonhole bootstrap. *Annals of Applied Statistics* 1(2).
Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure and the power
approach for assessing the equivalence of average bioavailability. *J. Pharmacokinetics
and Biopharmaceutics* 15(6).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .validate import check_int

__all__ = [
    "Estimate",
    "TestResult",
    "t_interval",
    "concept_mean_se",
    "bootstrap_interval",
    "cluster_bootstrap",
    "index_bootstrap",
    "crossed_bootstrap",
    "paired_difference",
    "auc_interval",
    "pooled_correlation",
    "correlations_interval",
    "effect_test",
    "equivalence_test",
    "non_inferiority_test",
]

# Correlations are clipped to this before arctanh, so that r = +-1 gives a finite z.
_R_CLIP = 0.999999
_DIRECTIONS = ("greater", "less")


# --------------------------------------------------------------------------- results


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


# --------------------------------------------------------------------------- checks


def _check_confidence(confidence: object) -> float:
    try:
        c = float(confidence)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}") from None
    if isinstance(confidence, bool) or not 0 < c < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return c


def _check_margin(margin: object) -> float:
    try:
        m = float(margin)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"margin must be a number > 0, got {margin!r}") from None
    if isinstance(margin, bool) or not (m > 0 and math.isfinite(m)):
        raise ValueError(f"margin must be > 0, got {margin!r}")
    return m


def _check_direction(direction: object) -> str:
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
    return str(direction)


def _check_boot(n_boot: object, seed: object) -> None:
    check_int("n_boot", n_boot, 100)
    check_int("seed", seed, 0)


def _check_statistic(statistic: object) -> None:
    if not callable(statistic):
        raise ValueError(f"statistic must be callable, got {statistic!r}")


def _as_values(values: Any, name: str, min_n: int = 1) -> np.ndarray:
    """A finite 1-D float array with at least ``min_n`` entries, or a ValueError."""
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got {values!r}") from None
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {v.shape}")
    if v.size == 0:
        raise ValueError(f"{name} is empty")
    bad = int((~np.isfinite(v)).sum())
    if bad:
        raise ValueError(f"{name} contains {bad} non-finite value(s) (NaN or inf)")
    if v.size < min_n:
        raise ValueError(f"{name} needs at least {min_n} values, got {v.size}")
    return v


def _as_labels(labels: Any, name: str, values: np.ndarray, min_distinct: int = 2) -> tuple[np.ndarray, int]:
    """Integer codes ``0..k-1`` of the labels of ``values`` and the number ``k`` of labels."""
    lab = np.asarray(labels, dtype=object) if not isinstance(labels, np.ndarray) else labels
    if lab.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {lab.shape}")
    if lab.size != values.size:
        raise ValueError(f"{name} has {lab.size} entries but values has {values.size}")
    codes, uniques = pd.factorize(lab)
    if (codes < 0).any():
        raise ValueError(f"{name} contains {int((codes < 0).sum())} missing label(s) (None or NaN)")
    k = len(uniques)
    if k < min_distinct:
        raise ValueError(f"{name} needs at least {min_distinct} distinct labels, got {k}")
    return codes.astype(np.intp), k


def _check_same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.size != b.size:
        raise ValueError(f"{name_a} has {a.size} values but {name_b} has {b.size}")


# --------------------------------------------------------------------------- helpers


def _percentile_estimate(point: float, boot: np.ndarray, confidence: float, n: int,
                         unit: str, method: str) -> Estimate:
    boot = boot[np.isfinite(boot)]
    if boot.size < 2:
        raise ValueError("the bootstrap produced fewer than 2 finite replicates")
    alpha = 1 - confidence
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return Estimate(float(point), float(min(low, high)), float(max(low, high)), float(boot.std(ddof=1)),
                    int(n), unit, method, confidence)


def _multiplicities(rng: np.random.Generator, n_units: int, n_boot: int) -> np.ndarray:
    """``(n_boot, n_units)`` counts: how often each unit is drawn in each resample."""
    draws = rng.integers(0, n_units, size=(n_boot, n_units))
    flat = (draws + n_units * np.arange(n_boot)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n_units).reshape(n_boot, n_units).astype(np.float64)


# --------------------------------------------------------------------------- intervals


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
    boot = np.asarray(statistic(rows), dtype=np.float64).reshape(n_boot)
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
    pos = np.asarray(positive)
    if pos.shape != s.shape or pos.dtype != bool:
        raise ValueError(f"positive must be a bool array of the scores' shape {s.shape}, "
                         f"got dtype {pos.dtype} and shape {pos.shape}")
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


# --------------------------------------------------------------------------- correlations


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


# --------------------------------------------------------------------------- decisions


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
    threshold = float(threshold)
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold!r}")
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
