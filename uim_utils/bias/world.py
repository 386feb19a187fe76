"""One world of the data dial: train the encoder at each dose and measure what changed.

A **world** is everything one base seed draws: the dial corpora (names, frames, words and
order, shared by every dose), the training seed, the split of the same-gender names of
the SEAT negative control and the names and activities of the downstream task. In a
world the real all-MiniLM-L6-v2 is trained once per dose (:mod:`uim_utils.bias.dial`);
:func:`run_world` embeds the SEAT words and the task's sentences with the pre-trained
model and with each trained one, and :func:`world_statistics` reduces that to the
chapter's statistics, each with its standard error over the unit it is about (the
words of a SEAT test, or activities x subject pairs downstream).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..cache import config_key
from ..stats import crossed_bootstrap, stratified_bootstrap
from ..validate import check_int
from .debias import apply_projection, bias_subspace, defining_pair_differences, projection_matrix
from .downstream import DownstreamResult, TaskData, build_task, evaluate_downstream
from .encoder import PACKAGED_MINILM, TextEncoder, load_encoder, normalize_rows
from .weat import weat_effect_size
from .words import fill_templates, load_word_lists

NULL_SPLIT_OFFSET = 500
"""The negative control's split of male names is drawn with seed ``seed + 500``."""


class ModelEncoder(TextEncoder):
    """A loaded SentenceTransformer in its current state, with an embedding cache under ``cache_id``."""

    def __init__(self, model: Any, cache_id: str, cache_root: Path | None = None) -> None:
        super().__init__(cache_root)
        self._model = model
        self.cache_id = cache_id
        self.spec = cache_id

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        return self._model.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                                  normalize_embeddings=True, show_progress_bar=False)

    def unknown_words(self, words: Sequence[str]) -> list[str]:
        return []


def name_pools(lists: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Male and female first names of the dial: SEAT weat6's names, then the task's (no repeats)."""
    t = lists["tests"]["weat6"]
    male = list(dict.fromkeys(t["X"]["words"] + lists["task"]["male_names"]))
    female = list(dict.fromkeys(t["Y"]["words"] + lists["task"]["female_names"]))
    return male, female


def null_split(male: Sequence[str], seed: int) -> tuple[list[str], list[str]]:
    """A random split of the male names into two halves of equal size (the negative control)."""
    if len(male) < 4:
        raise ValueError(f"need at least 4 names to split, got {len(male)}")
    perm = list(np.random.default_rng(seed + NULL_SPLIT_OFFSET).permutation(list(male)))
    half = len(perm) // 2
    return perm[:half], perm[half:2 * half]


def word_vectors(encoder: TextEncoder, words: Sequence[str], templates: Sequence[str]) -> np.ndarray:
    """One unit vector per word: the mean of its template sentences' embeddings."""
    E = encoder.encode(fill_templates(list(words), list(templates)))
    return normalize_rows(E.reshape(len(words), len(templates), -1).mean(axis=1))


@dataclass
class ModelView:
    """What one model (pre-trained, or trained at one dose) gives the measurements.

    Attributes
    ----------
    seat : dict
        Test name -> ``{"X", "Y", "A", "B"}`` word matrices (``weat6``, ``weat1`` and the
        negative control ``null``).
    down : DownstreamResult
        The downstream task without debiasing.
    down_p0 : DownstreamResult or None
        With the projection ``P0`` of the model's own defining pairs (most biased model only).
    """

    seat: dict[str, dict[str, np.ndarray]]
    down: DownstreamResult
    down_p0: DownstreamResult | None = None


@dataclass
class DialWorld:
    """The measured models of one world: ``views[dose]``, with ``views["base"]`` the pre-trained model."""

    seed: int
    task: TaskData
    views: dict[Any, ModelView]
    seconds: dict[str, float] = field(default_factory=dict)


def seat_sets(encoder: TextEncoder, lists: Mapping[str, Any], null_names: tuple[list[str], list[str]]
              ) -> dict[str, dict[str, np.ndarray]]:
    """Word matrices of weat6 (names, career/family), weat1 (the flowers/insects control) and the null split."""
    tpl = lists["templates"]
    out: dict[str, dict[str, np.ndarray]] = {}
    for key in ("weat6", "weat1"):
        t = lists["tests"][key]
        out[key] = {r: word_vectors(encoder, t[r]["words"], tpl[t[r]["kind"]]) for r in "XYAB"}
    male, female = name_pools(lists)
    out["names"] = {"X": word_vectors(encoder, male, tpl["names"]), "Y": word_vectors(encoder, female, tpl["names"]),
                    "A": out["weat6"]["A"], "B": out["weat6"]["B"]}
    out["null"] = {"X": word_vectors(encoder, null_names[0], tpl["names"]),
                   "Y": word_vectors(encoder, null_names[1], tpl["names"]),
                   "A": out["weat6"]["A"], "B": out["weat6"]["B"]}
    return out


def task_embeddings(encoder: TextEncoder, task: TaskData) -> dict[str, np.ndarray]:
    """The embeddings :func:`~uim_utils.bias.downstream.evaluate_downstream` reads."""
    return {"train": encoder.encode(task.train["text"].tolist()),
            "test_m": encoder.encode(task.test["text_m"].tolist()),
            "test_f": encoder.encode(task.test["text_f"].tolist()),
            "amb_m": encoder.encode(task.ambiguous["text_m"].tolist()),
            "amb_f": encoder.encode(task.ambiguous["text_f"].tolist())}


def model_view(encoder: TextEncoder, lists: Mapping[str, Any], task: TaskData, null_names: tuple[list[str], list[str]],
               seed: int, project: bool = False) -> ModelView:
    """SEAT word matrices and downstream results of one model (and with ``P0`` if ``project``)."""
    emb = task_embeddings(encoder, task)
    view = ModelView(seat_sets(encoder, lists, null_names), evaluate_downstream(task, emb, seed=seed))
    if project:
        D, _ = defining_pair_differences(encoder, lists["defining_pairs"], lists["templates"]["terms"])
        P0 = projection_matrix(bias_subspace(D))
        view.down_p0 = evaluate_downstream(task, emb, lambda E: apply_projection(E, P0), method="P0", seed=seed)
    return view


def run_world(seed: int, doses: Sequence[float], *, n_pairs: int, batch_size: int, lr: float,
              subjects_per_activity: int, n_test_name_pairs: int) -> DialWorld:
    """Train the encoder of world ``seed`` at every dose (or load it) and measure every model.

    The largest dose's model is also measured after projection debiasing. Trained
    layers and embeddings are cached (:mod:`uim_utils.cache`).
    """
    import time

    from sentence_transformers import SentenceTransformer

    from ..parallel import limited_threads
    from . import dial

    check_int("seed", seed, 0, 2**32 - 1)
    if not doses or any(not 0.0 <= float(d) <= 1.0 for d in doses):
        raise ValueError(f"doses must be a non-empty list of numbers in [0, 1], got {list(doses)!r}")
    lists = load_word_lists()
    male, female = name_pools(lists)
    nulls = null_split(male, seed)
    task = build_task(lists["task"], seed=seed, subjects_per_activity=subjects_per_activity,
                      n_test_name_pairs=n_test_name_pairs)
    seconds: dict[str, float] = {}
    with limited_threads():
        base_enc = load_encoder(PACKAGED_MINILM)
        views: dict[Any, ModelView] = {"base": model_view(base_enc, lists, task, nulls, seed)}
        model = None
        t6 = lists["tests"]["weat6"]
        for dose in doses:
            cfg = dial.DialConfig(dose=float(dose), seed=seed, n_pairs=n_pairs, batch_size=batch_size, lr=lr)
            pairs = dial.dial_corpus(male, female, t6["A"]["words"], t6["B"]["words"], cfg.dose, n_pairs, seed)
            if model is None:
                from .encoder import packaged_minilm_path
                model = SentenceTransformer(str(packaged_minilm_path()), device="cpu")
                base = {n: p.detach().numpy().copy() for n, p in model.named_parameters()
                        if n in dial.trainable_names([m for m, _ in model.named_parameters()])}
            t0 = time.monotonic()
            layers = dial.trained_layers(model, base, pairs, cfg, {"frames": dial.FRAMES, "male": male,
                                                                   "female": female})
            seconds[f"train {dose}"] = time.monotonic() - t0
            digest = config_key({k: float(np.asarray(v, dtype=np.float64).sum()) for k, v in layers.items()})
            enc = ModelEncoder(model, f"dial:{digest}")
            views[float(dose)] = model_view(enc, lists, task, nulls, seed, project=float(dose) == max(doses))
    return DialWorld(seed=seed, task=task, views=views, seconds=seconds)


def association(X: np.ndarray, Y: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    """The WEAT test statistic per target word: mean s(x, A, B) over X minus mean s(y, A, B) over Y.

    Unlike the effect size it is not divided by a standard deviation: it is in units of
    cosine similarity, and does not saturate when the targets separate completely.
    """
    def s(T: np.ndarray) -> np.ndarray:
        T = normalize_rows(np.asarray(T, dtype=np.float64))
        return (T @ normalize_rows(np.asarray(A, dtype=np.float64)).T).mean(axis=1) - (
            T @ normalize_rows(np.asarray(B, dtype=np.float64)).T).mean(axis=1)
    return float(s(X).mean() - s(Y).mean())


def seat_difference(M1: Mapping[str, np.ndarray], M0: Mapping[str, np.ndarray] | None, n_boot: int = 400,
                    seed: int = 0, standardized: bool = False) -> tuple[float, float]:
    """SEAT statistic of ``M1`` minus that of ``M0`` (or ``M1``'s alone), with a paired bootstrap SE.

    The statistic is :func:`association` (``standardized=False``) or the effect size
    ``d``. Each replicate redraws the words of X, Y, A and B (within each set) and
    applies the same draw to both models, so the SE is over the words and the models
    are paired (:func:`uim_utils.stats.stratified_bootstrap`, sets in the order X, Y, A,
    B; replicates whose effect size is undefined are left out).

    Returns
    -------
    (difference, se)

    Raises
    ------
    ValueError
        If a test lacks one of X, Y, A, B, the models' matrices differ in shape,
        ``n_boot < 100``, ``seed < 0``, or fewer than 2 replicates are defined.
    """
    for M in (M1, M0) if M0 is not None else (M1,):
        if set(M) != set("XYAB"):
            raise ValueError(f"a test needs the word matrices X, Y, A, B; got {sorted(M)}")
    if M0 is not None and any(M1[r].shape != M0[r].shape for r in "XYAB"):
        raise ValueError("the two models' word matrices differ in shape")
    stat = weat_effect_size if standardized else association

    def diff(*ix: np.ndarray) -> float:
        value = stat(*(M1[r][i] for r, i in zip("XYAB", ix)))
        return value - (stat(*(M0[r][i] for r, i in zip("XYAB", ix))) if M0 is not None else 0.0)

    est = stratified_bootstrap(diff, [len(M1[r]) for r in "XYAB"], n_boot=n_boot, seed=seed,
                               unit="words within sets")
    return est.estimate, est.se


def crossed_se(values: np.ndarray, frame: Any, n_boot: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Mean of per-pair values and its SE, bootstrapping activities and subject pairs as crossed units."""
    pair_id = frame["subject_m"].astype(str) + "/" + frame["subject_f"].astype(str)
    est = crossed_bootstrap(np.asarray(values, dtype=float), frame["activity"].to_numpy(), pair_id.to_numpy(),
                            n_boot=n_boot, seed=seed, unit="activities x subject pairs")
    return float(est.estimate), float(est.se)


def world_statistics(world: DialWorld, low: float, high: float, n_boot: int = 400) -> dict[str, float]:
    """The chapter's statistics of one world (each with ``<name>_se``).

    ``low`` is the balanced dose (0.5) and ``high`` the most stereotyped one.
    """
    for dose in (low, high):
        if dose not in world.views:
            raise ValueError(f"dose {dose!r} was not trained in world {world.seed}; doses: "
                             f"{[k for k in world.views if k != 'base']}")
    base, lo, hi = world.views["base"], world.views[low], world.views[high]
    if hi.down_p0 is None:
        raise ValueError(f"dose {high!r} has no projected results; run_world projects the largest dose")
    s = world.seed
    out: dict[str, float] = {}

    def put(name: str, value_se: tuple[float, float]) -> None:
        out[name], out[f"{name}_se"] = value_se

    put("seat_dose", seat_difference(hi.seat["names"], lo.seat["names"], n_boot, s))
    put("seat_balanced", seat_difference(lo.seat["names"], base.seat["names"], n_boot, s))
    put("flowers_shift", seat_difference(hi.seat["weat1"], base.seat["weat1"], n_boot, s))
    put("seat_null", seat_difference(hi.seat["null"], None, n_boot, s))
    put("seat_base", seat_difference(base.seat["names"], None, n_boot, s))
    put("d_base", seat_difference(base.seat["weat6"], None, n_boot, s, standardized=True))
    put("d_balanced", seat_difference(lo.seat["weat6"], None, n_boot, s, standardized=True))
    put("d_high", seat_difference(hi.seat["weat6"], None, n_boot, s, standardized=True))
    put("d_null", seat_difference(hi.seat["null"], None, n_boot, s, standardized=True))
    amb, test = world.task.ambiguous, world.task.test
    put("gap_dose", crossed_se(hi.down.gap - lo.down.gap, amb, seed=s))
    put("gap_balanced", crossed_se(lo.down.gap - base.down.gap, amb, seed=s))
    put("gap_base", crossed_se(base.down.gap, amb, seed=s))
    put("gap_high", crossed_se(hi.down.gap, amb, seed=s))
    put("flip_high", crossed_se(hi.down.flips.astype(float), amb, seed=s))
    put("projection_gain", crossed_se(hi.down.gap - hi.down_p0.gap, amb, seed=s))
    n = len(test)
    p_none, p_p0 = hi.down.test_prob, hi.down_p0.test_prob
    assert p_none is not None and p_p0 is not None
    put("accuracy_cost", crossed_se((p_p0[:n] + p_p0[n:]) / 2 - (p_none[:n] + p_none[n:]) / 2, test, seed=s))
    hits = hi.down_p0.recovery_hits
    assert hits is not None
    n_t, n_a = len(test), len(amb)
    both = [test, amb]
    rows = np.concatenate([f["activity"].to_numpy() for f in both] * 2)
    cols = np.concatenate([(f["subject_m"] + "/" + f["subject_f"]).to_numpy() for f in both] * 2)
    est = crossed_bootstrap(hits.astype(float), rows, cols, n_boot=1000, seed=s, unit="activities x subject pairs")
    out["recovery"], out["recovery_se"] = float(est.estimate), float(est.se)
    assert len(hits) == 2 * (n_t + n_a)
    return out


__all__ = ["DialWorld", "ModelEncoder", "ModelView", "NULL_SPLIT_OFFSET", "association", "crossed_se", "model_view",
           "name_pools", "null_split", "run_world", "seat_difference", "seat_sets", "task_embeddings", "word_vectors",
           "world_statistics"]
