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
subject: :func:`crossed_bootstrap` resamples both (Owen 2007). A statistic of several word
sets (WEAT) varies with the words chosen in each set: :func:`stratified_bootstrap`
redraws every set within itself. And an effect measured
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


The package's modules: :mod:`~uim_utils.stats.results` (:class:`Estimate`,
:class:`TestResult`), :mod:`~uim_utils.stats.intervals`, :mod:`~uim_utils.stats.stratified`,
:mod:`~uim_utils.stats.correlations`
and :mod:`~uim_utils.stats.decisions`; every public name is importable from
``uim_utils.stats`` itself.
"""

from .correlations import correlations_interval, pooled_correlation
from .decisions import effect_test, equivalence_test, non_inferiority_test
from .intervals import (
    auc_interval,
    bootstrap_interval,
    cluster_bootstrap,
    concept_mean_se,
    crossed_bootstrap,
    index_bootstrap,
    paired_auc_difference,
    paired_difference,
    t_interval,
)
from .results import Estimate, TestResult
from .stratified import stratified_bootstrap, stratified_resamples

__all__ = [
    "Estimate",
    "TestResult",
    "t_interval",
    "concept_mean_se",
    "bootstrap_interval",
    "cluster_bootstrap",
    "index_bootstrap",
    "crossed_bootstrap",
    "stratified_bootstrap",
    "stratified_resamples",
    "paired_difference",
    "auc_interval",
    "paired_auc_difference",
    "pooled_correlation",
    "correlations_interval",
    "effect_test",
    "equivalence_test",
    "non_inferiority_test",
]
