"""Mitigate: estimate the label prior a zero-shot head inherited (from unlabelled logits, or
GLA from labelled ones) and adjust the logits to remove it (Zhu et al. 2023, in the spirit
of Menon et al. 2021).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

from ..validate import check_int, check_nonnegative


def _check_logits(logits: np.ndarray) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2 or logits.shape[0] < 1 or logits.shape[1] < 2:
        raise ValueError(f"logits must have shape (N >= 1, K >= 2), got {logits.shape}")
    if not np.isfinite(logits).all():
        raise ValueError("logits contain NaN or infinite values")
    return logits


def estimate_prior_unlabelled(logits: np.ndarray, n_iter: int = 1) -> np.ndarray:
    """The label prior a classifier prefers, from its predictions on unlabelled data.

    With ``n_iter = 1`` this is the mean predicted probability
    ``q = mean_x softmax(f(x))``: on data whose classes are balanced, a classifier
    without a prior would average to uniform, so ``q`` measures the prior it carries.
    Each further iteration re-estimates ``q`` from the adjusted logits ``f - log q``
    and multiplies it in (a fixed-point refinement that drives the mean prediction of
    the adjusted classifier to uniform).

    Parameters
    ----------
    logits : array (N, K)
        Calibrated-scale logits (e.g. ``logit_scale * cos``) on *class-balanced*,
        unlabelled images.
    n_iter : int
        Refinement steps, at least 1.

    Returns
    -------
    array (K,), positive, summing to 1.
    """
    logits = _check_logits(logits)
    check_int("n_iter", n_iter, 1)
    log_q = np.zeros(logits.shape[1])
    for _ in range(int(n_iter)):
        p = special.softmax(logits - log_q, axis=1).mean(axis=0)
        log_q = log_q + np.log(np.clip(p * logits.shape[1], 1e-12, None))
    q = special.softmax(log_q)
    return q


def estimate_prior_gla(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """GLA's prior: ``q* = argmin_q CE(softmax(f(x) - log q), y)`` over the simplex.

    Zhu et al. (2023) estimate the inherited prior on labelled *balanced* data; we
    parameterise ``q = softmax(z)`` and minimise with L-BFGS (``scipy.optimize``).
    """
    logits = _check_logits(logits)
    labels = np.asarray(labels)
    if labels.shape != (logits.shape[0],):
        raise ValueError(f"labels shape {labels.shape} does not match logits {logits.shape}")
    k = logits.shape[1]
    if labels.min() < 0 or labels.max() >= k:
        raise ValueError(f"labels must be in [0, {k - 1}], got range [{labels.min()}, {labels.max()}]")
    onehot = np.eye(k)[labels]

    def loss(z: np.ndarray) -> tuple[float, np.ndarray]:
        log_q = z - special.logsumexp(z)
        adj = logits - log_q
        lse = special.logsumexp(adj, axis=1)
        val = float((lse - adj[np.arange(len(labels)), labels]).mean())
        p = special.softmax(adj, axis=1)
        g_logq = -(p - onehot).mean(axis=0)  # d loss / d log q
        q = np.exp(log_q)
        g = g_logq - q * g_logq.sum()  # chain rule through log-softmax
        return val, g

    res = optimize.minimize(loss, np.zeros(k), jac=True, method="L-BFGS-B")
    return special.softmax(res.x)


def adjust_logits(logits: np.ndarray, prior: np.ndarray, tau: float = 1.0) -> np.ndarray:
    """Logit adjustment: ``f(x) - tau * log(prior)`` (Menon et al. 2021; GLA)."""
    logits = _check_logits(logits)
    prior = np.asarray(prior, dtype=np.float64)
    if prior.shape != (logits.shape[1],):
        raise ValueError(f"prior shape {prior.shape} does not match {logits.shape[1]} classes")
    if (prior <= 0).any() or not np.isclose(prior.sum(), 1.0, atol=1e-6):
        raise ValueError(f"prior must be positive and sum to 1, got sum {prior.sum()!r}, min {prior.min()!r}")
    check_nonnegative("tau", tau)
    return logits - tau * np.log(prior)
