"""Fine-tuning a lab CLIP into a classifier: zero-shot head, linear probe, full fine-tuning,
LP-FT and WiSE-FT weight interpolation.

This follows the reference code of WiSE-FT (Wortsman et al., CVPR 2022;
mlfoundations/wise-ft, ``src/models/modeling.py``, ``finetune.py``, ``zeroshot.py``,
``wise_ft.py``):

- **The classifier** is the CLIP image encoder followed by a linear head on the
  L2-normalised features (``ClassificationHead(normalize=True)``). A **zero-shot** head's
  weights are the normalised class-prompt embeddings times the model's learned
  temperature ``logit_scale.exp()``, with zero bias (:meth:`ImageClassifier.zero_shot`).
- **Fine-tuning** trains encoder and head end to end with cross-entropy, AdamW, a cosine
  schedule after a linear warm-up, and gradient clipping at norm 1.0
  (:func:`finetune`; ``freeze_encoder=True`` trains the head alone).
- **WiSE-FT** interpolates every weight of the zero-shot and the fine-tuned classifier,
  ``theta = (1 - alpha) theta_zs + alpha theta_ft`` (:func:`interpolate`).

**LP-FT** (Kumar et al., ICLR 2022) first fits a linear probe on frozen features, a
logistic regression (:func:`probe_head`), then fine-tunes from that head
(:meth:`ImageClassifier.from_head`).

The lab's image encoder has BatchNorm layers (the reference's CLIP ViTs have none):
``FinetuneConfig.freeze_bn`` keeps their running statistics (eval mode) while the
weights train, so that fine-tuning on one domain does not also re-estimate the
normalisation of every other domain. Training runs with one thread
(:func:`uim_utils.parallel.limited_threads`), so the same seed gives the same weights.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from . import parallel
from .evaluate import zero_shot_head
from .models import LoadedModel, array_preprocess, lab_to_tensor
from .pretrain import cosine_lr
from .validate import check_int, check_labelled_images

__all__ = ["FinetuneConfig", "ImageClassifier", "finetune", "interpolate", "predict", "probe_head"]


class ImageClassifier(torch.nn.Module):
    """A CLIP image encoder and a linear head on its L2-normalised features.

    Parameters
    ----------
    encoder : torch.nn.Module
        The image tower (``lm.model.visual``); copied, so the source model is untouched.
    weight : array (K, D)
        Head weights.
    bias : array (K,)
        Head biases.
    to_tensor : callable
        uint8 images ``(N, H, W, 3)`` -> the encoder's input (default
        :func:`uim_utils.models.lab_to_tensor`; :func:`uim_utils.models.array_preprocess`
        gives a wild model's). The classifier runs on the device of its weights: move it
        with ``clf.to("cuda")``.
    """

    def __init__(self, encoder: torch.nn.Module, weight: np.ndarray | torch.Tensor,
                 bias: np.ndarray | torch.Tensor,
                 to_tensor: Callable[[np.ndarray], torch.Tensor] = lab_to_tensor) -> None:
        super().__init__()
        w = torch.as_tensor(np.asarray(weight, dtype=np.float32))
        b = torch.as_tensor(np.asarray(bias, dtype=np.float32))
        if w.ndim != 2 or b.shape != (w.shape[0],) or w.shape[0] < 2:
            raise ValueError(f"head weight must be (K, D) with K >= 2 and bias (K,), got {tuple(w.shape)} "
                             f"and {tuple(b.shape)}")
        self.encoder = copy.deepcopy(encoder)
        self.head = torch.nn.Linear(w.shape[1], w.shape[0])
        self.head.weight = torch.nn.Parameter(w.clone())
        self.head.bias = torch.nn.Parameter(b.clone())
        self.to_tensor = to_tensor

    @classmethod
    def zero_shot(cls, lm: LoadedModel, classnames: Sequence[str] | Sequence[Sequence[str]]) -> ImageClassifier:
        """The zero-shot classifier: prompt-ensembled class embeddings times ``logit_scale.exp()``."""
        head = zero_shot_head(lm, classnames)
        scale = float(lm.model.logit_scale.detach().exp())
        return cls(lm.model.visual, head * scale, np.zeros(len(head), np.float32), array_preprocess(lm))

    @classmethod
    def from_head(cls, lm: LoadedModel, weight: np.ndarray, bias: np.ndarray) -> ImageClassifier:
        """The image encoder of ``lm`` with a given head (e.g. a linear probe's, for LP-FT)."""
        return cls(lm.model.visual, weight, bias, array_preprocess(lm))

    @property
    def device(self) -> torch.device:
        """Where the classifier's weights are."""
        return self.head.weight.device

    def batch(self, images: np.ndarray) -> torch.Tensor:
        """uint8 images ``(N, H, W, 3)`` as the encoder's input, on the classifier's device."""
        return self.to_tensor(images).to(self.device)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """L2-normalised image features of a preprocessed batch."""
        f = self.encoder(x)
        return f / f.norm(dim=-1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits of a preprocessed batch ``(B, 3, H, W)``."""
        return self.head(self.features(x))


@dataclass(frozen=True)
class FinetuneConfig:
    """Settings of :func:`finetune`.

    Attributes
    ----------
    lr : float
        Peak learning rate of AdamW, in (0, 1].
    epochs : int
        Passes over the training images, 1 to 200.
    batch_size : int
        Images per step, at least 2.
    weight_decay : float
        AdamW weight decay (WiSE-FT's 0.1), >= 0.
    warmup_steps : int
        Linear warm-up steps before the cosine decay, >= 0.
    freeze_encoder : bool
        Train the head alone (a linear probe by gradient descent).
    freeze_bn : bool
        Keep the encoder's BatchNorm statistics (see the module docstring).
    seed : int
        Seed of the shuffling.
    """

    lr: float = 1e-3
    epochs: int = 10
    batch_size: int = 128
    weight_decay: float = 0.1
    warmup_steps: int = 20
    freeze_encoder: bool = False
    freeze_bn: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.lr, bool) or not 0 < float(self.lr) <= 1:
            raise ValueError(f"lr must be in (0, 1], got {self.lr!r}")
        if isinstance(self.weight_decay, bool) or not 0 <= float(self.weight_decay) <= 10:
            raise ValueError(f"weight_decay must be in [0, 10], got {self.weight_decay!r}")
        for name, lo, hi in (("epochs", 1, 200), ("batch_size", 2, 65536), ("warmup_steps", 0, 10**6),
                             ("seed", 0, 2**32 - 1)):
            check_int(name, getattr(self, name), lo, hi)


def _check_training_set(images: np.ndarray, labels: np.ndarray, n_classes: int, min_images: int) -> np.ndarray:
    """Labels as int64 (:func:`uim_utils.validate.check_labelled_images`), each a class of the
    ``n_classes`` of the head."""
    y, seen = check_labelled_images(images, labels, min_images)
    if seen > n_classes:
        raise ValueError(f"labels must be in [0, {n_classes - 1}], got {y.min()}..{y.max()}")
    return y


def finetune(clf: ImageClassifier, images: np.ndarray, labels: np.ndarray,
             config: FinetuneConfig = FinetuneConfig()) -> ImageClassifier:
    """A fine-tuned copy of ``clf`` (``clf`` itself is not changed).

    Cross-entropy, AdamW (decay on every trained parameter, as the reference), linear
    warm-up then cosine decay per step, gradient norm clipped at 1.0; the last ragged
    batch of an epoch is dropped. One thread, so the weights repeat exactly.

    Parameters
    ----------
    clf : ImageClassifier
    images : uint8 array (N, H, W, 3)
    labels : int array (N,)
        Classes in ``[0, K)``.
    config : FinetuneConfig
    """
    y = _check_training_set(images, labels, clf.head.out_features, config.batch_size)
    out = copy.deepcopy(clf)
    params = list(out.head.parameters()) if config.freeze_encoder else list(out.parameters())
    with parallel.limited_threads():
        _train(out, params, images, y, config)
    out.eval()
    return out


def _train(clf: ImageClassifier, params: list[torch.nn.Parameter], images: np.ndarray, y: np.ndarray,
           config: FinetuneConfig) -> None:
    """The loop of :func:`finetune`, in place."""
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    steps = len(images) // config.batch_size
    total = steps * config.epochs
    clf.train()
    if config.freeze_encoder or config.freeze_bn:
        for m in clf.encoder.modules():
            if config.freeze_encoder or isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()
    step = 0
    for _ in range(config.epochs):
        perm = torch.randperm(len(images), generator=gen).numpy()
        for b in range(steps):
            idx = np.sort(perm[b * config.batch_size:(b + 1) * config.batch_size])
            for group in opt.param_groups:
                group["lr"] = cosine_lr(step, total, config.warmup_steps, config.lr)
            target = torch.as_tensor(y[idx]).to(clf.device)
            loss = torch.nn.functional.cross_entropy(clf(clf.batch(images[idx])), target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1


def interpolate(zero_shot: ImageClassifier, tuned: ImageClassifier, alpha: float) -> ImageClassifier:
    """WiSE-FT: ``(1 - alpha) theta_zs + alpha theta_ft`` for every floating-point weight and
    buffer (BatchNorm's running statistics too); integer buffers (batch counters) are the
    fine-tuned model's.

    Parameters
    ----------
    zero_shot, tuned : ImageClassifier
        Two classifiers of the same architecture (usually one fine-tuned from the other).
    alpha : float
        In [0, 1]: 0 is ``zero_shot``, 1 is ``tuned``.
    """
    if isinstance(alpha, bool) or not 0 <= float(alpha) <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    a, b = zero_shot.state_dict(), tuned.state_dict()
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise ValueError("the two classifiers differ in their weights' names or shapes: not the same architecture")
    out = copy.deepcopy(tuned)
    out.load_state_dict({k: (1 - alpha) * a[k] + alpha * b[k] if a[k].is_floating_point() else b[k] for k in a})
    out.eval()
    return out


@torch.no_grad()
def predict(clf: ImageClassifier, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Predicted classes of uint8 images ``(N, H, W, 3)``, with one thread."""
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must be a non-empty array (N, H, W, 3), got shape {images.shape}")
    check_int("batch_size", batch_size, 1)
    clf.eval()
    with parallel.limited_threads():
        out = [clf(clf.batch(images[a:a + batch_size])).argmax(1).cpu() for a in range(0, len(images), batch_size)]
    return torch.cat(out).numpy()


@torch.no_grad()
def probe_head(clf: ImageClassifier, images: np.ndarray, labels: np.ndarray, C: float = 1.0,
               max_iter: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """A linear probe on the classifier's normalised features (scikit-learn's
    ``LogisticRegression``): the ``(weight, bias)`` of a head for LP-FT.

    Parameters
    ----------
    clf : ImageClassifier
        Its encoder gives the features (its head is ignored).
    images : uint8 array (N, H, W, 3)
    labels : int array (N,)
        Every one of the head's classes must appear.
    C : float
        Inverse L2 strength, > 0.
    max_iter : int
    """
    from sklearn.linear_model import LogisticRegression

    if isinstance(C, bool) or not float(C) > 0:
        raise ValueError(f"C must be > 0, got {C!r}")
    y = _check_training_set(images, labels, clf.head.out_features, 1)
    if len(np.unique(y)) != clf.head.out_features:
        raise ValueError(f"the probe needs every one of the {clf.head.out_features} classes in labels, "
                         f"got {len(np.unique(y))}")
    clf.eval()
    with parallel.limited_threads():
        feats = torch.cat([clf.features(clf.batch(images[a:a + 512])).cpu() for a in range(0, len(images), 512)])
    lr = LogisticRegression(C=float(C), max_iter=max_iter).fit(feats.numpy(), y)
    return lr.coef_.astype(np.float32), lr.intercept_.astype(np.float32)
