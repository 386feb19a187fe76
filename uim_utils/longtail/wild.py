"""Wild: the per-class LAION-400M frequencies published by the Neglected Tails authors
(parsed, downloaded failing fast offline), and the long-tail pipeline on a real
``open_clip`` checkpoint with a torchvision dataset.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..offline import OfflineError, require_internet
from .counting import most_frequent_names
from .fit import FrequencyFit, frequency_accuracy_fit, group_correct, head_tail_masks
from .priors import adjust_logits, estimate_prior_unlabelled

if TYPE_CHECKING:  # pragma: no cover
    from ..models import LoadedModel

METRICS_URL = ("https://raw.githubusercontent.com/shubhamprshr27/NeglectedTailsVLM/main/"
               "analysis/laion/{dataset}/metrics-LAION400M.json")
"""Where the Neglected Tails repository publishes per-class LAION-400M frequencies."""


"""Where the Neglected Tails repository publishes per-class LAION-400M frequencies."""


def load_laion_metrics(source: str | os.PathLike[str] | Mapping) -> pd.DataFrame:
    """Parse a Neglected-Tails per-class frequency file into a table.

    The file is a JSON object keyed by class index; each value has ``name``,
    ``alternates`` (``{synonym: caption count}``), ``most_common_name`` and
    ``actual_freq`` (captions mentioning the class by any of its names).

    Parameters
    ----------
    source : path, or the already-parsed dict

    Returns
    -------
    DataFrame
        One row per class, sorted by class index: ``class_idx, name,
        most_common_name, actual_freq, alternates`` (a dict), ``n_alternates``.
    """
    if isinstance(source, Mapping):
        raw = source
        where = "metrics dict"
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no metrics file at {path}")
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc})") from None
        where = str(path)
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(f"{where}: expected a non-empty JSON object keyed by class index")
    rows = []
    for key, v in raw.items():
        try:
            idx = int(key)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: key {key!r} is not a class index") from None
        if not isinstance(v, Mapping):
            raise ValueError(f"{where}: entry {key!r} is not an object")
        missing = {"name", "alternates", "most_common_name", "actual_freq"} - set(v)
        if missing:
            raise ValueError(f"{where}: entry {key!r} lacks {sorted(missing)}")
        alts = v["alternates"]
        if not isinstance(alts, Mapping):
            raise ValueError(f"{where}: alternates of entry {key!r} must be an object, got {alts!r}")
        try:
            alts = {str(a): int(c) for a, c in alts.items()}
            freq = int(v["actual_freq"])
        except (TypeError, ValueError):
            raise ValueError(f"{where}: entry {key!r} has a non-integer count") from None
        rows.append({"class_idx": idx, "name": str(v["name"]), "most_common_name": str(v["most_common_name"]),
                     "actual_freq": freq, "alternates": alts, "n_alternates": len(alts)})
    df = pd.DataFrame(rows).sort_values("class_idx").reset_index(drop=True)
    if df["class_idx"].duplicated().any() or not np.array_equal(df["class_idx"], np.arange(len(df))):
        raise ValueError(f"{where}: class indices must be 0..{len(df) - 1}, got {df['class_idx'].tolist()[:10]}...")
    return df


def metrics_per_name(metrics: pd.DataFrame) -> pd.DataFrame:
    """Long table ``concept, name, count`` from parsed metrics (input of :func:`most_frequent_names`).

    The class's own name comes first (so it wins ties), then its alternates.
    """
    rows = []
    for r in metrics.itertuples():
        alts = dict(r.alternates)
        rows.append((r.class_idx, r.name, int(alts.get(r.name, 0))))
        rows += [(r.class_idx, a, c) for a, c in alts.items() if a != r.name]
    return pd.DataFrame(rows, columns=["concept", "name", "count"])


def fetch_laion_metrics(dataset: str, dest: str | os.PathLike[str], url: str | None = None,
                        timeout: float = 10.0) -> Path:
    """Download the LAION-400M metrics file of ``dataset`` (e.g. ``"flowers102"``).

    Returns the local path (reused if already downloaded).

    Raises
    ------
    uim_utils.offline.OfflineError
        If the download fails (no internet, or offline mode): one sentence, at once.
    """
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", dataset or ""):
        raise ValueError(f"dataset must be a plain name like 'flowers102', got {dataset!r}")
    dest = Path(dest)
    path = dest / f"{dataset}-metrics-LAION400M.json"
    if path.is_file():
        return path
    url = url or METRICS_URL.format(dataset=dataset)
    require_internet(f"Downloading {url}", url, timeout)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data = resp.read()
    except (urllib.error.URLError, OSError) as exc:
        raise OfflineError(f"Downloading {url} needs the internet, but it failed ({exc}).") from None
    load_laion_metrics(json.loads(data))  # validate before keeping it
    from ..cache import atomic_write_bytes

    return atomic_write_bytes(path, data)


@dataclass
class WildResult:
    """What :func:`wild_pipeline` measured on one dataset.

    Attributes
    ----------
    per_class : DataFrame
        ``class_idx, name, real_name, freq, acc_zero_shot, acc_real, acc_adjusted``.
    summary : DataFrame
        Overall, head and tail accuracy per method.
    fit : FrequencyFit
        Zero-shot accuracy against log10(1 + LAION frequency).
    prior : ndarray
        The prior estimated from unlabelled images.
    """

    per_class: pd.DataFrame
    summary: pd.DataFrame
    fit: FrequencyFit
    prior: np.ndarray


def wild_pipeline(
    lm: LoadedModel,
    metrics: pd.DataFrame,
    test_images: np.ndarray | Iterable[Any],
    test_labels: np.ndarray,
    unlabelled_images: np.ndarray | Iterable[Any],
    n_group: int = 20,
    templates: Sequence[str] | None = None,
    batch_size: int = 256,
) -> WildResult:
    """Frequency-accuracy fit, REAL-Prompt and logit adjustment for any CLIP and dataset.

    The same steps as the lab part of the chapter, with the class names and caption
    counts taken from a parsed metrics table (:func:`load_laion_metrics`).

    Parameters
    ----------
    lm : LoadedModel
        A lab or wild CLIP.
    metrics : DataFrame
        Parsed per-class frequencies; row ``i`` describes label ``i``.
    test_images, unlabelled_images
        uint8 arrays (lab), preprocessed tensors, or DataLoaders (wild).
    test_labels : int array
        Labels of ``test_images``.
    n_group : int
        Concepts in the head and in the tail.
    """
    from ..evaluate import accuracy, encode_images, per_class_accuracy, zero_shot_classify

    k = len(metrics)
    test_labels = np.asarray(test_labels)
    if test_labels.size == 0 or test_labels.min() < 0 or test_labels.max() >= k:
        raise ValueError(f"test labels must be in [0, {k - 1}] for a metrics table of {k} classes")
    names = metrics["name"].tolist()
    real = most_frequent_names(metrics_per_name(metrics), fallback=names)
    freq = metrics["actual_freq"].to_numpy()
    f_test = encode_images(lm, test_images, batch_size=batch_size)
    f_unl = encode_images(lm, unlabelled_images, batch_size=batch_size)
    base, unl = zero_shot_classify(lm, names, [f_test, f_unl], templates, learned_scale=True)
    real_logits = zero_shot_classify(lm, real, f_test, templates, learned_scale=True)
    prior = estimate_prior_unlabelled(unl, n_iter=5)
    methods = {"zero-shot": base, "REAL-Prompt": real_logits, "logit adj. (unlabelled)": adjust_logits(base, prior)}
    head, tail = head_tail_masks(freq, n_group)
    rows, per_class = [], metrics[["class_idx", "name"]].copy()
    per_class["real_name"] = real
    per_class["freq"] = freq
    for key, col in zip(methods, ("acc_zero_shot", "acc_real", "acc_adjusted")):
        pred = methods[key].argmax(axis=1)
        per_class[col] = per_class_accuracy(test_labels, pred, k)
        rows.append({"method": key, "overall": accuracy(test_labels, pred),
                     "head": float(group_correct(test_labels, pred, head).mean()),
                     "tail": float(group_correct(test_labels, pred, tail).mean())})
    fit = frequency_accuracy_fit(freq, per_class["acc_zero_shot"].to_numpy())
    return WildResult(per_class, pd.DataFrame(rows).set_index("method"), fit, prior)


_TORCHVISION = {"flowers102": ("Flowers102", "test", "val"), "dtd": ("DTD", "test", "val")}
"""Dataset name -> (torchvision class, test split, split used as unlabelled images)."""


"""Dataset name -> (torchvision class, test split, split used as unlabelled images)."""


def run_wild(dataset: str, model_name: str, pretrained: str, root: str | os.PathLike[str],
             n_group: int = 20, templates: Sequence[str] | None = None,
             device: str | None = None, batch_size: int = 128) -> WildResult:
    """Download a LAION CLIP, a torchvision dataset and its LAION counts; run :func:`wild_pipeline`.

    The metrics file is fetched first, so without internet this fails within seconds
    with :class:`~uim_utils.offline.OfflineError`. The class order of the metrics
    file is assumed to be torchvision's label order (true for Flowers102 and DTD).
    """
    import torch
    import torchvision

    from ..models import load_model

    if dataset not in _TORCHVISION:
        raise ValueError(f"unknown wild dataset {dataset!r}; choose one of {', '.join(_TORCHVISION)}")
    root = Path(root)
    metrics = load_laion_metrics(fetch_laion_metrics(dataset, root))
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    lm = load_model(model_name, pretrained, device=device)
    cls_name, test_split, unl_split = _TORCHVISION[dataset]
    cls = getattr(torchvision.datasets, cls_name)
    try:
        test = cls(root, split=test_split, download=True, transform=lm.preprocess)
        unl = cls(root, split=unl_split, download=True, transform=lm.preprocess)
    except (urllib.error.URLError, OSError, RuntimeError) as exc:
        raise OfflineError(f"Downloading {cls_name} needs the internet, but it failed ({exc}).") from None
    labels = np.asarray(test._labels)  # torchvision keeps the labels without loading images
    if len(metrics) != len(test.classes):
        raise ValueError(f"metrics has {len(metrics)} classes but {cls_name} has {len(test.classes)}")
    loader = torch.utils.data.DataLoader
    return wild_pipeline(lm, metrics, loader(test, batch_size=batch_size, num_workers=2),
                         labels, loader(unl, batch_size=batch_size, num_workers=2),
                         n_group=n_group, templates=templates, batch_size=batch_size)
