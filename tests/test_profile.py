"""Unit tests of uim_utils/profile.py: profiles, seeds and the cache folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import uim_utils
from uim_utils.profile import PROFILES, Profile, cache_dir, get_profile


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without the variables that make test runs differ."""
    for name in ("UIM_PROFILE", "UIM_SEED", "UIM_CACHE"):
        monkeypatch.delenv(name, raising=False)


def test_default_is_lab_with_seed_zero() -> None:
    assert get_profile() == Profile("lab", 0)


def test_package_exports_get_profile_and_version() -> None:
    assert uim_utils.get_profile is get_profile
    assert isinstance(uim_utils.__version__, str) and uim_utils.__version__


@pytest.mark.parametrize("raw, expected", [("ci", "ci"), ("LAB", "lab"), (" wild ", "wild")])
def test_profile_read_from_environment(monkeypatch, raw: str, expected: str) -> None:
    monkeypatch.setenv("UIM_PROFILE", raw)
    assert get_profile().name == expected


def test_explicit_arguments_override_environment(monkeypatch) -> None:
    monkeypatch.setenv("UIM_PROFILE", "wild")
    monkeypatch.setenv("UIM_SEED", "9")
    assert get_profile("ci", 3) == Profile("ci", 3)


@pytest.mark.parametrize("bad", ["gpu", "", "c i", "labs"])
def test_unknown_profile_raises_naming_the_value(monkeypatch, bad: str) -> None:
    monkeypatch.setenv("UIM_PROFILE", bad)
    with pytest.raises(ValueError) as info:
        get_profile()
    assert repr(bad) in str(info.value)
    assert all(p in str(info.value) for p in PROFILES)


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "", "seven"])
def test_bad_seed_raises_naming_the_value(monkeypatch, bad: str) -> None:
    monkeypatch.setenv("UIM_SEED", bad)
    with pytest.raises(ValueError) as info:
        get_profile()
    assert repr(bad) in str(info.value)


def test_bad_explicit_seed_raises() -> None:
    with pytest.raises(ValueError, match="-4"):
        get_profile("ci", -4)


def test_seed_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("UIM_SEED", "42")
    assert get_profile().seed == 42


def test_pick_per_profile_and_wild_falls_back_to_lab() -> None:
    assert Profile("ci", 0).pick(ci=1, lab=2, wild=3) == 1
    assert Profile("lab", 0).pick(ci=1, lab=2, wild=3) == 2
    assert Profile("wild", 0).pick(ci=1, lab=2, wild=3) == 3
    assert Profile("wild", 0).pick(ci=1, lab=2) == 2


def test_flags() -> None:
    assert Profile("ci", 0).is_ci and not Profile("lab", 0).is_ci
    assert Profile("wild", 0).is_wild and not Profile("lab", 0).is_wild


def test_seeds_are_consecutive_from_the_base_seed() -> None:
    assert Profile("ci", 5).seeds(3) == [5, 6, 7]
    with pytest.raises(ValueError, match="n=0"):
        Profile("ci", 5).seeds(0)


def test_profile_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Profile("ci", 0).name = "lab"  # type: ignore[misc]


def test_cache_dir_honours_uim_cache_and_creates_it(monkeypatch, tmp_path: Path) -> None:
    target = tmp_path / "deep" / "cache"
    monkeypatch.setenv("UIM_CACHE", str(target))
    assert cache_dir() == target and target.is_dir()


def test_cache_dir_default_is_under_home(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "uim_utils"

