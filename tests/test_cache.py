"""Unit tests of uim_utils/cache.py: keys, atomic writes, verified reads."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from uim_utils import cache
from uim_utils.cache import (
    CacheCorruptError,
    atomic_write_bytes,
    config_key,
    entry_paths,
    load_entry,
    remove_entry,
    save_entry,
)

ARRAYS = {
    "w": np.arange(12, dtype=np.float32).reshape(3, 4),
    "ids": np.array([3, 1, 2], dtype=np.int64),
    "mask": np.array([True, False]),
}


def assert_same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
        np.testing.assert_array_equal(a[k], b[k])


# ---------------------------------------------------------------- keys

def test_key_is_independent_of_dict_order() -> None:
    assert config_key({"a": 1, "b": [1, 2]}) == config_key({"b": [1, 2], "a": 1})


def test_key_is_stable_across_versions() -> None:
    """The key derivation must not change silently: that would orphan every cache."""
    expected = hashlib.sha256(b'{"a": 1, "b": [1, 2]}').hexdigest()[:16]
    assert config_key({"a": 1, "b": [1, 2]}) == expected
    assert len(expected) == 16


def test_key_changes_with_any_value() -> None:
    base = {"n": 100, "noise": 0.1, "name": "zipf"}
    keys = {config_key(base)}
    for change in ({"n": 101}, {"noise": 0.2}, {"name": "uniform"}, {"extra": None}):
        keys.add(config_key({**base, **change}))
    assert len(keys) == 5


def test_key_accepts_numpy_scalars_tuples_and_paths() -> None:
    assert config_key({"n": np.int64(3), "x": np.float32(0.5)}) == config_key({"n": 3, "x": 0.5})
    assert config_key({"shape": (2, 3)}) == config_key({"shape": [2, 3]})
    assert config_key({"p": Path("a/b")}) == config_key({"p": "a/b"})


def test_key_rejects_unserialisable_values_naming_them() -> None:
    with pytest.raises(ValueError, match="object"):
        config_key({"f": object()})
    with pytest.raises(ValueError, match="NaN"):
        config_key({"lr": float("nan")})


# ---------------------------------------------------------------- round trip

def test_round_trip(tmp_path: Path) -> None:
    save_entry("models", "k1", ARRAYS, meta={"epochs": 3, "loss": 0.25}, root=tmp_path)
    tensors, meta = load_entry("models", "k1", root=tmp_path)
    assert_same(tensors, ARRAYS)
    assert meta == {"epochs": 3, "loss": 0.25}


def test_round_trip_of_torch_tensors(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    t = torch.randn(4, 5, requires_grad=True)
    save_entry("emb", "k", {"t": t}, root=tmp_path)
    tensors, _ = load_entry("emb", "k", root=tmp_path)
    np.testing.assert_array_equal(tensors["t"], t.detach().numpy())


def test_missing_entry_is_none(tmp_path: Path) -> None:
    assert load_entry("models", "nope", root=tmp_path) is None


def test_default_root_is_uim_cache(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("UIM_CACHE", str(tmp_path / "c"))
    path = save_entry("ns", "key", {"x": np.ones(2)})
    assert path == tmp_path / "c" / "ns" / "key.safetensors"
    assert load_entry("ns", "key") is not None


def test_remove_entry_is_idempotent(tmp_path: Path) -> None:
    save_entry("ns", "k", ARRAYS, root=tmp_path)
    remove_entry("ns", "k", root=tmp_path)
    remove_entry("ns", "k", root=tmp_path)
    assert load_entry("ns", "k", root=tmp_path) is None
    assert not any(p.exists() for p in entry_paths("ns", "k", tmp_path))


# ---------------------------------------------------------------- corruption

@pytest.fixture()
def entry(tmp_path: Path) -> tuple[Path, Path]:
    save_entry("ns", "k", ARRAYS, root=tmp_path)
    return entry_paths("ns", "k", tmp_path)


def test_truncated_file_raises(entry, tmp_path: Path) -> None:
    tpath, _ = entry
    tpath.write_bytes(tpath.read_bytes()[:-7])
    with pytest.raises(CacheCorruptError, match="corrupt"):
        load_entry("ns", "k", root=tmp_path)


def test_flipped_byte_raises(entry, tmp_path: Path) -> None:
    tpath, _ = entry
    data = bytearray(tpath.read_bytes())
    data[-1] ^= 0xFF
    tpath.write_bytes(bytes(data))
    with pytest.raises(CacheCorruptError):
        load_entry("ns", "k", root=tmp_path)


def test_empty_file_raises(entry, tmp_path: Path) -> None:
    entry[0].write_bytes(b"")
    with pytest.raises(CacheCorruptError):
        load_entry("ns", "k", root=tmp_path)


def test_missing_sidecar_raises(entry, tmp_path: Path) -> None:
    entry[1].unlink()
    with pytest.raises(CacheCorruptError, match="sidecar"):
        load_entry("ns", "k", root=tmp_path)


def test_missing_tensor_file_raises(entry, tmp_path: Path) -> None:
    entry[0].unlink()
    with pytest.raises(CacheCorruptError):
        load_entry("ns", "k", root=tmp_path)


def test_unreadable_sidecar_raises(entry, tmp_path: Path) -> None:
    entry[1].write_text("{not json")
    with pytest.raises(CacheCorruptError):
        load_entry("ns", "k", root=tmp_path)


def test_sidecar_of_another_key_raises(entry, tmp_path: Path) -> None:
    sidecar = json.loads(entry[1].read_text())
    sidecar["key"] = "other"
    entry[1].write_text(json.dumps(sidecar))
    with pytest.raises(CacheCorruptError, match="other"):
        load_entry("ns", "k", root=tmp_path)


def test_rewrite_after_corruption_recovers(entry, tmp_path: Path) -> None:
    entry[0].write_bytes(b"garbage")
    with pytest.raises(CacheCorruptError):
        load_entry("ns", "k", root=tmp_path)
    save_entry("ns", "k", ARRAYS, root=tmp_path)
    assert_same(load_entry("ns", "k", root=tmp_path)[0], ARRAYS)


# ---------------------------------------------------------------- atomic writes

def test_atomic_write_creates_parents_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.bin"
    atomic_write_bytes(target, b"payload")
    assert target.read_bytes() == b"payload"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


def test_failed_write_keeps_the_old_file_and_cleans_up(monkeypatch, tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    atomic_write_bytes(target, b"old")

    def broken_replace(src, dst):  # the rename never happens, e.g. disk full
        raise OSError("simulated failure")

    monkeypatch.setattr(cache.os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_interrupted_write_never_exposes_a_partial_file(monkeypatch, tmp_path: Path) -> None:
    target = tmp_path / "file.bin"
    real_fsync = os.fsync

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"x" * 10_000)
    monkeypatch.setattr(cache.os, "fsync", real_fsync)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_missing_keys_lists_each_absent_key_once(tmp_path):
    from uim_utils.cache import missing_keys

    save_entry("ns", "have", {"w": np.zeros(2)}, root=tmp_path)
    assert missing_keys("ns", ["a", "have", "b", "a", "b", "c"], root=tmp_path) == [0, 2, 5]
    assert missing_keys("ns", [], root=tmp_path) == []


def test_entry_lock_makes_a_second_process_wait(tmp_path: Path) -> None:
    import multiprocessing
    import time

    ctx = multiprocessing.get_context("fork")
    held = ctx.Event()

    def hold() -> None:
        with cache.entry_lock("ns", "k", root=tmp_path):
            held.set()
            time.sleep(0.6)

    child = ctx.Process(target=hold)
    child.start()
    assert held.wait(10)
    start = time.monotonic()
    with cache.entry_lock("ns", "k", root=tmp_path):
        waited = time.monotonic() - start
    child.join(10)
    assert waited > 0.3  # it waited for the holder to let go
    with cache.entry_lock("ns", "other", root=tmp_path):  # another key is not blocked
        pass


# ---------------------------------------------------------------- load_or_rebuild

class Builder:
    """A ``build`` that stores ARRAYS under ns/k and counts its calls."""

    def __init__(self, root: Path) -> None:
        self.root, self.calls = root, 0

    def __call__(self) -> str:
        self.calls += 1
        save_entry("ns", "k", ARRAYS, meta={"built": self.calls}, root=self.root)
        return "built"


def test_load_or_rebuild_loads_a_good_entry(tmp_path: Path) -> None:
    save_entry("ns", "k", ARRAYS, meta={"m": 1}, root=tmp_path)
    build = Builder(tmp_path)
    seen = []

    def load(tensors, meta):
        seen.append((tensors, meta))
        return "loaded"

    assert cache.load_or_rebuild("ns", "k", load, build, root=tmp_path) == "loaded"
    assert build.calls == 0
    assert_same(seen[0][0], ARRAYS) and seen[0][1] == {"m": 1}


@pytest.mark.parametrize("lock", [False, True])
def test_load_or_rebuild_builds_a_missing_entry_and_returns_its_result(tmp_path: Path, lock: bool) -> None:
    build = Builder(tmp_path)
    assert cache.load_or_rebuild("ns", "k", lambda t, m: "loaded", build, root=tmp_path, lock=lock) == "built"
    assert build.calls == 1
    assert cache.load_or_rebuild("ns", "k", lambda t, m: "loaded", build, root=tmp_path, lock=lock) == "loaded"
    assert build.calls == 1


def test_load_or_rebuild_removes_a_corrupt_entry_and_rebuilds_it(entry, tmp_path: Path) -> None:
    entry[0].write_bytes(entry[0].read_bytes()[:-7])
    errors: list[CacheCorruptError] = []

    def build() -> str:
        assert not any(p.exists() for p in entry)  # removed before the rebuild
        return Builder(tmp_path)()

    out = cache.load_or_rebuild("ns", "k", lambda t, m: "loaded", build, root=tmp_path, on_corrupt=errors.append)
    assert out == "built" and len(errors) == 1 and "corrupt" in str(errors[0])
    assert_same(load_entry("ns", "k", root=tmp_path)[0], ARRAYS)


def test_load_or_rebuild_treats_a_load_error_as_corruption(entry, tmp_path: Path) -> None:
    def load(tensors, meta):
        raise CacheCorruptError("does not fit")

    removed = []
    out = cache.load_or_rebuild("ns", "k", load, lambda: removed.append(entry[0].exists()) or "built", root=tmp_path)
    assert out == "built" and removed == [False]


def test_load_or_rebuild_keeps_a_rejected_entry_for_build_to_overwrite(entry, tmp_path: Path) -> None:
    kept = []
    out = cache.load_or_rebuild("ns", "k", lambda t, m: None, lambda: kept.append(entry[0].exists()) or "built",
                                root=tmp_path)
    assert out == "built" and kept == [True]


def test_load_or_rebuild_lets_other_load_errors_through(entry, tmp_path: Path) -> None:
    def load(tensors, meta):
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        cache.load_or_rebuild("ns", "k", load, Builder(tmp_path), root=tmp_path)
    assert all(p.exists() for p in entry)  # not corrupt: left alone


@pytest.mark.parametrize(("namespace", "key", "bad"), [("", "k", "''"), ("ns", "", "''"), ("ns", "../x", "'../x'"),
                                                       ("a/b", "k", "'a/b'"), ("ns", "..", "'..'"), ("ns", 3, "3")])
def test_load_or_rebuild_rejects_bad_names_naming_them(tmp_path: Path, namespace, key, bad) -> None:
    with pytest.raises(ValueError, match=f"got {re.escape(bad)}$"):
        cache.load_or_rebuild(namespace, key, lambda t, m: 1, lambda: 2, root=tmp_path)
    with pytest.raises(ValueError, match=f"got {re.escape(bad)}$"):  # every entry function checks
        cache.save_entry(namespace, key, {"x": np.ones(2)}, root=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("which", ["load", "build", "on_corrupt"])
def test_load_or_rebuild_rejects_functions_that_are_not_callable(tmp_path: Path, which: str) -> None:
    args = {"load": lambda t, m: 1, "build": lambda: 2, "on_corrupt": None, which: "oops"}
    with pytest.raises(TypeError, match=f"{which} must be callable, got str 'oops'"):
        cache.load_or_rebuild("ns", "k", args["load"], args["build"], root=tmp_path, on_corrupt=args["on_corrupt"])
