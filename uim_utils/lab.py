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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .corpus import Corpus, CorpusConfig, build_corpus
from .validate import check_int
from .world import ConceptWorld, WorldConfig

if TYPE_CHECKING:  # pragma: no cover
    from .pretrain import PretrainResult, TrainConfig

N_CONCEPTS = 100
"""Concepts of the standard world."""
N_PAIRS = 40_000
"""Clean image-caption pairs of the standard corpus."""
MODEL = "uim-base"
"""The standard lab CLIP (see ``uim_utils/data/model_configs``)."""
EPOCHS = 2
"""Passes over the standard corpus."""
LR = 6e-3
"""Peak learning rate of the standard clean model (chosen on development seeds 0-9)."""


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
    result: "PretrainResult"


def standard_world(seed: int, n_concepts: int = N_CONCEPTS) -> ConceptWorld:
    """The concept world of base seed ``seed``."""
    check_int("seed", seed, 0, 2**32 - 1)
    return ConceptWorld(WorldConfig(n_concepts=n_concepts, seed=seed))


def clean_train_config(seed: int) -> "TrainConfig":
    """The training settings of the standard clean model of world ``seed``."""
    from .pretrain import TrainConfig

    return TrainConfig(model=MODEL, epochs=EPOCHS, lr=LR, seed=seed)


def recipe() -> dict[str, Any]:
    """The settings that decide a standard clean model (for claim fingerprints)."""
    return {"n_concepts": N_CONCEPTS, "n_pairs": N_PAIRS, "model": MODEL, "epochs": EPOCHS, "lr": LR}


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

    world = standard_world(seed)
    corpus = build_corpus(world, CorpusConfig(n_samples=N_PAIRS, seed=seed))
    return CleanWorld(world, corpus, pretrain(corpus, clean_train_config(seed), progress=progress))
