"""Atomic, verified on-disk caches for checkpoints and arrays.

A cache entry is a safetensors file plus a JSON sidecar holding the entry's key, its
metadata and the SHA-256 of the tensor file. Both are written to a temporary file in the
same folder and moved into place with :func:`os.replace`, so a reader never sees half a
file. On read the hash is checked; a corrupt, truncated or mismatched entry raises
:class:`CacheCorruptError`, which callers treat as a miss and rebuild
(:func:`load_or_rebuild` does that in one place).

safetensors (not pickle) is used so that loading a cached or downloaded file can never
execute code.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .profile import cache_dir

T = TypeVar("T")


class CacheCorruptError(RuntimeError):
    """A cache entry exists but fails its integrity check."""


def config_key(config: Mapping[str, Any]) -> str:
    """A stable 16-hex-digit key for a JSON-serialisable configuration.

    Key order does not matter; any change of a value changes the key.

    Raises
    ------
    ValueError
        If a value cannot be serialised (the message names it), or a float is NaN/inf.
    """
    try:
        blob = json.dumps(config, sort_keys=True, default=_json_default, allow_nan=False).encode()
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    except ValueError as exc:
        raise ValueError(f"cannot put a NaN or infinite float into a cache key: {exc}") from None
    return hashlib.sha256(blob).hexdigest()[:16]


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.ndarray, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot put {type(obj).__name__} value {obj!r} into a cache key")


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def entry_paths(namespace: str, key: str, root: Path | None = None) -> tuple[Path, Path]:
    """The (tensor file, sidecar) paths of a cache entry.

    Raises
    ------
    ValueError
        If ``namespace`` or ``key`` is empty or names a path (every entry function
        finds its files here, so none can write outside its namespace).
    """
    for what, name in (("namespace", namespace), ("key", key)):
        if not isinstance(name, str) or not name or name in (".", "..") or any(
            sep in name for sep in ("/", os.sep, os.altsep or "/")
        ):
            raise ValueError(f"cache {what} must be a non-empty name without path separators, got {name!r}")
    base = (root or cache_dir()) / namespace
    return base / f"{key}.safetensors", base / f"{key}.json"


def save_entry(
    namespace: str,
    key: str,
    tensors: Mapping[str, Any],
    meta: Mapping[str, Any] | None = None,
    root: Path | None = None,
) -> Path:
    """Store a dict of tensors (torch or numpy) atomically under ``namespace/key``.

    Returns the path of the tensor file.
    """
    from safetensors.numpy import save as np_save

    arrays = {k: _to_numpy(v) for k, v in tensors.items()}
    data = np_save(arrays)
    tpath, jpath = entry_paths(namespace, key, root)
    atomic_write_bytes(tpath, data)
    sidecar = {"key": key, "sha256": hashlib.sha256(data).hexdigest(), "meta": dict(meta or {})}
    atomic_write_bytes(jpath, json.dumps(sidecar, indent=1, default=_json_default).encode())
    return tpath


def load_entry(
    namespace: str, key: str, root: Path | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """Load a verified cache entry, or ``None`` if it does not exist.

    Raises
    ------
    CacheCorruptError
        If the entry exists but its sidecar is unreadable, names another key, or the
        tensor file's hash does not match (truncated or edited file).
    """
    from safetensors.numpy import load as np_load

    tpath, jpath = entry_paths(namespace, key, root)
    if not tpath.exists() and not jpath.exists():
        return None
    try:
        sidecar = json.loads(jpath.read_text())
        expected = sidecar["sha256"]
        if sidecar.get("key") != key:
            raise CacheCorruptError(f"cache sidecar {jpath} names key {sidecar.get('key')!r}, not {key!r}")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CacheCorruptError(f"cache sidecar {jpath} is missing or unreadable ({exc})") from None
    try:
        data = tpath.read_bytes()
    except OSError as exc:
        raise CacheCorruptError(f"cache file {tpath} is missing or unreadable ({exc})") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise CacheCorruptError(
            f"cache file {tpath} is corrupt: SHA-256 {actual[:12]}... does not match the "
            f"recorded {expected[:12]}..."
        )
    return np_load(data), sidecar.get("meta", {})


def missing_keys(namespace: str, keys: Sequence[str], root: Path | None = None) -> list[int]:
    """Positions of the keys with no cache entry under ``namespace``, each distinct key once.

    For callers that compute what is missing before computing it (e.g. in worker
    processes): a key listed twice is reported at its first position only. An entry
    counts as present when both its files exist (it is verified when loaded).
    """
    out, seen = [], set()
    for i, key in enumerate(keys):
        if key not in seen and not all(p.exists() for p in entry_paths(namespace, key, root)):
            out.append(i)
        seen.add(key)
    return out


@contextmanager
def entry_lock(namespace: str, key: str, root: Path | None = None) -> Iterator[None]:
    """Hold an exclusive lock on one entry while it is built, across processes.

    Two processes that need the same missing entry (two chapters run side by side that
    both want a world's clean model) would otherwise both build it; with the lock the
    second waits, then finds it in the cache. An advisory ``fcntl`` lock on
    ``<namespace>/<key>.lock`` (released if the holder dies); where ``fcntl`` does not
    exist (Windows) there is no lock and the entry may be built twice, as before.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    path = entry_paths(namespace, key, root)[0].with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_entry(namespace: str, key: str, root: Path | None = None) -> None:
    """Delete a cache entry (both files) if present."""
    for p in entry_paths(namespace, key, root):
        p.unlink(missing_ok=True)


def load_or_rebuild(
    namespace: str,
    key: str,
    load: Callable[[dict[str, np.ndarray], dict[str, Any]], T | None],
    build: Callable[[], T],
    *,
    root: Path | None = None,
    lock: bool = False,
    on_corrupt: Callable[[CacheCorruptError], None] | None = None,
) -> T:
    """The value of a cache entry, or ``build()``'s if it is missing, unusable or corrupt.

    Parameters
    ----------
    namespace, key : str
        The entry (see :func:`entry_paths`); plain names, not paths.
    load : callable
        ``(tensors, meta) -> value``, called on a verified entry. Returns None to reject
        the entry (it is left on disk for ``build`` to overwrite), or raises
        :class:`CacheCorruptError` to have it treated as corrupt.
    build : callable
        ``() -> value``, called on a miss, a rejection or a corruption; it stores the
        new entry itself (if it should). Its result is returned.
    root : Path, optional
        The cache folder; defaults to ``UIM_CACHE``.
    lock : bool
        Hold :func:`entry_lock` while loading and building, so that a second process
        waits and then loads the entry instead of building it too.
    on_corrupt : callable, optional
        Called with the error before a corrupt entry is removed (e.g. to warn).

    Returns
    -------
    The loaded value, or ``build()``'s.

    Raises
    ------
    ValueError
        If ``namespace`` or ``key`` is empty or names a path (:func:`entry_paths`).
    TypeError
        If ``load``, ``build`` or ``on_corrupt`` is not callable.
    """
    _check_callables(load, build, on_corrupt)
    guard: AbstractContextManager[None] = entry_lock(namespace, key, root) if lock else nullcontext()
    with guard:
        try:
            hit = load_entry(namespace, key, root)
            value = None if hit is None else load(*hit)
        except CacheCorruptError as exc:
            if on_corrupt is not None:
                on_corrupt(exc)
            remove_entry(namespace, key, root)
            value = None
        return build() if value is None else value


def _check_callables(load: Any, build: Any, on_corrupt: Any) -> None:
    """Raise a clear error on a function that is not callable (the names are checked by
    :func:`entry_paths`)."""
    for what, fn in (("load", load), ("build", build), ("on_corrupt", on_corrupt)):
        if not callable(fn) and not (what == "on_corrupt" and fn is None):
            raise TypeError(f"{what} must be callable, got {type(fn).__name__} {fn!r}")


def _to_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().contiguous().numpy()
    arr = np.ascontiguousarray(value)
    return arr
