"""The book's standard lab world and its clean model: one per base seed, shared by chapters.

A **world** is everything one base seed draws: the concept world (prototypes, names),
the clean corpus drawn from it and the initialisation of the model pre-trained on it.
:func:`clean_model` returns that world's clean lab CLIP. Its sizes are the same in
every profile, so its cache entry (keyed by everything that determines the weights) is
shared by every chapter and every profile that asks for the clean model of that world.

Importing this module does not import torch (pre-training is imported when a model is
asked for), so torch-free code such as the chapters' claims can read its settings.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .corpus import Corpus, CorpusConfig, build_corpus
from .validate import check_int
from .world import ConceptWorld, WorldConfig

if TYPE_CHECKING:  # pragma: no cover
    from .parallel import WorkerPool
    from .pretrain import PretrainResult, TrainConfig

N_CONCEPTS = 100
"""Concepts of the standard world."""
N_PAIRS = 40_000
"""Clean image-caption pairs of the standard corpus."""
MODEL = "uim-base4"
"""The standard lab CLIP (see ``uim_utils/data/model_configs``): the image tower
``uim_byobnet_s16`` (:mod:`uim_utils.towers`: timm's ``test_byobnet`` with a 16-channel stem
and a 24-channel first stage) and a one-layer text transformer of 14 tokens trained on its
pooled token, :data:`POOLED_TEXT` (lab v6; v4 and v5 were ``uim-base3``, the plain
``test_byobnet`` tower, 4 epochs; v3 was ``uim-base2``, timm's ``test_resnet`` tower,
3 epochs; v2 was ``uim-base``, two text layers of 16 tokens, 2 epochs)."""
EPOCHS = 6
"""Passes over the standard corpus.

Lab v6 (``uim-base4``, 6 epochs) was chosen on development worlds 0-9 (2026-12-04): zero-shot
photo / sketch / noisy / recolor 0.712 / 0.425 / 0.458 / 0.481 on average (lowest world
0.680 / 0.372 / 0.424 / 0.453), every domain above 0.35 in every world, in 37.3 s per model
(two models side by side, one thread each). In the same hour, v5 (``uim-base3``, 4 epochs)
reached 0.665 / 0.355 / 0.423 / 0.433 with sketch below 0.35 in 4 of 10 worlds (lowest 0.313)
in 35.0 s, and ``uim-base3`` for 6 epochs 0.738 / 0.436 / 0.478 / 0.520 in 45.1 s: the
narrower stem buys the extra epochs for about 7% more time. Its step spends less on the
memory-bound batch norm of the stem, so it runs nearer the matmul ceiling
(``scripts/benchmark_lab.py``). Lab v4 (``uim-base3``, 4 epochs, channels-last) was chosen on
development worlds 0-5, with learning rates 1e-2 and 4e-3 doing no better than 6e-3. The
held-out worlds are in the chapters' reproduction records."""
CHANNELS_LAST = True
"""Train the image tower channels-last (:attr:`uim_utils.pretrain.TrainConfig.channels_last`):
faster convolutions on CPU, one thread or two."""
POOLED_TEXT = True
"""Train the one-layer text tower on its pooled (end-of-text) token only
(:attr:`uim_utils.pretrain.TrainConfig.pooled_text`): the same function as open_clip's
``encode_text``, to float rounding, for a fraction of its work (lab v5).

Chosen on development worlds 1-9 (2026-12-03, two models side by side, one thread each):
the clean model trained in 43 s instead of 55 s (-22%, SE 1.2 s) and its mean zero-shot
accuracy per domain moved by at most 0.006 (photo / sketch / noisy / recolor
0.663 / 0.354 / 0.419 / 0.433 against 0.660 / 0.353 / 0.424 / 0.433). A trained model is a
plain open_clip CLIP: the chapters encode text with its own ``encode_text``."""
LR = 6e-3
"""Peak learning rate of the standard clean model (chosen on development seeds 0-9)."""

LONG_TAIL: dict[str, Any] = {"zipf_exponent": 1.6, "zipf_offset": 5.0}
"""The standard long-tailed corpus dials (``CorpusConfig(**LONG_TAIL, ...)``), for chapters
built on the standard world.

A plain Zipf law with exponent 1.2 puts 28% of the pairs on one concept (about 71
copies in a batch of 256, so most in-batch negatives of a head concept are the concept
itself). A Zipf-Mandelbrot law with exponent 1.6 and offset 5 gives the top concept
11.5% and the rarest 47 of 40,000 pairs. Chosen on development worlds 0-2 with the
standard clean model's recipe: Spearman correlation between log concept count and
zero-shot photo accuracy 0.38 / 0.37 / 0.34 (worlds 0 / 1 / 2) against 0.42 / 0.33 / 0.27
for Zipf 1.2, and between the canonical name's caption count and accuracy
0.55 / 0.53 / 0.63 against 0.63 / 0.65 / 0.50; exponent 1.2 with offset 5 (7% on the top
concept) weakened both (0.22 / 0.29 / 0.22 and 0.49 / 0.54 / 0.44). The long-tail chapter
(:mod:`uim_utils.chapters.longtail`) uses it; its reproduction record confirms its claims
on held-out worlds."""


@dataclass
class CleanWorld:
    """A world, its clean corpus and its clean pre-trained model.

    Attributes
    ----------
    world : ConceptWorld
    corpus : Corpus
    result : PretrainResult
        The model (``result.model``), its training history and whether it was cached.
    """

    world: ConceptWorld
    corpus: Corpus
    result: PretrainResult


def standard_world(seed: int, n_concepts: int = N_CONCEPTS) -> ConceptWorld:
    """The concept world of base seed ``seed``."""
    check_int("seed", seed, 0, 2**32 - 1)
    return ConceptWorld(WorldConfig(n_concepts=n_concepts, seed=seed))


def clean_train_config(seed: int) -> TrainConfig:
    """The training settings of the standard clean model of world ``seed``."""
    from .pretrain import TrainConfig

    return TrainConfig(model=MODEL, epochs=EPOCHS, lr=LR, seed=seed, channels_last=CHANNELS_LAST,
                       pooled_text=POOLED_TEXT)


def recipe() -> dict[str, Any]:
    """The settings that decide a standard clean model (for claim fingerprints)."""
    return {"n_concepts": N_CONCEPTS, "n_pairs": N_PAIRS, "model": MODEL, "epochs": EPOCHS, "lr": LR,
            "channels_last": CHANNELS_LAST, "pooled_text": POOLED_TEXT}


def clean_model(seed: int, progress: bool = True) -> CleanWorld:
    """World ``seed``, its clean corpus and its clean lab CLIP (trained once, then cached).

    Parameters
    ----------
    seed : int
        The base seed: it draws the world, the corpus and the initial weights.
    progress : bool
        Show a progress bar while pre-training.
    """
    from .pretrain import pretrain

    world, corpus = clean_corpus(seed)
    return CleanWorld(world, corpus, pretrain(corpus, clean_train_config(seed), progress=progress))


def clean_models(seeds: list[int], progress: bool = True) -> list[CleanWorld]:
    """:func:`clean_model` of several worlds, the missing models pre-trained side by side
    (:func:`uim_utils.pretrain.pretrain_many`); the same models, sooner.

    Parameters
    ----------
    seeds : list of int
        Base seeds of the worlds.
    progress : bool
        One progress bar over the missing models' training steps.
    """
    from .pretrain import pretrain_many

    worlds = [clean_corpus(s) for s in seeds]
    results = pretrain_many([(corpus, clean_train_config(s)) for s, (_, corpus) in zip(seeds, worlds)],
                            progress=progress)
    return [CleanWorld(w, c, r) for (w, c), r in zip(worlds, results)]


def clean_corpus(seed: int) -> tuple[ConceptWorld, Corpus]:
    """World ``seed`` and its clean corpus, untrained (images render on first use).

    For chapters that pre-train the clean model beside others with
    :func:`uim_utils.pretrain.pretrain_many` (with :func:`clean_train_config`).
    """
    world = standard_world(seed)
    return world, build_corpus(world, CorpusConfig(n_samples=N_PAIRS, seed=seed))


def pretrain_world(seed: int, configs: Sequence[CorpusConfig | None], progress: bool = True,
                   pool: WorkerPool | None = None) -> tuple[ConceptWorld, list[Corpus], list[PretrainResult]]:
    """World ``seed``'s models on the corpora ``configs`` describe, pre-trained (or loaded)
    side by side with the standard recipe (:func:`clean_train_config`).

    The chapters' common step: a flawed corpus of the world beside its clean one.

    Parameters
    ----------
    seed : int
        The base seed of the world.
    configs : sequence of CorpusConfig or None
        One corpus per model; ``None`` is the world's clean corpus (its standard clean
        model, shared with the other chapters).
    progress : bool
        One progress bar over the missing models' training steps.
    pool : WorkerPool, optional
        Train in these worker processes (:func:`uim_utils.pretrain.pretrain_many`).

    Returns
    -------
    world, corpora, results
        The world, the corpora in the order of ``configs`` and their pre-training results.
    """
    from .pretrain import pretrain_many

    world, clean = clean_corpus(seed)
    corpora = [clean if c is None else build_corpus(world, c) for c in configs]
    results = pretrain_many([(c, clean_train_config(seed)) for c in corpora], progress=progress,
                            pool=pool) if corpora else []
    return world, corpora, results


def pretrain_dial(seed: int, dial: str, values: Sequence[Any], config: Callable[[int, Any], CorpusConfig],
                  reuse: Collection[Any] = (), result_seed: int | None = None,
                  progress: bool = True) -> tuple[ConceptWorld, dict[Any, PretrainResult]]:
    """World ``seed``'s models along a dial of its corpus (a dose-response figure's models).

    Parameters
    ----------
    seed : int
        The base seed of the world.
    dial : str
        The dial's name in error messages (e.g. ``"doses"``).
    values : sequence
        Distinct dial values; 0 is the world's clean model. Each is checked by
        ``config(seed, value)``, which gives the corpus settings of the others.
    config : callable
        ``config(seed, value) -> CorpusConfig``.
    reuse : collection
        Values whose models the caller already has (from a world result): not trained.
    result_seed : int, optional
        The world of that result; it must be ``seed``.
    progress : bool

    Returns
    -------
    world, trained
        The world and, for every value not in ``reuse``, its pre-training result
        (pre-trained side by side with :func:`pretrain_world`, or loaded).
    """
    if not values or len(set(values)) != len(values):
        raise ValueError(f"{dial} must be distinct and non-empty, got {values!r}")
    for v in values:
        config(seed, v)  # validates the seed and the value
    if result_seed is not None and result_seed != seed:
        raise ValueError(f"result is of world {result_seed}, not of world {seed}")
    todo = [v for v in values if v not in reuse]
    world, _, trained = pretrain_world(seed, [None if v == 0 else config(seed, v) for v in todo], progress)
    return world, dict(zip(todo, trained))
