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


def finite_float(name: str, value: object) -> float:
    """``value`` as a float; ``ValueError`` naming it unless it is a finite number (not a bool)."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    if isinstance(value, bool) or not np.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return v


def check_nonnegative(name: str, value: object) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number (not a bool) ``>= 0``."""
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not np.isfinite(value) or value < 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def check_labelled_images(images: object, labels: object, min_images: int = 1) -> tuple[np.ndarray, int]:
    """Labels as int64 and the number of classes they imply (``max + 1``), after checking
    that ``images`` is a uint8 array ``(N, H, W, 3)`` with one integer label >= 0 per image
    and at least ``min_images`` images (a training set of one batch, say)."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be uint8 of shape (N, H, W, 3), got "
                         f"{getattr(images, 'dtype', type(images))} {getattr(images, 'shape', '')}")
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != len(images):
        raise ValueError(f"labels must be 1-D with one label per image ({len(images)}), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ValueError(f"labels must be integers >= 0, got dtype {y.dtype}, min {y.min()!r}")
    if len(y) < min_images:
        raise ValueError(f"{len(y)} training images are fewer than batch_size={min_images}")
    return y.astype(np.int64), int(y.max()) + 1

