"""The stratified bootstrap: resample each of several sets of units within itself.

A WEAT or SEAT statistic reads four word sets (targets X and Y, attributes A and B); its
sampling error comes from the choice of words *within* each set, so a replicate redraws
every set with replacement, keeping its size, and never moves a word from one set to
another. A statistic of concepts (a spectrum of the features of whole concepts) is the
case of one set. :func:`stratified_resamples` is the one home of these draws and
:func:`stratified_bootstrap` turns them into an :class:`~uim_utils.stats.Estimate`.

The draws are made replicate after replicate and, within a replicate, set after set in
the order given: replicate ``b`` draws ``rng.integers(0, n, n)`` for each set size ``n``
in turn, with ``rng = numpy.random.default_rng(seed)``. The same seed and sizes give the
same resamples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..validate import check_int
from ._checks import _check_boot, _check_confidence, _check_statistic
from .intervals import _percentile_estimate
from .results import Estimate


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise ValueError(f"sizes must be a sequence of set sizes, got {sizes!r}")
    if len(sizes) == 0:
        raise ValueError("sizes is empty: a stratified bootstrap needs at least one set")
    for n in sizes:
        check_int("a set size", n, 1)
    return tuple(int(n) for n in sizes)


def stratified_resamples(sizes: Sequence[int], n_boot: int = 2000, seed: int = 0) -> list[tuple[np.ndarray, ...]]:
    """Bootstrap resamples of several sets at once, each drawn within its own set.

    Parameters
    ----------
    sizes : sequence of int
        The size of each set (each >= 1), e.g. ``(len(X), len(Y), len(A), len(B))``.
    n_boot, seed
        Number of replicates (>= 100) and seed of the generator, as everywhere in
        :mod:`uim_utils.stats`.

    Returns
    -------
    list of tuples
        ``n_boot`` replicates; replicate ``b`` holds one index array per set: ``n``
        indices into that set, drawn uniformly with replacement.
    """
    _check_boot(n_boot, seed)
    ns = _check_sizes(sizes)
    rng = np.random.default_rng(seed)
    return [tuple(rng.integers(0, n, n) for n in ns) for _ in range(n_boot)]


def stratified_bootstrap(
    statistic: Callable[..., Any],
    sizes: Sequence[int],
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    unit: str = "units within sets",
) -> Estimate:
    """A statistic of several sets of units, with a stratified percentile bootstrap.

    Parameters
    ----------
    statistic : callable
        ``statistic(*indices) -> float``, one index array per set. The point estimate is
        ``statistic`` of every set as it is (``np.arange(n)`` each); the replicates
        receive :func:`stratified_resamples`. A replicate may return NaN (e.g. an effect
        size whose resampled words have no spread): it is left out of the interval and
        the standard error.
    sizes : sequence of int
        The size of each set, in the order ``statistic`` takes their indices.
    confidence, n_boot, seed, unit
        As in :func:`uim_utils.stats.bootstrap_interval`.

    Returns
    -------
    Estimate
        ``n`` = total units over the sets, ``se`` = standard deviation of the finite
        replicates, ``method="stratified percentile bootstrap"``.

    Raises
    ------
    ValueError
        For a bad ``confidence``, ``n_boot``, ``seed`` or set size, a statistic that is
        not callable, or fewer than 2 finite replicates.
    """
    confidence = _check_confidence(confidence)
    _check_statistic(statistic)
    ns = _check_sizes(sizes)
    draws = stratified_resamples(ns, n_boot, seed)
    point = float(statistic(*(np.arange(n) for n in ns)))
    boot = np.array([statistic(*ix) for ix in draws], dtype=np.float64)
    return _percentile_estimate(point, boot, confidence, sum(ns), unit, "stratified percentile bootstrap")
