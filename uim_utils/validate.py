"""Argument checks shared by the lab: each raises a ValueError that names the bad value."""

from __future__ import annotations

import numpy as np


def check_int(name: str, value: object, lo: int, hi: int | None = None) -> None:
    """Raise ``ValueError`` unless ``value`` is an integer (not a bool) in ``[lo, hi]``.

    ``hi=None`` means no upper bound.
    """
    ok = not isinstance(value, bool) and isinstance(value, (int, np.integer))
    if not ok or value < lo or (hi is not None and value > hi):  # type: ignore[operator]
        bounds = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be an integer {bounds}, got {value!r}")


def check_float(name: str, value: object, lo: float, hi: float) -> None:
    """Raise ``ValueError`` unless ``value`` is a number (not a bool) in ``[lo, hi]``."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {value!r}") from None
    if isinstance(value, bool) or not lo <= v <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value!r}")


def check_nonnegative(name: str, value: object) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number (not a bool) ``>= 0``."""
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not np.isfinite(value) or value < 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")

