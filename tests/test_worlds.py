"""Tests of uim_utils.worlds: measuring worlds and replaying notebook runs."""

from __future__ import annotations

import pandas as pd
import pytest

from uim_utils.claims import Claim, ClaimSet
from uim_utils.worlds import full_windows, run_worlds, window_seeds, window_verdicts, world_seeds, world_table

SPEC = ClaimSet("00_toy", 1, (
    Claim("1", "The gap is positive", "gap", "effect"),
    Claim("2", "The control is null", "ctrl", "equivalence", margin=0.1),
    Claim("3", "The gap exceeds 1", "gap", "effect", threshold=1.0, asserted=False),
))
# Worlds 0-3 have a clear positive gap; worlds 4-6 a clear negative one. The control is
# ±0.01 everywhere. With 3 worlds per run: runs 0 and 1 see positive gaps only (claim 1
# holds), runs 2, 3 and 4 see a negative world (2: two positive, one negative; 4: all
# negative), so claim 1 fails there.
TOY = pd.DataFrame({
    "seed": [0, 1, 2, 3, 4, 5, 6],
    "gap": [0.30, 0.32, 0.31, 0.29, -0.30, -0.31, -0.29],
    "ctrl": [0.01, -0.01, 0.0, 0.01, -0.01, 0.0, 0.01],
})


def test_world_seeds_are_consecutive_and_validated() -> None:
    assert world_seeds(1000, 3) == [1000, 1001, 1002]
    assert world_seeds(0, 1) == [0]
    with pytest.raises(ValueError, match="n_worlds must be an integer >= 1, got 0"):
        world_seeds(0, 0)
    with pytest.raises(ValueError, match="base_seed must be an integer >= 0, got -1"):
        world_seeds(-1, 2)
    with pytest.raises(ValueError, match="got 2.5"):
        world_seeds(2.5, 2)
    assert window_seeds([0, 2], 3) == [0, 1, 2, 3, 4]
    assert full_windows([0, 1, 2, 3, 10], 2) == [0, 1, 2]
    assert full_windows([0, 1, 2, 3, 10], 2, base_seeds=[2, 3, 10]) == [2]


def test_run_worlds_makes_one_row_per_world_seed_first() -> None:
    calls = []

    def measure(seed: int) -> dict[str, float]:
        calls.append(seed)
        return {"gap": seed / 10, "ctrl": -seed}

    table = run_worlds(measure, [5, 3, 4], progress=False)
    assert calls == [5, 3, 4]
    assert list(table.columns) == ["seed", "gap", "ctrl"]
    assert table["seed"].tolist() == [5, 3, 4] and table["gap"].tolist() == [0.5, 0.3, 0.4]


def test_run_worlds_refuses_differing_keys_and_repeated_seeds() -> None:
    def measure(seed: int) -> dict[str, float]:
        return {"gap": 1.0, "ctrl": 0.0} if seed != 7 else {"gap": 1.0, "extra": 2.0}

    with pytest.raises(ValueError, match=r"seed 7 returned other keys than seed 6's: extra \['extra'\], "
                                         r"missing \['ctrl'\]"):
        run_worlds(measure, [6, 7], progress=False)
    with pytest.raises(ValueError, match=r"repeated: \[6\]"):
        run_worlds(measure, [6, 8, 6], progress=False)
    with pytest.raises(ValueError, match="seeds is empty"):
        run_worlds(measure, [], progress=False)
    with pytest.raises(ValueError, match="returned a 'seed' key"):
        run_worlds(lambda s: {"seed": s}, [1], progress=False)
    with pytest.raises(ValueError, match="seed 1 returned list"):
        run_worlds(lambda s: [s], [1], progress=False)
    with pytest.raises(ValueError, match="results is empty"):
        world_table({})


def test_window_verdicts_on_a_toy_table() -> None:
    runs = window_verdicts(SPEC, TOY, 3, [0, 1, 2, 4])
    assert runs["base_seed"].tolist() == [0, 1, 2, 4]
    assert runs["claim_1"].tolist() == [True, True, False, False]
    assert runs["claim_2"].tolist() == [True, True, True, True]
    assert runs["claim_3"].tolist() == [False] * 4  # exploratory; does not enter all_asserted
    assert runs["all_asserted"].tolist() == [True, True, False, False]
    assert runs["est_1"].tolist() == pytest.approx([0.31, 0.3066667, 0.1, -0.3])
    assert runs["dse_1"].iloc[0] > 10 and runs["dse_1"].iloc[3] < -10
    want = ["base_seed", "claim_1", "claim_2", "claim_3", "all_asserted", "est_1", "est_2", "est_3",
            "dse_1", "dse_2", "dse_3"]
    assert list(runs.columns) == want
    # the same as evaluating the window's worlds directly
    direct = SPEC.verdicts(TOY[TOY.seed.isin([1, 2, 3])])
    assert direct["estimate"].tolist() == pytest.approx(runs.loc[1, ["est_1", "est_2", "est_3"]].tolist())


def test_window_verdicts_needs_every_world_of_a_window() -> None:
    with pytest.raises(ValueError, match=r"base seed 5 needs worlds 5-7, but the table lacks seed\(s\) \[7\]"):
        window_verdicts(SPEC, TOY, 3, [0, 5])
    with pytest.raises(ValueError, match="n_worlds must be an integer >= 2, got 1"):
        window_verdicts(SPEC, TOY, 1, [0])
    with pytest.raises(ValueError, match="base_seeds is empty"):
        window_verdicts(SPEC, TOY, 2, [])


def test_spread_over_worlds_compares_between_and_within():
    from uim_utils.worlds import spread_over_worlds

    table = pd.DataFrame({"seed": [0, 1, 2], "a": [0.1, 0.5, 0.9], "a_se": [0.02, 0.02, 0.02],
                          "b": [0.5, 0.5, 0.5], "b_se": [0.1, 0.1, 0.1], "c": [1.0, 2.0, 3.0]})
    out = spread_over_worlds(table)
    assert list(out.index) == ["a", "b"]  # c has no _se; sorted by ratio
    assert out.loc["a", "sd_between"] == pytest.approx(0.4)
    assert out.loc["a", "ratio"] == pytest.approx(20.0) and out.loc["b", "ratio"] == 0
    with pytest.raises(ValueError, match="need at least two worlds to measure a spread, got 1"):
        spread_over_worlds(table.head(1))
    with pytest.raises(ValueError, match="column 'c_se' is not in the table"):
        spread_over_worlds(table, ["c"])
    with pytest.raises(ValueError, match="no column of the table has an _se column"):
        spread_over_worlds(table[["seed", "c"]])


def test_spread_over_worlds_refuses_no_statistic_and_missing_values():
    from uim_utils.worlds import spread_over_worlds

    table = pd.DataFrame({"seed": [0, 1, 2], "gap": [0.1, float("nan"), 0.3], "gap_se": [0.01, 0.02, 0.01]})
    with pytest.raises(ValueError, match="at least one statistic"):
        spread_over_worlds(table, statistics=[])
    with pytest.raises(ValueError, match="'gap' has 1 missing or non-finite"):
        spread_over_worlds(table)
