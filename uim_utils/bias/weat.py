"""WEAT/SEAT association statistics (Caliskan et al. 2017; May et al. 2019).

Effect sizes, one-sided permutation p-values and bootstrap confidence intervals over
words, for one :class:`~uim_utils.bias.words.AssociationTest` at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from .encoder import normalize_rows
from .words import AssociationTest


def _as_matrix(M: Any, role: str) -> np.ndarray:
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] == 0:
        raise ValueError(f"set {role} must be a non-empty 2-D array of vectors, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"set {role} contains non-finite values")
    if np.any(np.linalg.norm(M, axis=1) == 0):
        raise ValueError(f"set {role} contains a zero vector (cosine undefined)")
    return M


def association_scores(W: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b)`` for every row ``w`` of ``W``."""
    W, A, B = (normalize_rows(_as_matrix(M, r)) for M, r in ((W, "W"), (A, "A"), (B, "B")))
    return (W @ A.T).mean(axis=1) - (W @ B.T).mean(axis=1)


def weat_effect_size(X: np.ndarray, Y: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    """Caliskan et al.'s effect size ``d`` (a Cohen's d; sample std over X u Y, ddof=1).

    Positive ``d``: X is closer to A (and Y to B) than the other way round.
    """
    X, Y = _as_matrix(X, "X"), _as_matrix(Y, "Y")
    s = association_scores(np.vstack([X, Y]), A, B)
    sx, sy = s[: len(X)], s[len(X) :]
    sd = s.std(ddof=1)
    return float((sx.mean() - sy.mean()) / sd) if sd > 0 else float("nan")


def weat_p_value(
    X: np.ndarray,
    Y: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    n_perm: int = 10_000,
    seed: int = 0,
    exact_limit: int = 100_000,
) -> tuple[float, bool]:
    """One-sided permutation p-value of the WEAT statistic, and whether it is exact.

    The statistic is ``sum_x s(x) - sum_y s(y)``; the p-value is the share of equal-size
    re-partitions of ``X u Y`` whose statistic is at least the observed one. All
    partitions are enumerated when there are at most ``exact_limit`` of them (exact
    test; 12,870 for two sets of 8); otherwise ``n_perm`` random ones are drawn and
    ``(1 + hits) / (1 + n_perm)`` is returned.
    """
    X, Y = _as_matrix(X, "X"), _as_matrix(Y, "Y")
    if len(X) != len(Y):
        raise ValueError(f"unbalanced target sets: X has {len(X)} vectors, Y has {len(Y)}")
    if n_perm < 1:
        raise ValueError(f"n_perm must be at least 1, got {n_perm!r}")
    s = association_scores(np.vstack([X, Y]), A, B)
    n, total = len(X), s.sum()
    observed = 2 * s[:n].sum() - total
    tol = 1e-12 * max(1.0, abs(observed))
    if math.comb(2 * n, n) <= exact_limit:
        idx = np.fromiter(
            (i for c in combinations(range(2 * n), n) for i in c), dtype=np.int64
        ).reshape(-1, n)
        stats = 2 * s[idx].sum(axis=1) - total
        return float(np.mean(stats >= observed - tol)), True
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_perm, 2000):
        m = min(2000, n_perm - start)
        idx = np.argsort(rng.random((m, 2 * n)), axis=1)[:, :n]
        hits += int(np.sum(2 * s[idx].sum(axis=1) - total >= observed - tol))
    return (1 + hits) / (1 + n_perm), False


def weat_bootstrap_ci(
    X: np.ndarray,
    Y: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the effect size, resampling each word set.

    Each replicate draws A, B, X and Y with replacement, each within its own set
    (:func:`uim_utils.stats.stratified_bootstrap`, sets in that order), and recomputes
    ``d``; the interval reflects how much the number depends on the particular words
    chosen. Replicates with no spread (``d`` undefined) are left out of the percentiles.
    ``confidence``, ``n_boot`` (>= 100) and ``seed`` (>= 0) are checked as in
    :mod:`uim_utils.stats`; fewer than 2 defined replicates raise a ``ValueError``.
    """
    from ..stats import stratified_bootstrap

    X, Y, A, B = (normalize_rows(_as_matrix(M, r)) for M, r in ((X, "X"), (Y, "Y"), (A, "A"), (B, "B")))
    T = np.vstack([X, Y])
    CA, CB = T @ A.T, T @ B.T
    nx = len(X)

    def d(ia: np.ndarray, ib: np.ndarray, ix: np.ndarray, iy: np.ndarray) -> float:
        s = CA[:, ia].mean(axis=1) - CB[:, ib].mean(axis=1)
        sx, sy = s[ix], s[nx + iy]
        sd = np.concatenate([sx, sy]).std(ddof=1)
        return float((sx.mean() - sy.mean()) / sd) if sd > 0 else float("nan")

    est = stratified_bootstrap(d, (len(A), len(B), nx, len(Y)), confidence=confidence, n_boot=n_boot,
                               seed=seed, unit="words within sets")
    return est.low, est.high


@dataclass(frozen=True)
class WeatResult:
    """The outcome of one association test."""

    test: str
    title: str
    effect_size: float
    p_value: float
    ci_low: float
    ci_high: float
    exact: bool
    n_targets: int
    n_attributes: tuple[int, int]
    meta: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        row = {
            "test": self.test, "title": self.title, "effect_size": self.effect_size,
            "ci_low": self.ci_low, "ci_high": self.ci_high, "p_value": self.p_value,
            "exact_p": self.exact, "n_per_target_set": self.n_targets,
        }
        row.update(self.meta)
        return row


def vectors_for(test: AssociationTest, vectors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The four matrices of a test, looked up in ``vectors``.

    Raises
    ------
    ValueError
        Naming the first word that is missing from ``vectors`` (out of vocabulary).
    """
    out = {}
    for role, s in test.sets().items():
        missing = [w for w in s.words if w not in vectors]
        if missing:
            raise ValueError(
                f"word {missing[0]!r} of set {s.name!r} in test {test.key!r} is out of "
                f"vocabulary (no vector for it)" + (f"; {len(missing) - 1} more" if len(missing) > 1 else "")
            )
        out[role] = np.stack([np.asarray(vectors[w], dtype=np.float64) for w in s.words])
    return out


def run_weat(
    test: AssociationTest,
    vectors: Mapping[str, np.ndarray],
    *,
    n_perm: int = 10_000,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    **meta: Any,
) -> WeatResult:
    """Effect size, permutation p-value and bootstrap interval of one test.

    ``transform`` (e.g. a debiasing projection) is applied to every vector first;
    extra keyword arguments are stored in ``meta`` (e.g. ``embedding="templated"``).
    """
    M = vectors_for(test, vectors)
    if transform is not None:
        M = {k: transform(v) for k, v in M.items()}
    d = weat_effect_size(M["X"], M["Y"], M["A"], M["B"])
    p, exact = weat_p_value(M["X"], M["Y"], M["A"], M["B"], n_perm=n_perm, seed=seed)
    lo, hi = weat_bootstrap_ci(M["X"], M["Y"], M["A"], M["B"], n_boot=n_boot, confidence=confidence,
                               seed=seed + 1)
    return WeatResult(test.key, test.title, d, p, lo, hi, exact, len(test.X), (len(test.A), len(test.B)), dict(meta))


def weat_table(results: Iterable[WeatResult]) -> pd.DataFrame:
    """Results as a data frame, one row per test (and setting)."""
    return pd.DataFrame([r.as_row() for r in results])
