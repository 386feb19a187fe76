"""Interpret: per-concept zero-shot accuracy against log frequency (slope with a t interval,
Spearman; optionally holding each concept's difficulty fixed), and the head and tail
concepts' test examples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class FrequencyFit:
    """Per-concept accuracy against log10 frequency.

    Attributes
    ----------
    slope, slope_low, slope_high : float
        Least-squares slope of accuracy per decade of frequency (per factor 10 of
        ``1 + count``) and its t interval.
    intercept : float
    spearman, spearman_p : float
        Spearman rank correlation and its two-sided p-value.
    n : int
        Number of concepts in the fit.
    controlled : bool
        Whether slope and correlation hold a per-concept difficulty fixed (partial
        slope, partial Spearman); see :func:`frequency_accuracy_fit`.
    """

    slope: float
    slope_low: float
    slope_high: float
    intercept: float
    spearman: float
    spearman_p: float
    n: int
    controlled: bool = False


def _residual(v: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Residual of ``v`` after a least-squares line on ``z``."""
    design = np.column_stack([np.ones_like(z), z])
    return v - design @ np.linalg.lstsq(design, v, rcond=None)[0]


def frequency_accuracy_fit(freq: np.ndarray, acc: np.ndarray, confidence: float = 0.95,
                           difficulty: np.ndarray | None = None) -> FrequencyFit:
    """Fit ``acc = a + b log10(1 + freq)`` (``scipy.stats.linregress``) and rank-correlate.

    The ``1 +`` keeps concepts never seen in pre-training (count 0) in the fit.

    With ``difficulty`` (how hard each concept is *whatever its frequency*, e.g. its
    accuracy under a model pre-trained on a uniform corpus of the same world and tested
    on the same images), the fit holds difficulty fixed: ``slope`` is the coefficient of
    log frequency in ``acc = a + b log10(1 + freq) + c difficulty`` (t interval on
    ``n - 3`` degrees of freedom), and ``spearman`` is the partial Spearman correlation:
    the Pearson correlation of the ranks of log frequency and of accuracy after a line
    on the ranks of difficulty is removed from each (p from a t test, ``n - 3`` degrees
    of freedom). This removes from the comparison the concept-to-concept variation that
    has nothing to do with frequency, so the frequency effect is measured with less noise.
    (SciPy has no partial correlation; ``pingouin.partial_corr(method="spearman")``
    computes the same number but would add a dependency for three lines.)

    Parameters
    ----------
    freq : array (K,)
        Pre-training frequency of each concept (caption counts, >= 0).
    acc : array (K,)
        Zero-shot accuracy of each concept; NaNs are dropped with their frequency.
    confidence : float
        Level of the slope's interval.
    difficulty : array (K,), optional
        A per-concept covariate to hold fixed; concepts where it is NaN are dropped.

    Returns
    -------
    FrequencyFit
        ``controlled`` says whether ``difficulty`` was held fixed; ``intercept`` is then
        the fit's value at zero frequency *and* zero difficulty.
    """
    x, y, z = _fit_inputs(freq, acc, confidence, difficulty)
    if z is None:
        lr = stats.linregress(x, y)
        t = stats.t.ppf(0.5 + confidence / 2, len(x) - 2)
        rho, p = stats.spearmanr(x, y)
        return FrequencyFit(float(lr.slope), float(lr.slope - t * lr.stderr), float(lr.slope + t * lr.stderr),
                            float(lr.intercept), float(rho), float(p), int(len(x)))
    return _controlled_fit(x, y, z, confidence)


def _fit_inputs(freq: np.ndarray, acc: np.ndarray, confidence: float,
                difficulty: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Checked inputs of :func:`frequency_accuracy_fit`: log10(1 + freq), accuracy and
    difficulty (``None`` if not given) of the concepts where none is NaN."""
    freq, acc = np.asarray(freq, dtype=float), np.asarray(acc, dtype=float)
    if freq.shape != acc.shape or freq.ndim != 1:
        raise ValueError(f"freq {freq.shape} and acc {acc.shape} must be equal 1-D shapes")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    ok = ~np.isnan(acc)
    if difficulty is not None:
        difficulty = np.asarray(difficulty, dtype=float)
        if difficulty.shape != acc.shape:
            raise ValueError(f"difficulty {difficulty.shape} must have the shape of acc {acc.shape}")
        ok &= ~np.isnan(difficulty)
    if (freq[ok] < 0).any() or not np.isfinite(freq[ok]).all():
        raise ValueError(f"frequencies must be finite counts >= 0, got min {freq[ok].min()!r}")
    x, y = np.log10(1.0 + freq[ok]), acc[ok]
    n_min = 3 if difficulty is None else 4
    if len(x) < n_min:
        raise ValueError(f"need at least {n_min} concepts, got {len(x)}")
    if np.ptp(x) == 0:
        raise ValueError("all frequencies are equal: the fit is undefined")
    return x, y, None if difficulty is None else difficulty[ok]


def _controlled_fit(x: np.ndarray, y: np.ndarray, z: np.ndarray, confidence: float) -> FrequencyFit:
    """The partial slope and partial Spearman of :func:`frequency_accuracy_fit` with
    difficulty ``z`` held fixed."""
    dof = len(x) - 3
    design = np.column_stack([np.ones_like(x), x, z])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    cov = resid @ resid / dof * np.linalg.pinv(design.T @ design)
    half = stats.t.ppf(0.5 + confidence / 2, dof) * np.sqrt(cov[1, 1])
    rx, ry = (_residual(stats.rankdata(v), stats.rankdata(z)) for v in (x, y))
    if not (rx.any() and ry.any()):
        raise ValueError("difficulty explains the ranks of frequency or accuracy entirely: "
                         "the partial correlation is undefined")
    rho = float(np.clip(np.corrcoef(rx, ry)[0, 1], -1.0, 1.0))
    p = float(2 * stats.t.sf(abs(rho) * np.sqrt(dof / max(1e-300, 1 - rho * rho)), dof))
    return FrequencyFit(float(coef[1]), float(coef[1] - half), float(coef[1] + half), float(coef[0]),
                        rho, p, int(len(x)), controlled=True)


def head_tail_masks(freq: np.ndarray, n_group: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the ``n_group`` most and least frequent concepts.

    Ties are broken by concept index (stable sort), so the split is deterministic.
    """
    freq = np.asarray(freq)
    if not 1 <= n_group <= len(freq) // 2:
        raise ValueError(f"n_group must be in [1, {len(freq) // 2}], got {n_group!r}")
    order = np.argsort(-freq, kind="stable")
    head = np.zeros(len(freq), bool)
    tail = np.zeros(len(freq), bool)
    head[order[:n_group]] = True
    tail[order[-n_group:]] = True
    return head, tail


def group_correct(y: np.ndarray, pred: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """0/1 correctness of the test examples whose true class is in ``mask``."""
    y, pred = np.asarray(y), np.asarray(pred)
    sel = np.asarray(mask)[y]
    return (y[sel] == pred[sel]).astype(float)

