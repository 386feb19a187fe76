"""Wild: fine-tuning a real CLIP under a natural distribution shift (CIFAR-10 -> STL-10).

The robustness chapter's Interpret and Mitigate on an ``open_clip`` checkpoint: the
zero-shot head, a linear probe, full fine-tuning and WiSE-FT (:mod:`uim_utils.finetune`),
fitted on CIFAR-10 training photos and evaluated on CIFAR-10's test set (in
distribution) and on STL-10's (a natural shift: other photos of nine of the same
classes, at another resolution, from another source). The data come from
``torchvision`` (downloaded, failing fast offline); :func:`wild_pipeline` takes the
arrays, so it is tested offline on a local fixture.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .offline import OfflineError, require_internet
from .validate import check_int, check_labelled_images

if TYPE_CHECKING:  # pragma: no cover
    from .finetune import FinetuneConfig
    from .models import LoadedModel

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
"""torchvision's CIFAR-10 label order."""
STL10_TO_CIFAR10 = {0: 0, 1: 2, 2: 1, 3: 3, 4: 4, 5: 5, 6: 7, 8: 8, 9: 9}
"""STL-10 label -> CIFAR-10 label for the nine shared classes (STL-10's 7, monkey, has none;
CIFAR-10's frog has no STL-10 images)."""


@dataclass
class ShiftData:
    """Labelled uint8 images ``(N, H, W, 3)``: a training set, an ID and an OOD test set.

    Raises
    ------
    ValueError
        If a set is not a non-empty uint8 image array with one integer label per image
        in ``[0, len(classnames))``, or ``classnames`` has fewer than 2 names.
    """

    classnames: tuple[str, ...]
    train_x: np.ndarray
    train_y: np.ndarray
    id_x: np.ndarray
    id_y: np.ndarray
    ood_x: np.ndarray
    ood_y: np.ndarray

    def __post_init__(self) -> None:
        if len(self.classnames) < 2:
            raise ValueError(f"classnames must name at least 2 classes, got {self.classnames!r}")
        for name in ("train", "id", "ood"):
            y, _ = check_labelled_images(getattr(self, f"{name}_x"), getattr(self, f"{name}_y"), 1)
            if y.min() < 0 or y.max() >= len(self.classnames):
                raise ValueError(f"{name}_y must be in [0, {len(self.classnames) - 1}], got {y.min()}..{y.max()}")
            setattr(self, f"{name}_y", y)


def stl_to_cifar(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The STL-10 images of the shared classes: ``(keep mask, CIFAR-10 labels of the kept)``."""
    labels = np.asarray(labels)
    keep = np.isin(labels, list(STL10_TO_CIFAR10))
    return keep, np.array([STL10_TO_CIFAR10[int(v)] for v in labels[keep]], dtype=np.int64)


def per_class_subset(labels: np.ndarray, n_per_class: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ``n_per_class`` images of each class, drawn with ``seed``."""
    check_int("n_per_class", n_per_class, 1)
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    picked = [rng.permutation(np.flatnonzero(labels == c))[:n_per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(picked))


def load_cifar_stl(root: str | Path, n_train_per_class: int = 100, n_test_per_class: int = 200,
                   seed: int = 0) -> ShiftData:
    """CIFAR-10 (train and test) and STL-10 (test) from torchvision, downloaded into ``root``.

    Without internet this fails within seconds with :class:`~uim_utils.offline.OfflineError`.
    """
    import torchvision

    require_internet("Downloading CIFAR-10 and STL-10", url="https://www.cs.toronto.edu/~kriz/",
                     hint="run the wild profile where there is (Colab)")
    try:
        train = torchvision.datasets.CIFAR10(str(root), train=True, download=True)
        test = torchvision.datasets.CIFAR10(str(root), train=False, download=True)
        stl = torchvision.datasets.STL10(str(root), split="test", download=True)
    except (OSError, RuntimeError) as exc:
        raise OfflineError(f"Downloading CIFAR-10 and STL-10 failed ({exc}).") from None
    tr = per_class_subset(np.asarray(train.targets), n_train_per_class, seed)
    te = per_class_subset(np.asarray(test.targets), n_test_per_class, seed + 1)
    keep, stl_y = stl_to_cifar(stl.labels)
    st = per_class_subset(stl_y, n_test_per_class, seed + 2)
    stl_x = np.transpose(stl.data[keep], (0, 2, 3, 1))[st]
    return ShiftData(CIFAR10_CLASSES, train.data[tr], np.asarray(train.targets)[tr], test.data[te],
                     np.asarray(test.targets)[te], np.ascontiguousarray(stl_x), stl_y[st])


def wild_pipeline(lm: LoadedModel, data: ShiftData, config: FinetuneConfig,
                  alphas: tuple[float, ...] = (0.25, 0.5, 0.75), device: str | None = None) -> pd.DataFrame:
    """ID and OOD accuracy of a CLIP turned into a classifier of ``data.classnames`` four ways.

    Returns
    -------
    DataFrame
        One row per classifier: ``method`` (zero-shot, linear probe, fine-tuned,
        WiSE-FT), ``alpha`` (0 zero-shot, 1 fine-tuned, NaN for the probe), ``id`` and
        ``ood`` (accuracy on ``data``'s ID and OOD test sets). The OOD set may lack
        classes of the ID set (STL-10 has no frogs); its accuracy is over its own images.
    """
    from . import finetune as ft

    if any(isinstance(a, bool) or not 0 <= float(a) <= 1 for a in alphas):
        raise ValueError(f"alphas must be in [0, 1], got {alphas!r}")
    zs = ft.ImageClassifier.zero_shot(lm, list(data.classnames)).to(device or "cpu")
    tuned = ft.finetune(zs, data.train_x, data.train_y, config)
    weight, bias = ft.probe_head(zs, data.train_x, data.train_y)
    probe = ft.ImageClassifier(zs.encoder, weight, bias, zs.to_tensor)
    rows = [_score("zero-shot", 0.0, zs, data), _score("linear probe", float("nan"), probe.to(zs.device), data)]
    rows += [_score("WiSE-FT", float(a), ft.interpolate(zs, tuned, float(a)), data) for a in alphas]
    rows.append(_score("fine-tuned", 1.0, tuned, data))
    return pd.DataFrame(rows)


def _score(method: str, alpha: float, clf: Any, data: ShiftData) -> dict[str, Any]:
    """One row of :func:`wild_pipeline`."""
    from .finetune import predict

    return {"method": method, "alpha": alpha, "id": float((predict(clf, data.id_x) == data.id_y).mean()),
            "ood": float((predict(clf, data.ood_x) == data.ood_y).mean())}


def run_wild(root: str | Path, model_name: str = "ViT-B-32", pretrained: str = "laion400m_e32",
             config: FinetuneConfig | None = None, n_train_per_class: int = 100, n_test_per_class: int = 200,
             seed: int = 0, device: str | None = None) -> pd.DataFrame:
    """Download the data and a LAION CLIP, then :func:`wild_pipeline` (a GPU is advised).

    The default fine-tuning follows WiSE-FT's reference for CLIP ViTs at a small budget:
    AdamW, learning rate 1e-5, weight decay 0.1, 5 epochs of batches of 64.
    """
    import torch

    from .finetune import FinetuneConfig
    from .models import load_model

    data = load_cifar_stl(root, n_train_per_class, n_test_per_class, seed)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    lm = load_model(model_name, pretrained, device=device)
    config = config or FinetuneConfig(lr=1e-5, epochs=5, batch_size=64, warmup_steps=10, seed=seed)
    return wild_pipeline(lm, data, replace(config, seed=seed), device=device)


__all__ = ["CIFAR10_CLASSES", "STL10_TO_CIFAR10", "ShiftData", "load_cifar_stl", "per_class_subset", "run_wild",
           "stl_to_cifar", "wild_pipeline"]
