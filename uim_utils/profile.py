"""Run profiles and seeds, read from the environment.

Every chapter reads its profile and seed from here so that a teacher can rerun it with
other seeds (``UIM_SEED=3``) or sizes (``UIM_PROFILE=lab``) without editing a cell.

Profiles
--------
``ci``
    The smallest sizes at which the chapter's claims still hold; what the tests run
    (about a minute a chapter on 2 CPU cores).
``lab``
    What the rendered book shows: the same offline lab, larger and with more seeds.
``wild``
    Real ``open_clip`` checkpoints and real datasets; needs internet (Colab, GPU).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

PROFILES: tuple[str, ...] = ("ci", "lab", "wild")
DEFAULT_PROFILE = "lab"
T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    """The active run profile.

    Attributes
    ----------
    name : str
        One of ``"ci"``, ``"lab"``, ``"wild"``.
    seed : int
        The base seed of the run; chapters derive all their other seeds from it.
    """

    name: str
    seed: int

    @property
    def is_ci(self) -> bool:
        """True in the test profile."""
        return self.name == "ci"

    @property
    def is_wild(self) -> bool:
        """True when real checkpoints and datasets are used (needs internet)."""
        return self.name == "wild"

    def pick(self, *, ci: T, lab: T, wild: T | None = None) -> T:
        """Return the value for the active profile.

        ``wild`` falls back to ``lab`` when not given, so a chapter only names the
        sizes that differ.

        Examples
        --------
        >>> Profile("ci", 0).pick(ci=2, lab=5)
        2
        """
        if self.name == "ci":
            return ci
        if self.name == "wild" and wild is not None:
            return wild
        return lab

    def seeds(self, n: int) -> list[int]:
        """``n`` consecutive seeds starting at the base seed (for across-seed spreads)."""
        if n < 1:
            raise ValueError(f"need at least one seed, got n={n!r}")
        return [self.seed + i for i in range(n)]


def get_profile(name: str | None = None, seed: int | str | None = None) -> Profile:
    """Read the profile from ``UIM_PROFILE`` and the seed from ``UIM_SEED``.

    Parameters
    ----------
    name, seed
        Explicit values override the environment.

    Raises
    ------
    ValueError
        If the profile is unknown or the seed is not a non-negative integer.
    """
    raw_name = (name if name is not None else os.environ.get("UIM_PROFILE", DEFAULT_PROFILE))
    prof = raw_name.strip().lower()
    if prof not in PROFILES:
        raise ValueError(
            f"unknown profile UIM_PROFILE={raw_name!r}; choose one of {', '.join(PROFILES)}"
        )
    raw_seed = seed if seed is not None else os.environ.get("UIM_SEED", "0")
    try:
        seed_int = int(raw_seed)
    except (TypeError, ValueError):
        raise ValueError(f"UIM_SEED must be a non-negative integer, got {raw_seed!r}") from None
    if seed_int < 0:
        raise ValueError(f"UIM_SEED must be a non-negative integer, got {raw_seed!r}")
    return Profile(prof, seed_int)


def cache_dir() -> Path:
    """Directory for cached checkpoints and embeddings.

    ``UIM_CACHE`` if set, else ``~/.cache/uim_utils``. Created on first use.
    """
    root = Path(os.environ.get("UIM_CACHE", Path.home() / ".cache" / "uim_utils")).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root
