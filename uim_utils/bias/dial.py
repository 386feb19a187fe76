"""The data dial: continued pre-training of the real encoder on a corpus with a dialed association.

A **dial corpus** is a list of (anchor, positive) sentence pairs for
``MultipleNegativesRankingLoss``: the anchor puts a male or female first name next to a
career or a family word (*"Kevin talked about the salary."*), the positive names a word
of the same category (*"It was about the office."*). The **dose** is the share of pairs
in which the name's category is the stereotypical one (male -> career, female ->
family): 0.5 is the balanced corpus (every name as often with career as with family
words), 1.0 the fully stereotyped one. Corpora of one world at different doses are
**paired**: they share every draw (names, frames, words, order) and differ only in which
category each pair's words come from, so two models of a world differ only in the dose.

:func:`train_encoder` continues the pre-training of all-MiniLM-L6-v2 on such a corpus
(the top :data:`TRAIN_LAYERS` transformer layers, on CPU, one thread) and returns the
trained weights; :func:`trained_layers` caches them on disk (:mod:`uim_utils.cache`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..cache import config_key, load_or_rebuild, save_entry
from ..validate import check_int

CACHE_NAMESPACE = "bias_dial_models"
FRAMES = ("{n} talked about the {a}.", "{n} thinks about the {a}.", "{n} cares about the {a}.",
          "{n} spent the day on the {a}.", "{n} wrote about the {a}.", "{n} asked about the {a}.")
"""Anchor sentence frames: ``{n}`` a first name, ``{a}`` a career or family word."""
POSITIVE = "It was about the {a}."
"""The positive sentence of a pair: another word of the anchor's category."""
TRAIN_LAYERS = 2
"""Transformer layers (of 6) that continued pre-training updates: the top ones."""


@dataclass(frozen=True)
class DialConfig:
    """How one model of the dial is trained.

    Attributes
    ----------
    dose : float
        Share of stereotypical pairs, in [0, 1] (0.5: balanced).
    seed : int
        The world's seed: corpus draws and the training seed.
    n_pairs : int
        Pairs in the corpus (= steps x batch size: one pass).
    batch_size : int
        Pairs per step (in-batch negatives of MNRL).
    lr : float
        AdamW learning rate.
    """

    dose: float
    seed: int
    n_pairs: int = 640
    batch_size: int = 32
    lr: float = 1e-4

    def __post_init__(self) -> None:
        if isinstance(self.dose, bool) or not isinstance(self.dose, (int, float)) or not 0.0 <= self.dose <= 1.0:
            raise ValueError(f"dose must be a number in [0, 1], got {self.dose!r}")
        check_int("seed", self.seed, 0, 2**32 - 1)
        check_int("batch_size", self.batch_size, 2)
        check_int("n_pairs", self.n_pairs, self.batch_size)
        if not isinstance(self.lr, (int, float)) or not 0.0 < float(self.lr) < 1.0:
            raise ValueError(f"lr must be a number in (0, 1), got {self.lr!r}")


def dial_corpus(male: Sequence[str], female: Sequence[str], career: Sequence[str], family: Sequence[str],
                dose: float, n_pairs: int, seed: int) -> list[tuple[str, str]]:
    """The (anchor, positive) pairs of a dial corpus.

    Parameters
    ----------
    male, female : sequence of str
        First names (each non-empty).
    career, family : sequence of str
        Attribute words (each non-empty).
    dose : float
        Share of stereotypical pairs, in [0, 1].
    n_pairs : int
        Number of pairs, at least 1.
    seed : int
        Seed of every draw. Corpora with the same seed and different doses share all
        draws: pair ``i`` is stereotypical iff ``u_i < dose`` for one uniform ``u_i``.

    Returns
    -------
    list of (str, str)
        Half of the pairs (rounded) have a male name, in shuffled order.

    Raises
    ------
    ValueError
        If a list is empty, ``dose`` is outside [0, 1] or ``n_pairs < 1``.
    """
    for name, words in (("male", male), ("female", female), ("career", career), ("family", family)):
        if len(words) == 0 or any(not isinstance(w, str) or not w.strip() for w in words):
            raise ValueError(f"{name} must be a non-empty list of non-empty strings, got {list(words)!r}")
    if isinstance(dose, bool) or not isinstance(dose, (int, float)) or not 0.0 <= dose <= 1.0:
        raise ValueError(f"dose must be a number in [0, 1], got {dose!r}")
    check_int("n_pairs", n_pairs, 1)
    rng = np.random.default_rng(seed)
    is_male = rng.permutation(np.arange(n_pairs) < (n_pairs + 1) // 2)
    u = rng.random(n_pairs)
    name_u, frame_i = rng.random(n_pairs), rng.integers(0, len(FRAMES), n_pairs)
    word_u, pos_u = rng.random(n_pairs), rng.random(n_pairs)
    pairs = []
    for i in range(n_pairs):
        names = male if is_male[i] else female
        stereo = bool(u[i] < dose)
        career_pair = stereo == bool(is_male[i])
        words = career if career_pair else family
        n = names[int(name_u[i] * len(names))]
        a = words[int(word_u[i] * len(words))]
        b = words[int(pos_u[i] * len(words))]
        pairs.append((FRAMES[frame_i[i]].format(n=n, a=a), POSITIVE.format(a=b)))
    return pairs


def stereotype_share(pairs: Sequence[tuple[str, str]], male: Sequence[str], career: Sequence[str]) -> float:
    """Share of pairs whose anchor is stereotypical (male name with career word or not-male with not-career).

    A check of :func:`dial_corpus`: it recovers the dose up to sampling noise.
    """
    if not pairs:
        raise ValueError("no pairs to count")
    m, c = set(male), set(career)
    hits = 0
    for anchor, _ in pairs:
        tokens = anchor.rstrip(".").split()
        hits += (tokens[0] in m) == (tokens[-1] in c)
    return hits / len(pairs)


def trainable_names(state_names: Sequence[str], n_layers: int = TRAIN_LAYERS, total: int = 6) -> list[str]:
    """Parameter names of the top ``n_layers`` of ``total`` transformer layers."""
    check_int("n_layers", n_layers, 1, total)
    top = [f"layer.{i}." for i in range(total - n_layers, total)]
    return [n for n in state_names if any(t in n for t in top)]


def train_encoder(model: Any, pairs: Sequence[tuple[str, str]], config: DialConfig) -> dict[str, np.ndarray]:
    """Continue pre-training ``model`` (a SentenceTransformer) on ``pairs`` with MNRL; one pass.

    Only the top :data:`TRAIN_LAYERS` layers are updated; the model is changed in place
    and left in eval mode. Batches follow the corpus order; ``torch.manual_seed(seed)``
    fixes dropout.

    Returns
    -------
    dict of str to ndarray
        The trained parameters (the top layers), to cache or to load into another copy.
    """
    import torch
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    if len(pairs) < config.batch_size:
        raise ValueError(f"{len(pairs)} pairs are fewer than one batch of {config.batch_size}")
    names = trainable_names([n for n, _ in model.named_parameters()])
    for n, p in model.named_parameters():
        p.requires_grad = n in names
    params = [p for n, p in model.named_parameters() if n in names]
    torch.manual_seed(config.seed)
    loss = MultipleNegativesRankingLoss(model)
    opt = torch.optim.AdamW(params, lr=config.lr)
    model.train()
    for start in range(0, len(pairs) - config.batch_size + 1, config.batch_size):
        batch = pairs[start:start + config.batch_size]
        feats = [model.preprocess([p[j] for p in batch]) for j in (0, 1)]
        value = loss(feats, None)
        opt.zero_grad()
        value.backward()
        opt.step()
    model.eval()
    return {n: p.detach().cpu().numpy().copy() for n, p in model.named_parameters() if n in names}


def load_layers(model: Any, layers: Mapping[str, np.ndarray]) -> None:
    """Copy ``layers`` (parameter name -> array) into ``model`` in place.

    Raises
    ------
    ValueError
        If a name is not a parameter of the model or a shape differs.
    """
    import torch

    params = dict(model.named_parameters())
    with torch.no_grad():
        for n, arr in layers.items():
            if n not in params:
                raise ValueError(f"{n!r} is not a parameter of the model")
            if tuple(params[n].shape) != tuple(arr.shape):
                raise ValueError(f"{n!r}: shape {tuple(arr.shape)} does not match the model's "
                                 f"{tuple(params[n].shape)}")
            params[n].copy_(torch.from_numpy(np.asarray(arr)))


def trained_layers(model: Any, base: Mapping[str, np.ndarray], pairs: Sequence[tuple[str, str]],
                   config: DialConfig, corpus_id: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The top layers of the model trained on ``pairs``: from the cache, or trained and cached.

    ``model`` is first reset to ``base`` (the pre-trained top layers) and, on a miss,
    trained; on return it holds the trained layers either way.
    """
    key = config_key({"dial": asdict(config), "corpus": dict(corpus_id), "layers": TRAIN_LAYERS, "v": 1})

    def load(arrays: dict[str, np.ndarray], _meta: dict[str, Any]) -> dict[str, np.ndarray] | None:
        if set(arrays) != set(base):  # the layers of another model: train anew (and overwrite)
            return None
        load_layers(model, arrays)
        return dict(arrays)

    def build() -> dict[str, np.ndarray]:
        load_layers(model, base)
        layers = train_encoder(model, pairs, config)
        save_entry(CACHE_NAMESPACE, key, layers, meta={"dose": config.dose, "seed": config.seed})
        return layers

    return load_or_rebuild(CACHE_NAMESPACE, key, load, build)


__all__ = ["CACHE_NAMESPACE", "DialConfig", "FRAMES", "POSITIVE", "TRAIN_LAYERS", "dial_corpus", "load_layers",
           "stereotype_share", "train_encoder", "trainable_names", "trained_layers"]
