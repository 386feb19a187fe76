"""NMTune (Chen et al., ICLR 2024) as the reference implementation trains it.

NMTune tunes a small MLP on top of a *frozen* pre-trained image encoder, with three
regularisers that undo what noisy pre-training did to the feature space. This module
follows the authors' code (Hhhhhhao/Noisy-Model-Learning, ``src/models/nml_tune.py``,
``src/models/modeling.py`` ``ImageEncoderMLP``, defaults of ``src/args.py``):

- **Two views of every training image.** A weak view (random resized crop, scale
  0.9-1, as the CLIP training transform of the wise-ft code base the reference builds
  on) and a strong view (another crop of the same kind, then ``RandAugment(3, 5)``), both through the
  frozen encoder (``encode_image``, unnormalised features ``f``).
- **The MLP** ``h`` is ``Linear(d, 4d) -> BatchNorm1d -> ReLU -> Linear(4d, d)``, not
  residual by default (``mlp_with_res=False``); the classifier is a linear head on
  ``h(f)`` with Kaiming-uniform weights and zero bias.
- **The loss** of a batch of B images (2B views):
  ``CE(head(h(f)), y)`` over both views
  ``+ mse_weight * MSE(normalize(h(f_strong)), normalize(f_weak))`` (the tuned strong
  view must stay near the frozen weak view: it keeps the pre-trained knowledge, and it
  is why the two views matter; with one view the term only pulls ``h`` toward the
  identity)
  ``+ cov_weight * sum_{i != j} Cov(h(f))_ij^2 / d`` (decorrelate the dimensions)
  ``- svd_weight * mean(top-5 of sigma / sum(sigma))`` of ``h(f)`` (raise the dominant
  singular values that noise flattened).
- AdamW (lr 1e-3, weight decay 0.1), cosine schedule without warm-up, batch 128,
  10 epochs.

:data:`CE_ONLY` is the same MLP, head, views and schedule with cross-entropy alone: the
baseline that isolates what the three terms add.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F

from . import parallel
from .augment import GroupedRandAugment
from .models import LAB_MEAN, LAB_STD, LoadedModel, lab_to_tensor
from .pretrain import cosine_lr
from .validate import check_int, check_labelled_images, check_nonnegative


@dataclass(frozen=True)
class NMTuneConfig:
    """Settings of NMTune; defaults are the reference implementation's.

    Attributes
    ----------
    mse_weight, cov_weight, svd_weight : float
        Weights of the consistency, covariance and singular-value terms (1.0, 0.04, 0.001).
    top_k : int
        Dominant singular values averaged by the SVD term (5).
    mlp_ratio, mlp_layers : int
        Hidden width = ``mlp_ratio * d``, hidden layers (4, 1).
    residual : bool
        ``h(f) = scale * mlp(f) + f`` with a learnt per-dimension ``scale`` (reference
        option ``mlp_with_res``, off by default).
    residual_scale : float
        Initial ``scale`` of the residual form (0.5).
    crop_scale : tuple of float
        Area range of the random resized crop of both views ((0.9, 1.0)).
    randaugment_ops, randaugment_magnitude : int
        ``torchvision`` ``RandAugment(num_ops, magnitude)`` of the strong view (3, 5).
    epochs, batch_size, lr, weight_decay, warmup_steps, seed
        Training settings (10, 128, 1e-3, 0.1, 0, 0).
    """

    mse_weight: float = 1.0
    cov_weight: float = 0.04
    svd_weight: float = 0.001
    top_k: int = 5
    mlp_ratio: int = 4
    mlp_layers: int = 1
    residual: bool = False
    residual_scale: float = 0.5
    crop_scale: tuple[float, float] = (0.9, 1.0)
    randaugment_ops: int = 3
    randaugment_magnitude: int = 5
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup_steps: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("mse_weight", "cov_weight", "svd_weight", "weight_decay", "residual_scale"):
            check_nonnegative(name, getattr(self, name))
        for name, least in (("top_k", 1), ("mlp_ratio", 1), ("mlp_layers", 1), ("randaugment_ops", 0),
                            ("randaugment_magnitude", 0), ("epochs", 1), ("batch_size", 2), ("warmup_steps", 0),
                            ("seed", 0)):
            check_int(name, getattr(self, name), least)
        lo, hi = self.crop_scale
        if not 0 < lo <= hi <= 1:
            raise ValueError(f"crop_scale must satisfy 0 < low <= high <= 1, got {self.crop_scale!r}")
        if not 0 < self.lr <= 1:
            raise ValueError(f"lr must be in (0, 1], got {self.lr!r}")

    @property
    def regularised(self) -> bool:
        """Whether any of the three NMTune terms is on."""
        return bool(self.mse_weight or self.cov_weight or self.svd_weight)


CE_ONLY = NMTuneConfig(mse_weight=0.0, cov_weight=0.0, svd_weight=0.0)
"""The same MLP, views and schedule trained with cross-entropy alone."""


class NMTuneMLP(torch.nn.Module):
    """The reference ``mlp_after`` with its classification head.

    ``dims = [d] + [mlp_ratio * d] * mlp_layers + [d]``; every hidden layer is
    ``Linear -> BatchNorm1d -> ReLU``, the last a plain ``Linear``.
    """

    def __init__(self, dim: int, n_classes: int, config: NMTuneConfig) -> None:
        super().__init__()
        dims = [dim] + [config.mlp_ratio * dim] * config.mlp_layers + [dim]
        layers: list[torch.nn.Module] = []
        for a, b in itertools.pairwise(dims[:-1]):
            layers += [torch.nn.Linear(a, b), torch.nn.BatchNorm1d(b), torch.nn.ReLU()]
        layers.append(torch.nn.Linear(dims[-2], dims[-1]))
        self.mlp = torch.nn.Sequential(*layers)
        self.scale = (torch.nn.Parameter(torch.full((1, dim), float(config.residual_scale)))
                      if config.residual else None)
        self.head = torch.nn.Linear(dim, n_classes)
        with torch.no_grad():
            self.head.weight.copy_(torch.nn.init.kaiming_uniform_(torch.empty(n_classes, dim)))
            self.head.bias.zero_()

    def embed(self, f: torch.Tensor) -> torch.Tensor:
        """The tuned features ``h(f)``."""
        z = self.mlp(f)
        return self.scale * z + f if self.scale is not None else z

    def forward(self, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.embed(f)
        return self.head(z), z


def off_diagonal(m: torch.Tensor) -> torch.Tensor:
    """The off-diagonal entries of a square matrix, flattened (the reference's trick)."""
    n, k = m.shape
    if n != k:
        raise ValueError(f"need a square matrix, got shape {tuple(m.shape)}")
    return m.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def nmtune_terms(z: torch.Tensor, z_strong: torch.Tensor, f_weak: torch.Tensor,
                 top_k: int = 5) -> dict[str, torch.Tensor]:
    """The three NMTune terms of a batch, unweighted.

    Parameters
    ----------
    z : tensor (2B, d)
        Tuned features of both views (weak rows first).
    z_strong : tensor (B, d)
        Tuned features of the strong views.
    f_weak : tensor (B, d)
        Frozen features of the weak views (detached here).
    top_k : int

    Returns
    -------
    dict with ``mse`` (``MSE(normalize(z_strong), normalize(f_weak))``), ``cov``
    (``sum of squared off-diagonal covariances of z / d``) and ``svd`` (mean of the
    ``top_k`` largest ``sigma / sum(sigma)`` of ``z``; the loss *subtracts* it).
    """
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"z must be 2-D with at least 2 rows, got shape {tuple(z.shape)}")
    if z_strong.shape != f_weak.shape or z_strong.shape[1] != z.shape[1]:
        raise ValueError(f"z_strong {tuple(z_strong.shape)} and f_weak {tuple(f_weak.shape)} must match "
                         f"each other and z's width {z.shape[1]}")
    mse = F.mse_loss(F.normalize(z_strong, dim=1), F.normalize(f_weak.detach(), dim=1))
    zc = z - z.mean(dim=0)
    cov = zc.T @ zc / (z.shape[0] - 1)
    cov_loss = off_diagonal(cov).pow(2).sum() / z.shape[1]
    s = torch.linalg.svdvals(z)
    svd = (s / s.sum())[:top_k].mean()
    return {"mse": mse, "cov": cov_loss, "svd": svd}


def make_views(config: NMTuneConfig, size: int) -> tuple[torch.nn.Module, GroupedRandAugment]:
    """The weak view (a ``torchvision`` random resized crop, per image on uint8 CHW) and
    the strong view's RandAugment (per image, batched: :class:`GroupedRandAugment`)."""
    from torchvision.transforms import v2

    crop = v2.RandomResizedCrop(size, scale=config.crop_scale, antialias=True)
    return crop, GroupedRandAugment(config.randaugment_ops, config.randaugment_magnitude)


def _views(images: torch.Tensor, crop: torch.nn.Module, randaugment: GroupedRandAugment) -> torch.Tensor:
    """Normalised float batch ``(2B, 3, H, W)``: every image's weak view, then its strong view.

    Weak = a random resized crop; strong = another random resized crop, then
    RandAugment; each image draws its own crop and its own RandAugment policy.
    """
    w = torch.stack([crop(im) for im in images])
    s = randaugment(torch.stack([crop(im) for im in images]))
    x = torch.cat([w, s]).float().div_(255.0)
    mean = torch.tensor(LAB_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(LAB_STD).view(1, 3, 1, 1)
    return (x - mean) / std


@dataclass
class ViewFeatures:
    """Frozen features of every training image's weak and strong views, for every epoch.

    The encoder is frozen, so what it makes of a view does not depend on the head being
    trained: drawing each epoch's views up front and encoding them once gives the same
    training signal as the reference's per-batch views, and lets NMTune and the
    cross-entropy-only MLP train on *the same* views (a paired comparison).

    Attributes
    ----------
    weak, strong : tensor (epochs, N, d)
        Unnormalised frozen features of the weak and strong view of each image, per epoch.
    """

    weak: torch.Tensor
    strong: torch.Tensor

    @property
    def epochs(self) -> int:
        """Epochs the views were drawn for."""
        return int(self.weak.shape[0])


@dataclass
class FittedNMTune:
    """A fitted MLP head on frozen features.

    Attributes
    ----------
    net : NMTuneMLP
    config : NMTuneConfig
    history : list of dict
        Per epoch, the mean of each loss term over its steps (``ce``, ``mse``, ``cov``,
        ``svd``, ``total``).
    encoder : LoadedModel, optional
        The frozen encoder (set by :func:`fit_nmtune`; needed by :meth:`predict` only).
    """

    net: NMTuneMLP
    config: NMTuneConfig
    history: list[dict[str, float]] = field(default_factory=list)
    encoder: LoadedModel | None = None

    @torch.no_grad()
    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """Predicted class of each row of unnormalised frozen features ``(N, d)``."""
        self.net.eval()
        f = torch.as_tensor(np.asarray(features, dtype=np.float32))
        if f.ndim != 2 or f.shape[1] != self.net.head.in_features:
            raise ValueError(f"features must be (N, {self.net.head.in_features}), got {tuple(f.shape)}")
        return self.net(f)[0].argmax(dim=1).numpy() if len(f) else np.empty(0, dtype=np.int64)

    @torch.no_grad()
    def predict(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """Predicted class of each uint8 image ``(N, H, W, 3)`` (no augmentation)."""
        if self.encoder is None:
            raise ValueError("this head was fitted on features; use predict_features")
        self.encoder.model.eval()
        feats = []
        with parallel.limited_threads():
            for a in range(0, len(images), batch_size):
                feats.append(self.encoder.model.encode_image(lab_to_tensor(images[a:a + batch_size])))
        if not feats:
            return np.empty(0, dtype=np.int64)
        return self.predict_features(torch.cat(feats).numpy())


@torch.no_grad()
def view_features(encoders: Sequence[LoadedModel], images: np.ndarray,
                  config: NMTuneConfig = NMTuneConfig(), batch_size: int = 512) -> list[ViewFeatures]:
    """Draw ``config.epochs`` weak and strong views of every image and encode them.

    The views are drawn once (seeded by ``config.seed``) and encoded by every encoder, so
    heads trained on different encoders, or with different losses, see the same views.

    Parameters
    ----------
    encoders : sequence of LoadedModel
        Frozen lab CLIPs (eval mode; unchanged).
    images : uint8 array (N, H, W, 3)
    config : NMTuneConfig
        Its ``epochs``, ``crop_scale``, ``randaugment_*`` and ``seed`` are used.
    batch_size : int
        Images encoded at once.

    Returns
    -------
    list of ViewFeatures, one per encoder.
    """
    if isinstance(images, np.ndarray) and images.ndim == 4 and len(images) == 0:
        raise ValueError("images is empty")
    check_labelled_images(images, np.zeros(len(images), dtype=np.int64), 1)
    if not encoders:
        raise ValueError("need at least one encoder")
    torch.manual_seed(config.seed)
    weak_crop, strong = make_views(config, images.shape[1])
    chw = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    out: list[tuple[list[torch.Tensor], list[torch.Tensor]]] = [([], []) for _ in encoders]
    with parallel.limited_threads():
        for enc in encoders:
            enc.model.eval()
        for _ in range(config.epochs):
            per_enc: list[tuple[list[torch.Tensor], list[torch.Tensor]]] = [([], []) for _ in encoders]
            for a in range(0, len(chw), batch_size):
                x = _views(chw[a:a + batch_size], weak_crop, strong)
                b = len(x) // 2
                for k, enc in enumerate(encoders):
                    f = enc.model.encode_image(x)
                    per_enc[k][0].append(f[:b])
                    per_enc[k][1].append(f[b:])
            for k in range(len(encoders)):
                out[k][0].append(torch.cat(per_enc[k][0]))
                out[k][1].append(torch.cat(per_enc[k][1]))
    return [ViewFeatures(torch.stack(w), torch.stack(s)) for w, s in out]


def fit_on_views(views: ViewFeatures, labels: np.ndarray, config: NMTuneConfig = NMTuneConfig(),
                 n_classes: int | None = None) -> FittedNMTune:
    """Train NMTune (or, with :data:`CE_ONLY`, the plain MLP) on pre-encoded views.

    Parameters
    ----------
    views : ViewFeatures
        From :func:`view_features`, drawn for at least ``config.epochs`` epochs.
    labels : int array (N,)
    config : NMTuneConfig
    n_classes : int, optional
        Classes of the head (default: ``max(labels) + 1``).
    """
    y = np.asarray(labels)
    if y.ndim != 1 or views.weak.ndim != 3 or len(y) != views.weak.shape[1]:
        raise ValueError(f"labels must be 1-D with one label per view row ({views.weak.shape[1]}), "
                         f"got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or (len(y) and y.min() < 0):
        raise ValueError(f"labels must be integers >= 0, got dtype {y.dtype}")
    if len(y) < config.batch_size:
        raise ValueError(f"{len(y)} training images are fewer than batch_size={config.batch_size}")
    if views.epochs < config.epochs:
        raise ValueError(f"views were drawn for {views.epochs} epochs, config needs {config.epochs}")
    seen = int(y.max()) + 1
    if n_classes is None:
        n_classes = seen
    check_int("n_classes", n_classes, seen)
    with parallel.limited_threads():
        return _fit(views, y.astype(np.int64), config, n_classes)


def fit_nmtune(encoder: LoadedModel, images: np.ndarray, labels: np.ndarray,
               config: NMTuneConfig = NMTuneConfig(), n_classes: int | None = None) -> FittedNMTune:
    """Train NMTune (or, with :data:`CE_ONLY`, the plain MLP) on a frozen encoder.

    :func:`view_features` then :func:`fit_on_views`.

    Parameters
    ----------
    encoder : LoadedModel
        The pre-trained lab CLIP; its weights are not changed (eval mode, no gradients).
    images : uint8 array (N, H, W, 3)
    labels : int array (N,)
    config : NMTuneConfig
    n_classes : int, optional
        Classes of the head (default: ``max(labels) + 1``).

    Returns
    -------
    FittedNMTune
    """
    y, seen = check_labelled_images(images, labels, config.batch_size)
    if n_classes is None:
        n_classes = seen
    check_int("n_classes", n_classes, seen)
    fitted = fit_on_views(view_features([encoder], images, config)[0], y, config, n_classes)
    fitted.encoder = encoder
    return fitted


def _fit(views: ViewFeatures, y: np.ndarray, config: NMTuneConfig, n_classes: int) -> FittedNMTune:
    """The training loop of :func:`fit_on_views` (arguments validated)."""
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    net = NMTuneMLP(int(views.weak.shape[2]), n_classes, config)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    yt = torch.from_numpy(y)
    steps_per_epoch = len(y) // config.batch_size  # drop the ragged batch (BatchNorm and SVD need rows)
    total_steps = optimizer_steps(len(y), config)
    history: list[dict[str, float]] = []
    step = 0
    for epoch in range(config.epochs):
        net.train()
        perm = torch.randperm(len(y), generator=gen)
        sums = dict.fromkeys(("ce", "mse", "cov", "svd", "total"), 0.0)
        for b in range(steps_per_epoch):
            idx = perm[b * config.batch_size:(b + 1) * config.batch_size]
            for g in opt.param_groups:
                g["lr"] = cosine_lr(step, total_steps, config.warmup_steps, config.lr)
            f = torch.cat([views.weak[epoch, idx], views.strong[epoch, idx]])
            terms = _step(net, opt, f, yt[idx], config)
            for k, v in terms.items():
                sums[k] += v
            step += 1
        history.append({k: v / max(1, steps_per_epoch) for k, v in sums.items()})
    net.eval()
    return FittedNMTune(net, config, history)


def _step(net: NMTuneMLP, opt: torch.optim.Optimizer, f: torch.Tensor, y: torch.Tensor,
          config: NMTuneConfig) -> dict[str, float]:
    """One optimizer step on a batch of both views' frozen features (weak rows first)."""
    b = len(y)
    logits, z = net(f)
    ce = F.cross_entropy(logits, torch.cat([y, y]))
    loss = ce
    out = {"ce": ce.item(), "mse": 0.0, "cov": 0.0, "svd": 0.0}
    if config.regularised:
        t = nmtune_terms(z, z[b:], f[:b], config.top_k)
        loss = loss + config.mse_weight * t["mse"] + config.cov_weight * t["cov"] - config.svd_weight * t["svd"]
        out.update({k: v.item() for k, v in t.items()})
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    out["total"] = loss.item()
    return out


def optimizer_steps(n_images: int, config: NMTuneConfig = NMTuneConfig()) -> int:
    """Optimizer steps of a fit on ``n_images`` training images: full batches per epoch
    (the ragged last batch is dropped) times the epochs."""
    check_int("n_images", n_images, 0)
    return n_images // config.batch_size * config.epochs


def with_seed(config: NMTuneConfig, seed: int) -> NMTuneConfig:
    """``config`` with another seed (of the head's initialisation, batches and views)."""
    check_int("seed", seed, 0)
    return replace(config, seed=seed)


__all__ = ["CE_ONLY", "FittedNMTune", "NMTuneConfig", "NMTuneMLP", "ViewFeatures",
           "fit_nmtune", "fit_on_views", "make_views", "nmtune_terms", "off_diagonal", "optimizer_steps",
           "view_features", "with_seed"]
