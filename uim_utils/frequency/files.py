"""The shipped data of Udandarao et al. (2024): its folder, the SHA-256 manifest checked on
every read, and what it holds (evaluation datasets, pre-training corpora, models).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    pass


DATA_DIR: Path = Path(__file__).resolve().parents[1] / "data" / "frequency_determines_performance"
"""The shipped copy of the data (see its ``README.md``)."""


"""The shipped copy of the data (see its ``README.md``)."""


MANIFEST: str = "MANIFEST.sha256"
"""Name of the manifest in a data folder: ``<sha256>  <relative path>`` per line (``sha256sum -c``)."""


"""Name of the manifest in a data folder: ``<sha256>  <relative path>`` per line (``sha256sum -c``)."""


PRETRAINING: tuple[str, ...] = ("laion400m", "cc3m", "cc12m", "yfcc15m")
"""Pre-training corpora whose concept counts are shipped."""


"""Pre-training corpora whose concept counts are shipped."""


_ZS_DIR, _COUNTS_DIR = "zero_shot_evaluations", "search_counts"


_ZS_SUFFIX = "_ensemble_results.json"


_COUNTS_SUFFIX = "_integrated_tlemmatized_i0.7_search_counts.json"


_KEY_PREFIX, _KEY_SEP = "backbone", "_pretrained"


class DataCorruptError(ValueError):
    """A data file is missing from the manifest or does not match its recorded SHA-256."""


def _dir(data_dir: Path | str | None) -> Path:
    return DATA_DIR if data_dir is None else Path(data_dir)


def _manifest(data_dir: Path | str | None) -> dict[str, str]:
    """``{relative path: sha256}`` of a data folder's manifest."""
    root = _dir(data_dir)
    path = root / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"no manifest {path}: the data folder {root} is incomplete") from None
    out: dict[str, str] = {}
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest) or not name:
            raise DataCorruptError(f"manifest {path} line {i} is not '<sha256>  <path>': {line!r}")
        out[name] = digest
    return out


def _read_verified(relpath: str, data_dir: Path | str | None) -> Any:
    """Parsed JSON of a data file, after checking its SHA-256 against the manifest."""
    root = _dir(data_dir)
    manifest = _manifest(root)
    path = root / relpath
    if relpath not in manifest:
        raise DataCorruptError(f"data file {path} is not listed in the manifest {root / MANIFEST}")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"data file {path} is listed in the manifest but missing") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != manifest[relpath]:
        raise DataCorruptError(f"data file {path} is corrupt: its SHA-256 {actual[:12]}... does not match "
                               f"the manifest's {manifest[relpath][:12]}... (edited or truncated; restore it "
                               "with `git checkout -- <path>`)")
    try:
        return json.loads(data)
    except ValueError as exc:  # pragma: no cover - a file that matches its hash parses
        raise DataCorruptError(f"data file {path} is not valid JSON ({exc})") from None


def verify(data_dir: Path | str | None = None) -> int:
    """Check every file of the manifest, and that no JSON file is missing from it.

    Parameters
    ----------
    data_dir : path, optional
        The data folder; :data:`DATA_DIR` by default.

    Returns
    -------
    int
        The number of files checked.

    Raises
    ------
    DataCorruptError
        Naming the first file whose SHA-256 differs, or a JSON file the manifest does not
        list.
    FileNotFoundError
        If the manifest or a file it lists is missing.
    """
    root = _dir(data_dir)
    manifest = _manifest(root)
    for name, digest in manifest.items():
        path = root / name
        if not path.is_file():
            raise FileNotFoundError(f"data file {path} is listed in the manifest but missing")
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != digest:
            raise DataCorruptError(f"data file {path} is corrupt: its SHA-256 {actual[:12]}... does not match "
                                   f"the manifest's {digest[:12]}...")
    extra = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.json")
                   if p.relative_to(root).as_posix() not in manifest)
    if extra:
        raise DataCorruptError(f"data file(s) {extra} in {root} are not listed in the manifest")
    return len(manifest)


def _zs_path(dataset: str) -> str:
    return f"{_ZS_DIR}/{dataset}{_ZS_SUFFIX}"


def _counts_path(dataset: str, pretraining: str) -> str:
    return f"{_COUNTS_DIR}/{dataset}_{pretraining}{_COUNTS_SUFFIX}"


def datasets(data_dir: Path | str | None = None) -> list[str]:
    """The benchmarks with zero-shot results, sorted (``"imagenet"``, ``"eurosat"``, ...)."""
    names = [n[len(_ZS_DIR) + 1:-len(_ZS_SUFFIX)] for n in _manifest(data_dir)
             if n.startswith(f"{_ZS_DIR}/") and n.endswith(_ZS_SUFFIX)]
    return sorted(names)


def _check_dataset(dataset: object, data_dir: Path | str | None) -> str:
    known = datasets(data_dir)
    if dataset not in known:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {known}")
    return str(dataset)


def pretraining_sets(dataset: str, data_dir: Path | str | None = None) -> list[str]:
    """The corpora whose concept counts are shipped for ``dataset``, in :data:`PRETRAINING` order."""
    dataset = _check_dataset(dataset, data_dir)
    manifest = _manifest(data_dir)
    return [p for p in PRETRAINING if _counts_path(dataset, p) in manifest]


def _check_pretraining(dataset: str, pretraining: object, data_dir: Path | str | None) -> str:
    if pretraining not in PRETRAINING:
        raise ValueError(f"unknown pretraining set {pretraining!r}; choose one of {list(PRETRAINING)}")
    have = pretraining_sets(dataset, data_dir)
    if pretraining not in have:
        raise ValueError(f"no concept counts of pretraining set {pretraining!r} for dataset {dataset!r}; "
                         f"it has counts for {have}")
    return str(pretraining)


def parse_model(model: str) -> tuple[str, str]:
    """``"ViT-B-32/laion400m"`` (or ``"backboneViT-B-32_pretrainedlaion400m"``) -> ``("ViT-B-32", "laion400m")``.

    Raises
    ------
    ValueError
        If ``model`` is not of either form.
    """
    if isinstance(model, str) and model.startswith(_KEY_PREFIX) and _KEY_SEP in model:
        arch, _, corpus = model[len(_KEY_PREFIX):].partition(_KEY_SEP)
    elif isinstance(model, str) and model.count("/") == 1:
        arch, _, corpus = model.partition("/")
    else:
        arch = corpus = ""
    if not arch or not corpus:
        raise ValueError(f"model must be '<arch>/<corpus>', e.g. 'ViT-B-32/laion400m', got {model!r}")
    return arch, corpus


def _model_id(key: str) -> str:
    arch, corpus = parse_model(key)
    return f"{arch}/{corpus}"


def _published_zero_shot(dataset: str, data_dir: Path | str | None) -> dict[str, Any]:
    """The published zero-shot results of every checkpoint on ``dataset``, by model id.

    Read from Udandarao et al.'s files, not computed: this module has no model (the
    book's zero-shot classifier is :func:`uim_utils.evaluate.zero_shot_classify`).
    """
    raw = _read_verified(_zs_path(dataset), data_dir)
    if not isinstance(raw, dict) or not raw:
        raise DataCorruptError(f"{_dir(data_dir) / _zs_path(dataset)} holds no models")
    return {_model_id(k): v for k, v in raw.items()}


def models(dataset: str, data_dir: Path | str | None = None) -> list[str]:
    """The checkpoints evaluated on ``dataset``, as ``"<arch>/<corpus>"``, in file order."""
    return list(_published_zero_shot(_check_dataset(dataset, data_dir), data_dir))


def available(data_dir: Path | str | None = None) -> pd.DataFrame:
    """Every (dataset, model) with per-class results.

    Returns
    -------
    DataFrame
        Columns ``dataset``, ``model`` (``"<arch>/<corpus>"``), ``arch``, ``pretraining``
        (the model's corpus) and ``counts`` (True if that corpus's concept counts are
        shipped for the dataset, i.e. :func:`joined` works without a proxy).
    """
    rows = []
    for ds in datasets(data_dir):
        have = set(pretraining_sets(ds, data_dir))
        for m in models(ds, data_dir):
            arch, corpus = parse_model(m)
            rows.append({"dataset": ds, "model": m, "arch": arch, "pretraining": corpus, "counts": corpus in have})
    return pd.DataFrame(rows, columns=["dataset", "model", "arch", "pretraining", "counts"])
