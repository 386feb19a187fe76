"""Contrastive pre-training of a lab CLIP on a corpus, seeded, cached by configuration.

The loop is deliberately plain: ``open_clip``'s own model and :class:`open_clip.ClipLoss`,
AdamW with warm-up and cosine decay, shuffling from a seeded generator. A trained model
is cached (safetensors + a JSON sidecar holding the SHA-256) under a key made of
*everything* that determines it: the world, the corpus dials, the model, the training
settings and the seed. A second chapter asking for the same model loads it in well
under a second; a corrupt cache file is detected, reported and rebuilt.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import open_clip
import torch
from tqdm.auto import tqdm

from . import cache, parallel
from .corpus import Corpus
from .models import (
    LAB_MODELS,
    ClipModel,
    LoadedModel,
    check_pooled_text,
    create_lab_model,
    encode_text_pooled,
    lab_to_tensor,
)
from .validate import check_int

TRAINING_VERSION = 2
"""Bump when the loop changes in a way that changes the weights (invalidates caches).

2: training always runs with one thread (:data:`uim_utils.parallel.THREADS`), so the
weights no longer depend on the machine's core count. (Since then a run may fix another
count, :attr:`TrainConfig.threads`, which enters its key.)"""

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
    threads : int
        Threads of the training run, 1 to 64. The weights depend on it (a float sum split
        over two threads adds in another order), so it is part of the model's cache key.
        With more than one, :func:`pretrain_many` trains models one after the other
        instead of side by side (two two-thread processes on two cores run several times
        slower than one).
    channels_last : bool
        Train the image tower's weights in the channels-last memory format, in which
        oneDNN's convolutions run faster on CPU (and scale to a second thread); the
        trained model is returned in the default format, so a fresh and a cached model
        compute alike. Off, the loop leaves the weights and the batches in the layouts it
        gets them in (:func:`uim_utils.models.lab_to_tensor`'s batches are channels-last
        views of the NHWC images), as every model before this field was trained.
    pooled_text : bool
        Run the text tower on the pooled (end-of-text) token only while training
        (:func:`uim_utils.models.encode_text_pooled`): the same function as open_clip's
        ``encode_text`` for a one-layer text tower, up to float rounding, with a fraction
        of its work. The weights differ from training without it only by that rounding, but
        they differ, so it is part of the model's cache key. Only for models that pass
        :func:`uim_utils.models.check_pooled_text` (one text layer, argmax pooling). The
        standard recipe's since lab v5 (:data:`uim_utils.lab.POOLED_TEXT`).
    """

    model: str = "uim-tiny"
    epochs: int = 3
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.1
    warmup_steps: int = 50
    seed: int = 0
    threads: int = 1
    channels_last: bool = False
    pooled_text: bool = False

    def __post_init__(self) -> None:
        if self.model not in LAB_MODELS:
            raise ValueError(f"unknown lab model {self.model!r}; choose one of {', '.join(LAB_MODELS)}")
        for name, lo, hi in (("epochs", 1, 200), ("batch_size", 2, 65536), ("warmup_steps", 0, 10**6),
                             ("seed", 0, 2**32 - 1), ("threads", 1, 64)):
            check_int(name, getattr(self, name), lo, hi)
        if not (0 < float(self.lr) <= 1):
            raise ValueError(f"lr must be in (0, 1], got {self.lr!r}")
        if not (0 <= float(self.weight_decay) <= 10):
            raise ValueError(f"weight_decay must be in [0, 10], got {self.weight_decay!r}")
        for name in ("channels_last", "pooled_text"):
            if type(getattr(self, name)) is not bool:
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")


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


_LATER_FIELDS = {"threads": 1, "channels_last": False, "pooled_text": False}
"""Fields added to :class:`TrainConfig` after its cache keys were first written, with the
values every earlier model was trained with."""


def pretrain_key(corpus: Corpus, cfg: TrainConfig) -> str:
    """The cache key of pre-training ``corpus`` with ``cfg``.

    The fields of :data:`_LATER_FIELDS` enter the key only when they differ from the value
    every model trained before them had, so those models keep their keys (and caches).
    """
    train = {k: v for k, v in asdict(cfg).items() if k not in _LATER_FIELDS or v != _LATER_FIELDS[k]}
    return cache.config_key({"v": TRAINING_VERSION, **corpus.fingerprint(), "train": train})


def pretrain(
    corpus: Corpus,
    cfg: TrainConfig | None = None,
    use_cache: bool = True,
    progress: bool = True,
    on_step: Callable[[], None] | None = None,
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
    on_step : callable, optional
        Called after each training step (e.g. to report progress from a worker process).

    Returns
    -------
    PretrainResult
    """
    cfg = cfg or TrainConfig()
    key = pretrain_key(corpus, cfg)
    lm = create_lab_model(cfg.model, seed=cfg.seed)
    if not use_cache:
        return _train_model(lm, corpus, cfg, key, False, progress, on_step)
    # locked: another process training it makes this one wait, then load it
    return cache.load_or_rebuild(
        CACHE_NAMESPACE, key, lambda arrays, meta: _from_cache(lm, key, arrays, meta),
        lambda: _train_model(lm, corpus, cfg, key, True, progress, on_step),
        lock=True, on_corrupt=_warn_retraining,
    )


def _from_cache(lm: LoadedModel, key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> PretrainResult:
    """``lm`` holding the cached weights ``arrays`` of ``key`` (``meta`` has the history)."""
    lm.model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in arrays.items()}, strict=True)
    lm.model.eval()
    return PretrainResult(lm, meta.get("history", {}), True, key)


def _warn_retraining(exc: cache.CacheCorruptError) -> None:
    """Warn (at the caller of :func:`pretrain`) that a corrupt cached model is retrained."""
    warnings.warn(f"{exc}; retraining and overwriting it", stacklevel=4)  # <- load_or_rebuild <- pretrain


def _train_model(lm: LoadedModel, corpus: Corpus, cfg: TrainConfig, key: str, save: bool, progress: bool,
                 on_step: Callable[[], None] | None) -> PretrainResult:
    """Pre-train ``lm`` on ``corpus`` (and cache it under ``key`` if ``save``)."""
    tokens = lm.tokenizer(corpus.captions)
    history = train_contrastive(lm.model, corpus.images, tokens, cfg, progress=progress,
                                desc=f"pre-training {cfg.model}", on_step=on_step)
    if save:
        meta = {"history": history, "train": asdict(cfg), **corpus.fingerprint()}
        cache.save_entry(CACHE_NAMESPACE, key, lm.model.state_dict(), meta)
    return PretrainResult(lm, history, False, key)


def pretrain_many(
    jobs: Sequence[tuple[Corpus, TrainConfig]],
    progress: bool = True,
    workers: int | None = None,
    pool: parallel.WorkerPool | None = None,
) -> list[PretrainResult]:
    """Pre-train (or load) several lab CLIPs, side by side in worker processes.

    The models missing from the cache are trained in up to ``workers`` worker processes
    of one thread each (:func:`uim_utils.parallel.worker_count`), which write them to the
    cache; every model is then loaded from there. Each model is the very model
    :func:`pretrain` would train alone (training runs with ``cfg.threads`` threads either
    way). Models of more than one thread are trained here, one after the other.

    Parameters
    ----------
    jobs : sequence of (Corpus, TrainConfig)
    progress : bool
        One progress bar over the training steps of all missing models.
    workers : int, optional
        Worker processes; default :func:`uim_utils.parallel.worker_count` of the missing
        models (1 trains them here, one after the other).
    pool : WorkerPool, optional
        Train in these worker processes (their count replaces ``workers``), e.g. a pool
        the caller goes on using after pre-training.

    Returns
    -------
    list of PretrainResult, in the order of ``jobs``; ``cache_hit`` is False for the
    models trained by this call.
    """
    jobs = _checked_jobs(jobs)
    keys = [pretrain_key(c, cfg) for c, cfg in jobs]
    missing = [i for i in cache.missing_keys(CACHE_NAMESPACE, keys) if jobs[i][1].threads == 1]
    n_workers = pool.workers if pool is not None else parallel.resolve_workers(workers, len(missing))
    trained: set[str] = set()
    if len(missing) > 1 and n_workers > 1:  # models of more threads train below, one after the other
        todo = [jobs[i] for i in missing]
        parallel.run_in_workers(_pretrain_in_worker, todo, n_workers, sum(_steps(c, cfg) for c, cfg in todo),
                                f"pre-training {len(todo)} models ({n_workers} processes)", progress, pool)
        trained = {keys[i] for i in missing}
    results = []
    for (corpus, cfg), key in zip(jobs, keys):
        res = pretrain(corpus, cfg, progress=progress)
        if key in trained:
            res.cache_hit = False
        results.append(res)
    return results


def _checked_jobs(jobs: Sequence[tuple[Corpus, TrainConfig]]) -> list[tuple[Corpus, TrainConfig]]:
    """``jobs`` as a list, each checked to be a ``(Corpus, TrainConfig)`` pair (a ValueError names
    the first that is not)."""
    jobs = list(jobs)
    for i, job in enumerate(jobs):
        if not (isinstance(job, tuple) and len(job) == 2 and isinstance(job[0], Corpus)
                and isinstance(job[1], TrainConfig)):
            raise ValueError(f"job {i} must be a (Corpus, TrainConfig) pair, got {job!r:.80}")
    return jobs


def missing_steps(jobs: Sequence[tuple[Corpus, TrainConfig]]) -> int:
    """Optimizer steps of the models of ``jobs`` that are not in the cache.

    A progress bar's total when they are trained elsewhere, e.g. in worker processes.

    Parameters
    ----------
    jobs : sequence of (Corpus, TrainConfig)

    Returns
    -------
    int
        The steps of each missing model, counted once however often ``jobs`` lists it.
    """
    jobs = _checked_jobs(jobs)
    keys = [pretrain_key(c, cfg) for c, cfg in jobs]
    return sum(_steps(*jobs[i]) for i in cache.missing_keys(CACHE_NAMESPACE, keys))


def train_steps(n_pairs: int, batch_size: int, epochs: int) -> int:
    """Optimizer steps of ``epochs`` passes over ``n_pairs`` pairs in batches of ``batch_size``.

    The ragged last batch of an epoch is dropped, as :func:`train_contrastive` does (every
    step sees the same number of pairs); its callers (pre-training and the poisoning
    chapter's fine-tuning) count their progress bars' steps here.
    """
    return n_pairs // batch_size * epochs


def _steps(corpus: Corpus, cfg: TrainConfig) -> int:
    """Optimizer steps of pre-training on ``corpus`` with ``cfg``."""
    return train_steps(len(corpus), cfg.batch_size, cfg.epochs)


def _pretrain_in_worker(corpus: Corpus, cfg: TrainConfig) -> str:
    """Train one model into the cache (in a worker process); returns its key."""
    return pretrain(corpus, cfg, progress=False, on_step=parallel.count_step).key


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups: decay on matrices only (not gains, biases, embeddings' scale)."""
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
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
    on_step: Callable[[], None] | None = None,
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
    on_step : callable, optional
        Called with no argument after each step.

    Training runs with ``cfg.threads`` threads whatever the machine
    (:func:`uim_utils.parallel.limited_threads`), so the weights repeat exactly.
    """
    if len(images) != len(tokens):
        raise ValueError(f"{len(images)} images but {len(tokens)} captions")
    if len(images) < cfg.batch_size:
        raise ValueError(f"corpus of {len(images)} pairs is smaller than batch_size={cfg.batch_size}")
    if cfg.threads > 1 and parallel.in_worker():
        raise ValueError(f"threads={cfg.threads} in a worker process of one thread: train models of more than one "
                         "thread in the main process (pretrain_many does), not side by side in workers")
    with training_context(model, cfg):
        losses, seconds = _train_loop(model, images, tokens, cfg, progress, desc, extra_loss, augment, on_step)
    steps = len(losses)  # one loss per step
    return {"loss": losses, "seconds": seconds, "pairs_per_second": steps * cfg.batch_size / max(seconds, 1e-9),
            "steps": steps}


@contextlib.contextmanager
def tower_format(model: ClipModel, cfg: TrainConfig) -> Iterator[None]:
    """Hold ``model``'s image tower channels-last inside the block if ``cfg.channels_last``,
    then in the default format again (also after an error), as a cached copy loads; else
    leave it as it is."""
    if not cfg.channels_last:
        yield
        return
    model.visual.to(memory_format=torch.channels_last)
    try:
        yield
    finally:
        model.visual.to(memory_format=torch.contiguous_format)


@contextlib.contextmanager
def text_format(model: ClipModel, cfg: TrainConfig) -> Iterator[None]:
    """Inside the block, let ``model`` encode text on the pooled token only
    (:func:`uim_utils.models.encode_text_pooled`) if ``cfg.pooled_text``; then (also after
    an error) its own ``encode_text`` again, so that a trained model is a plain open_clip
    CLIP. A model that does not qualify raises ``ValueError`` naming why
    (:func:`uim_utils.models.check_pooled_text`)."""
    if not cfg.pooled_text:
        yield
        return
    check_pooled_text(model)
    model.encode_text = functools.partial(encode_text_pooled, model)
    try:
        yield
    finally:
        del model.encode_text  # the class's method again


@contextlib.contextmanager
def training_context(model: ClipModel, cfg: TrainConfig) -> Iterator[None]:
    """What a training step of ``cfg`` runs under: ``cfg.threads`` threads
    (:func:`uim_utils.parallel.limited_threads`), the image tower's memory format
    (:func:`tower_format`) and the text tower's pooled path (:func:`text_format`); all
    undone when the block ends. The one home of these settings, for the training loop and
    for whatever times its steps (``scripts/benchmark_lab.py``)."""
    with parallel.limited_threads(int(cfg.threads)), tower_format(model, cfg), text_format(model, cfg):
        yield


def batch_format(x: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """An image batch in the layout training with ``cfg`` feeds the tower: channels-last if
    ``cfg.channels_last``, else as given (:func:`~uim_utils.models.lab_to_tensor`'s batches
    are channels-last views of the NHWC images already)."""
    return x.contiguous(memory_format=torch.channels_last) if cfg.channels_last else x


def _train_loop(
    model: ClipModel,
    images: np.ndarray,
    tokens: torch.Tensor,
    cfg: TrainConfig,
    progress: bool,
    desc: str,
    extra_loss: Callable[..., torch.Tensor] | None,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None,
    on_step: Callable[[], None] | None,
) -> tuple[list[float], float]:
    """The loop of :func:`train_contrastive`: per-step losses and the seconds it took."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    loss_fn = open_clip.ClipLoss()
    opt = make_optimizer(model, cfg)
    n = len(images)
    steps_per_epoch = train_steps(n, cfg.batch_size, 1)  # the ragged last batch is dropped
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
            x = batch_format(x, cfg)
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
            if on_step is not None:
                on_step()
            if step % 20 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    bar.close()
    model.eval()
    seconds = time.perf_counter() - start
    return losses, seconds
