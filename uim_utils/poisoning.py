"""Backdoor poisoning of contrastive pre-training, and CleanCLIP-style removal.

The chapter "Poisoned pre-training" (notebook 04) uses this module in three steps; its
claims and the measurement of one world are in :mod:`uim_utils.chapters.backdoor`.

Understand
    Pre-train lab CLIPs on corpora with ``poison_count`` poisoned pairs (triggered images
    of other concepts, captioned as the target; Carlini & Terzis 2022) and audit the
    corpus: score each pair by image-caption agreement under a clean reference model
    and measure how well a low score finds the poisoned pairs
    (:func:`pair_agreement`, :func:`audit_report`).
Interpret
    Attack success rate: the share of triggered test images of non-target concepts that
    are classified as the target, zero-shot and by a linear probe trained on clean data
    (:func:`trigger_test_set`, :func:`zero_shot_predict`, :func:`probe_predict`).
Mitigate
    Fine-tune on clean pairs with the CLIP loss alone or with CleanCLIP's in-modal
    self-supervised terms (Bansal et al. 2023):
    ``L = L_CLIP + w * (InfoNCE(img, aug img) + InfoNCE(txt, aug txt)) / 2``
    (:func:`finetune`). The InfoNCE terms reuse :class:`open_clip.ClipLoss`, the same
    symmetric loss CLIP trains with, so no loss is re-implemented here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from . import cache, parallel
from .corpus import Corpus
from .evaluate import encode_images, encode_texts, linear_probe, zero_shot_classify
from .models import ClipModel, LoadedModel, load_model
from .pretrain import TrainConfig, train_contrastive, train_steps
from .validate import check_int
from .world import BACKGROUNDS, CAPTION_TEMPLATES, DOMAINS, ConceptWorld

FINETUNE_VERSION = 2
"""Bump when :func:`finetune` changes in a way that changes the weights."""

CACHE_NAMESPACE = "poisoning_finetune"
METHODS: tuple[str, ...] = ("clip", "cleanclip")
"""Fine-tuning methods: the CLIP loss alone, or CLIP plus CleanCLIP's in-modal terms."""

_ALL_TEMPLATES: tuple[str, ...] = tuple(t for d in DOMAINS for t in CAPTION_TEMPLATES[d])


@dataclass(frozen=True)
class TriggerSet:
    """Test images of non-target concepts, each clean and with the trigger stamped.

    Attributes
    ----------
    clean, triggered : uint8 arrays (N, S, S, 3)
        The same images without and with the trigger patch.
    labels : int array (N,)
        True concepts (never the target).
    target : int
        The concept the backdoor points to.
    """

    clean: np.ndarray
    triggered: np.ndarray
    labels: np.ndarray
    target: int


def _check_target(world: ConceptWorld, target: int) -> int:
    check_int("target", target, 0, world.n_concepts - 1)
    return int(target)


def pick_target(seed: int, n_concepts: int) -> int:
    """The backdoor's target concept for a base seed (the chapter and its sweep agree on it)."""
    check_int("n_concepts", n_concepts, 1)
    return int(np.random.default_rng([seed, 4]).integers(n_concepts))


def trigger_test_set(world: ConceptWorld, n_per_class: int, target: int, seed: int,
                     domain: str = "photo") -> TriggerSet:
    """Balanced test images of every concept except ``target``, clean and triggered.

    Render seeds are drawn at or above ``2**40``, so no test image is a training image.

    Parameters
    ----------
    world : ConceptWorld
    n_per_class : int
        Images per non-target concept (>= 1).
    target : int
        The backdoor's target concept (excluded from the set).
    seed : int
        Seed of the draw.
    domain : str
        Image style, one of :data:`~uim_utils.world.DOMAINS`.
    """
    target = _check_target(world, target)
    check_int("n_per_class", n_per_class, 1)
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}")
    classes = np.array([c for c in range(world.n_concepts) if c != target])
    labels = np.repeat(classes, n_per_class)
    rng = np.random.default_rng([seed, 41, DOMAINS.index(domain)])
    bgs = rng.integers(0, len(BACKGROUNDS), len(labels))
    seeds = (1 << 40) + rng.integers(0, 1 << 40, len(labels))
    d = DOMAINS.index(domain)
    clean = world.render(labels, d, bgs, seeds)
    trig = world.render(labels, d, bgs, seeds, trigger=np.ones(len(labels), bool))
    return TriggerSet(clean, trig, labels, target)


def attack_success(pred: np.ndarray, target: int) -> np.ndarray:
    """Per-image attack success: 1.0 where the prediction is the target, else 0.0.

    Its mean over triggered non-target images is the attack success rate (ASR).
    """
    pred = np.asarray(pred)
    if pred.ndim != 1 or pred.size == 0:
        raise ValueError(f"pred must be a non-empty 1-D array, got shape {pred.shape}")
    return (pred == int(target)).astype(float)


def zero_shot_predict(lm: LoadedModel, classnames: Sequence[str], images: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Zero-shot predictions (:func:`uim_utils.evaluate.zero_shot_classify`) for each array of images."""
    logits = zero_shot_classify(lm, classnames, [encode_images(lm, x) for x in images])
    return [z.argmax(axis=1) for z in logits]


def probe_predict(lm: LoadedModel, train_images: np.ndarray, train_labels: np.ndarray,
                  test_images: Sequence[np.ndarray], seed: int = 0, C: float = 1.0) -> list[np.ndarray]:
    """A downstream linear probe on frozen features, trained on clean labelled images.

    Returns the probe's predictions for each array in ``test_images``.
    """
    tr = encode_images(lm, train_images, normalize=False)
    tests = [encode_images(lm, x, normalize=False) for x in test_images]
    _, preds = linear_probe(tr, train_labels, tests, C=C, seed=seed)
    return preds


# ------------------------------------------------------------------------- audit
def pair_agreement(lm: LoadedModel, corpus: Corpus) -> np.ndarray:
    """Cosine similarity of each pair's image and caption under ``lm`` (higher = agree)."""
    img = encode_images(lm, corpus.images)
    txt = encode_texts(lm, corpus.captions)
    return (img * txt).sum(axis=1)


def audit_report(scores: np.ndarray, is_poisoned: np.ndarray, flag_fraction: float) -> dict[str, float]:
    """How well *low* agreement finds the poisoned pairs.

    The ``flag_fraction`` of pairs with the lowest score are flagged.

    Parameters
    ----------
    scores : float array (N,)
        Image-caption agreement (low = suspicious).
    is_poisoned : bool array (N,)
        Ground truth.
    flag_fraction : float
        Share of the corpus flagged, in (0, 1].

    Returns
    -------
    dict with ``flagged``, ``precision``, ``recall`` (of the flagged set), ``prevalence``
    (share of poisoned pairs: the precision of a random flag), ``average_precision`` and
    ``roc_auc`` (scikit-learn, threshold-free).
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    scores, truth = np.asarray(scores, float), np.asarray(is_poisoned, bool)
    if scores.shape != truth.shape or scores.ndim != 1:
        raise ValueError(f"scores {scores.shape} and is_poisoned {truth.shape} must be equal 1-D shapes")
    if not 0 < float(flag_fraction) <= 1:
        raise ValueError(f"flag_fraction must be in (0, 1], got {flag_fraction!r}")
    if truth.all() or not truth.any():
        raise ValueError(f"is_poisoned must contain both classes, got {int(truth.sum())} of {truth.size} poisoned")
    k = max(1, int(round(flag_fraction * len(scores))))
    flagged = np.zeros(len(scores), bool)
    flagged[np.argsort(scores, kind="stable")[:k]] = True
    tp = int((flagged & truth).sum())
    return {"flagged": k, "precision": tp / k, "recall": tp / int(truth.sum()),
            "prevalence": float(truth.mean()),
            "average_precision": float(average_precision_score(truth, -scores)),
            "roc_auc": float(roc_auc_score(truth, -scores))}


# -------------------------------------------------------------------- mitigation
def augment_captions(corpus: Corpus, seed: int) -> list[str]:
    """One text augmentation per caption: the same concept name in another template.

    The lab's analogue of CleanCLIP's EDA text augmentation: it keeps the word that
    carries the meaning (the name) and changes the rest of the sentence.
    """
    t = corpus.table
    rng = np.random.default_rng([seed, 43])
    pick = rng.integers(0, len(_ALL_TEMPLATES), len(t))
    names = corpus.world.names
    return [_ALL_TEMPLATES[p].format(names[c][i], bg=BACKGROUNDS[b])
            for p, c, i, b in zip(pick, t["caption_concept"].to_numpy(), t["name_idx"].to_numpy(),
                                  t["background"].to_numpy())]


def image_augmenter(image_size: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """Per-image random resized crop (scale 0.5-1) and horizontal flip (torchvision v2).

    Works on normalised float batches ``(N, 3, H, W)``; each image gets its own draw.
    """
    from torchvision.transforms import v2

    tf = v2.Compose([v2.RandomResizedCrop(image_size, scale=(0.5, 1.0), antialias=True),
                     v2.RandomHorizontalFlip()])

    def apply(x: torch.Tensor) -> torch.Tensor:
        return torch.stack([tf(img) for img in x])

    return apply


def cleanclip_extra_loss(aug_tokens: torch.Tensor, weight: float,
                         augment: Callable[[torch.Tensor], torch.Tensor]) -> Callable:
    """CleanCLIP's in-modal term, ``w * (InfoNCE(img, aug img) + InfoNCE(txt, aug txt)) / 2``.

    Returns a callable for :func:`uim_utils.pretrain.train_contrastive`'s ``extra_loss``.
    ``aug_tokens[i]`` is the augmented caption of corpus row ``i``.
    """
    import open_clip

    if not float(weight) > 0:
        raise ValueError(f"weight must be positive, got {weight!r}")
    loss_fn = open_clip.ClipLoss()

    def extra(model: ClipModel, x: torch.Tensor, tok: torch.Tensor, idx: np.ndarray,
              img: torch.Tensor | None = None, txt: torch.Tensor | None = None) -> torch.Tensor:
        # ``img``/``txt``: the batch's normalised features from the CLIP forward pass of
        # the same step (train_contrastive passes them); encoded here only if absent.
        scale = model.logit_scale.exp()
        if img is None:
            img = model.encode_image(x, normalize=True)
        if txt is None:
            txt = model.encode_text(tok, normalize=True)
        img_aug = model.encode_image(augment(x), normalize=True)
        txt_aug = model.encode_text(aug_tokens[torch.as_tensor(idx)], normalize=True)
        return weight * (loss_fn(img, img_aug, scale) + loss_fn(txt, txt_aug, scale)) / 2

    return extra


@dataclass(frozen=True)
class FinetuneConfig:
    """Settings of a clean fine-tuning run.

    Attributes
    ----------
    method : str
        ``"clip"`` (the CLIP loss alone) or ``"cleanclip"`` (plus in-modal terms).
    weight : float
        Weight ``w`` of the in-modal terms (CleanCLIP uses 1).
    epochs, batch_size, lr, seed
        As in :class:`~uim_utils.pretrain.TrainConfig`.
    """

    method: str = "cleanclip"
    weight: float = 1.0
    epochs: int = 3
    batch_size: int = 128
    lr: float = 5e-4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown fine-tuning method {self.method!r}; choose one of {', '.join(METHODS)}")
        if not float(self.weight) > 0:
            raise ValueError(f"weight must be positive, got {self.weight!r}")

    def train_config(self, model: str) -> TrainConfig:
        """The :class:`TrainConfig` of the loop (validates epochs, batch size, lr, seed)."""
        return TrainConfig(model=model, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                           warmup_steps=10, seed=self.seed)


def finetune_key(base_key: str, clean: Corpus, cfg: FinetuneConfig) -> str:
    """The cache key of fine-tuning the model cached under ``base_key`` on ``clean`` with ``cfg``."""
    return cache.config_key({"v": FINETUNE_VERSION, "base": base_key, **clean.fingerprint(), "ft": asdict(cfg)})


def finetune(lm: LoadedModel, base_key: str, clean: Corpus, cfg: FinetuneConfig,
             use_cache: bool = True, progress: bool = True,
             on_step: Callable[[], None] | None = None) -> LoadedModel:
    """Fine-tune a copy of ``lm`` on the clean corpus; ``lm`` itself is left unchanged.

    Parameters
    ----------
    lm : LoadedModel
        The (possibly backdoored) pre-trained lab model.
    base_key : str
        Cache key of ``lm`` (``PretrainResult.key``); part of the fine-tune's key.
    clean : Corpus
        Clean image-caption pairs (the defender's trusted data).
    cfg : FinetuneConfig
    use_cache : bool
        Read and write the checkpoint cache (``UIM_CACHE``).
    on_step : callable, optional
        Called after each training step.
    """
    if not base_key:
        raise ValueError(f"base_key must name the pre-trained model's cache key, got {base_key!r}")
    if int(clean.table["poisoned"].sum()):
        raise ValueError(f"the fine-tuning corpus must be clean, it has {int(clean.table['poisoned'].sum())} "
                         "poisoned pairs")
    key = finetune_key(base_key, clean, cfg)
    out = LoadedModel(copy.deepcopy(lm.model), lm.tokenizer, lm.preprocess, lm.name, lm.pretrained)
    if not use_cache:
        return _finetune_copy(out, lm, clean, cfg, progress, on_step)

    def build() -> LoadedModel:
        _finetune_copy(out, lm, clean, cfg, progress, on_step)
        cache.save_entry(CACHE_NAMESPACE, key, out.model.state_dict(), {"ft": asdict(cfg), "base": base_key})
        return out

    return cache.load_or_rebuild(CACHE_NAMESPACE, key, lambda arrays, _meta: _with_weights(out, arrays), build)


def _with_weights(out: LoadedModel, arrays: dict[str, np.ndarray]) -> LoadedModel:
    """``out`` holding the cached weights ``arrays``, in eval mode."""
    out.model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in arrays.items()}, strict=True)
    out.model.eval()
    return out


def _finetune_copy(out: LoadedModel, lm: LoadedModel, clean: Corpus, cfg: FinetuneConfig, progress: bool,
                   on_step: Callable[[], None] | None) -> LoadedModel:
    """``out`` (a copy of ``lm``) fine-tuned on ``clean`` with ``cfg``."""
    tokens = lm.tokenizer(clean.captions)
    extra = None
    if cfg.method == "cleanclip":
        aug_tokens = lm.tokenizer(augment_captions(clean, cfg.seed))
        extra = cleanclip_extra_loss(aug_tokens, cfg.weight, image_augmenter(clean.images.shape[1]))
    train_contrastive(out.model, clean.images, tokens, cfg.train_config(lm.name), progress=progress,
                      desc=f"fine-tuning ({cfg.method})", extra_loss=extra, on_step=on_step)
    return out


def finetune_many(lm: LoadedModel, base_key: str, clean: Corpus, configs: Sequence[FinetuneConfig],
                  progress: bool = True, workers: int | None = None,
                  pool: parallel.WorkerPool | None = None) -> list[LoadedModel]:
    """:func:`finetune` with each of ``configs``, the missing runs side by side in workers.

    Each worker loads the base model from the pre-training cache (``base_key``), so the
    model must have been pre-trained with :func:`uim_utils.pretrain.pretrain` (cached)
    first. Each result is the very model :func:`finetune` gives alone.

    Parameters
    ----------
    lm : LoadedModel
        The base model (its weights must be those cached under ``base_key``).
    base_key : str
    clean : Corpus
    configs : sequence of FinetuneConfig
    progress : bool
        One progress bar over the missing runs' steps.
    workers : int, optional
        Default :func:`uim_utils.parallel.worker_count` of the missing runs.
    pool : WorkerPool, optional
        Train in these worker processes (their count replaces ``workers``), e.g. the
        pool that pre-trained ``lm``.
    """
    configs = list(configs)
    missing, n_workers = _finetune_plan(base_key, clean, configs, workers, pool)
    if len(missing) > 1 and n_workers > 1:
        total = sum(train_steps(len(clean), configs[i].batch_size, configs[i].epochs) for i in missing)
        parallel.run_in_workers(_finetune_in_worker, [(lm.name, base_key, clean, configs[i]) for i in missing],
                                n_workers, total, f"fine-tuning {len(missing)} models ({n_workers} processes)",
                                progress, pool)
    return [finetune(lm, base_key, clean, c, progress=progress) for c in configs]


def _finetune_plan(base_key: str, clean: Corpus, configs: list[FinetuneConfig], workers: int | None,
                   pool: parallel.WorkerPool | None = None) -> tuple[list[int], int]:
    """Which of ``configs`` are not cached yet, and how many worker processes would train them."""
    if not configs or not all(isinstance(c, FinetuneConfig) for c in configs):
        raise ValueError(f"configs must be a non-empty sequence of FinetuneConfig, got {configs!r:.80}")
    missing = cache.missing_keys(CACHE_NAMESPACE, [finetune_key(base_key, clean, c) for c in configs])
    return missing, pool.workers if pool is not None else parallel.resolve_workers(workers, len(missing))


def finetune_in_workers(base_key: str, clean: Corpus, configs: Sequence[FinetuneConfig],
                        workers: int | None = None, pool: parallel.WorkerPool | None = None) -> bool:
    """Whether :func:`finetune_many` with these arguments trains in worker processes.

    Only then does this process stay idle while it runs (free to evaluate other models
    on a thread); if it trains here, it trains here alone.
    """
    missing, n_workers = _finetune_plan(base_key, clean, list(configs), workers, pool)
    return len(missing) > 1 and n_workers > 1


def _finetune_in_worker(model_name: str, base_key: str, clean: Corpus, cfg: FinetuneConfig) -> str:
    """Fine-tune the cached base model into the cache (in a worker process); returns the key."""
    from .models import create_lab_model
    from .pretrain import CACHE_NAMESPACE as PRETRAIN_NAMESPACE

    hit = cache.load_entry(PRETRAIN_NAMESPACE, base_key)
    if hit is None:
        raise ValueError(f"no pre-trained model is cached under base_key {base_key!r}")
    lm = create_lab_model(model_name)
    lm.model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in hit[0].items()}, strict=True)
    lm.model.eval()
    finetune(lm, base_key, clean, cfg, progress=False, on_step=parallel.count_step)
    return finetune_key(base_key, clean, cfg)


# ----------------------------------------------------------------- checkpoints
def save_checkpoint(lm: LoadedModel, path: str | Path) -> Path:
    """Write the model's weights to a ``.safetensors`` file (atomically).

    The file loads back with ``models.load_model(name, path)``: the same route a
    downloaded (and possibly poisoned) third-party checkpoint takes.
    """
    from safetensors.torch import save

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"checkpoint path must end in .safetensors, got {str(path)!r}")
    state = {k: v.detach().contiguous().clone() for k, v in lm.model.state_dict().items()}
    cache.atomic_write_bytes(path, save(state))
    return path


def load_checkpoint(name: str, path: str | Path) -> LoadedModel:
    """Load a checkpoint written by :func:`save_checkpoint` via :func:`models.load_model`."""
    return load_model(name, str(Path(path)))
