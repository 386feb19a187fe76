"""uim_utils.stats on cases with known answers: hand computations, coverage, decisions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from uim_utils import stats as st
from uim_utils.stats import Estimate


def _est(estimate: float, low: float, high: float, se: float, n: int = 50,
         method: str = "student-t", confidence: float = 0.95) -> Estimate:
    return Estimate(estimate, low, high, se, n, "worlds", method, confidence)


# --------------------------------------------------------------------------- Estimate


def test_estimate_as_tuple_and_checks():
    e = _est(1.0, 0.5, 1.5, 0.25)
    assert e.as_tuple() == (1.0, 0.5, 1.5)
    with pytest.raises(ValueError, match="confidence must be in \\(0, 1\\), got 1.5"):
        _est(1.0, 0.5, 1.5, 0.25, confidence=1.5)
    with pytest.raises(ValueError, match="se must be >= 0, got -1"):
        _est(1.0, 0.5, 1.5, -1.0)
    with pytest.raises(ValueError, match="low must be <= high"):
        _est(1.0, 1.5, 0.5, 0.25)


# --------------------------------------------------------------------------- t interval


def test_t_interval_matches_hand_computation():
    v = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    e = st.t_interval(v, confidence=0.9, unit="seeds")
    se = v.std(ddof=1) / math.sqrt(5)
    half = sps.t.ppf(0.95, 4) * se
    assert e.estimate == pytest.approx(4.0)
    assert e.se == pytest.approx(se)
    assert (e.low, e.high) == (pytest.approx(4.0 - half), pytest.approx(4.0 + half))
    assert (e.n, e.unit, e.method, e.confidence) == (5, "seeds", "student-t", 0.9)


def test_t_interval_constant_values_give_zero_width():
    e = st.t_interval([0.1, 0.1, 0.1])
    assert e.se == 0.0 and e.low == e.estimate == e.high == 0.1


def test_t_interval_covers_the_true_mean_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    draws = rng.normal(3.0, 2.0, size=(2000, 10))
    covered = [e.low < 3.0 < e.high for e in map(st.t_interval, draws)]
    assert 0.93 <= np.mean(covered) <= 0.97


# --------------------------------------------------------------------------- bootstraps


def test_bootstrap_interval_is_deterministic_and_sane():
    v = np.random.default_rng(0).normal(size=200)
    a = st.bootstrap_interval(v, seed=3)
    assert a == st.bootstrap_interval(v, seed=3)
    assert a != st.bootstrap_interval(v, seed=4)
    assert a.estimate == pytest.approx(v.mean()) and a.low < a.estimate < a.high
    assert a.se == pytest.approx(v.std(ddof=1) / math.sqrt(200), rel=0.15)
    assert (a.n, a.unit, a.method) == (200, "units", "percentile bootstrap")
    med = st.bootstrap_interval(v, np.median, n_boot=500)
    assert med.estimate == pytest.approx(np.median(v)) and med.low < med.estimate < med.high
    const = st.bootstrap_interval([2.0, 2.0, 2.0])
    assert const.as_tuple() == (2.0, 2.0, 2.0) and const.se == 0.0


def test_bootstrap_interval_keeps_the_draws_of_the_helpers_it_replaced():
    # One home for the item bootstrap: its resamples are values[rng.integers(0, n,
    # (n_boot, n))] (those of scipy.stats.bootstrap with the same generator, which the
    # chapters' standard errors were measured with) and its interval is numpy's
    # percentiles (those of the former uim_utils.bias.bootstrap_mean_ci, bit for bit).
    rng = np.random.default_rng(7)
    for v, n_boot, seed, conf in [(rng.normal(size=57), 500, 3, 0.95),
                                  ((rng.random(120) < 0.3).astype(float), 2000, 0, 0.9)]:
        means = v[np.random.default_rng(seed).integers(0, v.size, (n_boot, v.size))].mean(axis=1)
        lo, hi = np.percentile(means, [50 * (1 - conf), 50 * (1 + conf)])
        est = st.bootstrap_interval(v, confidence=conf, n_boot=n_boot, seed=seed)
        assert est.as_tuple() == (float(v.mean()), float(lo), float(hi))
        ref = sps.bootstrap((v,), np.mean, n_resamples=n_boot, confidence_level=conf, method="percentile",
                            rng=np.random.default_rng(seed))
        assert est.se == float(ref.standard_error)
    x = rng.normal(size=40)

    def spread(a: np.ndarray) -> float:  # no axis keyword: evaluated resample by resample
        return float(a.max() - a.min())

    ref = sps.bootstrap((x,), spread, n_resamples=300, vectorized=False, method="percentile",
                        rng=np.random.default_rng(1))
    assert st.bootstrap_interval(x, spread, n_boot=300, seed=1).se == float(ref.standard_error)


def _clustered(rng: np.random.Generator, n_sets: int, g: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_sets`` datasets of ``g`` clusters x ``m`` items: 0.5 + cluster effect + noise."""
    u = rng.normal(size=(n_sets, g, 1))
    values = 0.5 + u + rng.normal(size=(n_sets, g, m))
    return values.reshape(n_sets, g * m), np.repeat(np.arange(g), m)


def test_cluster_bootstrap_covers_and_the_item_bootstrap_does_not():
    values, units = _clustered(np.random.default_rng(2), 200, 30, 10)
    cluster = [st.cluster_bootstrap(v, units, n_boot=500, seed=i) for i, v in enumerate(values)]
    naive = [st.bootstrap_interval(v, n_boot=500, seed=i) for i, v in enumerate(values)]
    cover_cluster = np.mean([e.low < 0.5 < e.high for e in cluster])
    cover_naive = np.mean([e.low < 0.5 < e.high for e in naive])
    assert 0.88 <= cover_cluster <= 0.99
    # design effect 1 + (m - 1) * ICC = 5.5: the item bootstrap is ~sqrt(5.5) too narrow
    assert cover_naive < 0.75 and cover_naive < cover_cluster - 0.2
    assert all(e.n == 30 and e.unit == "clusters" for e in cluster)


def test_cluster_bootstrap_general_statistic_matches_the_fast_mean_path():
    values, units = _clustered(np.random.default_rng(3), 1, 12, 5)
    labels = np.array([f"concept{u}" for u in units])
    fast = st.cluster_bootstrap(values[0], labels, n_boot=200, seed=7, unit="concepts")
    slow = st.cluster_bootstrap(values[0], labels, lambda x: float(np.mean(x)), n_boot=200, seed=7,
                                unit="concepts")
    assert fast.estimate == pytest.approx(values[0].mean())
    assert fast.as_tuple() == pytest.approx(slow.as_tuple()) and fast.se == pytest.approx(slow.se)
    assert fast == st.cluster_bootstrap(values[0], labels, n_boot=200, seed=7, unit="concepts")
    assert fast != st.cluster_bootstrap(values[0], labels, n_boot=200, seed=8, unit="concepts")


def _crossed(rng: np.random.Generator, n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.repeat(np.arange(n_rows), n_cols)
    cols = np.tile(np.arange(n_cols), n_rows)
    values = rng.normal(size=n_rows)[rows] + rng.normal(size=n_cols)[cols] + 0.5 * rng.normal(size=rows.size)
    return values, rows, cols


def test_crossed_bootstrap_is_wider_than_the_item_bootstrap():
    values, rows, cols = _crossed(np.random.default_rng(5), 30, 20)
    crossed = st.crossed_bootstrap(values, rows, cols, n_boot=1000, unit="activity x subject")
    naive = st.bootstrap_interval(values, n_boot=1000)
    by_rows = st.cluster_bootstrap(values, rows, n_boot=1000)
    assert crossed.estimate == pytest.approx(values.mean())
    width = crossed.high - crossed.low
    assert width > 3 * (naive.high - naive.low)
    assert width > 1.2 * (by_rows.high - by_rows.low)  # the columns vary too
    # var of the mean of a_r + b_c + e: 1/R + 1/C + 0.25/(RC)
    assert crossed.se == pytest.approx(math.sqrt(1 / 30 + 1 / 20 + 0.25 / 600), rel=0.35)
    assert (crossed.n, crossed.unit, crossed.method) == (600, "activity x subject",
                                                         "pigeonhole percentile bootstrap")


def test_crossed_bootstrap_covers_the_true_mean():
    cover = []
    for i in range(100):
        values, rows, cols = _crossed(np.random.default_rng(100 + i), 20, 15)
        e = st.crossed_bootstrap(values, rows, cols, n_boot=500, seed=i)
        cover.append(e.low < 0.0 < e.high)
    assert 0.85 <= np.mean(cover) <= 1.0


def test_crossed_bootstrap_equal_values_and_determinism():
    rows, cols = np.repeat([0, 1, 2], 2), np.tile(["a", "b"], 3)
    e = st.crossed_bootstrap(np.full(6, 0.25), rows, cols, n_boot=100)
    assert e.as_tuple() == pytest.approx((0.25, 0.25, 0.25)) and e.se == pytest.approx(0.0, abs=1e-12)
    values, rows, cols = _crossed(np.random.default_rng(6), 8, 6)
    assert st.crossed_bootstrap(values, rows, cols, seed=1) == st.crossed_bootstrap(values, rows, cols, seed=1)


# --------------------------------------------------------------------------- paired


def test_paired_difference_t_and_bootstrap_agree_on_large_n():
    rng = np.random.default_rng(7)
    before = rng.normal(size=2000)
    after = before + 0.1 + rng.normal(scale=0.5, size=2000)
    t = st.paired_difference(after, before)
    b = st.paired_difference(after, before, method="bootstrap", n_boot=1000)
    assert t == st.t_interval(after - before)
    assert b.estimate == pytest.approx(t.estimate)
    half = t.high - t.estimate
    assert abs(b.low - t.low) < 0.15 * half and abs(b.high - t.high) < 0.15 * half
    assert b.se == pytest.approx(t.se, rel=0.1)
    assert t.low < 0.1 < t.high


# --------------------------------------------------------------------------- correlations


def _worlds(rng: np.random.Generator, n_worlds: int, n: int, rho: float) -> tuple[list, list]:
    cov = [[1.0, rho], [rho, 1.0]]
    xy = [rng.multivariate_normal([0, 0], cov, size=n) for _ in range(n_worlds)]
    return [a[:, 0] for a in xy], [a[:, 1] for a in xy]


def test_pooled_correlation_recovers_a_known_correlation():
    xs, ys = _worlds(np.random.default_rng(8), 10, 300, 0.5)
    p = st.pooled_correlation(xs, ys, method="pearson")
    s = st.pooled_correlation(xs, ys)  # spearman
    assert p.low < 0.5 < p.high and abs(p.estimate - 0.5) < 0.05
    rho_s = 6 / math.pi * math.asin(0.5 / 2)  # Spearman's rho of a bivariate normal
    assert s.low < rho_s < s.high
    assert (p.n, p.unit, p.method) == (10, "worlds", "fisher-z student-t")
    rs = [sps.spearmanr(x, y)[0] for x, y in zip(xs, ys)]
    assert s == st.correlations_interval(rs)
    z = np.arctanh(rs)
    assert s.estimate == pytest.approx(np.tanh(z.mean()))
    assert s.se == pytest.approx(sps.sem(z))


def test_pooled_correlation_single_world_is_fishers_interval():
    xs, ys = _worlds(np.random.default_rng(9), 1, 40, 0.3)
    e = st.pooled_correlation(xs, ys, method="pearson", confidence=0.9)
    ref = sps.pearsonr(xs[0], ys[0])
    ci = ref.confidence_interval(0.9)  # scipy's Fisher interval
    assert e.estimate == pytest.approx(ref.statistic)
    assert (e.low, e.high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    z = np.arctanh(ref.statistic)
    assert e.high == pytest.approx(np.tanh(z + sps.norm.ppf(0.95) / math.sqrt(37)))
    assert (e.n, e.unit, e.se) == (40, "items", pytest.approx(1 / math.sqrt(37)))


def test_correlations_interval_clips_perfect_correlations():
    e = st.correlations_interval([1.0, 0.9, 0.95])
    assert np.isfinite(e.se) and -1 <= e.low < e.estimate < e.high <= 1


# --------------------------------------------------------------------------- decisions


def test_effect_test_pass_fail_and_distance():
    e = _est(1.0, 0.2, 1.8, 0.4, n=30)
    r = st.effect_test(e)
    assert r.passed and r.kind == "effect" and r.threshold == 0.0 and r.estimate is e
    assert r.distance_se == pytest.approx(2.5)
    assert r.p_value == pytest.approx(sps.t.sf(2.5, 29))
    r = st.effect_test(e, threshold=0.5)
    assert not r.passed and r.distance_se == pytest.approx(1.25)
    r = st.effect_test(e, direction="less")
    assert not r.passed and r.distance_se == pytest.approx(-2.5)
    assert r.p_value == pytest.approx(sps.t.cdf(2.5, 29))
    assert st.effect_test(e, threshold=2.0, direction="less").passed
    zero = st.effect_test(_est(1.0, 1.0, 1.0, 0.0))
    assert zero.passed and zero.distance_se == math.inf and zero.p_value == 0.0
    assert st.effect_test(_est(1.0, 1.0, 1.0, 0.0), 2.0).distance_se == -math.inf
    # bootstrap estimates: normal approximation
    b = _est(1.0, 0.2, 1.8, 0.4, method="percentile bootstrap")
    assert st.effect_test(b).p_value == pytest.approx(sps.norm.sf(2.5))


def test_effect_test_agrees_with_the_one_sided_t_test():
    rng = np.random.default_rng(10)
    for shift in (0.0, 0.3, 0.6, 1.0):
        v = rng.normal(shift, 1.0, size=15)
        r = st.effect_test(st.t_interval(v))
        assert r.p_value == pytest.approx(sps.ttest_1samp(v, 0.0, alternative="greater").pvalue)
        assert r.passed == (r.p_value < 0.025)


def test_effect_test_on_correlations_uses_the_z_scale():
    e = st.correlations_interval([0.3, 0.4, 0.5, 0.35])
    r = st.effect_test(e, threshold=0.2)
    assert r.distance_se == pytest.approx((np.arctanh(e.estimate) - np.arctanh(0.2)) / e.se)
    assert r.passed == (r.p_value < 0.025) == (e.low > 0.2)


def test_equivalence_test_tost():
    e = _est(0.05, 0.01, 0.09, 0.02, n=50, confidence=0.9)
    r = st.equivalence_test(e, margin=0.1)
    assert r.passed and r.kind == "equivalence" and r.threshold == 0.1
    assert r.distance_se == pytest.approx(2.5)
    p_low = st.effect_test(e, -0.1, "greater").p_value
    p_high = st.effect_test(e, 0.1, "less").p_value
    assert r.p_value == pytest.approx(max(p_low, p_high)) == pytest.approx(sps.t.sf(2.5, 49))
    r = st.equivalence_test(e, margin=0.08)
    assert not r.passed and r.distance_se == pytest.approx(1.5)
    neg = st.equivalence_test(_est(-0.05, -0.09, -0.01, 0.02, confidence=0.9), margin=0.1)
    assert neg.passed and neg.distance_se == pytest.approx(2.5)


def test_equivalence_test_on_simulated_data():
    rng = np.random.default_rng(11)
    margin = 0.1
    null = st.t_interval(rng.normal(0.0, 1.0, 3000), confidence=0.9)
    real = st.t_interval(rng.normal(2 * margin, 1.0, 3000), confidence=0.9)
    assert st.equivalence_test(null, margin).passed
    r = st.equivalence_test(real, margin)
    assert not r.passed and r.distance_se < 0 and r.p_value > 0.5


def test_non_inferiority_test():
    e = _est(-0.03, -0.05, -0.01, 0.01)
    r = st.non_inferiority_test(e, margin=0.1)
    assert r.passed and r.kind == "non_inferiority" and r.distance_se == pytest.approx(7.0)
    r = st.non_inferiority_test(e, margin=0.02)
    assert not r.passed and r.distance_se == pytest.approx(-1.0)
    err = _est(0.03, 0.01, 0.05, 0.01)  # error-rate difference: lower is better
    assert st.non_inferiority_test(err, 0.1, direction="less").passed
    r = st.non_inferiority_test(err, 0.02, direction="less")
    assert not r.passed and r.distance_se == pytest.approx(-1.0)
    # a real loss of twice the margin, measured on many worlds, is not non-inferior
    rng = np.random.default_rng(12)
    before = rng.normal(0.7, 0.05, 200)
    after = before - 0.2 + rng.normal(0, 0.05, 200)
    assert not st.non_inferiority_test(st.paired_difference(after, before), 0.1).passed
    assert st.non_inferiority_test(st.paired_difference(before + 0.01, before - 0.01 * rng.random(200)), 0.1).passed


# --------------------------------------------------------------------------- AUC

def test_auc_interval_known_values():
    perfect = st.auc_interval([0.1, 0.2, 0.8, 0.9], np.array([False, False, True, True]))
    assert perfect.estimate == 1.0 and perfect.se == 0.0 and perfect.high == 1.0
    ties = st.auc_interval([0.5, 0.5, 0.5, 0.5], np.array([False, True, False, True]))
    assert ties.estimate == 0.5
    # Hanley & McNeil (1982), by hand: 10 positives, 30 negatives, partly overlapping
    n1, n0 = 10, 30
    scores = np.r_[np.arange(30.0), np.arange(10) + 14.0]
    pos = np.r_[np.zeros(30, bool), np.ones(10, bool)]
    est = st.auc_interval(scores, pos)
    from sklearn.metrics import roc_auc_score
    assert est.estimate == pytest.approx(roc_auc_score(pos, scores))
    a = est.estimate
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = math.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0))
    assert est.se == pytest.approx(se) and est.n == 10 and est.unit == "items"


def test_auc_interval_covers_the_true_auc_about_95_percent_of_the_time():
    from scipy.stats import norm

    rng = np.random.default_rng(3)
    shift = 1.0
    true_auc = norm.cdf(shift / math.sqrt(2))  # P(X1 > X0), X1 ~ N(shift, 1), X0 ~ N(0, 1)
    pos = np.r_[np.ones(60, bool), np.zeros(600, bool)]
    covered = []
    for _ in range(1000):
        scores = np.r_[rng.normal(shift, 1, 60), rng.normal(0, 1, 600)]
        e = st.auc_interval(scores, pos)
        covered.append(e.low < true_auc < e.high)
    assert 0.92 <= np.mean(covered) <= 0.975


# --------------------------------------------------------------------------- errors

_V = [1.0, 2.0, 3.0]
_E = _est(0.0, -1.0, 1.0, 0.5)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: st.t_interval([]), "values is empty"),
        (lambda: st.t_interval([1.0]), "at least 2 values, got 1"),
        (lambda: st.t_interval([1.0, float("nan")]), "values contains 1 non-finite"),
        (lambda: st.t_interval(_V, confidence=1.5), r"confidence must be in \(0, 1\), got 1.5"),
        (lambda: st.t_interval(_V, confidence=0), r"confidence must be in \(0, 1\), got 0"),
        (lambda: st.t_interval([[1.0, 2.0]]), "values must be 1-D"),
        (lambda: st.bootstrap_interval([]), "values is empty"),
        (lambda: st.bootstrap_interval(_V, n_boot=50), "n_boot must be an integer >= 100, got 50"),
        (lambda: st.bootstrap_interval(_V, seed=-1), "seed must be an integer >= 0, got -1"),
        (lambda: st.bootstrap_interval(_V, confidence=1.5), "got 1.5"),
        (lambda: st.bootstrap_interval([1.0, np.inf]), "values contains 1 non-finite"),
        (lambda: st.cluster_bootstrap(_V, [0, 1]), "units has 2 entries but values has 3"),
        (lambda: st.cluster_bootstrap(_V, [0, 0, 0]), "units needs at least 2 distinct labels, got 1"),
        (lambda: st.cluster_bootstrap([], []), "values is empty"),
        (lambda: st.cluster_bootstrap(_V, ["a", None, "b"]), "units contains 1 missing"),
        (lambda: st.cluster_bootstrap([1.0, np.nan], [0, 1]), "values contains 1 non-finite"),
        (lambda: st.cluster_bootstrap(_V, [0, 1, 1], n_boot=99), "n_boot must be an integer >= 100, got 99"),
        (lambda: st.crossed_bootstrap(_V, [0, 1, 1], [0, 0, 0]), "cols needs at least 2 distinct labels"),
        (lambda: st.crossed_bootstrap(_V, [0, 1], [0, 1, 1]), "rows has 2 entries but values has 3"),
        (lambda: st.crossed_bootstrap(_V, [0, 1, 1], [0, 1, 1], confidence=1.5), "got 1.5"),
        (lambda: st.paired_difference(_V, [1.0, 2.0]), "after has 3 values but before has 2"),
        (lambda: st.paired_difference(_V, _V, method="wilcoxon"), "method must be .* got 'wilcoxon'"),
        (lambda: st.paired_difference([1.0, np.nan], [1.0, 2.0]), "after contains 1 non-finite"),
        (lambda: st.paired_difference([], []), "after is empty"),
        (lambda: st.pooled_correlation([], []), "xs is empty"),
        (lambda: st.pooled_correlation([_V, _V], [_V]), "xs has 2 worlds but ys has 1"),
        (lambda: st.pooled_correlation([_V, _V], [_V, [1.0, 2.0]]), r"xs\[1\] has 3 values but ys\[1\] has 2"),
        (lambda: st.pooled_correlation([_V], [_V]), r"xs\[0\] needs at least 4 values, got 3"),
        (lambda: st.pooled_correlation(_V, _V), "one per world"),
        (lambda: st.pooled_correlation([_V, _V], [_V, _V], method="kendall"), "got 'kendall'"),
        (lambda: st.pooled_correlation([_V, _V], [_V, [2.0, 2.0, 2.0]]), "world 1: a constant"),
        (lambda: st.pooled_correlation([_V, [1.0, np.nan, 2.0]], [_V, _V]), r"xs\[1\] contains 1 non-finite"),
        (lambda: st.correlations_interval([0.5]), "rs needs at least 2 values, got 1"),
        (lambda: st.correlations_interval([0.5, 1.5]), r"rs must be correlations in \[-1, 1\], got 1.5"),
        (lambda: st.correlations_interval([0.5, 0.2], confidence=1.5), "got 1.5"),
        (lambda: st.effect_test(_E, direction="up"), "direction must be one of .* got 'up'"),
        (lambda: st.effect_test(_E, threshold=np.nan), "threshold must be a finite number"),
        (lambda: st.effect_test((0.0, -1.0, 1.0)), "est must be an Estimate, got tuple"),
        (lambda: st.equivalence_test(_E, margin=0), "margin must be > 0, got 0"),
        (lambda: st.equivalence_test(_E, margin=-1), "margin must be > 0, got -1"),
        (lambda: st.equivalence_test(_E, margin=np.nan), "margin must be > 0, got nan"),
        (lambda: st.non_inferiority_test(_E, margin=0), "margin must be > 0, got 0"),
        (lambda: st.non_inferiority_test(_E, margin=-1), "margin must be > 0, got -1"),
        (lambda: st.non_inferiority_test(_E, 0.1, direction="sideways"), "got 'sideways'"),
        (lambda: st.auc_interval(_V, [True, False]), "positive must be a bool array of the scores' shape"),
        (lambda: st.auc_interval(_V, [1, 0, 1]), "positive must be a bool array"),
        (lambda: st.auc_interval(_V, [False, False, False]), "both classes, got 0 positive of 3"),
        (lambda: st.auc_interval([1.0, np.nan], [True, False]), "scores contains 1 non-finite"),
    ],
)
def test_bad_input_raises_a_value_error_naming_it(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_index_bootstrap_is_cluster_bootstrap_vectorised():
    from uim_utils.stats import cluster_bootstrap, index_bootstrap

    v = np.random.default_rng(3).normal(size=30)

    def median_rows(idx):
        return np.median(v[idx], axis=-1)

    fast = index_bootstrap(median_rows, 30, n_boot=500, seed=7, unit="items")
    loop = cluster_bootstrap(np.arange(30.0), np.arange(30), lambda u: float(np.median(v[u.astype(int)])),
                             n_boot=500, seed=7, unit="items")
    assert fast == loop
    with pytest.raises(ValueError, match="n"):
        index_bootstrap(median_rows, 1)
    with pytest.raises(ValueError, match="n_boot"):
        index_bootstrap(median_rows, 30, n_boot=10)


# --------------------------------------------------------------------------- stratified


def test_stratified_resamples_draw_within_each_set_in_order():
    draws = st.stratified_resamples((3, 5, 1), n_boot=100, seed=4)
    assert len(draws) == 100 and all(len(r) == 3 for r in draws)
    assert all(a.size == 3 and b.size == 5 and c.size == 1 for a, b, c in draws)
    assert all((a < 3).all() and (b < 5).all() and (c == 0).all() for a, b, c in draws)
    rng = np.random.default_rng(4)  # replicate after replicate, set after set
    for a, b, c in draws[:5]:
        assert np.array_equal(a, rng.integers(0, 3, 3)) and np.array_equal(b, rng.integers(0, 5, 5))
        assert np.array_equal(c, rng.integers(0, 1, 1))


def test_stratified_bootstrap_of_a_difference_of_means_covers_the_truth():
    """Two independent samples, each resampled within itself: the interval of the difference
    of means covers the true difference about 95% of the time."""
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(200):
        x, y = rng.normal(1.0, 1.0, 25), rng.normal(0.0, 2.0, 40)
        est = st.stratified_bootstrap(lambda i, j, x=x, y=y: x[i].mean() - y[j].mean(), (25, 40), n_boot=400, seed=1)
        hits += est.low <= 1.0 <= est.high
        assert est.n == 65 and est.method == "stratified percentile bootstrap"
    assert 0.88 <= hits / 200 <= 0.99
    x, y = np.arange(5.0), np.arange(7.0)
    est = st.stratified_bootstrap(lambda i, j: x[i].mean() - y[j].mean(), (5, 7), n_boot=200, seed=0)
    assert est.estimate == pytest.approx(-1.0)  # the point estimate uses every unit once
    expected = math.sqrt(np.var(x) / 5 + np.var(y) / 7)  # the bootstrap's sd of a difference of means
    assert 0.8 * expected < est.se < 1.2 * expected


def test_stratified_bootstrap_drops_undefined_replicates_and_checks_input():
    v = np.array([0.0, 0.0, 0.0, 1.0])

    def ratio(i):  # undefined when the resample has no spread
        s = v[i].std()
        return v[i].mean() / s if s > 0 else float("nan")

    est = st.stratified_bootstrap(ratio, [4], n_boot=300, seed=2)
    assert np.isfinite([est.low, est.high, est.se]).all()
    with pytest.raises(ValueError, match="sizes is empty"):
        st.stratified_bootstrap(ratio, [])
    with pytest.raises(ValueError, match="a set size must be an integer >= 1, got 0"):
        st.stratified_resamples([3, 0])
    with pytest.raises(ValueError, match="n_boot"):
        st.stratified_resamples([3], n_boot=5)
    with pytest.raises(ValueError, match="sizes must be a sequence"):
        st.stratified_resamples("abc")
    with pytest.raises(ValueError, match="fewer than 2 finite"):
        st.stratified_bootstrap(lambda i: float("nan"), [3], n_boot=100)


# --------------------------------------------------------------------------- paired AUC


def _delong_brute(a, b, pos):
    """DeLong's variance of AUC(a) - AUC(b) from the full comparison matrices (O(n1 n0))."""
    def psi(s):
        x, y = s[pos][:, None], s[~pos][None, :]
        return (x > y) + 0.5 * (x == y)
    pa, pb = psi(a), psi(b)
    d10 = pa.mean(1) - pb.mean(1)
    d01 = pa.mean(0) - pb.mean(0)
    return pa.mean() - pb.mean(), d10.var(ddof=1) / pos.sum() + d01.var(ddof=1) / (~pos).sum()


def test_paired_auc_difference_matches_the_brute_force_delong_variance():
    rng = np.random.default_rng(8)
    pos = np.r_[np.ones(40, bool), np.zeros(70, bool)]
    shared = rng.normal(size=110)
    a = shared + 1.0 * pos + 0.5 * rng.normal(size=110)
    b = np.round(shared + 0.4 * pos + 0.5 * rng.normal(size=110), 1)  # ties included
    est = st.paired_auc_difference(a, b, pos)
    diff, var = _delong_brute(a, b, pos)
    assert est.estimate == pytest.approx(diff) and est.se == pytest.approx(math.sqrt(var))
    from sklearn.metrics import roc_auc_score
    assert est.estimate == pytest.approx(roc_auc_score(pos, a) - roc_auc_score(pos, b))
    assert est.method == "delong paired normal" and est.n == 40
    same = st.paired_auc_difference(a, a, pos)
    assert same.estimate == 0.0 and same.se == 0.0
    # correlated models: the paired error is below the sum of the two separate variances
    separate = math.hypot(st.auc_interval(a, pos).se, st.auc_interval(b, pos).se)
    assert est.se < 0.8 * separate


def test_paired_auc_difference_covers_the_true_difference():
    rng = np.random.default_rng(9)
    pos = np.r_[np.ones(50, bool), np.zeros(200, bool)]
    true = sps.norm.cdf(1.0 / math.sqrt(2)) - sps.norm.cdf(0.5 / math.sqrt(2))  # binormal AUCs
    hits = 0
    for _ in range(400):
        shared = rng.normal(size=250)
        noise_a, noise_b = rng.normal(size=250), rng.normal(size=250)
        a = (0.8 * shared + 0.6 * noise_a) + 1.0 * pos
        b = (0.8 * shared + 0.6 * noise_b) + 0.5 * pos
        est = st.paired_auc_difference(a, b, pos)
        hits += est.low <= true <= est.high
    assert 0.91 <= hits / 400 <= 0.98


def test_paired_auc_difference_bad_input():
    pos = np.r_[np.ones(3, bool), np.zeros(3, bool)]
    with pytest.raises(ValueError, match="scores_a has 6 values but scores_b has 5"):
        st.paired_auc_difference(np.arange(6.0), np.arange(5.0), pos)
    with pytest.raises(ValueError, match="at least 2 items of each class, got 1 positive"):
        st.paired_auc_difference(np.arange(6.0), np.arange(6.0), np.r_[True, np.zeros(5, bool)])
    with pytest.raises(ValueError, match="positive must be a bool array"):
        st.paired_auc_difference(np.arange(6.0), np.arange(6.0), np.ones(6))


@pytest.mark.parametrize("field", ["estimate", "low", "high"])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_estimate_refuses_a_non_finite_end_by_name(field, bad):
    kwargs = dict(estimate=0.5, low=0.4, high=0.6, se=0.05, n=10, unit="worlds", method="student-t",
                  confidence=0.95)
    kwargs[field] = bad
    with pytest.raises(ValueError, match=f"{field} must be a finite number"):
        Estimate(**kwargs)


@pytest.mark.parametrize("bad", ["high", None, True, math.nan])
def test_effect_test_names_a_threshold_that_is_not_a_number(bad):
    est = st.t_interval(np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        st.effect_test(est, threshold=bad)


def test_index_bootstrap_names_a_statistic_of_the_wrong_length():
    with pytest.raises(ValueError, match="one value per resample"):
        st.index_bootstrap(lambda idx: idx.mean(axis=0), 5, n_boot=200)
