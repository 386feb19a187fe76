"""Worlds: measure a chapter once per base seed, and see what each notebook run sees.

A **world** is everything one base seed draws (concepts, corpus, initialisation). A
chapter's measurement function maps a seed to one row of statistics
(``measure(seed) -> {"gap": 0.31, ...}``); :func:`run_worlds` calls it for many seeds
and returns the per-world table that :meth:`uim_utils.claims.ClaimSet.verdicts` reads.

A notebook run with base seed ``s`` uses the worlds ``s, s+1, ..., s+n_worlds-1``
(:func:`world_seeds`); :func:`window_verdicts` replays, from one table of worlds, the
verdicts that the runs with many base seeds would show.

This module does not import torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .claims import HOLDS, ClaimSet
from .validate import check_int


def world_seeds(base_seed: int, n_worlds: int) -> list[int]:
    """The worlds of a notebook run: ``base_seed, ..., base_seed + n_worlds - 1``.

    Raises
    ------
    ValueError
        If ``base_seed`` is not an integer >= 0 or ``n_worlds`` not an integer >= 1.

    Examples
    --------
    >>> world_seeds(1000, 3)
    [1000, 1001, 1002]
    """
    check_int("base_seed", base_seed, 0)
    check_int("n_worlds", n_worlds, 1)
    return [int(base_seed) + i for i in range(int(n_worlds))]


def window_seeds(base_seeds: Sequence[int], n_worlds: int) -> list[int]:
    """Every world that the notebook runs with these base seeds use, sorted, each once.

    Examples
    --------
    >>> window_seeds([0, 2], 3)
    [0, 1, 2, 3, 4]
    """
    return sorted({s for b in base_seeds for s in world_seeds(b, n_worlds)})


def _check_unique_seeds(seeds: Sequence[int]) -> list[int]:
    out = []
    for s in seeds:
        check_int("seed", s, 0)
        out.append(int(s))
    dups = sorted({s for s in out if out.count(s) > 1})
    if dups:
        raise ValueError(f"seeds must be unique; repeated: {dups}")
    return out


def world_table(results: Mapping[int, Mapping[str, float]]) -> pd.DataFrame:
    """A per-world table from ``{seed: statistics}``: ``seed`` first, one row per world.

    Raises
    ------
    ValueError
        If there are no worlds, a result is not a mapping or has a ``seed`` key, or two
        worlds return different keys (the message names the seed and the keys that
        differ from the first world's).
    """
    if not results:
        raise ValueError("no worlds: results is empty")
    seeds = _check_unique_seeds(list(results))
    first_seed = seeds[0]
    keys: list[str] | None = None
    rows = []
    for seed in seeds:
        stats = results[seed]
        if not isinstance(stats, Mapping):
            raise ValueError(f"the measurement of seed {seed} returned {type(stats).__name__}, "
                             "not a mapping of statistic name -> value")
        if "seed" in stats:
            raise ValueError(f"the measurement of seed {seed} returned a 'seed' key; "
                             "the seed column is added by run_worlds")
        if keys is None:
            keys = list(stats)
        elif set(stats) != set(keys):
            extra = sorted(set(stats) - set(keys))
            lacking = sorted(set(keys) - set(stats))
            raise ValueError(f"the measurement of seed {seed} returned other keys than seed {first_seed}'s: "
                             f"extra {extra}, missing {lacking}")
        rows.append({"seed": seed, **{k: stats[k] for k in keys}})
    return pd.DataFrame(rows, columns=["seed", *(keys or [])])


def run_worlds(
    measure: Callable[[int], Mapping[str, float]],
    seeds: Sequence[int],
    progress: bool = True,
    desc: str = "worlds",
) -> pd.DataFrame:
    """Measure every world: ``measure(seed)`` for each seed, one row per world.

    Parameters
    ----------
    measure : callable
        ``measure(seed) -> {statistic: value}``: the statistics of one world. Every world
        must return the same keys.
    seeds : sequence of int
        The worlds, unique, e.g. :func:`world_seeds` ``(P.seed, N_WORLDS)``.
    progress : bool
        Show a tqdm progress bar.
    desc : str
        The bar's label.

    Returns
    -------
    DataFrame
        A ``seed`` column first, then one column per statistic, in the order of ``seeds``.

    Raises
    ------
    ValueError
        If ``seeds`` is empty or repeats a seed, or worlds return different keys (see
        :func:`world_table`).
    """
    seeds = _check_unique_seeds(list(seeds))
    if not seeds:
        raise ValueError("no worlds: seeds is empty")
    results = {s: measure(s) for s in tqdm(seeds, desc=desc, disable=not progress)}
    return world_table(results)


def window_verdicts(
    spec: ClaimSet,
    table: pd.DataFrame,
    n_worlds: int,
    base_seeds: Sequence[int],
    confidence: float = 0.95,
) -> pd.DataFrame:
    """What a notebook run with each base seed sees: the claims over its window of worlds.

    The run with base seed ``s`` evaluates the claims on the worlds ``s, ...,
    s + n_worlds - 1``, all of which must be rows of ``table``.

    Parameters
    ----------
    spec : ClaimSet
        The chapter's claims.
    table : DataFrame
        Per-world statistics (a ``seed`` column and the claims' statistics).
    n_worlds : int
        Worlds per notebook run (at least ``spec.min_worlds``).
    base_seeds : sequence of int
        The runs to replay.
    confidence : float
        Level of the claims' intervals.

    Returns
    -------
    DataFrame
        One row per base seed: ``base_seed``; ``claim_<id>`` (bool, the claim holds) for
        every claim; ``all_asserted`` (every asserted claim holds in that run); and per
        claim ``est_<id>`` (the estimate) and ``dse_<id>`` (its distance in SEs).

    Raises
    ------
    ValueError
        If ``n_worlds`` < ``spec.min_worlds``, ``base_seeds`` is empty or repeats a seed, or a window's world
        is not in ``table`` (the message names the base seed and the missing seeds).
    """
    check_int("n_worlds", n_worlds, spec.min_worlds)
    base = _check_unique_seeds(list(base_seeds))
    if not base:
        raise ValueError("no notebook runs: base_seeds is empty")
    table = spec.validate_table(table)
    by_seed = table.set_index("seed", drop=False)
    asserted_ids = [c.id for c in spec.asserted()]
    out = pd.DataFrame([_run_row(spec, by_seed, b, n_worlds, asserted_ids, confidence) for b in base])
    out.attrs = {"chapter": spec.chapter, "n_worlds": int(n_worlds)}
    return out


def _run_row(spec: ClaimSet, by_seed: pd.DataFrame, base_seed: int, n_worlds: int, asserted_ids: Sequence[str],
             confidence: float) -> dict[str, object]:
    """One row of :func:`window_verdicts`: the run with ``base_seed`` on its window of the
    per-world table ``by_seed`` (indexed by seed)."""
    window = world_seeds(base_seed, n_worlds)
    missing = [s for s in window if s not in by_seed.index]
    if missing:
        raise ValueError(f"{spec.chapter}: the run with base seed {base_seed} needs worlds {window[0]}-{window[-1]}, "
                         f"but the table lacks seed(s) {missing}")
    v = spec.verdicts(by_seed.loc[window].reset_index(drop=True), confidence).set_index("id")
    holds = {cid: bool(v.loc[cid, "verdict"] == HOLDS) for cid in v.index}
    row: dict[str, object] = {"base_seed": base_seed}
    row |= {f"claim_{cid}": holds[cid] for cid in v.index}
    row["all_asserted"] = all(holds[cid] for cid in asserted_ids)
    row |= {f"est_{cid}": float(v.loc[cid, "estimate"]) for cid in v.index}
    row |= {f"dse_{cid}": float(v.loc[cid, "distance_se"]) for cid in v.index}
    return row


def full_windows(seeds: Sequence[int], n_worlds: int, base_seeds: Sequence[int] | None = None) -> list[int]:
    """The base seeds (default: every seed) whose whole window of worlds is in ``seeds``."""
    have = {int(s) for s in seeds}
    cands = sorted(have) if base_seeds is None else [int(b) for b in base_seeds]
    return [b for b in cands if all(s in have for s in world_seeds(b, n_worlds))]


__all__ = ["full_windows", "run_worlds", "spread_over_worlds", "window_seeds", "window_verdicts", "world_seeds",
           "world_table"]


def spread_over_worlds(table: pd.DataFrame, statistics: Sequence[str] | None = None) -> pd.DataFrame:
    """How much each statistic moves between worlds, against its error within one world.

    A per-world table (one row per world) holds, for some statistics ``x``, a column
    ``x_se``: the standard error of ``x`` within its world (e.g. over concepts). The
    spread between worlds is the standard deviation of ``x`` over the rows; when it is
    much larger than the typical within-world SE, an interval from one world understates
    how much a new world can differ.

    Parameters
    ----------
    table : DataFrame
        One row per world (``seed`` column optional).
    statistics : sequence of str, optional
        Which statistics; default every ``x`` that has an ``x_se`` column.

    Returns
    -------
    DataFrame
        Indexed by statistic, columns ``mean`` (over worlds), ``sd_between`` (over worlds,
        ``ddof=1``), ``se_within`` (mean of ``x_se``) and ``ratio``
        (``sd_between / se_within``), sorted by ``ratio``, largest first.

    Raises
    ------
    ValueError
        If the table has fewer than two rows, ``statistics`` is empty, a statistic or its
        ``_se`` column is missing or holds a missing or non-finite value, or no statistic
        has an ``_se`` column.
    """
    if len(table) < 2:
        raise ValueError(f"need at least two worlds to measure a spread, got {len(table)}")
    if statistics is None:
        statistics = [c for c in table.columns if f"{c}_se" in table.columns]
        if not statistics:
            raise ValueError(f"no column of the table has an _se column: {list(table.columns)!r}")
    if not statistics:
        raise ValueError("statistics must name at least one statistic, got an empty list")
    for name in statistics:
        for col in (name, f"{name}_se"):
            if col not in table.columns:
                raise ValueError(f"column {col!r} is not in the table; it has {list(table.columns)!r}")
            bad = ~np.isfinite(pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float))
            if bad.any():
                raise ValueError(f"column {col!r} has {int(bad.sum())} missing or non-finite value(s) "
                                 f"(rows {list(np.flatnonzero(bad)[:5])})")
    out = pd.DataFrame({
        "mean": [table[s].mean() for s in statistics],
        "sd_between": [table[s].std(ddof=1) for s in statistics],
        "se_within": [table[f"{s}_se"].mean() for s in statistics],
    }, index=pd.Index(list(statistics), name="statistic"))
    out["ratio"] = out["sd_between"] / out["se_within"]
    return out.sort_values("ratio", ascending=False)
