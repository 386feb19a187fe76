"""Tests of uim_utils.claims: claims declared once, decided over worlds, on known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from uim_utils import stats
from uim_utils.claims import KINDS, VERDICT_COLUMNS, Claim, ClaimSet
from uim_utils.display import show_verdicts

# Five worlds. "gap" has mean 0.30 and a small spread: its 95% t interval is far above
# 0.20. "tiny" has mean 0.008 and a spread ten times its mean: its interval straddles 0.
TABLE = pd.DataFrame({
    "seed": [0, 1, 2, 3, 4],
    "gap": [0.30, 0.32, 0.28, 0.31, 0.29],
    "tiny": [0.01, -0.02, 0.03, 0.00, 0.02],
})
LONG = ("Recall on the 3 rarest classes is lower than on the 3 most frequent, by at least 0.20, "
        "in the average world (a long statement that must never be truncated)")


def t_low_high(values: list[float], confidence: float = 0.95) -> tuple[float, float, float]:
    v = np.asarray(values)
    half = sps.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    return v.mean(), v.mean() - half, v.mean() + half


def spec_of(*claims: Claim, version: int = 1) -> ClaimSet:
    return ClaimSet("00_toy", version, tuple(claims))


def test_one_claim_holds_and_one_does_not() -> None:
    spec = spec_of(Claim("1", LONG, "gap", "effect", threshold=0.2),
                   Claim("2", "The tiny effect is positive", "tiny", "effect"))
    v = spec.verdicts(TABLE)
    assert list(v.columns) == list(VERDICT_COLUMNS)
    assert v["verdict"].tolist() == ["holds", "does not hold"]
    assert v["n_worlds"].tolist() == [5, 5]
    for row, col in zip(v.itertuples(), ("gap", "tiny")):
        m, lo, hi = t_low_high(TABLE[col].tolist())
        assert (row.estimate, row.low, row.high) == pytest.approx((m, lo, hi))
        assert row.se == pytest.approx(TABLE[col].std(ddof=1) / math.sqrt(5))
    # distance in SEs of the estimate beyond the threshold
    assert v.loc[0, "distance_se"] == pytest.approx((0.30 - 0.20) / v.loc[0, "se"])
    assert v.loc[0, "rule"] == "95% CI low > 0.20" and v.loc[1, "rule"] == "95% CI low > 0.00"
    assert v.attrs["seeds"] == [0, 1, 2, 3, 4]


def test_direction_less_and_confidence() -> None:
    c = Claim("1", "The gap is below 0.35", "gap", "effect", threshold=0.35, direction="less")
    assert c.test(TABLE["gap"]).passed and c.rule() == "95% CI high < 0.35"
    assert not Claim("1", "below 0.31", "gap", "effect", threshold=0.31, direction="less").test(TABLE["gap"]).passed
    assert c.rule(0.99) == "99% CI high < 0.35"
    assert c.interval(TABLE["gap"], 0.99).confidence == pytest.approx(0.99)


def test_equivalence_passes_at_zero_and_fails_at_twice_the_margin() -> None:
    noise = np.array([-0.01, 0.01, 0.0, -0.005, 0.005])
    c = Claim("c", "The control shows no gap", "ctrl", "equivalence", margin=0.1)
    assert c.rule() == "90% CI inside ±0.10"
    est = c.interval(noise)
    assert est.confidence == pytest.approx(0.90)  # TOST, 0.05 per side: 2 * 0.95 - 1
    assert (est.low, est.high) == pytest.approx(t_low_high(noise.tolist(), 0.90)[1:])
    assert c.test(noise).passed
    assert not c.test(noise + 0.2).passed and not c.test(noise - 0.2).passed
    assert c.interval_confidence(0.975) == pytest.approx(0.95)


def test_non_inferiority_margin_binds() -> None:
    cost = np.array([-0.012, -0.008, -0.010, -0.011, -0.009])  # mean -0.010, 95% CI about [-0.012, -0.008]
    loose = Claim("k", "Costs at most 0.02 accuracy", "cost", "non_inferiority", margin=0.02)
    tight = Claim("k", "Costs at most 0.005 accuracy", "cost", "non_inferiority", margin=0.005)
    assert loose.test(cost).passed and not tight.test(cost).passed
    assert loose.rule() == "95% CI low > -0.02"
    # lower is better: the upper end must stay below the margin
    err = Claim("e", "Adds at most 0.02 error", "err", "non_inferiority", margin=0.02, direction="less")
    assert err.rule() == "95% CI high < 0.02"
    assert err.test(-cost).passed and not err.test(-cost + 0.015).passed


def test_correlation_claims_use_fisher_z() -> None:
    rs = [0.5, 0.6, 0.4, 0.55, 0.45]
    c = Claim("r", "Frequency predicts accuracy", "rho", "effect", threshold=0.3, correlation=True)
    est = c.interval(rs)
    assert est.as_tuple() == pytest.approx(stats.correlations_interval(rs).as_tuple())
    assert est.method.startswith("fisher-z") and c.test(rs).passed


def test_check_raises_for_the_failing_asserted_claim_only() -> None:
    spec = spec_of(Claim("1", "The gap is at least 0.2", "gap", "effect", threshold=0.2),
                   Claim("2", "The tiny effect is positive", "tiny", "effect"),
                   Claim("3x", "The tiny effect is above 0.5", "tiny", "effect", threshold=0.5, asserted=False))
    with pytest.raises(AssertionError) as err:
        spec.check(TABLE)
    msg = str(err.value)
    assert "claim 2 (The tiny effect is positive)" in msg and "95% CI low > 0.00" in msg
    assert "0-4" in msg and "[-0.016, 0.032]" in msg
    assert "claim 1" not in msg and "3x" not in msg
    # exploratory claims never raise, even when they fail
    ok = spec_of(Claim("1", "The gap is at least 0.2", "gap", "effect", threshold=0.2),
                 Claim("3x", "The tiny effect is above 0.5", "tiny", "effect", threshold=0.5, asserted=False))
    v = ok.check(TABLE)
    assert v["verdict"].tolist() == ["holds", "does not hold"] and v["asserted"].tolist() == [True, False]
    assert [c.id for c in ok.asserted()] == ["1"]


def test_fingerprint_is_canonical_and_changes_with_any_field() -> None:
    base = spec_of(Claim("1", "gap", "gap", "effect", threshold=0.2))
    assert base.fingerprint() == spec_of(Claim("1", "gap", "gap", "effect", threshold=0.20)).fingerprint()
    assert len(base.fingerprint()) == 16 and int(base.fingerprint(), 16) >= 0
    assert spec_of(Claim("1", "gap", "gap", "effect", threshold=0)).fingerprint() == \
        spec_of(Claim("1", "gap", "gap", "effect", threshold=0.0)).fingerprint()
    changed = [spec_of(Claim("1", "gap", "gap", "effect", threshold=0.21)),
               spec_of(Claim("1", "gap!", "gap", "effect", threshold=0.2)),
               spec_of(Claim("1", "gap", "gap", "effect", threshold=0.2, asserted=True),
                       Claim("2", "x", "tiny", "effect", asserted=False)),
               spec_of(Claim("1", "gap", "gap", "effect", threshold=0.2), version=2),
               ClaimSet("01_other", 1, (Claim("1", "gap", "gap", "effect", threshold=0.2),))]
    prints = {s.fingerprint() for s in changed}
    assert len(prints) == len(changed) and base.fingerprint() not in prints


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="effects"), "unknown kind 'effects'"),
    (dict(kind="equivalence", margin=0.0), "margin must be > 0, got 0.0"),
    (dict(kind="non_inferiority", margin=-0.1), "margin must be > 0, got -0.1"),
    (dict(kind="equivalence"), "needs a margin > 0, got None"),
    (dict(kind="effect", margin=0.1), "not a margin \\(got margin=0.1\\)"),
    (dict(kind="equivalence", margin=0.1, threshold=0.3), "threshold must be 0, got 0.3"),
    (dict(kind="effect", direction="up"), "unknown direction 'up'"),
    (dict(kind="effect", threshold=float("nan")), "threshold must be a finite number, got nan"),
    (dict(kind="effect", statistic=""), "statistic must be a non-empty string, got ''"),
])
def test_bad_claims_are_refused(kwargs: dict, message: str) -> None:
    args = dict(id="7", statement="A claim", statistic="gap") | kwargs
    with pytest.raises(ValueError, match=message):
        Claim(**args)
    assert "effect" in KINDS


def test_bad_claim_sets_are_refused() -> None:
    c = Claim("1", "gap", "gap", "effect")
    with pytest.raises(ValueError, match=r"duplicate claim ids \['1'\]"):
        spec_of(c, Claim("1", "again", "tiny", "effect"))
    with pytest.raises(ValueError, match="version must be an integer >= 1, got 0"):
        spec_of(c, version=0)
    with pytest.raises(ValueError, match="at least one asserted claim"):
        spec_of(Claim("1", "gap", "gap", "effect", asserted=False))
    with pytest.raises(ValueError, match="chapter must be a non-empty string"):
        ClaimSet("", 1, (c,))
    with pytest.raises(ValueError, match="00_toy has no claim '9'"):
        spec_of(c).get("9")


def test_bad_tables_are_refused_with_named_columns_and_seeds() -> None:
    spec = spec_of(Claim("1", "gap", "gap", "effect"), Claim("2", "recall", "recall", "effect"))
    with pytest.raises(ValueError, match=r"00_toy: .*lacks the statistic column\(s\) \['recall'\]"):
        spec.verdicts(TABLE)
    spec = spec_of(Claim("1", "gap", "gap", "effect"))
    with pytest.raises(ValueError, match="00_toy: the per-world table is empty"):
        spec.verdicts(TABLE.iloc[:0])
    nan = TABLE.assign(gap=[0.3, np.nan, 0.2, 0.3, np.nan])
    with pytest.raises(ValueError, match=r"statistic 'gap' is NaN.*seed\(s\) \[1, 4\]"):
        spec.verdicts(nan)
    with pytest.raises(ValueError, match="no 'seed' column"):
        spec.verdicts(TABLE.drop(columns="seed"))
    with pytest.raises(ValueError, match=r"several rows for seed\(s\) \[0\]"):
        spec.verdicts(TABLE.assign(seed=[0, 0, 2, 3, 4]))
    with pytest.raises(ValueError, match=r"seeds must be integers >= 0, got \['a'"):
        spec.verdicts(TABLE.assign(seed=["a", 1, 2, 3, 4]))
    with pytest.raises(ValueError, match="at least 2 worlds"):
        spec.verdicts(TABLE.iloc[:1])
    with pytest.raises(ValueError, match="confidence must be a number in \\(0.5, 1\\), got 95"):
        spec.verdicts(TABLE, confidence=95)


def test_show_verdicts_is_readable() -> None:
    spec = spec_of(Claim("1", LONG, "gap", "effect", threshold=0.2),
                   Claim("2", "The tiny effect is positive", "tiny", "effect", asserted=False))
    styler = show_verdicts(spec.verdicts(TABLE))
    html = styler.to_html()
    assert LONG in html and "(exploratory)" in html
    assert "0.300" in html and "0.30000" not in html  # rounded to 3
    assert "[0.280, 0.320]" in html
    assert "#d8f0d8" in html  # asserted and holds: green
    assert "font-style: italic" in html  # the exploratory row
    with pytest.raises(ValueError, match="missing"):
        show_verdicts(pd.DataFrame({"id": ["1"]}))


# --------------------------------------------------------------------------------------
# Claims decided in every world on its own (within="concepts").

# Ten worlds: nine far above 0.10, one just below it. Over worlds the mean (0.279) has a
# 95% t interval of about [0.23, 0.33], well above 0.10; but world 9 on its own fails.
WITHIN = pd.DataFrame({
    "seed": list(range(10)),
    "acc": [0.30] * 9 + [0.09],
    "acc_se": [0.01] * 10,
})
Z95 = sps.norm.ppf(0.975)


def test_within_claim_holds_only_if_every_world_clears_the_bound() -> None:
    within = Claim("1", "Accuracy above 0.10 in every world", "acc", "effect", threshold=0.1, within="concepts")
    over = Claim("1", "Mean accuracy above 0.10", "acc", "effect", threshold=0.1)
    assert over.test(WITHIN["acc"]).passed  # the mean over worlds would pass...
    v = spec_of(within).verdicts(WITHIN).iloc[0]
    assert v["verdict"] == "does not hold"  # ...but one world does not
    assert v["n_worlds"] == 10 and v["estimate"] == pytest.approx(WITHIN["acc"].mean())
    assert v["low"] == pytest.approx(0.09 - Z95 * 0.01) and v["high"] == pytest.approx(0.30 + Z95 * 0.01)
    assert v["se"] == pytest.approx(0.01)
    assert v["distance_se"] == pytest.approx((0.09 - 0.10) / 0.01)  # the weakest world
    with pytest.raises(AssertionError, match="claim 1 .*in every world"):
        spec_of(within).check(WITHIN)
    # every world clears it: holds, and the weakest world sets the distance
    ok = WITHIN.assign(acc=[0.30] * 9 + [0.15])
    v = spec_of(within).check(ok).iloc[0]
    assert v["verdict"] == "holds" and v["distance_se"] == pytest.approx((0.15 - 0.10) / 0.01)
    # a world above the bound whose interval is not: the SE counts
    wide = ok.assign(acc_se=[0.01] * 9 + [0.03])
    assert spec_of(within).verdicts(wide).iloc[0]["verdict"] == "does not hold"
    # it works with two worlds, where a t interval over worlds is hopeless (t = 12.7)
    two = pd.DataFrame({"seed": [0, 1], "acc": [0.30, 0.20], "acc_se": [0.02, 0.02]})
    assert spec_of(within).verdicts(two).iloc[0]["verdict"] == "holds"
    assert not over.test(two["acc"]).passed


def test_test_each_world_known_answers() -> None:
    c = Claim("1", "above 0.1", "acc", "effect", threshold=0.1, within="concepts")
    res = c.test_each_world([0.3, 0.12], [0.01, 0.02])
    assert [r.passed for r in res] == [True, False]
    est = res[1].estimate
    expected = (0.12, 0.12 - Z95 * 0.02, 0.12 + Z95 * 0.02, 0.02)
    assert (est.estimate, est.low, est.high, est.se) == pytest.approx(expected)
    assert est.unit == "concepts" and est.confidence == pytest.approx(0.95)
    # equivalence reads the 90% interval (TOST): z = 1.645
    ctrl = Claim("3", "at chance", "excess", "equivalence", margin=0.03, within="concepts")
    r = ctrl.test_each_world([0.0, 0.02, -0.025], [0.005, 0.005, 0.005])
    assert [x.passed for x in r] == [True, True, False]
    assert r[0].estimate.high == pytest.approx(sps.norm.ppf(0.95) * 0.005)
    # non-inferiority (lower is better)
    cost = Claim("k", "costs < 0.05", "cost", "non_inferiority", margin=0.05, direction="less", within="concepts")
    assert [x.passed for x in cost.test_each_world([0.01, 0.04], [0.01, 0.01])] == [True, False]
    with pytest.raises(ValueError, match="2 values but 1 standard errors"):
        c.test_each_world([0.3, 0.2], [0.01])
    with pytest.raises(ValueError, match="se >= 0"):
        c.test_each_world([0.3], [-0.01])
    with pytest.raises(ValueError, match="decided over worlds, not in each world"):
        Claim("1", "above 0.1", "acc", "effect", threshold=0.1).test_each_world([0.3], [0.01])


def test_within_claim_needs_its_se_column() -> None:
    spec = spec_of(Claim("1", "Accuracy above 0.10", "acc", "effect", threshold=0.1, within="concepts"))
    assert spec.statistics == ["acc", "acc_se"]
    assert spec.get("1").se_column == "acc_se" and Claim("2", "x", "acc", "effect").se_column is None
    with pytest.raises(ValueError, match=r"lacks the statistic column\(s\) \['acc_se'\]"):
        spec.verdicts(WITHIN.drop(columns="acc_se"))
    with pytest.raises(ValueError, match=r"statistic 'acc_se' is NaN.*seed\(s\) \[3\]"):
        spec.verdicts(WITHIN.assign(acc_se=[0.01] * 3 + [np.nan] + [0.01] * 6))


def test_within_rule_text() -> None:
    c = Claim("1", "above 0.1", "acc", "effect", threshold=0.1, within="concepts")
    assert c.rule() == "95% CI over concepts low > 0.10 in every world"
    e = Claim("3", "at chance", "excess", "equivalence", margin=0.03, within="concepts")
    assert e.rule() == "90% CI over concepts inside ±0.03 in every world"
    rule = Claim("k", "cost", "cost", "non_inferiority", margin=0.05, within="images").rule(0.99)
    assert rule == "99% CI over images low > -0.05 in every world"
    assert "over concepts" in c.rule() and "in every world" in c.rule()


@pytest.mark.parametrize("within", ["", "  ", 3])
def test_bad_within_is_refused(within: object) -> None:
    with pytest.raises(ValueError, match="within must be a unit name"):
        Claim("1", "x", "acc", "effect", within=within)


def test_within_correlation_is_refused() -> None:
    with pytest.raises(ValueError, match="per-world claim \\(within='concepts'\\) cannot be a correlation"):
        Claim("r", "x", "rho", "effect", correlation=True, within="concepts")


def test_fingerprint_changes_with_within() -> None:
    prints = {spec_of(Claim("1", "x", "acc", "effect", threshold=0.1, within=w)).fingerprint()
              for w in (None, "concepts", "images")}
    assert len(prints) == 3


# ------------------------------------------------------------------ runs of one world

def test_min_worlds_is_one_only_when_every_asserted_claim_is_per_world() -> None:
    per_world = Claim("1", "Positive in every world", "gap", "effect", within="concepts")
    over = Claim("2", "Positive on average", "tiny", "effect")
    assert spec_of(per_world).min_worlds == 1
    assert spec_of(per_world, over).min_worlds == 2
    assert spec_of(per_world, Claim("2", "Positive on average", "tiny", "effect", asserted=False)).min_worlds == 1


def test_a_one_world_run_decides_per_world_claims_and_leaves_exploratory_ones_undecided() -> None:
    from uim_utils.claims import UNDECIDED

    spec = spec_of(Claim("1", "Positive in every world", "gap", "effect", within="concepts"),
                   Claim("2", "Near zero on average", "tiny", "equivalence", margin=0.1, asserted=False))
    one = pd.DataFrame({"seed": [7], "gap": [0.3], "gap_se": [0.05], "tiny": [0.01]})
    v = spec.check(one).set_index("id")
    assert v.loc["1", "verdict"] == "holds" and v.loc["1", "low"] == pytest.approx(0.3 - 1.959964 * 0.05)
    assert v.loc["2", "verdict"] == UNDECIDED and v.loc["2", "estimate"] == 0.01 and math.isnan(v.loc["2", "low"])
    failing = one.assign(gap=[0.05])
    with pytest.raises(AssertionError, match="claim 1"):
        spec.check(failing)


def test_a_one_world_run_is_refused_when_a_claim_is_asserted_over_worlds() -> None:
    spec = spec_of(Claim("1", "Positive on average", "gap", "effect"))
    with pytest.raises(ValueError, match="need at least 2 worlds, got seed"):
        spec.verdicts(TABLE.iloc[:1])
