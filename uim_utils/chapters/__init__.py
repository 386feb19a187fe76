"""The registry of chapters whose claims are measured over worlds.

Each registered chapter has a module (e.g. ``uim_utils.chapters.lab``) that defines one
name, ``CHAPTER``: a :class:`Chapter` with the chapter's claims (a
:class:`~uim_utils.claims.ClaimSet`), its measurement function
(``measure(seed, profile_name) -> {statistic: value}``, the statistics of one world)
and the number of worlds a notebook run uses in each profile. The notebook, the sweep
(``scripts/sweep.py CHAPTER``) and the appendix page all read the claims from there, so
a chapter states them once.

To register a chapter, add ``"<notebook stem>": "<module path>"`` to :data:`REGISTRY`,
e.g. ``"00_the_lab": "uim_utils.chapters.lab"``.

A chapter module must import without torch (import torch and the lab inside
``measure``): the appendix page reads every chapter's claims and records, and must stay
fast and torch-free.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..claims import ClaimSet
from ..profile import PROFILES
from ..validate import check_int

REGISTRY: dict[str, str] = {
    "00_chapter_template": "uim_utils.chapters.template",
    "00_the_lab": "uim_utils.chapters.lab",
    "01_long_tail": "uim_utils.chapters.longtail",
    "02_noisy_captions": "uim_utils.chapters.noisy",
    "03_social_bias": "uim_utils.chapters.bias",
    "04_backdoor_poisoning": "uim_utils.chapters.backdoor",
    "05_lost_robustness": "uim_utils.chapters.robustness",
    "06_duplication_privacy": "uim_utils.chapters.duplication",
    "07_value_misalignment": "uim_utils.chapters.misalignment",
}
"""Chapter notebook stem -> module path of its :data:`CHAPTER` (imported lazily by
:func:`get_chapter`), e.g. ``{"00_the_lab": "uim_utils.chapters.lab"}``."""


@dataclass(frozen=True)
class Chapter:
    """A chapter's claims, its measurement of one world, and its worlds per run.

    Attributes
    ----------
    spec : ClaimSet
        The chapter's claims.
    measure : callable
        ``measure(seed, profile_name) -> {statistic: value}``: one world's statistics,
        with the sizes of the profile (``"ci"``, ``"lab"``, ``"wild"``). Must return every
        statistic the claims read.
    n_worlds : mapping
        Worlds per notebook run, per profile, e.g. ``{"ci": 5, "lab": 20}``: each at
        least ``spec.min_worlds`` (2 if a claim is asserted over worlds; 1 if every
        asserted claim is decided in each world on its own).

    Raises
    ------
    ValueError
        If ``spec`` is not a ClaimSet, ``measure`` is not callable, or ``n_worlds`` names
        an unknown profile or a count below ``spec.min_worlds``.
    """

    spec: ClaimSet
    measure: Callable[[int, str], Mapping[str, float]]
    n_worlds: Mapping[str, int]

    def __post_init__(self) -> None:
        if not isinstance(self.spec, ClaimSet):
            raise ValueError(f"Chapter.spec must be a ClaimSet, got {type(self.spec).__name__}")
        if not callable(self.measure):
            raise ValueError(f"{self.spec.chapter}: measure must be callable, got {self.measure!r}")
        if not isinstance(self.n_worlds, Mapping) or not self.n_worlds:
            raise ValueError(f"{self.spec.chapter}: n_worlds must map profiles to worlds per run, "
                             f"got {self.n_worlds!r}")
        for profile, n in self.n_worlds.items():
            if profile not in PROFILES:
                raise ValueError(f"{self.spec.chapter}: n_worlds names unknown profile {profile!r}; "
                                 f"choose from {', '.join(PROFILES)}")
            check_int(f"{self.spec.chapter}: n_worlds[{profile!r}]", n, self.spec.min_worlds)
        object.__setattr__(self, "n_worlds", {str(k): int(v) for k, v in self.n_worlds.items()})

    def worlds(self, profile: str) -> int:
        """Worlds per notebook run in ``profile`` (``wild`` falls back to ``lab``, as ``Profile.pick``)."""
        if profile == "wild" and "wild" not in self.n_worlds and "lab" in self.n_worlds:
            return int(self.n_worlds["lab"])
        if profile not in self.n_worlds:
            raise ValueError(f"{self.spec.chapter} has no worlds per run for profile {profile!r}; "
                             f"it defines {sorted(self.n_worlds)}")
        return int(self.n_worlds[profile])


def check_profile(profile: str, sizes: Mapping[str, object]) -> str:
    """``profile`` if a chapter's per-profile ``sizes`` (e.g. its ``N_TEST``) name it, else a
    ValueError listing the profiles they do name."""
    if profile not in sizes:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(sizes)}")
    return profile


def module_of(name: str) -> str:
    """The module path of a registered chapter (ValueError listing the known ones)."""
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY)) or "none yet"
        raise ValueError(f"unknown chapter {name!r}; registered chapters: {known}")
    return REGISTRY[name]


def load_chapter_module(module: str) -> Chapter:
    """``CHAPTER`` of a module given by its path (e.g. ``"uim_utils.chapters.lab"``)."""
    mod = importlib.import_module(module)
    chapter = getattr(mod, "CHAPTER", None)
    if not isinstance(chapter, Chapter):
        raise ValueError(f"module {module!r} must define CHAPTER = Chapter(...), got {chapter!r}")
    return chapter


def get_chapter(name: str) -> Chapter:
    """The registered chapter ``name`` (a notebook stem), importing its module lazily.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`REGISTRY` (the message lists the registered ones), its
        module has no ``CHAPTER``, or ``CHAPTER.spec.chapter`` is another chapter.
    """
    module = module_of(name)
    chapter = load_chapter_module(module)
    if chapter.spec.chapter != name:
        raise ValueError(f"module {module!r} is registered as {name!r} but its claims are of "
                         f"{chapter.spec.chapter!r}")
    return chapter


def measure_in_worker(module: str, seed: int, profile: str) -> dict[str, float]:
    """``CHAPTER.measure(seed, profile)`` of the chapter module ``module`` (for process pools).

    Takes the module path rather than the chapter name, so that a worker process needs no
    registry entry made at run time in the parent.
    """
    return dict(load_chapter_module(module).measure(seed, profile))


__all__ = ["REGISTRY", "Chapter", "check_profile", "get_chapter", "load_chapter_module", "measure_in_worker",
           "module_of"]
