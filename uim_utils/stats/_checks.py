"""Input checks and small helpers shared by the statistics modules (private).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..validate import check_int

_R_CLIP = 0.999999


_DIRECTIONS = ("greater", "less")


def _check_confidence(confidence: object) -> float:
    try:
        c = float(confidence)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"confidence must be a number in (0, 1), got {confidence!r}") from None
    if isinstance(confidence, bool) or not 0 < c < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return c


def _check_margin(margin: object) -> float:
    try:
        m = float(margin)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"margin must be a number > 0, got {margin!r}") from None
    if isinstance(margin, bool) or not (m > 0 and math.isfinite(m)):
        raise ValueError(f"margin must be > 0, got {margin!r}")
    return m


def _check_direction(direction: object) -> str:
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
    return str(direction)


def _check_boot(n_boot: object, seed: object) -> None:
    check_int("n_boot", n_boot, 100)
    check_int("seed", seed, 0)


def _check_statistic(statistic: object) -> None:
    if not callable(statistic):
        raise ValueError(f"statistic must be callable, got {statistic!r}")


def _as_values(values: Any, name: str, min_n: int = 1) -> np.ndarray:
    """A finite 1-D float array with at least ``min_n`` entries, or a ValueError."""
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got {values!r}") from None
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {v.shape}")
    if v.size == 0:
        raise ValueError(f"{name} is empty")
    bad = int((~np.isfinite(v)).sum())
    if bad:
        raise ValueError(f"{name} contains {bad} non-finite value(s) (NaN or inf)")
    if v.size < min_n:
        raise ValueError(f"{name} needs at least {min_n} values, got {v.size}")
    return v


def _as_labels(labels: Any, name: str, values: np.ndarray, min_distinct: int = 2) -> tuple[np.ndarray, int]:
    """Integer codes ``0..k-1`` of the labels of ``values`` and the number ``k`` of labels."""
    lab = np.asarray(labels, dtype=object) if not isinstance(labels, np.ndarray) else labels
    if lab.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {lab.shape}")
    if lab.size != values.size:
        raise ValueError(f"{name} has {lab.size} entries but values has {values.size}")
    codes, uniques = pd.factorize(lab)
    if (codes < 0).any():
        raise ValueError(f"{name} contains {int((codes < 0).sum())} missing label(s) (None or NaN)")
    k = len(uniques)
    if k < min_distinct:
        raise ValueError(f"{name} needs at least {min_distinct} distinct labels, got {k}")
    return codes.astype(np.intp), k


def _check_same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.size != b.size:
        raise ValueError(f"{name_a} has {a.size} values but {name_b} has {b.size}")


def _multiplicities(rng: np.random.Generator, n_units: int, n_boot: int) -> np.ndarray:
    """``(n_boot, n_units)`` counts: how often each unit is drawn in each resample."""
    draws = rng.integers(0, n_units, size=(n_boot, n_units))
    flat = (draws + n_units * np.arange(n_boot)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n_units).reshape(n_boot, n_units).astype(np.float64)
