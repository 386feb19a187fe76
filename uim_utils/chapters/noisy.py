"""The noisy-captions chapter (``02_noisy_captions``): what a model inherits from wrong captions.

A **world** is everything one base seed draws: the concept world, its clean corpus and
clean model (:func:`uim_utils.lab.clean_model`, shared with the other chapters), and a
**noisy corpus**: the same pairs with a share :data:`RATE` of the captions replaced by
the name of a uniformly drawn other concept (symmetric noise, as in Chen et al.). The
two models are pre-trained with the standard recipe from the same initial weights, so
they differ in the wrong captions only.

Downstream, every model's image encoder is frozen and read three ways:

- a **linear probe** trained on :data:`N_PROBE` labelled photos per concept and tested
  on fresh images of every domain: photos (in-domain, ID) and sketches, noisy photos and
  recoloured photos (out-of-domain, OOD);
- a **transfer task**: a linear probe on :data:`N_NOVEL` *new* concepts (cells of the
  prototype grid that the world's concepts do not occupy), never named in pre-training;
- the **feature spectrum** of the photo test features (singular-value entropy).

The noisy corpus is **audited** with ``cleanlab`` (label-quality scores of the
captions' concepts from a probe's out-of-sample probabilities on the noisy model's
features), and NMTune (:mod:`uim_utils.nmtune`, as the reference implements it) is
compared with the same MLP trained with cross-entropy alone on the same views.

:func:`run_world` pre-trains (or loads) and evaluates the models of one world;
:func:`statistics` reduces the result to the claims' statistics, each with its
standard error over the unit the claim is about (concepts, or the audited pairs). The
asserted claims of a run (the spectrum premise, the audit) are decided in its world;
the OOD inheritance is about the average world (one world's concepts differ too much in
what they have to lose for its interval to decide it), so the reproduction record
decides it over its held-out worlds and a test asserts that verdict.

Imports torch only inside the functions that need it (the appendix imports every
chapter module).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import lab, parallel
from ..claims import Claim, ClaimSet
from ..validate import check_int
from . import Chapter, check_profile

ID_DOMAIN = "photo"
"""The in-domain style: 70% of a default corpus, and the domain the probes train on."""
OOD_DOMAINS: tuple[str, ...] = ("sketch", "noisy", "recolor")
"""Out-of-domain styles: 10% of a default corpus each."""
RATE = 0.1
"""Share of wrong captions in the noisy corpus: the 'slight noise' of Chen et al. (5-10%)."""
RATES_LAB = (0.05, RATE, 0.3)
"""Noise rates of the dose-response figure (``lab`` profile; 0 is the clean model)."""
N_PROBE = {"ci": 10, "lab": 20, "wild": 20}
"""Labelled photos per concept that train the downstream probes and heads, per profile."""
N_TEST = {"ci": 10, "lab": 20, "wild": 20}
"""Test images per concept and domain, per profile."""
N_NOVEL = 50
"""New concepts of the transfer task."""
N_AUDIT = {"ci": 5000, "lab": 10000, "wild": 10000}
"""Pairs of the noisy corpus the audit scores, per profile (a random sample)."""
TRANSFER_OFFSET = 9000
"""The transfer task's concepts come from the world of seed ``seed + 9000``."""
SPECTRUM_BOOT = 200
"""Bootstrap resamples of concepts for the standard error of the spectrum's change."""
MIN_OOD_DROP = 0.02
"""OOD linear-probe accuracy the noise must cost on average over worlds (claim 1)."""
MIN_AUC = 0.9
"""ROC AUC the audit's ranking of wrong captions must clear (claim 6)."""
COST_MARGIN = 0.02
"""Largest drop of ID accuracy NMTune may cost against the cross-entropy-only MLP."""

SPEC = ClaimSet(
    chapter="02_noisy_captions",
    # versions 5, 6 and 7: the lab's v4, v5 and v6 recipes (lab.recipe()); claims and design of version 3
    version=7,
    design={**lab.recipe(), "rate": RATE, "n_probe": N_PROBE, "n_test": N_TEST, "n_novel": N_NOVEL,
            "n_audit": N_AUDIT, "transfer_offset": TRANSFER_OFFSET, "spectrum_boot": SPECTRUM_BOOT,
            "nmtune": "reference defaults (uim_utils.nmtune.NMTuneConfig), seed = world seed",
            "test_seeds": "probe seed + 1, tests seed + 2, novel seed + 3 / + 4, audit sample seed + 5"},
    claims=(
        Claim("1", f"Inheritance (OOD): with {RATE:.0%} wrong captions the OOD linear-probe accuracy falls "
                   f"by more than {MIN_OOD_DROP:.2f} (a claim about the average world: decided over the "
                   "record's worlds)",
              statistic="ood_drop", kind="effect", threshold=MIN_OOD_DROP, within="concepts", asserted=False),
        Claim("2", "Premise: the noise spreads the feature spectrum (the top five singular values of the photo "
                   "features lose share)",
              statistic="top_share_change", kind="effect", threshold=0.0, direction="less", within="concepts"),
        Claim("3", "Premise, as entropy: the singular-value entropy of the photo features rises",
              statistic="entropy_change", kind="effect", threshold=0.0, within="concepts", asserted=False),
        Claim("4", f"ID bump: with {RATE:.0%} wrong captions the ID linear-probe accuracy rises",
              statistic="id_change", kind="effect", threshold=0.0, within="concepts", asserted=False),
        Claim("5", f"Transfer bump: on {N_NOVEL} new concepts the linear probe of the noisy model is more "
                   "accurate than the clean model's",
              statistic="transfer_change", kind="effect", threshold=0.0, within="concepts", asserted=False),
        Claim("6", f"Audit: cleanlab's label-quality scores rank the wrong captions below the right ones "
                   f"(ROC AUC above {MIN_AUC})",
              statistic="audit_auc", kind="effect", threshold=MIN_AUC, within="pairs"),
        Claim("7", "Mitigate (NMTune): on the noisy model, NMTune's OOD accuracy is above the same MLP "
                   "trained with cross-entropy alone on the same views",
              statistic="nmtune_gain", kind="effect", threshold=0.0, within="concepts", asserted=False),
        Claim("8", f"Cost: NMTune's ID accuracy is at most {COST_MARGIN:.2f} below the cross-entropy-only "
                   "MLP's",
              statistic="nmtune_cost", kind="non_inferiority", margin=COST_MARGIN, within="concepts",
              asserted=False),
    ),
)
"""The chapter's claims. Claims 2 and 6 are decided in every world on its own (intervals
over concepts or pairs); claim 1 is about the average world (one world's 100 concepts
leave its interval too wide), so the reproduction record decides it over its held-out
worlds; the others are exploratory."""

@dataclass
class WorldResult:
    """One world's models, evaluated.

    Attributes
    ----------
    seed : int
        Base seed.
    images : DataFrame
        One row per test image: ``concept``, ``domain`` (a domain name, or ``"novel"``
        for the transfer task, whose concepts are numbered on their own) and 0/1
        correctness columns ``clean_probe``, ``noisy_probe``, ``noisy_nmtune``,
        ``noisy_ce_only`` (the NMTune columns are NaN on the transfer task).
    spectra : dict
        Per model, :func:`uim_utils.evaluate.spectrum_stats` of its photo test features.
    spectrum_boot : dict of ndarray
        Bootstrap (over concepts) of the change, noisy minus clean, of the entropy
        (``"entropy"``) and of the top-5 share (``"top_share"``).
    audit : dict
        ``quality`` (cleanlab's label-quality score of each audited pair), ``wrong`` (its
        caption names a wrong concept), ``flagged`` (``find_label_issues``).
    histories : dict
        Training seconds of each model trained in this run (empty when cached).
    """

    seed: int
    images: pd.DataFrame
    spectra: dict[str, dict[str, Any]]
    spectrum_boot: dict[str, np.ndarray]
    audit: dict[str, np.ndarray]
    histories: dict[str, float]


def noisy_config(seed: int, rate: float = RATE) -> Any:
    """The noisy corpus settings of world ``seed``: the clean corpus's draw, ``rate`` wrong captions."""
    from ..corpus import CorpusConfig

    check_int("seed", seed, 0, 2**32 - 1)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"rate must be a number in [0, 1), got {rate!r}")
    return CorpusConfig(n_samples=lab.N_PAIRS, seed=seed, caption_noise=float(rate))


def novel_concepts(world: Any, seed: int, n: int = N_NOVEL) -> tuple[Any, np.ndarray]:
    """The transfer task's world and ``n`` of its concepts that ``world`` does not have.

    The concepts are cells of the prototype grid (lobes, hole, aspect, hue, stripes); the
    transfer world (seed ``seed +`` :data:`TRANSFER_OFFSET`) draws its own, and the first
    ``n`` whose cell no concept of ``world`` occupies are kept.
    """
    from ..world import ConceptWorld, WorldConfig

    check_int("n", n, 2, 400)
    other = ConceptWorld(WorldConfig(n_concepts=world.n_concepts, image_size=world.config.image_size,
                                     seed=seed + TRANSFER_OFFSET))
    taken = set(_cells(world))
    keep = [i for i, c in enumerate(_cells(other)) if c not in taken][:n]
    if len(keep) < n:
        raise ValueError(f"the transfer world has only {len(keep)} new concepts, {n} asked")
    return other, np.array(keep)


def _cells(world: Any) -> list[tuple[float, float, float, int, float]]:
    """The prototype-grid cell of each concept of ``world``."""
    hue_cell = np.rint(np.asarray(world.hue) * 8).astype(int) % 8
    return list(zip(world.lobes.tolist(), world.hole.tolist(), world.aspect.tolist(), hue_cell.tolist(),
                    world.stripes.tolist()))


@dataclass
class Tasks:
    """The downstream data of one world (render seeds disjoint from every corpus)."""

    train: tuple[np.ndarray, np.ndarray]
    tests: dict[str, tuple[np.ndarray, np.ndarray]]
    novel_train: tuple[np.ndarray, np.ndarray]
    novel_test: tuple[np.ndarray, np.ndarray]


def downstream_tasks(world: Any, seed: int, profile: str) -> Tasks:
    """World ``seed``'s labelled photos, test images of every domain, and the transfer task."""
    check_profile(profile, N_TEST)
    from ..world import DOMAINS

    other, classes = novel_concepts(world, seed)
    novel_train = other.sample(N_PROBE[profile], ID_DOMAIN, seed=seed + 3, classes=classes)
    novel_test = other.sample(N_TEST[profile], ID_DOMAIN, seed=seed + 4, classes=classes)
    relabel = {int(c): i for i, c in enumerate(classes)}
    return Tasks(train=world.sample(N_PROBE[profile], ID_DOMAIN, seed=seed + 1),
                 tests={d: world.sample(N_TEST[profile], d, seed=seed + 2) for d in DOMAINS},
                 novel_train=(novel_train[0], np.vectorize(relabel.get)(novel_train[1])),
                 novel_test=(novel_test[0], np.vectorize(relabel.get)(novel_test[1])))


def run_world(seed: int, profile: str = "ci", progress: bool = False) -> WorldResult:
    """Pre-train (or load) and evaluate the clean and the noisy model of world ``seed``.

    Parameters
    ----------
    seed : int
        The base seed of the world.
    profile : str
        ``"ci"``, ``"lab"`` or ``"wild"``: the downstream sizes (:data:`N_PROBE`,
        :data:`N_TEST`, :data:`N_AUDIT`).
    progress : bool
        Progress bars while training.
    """
    check_profile(profile, N_TEST)
    check_int("seed", seed, 0, 2**32 - 1)
    world, (_, noisy_corpus), (clean, noisy) = lab.pretrain_world(seed, [None, noisy_config(seed)], progress)
    tasks = downstream_tasks(world, seed, profile)
    # One thread per job (the numbers do not depend on the machine); the audit runs on a
    # second thread beside the probes and NMTune, so both cores work.
    with parallel.limited_threads(), ThreadPoolExecutor(max_workers=1) as pool:
        audit_job = pool.submit(audit_corpus, noisy.model, noisy_corpus, N_AUDIT[profile], seed + 5)
        images, feats = evaluate_models({"clean": clean.model, "noisy": noisy.model}, tasks, seed)
        spectra, boot = spectrum_change(feats["clean"], feats["noisy"], tasks.tests[ID_DOMAIN][1], seed)
        audit = audit_job.result()
    histories = {name: float(r.history["seconds"]) for name, r in (("clean", clean), ("noisy", noisy))
                 if not r.cache_hit}
    return WorldResult(seed, images, spectra, boot, audit, histories)


def evaluate_models(models: dict[str, Any], tasks: Tasks, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Per test image, the correctness of every head (see :class:`WorldResult`), and each
    model's photo test features.

    Every model gets a linear probe (:func:`uim_utils.evaluate.linear_probe`) on the ID
    training photos and on the transfer task; the model named ``"noisy"`` also gets NMTune
    and the cross-entropy-only MLP, trained on the same views.
    """
    from .. import evaluate as ev
    from .. import nmtune as nm

    domains = list(tasks.tests)
    rows = [pd.DataFrame({"concept": y, "domain": d}) for d, (_, y) in tasks.tests.items()]
    rows.append(pd.DataFrame({"concept": tasks.novel_test[1], "domain": "novel"}))
    out = pd.concat(rows, ignore_index=True)
    photo_feats: dict[str, np.ndarray] = {}
    for name, lm in models.items():
        train = ev.encode_images(lm, tasks.train[0], normalize=False)
        tests = [ev.encode_images(lm, x, normalize=False) for x, _ in tasks.tests.values()]
        photo_feats[name] = tests[domains.index(ID_DOMAIN)]
        _, preds = ev.linear_probe(train, tasks.train[1], tests, seed=seed)
        _, (novel_pred,) = ev.linear_probe(ev.encode_images(lm, tasks.novel_train[0], normalize=False),
                                           tasks.novel_train[1],
                                           [ev.encode_images(lm, tasks.novel_test[0], normalize=False)], seed=seed)
        out[f"{name}_probe"] = np.concatenate([p == y for p, (_, y) in zip(preds, tasks.tests.values())]
                                              + [novel_pred == tasks.novel_test[1]]).astype(float)
        if name != "noisy":
            continue
        config = nm.with_seed(nm.NMTuneConfig(), seed)
        (views,) = nm.view_features([lm], tasks.train[0], config)
        n_classes = int(tasks.train[1].max()) + 1
        for head, cfg in (("nmtune", config), ("ce_only", nm.with_seed(nm.CE_ONLY, seed))):
            fitted = nm.fit_on_views(views, tasks.train[1], cfg, n_classes=n_classes)
            correct = [fitted.predict_features(f) == y for f, (_, y) in zip(tests, tasks.tests.values())]
            out[f"{name}_{head}"] = np.concatenate([*correct, np.full(len(tasks.novel_test[1]), np.nan)])
    return out, photo_feats


def spectrum_change(clean: np.ndarray, noisy: np.ndarray, concepts: np.ndarray,
                    seed: int) -> tuple[dict[str, dict[str, Any]], dict[str, np.ndarray]]:
    """Spectra of two models' features of the same images, and a bootstrap of their change.

    Returns each model's :func:`uim_utils.evaluate.spectrum_stats` and, for
    ``"entropy"`` and ``"top_share"`` (the top-5 share), :data:`SPECTRUM_BOOT` resamples
    of ``noisy - clean`` in which the concepts are drawn with replacement
    (:func:`uim_utils.stats.stratified_resamples` of one set; both models see the same
    resampled images).
    """
    from .. import evaluate as ev
    from ..stats import stratified_resamples

    if clean.shape != noisy.shape or len(concepts) != len(clean):
        raise ValueError(f"features {clean.shape} and {noisy.shape} and concepts ({len(concepts)}) must match")
    spectra = {"clean": ev.spectrum_stats(clean), "noisy": ev.spectrum_stats(noisy)}
    groups = [np.flatnonzero(concepts == c) for c in np.unique(concepts)]
    boot = {"entropy": np.empty(SPECTRUM_BOOT), "top_share": np.empty(SPECTRUM_BOOT)}
    for b, (drawn,) in enumerate(stratified_resamples([len(groups)], SPECTRUM_BOOT, seed)):
        rows = np.concatenate([groups[i] for i in drawn])
        sn, sc = ev.spectrum_stats(noisy[rows]), ev.spectrum_stats(clean[rows])
        boot["entropy"][b] = sn["entropy"] - sc["entropy"]
        boot["top_share"][b] = sn["top_k_share"] - sc["top_k_share"]
    return spectra, boot


def audit_corpus(lm: Any, corpus: Any, n: int, seed: int) -> dict[str, np.ndarray]:
    """cleanlab's audit of ``n`` random pairs of ``corpus`` on ``lm``'s image features.

    A logistic-regression probe predicts the concept each caption names from the image;
    its out-of-sample probabilities (5-fold ``cross_val_predict``) give each pair a label
    quality score (``cleanlab.rank.get_label_quality_scores``, self-confidence) and the
    label issues (``cleanlab.filter.find_label_issues``, in this process: ``n_jobs=1``).
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .. import evaluate as ev

    check_int("n", n, 10, len(corpus))
    keep = np.zeros(len(corpus), bool)
    keep[np.random.default_rng(seed).choice(len(corpus), n, replace=False)] = True
    sample = corpus.subset(keep)
    feats = ev.encode_images(lm, sample.images, normalize=False)
    given = sample.table["caption_concept"].to_numpy()
    _, y = np.unique(given, return_inverse=True)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    probs = cross_val_predict(clf, feats, y, cv=StratifiedKFold(5, shuffle=True, random_state=seed),
                              method="predict_proba")
    return {"quality": get_label_quality_scores(y, probs), "wrong": sample.table["noisy"].to_numpy(bool),
            "flagged": find_label_issues(y, probs, n_jobs=1)}


def statistics(result: WorldResult) -> dict[str, float]:
    """The claims' statistics of one world, each with its standard error (``<name>_se``)."""
    from .. import stats

    im = result.images
    row: dict[str, float] = {}

    def put(name: str, rows: pd.Series, values: pd.Series) -> None:
        row[name], row[f"{name}_se"] = stats.concept_mean_se(values[rows].to_numpy(float),
                                                             im.loc[rows, "concept"].to_numpy())

    ood, photo, novel = im["domain"].isin(OOD_DOMAINS), im["domain"] == ID_DOMAIN, im["domain"] == "novel"
    put("ood_drop", ood, im["clean_probe"] - im["noisy_probe"])
    put("id_change", photo, im["noisy_probe"] - im["clean_probe"])
    put("transfer_change", novel, im["noisy_probe"] - im["clean_probe"])
    put("nmtune_gain", ood, im["noisy_nmtune"] - im["noisy_ce_only"])
    put("nmtune_cost", photo, im["noisy_nmtune"] - im["noisy_ce_only"])
    put("nmtune_vs_probe", ood, im["noisy_nmtune"] - im["noisy_probe"])
    for name, key in (("entropy_change", "entropy"), ("top_share_change", "top_k_share")):
        row[name] = result.spectra["noisy"][key] - result.spectra["clean"][key]
    row["entropy_change_se"] = float(np.std(result.spectrum_boot["entropy"], ddof=1))
    row["top_share_change_se"] = float(np.std(result.spectrum_boot["top_share"], ddof=1))
    for name, s in result.spectra.items():
        row[f"{name}_entropy"], row[f"{name}_top_share"] = s["entropy"], s["top_k_share"]
    a = result.audit
    auc = stats.auc_interval(-a["quality"], a["wrong"])  # low quality = suspicious
    row["audit_auc"], row["audit_auc_se"] = auc.estimate, auc.se
    flagged, wrong = a["flagged"], a["wrong"]
    row["audit_precision"] = float((flagged & wrong).sum() / max(int(flagged.sum()), 1))
    row["audit_recall"] = float((flagged & wrong).sum() / max(int(wrong.sum()), 1))
    for col in ("clean_probe", "noisy_probe", "noisy_nmtune", "noisy_ce_only"):
        for part, rows in (("id", photo), ("ood", ood), ("novel", novel)):
            if not im.loc[rows, col].isna().all():
                row[f"{col}_{part}"] = float(im.loc[rows, col].mean())
    return row


def measure(seed: int, profile: str = "ci", progress: bool = False) -> dict[str, float]:
    """Statistics of world ``seed`` (see :func:`run_world` and :func:`statistics`)."""
    return statistics(run_world(seed, profile, progress=progress))


CHAPTER = Chapter(spec=SPEC, measure=measure, n_worlds={"ci": 1, "lab": 1})
"""One world per run in every profile (two pre-trained models each)."""


def noise_curve(seed: int, rates: tuple[float, ...], profile: str = "ci", progress: bool = False,
                result: WorldResult | None = None) -> pd.DataFrame:
    """Linear-probe accuracy and feature spectrum of world ``seed``'s models pre-trained at ``rates``.

    Rate 0 is the world's clean model; every other rate pre-trains (or loads) a model on
    :func:`noisy_config` at that rate, side by side. One row per rate: ``rate``, and for
    ``part`` in ``id`` (photos), ``ood`` (the other domains) and ``novel`` (the transfer
    task) the accuracy ``<part>`` with its standard error over concepts ``<part>_se``;
    ``entropy`` and ``top_share`` of the photo test features.

    Parameters
    ----------
    seed : int
    rates : tuple of float
        Distinct noise rates in [0, 1).
    profile : str
        Downstream sizes, as :func:`run_world`.
    progress : bool
    result : WorldResult, optional
        :func:`run_world`'s result of the same world and profile: its two models (rates 0
        and :data:`RATE`) are read from it rather than evaluated again.
    """
    from .. import evaluate as ev

    check_profile(profile, N_TEST)
    rates = tuple(float(r) for r in rates)
    known = {} if result is None else {0.0: "clean", RATE: "noisy"}
    world, trained = lab.pretrain_dial(seed, "rates", rates, noisy_config, known,
                                       None if result is None else result.seed, progress)
    models = {r: m.model for r, m in trained.items()}
    tasks = downstream_tasks(world, seed, profile) if trained else None
    rows = []
    with parallel.limited_threads():
        for r in rates:
            if r in known:
                assert result is not None
                name = known[r]
                rows.append(_curve_row(r, result.images, f"{name}_probe", result.spectra[name]))
                continue
            assert tasks is not None  # made above whenever a rate is to do
            images, feats = evaluate_models({"model": models[r]}, tasks, seed)
            rows.append(_curve_row(r, images, "model_probe", ev.spectrum_stats(feats["model"])))
    return pd.DataFrame(rows)


def _curve_row(rate: float, images: pd.DataFrame, column: str, spectrum: dict[str, Any]) -> dict[str, float]:
    """One row of :func:`noise_curve` from a model's per-image correctness and spectrum."""
    from .. import stats

    row: dict[str, float] = {"rate": rate}
    for part, keep in (("id", images["domain"] == ID_DOMAIN), ("ood", images["domain"].isin(OOD_DOMAINS)),
                       ("novel", images["domain"] == "novel")):
        row[part], row[f"{part}_se"] = stats.concept_mean_se(images.loc[keep, column].to_numpy(),
                                                             images.loc[keep, "concept"].to_numpy())
    row["entropy"], row["top_share"] = spectrum["entropy"], spectrum["top_k_share"]
    return row


# ------------------------------------------------------------------ exercise helpers
# Used by the solutions page (notebooks/solutions/02_noisy_captions_solutions).


def downstream_heads(seed: int, profile: str = "ci", heads: dict[str, Any] | None = None,
                     n_probe: int | None = None) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per test image, the clean and noisy models' probes and NMTune-style heads of ``heads``.

    The two models are world ``seed``'s (loaded from the cache); the labelled photos and
    test images are :func:`downstream_tasks`' (the transfer task is left out), with
    ``n_probe`` labelled photos per concept instead of :data:`N_PROBE` if given. Every
    head of ``heads`` (name -> ``NMTuneConfig``) is fitted on the noisy model's features
    of the *same* views, drawn once for the largest ``epochs`` of the configs.

    Returns
    -------
    images : DataFrame
        One row per test image: ``concept``, ``domain`` and 0/1 columns ``clean_probe``,
        ``noisy_probe`` and one per head.
    entropy : dict
        Per head, the singular-value entropy of its tuned photo test features
        (:func:`uim_utils.evaluate.spectrum_stats`).

    Raises
    ------
    ValueError
        If ``n_probe`` is below 2.
    """
    import torch

    from .. import evaluate as ev
    from .. import nmtune as nm

    check_profile(profile, N_TEST)
    if n_probe is not None:
        check_int("n_probe", n_probe, 2, 1000)
    world, _, (clean, noisy) = lab.pretrain_world(seed, [None, noisy_config(seed)], progress=False)
    tasks = downstream_tasks(world, seed, profile)
    x_train, y_train = tasks.train if n_probe is None else world.sample(n_probe, ID_DOMAIN, seed=seed + 1)
    out = pd.concat([pd.DataFrame({"concept": y, "domain": d}) for d, (_, y) in tasks.tests.items()],
                    ignore_index=True)
    truth = np.concatenate([y for _, y in tasks.tests.values()])
    entropy: dict[str, float] = {}
    with parallel.limited_threads():
        for name, lm in (("clean", clean.model), ("noisy", noisy.model)):
            tests = np.concatenate([ev.encode_images(lm, x, normalize=False) for x, _ in tasks.tests.values()])
            _, (pred,) = ev.linear_probe(ev.encode_images(lm, x_train, normalize=False), y_train, tests, seed=seed)
            out[f"{name}_probe"] = (pred == truth).astype(float)
        # ``tests`` now holds the noisy model's features, which the heads read
        if heads:
            epochs = max(cfg.epochs for cfg in heads.values())
            (views,) = nm.view_features([noisy.model], x_train,
                                        nm.with_seed(nm.NMTuneConfig(epochs=epochs), seed))
            photo = torch.as_tensor(tests[(out["domain"] == ID_DOMAIN).to_numpy()], dtype=torch.float32)
            for name, cfg in heads.items():
                fitted = nm.fit_on_views(views, y_train, nm.with_seed(cfg, seed), n_classes=lab.N_CONCEPTS)
                out[name] = (fitted.predict_features(tests) == truth).astype(float)
                with torch.no_grad():
                    fitted.net.eval()
                    tuned = fitted.net(photo)[1].numpy()
                entropy[name] = float(ev.spectrum_stats(tuned)["entropy"])
    return out, entropy
