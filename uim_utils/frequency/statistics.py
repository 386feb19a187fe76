"""The frequency-accuracy relation with intervals over classes: Spearman correlations with a
bootstrap over classes, pooled over models, paired between pre-training corpora, binned
curves, and the survey of every dataset and model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import stats
from ..stats import Estimate
from ..validate import check_int
from .files import _check_dataset, datasets, models, parse_model, pretraining_sets
from .tables import joined

if TYPE_CHECKING:  # pragma: no cover
    pass


N_BOOT: int = 2000
"""Bootstrap resamples of every interval in this module (fixed: the numbers are deterministic)."""


"""Bootstrap resamples of every interval in this module (fixed: the numbers are deterministic)."""


SEED: int = 0
"""Seed of every bootstrap in this module."""


"""Seed of every bootstrap in this module."""


CONFIDENCE: float = 0.95
"""Confidence level of the intervals of the real-data claims."""


"""Confidence level of the intervals of the real-data claims."""


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); NaN if either variable is constant."""
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if xa.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"x and y must be 1-D of equal length, got shapes {xa.shape} and {ya.shape}")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise ValueError("x and y must be finite (no NaN or inf)")
    return float(_spearman_on(xa, ya)(np.arange(xa.size)))


def _slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of ``y`` on ``x`` along the last axis (NaN where ``x`` is constant)."""
    xc = x - x.mean(axis=-1, keepdims=True)
    sxx = (xc * xc).sum(axis=-1)
    sxy = (xc * (y - y.mean(axis=-1, keepdims=True))).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1.0), np.nan)


def _codes(v: np.ndarray) -> tuple[np.ndarray, int]:
    """Each value's index among the sorted distinct values, and how many there are."""
    uniq, inv = np.unique(v, return_inverse=True)
    return inv.ravel().astype(np.intp), len(uniq)


def _avg_ranks(codes: np.ndarray, n_distinct: int) -> np.ndarray:
    """Average ranks (ties share the mean of their ranks) along the last axis of ``codes``.

    ``codes`` (shape ``(..., n)``) are the values' indices among the sorted distinct values;
    every row is ranked on its own, in one vectorised pass.
    """
    rows = codes.reshape(-1, codes.shape[-1])
    offset = (np.arange(rows.shape[0]) * n_distinct)[:, None]
    c = np.bincount((rows + offset).ravel(), minlength=rows.shape[0] * n_distinct)
    c = c.reshape(rows.shape[0], n_distinct).astype(np.float64)
    table = np.cumsum(c, axis=1) - c + (c + 1.0) / 2.0
    return np.take_along_axis(table, rows, axis=1).reshape(codes.shape)


def _pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation along the last axis (NaN where either is constant)."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(axis=-1) / np.where(den > 0, den, 1.0), np.nan)


def _spearman_on(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``f(indices)``: Spearman correlation of ``x[indices]`` and ``y[indices]`` (NaN if one is constant).

    ``indices`` may be one resample (shape ``(n,)``, a 0-d result) or many (``(B, n)``,
    one correlation per row). Ranks come from codes of the distinct values computed
    once, so a resample costs a ``bincount`` instead of a sort.
    """
    cx, ux = _codes(np.asarray(x, dtype=np.float64))
    cy, uy = _codes(np.asarray(y, dtype=np.float64))
    return lambda i: _pearson(_avg_ranks(cx[i], ux), _avg_ranks(cy[i], uy))


def _over_classes(statistic: Callable[[np.ndarray], np.ndarray], n: int, n_boot: int, seed: int,
                  confidence: float) -> Estimate:
    """``statistic(indices)`` with a percentile bootstrap that resamples the ``n`` classes.

    ``statistic`` must accept a ``(B, n)`` matrix of indices (one resample per row) and
    return ``B`` values (:func:`uim_utils.stats.index_bootstrap`).
    """
    return stats.index_bootstrap(statistic, n, confidence=confidence, n_boot=n_boot, seed=seed, unit="classes")


def _check_varies(df: pd.DataFrame, what: str) -> None:
    for col in ("count", "accuracy"):
        if df[col].nunique() < 2:
            raise ValueError(f"{what}: every class has the same {col} ({df[col].iloc[0]!r}); "
                             "a rank correlation is undefined")


@dataclass(frozen=True)
class FrequencyAccuracy:
    """Per-class accuracy against log concept count, for one model on one benchmark.

    Attributes
    ----------
    dataset, model, pretraining : str
        What was compared (``pretraining``: whose counts).
    n_classes : int
        Classes compared.
    n_dropped : int
        Classes of the benchmark left out because the counts file lacks them.
    spearman : Estimate
        Spearman(log10(1 + count), accuracy), interval over classes.
    slope : Estimate
        Least-squares slope of accuracy (fraction) on log10(1 + count): accuracy gained
        per tenfold more pairs; interval over classes.
    """

    dataset: str
    model: str
    pretraining: str
    n_classes: int
    n_dropped: int
    spearman: Estimate
    slope: Estimate


def _boot_args(n_boot: int, seed: int) -> None:
    check_int("n_boot", n_boot, 100)
    check_int("seed", seed, 0)


def frequency_accuracy(dataset: str, model: str, pretraining: str | None = None, n_boot: int = N_BOOT,
                       seed: int = SEED, confidence: float = CONFIDENCE,
                       data_dir: Path | str | None = None) -> FrequencyAccuracy:
    """Does the model recognise the classes that are frequent in pre-training better?

    Parameters
    ----------
    dataset, model, pretraining, data_dir
        As in :func:`joined`.
    n_boot, seed, confidence
        Bootstrap resamples (>= 100), seed, confidence level of the intervals.

    Returns
    -------
    FrequencyAccuracy
        Spearman correlation and slope, each with a percentile-bootstrap interval over
        classes.

    Raises
    ------
    ValueError
        See :func:`joined`; also if every class has the same count (or accuracy).
    """
    _boot_args(n_boot, seed)
    df = joined(dataset, model, pretraining, data_dir)
    _check_varies(df, f"{dataset}, {model} ({df.attrs['pretraining']} counts)")
    x, y = df["log10_count"].to_numpy(), df["accuracy"].to_numpy()
    rho = _over_classes(_spearman_on(x, y), len(df), n_boot, seed, confidence)
    slope = _over_classes(lambda i: _slope(x[i], y[i]), len(df), n_boot, seed, confidence)
    return FrequencyAccuracy(df.attrs["dataset"], df.attrs["model"], df.attrs["pretraining"], len(df),
                             int(df.attrs["n_dropped"]), rho, slope)


def _own_models(dataset: str, data_dir: Path | str | None) -> list[str]:
    have = set(pretraining_sets(dataset, data_dir))
    return [m for m in models(dataset, data_dir) if parse_model(m)[1] in have]


def pooled_frequency_accuracy(dataset: str, model_list: Sequence[str] | None = None, n_boot: int = N_BOOT,
                              seed: int = SEED, confidence: float = CONFIDENCE,
                              data_dir: Path | str | None = None) -> Estimate:
    """Mean Spearman(log count, accuracy) over several (model, own corpus) pairs.

    The classes are resampled jointly for all pairs (the same class is easy or hard for
    every model), so the interval is over the benchmark's classes, not over models.

    Parameters
    ----------
    dataset : str
    model_list : sequence of str, optional
        Models (each compared with its own corpus's counts); by default every model of
        the dataset whose corpus's counts are shipped.
    n_boot, seed, confidence, data_dir
        As in :func:`frequency_accuracy`.

    Returns
    -------
    Estimate
        ``estimate``: the mean of the per-model correlations; ``n``: the classes present
        for every model.
    """
    _boot_args(n_boot, seed)
    dataset = _check_dataset(dataset, data_dir)
    chosen = list(_own_models(dataset, data_dir) if model_list is None else model_list)
    if len(chosen) < 1:
        raise ValueError(f"{dataset}: no model to pool")
    tables = [joined(dataset, m, None, data_dir).set_index("class") for m in chosen]
    common = [c for c in tables[0].index if all(c in t.index for t in tables[1:])]
    if len(common) < 3:
        raise ValueError(f"{dataset}: only {len(common)} classes are shared by the models {chosen}")
    xs = np.stack([t.loc[common, "log10_count"].to_numpy() for t in tables])
    ys = np.stack([t.loc[common, "accuracy"].to_numpy() for t in tables])
    for m, x, y in zip(chosen, xs, ys):
        if np.all(x == x[0]) or np.all(y == y[0]):
            raise ValueError(f"{dataset}, {m}: counts or accuracies are constant; a rank correlation is undefined")

    per_model = [_spearman_on(x, y) for x, y in zip(xs, ys)]

    def mean_rho(i: np.ndarray) -> np.ndarray:
        return np.mean([f(i) for f in per_model], axis=0)

    return _over_classes(mean_rho, len(common), n_boot, seed, confidence)


def paired_table(dataset: str, arch: str, pre_a: str, pre_b: str,
                 data_dir: Path | str | None = None) -> pd.DataFrame:
    """The same architecture trained on two corpora: per class, change in count and accuracy.

    Parameters
    ----------
    dataset : str
    arch : str
        E.g. ``"RN50"``; ``"<arch>/<pre_a>"`` and ``"<arch>/<pre_b>"`` must both be models
        of the dataset, each compared with its own corpus's counts.
    pre_a, pre_b : str
        The two corpora (from ``a`` to ``b``), e.g. ``"cc3m"``, ``"cc12m"``.

    Returns
    -------
    DataFrame
        Columns ``class``, ``count_a``, ``count_b``, ``d_log10_count``
        (``log10(1 + count_b) - log10(1 + count_a)``), ``accuracy_a``, ``accuracy_b``,
        ``d_accuracy`` (``accuracy_b - accuracy_a``); classes present in both.
    """
    if pre_a == pre_b:
        raise ValueError(f"pre_a and pre_b must differ, got {pre_a!r} twice")
    a = joined(dataset, f"{arch}/{pre_a}", None, data_dir)
    b = joined(dataset, f"{arch}/{pre_b}", None, data_dir)
    m = a.merge(b, on="class", suffixes=("_a", "_b"))
    out = pd.DataFrame({"class": m["class"], "count_a": m["count_a"], "count_b": m["count_b"],
                        "d_log10_count": m["log10_count_b"] - m["log10_count_a"],
                        "accuracy_a": m["accuracy_a"], "accuracy_b": m["accuracy_b"],
                        "d_accuracy": m["accuracy_b"] - m["accuracy_a"]})
    out.attrs = {"dataset": dataset, "arch": arch, "pre_a": pre_a, "pre_b": pre_b, "n_classes": len(out)}
    return out


def paired_change(dataset: str, arch: str, pre_a: str, pre_b: str, n_boot: int = N_BOOT, seed: int = SEED,
                  confidence: float = CONFIDENCE, data_dir: Path | str | None = None) -> Estimate:
    """Spearman(change in log count, change in accuracy) over classes, from ``pre_a`` to ``pre_b``.

    A within-class comparison: the class's own difficulty (its images, its name) is the
    same on both sides, so a positive correlation says that a class that became more
    frequent gained more accuracy. See :func:`paired_table` for the parameters.

    Returns
    -------
    Estimate
        Percentile-bootstrap interval over classes.
    """
    _boot_args(n_boot, seed)
    t = paired_table(dataset, arch, pre_a, pre_b, data_dir)
    x, y = t["d_log10_count"].to_numpy(), t["d_accuracy"].to_numpy()
    if np.all(x == x[0]) or np.all(y == y[0]):
        raise ValueError(f"{dataset}, {arch} {pre_a}->{pre_b}: the change in count or accuracy is constant")
    return _over_classes(_spearman_on(x, y), len(t), n_boot, seed, confidence)


def binned_curve(df: pd.DataFrame, n_bins: int = 8, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Mean accuracy per bin of log count, with a Student-t interval over the bin's classes.

    Parameters
    ----------
    df : DataFrame
        With columns ``log10_count`` and ``accuracy`` (e.g. :func:`joined`).
    n_bins : int
        Equal-width bins over the range of ``log10_count`` (>= 1); empty bins are left out.
    confidence : float

    Returns
    -------
    DataFrame
        One row per non-empty bin: ``bin_low``, ``bin_high``, ``log10_count`` (mean of the
        bin's classes), ``n`` (classes), ``accuracy`` (mean), ``low``, ``high`` (NaN for a
        bin of one class).
    """
    check_int("n_bins", n_bins, 1)
    missing = [c for c in ("log10_count", "accuracy") if c not in df.columns]
    if missing:
        raise ValueError(f"df lacks the column(s) {missing}; columns: {list(df.columns)}")
    x, y = df["log10_count"].to_numpy(dtype=float), df["accuracy"].to_numpy(dtype=float)
    if len(x) == 0 or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("df must have at least one row and finite log10_count and accuracy")
    lo, hi = float(x.min()), float(x.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        sel = which == b
        k = int(sel.sum())
        if k == 0:
            continue
        if k >= 2:
            est = stats.t_interval(y[sel], confidence=confidence, unit="classes")
            low, high = est.low, est.high
        else:
            low = high = math.nan
        rows.append({"bin_low": float(edges[b]), "bin_high": float(edges[b + 1]), "log10_count": float(x[sel].mean()),
                     "n": k, "accuracy": float(y[sel].mean()), "low": float(low), "high": float(high)})
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "log10_count", "n", "accuracy", "low", "high"])


def _relation(est: Estimate) -> str:
    if est.low > 0:
        return "positive"
    if est.high < 0:
        return "negative"
    return "none detected"


SURVEY_COLUMNS: tuple[str, ...] = ("dataset", "model", "arch", "pretraining", "n_classes", "n_dropped", "n_zero",
                                   "spearman", "low", "high", "relation")
"""Columns of :func:`survey`, in order."""


"""Columns of :func:`survey`, in order."""


def survey(dataset_list: Sequence[str] | None = None, n_boot: int = N_BOOT, seed: int = SEED,
           confidence: float = CONFIDENCE, data_dir: Path | str | None = None) -> pd.DataFrame:
    """Spearman(log count, accuracy) for every model with its own corpus's counts, per benchmark.

    Parameters
    ----------
    dataset_list : sequence of str, optional
        Benchmarks; all of :func:`datasets` by default.
    n_boot, seed, confidence, data_dir
        As in :func:`frequency_accuracy`.

    Returns
    -------
    DataFrame
        Columns :data:`SURVEY_COLUMNS`, one row per (dataset, model): classes compared,
        dropped, with count 0; the correlation and its interval over classes; and
        ``relation``: ``"positive"`` (interval above 0), ``"negative"`` (below 0),
        ``"none detected"`` (interval contains 0) or ``"undefined"`` (every class has the
        same count, e.g. Stanford Cars in CC-12M: no car model is found; the correlation
        and interval are NaN).
    """
    _boot_args(n_boot, seed)
    chosen = datasets(data_dir) if dataset_list is None else [_check_dataset(d, data_dir) for d in dataset_list]
    rows = []
    for ds in chosen:
        for m in _own_models(ds, data_dir):
            arch, corpus = parse_model(m)
            df = joined(ds, m, None, data_dir)
            row = {"dataset": ds, "model": m, "arch": arch, "pretraining": corpus, "n_classes": len(df),
                   "n_dropped": int(df.attrs["n_dropped"]), "n_zero": int((df["count"] == 0).sum())}
            if df["count"].nunique() < 2 or df["accuracy"].nunique() < 2:
                row.update(spearman=math.nan, low=math.nan, high=math.nan, relation="undefined")
            else:
                x, y = df["log10_count"].to_numpy(), df["accuracy"].to_numpy()
                est = _over_classes(_spearman_on(x, y), len(df), n_boot, seed, confidence)
                row.update(spearman=est.estimate, low=est.low, high=est.high, relation=_relation(est))
            rows.append(row)
    return pd.DataFrame(rows, columns=list(SURVEY_COLUMNS))
