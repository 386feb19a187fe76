"""The robustness chapter (``05_lost_robustness``): narrow data and fine-tuning lose robustness.

A **world** is everything one base seed draws: the concept world, its clean corpus and
clean model (:func:`uim_utils.lab.clean_model`, shared with the other chapters; 70% of
its pairs are photos, 10% each sketches, noisy photos and recoloured photos), and a
**narrow model** pre-trained on as many pairs of the same world that are all photos,
from its own random initialisation (seed ``seed +`` :data:`NARROW_INIT_OFFSET`).

The chapter then turns the clean model into a photo classifier with
:mod:`uim_utils.finetune` (WiSE-FT's recipe): the zero-shot head, a linear probe, full
fine-tuning on :data:`N_FT` labelled photos per concept, and WiSE-FT's weight
interpolation between the zero-shot and the fine-tuned model. In-distribution (ID) is
held-out photos; out-of-distribution (OOD) is the mean over the three other domains.

:func:`run_world` trains (or loads) and evaluates one world's models;
:func:`statistics` reduces the result to the claims' statistics, each with its standard
error over the world's concepts (the unit a claim about "the model's accuracy" is
about). Every asserted claim is decided in every world on its own, so a notebook run of
one world decides them and the reproduction record repeats them on held-out worlds.

Imports torch only inside the functions that need it (the appendix imports every
chapter module).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import lab, parallel
from ..claims import Claim, ClaimSet
from ..validate import check_float, check_int
from . import Chapter, check_profile

N_CONCEPTS = lab.N_CONCEPTS
DOMAINS = ("photo", "sketch", "noisy", "recolor")
"""The lab's domains (:data:`uim_utils.world.DOMAINS`): photo is in distribution, the others are shifts."""
OOD_DOMAINS = DOMAINS[1:]
STANDARD_DIVERSITY = 0.3
"""Share of non-photo pairs in the standard clean corpus (0.1 each of sketch, noisy, recolor)."""
DIVERSITIES_LAB = (0.0, 0.1, STANDARD_DIVERSITY)
"""Diversity doses of the dose-response figure (``lab``): share of non-photo pairs in pre-training."""
NARROW_INIT_OFFSET = 500
"""Models other than the world's clean model start from weights drawn with seed ``seed + 500``."""
N_FT = 20
"""Labelled photos per concept for the linear probe and fine-tuning (2,000 in all)."""
FT_SEED_OFFSET = 1
"""The labelled photos are drawn with seed ``seed + 1`` (the test sets with ``seed``)."""
FT_LR = 2e-3
"""Peak learning rate of fine-tuning (a third of pre-training's, :data:`uim_utils.lab.LR`).

Claims version 1 used 1e-3; on held-out worlds 1000-1019 its asserted claims held together
in 16 of 20 (fine-tuning below the probe out of distribution failed its own world's
interval in 4, and in world 1000 fine-tuning's OOD loss and WiSE-FT's gain were 0.060 and
0.043, under their intervals' bounds). Redesigned on development worlds 0-8 with 1e-3,
2e-3 and 4e-3: 2e-3 raised the weakest world's OOD loss from 0.085 to 0.126 and WiSE-FT's
gain from 0.055 to 0.077; 4e-3 moved the fine-tuned model so far that the gain at
alpha = 0.5 fell again in some worlds (world 0: 0.118 at 2e-3, 0.076 at 4e-3)."""
FT_EPOCHS = 10
"""Passes over the labelled photos: 150 steps of 128."""
WISE_ALPHA = 0.5
"""WiSE-FT's mixing weight of the claims (0 is zero-shot, 1 the fine-tuned model)."""
ALPHAS = {"ci": (0.0, 0.5, 1.0), "lab": tuple(i / 10 for i in range(11)),
          "wild": tuple(i / 10 for i in range(11))}
"""Mixing weights of the WiSE-FT curve, per profile (0 is zero-shot, 1 the fine-tuned model)."""
N_TEST = {"ci": 10, "lab": 20, "wild": 20}
"""Test images per concept and domain, per profile."""
MIN_ER = 0.15
"""Effective robustness diversity must add: the photo-to-shift gap narrows by more than this."""
CHANCE = 1 / N_CONCEPTS
"""Accuracy of a guess among the world's concepts."""
NARROW_MARGIN = 0.05
"""Equivalence margin of the unseen-domain control: the photo-only model is within this of chance
on the domains it never saw.

Claim 2 was asserted up to claims version 3. Under lab v3 (version 3) it held in 20 of 20
held-out worlds 1040-1059 in ``ci`` but in 19 of 20 in ``lab``: in world 1050 the
photo-only model was 0.036 above chance (SE 0.009 over concepts), its interval's upper
bound 0.051. The stronger v3 model transfers a little to noisy photos and sketches,
concentrated in a few concepts (world 1050: noisy 0.084, sketch 0.044, recolor 0.009; one
concept at 0.43), and the SE is the spread between the 100 concepts, which more test
images do not shrink (``lab``'s 20 per concept and domain gave 0.0092, ``ci``'s 10 gave
0.0088). Since version 4 the claim is exploratory; its estimate over worlds is in the
record."""
MIN_DISTORTION = 0.03
"""OOD accuracy full fine-tuning must lose against zero-shot for claim 3."""
MIN_WISE_GAIN = 0.03
"""OOD accuracy WiSE-FT must add over full fine-tuning for claim 5.

Claim 5 was asserted up to claims version 7. Under lab v6 (version 7) it held in 19 of 20
held-out worlds 1184-1203, in ``ci`` and in ``lab``: in world 1199 fine-tuning lost only
0.070 of shifted-domain accuracy (the average world: 0.130), WiSE-FT recovered 0.048 of it
(SE 0.011 over concepts in ``ci``, 0.009 with ``lab``'s twice as many test images), so its
interval reached below 0.03. Over the 20 worlds the gain was 0.093 [0.081, 0.104] (``ci``),
5.0 SE beyond the threshold on average. Where fine-tuning loses little there is little to
recover, and the SE is the spread between concepts, which more test images barely shrink.
Since version 8 the claim is exploratory; its estimate over worlds is in the record."""
MIN_COLLAPSE = 0.3
"""Accuracy the midpoint of two models from different initialisations must lose against the
weaker of the two."""
WISE_COST_MARGIN = 0.05
"""Largest loss of photo accuracy WiSE-FT may cost against fine-tuning (exploratory claim 8)."""


def ft_config(seed: int) -> Any:
    """The fine-tuning settings of world ``seed`` (:class:`uim_utils.finetune.FinetuneConfig`)."""
    from ..finetune import FinetuneConfig

    return FinetuneConfig(lr=FT_LR, epochs=FT_EPOCHS, freeze_bn=True, seed=seed)


SPEC = ClaimSet(
    chapter="05_lost_robustness",
    # version 4: claim 2 exploratory (see NARROW_MARGIN); the design is that of version 2;
    # version 5: the lab's v4 recipe (lab.recipe(): uim-base3, 4 epochs, channels-last);
    # version 6: the lab's v5 recipe (the text tower trained on its pooled token), nothing else
    # version 7: the lab's v6 recipe (lab.recipe(): uim-base4, 6 epochs), nothing else;
    # version 8: claim 5 exploratory (see MIN_WISE_GAIN); otherwise version 7
    version=8,
    design={**lab.recipe(), "narrow": {"diversity": 0.0, "init_offset": NARROW_INIT_OFFSET},
            "finetune": {"n_per_concept": N_FT, "seed_offset": FT_SEED_OFFSET, "lr": FT_LR,
                         "epochs": FT_EPOCHS, "batch_size": 128, "freeze_bn": True, "weight_decay": 0.1},
            "wise_alpha": WISE_ALPHA, "n_test": N_TEST},
    claims=(
        Claim("1", f"Understand: diverse pre-training (30% non-photo pairs) narrows the gap between photo "
                   f"and shifted-domain zero-shot accuracy by more than {MIN_ER:.2f} against photo-only "
                   f"pre-training (effective robustness)",
              statistic="diversity_er", kind="effect", threshold=MIN_ER, within="concepts"),
        Claim("2", f"Control (a domain never seen): the photo-only model's zero-shot accuracy on the shifted "
                   f"domains is within ±{NARROW_MARGIN:.2f} of chance",
              statistic="narrow_above_chance", kind="equivalence", margin=NARROW_MARGIN, within="concepts",
              asserted=False),
        Claim("3", f"Interpret: full fine-tuning on photos loses more than {MIN_DISTORTION:.2f} of zero-shot "
                   f"accuracy on the shifted domains",
              statistic="ft_ood_loss", kind="effect", threshold=MIN_DISTORTION, within="concepts"),
        Claim("4", "Kumar et al.: full fine-tuning is less accurate than a linear probe on the shifted domains",
              statistic="ft_minus_lp_ood", kind="effect", threshold=0.0, direction="less", within="concepts",
              asserted=False),
        Claim("5", f"Mitigate (WiSE-FT, alpha = {WISE_ALPHA}): interpolating the zero-shot and fine-tuned "
                   f"weights gains more than {MIN_WISE_GAIN:.2f} of shifted-domain accuracy over fine-tuning",
              statistic="wise_ood_gain", kind="effect", threshold=MIN_WISE_GAIN, within="concepts",
              asserted=False),
        Claim("6", f"Control (different initialisations): the midpoint of the clean and the narrow model, "
                   f"which start from different random weights, is more than {MIN_COLLAPSE:.1f} less accurate "
                   f"on photos than the weaker of the two",
              statistic="collapse", kind="effect", threshold=MIN_COLLAPSE, within="concepts"),
        Claim("7", "Kumar et al.: full fine-tuning beats the linear probe in distribution (photos)",
              statistic="ft_minus_lp_id", kind="effect", threshold=0.0, within="concepts", asserted=False),
        Claim("8", f"Cost: WiSE-FT's photo accuracy is at most {WISE_COST_MARGIN:.2f} below fine-tuning's",
              statistic="wise_id_diff", kind="non_inferiority", margin=WISE_COST_MARGIN, within="concepts",
              asserted=False),
    ),
)
"""The chapter's claims (decided in every world on its own, intervals over concepts)."""

MODELS = ("zero_shot", "probe", "finetuned", "wise", "narrow")
"""The evaluated classifiers of a world, each on every domain."""


@dataclass
class WorldResult:
    """One world's classifiers, evaluated.

    Attributes
    ----------
    seed : int
    images : DataFrame
        One row per test image: ``concept``, ``domain`` and, for each classifier of
        :data:`MODELS`, the 0/1 column ``<model>`` (its prediction is right); ``mix``
        (the different-initialisation midpoint, photos only, NaN elsewhere) and
        ``distortion`` (1 - cosine between the fine-tuned and zero-shot features).
    histories : dict
        Training seconds of each model trained in this run (empty when all were cached).
    classifiers : dict
        The classifiers (:class:`uim_utils.finetune.ImageClassifier`) by name:
        ``zero_shot``, ``finetuned``, ``wise``, ``narrow`` and ``mix``.
    sets : dict
        The test sets, ``{domain: (images, labels)}``.
    features : dict
        The classifiers' normalised features of the test sets, ``{name: {domain: tensor}}``
        (``mix``: photos only), for the curves to reuse.
    """

    seed: int
    images: pd.DataFrame
    histories: dict[str, float]
    classifiers: dict[str, Any]
    sets: dict[str, tuple[np.ndarray, np.ndarray]]
    features: dict[str, dict[str, Any]]


def diversity_config(seed: int, diversity: float) -> Any:
    """Corpus settings of world ``seed`` with a share ``diversity`` of non-photo pairs (split
    equally over sketch, noisy and recolor); the clean corpus's size and seed."""
    from ..corpus import CorpusConfig

    check_int("seed", seed, 0, 2**32 - 1)
    check_float("diversity", diversity, 0.0, 1.0)
    other = diversity / len(OOD_DOMAINS)
    return CorpusConfig(n_samples=lab.N_PAIRS, seed=seed,
                        domain_weights={"photo": 1.0 - diversity, **dict.fromkeys(OOD_DOMAINS, other)})


def other_init_config(seed: int) -> Any:
    """The clean model's recipe from the other initialisation (seed ``seed +`` :data:`NARROW_INIT_OFFSET`)."""
    from dataclasses import replace

    return replace(lab.clean_train_config(seed), seed=seed + NARROW_INIT_OFFSET)


def diversity_job(world: Any, seed: int, diversity: float) -> tuple[Any, Any]:
    """The ``(Corpus, TrainConfig)`` of world ``seed``'s model at ``diversity``: the corpus of
    :func:`diversity_config` and the other initialisation (:func:`other_init_config`)."""
    from ..corpus import build_corpus

    return build_corpus(world, diversity_config(seed, diversity)), other_init_config(seed)


def pretrain_models(seed: int, diversities: tuple[float, ...] = (0.0,), progress: bool = False,
                    pool: Any = None) -> tuple[Any, dict[float, Any]]:
    """World ``seed``'s clean model and its models at other ``diversities`` (pre-trained side
    by side, or loaded).

    Returns
    -------
    world, models
        The concept world and ``{diversity: PretrainResult}``; key
        :data:`STANDARD_DIVERSITY` is the clean model (the world's initialisation), every
        other diversity a model from the other initialisation (:func:`other_init_config`).
    """
    from ..pretrain import pretrain_many

    if len(set(diversities)) != len(diversities) or STANDARD_DIVERSITY in diversities:
        raise ValueError(f"diversities must be distinct and exclude the standard {STANDARD_DIVERSITY} "
                         f"(the clean model), got {diversities!r}")
    world, clean = lab.clean_corpus(seed)
    jobs = [(clean, lab.clean_train_config(seed)), *(diversity_job(world, seed, d) for d in diversities)]
    results = pretrain_many(jobs, progress=progress, pool=pool)
    return world, {STANDARD_DIVERSITY: results[0], **dict(zip(diversities, results[1:]))}


def test_sets(world: Any, seed: int, profile: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """World ``seed``'s test images and labels, :data:`N_TEST` per concept, for every domain."""
    check_profile(profile, N_TEST)
    return {d: world.sample(N_TEST[profile], d, seed=seed) for d in DOMAINS}


def labelled_photos(world: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The :data:`N_FT` labelled photos per concept of world ``seed`` (probe and fine-tuning)."""
    return world.sample(N_FT, "photo", seed=seed + FT_SEED_OFFSET)


def _finetune_job(clf: Any, images: np.ndarray, labels: np.ndarray, config: Any) -> Any:
    """:func:`uim_utils.finetune.finetune` in a worker process (module level, so it pickles)."""
    from ..finetune import finetune

    return finetune(clf, images, labels, config)


def _pretrain_extra(seed: int, diversity: float) -> str:
    """Pre-train world ``seed``'s model at ``diversity`` into the cache (in a worker process);
    its cache key."""
    from ..pretrain import pretrain

    return pretrain(*diversity_job(lab.standard_world(seed), seed, diversity), progress=False).key


def encode(clf: Any, sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """The classifier's normalised features of every set's images (one thread, no gradients)."""
    import torch

    with parallel.limited_threads(), torch.no_grad():
        clf.eval()
        return {d: clf.features(clf.batch(x)).cpu() for d, (x, _) in sets.items()}


def correct(logits: Any, labels: np.ndarray) -> np.ndarray:
    """1.0 where the largest logit is the label, else 0.0."""
    return (np.asarray(logits.argmax(1)) == labels).astype(float)


def run_world(seed: int, profile: str = "ci", progress: bool = False, extra: tuple[float, ...] = ()) -> WorldResult:
    """Pre-train (or load), fine-tune and evaluate the classifiers of world ``seed``.

    The clean and the narrow model are pre-trained side by side; then one worker process
    fine-tunes while this one fits the linear probe and evaluates the zero-shot, probe,
    narrow and mixed classifiers (the same numbers as one after the other, sooner), and
    the other worker pre-trains the models of ``extra`` diversities into the cache.

    Parameters
    ----------
    seed : int
        The base seed of the world.
    profile : str
        ``"ci"``, ``"lab"`` or ``"wild"``: the test-set sizes (:data:`N_TEST`).
    progress : bool
        A progress bar while pre-training.
    extra : tuple of float
        Diversities whose models :func:`diversity_curve` will want (pre-trained, from the
        other initialisation, while fine-tuning runs; not trained where no worker
        processes can start).
    """
    from .. import finetune as ft

    check_profile(profile, N_TEST)
    check_int("seed", seed, 0, 2**32 - 1)
    with parallel.worker_pool(2) as pool:
        world, models = pretrain_models(seed, (0.0,), progress, pool)
        clean, narrow = models[STANDARD_DIVERSITY], models[0.0]
        photos, sets = labelled_photos(world, seed), test_sets(world, seed, profile)
        zs = ft.ImageClassifier.zero_shot(clean.model, world.classnames)
        job = (zs, *photos, ft_config(seed))
        tuning = pool.executor.submit(_finetune_job, *job) if pool is not None else None
        narrow_zs = ft.ImageClassifier.zero_shot(narrow.model, world.classnames)
        mix = ft.interpolate(zs, narrow_zs, 0.5)
        feats = {"zero_shot": encode(zs, sets), "narrow": encode(narrow_zs, sets),
                 "mix": encode(mix, {"photo": sets["photo"]})}
        extras = [pool.executor.submit(_pretrain_extra, seed, d) for d in extra] if pool is not None else []
        probe = ft.probe_head(zs, *photos)
        tuned = tuning.result() if tuning is not None else _finetune_job(*job)
        clfs = {"zero_shot": zs, "narrow": narrow_zs, "mix": mix, "finetuned": tuned,
                "wise": ft.interpolate(zs, tuned, WISE_ALPHA)}
        feats.update({name: encode(clfs[name], sets) for name in ("finetuned", "wise")})
        for future in extras:
            future.result()
    histories = {name: float(r.history["seconds"]) for name, r in (("clean", clean), ("narrow", narrow))
                 if not r.cache_hit}
    return WorldResult(seed, tabulate(clfs, probe, feats, sets), histories, clfs, sets, feats)


def tabulate(clfs: dict[str, Any], probe: tuple[np.ndarray, np.ndarray], feats: dict[str, dict[str, Any]],
             sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """Per test image, whether each classifier is right, and the fine-tuned model's feature
    distortion (see :class:`WorldResult`), from the classifiers' heads and features."""
    import torch

    rows = []
    with torch.no_grad():
        for domain, (_, y) in sets.items():
            out = pd.DataFrame({"concept": y, "domain": domain})
            for name in ("zero_shot", "finetuned", "wise", "narrow"):
                out[name] = correct(clfs[name].head(feats[name][domain]), y)
            out["probe"] = correct(feats["zero_shot"][domain].numpy() @ probe[0].T + probe[1], y)
            out["mix"] = correct(clfs["mix"].head(feats["mix"][domain]), y) if domain in feats["mix"] else np.nan
            out["distortion"] = 1.0 - (feats["zero_shot"][domain] * feats["finetuned"][domain]).sum(1).numpy()
            rows.append(out)
    return pd.concat(rows, ignore_index=True)


def per_concept(images: pd.DataFrame, column: str, domains: tuple[str, ...]) -> np.ndarray:
    """Each concept's accuracy of ``column`` over ``domains``: the mean over domains of the
    per-domain mean (one value per concept, in concept order)."""
    sub = images[images["domain"].isin(domains)]
    table = sub.groupby(["concept", "domain"])[column].mean().unstack("domain")
    return table[list(domains)].mean(axis=1).to_numpy()


def statistics(result: WorldResult) -> dict[str, float]:
    """The claims' statistics of one world, each with its standard error over concepts (``<name>_se``)."""
    from .. import stats

    im = result.images

    def acc(model: str, ood: bool) -> np.ndarray:
        return per_concept(im, model, OOD_DOMAINS if ood else ("photo",))

    row: dict[str, float] = {}

    def put(name: str, per: np.ndarray) -> None:
        est = stats.t_interval(per, unit="concepts")
        row[name], row[f"{name}_se"] = est.estimate, est.se

    gap = {m: acc(m, False) - acc(m, True) for m in ("zero_shot", "narrow")}
    put("diversity_er", gap["narrow"] - gap["zero_shot"])
    put("ft_ood_loss", acc("zero_shot", True) - acc("finetuned", True))
    put("wise_ood_gain", acc("wise", True) - acc("finetuned", True))
    put("wise_id_diff", acc("wise", False) - acc("finetuned", False))
    weaker = min(("zero_shot", "narrow"), key=lambda m: acc(m, False).mean())
    put("collapse", acc(weaker, False) - acc("mix", False))
    put("narrow_above_chance", acc("narrow", True) - CHANCE)
    put("ft_minus_lp_id", acc("finetuned", False) - acc("probe", False))
    put("ft_minus_lp_ood", acc("finetuned", True) - acc("probe", True))
    put("ft_minus_zs_id", acc("finetuned", False) - acc("zero_shot", False))
    for m in MODELS:
        row[f"{m}_id"], row[f"{m}_ood"] = float(acc(m, False).mean()), float(acc(m, True).mean())
    row["mix_id"] = float(acc("mix", False).mean())
    for d in DOMAINS:
        row[f"distortion_{d}"] = float(per_concept(im, "distortion", (d,)).mean())
    return row


def accuracy_row(images: pd.DataFrame, column: str) -> dict[str, float]:
    """ID (photo) and OOD (mean of the shifted domains) accuracy of ``column``, each with its
    standard error over concepts: ``id, id_se, ood, ood_se``."""
    from .. import stats

    row = {}
    for name, domains in (("id", ("photo",)), ("ood", OOD_DOMAINS)):
        est = stats.t_interval(per_concept(images, column, domains), unit="concepts")
        row[name], row[f"{name}_se"] = est.estimate, est.se
    return row


def right_table(clf: Any, sets: dict[str, tuple[np.ndarray, np.ndarray]],
                feats: dict[str, Any] | None = None) -> pd.DataFrame:
    """Per test image of ``sets``: ``concept``, ``domain`` and ``right`` (the classifier is right);
    ``feats`` are the classifier's features of ``sets`` if already computed."""
    import torch

    feats = encode(clf, sets) if feats is None else feats
    with torch.no_grad():
        return pd.concat([pd.DataFrame({"concept": y, "domain": d, "right": correct(clf.head(feats[d]), y)})
                          for d, (_, y) in sets.items()], ignore_index=True)


def wise_curve(result: WorldResult, alphas: tuple[float, ...]) -> pd.DataFrame:
    """WiSE-FT's ID and OOD accuracy along the mixing weight (one row per ``alpha``:
    ``alpha, id, id_se, ood, ood_se``), from the world's zero-shot and fine-tuned classifiers."""
    from .. import finetune as ft

    if not alphas:
        raise ValueError("alphas must name at least one mixing weight in [0, 1], got none")
    zs, tuned = result.classifiers["zero_shot"], result.classifiers["finetuned"]
    known = {0.0: "zero_shot", WISE_ALPHA: "wise", 1.0: "finetuned"}  # evaluated by run_world
    rows = []
    for alpha in alphas:
        clf = ft.interpolate(zs, tuned, alpha)  # checks alpha
        name = known.get(float(alpha))
        table = right_table(clf, result.sets, None if name is None else result.features[name])
        rows.append({"alpha": float(alpha), **accuracy_row(table, "right")})
    return pd.DataFrame(rows)


def diversity_curve(seed: int, diversities: tuple[float, ...], profile: str = "ci", progress: bool = False,
                    result: WorldResult | None = None) -> pd.DataFrame:
    """Zero-shot ID and OOD accuracy of world ``seed``'s models pre-trained with each share of
    non-photo pairs (the dose-response of Understand).

    The standard diversity is the world's clean model; the others are pre-trained (or
    loaded) side by side from the other initialisation. One row per diversity, in
    order: ``diversity, id, id_se, ood, ood_se`` and ``gap`` (id - ood).

    Parameters
    ----------
    seed : int
    diversities : tuple of float
        Distinct shares of non-photo pairs, in [0, 1].
    profile : str
        Test-set sizes, as :func:`run_world`.
    progress : bool
    result : WorldResult, optional
        :func:`run_world`'s result of the same world and profile: its two pre-trained
        models (diversities 0 and :data:`STANDARD_DIVERSITY`) are read from it.
    """
    check_profile(profile, N_TEST)
    if not diversities or len(set(diversities)) != len(diversities):
        raise ValueError(f"diversities must be distinct and non-empty, got {diversities!r}")
    if result is not None and result.seed != seed:
        raise ValueError(f"result is of world {result.seed}, not of world {seed}")
    known = {} if result is None else {STANDARD_DIVERSITY: "zero_shot", 0.0: "narrow"}
    others = tuple(d for d in diversities if d != STANDARD_DIVERSITY and d not in known)
    world, models = lab.standard_world(seed), dict[float, Any]()
    if others or result is None:
        with parallel.worker_pool(len(others) + 1) as pool:
            world, models = pretrain_models(seed, others, progress, pool)
    sets = test_sets(world, seed, profile) if result is None else result.sets
    rows = []
    for d in diversities:
        row = accuracy_row(_zero_shot_table(d, world, models, sets, result, known), "right")
        rows.append({"diversity": float(d), **row, "gap": row["id"] - row["ood"]})
    return pd.DataFrame(rows)


def _zero_shot_table(diversity: float, world: Any, models: dict[float, Any], sets: dict[str, Any],
                     result: WorldResult | None, known: dict[float, str]) -> pd.DataFrame:
    """:func:`right_table` of the zero-shot classifier of the model at ``diversity`` (read from
    ``result`` where it has it)."""
    from .. import finetune as ft

    if result is not None and diversity in known:
        name = known[diversity]
        return right_table(result.classifiers[name], sets, result.features[name])
    return right_table(ft.ImageClassifier.zero_shot(models[diversity].model, world.classnames), sets)


def measure(seed: int, profile: str = "ci", progress: bool = False) -> dict[str, float]:
    """Statistics of world ``seed`` (see :func:`run_world` and :func:`statistics`)."""
    return statistics(run_world(seed, profile, progress=progress))


CHAPTER = Chapter(spec=SPEC, measure=measure, n_worlds={"ci": 1, "lab": 1})
"""One world per run in every profile (two pre-trained models and one fine-tuning each)."""
