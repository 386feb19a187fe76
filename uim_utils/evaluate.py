"""Evaluation shared by lab and wild models: features, zero-shot, linear probe, spectra.

Every function takes an ``open_clip`` model (lab or pretrained) and either uint8 image
arrays (lab) or already preprocessed tensors / a DataLoader (wild), so a chapter runs
the same evaluation on a tiny lab CLIP and on a LAION checkpoint. Intervals and tests
live in :mod:`uim_utils.stats`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, overload

import numpy as np
import torch
from tqdm.auto import tqdm

from .models import LoadedModel, lab_to_tensor
from .world import EVAL_TEMPLATES


def _batches(images: np.ndarray | torch.Tensor | Iterable, batch_size: int) -> Iterable[torch.Tensor]:
    if isinstance(images, np.ndarray):
        for a in range(0, len(images), batch_size):
            yield lab_to_tensor(images[a:a + batch_size])
    elif isinstance(images, torch.Tensor):
        for a in range(0, len(images), batch_size):
            yield images[a:a + batch_size]
    else:  # a DataLoader of (x, y) or of x
        for batch in images:
            yield batch[0] if isinstance(batch, (list, tuple)) else batch


@torch.no_grad()
def encode_images(
    lm: LoadedModel,
    images: np.ndarray | torch.Tensor | Iterable,
    batch_size: int = 512,
    normalize: bool = True,
    progress: bool = False,
) -> np.ndarray:
    """Image embeddings, shape ``(N, D)``, float32.

    Parameters
    ----------
    lm : LoadedModel
    images : uint8 array (N, H, W, 3), preprocessed tensor (N, 3, H, W), or a DataLoader
    normalize : bool
        L2-normalise (what CLIP's zero-shot head uses). Linear probes usually take the
        raw features: pass ``False``.
    """
    lm.model.eval()
    device = next(lm.model.parameters()).device
    out = [lm.model.encode_image(x.to(device), normalize=normalize).float().cpu()
           for x in tqdm(_batches(images, batch_size), disable=not progress, desc="encoding images", leave=False)]
    if not out:
        raise ValueError("no images to encode")
    return torch.cat(out).numpy()


@torch.no_grad()
def encode_texts(lm: LoadedModel, texts: Sequence[str], batch_size: int = 1024, normalize: bool = True) -> np.ndarray:
    """Text embeddings, shape ``(N, D)``, float32.

    A list with repeated texts (a templated corpus's captions: 40,000 captions hold a few
    thousand distinct ones) is encoded once per distinct text, in first-appearance order,
    and spread back to every row.
    """
    if len(texts) == 0:
        raise ValueError("no texts to encode")
    texts = list(texts)
    first: dict[str, int] = {}
    inverse = np.array([first.setdefault(t, len(first)) for t in texts])
    if len(first) < len(texts):
        return encode_texts(lm, list(first), batch_size=batch_size, normalize=normalize)[inverse]
    device = next(lm.model.parameters()).device
    out = []
    for a in range(0, len(texts), batch_size):
        tok = lm.tokenizer(list(texts[a:a + batch_size])).to(device)
        out.append(lm.model.encode_text(tok, normalize=normalize).float().cpu())
    return torch.cat(out).numpy()


def zero_shot_head(
    lm: LoadedModel,
    classnames: Sequence[str] | Sequence[Sequence[str]],
    templates: Sequence[str] = EVAL_TEMPLATES,
) -> np.ndarray:
    """Zero-shot classifier weights ``(K, D)`` by prompt ensembling.

    Each class's weight is the normalised mean of the normalised embeddings of every
    ``template.format(name)`` (Radford et al. 2021). A class may be given several names
    (a list), which are ensembled too.
    """
    if len(classnames) == 0:
        raise ValueError("classnames is empty")
    if not templates:
        raise ValueError("templates is empty")
    weights = []
    for c in classnames:
        names = [c] if isinstance(c, str) else list(c)
        if not names or any(not n.strip() for n in names):
            raise ValueError(f"empty class name in {c!r}")
        prompts = [t.format(n) for n in names for t in templates]
        e = encode_texts(lm, prompts).mean(axis=0)
        weights.append(e / np.linalg.norm(e))
    return np.stack(weights).astype(np.float32)


def zero_shot_logits(image_features: np.ndarray, head: np.ndarray, scale: float = 100.0) -> np.ndarray:
    """Zero-shot logits ``scale * cos(image, class)``, shape ``(N, K)``."""
    if image_features.shape[1] != head.shape[1]:
        raise ValueError(f"feature dim {image_features.shape[1]} != head dim {head.shape[1]}")
    f = image_features / np.linalg.norm(image_features, axis=1, keepdims=True)
    return scale * f @ head.T


@overload
def zero_shot_classify(lm: LoadedModel, classnames: Sequence[str] | Sequence[Sequence[str]],
                       features: np.ndarray, templates: Sequence[str] | None = None,
                       learned_scale: bool = False) -> np.ndarray: ...


@overload
def zero_shot_classify(lm: LoadedModel, classnames: Sequence[str] | Sequence[Sequence[str]],
                       features: Sequence[np.ndarray], templates: Sequence[str] | None = None,
                       learned_scale: bool = False) -> list[np.ndarray]: ...


def zero_shot_classify(
    lm: LoadedModel,
    classnames: Sequence[str] | Sequence[Sequence[str]],
    features: np.ndarray | Sequence[np.ndarray],
    templates: Sequence[str] | None = None,
    learned_scale: bool = False,
) -> np.ndarray | list[np.ndarray]:
    """Zero-shot logits: encode the class prompts into a head, then score image features.

    The one home of "class prompts -> head -> predict": the head is built once
    (:func:`zero_shot_head`) and applied to each feature matrix (:func:`zero_shot_logits`);
    ``.argmax(1)`` of a result is the predicted class of every image.

    Parameters
    ----------
    lm : LoadedModel
    classnames : class names (or, per class, a list of names to ensemble)
    features : image features ``(N, D)`` (:func:`encode_images`), or a sequence of them
    templates : prompt templates; default :data:`uim_utils.world.EVAL_TEMPLATES`
    learned_scale : bool
        Scale the cosines by the model's own learned temperature
        (``logit_scale.exp()``), so that their softmax is the model's probability (what
        a prior estimate needs); otherwise by CLIP's fixed 100.

    Returns
    -------
    ndarray ``(N, K)`` of logits, or a list of them if ``features`` is a sequence.
    """
    head = zero_shot_head(lm, classnames, EVAL_TEMPLATES if templates is None else templates)
    scale = float(lm.model.logit_scale.exp().item()) if learned_scale else 100.0
    if isinstance(features, np.ndarray):
        return zero_shot_logits(features, head, scale=scale)
    return [zero_shot_logits(f, head, scale=scale) for f in features]


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of correct predictions."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must be equal, non-empty shapes")
    return float((y_true == y_pred).mean())


def per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Accuracy (recall) of each class; NaN for a class absent from ``y_true``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    correct = np.bincount(y_true, weights=(y_true == y_pred).astype(float), minlength=n_classes)
    total = np.bincount(y_true, minlength=n_classes).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, correct / np.maximum(total, 1), np.nan)


def linear_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray | Sequence[np.ndarray],
    C: float = 1.0,
    max_iter: int = 1000,
    seed: int = 0,
) -> tuple[object, list[np.ndarray]]:
    """Fit a multinomial logistic regression on frozen features; predict test sets.

    Features are standardised on the training set first (scikit-learn pipeline).

    Returns
    -------
    clf : sklearn Pipeline
    predictions : list of int arrays, one per test set
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, random_state=seed))
    clf.fit(train_x, train_y)
    tests = [test_x] if isinstance(test_x, np.ndarray) else list(test_x)
    return clf, [clf.predict(t) for t in tests]


def spectrum_stats(features: np.ndarray, top_k: int = 5) -> dict[str, Any]:
    """Singular-value statistics of a feature matrix (Chen et al., ICLR 2024).

    Features are centred. Returns the singular values, the entropy of the normalised
    spectrum ``p = s / sum(s)`` (higher = flatter, more dimensions in use), and the share
    of the ``top_k`` largest values.
    """
    if features.ndim != 2 or min(features.shape) < 2:
        raise ValueError(f"need a 2-D feature matrix with at least 2 rows and columns, got {features.shape}")
    x = features - features.mean(axis=0, keepdims=True)
    s = np.linalg.svd(x.astype(np.float64), compute_uv=False)
    p = s / s.sum()
    entropy = float(-(p[p > 0] * np.log(p[p > 0])).sum())
    return {"singular_values": s, "entropy": entropy, "top_k_share": float(p[:top_k].sum()),
            "largest_share": float(p[0])}
