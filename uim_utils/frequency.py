"""Real evidence for the long tail: per-class CLIP accuracy against pre-training frequency.

The lab chapters show in synthetic worlds that a concept seen rarely in pre-training is
recognised badly. This module checks the same relation on real models and real corpora,
offline and without torch, on the per-class numbers released by Udandarao et al. (2024),
"No 'Zero-Shot' Without Exponential Data" (NeurIPS 2024, arXiv:2404.04125):

- ``zero_shot_evaluations/<dataset>_ensemble_results.json``: per-class zero-shot accuracy
  (prompt ensemble, in %) of 21 OpenCLIP checkpoints on 19 benchmarks;
- ``search_counts/<dataset>_<corpus>_..._search_counts.json``: how many image-text pairs of
  a pre-training corpus show the class (caption mentions it, image tagger agrees).

A copy of the files, unmodified, ships in :data:`DATA_DIR` with the original MIT licence
and a SHA-256 manifest; every file is verified against the manifest when it is read
(:class:`DataCorruptError` names the file otherwise).

The unit is the **class**. Every claim here is about the classes of one benchmark (or
about the change of a class between two corpora), so every interval resamples classes:
a percentile bootstrap over classes (:func:`uim_utils.stats.cluster_bootstrap` with one
class per cluster; a resample in which a statistic is undefined, e.g. all drawn classes
have the same count, is dropped). The numbers are deterministic: the data are fixed, and
so are ``n_boot`` (:data:`N_BOOT`) and ``seed`` (:data:`SEED`).

A model is named ``"<arch>/<corpus>"``, e.g. ``"ViT-B-32/laion400m"`` or ``"RN50/cc3m"``
(the file's own key ``"backboneViT-B-32_pretrainedlaion400m"`` is accepted too). By default
a model is compared with the counts of its own pre-training corpus, which are shipped for
:data:`PRETRAINING` (LAION-400M, CC-3M, CC-12M, YFCC-15M); models trained on other corpora
(LAION-2B, DataComp, ...) need an explicit ``pretraining=`` (a proxy, and the caller's
choice).

Class names are matched between the two files after replacing underscores by spaces
(ImageNet-R writes ``"bald_eagle"`` in one file and ``"bald eagle"`` in the other); classes
still missing from one side are dropped and counted (CIFAR-10's ``"plane"`` has counts
under ``"airplane"``).

:func:`real_claims`, :func:`real_verdicts` and :func:`check_real` are the chapter's
real-data claims (ids ``R1``, ``R2``, ...), decided with :meth:`uim_utils.claims.Claim.decide`
on intervals over classes.

This module does not import torch.

References
----------
Udandarao, V., Prabhu, A., Ghosh, A., Sharma, Y., Torr, P. H. S., Bibi, A., Albanie, S.
and Bethge, M. (2024). No "Zero-Shot" Without Exponential Data: Pretraining Concept
Frequency Determines Multimodal Model Performance. *NeurIPS 2024*. arXiv:2404.04125.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import stats
from .claims import FAILS, HOLDS, Claim, ClaimSet
from .stats import Estimate
from .validate import check_int

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = [
    "DATA_DIR",
    "MANIFEST",
    "PRETRAINING",
    "N_BOOT",
    "SEED",
    "CONFIDENCE",
    "REAL_CHAPTER",
    "REAL_VERDICT_COLUMNS",
    "SURVEY_COLUMNS",
    "DEFAULT_CURVES",
    "DataCorruptError",
    "FrequencyAccuracy",
    "verify",
    "datasets",
    "models",
    "pretraining_sets",
    "parse_model",
    "available",
    "load_counts",
    "load_accuracy",
    "joined",
    "spearman",
    "frequency_accuracy",
    "pooled_frequency_accuracy",
    "paired_table",
    "paired_change",
    "binned_curve",
    "survey",
    "real_claims",
    "real_verdicts",
    "check_real",
    "plot_long_tail",
    "plot_frequency_accuracy",
    "plot_paired_change",
]

DATA_DIR: Path = Path(__file__).resolve().parent / "data" / "frequency_determines_performance"
"""The shipped copy of the data (see its ``README.md``)."""

MANIFEST: str = "MANIFEST.sha256"
"""Name of the manifest in a data folder: ``<sha256>  <relative path>`` per line (``sha256sum -c``)."""

PRETRAINING: tuple[str, ...] = ("laion400m", "cc3m", "cc12m", "yfcc15m")
"""Pre-training corpora whose concept counts are shipped."""

N_BOOT: int = 2000
"""Bootstrap resamples of every interval in this module (fixed: the numbers are deterministic)."""

SEED: int = 0
"""Seed of every bootstrap in this module."""

CONFIDENCE: float = 0.95
"""Confidence level of the intervals of the real-data claims."""

REAL_VERDICT_COLUMNS: tuple[str, ...] = ("id", "statement", "asserted", "statistic", "n", "unit", "estimate",
                                         "low", "high", "se", "threshold", "rule", "distance_se", "verdict")
"""Columns of :func:`real_verdicts`, in order."""

_ZS_DIR, _COUNTS_DIR = "zero_shot_evaluations", "search_counts"
_ZS_SUFFIX = "_ensemble_results.json"
_COUNTS_SUFFIX = "_integrated_tlemmatized_i0.7_search_counts.json"
_KEY_PREFIX, _KEY_SEP = "backbone", "_pretrained"


class DataCorruptError(ValueError):
    """A data file is missing from the manifest or does not match its recorded SHA-256."""


# --------------------------------------------------------------------------- files


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


# --------------------------------------------------------------------------- tables


def load_counts(dataset: str, pretraining: str, data_dir: Path | str | None = None) -> pd.Series:
    """Concept counts of the classes of ``dataset`` in the corpus ``pretraining``.

    Returns
    -------
    Series
        Index: class name as in the file (``"class"``); values: int64 counts >= 0
        (``"count"``), in file order.

    Raises
    ------
    ValueError
        On an unknown dataset or pretraining set (listing the valid ones), or a count that
        is not an integer >= 0.
    """
    dataset = _check_dataset(dataset, data_dir)
    pretraining = _check_pretraining(dataset, pretraining, data_dir)
    raw = _read_verified(_counts_path(dataset, pretraining), data_dir)
    where = _dir(data_dir) / _counts_path(dataset, pretraining)
    if not isinstance(raw, dict) or not raw:
        raise DataCorruptError(f"{where} holds no counts")
    bad = {k: v for k, v in raw.items() if isinstance(v, bool) or not isinstance(v, int) or v < 0}
    if bad:
        raise ValueError(f"{where}: counts must be integers >= 0, got {dict(list(bad.items())[:3])}")
    s = pd.Series(raw, dtype=np.int64, name="count")
    s.index.name = "class"
    return s


def load_accuracy(dataset: str, model: str, data_dir: Path | str | None = None) -> pd.Series:
    """Per-class zero-shot accuracy of ``model`` on ``dataset``, as a fraction in [0, 1].

    Returns
    -------
    Series
        Index: class name as in the file (``"class"``); values: accuracy (``"accuracy"``),
        in file order. ``attrs["full"]``: the file's overall accuracy, as a fraction.

    Raises
    ------
    ValueError
        On an unknown dataset or model (listing the valid ones), or an accuracy outside
        [0, 100] % in the file.
    """
    dataset = _check_dataset(dataset, data_dir)
    arch, corpus = parse_model(model)
    zs = _published_zero_shot(dataset, data_dir)
    key = f"{arch}/{corpus}"
    if key not in zs:
        raise ValueError(f"unknown model {model!r} for dataset {dataset!r}; choose one of {list(zs)}")
    entry = zs[key]
    try:
        s = pd.Series(entry["classwise"], dtype=np.float64, name="accuracy")
        full = float(entry["full"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataCorruptError(f"{_dir(data_dir) / _zs_path(dataset)}: model {key} has no readable "
                               f"'full' and 'classwise' ({exc})") from None
    bad = s[~((s >= 0) & (s <= 100))]
    if len(bad):
        raise ValueError(f"{_zs_path(dataset)}: model {key} has accuracies outside [0, 100] %: "
                         f"{bad.head(3).to_dict()}")
    s = s / 100.0
    s.index.name = "class"
    s.attrs = {"full": full / 100.0}
    return s


def _norm(name: str) -> str:
    return " ".join(str(name).replace("_", " ").split())


def _own_corpus(model: str, pretraining: str | None) -> str:
    return parse_model(model)[1] if pretraining is None else pretraining


def joined(dataset: str, model: str, pretraining: str | None = None,
           data_dir: Path | str | None = None) -> pd.DataFrame:
    """One row per class: its concept count and the model's accuracy on it.

    Parameters
    ----------
    dataset : str
        A benchmark of :func:`datasets`.
    model : str
        A model of :func:`models` (``"<arch>/<corpus>"``).
    pretraining : str, optional
        Whose counts; by default the model's own corpus.
    data_dir : path, optional
        The data folder; :data:`DATA_DIR` by default.

    Returns
    -------
    DataFrame
        Columns ``class`` (name as in the accuracy file), ``count``, ``log10_count``
        (``log10(1 + count)``) and ``accuracy`` (in [0, 1]), in the accuracy file's order.
        Names are matched after replacing underscores by spaces; classes on one side only
        are dropped. ``attrs``: ``dataset``, ``model``, ``pretraining``, ``n_classes``
        (compared), ``n_dropped`` (classes of the benchmark without a count),
        ``dropped_accuracy`` (their names) and ``dropped_counts`` (names in the counts
        file that match no class).

    Raises
    ------
    ValueError
        On unknown names (listing the valid ones), if the model's own corpus has no counts
        (pass ``pretraining=``), or if fewer than 2 classes match.
    """
    dataset = _check_dataset(dataset, data_dir)
    corpus = _own_corpus(model, pretraining)
    acc = load_accuracy(dataset, model, data_dir)
    if pretraining is None and corpus not in PRETRAINING:
        raise ValueError(f"model {model!r} was trained on {corpus!r}, whose counts are not shipped; pass "
                         f"pretraining= one of {pretraining_sets(dataset, data_dir)} as a proxy")
    counts = load_counts(dataset, corpus, data_dir)
    c_by_norm = {_norm(k): (k, v) for k, v in counts.items()}
    a_norm = {_norm(k) for k in acc.index}
    rows, dropped_acc = [], []
    for name, a in acc.items():
        hit = c_by_norm.get(_norm(name))
        if hit is None:
            dropped_acc.append(str(name))
        else:
            rows.append((str(name), int(hit[1]), float(np.log10(1.0 + hit[1])), float(a)))
    dropped_counts = [str(k) for k in counts.index if _norm(k) not in a_norm]
    if len(rows) < 2:
        raise ValueError(f"{dataset}: only {len(rows)} class(es) of {model!r} match the {corpus} counts")
    df = pd.DataFrame(rows, columns=["class", "count", "log10_count", "accuracy"])
    df.attrs = {"dataset": dataset, "model": _model_id(model),
                "pretraining": corpus, "n_classes": len(df), "n_dropped": len(dropped_acc),
                "dropped_accuracy": dropped_acc, "dropped_counts": dropped_counts}
    return df


# --------------------------------------------------------------------------- statistics


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); NaN if either variable is constant."""
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if xa.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"x and y must be 1-D of equal length, got shapes {xa.shape} and {ya.shape}")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise ValueError("x and y must be finite (no NaN or inf)")
    return float(_spearman_on(xa, ya)(np.arange(xa.size)))


def _slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of ``y`` on ``x`` along the last axis (NaN where ``x`` is constant)."""
    xc = x - x.mean(axis=-1, keepdims=True)
    sxx = (xc * xc).sum(axis=-1)
    sxy = (xc * (y - y.mean(axis=-1, keepdims=True))).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sxx > 0, sxy / np.where(sxx > 0, sxx, 1.0), np.nan)


def _codes(v: np.ndarray) -> tuple[np.ndarray, int]:
    """Each value's index among the sorted distinct values, and how many there are."""
    uniq, inv = np.unique(v, return_inverse=True)
    return inv.ravel().astype(np.intp), len(uniq)


def _avg_ranks(codes: np.ndarray, n_distinct: int) -> np.ndarray:
    """Average ranks (ties share the mean of their ranks) along the last axis of ``codes``.

    ``codes`` (shape ``(..., n)``) are the values' indices among the sorted distinct values;
    every row is ranked on its own, in one vectorised pass.
    """
    rows = codes.reshape(-1, codes.shape[-1])
    offset = (np.arange(rows.shape[0]) * n_distinct)[:, None]
    c = np.bincount((rows + offset).ravel(), minlength=rows.shape[0] * n_distinct)
    c = c.reshape(rows.shape[0], n_distinct).astype(np.float64)
    table = np.cumsum(c, axis=1) - c + (c + 1.0) / 2.0
    return np.take_along_axis(table, rows, axis=1).reshape(codes.shape)


def _pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation along the last axis (NaN where either is constant)."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(axis=-1) / np.where(den > 0, den, 1.0), np.nan)


def _spearman_on(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``f(indices)``: Spearman correlation of ``x[indices]`` and ``y[indices]`` (NaN if one is constant).

    ``indices`` may be one resample (shape ``(n,)``, a 0-d result) or many (``(B, n)``,
    one correlation per row). Ranks come from codes of the distinct values computed
    once, so a resample costs a ``bincount`` instead of a sort.
    """
    cx, ux = _codes(np.asarray(x, dtype=np.float64))
    cy, uy = _codes(np.asarray(y, dtype=np.float64))
    return lambda i: _pearson(_avg_ranks(cx[i], ux), _avg_ranks(cy[i], uy))


def _over_classes(statistic: Callable[[np.ndarray], np.ndarray], n: int, n_boot: int, seed: int,
                  confidence: float) -> Estimate:
    """``statistic(indices)`` with a percentile bootstrap that resamples the ``n`` classes.

    ``statistic`` must accept a ``(B, n)`` matrix of indices (one resample per row) and
    return ``B`` values (:func:`uim_utils.stats.index_bootstrap`).
    """
    return stats.index_bootstrap(statistic, n, confidence=confidence, n_boot=n_boot, seed=seed, unit="classes")


def _check_varies(df: pd.DataFrame, what: str) -> None:
    for col in ("count", "accuracy"):
        if df[col].nunique() < 2:
            raise ValueError(f"{what}: every class has the same {col} ({df[col].iloc[0]!r}); "
                             "a rank correlation is undefined")


@dataclass(frozen=True)
class FrequencyAccuracy:
    """Per-class accuracy against log concept count, for one model on one benchmark.

    Attributes
    ----------
    dataset, model, pretraining : str
        What was compared (``pretraining``: whose counts).
    n_classes : int
        Classes compared.
    n_dropped : int
        Classes of the benchmark left out because the counts file lacks them.
    spearman : Estimate
        Spearman(log10(1 + count), accuracy), interval over classes.
    slope : Estimate
        Least-squares slope of accuracy (fraction) on log10(1 + count): accuracy gained
        per tenfold more pairs; interval over classes.
    """

    dataset: str
    model: str
    pretraining: str
    n_classes: int
    n_dropped: int
    spearman: Estimate
    slope: Estimate


def _boot_args(n_boot: int, seed: int) -> None:
    check_int("n_boot", n_boot, 100)
    check_int("seed", seed, 0)


def frequency_accuracy(dataset: str, model: str, pretraining: str | None = None, n_boot: int = N_BOOT,
                       seed: int = SEED, confidence: float = CONFIDENCE,
                       data_dir: Path | str | None = None) -> FrequencyAccuracy:
    """Does the model recognise the classes that are frequent in pre-training better?

    Parameters
    ----------
    dataset, model, pretraining, data_dir
        As in :func:`joined`.
    n_boot, seed, confidence
        Bootstrap resamples (>= 100), seed, confidence level of the intervals.

    Returns
    -------
    FrequencyAccuracy
        Spearman correlation and slope, each with a percentile-bootstrap interval over
        classes.

    Raises
    ------
    ValueError
        See :func:`joined`; also if every class has the same count (or accuracy).
    """
    _boot_args(n_boot, seed)
    df = joined(dataset, model, pretraining, data_dir)
    _check_varies(df, f"{dataset}, {model} ({df.attrs['pretraining']} counts)")
    x, y = df["log10_count"].to_numpy(), df["accuracy"].to_numpy()
    rho = _over_classes(_spearman_on(x, y), len(df), n_boot, seed, confidence)
    slope = _over_classes(lambda i: _slope(x[i], y[i]), len(df), n_boot, seed, confidence)
    return FrequencyAccuracy(df.attrs["dataset"], df.attrs["model"], df.attrs["pretraining"], len(df),
                             int(df.attrs["n_dropped"]), rho, slope)


def _own_models(dataset: str, data_dir: Path | str | None) -> list[str]:
    have = set(pretraining_sets(dataset, data_dir))
    return [m for m in models(dataset, data_dir) if parse_model(m)[1] in have]


def pooled_frequency_accuracy(dataset: str, model_list: Sequence[str] | None = None, n_boot: int = N_BOOT,
                              seed: int = SEED, confidence: float = CONFIDENCE,
                              data_dir: Path | str | None = None) -> Estimate:
    """Mean Spearman(log count, accuracy) over several (model, own corpus) pairs.

    The classes are resampled jointly for all pairs (the same class is easy or hard for
    every model), so the interval is over the benchmark's classes, not over models.

    Parameters
    ----------
    dataset : str
    model_list : sequence of str, optional
        Models (each compared with its own corpus's counts); by default every model of
        the dataset whose corpus's counts are shipped.
    n_boot, seed, confidence, data_dir
        As in :func:`frequency_accuracy`.

    Returns
    -------
    Estimate
        ``estimate``: the mean of the per-model correlations; ``n``: the classes present
        for every model.
    """
    _boot_args(n_boot, seed)
    dataset = _check_dataset(dataset, data_dir)
    chosen = list(_own_models(dataset, data_dir) if model_list is None else model_list)
    if len(chosen) < 1:
        raise ValueError(f"{dataset}: no model to pool")
    tables = [joined(dataset, m, None, data_dir).set_index("class") for m in chosen]
    common = [c for c in tables[0].index if all(c in t.index for t in tables[1:])]
    if len(common) < 3:
        raise ValueError(f"{dataset}: only {len(common)} classes are shared by the models {chosen}")
    xs = np.stack([t.loc[common, "log10_count"].to_numpy() for t in tables])
    ys = np.stack([t.loc[common, "accuracy"].to_numpy() for t in tables])
    for m, x, y in zip(chosen, xs, ys):
        if np.all(x == x[0]) or np.all(y == y[0]):
            raise ValueError(f"{dataset}, {m}: counts or accuracies are constant; a rank correlation is undefined")

    per_model = [_spearman_on(x, y) for x, y in zip(xs, ys)]

    def mean_rho(i: np.ndarray) -> np.ndarray:
        return np.mean([f(i) for f in per_model], axis=0)

    return _over_classes(mean_rho, len(common), n_boot, seed, confidence)


def paired_table(dataset: str, arch: str, pre_a: str, pre_b: str,
                 data_dir: Path | str | None = None) -> pd.DataFrame:
    """The same architecture trained on two corpora: per class, change in count and accuracy.

    Parameters
    ----------
    dataset : str
    arch : str
        E.g. ``"RN50"``; ``"<arch>/<pre_a>"`` and ``"<arch>/<pre_b>"`` must both be models
        of the dataset, each compared with its own corpus's counts.
    pre_a, pre_b : str
        The two corpora (from ``a`` to ``b``), e.g. ``"cc3m"``, ``"cc12m"``.

    Returns
    -------
    DataFrame
        Columns ``class``, ``count_a``, ``count_b``, ``d_log10_count``
        (``log10(1 + count_b) - log10(1 + count_a)``), ``accuracy_a``, ``accuracy_b``,
        ``d_accuracy`` (``accuracy_b - accuracy_a``); classes present in both.
    """
    if pre_a == pre_b:
        raise ValueError(f"pre_a and pre_b must differ, got {pre_a!r} twice")
    a = joined(dataset, f"{arch}/{pre_a}", None, data_dir)
    b = joined(dataset, f"{arch}/{pre_b}", None, data_dir)
    m = a.merge(b, on="class", suffixes=("_a", "_b"))
    out = pd.DataFrame({"class": m["class"], "count_a": m["count_a"], "count_b": m["count_b"],
                        "d_log10_count": m["log10_count_b"] - m["log10_count_a"],
                        "accuracy_a": m["accuracy_a"], "accuracy_b": m["accuracy_b"],
                        "d_accuracy": m["accuracy_b"] - m["accuracy_a"]})
    out.attrs = {"dataset": dataset, "arch": arch, "pre_a": pre_a, "pre_b": pre_b, "n_classes": len(out)}
    return out


def paired_change(dataset: str, arch: str, pre_a: str, pre_b: str, n_boot: int = N_BOOT, seed: int = SEED,
                  confidence: float = CONFIDENCE, data_dir: Path | str | None = None) -> Estimate:
    """Spearman(change in log count, change in accuracy) over classes, from ``pre_a`` to ``pre_b``.

    A within-class comparison: the class's own difficulty (its images, its name) is the
    same on both sides, so a positive correlation says that a class that became more
    frequent gained more accuracy. See :func:`paired_table` for the parameters.

    Returns
    -------
    Estimate
        Percentile-bootstrap interval over classes.
    """
    _boot_args(n_boot, seed)
    t = paired_table(dataset, arch, pre_a, pre_b, data_dir)
    x, y = t["d_log10_count"].to_numpy(), t["d_accuracy"].to_numpy()
    if np.all(x == x[0]) or np.all(y == y[0]):
        raise ValueError(f"{dataset}, {arch} {pre_a}->{pre_b}: the change in count or accuracy is constant")
    return _over_classes(_spearman_on(x, y), len(t), n_boot, seed, confidence)


def binned_curve(df: pd.DataFrame, n_bins: int = 8, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Mean accuracy per bin of log count, with a Student-t interval over the bin's classes.

    Parameters
    ----------
    df : DataFrame
        With columns ``log10_count`` and ``accuracy`` (e.g. :func:`joined`).
    n_bins : int
        Equal-width bins over the range of ``log10_count`` (>= 1); empty bins are left out.
    confidence : float

    Returns
    -------
    DataFrame
        One row per non-empty bin: ``bin_low``, ``bin_high``, ``log10_count`` (mean of the
        bin's classes), ``n`` (classes), ``accuracy`` (mean), ``low``, ``high`` (NaN for a
        bin of one class).
    """
    check_int("n_bins", n_bins, 1)
    missing = [c for c in ("log10_count", "accuracy") if c not in df.columns]
    if missing:
        raise ValueError(f"df lacks the column(s) {missing}; columns: {list(df.columns)}")
    x, y = df["log10_count"].to_numpy(dtype=float), df["accuracy"].to_numpy(dtype=float)
    if len(x) == 0 or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("df must have at least one row and finite log10_count and accuracy")
    lo, hi = float(x.min()), float(x.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        sel = which == b
        k = int(sel.sum())
        if k == 0:
            continue
        if k >= 2:
            est = stats.t_interval(y[sel], confidence=confidence, unit="classes")
            low, high = est.low, est.high
        else:
            low = high = math.nan
        rows.append({"bin_low": float(edges[b]), "bin_high": float(edges[b + 1]), "log10_count": float(x[sel].mean()),
                     "n": k, "accuracy": float(y[sel].mean()), "low": float(low), "high": float(high)})
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "log10_count", "n", "accuracy", "low", "high"])


def _relation(est: Estimate) -> str:
    if est.low > 0:
        return "positive"
    if est.high < 0:
        return "negative"
    return "none detected"


SURVEY_COLUMNS: tuple[str, ...] = ("dataset", "model", "arch", "pretraining", "n_classes", "n_dropped", "n_zero",
                                   "spearman", "low", "high", "relation")
"""Columns of :func:`survey`, in order."""


def survey(dataset_list: Sequence[str] | None = None, n_boot: int = N_BOOT, seed: int = SEED,
           confidence: float = CONFIDENCE, data_dir: Path | str | None = None) -> pd.DataFrame:
    """Spearman(log count, accuracy) for every model with its own corpus's counts, per benchmark.

    Parameters
    ----------
    dataset_list : sequence of str, optional
        Benchmarks; all of :func:`datasets` by default.
    n_boot, seed, confidence, data_dir
        As in :func:`frequency_accuracy`.

    Returns
    -------
    DataFrame
        Columns :data:`SURVEY_COLUMNS`, one row per (dataset, model): classes compared,
        dropped, with count 0; the correlation and its interval over classes; and
        ``relation``: ``"positive"`` (interval above 0), ``"negative"`` (below 0),
        ``"none detected"`` (interval contains 0) or ``"undefined"`` (every class has the
        same count, e.g. Stanford Cars in CC-12M: no car model is found; the correlation
        and interval are NaN).
    """
    _boot_args(n_boot, seed)
    chosen = datasets(data_dir) if dataset_list is None else [_check_dataset(d, data_dir) for d in dataset_list]
    rows = []
    for ds in chosen:
        for m in _own_models(ds, data_dir):
            arch, corpus = parse_model(m)
            df = joined(ds, m, None, data_dir)
            row = {"dataset": ds, "model": m, "arch": arch, "pretraining": corpus, "n_classes": len(df),
                   "n_dropped": int(df.attrs["n_dropped"]), "n_zero": int((df["count"] == 0).sum())}
            if df["count"].nunique() < 2 or df["accuracy"].nunique() < 2:
                row.update(spearman=math.nan, low=math.nan, high=math.nan, relation="undefined")
            else:
                x, y = df["log10_count"].to_numpy(), df["accuracy"].to_numpy()
                est = _over_classes(_spearman_on(x, y), len(df), n_boot, seed, confidence)
                row.update(spearman=est.estimate, low=est.low, high=est.high, relation=_relation(est))
            rows.append(row)
    return pd.DataFrame(rows, columns=list(SURVEY_COLUMNS))


# --------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class _RealSpec:
    """A real-data claim and how its estimate is measured."""

    claim: Claim
    measure: str  # "spearman", "slope", "pooled" or "paired"
    dataset: str
    model: str = ""  # "<arch>/<corpus>" (spearman, slope) or "<arch>" (paired)
    pre_a: str = ""
    pre_b: str = ""


def _rho_claim(cid: str, dataset: str, label: str, model: str, asserted: bool = True,
               note: str = "") -> _RealSpec:
    arch, corpus = parse_model(model)
    statement = (f"{label}: classes more frequent in {corpus} are recognised better by {arch} trained on it "
                 f"(Spearman of log count and accuracy > 0){note}")
    return _RealSpec(Claim(cid, statement, f"spearman[{dataset}, {model}]", "effect", threshold=0.0,
                           asserted=asserted, correlation=True), "spearman", dataset, model)


_SPECS: tuple[_RealSpec, ...] = (
    _rho_claim("R1", "imagenet", "ImageNet", "ViT-B-32/laion400m"),
    _rho_claim("R2", "imagenet", "ImageNet", "RN50/cc3m"),
    _RealSpec(Claim("R3", "ImageNet: accuracy rises with the log count for ViT-B-32 trained on LAION-400M "
                          "(slope of accuracy per tenfold more pairs > 0)",
                    "slope[imagenet, ViT-B-32/laion400m]", "effect", threshold=0.0),
              "slope", "imagenet", "ViT-B-32/laion400m"),
    _RealSpec(Claim("R4", "ImageNet: pooled over the 10 (model, corpus) pairs with counts, the mean Spearman of "
                          "log count and accuracy is > 0.2",
                    "mean spearman[imagenet, 10 models]", "effect", threshold=0.2, correlation=True),
              "pooled", "imagenet"),
    _RealSpec(Claim("R5", "ImageNet-Sketch: pooled over the 10 (model, corpus) pairs with counts, the mean "
                          "Spearman of log count and accuracy is > 0.2",
                    "mean spearman[imagenet-sketch, 10 models]", "effect", threshold=0.2, correlation=True),
              "pooled", "imagenet-sketch"),
    _RealSpec(Claim("R6", "ImageNet: RN50 trained on CC-3M, then on CC-12M: classes that became more frequent "
                          "gained more accuracy (Spearman of the changes > 0)",
                    "paired spearman[imagenet, RN50, cc3m->cc12m]", "effect", threshold=0.0, correlation=True),
              "paired", "imagenet", "RN50", "cc3m", "cc12m"),
    _RealSpec(Claim("R7", "Caltech-256: RN50 trained on CC-3M, then on CC-12M: classes that became more frequent "
                          "gained more accuracy (Spearman of the changes > 0)",
                    "paired spearman[caltech256, RN50, cc3m->cc12m]", "effect", threshold=0.0, correlation=True),
              "paired", "caltech256", "RN50", "cc3m", "cc12m"),
    _rho_claim("R8", "eurosat", "EuroSAT", "ViT-B-32/laion400m", asserted=False, note=" (10 classes)"),
    _rho_claim("R9", "stanfordcars", "Stanford Cars", "ViT-B-32/laion400m", asserted=False),
    _rho_claim("R10", "ucf101", "UCF101", "ViT-B-32/laion400m", asserted=False),
    _rho_claim("R11", "caltech256", "Caltech-256", "ViT-B-32/laion400m", asserted=False),
    _rho_claim("R12", "food101", "Food-101", "ViT-B-32/laion400m", asserted=False),
)

REAL_CHAPTER = "01_long_tail_real"
"""The ``chapter`` of :func:`real_claims` (the long-tail chapter's real-data section)."""


def real_claims() -> ClaimSet:
    """The long-tail chapter's claims on real data (ids ``R1``, ``R2``, ...).

    Asserted claims hold with a clear margin on the shipped data; the exploratory ones
    (``asserted=False``) are the benchmarks where the relation is weak, absent or
    reversed, shown with their estimates and never asserted. Every interval is over the
    benchmark's classes (``design`` records ``n_boot``, ``seed`` and ``confidence``).
    """
    return ClaimSet(REAL_CHAPTER, 1, tuple(s.claim for s in _SPECS),
                    design={"n_boot": N_BOOT, "seed": SEED, "confidence": CONFIDENCE, "data": "11ef009"})


def _measure(spec: _RealSpec, data_dir: Path | str | None,
             done: dict[tuple[str, str], FrequencyAccuracy]) -> Estimate:
    if spec.measure in ("spearman", "slope"):
        key = (spec.dataset, spec.model)
        if key not in done:  # R1 and R3 read the same fit
            done[key] = frequency_accuracy(spec.dataset, spec.model, data_dir=data_dir)
        return done[key].spearman if spec.measure == "spearman" else done[key].slope
    if spec.measure == "pooled":
        return pooled_frequency_accuracy(spec.dataset, data_dir=data_dir)
    return paired_change(spec.dataset, spec.model, spec.pre_a, spec.pre_b, data_dir=data_dir)


def real_verdicts(data_dir: Path | str | None = None) -> pd.DataFrame:
    """Every real-data claim decided on its interval over classes (:meth:`Claim.decide`).

    Uses :data:`N_BOOT`, :data:`SEED` and :data:`CONFIDENCE`, so the table is the same on
    every run.

    Returns
    -------
    DataFrame
        One row per claim, columns :data:`REAL_VERDICT_COLUMNS`: the claim, the
        ``statistic``, ``n`` units (``unit="classes"``), ``estimate`` with ``low``,
        ``high`` and ``se`` (bootstrap), the ``threshold`` and ``rule``, ``distance_se``
        (standard errors beyond the threshold, negative on the failing side) and
        ``verdict`` (``"holds"`` or ``"does not hold"``).
    """
    rows = []
    done: dict[tuple[str, str], FrequencyAccuracy] = {}
    for spec in _SPECS:
        c = spec.claim
        est = _measure(spec, data_dir, done)
        res = c.decide(est)
        rows.append({"id": c.id, "statement": c.statement, "asserted": c.asserted, "statistic": c.statistic,
                     "n": est.n, "unit": est.unit, "estimate": est.estimate, "low": est.low, "high": est.high,
                     "se": est.se, "threshold": c.threshold, "rule": c.rule(CONFIDENCE),
                     "distance_se": float(res.distance_se), "verdict": HOLDS if res.passed else FAILS})
    out = pd.DataFrame(rows, columns=list(REAL_VERDICT_COLUMNS))
    out.attrs = {"chapter": REAL_CHAPTER, "n_boot": N_BOOT, "seed": SEED, "confidence": CONFIDENCE}
    return out


def check_real(verdicts: pd.DataFrame | None = None, data_dir: Path | str | None = None) -> pd.DataFrame:
    """Assert every asserted real-data claim.

    Parameters
    ----------
    verdicts : DataFrame, optional
        A table from :func:`real_verdicts` (e.g. the one a notebook just showed);
        computed if omitted.
    data_dir : path, optional
        As in :func:`joined` (used only when ``verdicts`` is omitted).

    Raises
    ------
    AssertionError
        Naming every asserted claim that does not hold: id, statement, estimate,
        interval and rule.
    ValueError
        If ``verdicts`` does not list exactly the claims of :func:`real_claims`.
    """
    v = real_verdicts(data_dir) if verdicts is None else verdicts
    expected = [c.id for c in real_claims().claims]
    if not isinstance(v, pd.DataFrame) or "id" not in v.columns or list(v["id"]) != expected:
        got = list(v["id"]) if isinstance(v, pd.DataFrame) and "id" in v.columns else type(v).__name__
        raise ValueError(f"verdicts must be the table of real_verdicts() with claims {expected}, got {got}")
    failed = v[v["asserted"] & (v["verdict"] != HOLDS)]
    if len(failed):
        lines = [f"{REAL_CHAPTER}: {len(failed)} asserted real-data claim(s) do not hold:"]
        for r in failed.itertuples():
            lines.append(f"  claim {r.id} ({r.statement}): {r.statistic} = {r.estimate:.3f} "
                         f"[{r.low:.3f}, {r.high:.3f}] over {r.n} {r.unit}; rule {r.rule}")
        raise AssertionError("\n".join(lines))
    return v


# --------------------------------------------------------------------------- plots


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def plot_long_tail(ax: Axes | None = None, dataset: str = "imagenet", pretraining: str = "laion400m",
                   data_dir: Path | str | None = None) -> Axes:
    """Rank-frequency plot (log-log) of the concept counts of a benchmark's classes in a corpus.

    Classes with count 0 cannot be drawn on a log axis; their number is given in the
    legend.
    """
    from .plotting import rank_frequency

    ax = _axes(ax)
    counts = load_counts(dataset, pretraining, data_dir).to_numpy()
    zeros = int((counts == 0).sum())
    rank_frequency(counts, ax=ax, label=f"{dataset} classes in {pretraining} ({zeros} of {len(counts)} with 0)")
    ax.set_ylabel(f"pairs in {pretraining}")
    ax.set_xlabel("class rank")
    ax.legend(fontsize=8)
    return ax


DEFAULT_CURVES: tuple[str, ...] = ("ViT-B-32/laion400m", "RN50/cc3m", "RN50/cc12m", "RN50/yfcc15m")
"""The models of :func:`plot_frequency_accuracy` (each with its own corpus's counts)."""


def plot_frequency_accuracy(ax: Axes | None = None, dataset: str = "imagenet",
                            model_list: Sequence[str] = DEFAULT_CURVES, n_bins: int = 8,
                            data_dir: Path | str | None = None) -> Axes:
    """Per-class accuracy against log count, binned, with a t interval over each bin's classes.

    One curve per model, each with its own corpus's counts; the legend gives the
    Spearman correlation over all classes (point estimate; intervals in
    :func:`frequency_accuracy`). Bins of a single class are drawn without a bar.
    """
    ax = _axes(ax)
    for m in model_list:
        df = joined(dataset, m, None, data_dir)
        curve = binned_curve(df, n_bins)
        rho = spearman(df["log10_count"], df["accuracy"])
        yerr = np.vstack([curve["accuracy"] - curve["low"], curve["high"] - curve["accuracy"]])
        ax.errorbar(curve["log10_count"], curve["accuracy"], yerr=np.nan_to_num(yerr), marker="o", ms=4,
                    capsize=2, lw=1, label=f"{m} (Spearman {rho:+.2f})")
    ax.set_xlabel("log10(1 + pairs in the model's corpus)")
    ax.set_ylabel(f"zero-shot accuracy per class ({dataset})")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    return ax


def plot_paired_change(ax: Axes | None = None, dataset: str = "imagenet", arch: str = "RN50",
                       pre_a: str = "cc3m", pre_b: str = "cc12m", data_dir: Path | str | None = None) -> Axes:
    """Per class: change of log count against change of accuracy, ``pre_a`` -> ``pre_b``."""
    ax = _axes(ax)
    t = paired_table(dataset, arch, pre_a, pre_b, data_dir)
    rho = spearman(t["d_log10_count"], t["d_accuracy"])
    ax.scatter(t["d_log10_count"], t["d_accuracy"], s=6, alpha=0.35, lw=0)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_xlabel(f"change of log10(1 + count), {pre_a} -> {pre_b}")
    ax.set_ylabel(f"change of accuracy, {arch}")
    ax.set_title(f"{dataset}: {len(t)} classes, Spearman {rho:+.2f}", fontsize=9)
    return ax
