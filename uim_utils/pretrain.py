"""Contrastive pre-training of a lab CLIP on a corpus, seeded, cached by configuration.

The loop is deliberately plain: ``open_clip``'s own model and :class:`open_clip.ClipLoss`,
AdamW with warm-up and cosine decay, shuffling from a seeded generator. A trained model
is cached (safetensors + a JSON sidecar holding the SHA-256) under a key made of
*everything* that determines it: the world, the corpus dials, the model, the training
settings and the seed. A second chapter asking for the same model loads it in well
under a second; a corrupt cache file is detected, reported and rebuilt.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import open_clip
import torch
from tqdm.auto import tqdm

from . import cache
from .corpus import Corpus
from .models import LAB_MODELS, LoadedModel, create_lab_model, lab_to_tensor
from .validate import check_int

TRAINING_VERSION = 1
"""Bump when the loop changes in a way that changes the weights (invalidates caches)."""

CACHE_NAMESPACE = "lab_models"


@dataclass(frozen=True)
class TrainConfig:
    """Settings of a pre-training run.

    Attributes
    ----------
    model : str
        A lab model name (see :data:`uim_utils.models.LAB_MODELS`).
    epochs : int
        Passes over the corpus, 1 to 200.
    batch_size : int
        Pairs per step (the contrastive loss sees ``batch_size - 1`` negatives).
    lr : float
        Peak learning rate of AdamW.
    weight_decay : float
        AdamW weight decay (not applied to gains, biases and the logit scale).
    warmup_steps : int
        Linear warm-up steps before cosine decay.
    seed : int
        Seed of the initial weights and the shuffling.
    """

    model: str = "uim-tiny"
    epochs: int = 3
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.1
    warmup_steps: int = 50
    seed: int = 0

    def __post_init__(self) -> None:
        if self.model not in LAB_MODELS:
            raise ValueError(f"unknown lab model {self.model!r}; choose one of {', '.join(LAB_MODELS)}")
        for name, lo, hi in (("epochs", 1, 200), ("batch_size", 2, 65536), ("warmup_steps", 0, 10**6),
                             ("seed", 0, 2**32 - 1)):
            check_int(name, getattr(self, name), lo, hi)
        if not (0 < float(self.lr) <= 1):
            raise ValueError(f"lr must be in (0, 1], got {self.lr!r}")
        if not (0 <= float(self.weight_decay) <= 10):
            raise ValueError(f"weight_decay must be in [0, 10], got {self.weight_decay!r}")


@dataclass
class PretrainResult:
    """A pre-trained lab model and how it was made.

    Attributes
    ----------
    model : LoadedModel
    history : dict
        ``loss`` (per step), ``seconds``, ``pairs_per_second`` of the run that trained it.
    cache_hit : bool
        True if the weights came from the cache.
    key : str
        The cache key.
    """

    model: LoadedModel
    history: dict[str, Any] = field(default_factory=dict)
    cache_hit: bool = False
    key: str = ""


def pretrain_key(corpus: Corpus, cfg: TrainConfig) -> str:
    """The cache key of pre-training ``corpus`` with ``cfg``."""
    return cache.config_key({"v": TRAINING_VERSION, **corpus.fingerprint(), "train": asdict(cfg)})


def pretrain(
    corpus: Corpus,
    cfg: TrainConfig | None = None,
    use_cache: bool = True,
    progress: bool = True,
) -> PretrainResult:
    """Pre-train (or load from cache) a lab CLIP on ``corpus``.

    Parameters
    ----------
    corpus : Corpus
        Image-caption pairs.
    cfg : TrainConfig, optional
        Training settings; defaults to ``TrainConfig()``.
    use_cache : bool
        Read and write the checkpoint cache (``UIM_CACHE``).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    PretrainResult
    """
    cfg = cfg or TrainConfig()
    key = pretrain_key(corpus, cfg)
    lm = create_lab_model(cfg.model, seed=cfg.seed)
    if use_cache:
        try:
            hit = cache.load_entry(CACHE_NAMESPACE, key)
        except cache.CacheCorruptError as exc:
            warnings.warn(f"{exc}; retraining and overwriting it", stacklevel=2)
            cache.remove_entry(CACHE_NAMESPACE, key)
            hit = None
        if hit is not None:
            arrays, meta = hit
            lm.model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in arrays.items()}, strict=True)
            lm.model.eval()
            return PretrainResult(lm, meta.get("history", {}), True, key)
    tokens = lm.tokenizer(corpus.captions)
    history = train_contrastive(lm.model, corpus.images, tokens, cfg, progress=progress,
                                desc=f"pre-training {cfg.model}")
    if use_cache:
        meta = {"history": history, "train": asdict(cfg), **corpus.fingerprint()}
        cache.save_entry(CACHE_NAMESPACE, key, lm.model.state_dict(), meta)
    return PretrainResult(lm, history, False, key)


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups: decay on matrices only (not gains, biases, embeddings' scale)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "logit_scale" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """The pre-training optimizer: AdamW on :func:`param_groups` with CLIP's betas and eps."""
    return torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr, betas=(0.9, 0.98), eps=1e-6)


def cosine_lr(step: int, total: int, warmup: int, peak: float) -> float:
    """Linear warm-up to ``peak`` then cosine decay to zero."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return 0.5 * peak * (1 + math.cos(math.pi * min(1.0, t)))


def train_contrastive(
    model: torch.nn.Module,
    images: np.ndarray,
    tokens: torch.Tensor,
    cfg: TrainConfig,
    progress: bool = True,
    desc: str = "training",
    extra_loss: Callable[..., torch.Tensor] | None = None,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
) -> dict[str, Any]:
    """Train ``model`` in place with the CLIP contrastive loss; returns the history.

    Parameters
    ----------
    model : torch.nn.Module
        An ``open_clip`` CLIP.
    images : uint8 array (N, H, W, 3)
    tokens : int tensor (N, context_length)
    cfg : TrainConfig
    extra_loss : callable, optional
        ``extra_loss(model, x, tok, idx, img_f, txt_f) -> scalar`` added to the CLIP loss
        each step (e.g. CleanCLIP's in-modal terms); ``idx`` are the batch's row indices
        and ``img_f``, ``txt_f`` the normalised features of this step's forward pass, so
        the extra term need not encode the batch a second time.
    augment : callable, optional
        ``augment(x, generator) -> x`` applied to each normalised image batch.
    """
    if len(images) != len(tokens):
        raise ValueError(f"{len(images)} images but {len(tokens)} captions")
    if len(images) < cfg.batch_size:
        raise ValueError(f"corpus of {len(images)} pairs is smaller than batch_size={cfg.batch_size}")
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    loss_fn = open_clip.ClipLoss()
    opt = make_optimizer(model, cfg)
    n = len(images)
    steps_per_epoch = n // cfg.batch_size  # drop the ragged last batch: same-size steps
    total = steps_per_epoch * cfg.epochs
    losses: list[float] = []
    model.train()
    start = time.perf_counter()
    bar = tqdm(total=total, desc=desc, disable=not progress, leave=False)
    step = 0
    for _ in range(cfg.epochs):
        perm = torch.randperm(n, generator=gen).numpy()
        for b in range(steps_per_epoch):
            idx = np.sort(perm[b * cfg.batch_size:(b + 1) * cfg.batch_size])
            x = lab_to_tensor(images[idx])
            if augment is not None:
                x = augment(x, gen)
            tok = tokens[idx]
            for g in opt.param_groups:
                g["lr"] = cosine_lr(step, total, cfg.warmup_steps, cfg.lr)
            img_f, txt_f, scale = model(x, tok)[:3]
            loss = loss_fn(img_f, txt_f, scale)
            if extra_loss is not None:
                loss = loss + extra_loss(model, x, tok, idx, img_f, txt_f)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():  # CLIP clamps the temperature at 100
                model.logit_scale.clamp_(0, math.log(100))
            losses.append(loss.item())
            step += 1
            bar.update(1)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    bar.close()
    model.eval()
    seconds = time.perf_counter() - start
    return {"loss": losses, "seconds": seconds, "pairs_per_second": total * cfg.batch_size / max(seconds, 1e-9),
            "steps": total}
