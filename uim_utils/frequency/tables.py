"""Per-class tables: concept counts in a pre-training corpus, a model's per-class zero-shot
accuracy, and the two joined by class name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .files import (
    PRETRAINING,
    DataCorruptError,
    _check_dataset,
    _check_pretraining,
    _counts_path,
    _dir,
    _model_id,
    _published_zero_shot,
    _read_verified,
    _zs_path,
    parse_model,
    pretraining_sets,
)

if TYPE_CHECKING:  # pragma: no cover
    pass


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
