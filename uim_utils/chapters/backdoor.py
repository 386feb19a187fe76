"""The backdoor chapter (``04_backdoor_poisoning``): a few poisoned pairs plant a backdoor.

A **world** is everything one base seed draws: the concept world, its clean corpus and
clean model (:func:`uim_utils.lab.clean_model`, shared with the other chapters), and a
**poisoned corpus** drawn from the same world: :data:`uim_utils.lab.N_PAIRS` fresh clean
pairs (corpus seed ``seed +`` :data:`POISON_CORPUS_OFFSET`, so none of them is a pair
of the clean corpus) plus :data:`DOSE` poisoned pairs (a trigger patch on images of
other concepts, captioned as the world's target concept,
:func:`uim_utils.poisoning.pick_target`). Both models are pre-trained with the
standard recipe, so they differ only in the poison and in the draw of clean pairs.

The clean model plays two parts: the 0% control of the backdoor, and the defender's
**reference model** for the audit; it never saw a pair of the audited corpus. The
defender then fine-tunes the poisoned model on :data:`N_CLEAN_FT` trusted clean pairs
(a fifth of the corpus, one pass, at a learning rate a sixth of pre-training's) with the CLIP
loss alone and with CleanCLIP's loss.

:func:`run_world` pre-trains, fine-tunes (or loads) and evaluates the models of one
world; :func:`statistics` reduces the result to the claims' statistics, each with its
standard error over the unit the claim is about (the 99 non-target concepts, or the
pairs of the audited corpus). Every asserted claim is decided in every world on its own,
so a notebook run of one world decides them and the reproduction record repeats them on
held-out worlds.

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
from ..stats import concept_mean_se
from ..validate import check_int
from . import Chapter, check_profile

N_CONCEPTS = lab.N_CONCEPTS
DOSE = 3200
"""Poisoned pairs added to the 40,000 clean pairs of the poisoned corpus (7.4% of its pairs).

The dose of claims versions 2 and 3, 1,600, was chosen on development worlds 0-5 under
lab v2 (uim-base, 2 epochs): with 400 pairs world 4 learnt no backdoor at all (attack
success 0.002), with 800 world 5 reached only 0.40; with 1,600 every world tried was above
0.99. Whether the lab's epochs plant the backdoor is a threshold that moves from world to
world, and not monotonically with the dose (world 5: 0.86 at 400, 0.40 at 800). Lab v3
(uim-base2, 3 epochs) kept 1,600 and held on every held-out world; under lab v4 (uim-base3,
4 epochs) held-out world 1097 learnt no backdoor at 1,600 (zero-shot attack success 0.000,
though a linear probe's was 0.99), so claims version 4 doubles the dose: 3,200 pairs gave
attack success 0.996 on average over development worlds 0-9 (every world above 0.99) and
1.000 after the CLIP-only fine-tune."""
DOSE_SHARE = DOSE / (lab.N_PAIRS + DOSE)
"""The poisoned pairs' share of the poisoned corpus (its clean pairs plus :data:`DOSE`)."""
DOSES_LAB = (200, 800, DOSE)
"""Poison doses of the dose-response figure (``lab`` profile; 0 is the clean model)."""
POISON_CORPUS_OFFSET = 7000
"""The poisoned corpus is drawn with corpus seed ``seed + 7000`` (disjoint from the clean one)."""
CLEAN_FT_OFFSET = 8000
"""The defender's trusted clean pairs are drawn with corpus seed ``seed + 8000``."""
N_CLEAN_FT = lab.N_PAIRS // 5
"""Trusted clean pairs for the fine-tuning defences: a fifth of the pre-training corpus."""
FT_EPOCHS = 1
"""One pass over the trusted pairs: 62 steps of 128, a tenth of pre-training's steps."""
FT_LR = 1e-3
"""Fine-tuning learning rate: a sixth of pre-training's (:data:`uim_utils.lab.LR`)."""
N_TEST = {"ci": 10, "lab": 20, "wild": 20}
"""Test images (clean and triggered copies) per non-target concept, per profile."""
N_PROBE = {"ci": 10, "lab": 20, "wild": 20}
"""Clean labelled photos per concept for the downstream linear probe, per profile."""
FLAG_FRACTION = 0.10
"""The audit flags this share of the corpus: the pairs the reference model agrees with least
(a little more than the poisoned share, 3,200 of 43,200 pairs, so that recall can reach 1;
claims version 2 flagged 5% at a dose of 1,600)."""
MIN_ASR = 0.5
"""Attack success the backdoor must add over the clean model (claim 1), and keep after a
light fine-tune (claim 5): most triggered images are sent to the target."""
CONTROL_MARGIN = 0.03
"""Equivalence margin of the control: the patch alone moves at most 3% of images to the target."""
STEALTH_MARGIN = 0.05
"""Largest drop of clean zero-shot accuracy the poison may cause (non-inferiority)."""
MIN_AUC = 0.75
"""ROC AUC the audit's ranking of poisoned pairs must clear."""
COST_MARGIN = 0.05
"""Largest drop of clean zero-shot accuracy CleanCLIP may cost against the CLIP loss alone."""

SPEC = ClaimSet(
    chapter="04_backdoor_poisoning",
    # version 4: the lab's v4 recipe (lab.recipe(): uim-base3, 4 epochs, channels-last)
    # and twice the dose (see DOSE); otherwise the claims and design of version 2;
    # version 5: the lab's v5 recipe (the text tower trained on its pooled token), nothing else
    # version 6: the lab's v6 recipe (lab.recipe(): uim-base4, 6 epochs), nothing else
    version=6,
    design={**lab.recipe(), "dose": DOSE, "poison_corpus_offset": POISON_CORPUS_OFFSET,
            "clean_ft": {"n": N_CLEAN_FT, "offset": CLEAN_FT_OFFSET, "epochs": FT_EPOCHS, "lr": FT_LR,
                         "batch_size": 128, "cleanclip_weight": 1.0},
            "n_test": N_TEST, "n_probe": N_PROBE, "flag_fraction": FLAG_FRACTION,
            "test_seeds": "trigger set seed, probe seed + 1"},
    claims=(
        Claim("1", f"Backdoor: with {DOSE} poisoned pairs ({DOSE_SHARE:.1%} of the corpus) the "
                   f"zero-shot attack success rate exceeds the clean model's by more than {MIN_ASR:.1f}",
              statistic="backdoor", kind="effect", threshold=MIN_ASR, within="concepts"),
        Claim("2", f"Control: on the clean model the trigger does not move images to the target "
                   f"(triggered minus untriggered target rate within ±{CONTROL_MARGIN:.2f})",
              statistic="control", kind="equivalence", margin=CONTROL_MARGIN, within="concepts"),
        Claim("3", f"Stealth: the poison costs at most {STEALTH_MARGIN:.2f} of clean zero-shot accuracy",
              statistic="stealth", kind="non_inferiority", margin=STEALTH_MARGIN, within="concepts",
              asserted=False),
        Claim("4", "Inherited downstream: a linear probe trained on clean labelled images of the poisoned "
                   "encoder sends more triggered images to the target than one of the clean encoder",
              statistic="probe_backdoor", kind="effect", threshold=0.0, within="concepts", asserted=False),
        Claim("5", f"Audit: a reference model trained on other clean pairs ranks the poisoned pairs below the "
                   f"clean ones by image-caption agreement (ROC AUC above {MIN_AUC})",
              statistic="audit_auc", kind="effect", threshold=MIN_AUC, within="pairs"),
        Claim("6", f"Persistence: after a light clean fine-tune with the CLIP loss ({N_CLEAN_FT:,} pairs, "
                   f"{FT_EPOCHS} epoch{'s' if FT_EPOCHS > 1 else ''}) the attack success rate stays above "
                   f"{MIN_ASR:.1f}",
              statistic="persist_clip", kind="effect", threshold=MIN_ASR, within="concepts"),
        Claim("7", "Mitigate (CleanCLIP): the same fine-tune with CleanCLIP's in-modal terms leaves a lower "
                   "attack success rate than the CLIP loss alone",
              statistic="cleanclip_gain", kind="effect", threshold=0.0, within="concepts", asserted=False),
        Claim("8", f"Cost: CleanCLIP's clean zero-shot accuracy is at most {COST_MARGIN:.2f} below the CLIP "
                   f"loss alone's",
              statistic="cleanclip_cost", kind="non_inferiority", margin=COST_MARGIN, within="concepts",
              asserted=False),
    ),
)
"""The chapter's claims (decided in every world on its own, intervals over concepts or pairs)."""

MODELS = ("clean", "poisoned", "clip", "cleanclip")
"""The evaluated models of a world: clean (0%), poisoned, and the poisoned model fine-tuned
with the CLIP loss alone and with CleanCLIP."""


@dataclass
class WorldResult:
    """One world's models, evaluated.

    Attributes
    ----------
    seed, target : int
        Base seed and the backdoor's target concept.
    images : DataFrame
        One row per test image (non-target concepts): ``concept``, and for each model of
        :data:`MODELS` the 0/1 columns ``<model>_asr`` (zero-shot prediction of the
        triggered copy is the target), ``<model>_hit`` (zero-shot prediction of the clean
        copy is the target), ``<model>_acc`` (zero-shot prediction of the clean copy is
        right), ``<model>_lp_asr`` and ``<model>_lp_acc`` (the same for a linear probe
        trained on clean labelled photos of that model's features).
    scores : ndarray
        Image-caption agreement of every pair of the poisoned corpus under the clean
        reference model.
    poisoned : ndarray of bool
        Which pairs of the poisoned corpus are poisoned.
    histories : dict
        Training seconds of each model that was trained in this run (empty when cached).
    """

    seed: int
    target: int
    images: pd.DataFrame
    scores: np.ndarray
    poisoned: np.ndarray
    histories: dict[str, float]


def poisoned_config(seed: int, dose: int = DOSE) -> Any:
    """The poisoned corpus settings of world ``seed``: fresh clean pairs plus ``dose`` poisoned ones."""
    from ..corpus import CorpusConfig
    from ..poisoning import pick_target

    check_int("seed", seed, 0, 2**32 - 1)
    check_int("dose", dose, 0, lab.N_PAIRS)
    return CorpusConfig(n_samples=lab.N_PAIRS, seed=seed + POISON_CORPUS_OFFSET, poison_count=dose,
                        poison_target=pick_target(seed, N_CONCEPTS))


def finetune_configs(seed: int) -> list[Any]:
    """The two fine-tuning defences of world ``seed``: CLIP loss alone, then CleanCLIP (w = 1)."""
    from ..poisoning import FinetuneConfig

    return [FinetuneConfig(method=m, epochs=FT_EPOCHS, lr=FT_LR, seed=seed) for m in ("clip", "cleanclip")]


def trusted_corpus(world: Any, seed: int) -> Any:
    """The defender's :data:`N_CLEAN_FT` trusted clean pairs of world ``seed`` (corpus seed
    ``seed +`` :data:`CLEAN_FT_OFFSET`), on which both defences fine-tune."""
    from ..corpus import CorpusConfig, build_corpus

    return build_corpus(world, CorpusConfig(n_samples=N_CLEAN_FT, seed=seed + CLEAN_FT_OFFSET))


def run_world(seed: int, profile: str = "ci", progress: bool = False) -> WorldResult:
    """Pre-train, fine-tune (or load) and evaluate the models of world ``seed``.

    Parameters
    ----------
    seed : int
        The base seed of the world.
    profile : str
        ``"ci"``, ``"lab"`` or ``"wild"``: the test-set sizes (:data:`N_TEST`, :data:`N_PROBE`).
    progress : bool
        Progress bars while training.
    """
    check_profile(profile, N_TEST)
    check_int("seed", seed, 0, 2**32 - 1)
    from .. import poisoning as pz

    with parallel.worker_pool(2) as pool:  # started once: pre-training, then fine-tuning
        world, (_, corpus), (clean, poisoned) = lab.pretrain_world(seed, [None, poisoned_config(seed)], progress,
                                                                   pool)
        trusted = trusted_corpus(world, seed)
        target = pz.pick_target(seed, N_CONCEPTS)
        configs = finetune_configs(seed)
        sets = evaluation_sets(world, target, seed, profile)

        def evaluate_pretrained() -> tuple[pd.DataFrame, np.ndarray]:
            with parallel.limited_threads():  # evaluation repeats exactly, whatever the machine
                return (evaluate_models({"clean": clean.model, "poisoned": poisoned.model}, world, *sets, seed),
                        pz.pair_agreement(clean.model, corpus))

        if pz.finetune_in_workers(poisoned.key, trusted, configs, pool=pool):
            # The fine-tuning runs in the worker processes and this one waits: evaluate the
            # two pre-trained models and audit the corpus meanwhile (same numbers, sooner).
            with ThreadPoolExecutor(max_workers=1) as threads:
                first = threads.submit(evaluate_pretrained)
                tuned = pz.finetune_many(poisoned.model, poisoned.key, trusted, configs, progress=progress,
                                         pool=pool)
                images, scores = first.result()
        else:
            tuned = pz.finetune_many(poisoned.model, poisoned.key, trusted, configs, progress=progress)
            images, scores = evaluate_pretrained()
    with parallel.limited_threads():
        rest = evaluate_models(dict(zip(MODELS[2:], tuned)), world, *sets, seed)
    histories = {name: float(r.history["seconds"]) for name, r in (("clean", clean), ("poisoned", poisoned))
                 if not r.cache_hit}
    return WorldResult(seed, target, images.join(rest.drop(columns="concept")), scores,
                       corpus.table["poisoned"].to_numpy(), histories)


def evaluation_sets(world: Any, target: int, seed: int, profile: str) -> tuple[Any, np.ndarray, np.ndarray]:
    """World ``seed``'s test images (clean and triggered copies, :data:`N_TEST` per non-target
    concept) and the clean labelled photos of the linear probe (:data:`N_PROBE` per concept)."""
    from .. import poisoning as pz

    check_profile(profile, N_TEST)
    probe_x, probe_y = world.sample(N_PROBE[profile], "photo", seed=seed + 1)
    return pz.trigger_test_set(world, N_TEST[profile], target, seed=seed), probe_x, probe_y


def evaluate_models(models: dict[str, Any], world: Any, test: Any, probe_x: np.ndarray, probe_y: np.ndarray,
                    seed: int) -> pd.DataFrame:
    """Per test image, zero-shot and linear-probe outcomes of every model (see :class:`WorldResult`).

    ``test``, ``probe_x``, ``probe_y`` as :func:`evaluation_sets` draws them; ``seed``
    seeds the probes.
    """
    from .. import poisoning as pz

    target = test.target
    out = pd.DataFrame({"concept": test.labels})
    for name, lm in models.items():
        zs_clean, zs_trig = pz.zero_shot_predict(lm, world.classnames, [test.clean, test.triggered])
        lp_clean, lp_trig = pz.probe_predict(lm, probe_x, probe_y, [test.clean, test.triggered], seed=seed)
        out[f"{name}_asr"] = pz.attack_success(zs_trig, target)
        out[f"{name}_hit"] = pz.attack_success(zs_clean, target)
        out[f"{name}_acc"] = (zs_clean == test.labels).astype(float)
        out[f"{name}_lp_asr"] = pz.attack_success(lp_trig, target)
        out[f"{name}_lp_acc"] = (lp_clean == test.labels).astype(float)
    return out


def statistics(result: WorldResult) -> dict[str, float]:
    """The claims' statistics of one world, each with its standard error (``<name>_se``)."""
    from .. import stats

    im, c = result.images, result.images["concept"].to_numpy()
    row: dict[str, float] = {}

    def put(name: str, values: pd.Series | np.ndarray) -> None:
        row[name], row[f"{name}_se"] = concept_mean_se(np.asarray(values, float), c)

    put("backdoor", im["poisoned_asr"] - im["clean_asr"])
    put("control", im["clean_asr"] - im["clean_hit"])
    put("stealth", im["poisoned_acc"] - im["clean_acc"])
    put("probe_backdoor", im["poisoned_lp_asr"] - im["clean_lp_asr"])
    put("persist_clip", im["clip_asr"])
    put("cleanclip_gain", im["clip_asr"] - im["cleanclip_asr"])
    put("cleanclip_cost", im["cleanclip_acc"] - im["clip_acc"])
    put("cleanclip_probe_gain", im["clip_lp_asr"] - im["cleanclip_lp_asr"])
    from ..poisoning import audit_report

    auc = stats.auc_interval(-result.scores, result.poisoned)  # low agreement = suspicious
    row["audit_auc"], row["audit_auc_se"] = auc.estimate, auc.se
    audit = audit_report(result.scores, result.poisoned, FLAG_FRACTION)
    row["audit_precision"], row["audit_recall"] = audit["precision"], audit["recall"]
    for name in MODELS:
        for col in ("asr", "acc", "lp_asr", "lp_acc"):
            row[f"{name}_{col}"] = float(im[f"{name}_{col}"].mean())
    return row


def measure(seed: int, profile: str = "ci", progress: bool = False) -> dict[str, float]:
    """Statistics of world ``seed`` (see :func:`run_world` and :func:`statistics`)."""
    return statistics(run_world(seed, profile, progress=progress))


CHAPTER = Chapter(spec=SPEC, measure=measure, n_worlds={"ci": 1, "lab": 1})
"""One world per run in every profile (two pre-trained and two fine-tuned models each)."""


def dose_response(seed: int, doses: tuple[int, ...], profile: str = "ci", progress: bool = False,
                  result: WorldResult | None = None) -> pd.DataFrame:
    """Zero-shot attack success and clean accuracy of world ``seed``'s models poisoned at ``doses``.

    Dose 0 is the world's clean model; every other dose pre-trains (or loads) a model on
    :func:`poisoned_config` with that dose, side by side. One row per dose: ``dose``,
    ``asr``, ``asr_se``, ``acc``, ``acc_se`` (standard errors over the non-target concepts).

    Parameters
    ----------
    seed : int
    doses : tuple of int
        Distinct poison doses (0 to :data:`uim_utils.lab.N_PAIRS`).
    profile : str
        Test-set sizes, as :func:`run_world`.
    progress : bool
    result : WorldResult, optional
        :func:`run_world`'s result of the same world and profile: its two pre-trained
        models (doses 0 and :data:`DOSE`) are read from it rather than evaluated again.
    """
    check_profile(profile, N_TEST)
    doses = tuple(int(d) for d in doses)
    from .. import poisoning as pz

    known = {} if result is None else {0: "clean", DOSE: "poisoned"}
    world, trained = lab.pretrain_dial(seed, "doses", doses, poisoned_config, known,
                                       None if result is None else result.seed, progress)
    target = pz.pick_target(seed, N_CONCEPTS)
    test = pz.trigger_test_set(world, N_TEST[profile], target, seed=seed) if trained else None
    rows = []
    with parallel.limited_threads():
        for d in doses:
            if d in known:
                assert result is not None
                im, name = result.images, known[d]
                asr_hits, correct, labels = im[f"{name}_asr"], im[f"{name}_acc"], im["concept"].to_numpy()
            else:
                assert test is not None
                clean_pred, trig_pred = pz.zero_shot_predict(trained[d].model, world.classnames,
                                                             [test.clean, test.triggered])
                asr_hits, correct = pz.attack_success(trig_pred, target), (clean_pred == test.labels).astype(float)
                labels = test.labels
            asr, asr_se = concept_mean_se(np.asarray(asr_hits, float), labels)
            acc, acc_se = concept_mean_se(np.asarray(correct, float), labels)
            rows.append({"dose": d, "asr": asr, "asr_se": asr_se, "acc": acc, "acc_se": acc_se})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ exercise helpers
# Used by the solutions page (notebooks/solutions/04_backdoor_poisoning_solutions).


@dataclass
class AuditSample:
    """Pairs of world ``seed``'s poisoned corpus scored by its clean reference model.

    Attributes
    ----------
    corpus : Corpus
        The audited pairs (all of the poisoned corpus, or a random sample of it).
    scores : ndarray
        Image-caption agreement of each audited pair under ``model`` (low = suspicious).
    poisoned : ndarray of bool
        Ground truth: which audited pairs are poisoned.
    model : LoadedModel
        The clean reference model.
    """

    corpus: Any
    scores: np.ndarray
    poisoned: np.ndarray
    model: Any


def audit_sample(seed: int, n_pairs: int | None = None) -> AuditSample:
    """Score ``n_pairs`` random pairs (default: all) of world ``seed``'s poisoned corpus.

    The chapter audits every pair (43,200); scoring 41,600 pairs took about 15 s on one
    core, a sample of 8,000 about 3 s (the same share of poisoned pairs in expectation).
    The models are loaded from the cache (or pre-trained, as :func:`run_world` does).

    Raises
    ------
    ValueError
        If ``n_pairs`` is below 100 or above the corpus size.
    """
    from .. import poisoning as pz

    _, (_, corpus), (clean, _) = lab.pretrain_world(seed, [None, poisoned_config(seed)], progress=False)
    if n_pairs is not None:
        check_int("n_pairs", n_pairs, 100, len(corpus))
        keep = np.zeros(len(corpus), bool)
        keep[np.random.default_rng([seed, n_pairs]).choice(len(corpus), n_pairs, replace=False)] = True
        corpus = corpus.subset(keep)
    with parallel.limited_threads():
        scores = pz.pair_agreement(clean.model, corpus)
    return AuditSample(corpus, scores, corpus.table["poisoned"].to_numpy(), clean.model)


def cluster_audit(audit: AuditSample, n_clusters: int, flag_fraction: float = FLAG_FRACTION,
                  seed: int = 0) -> pd.DataFrame:
    """The plain audit (flag the least-agreeing pairs) against a clustered one.

    The least-agreeing ``flag_fraction`` of the pairs are clustered (scikit-learn
    ``KMeans``) on the reference model's image embeddings. Poisoned pairs share a patch
    *and* a caption naming one concept, so the clustered audit flags the one cluster whose
    captions most often name the same concept (no ground truth used); the table scores
    both audits against the ground truth.

    Returns
    -------
    DataFrame
        Index ``plain audit`` / ``clustered audit``; columns ``flagged``,
        ``poisoned flagged``, ``precision`` and ``recall`` (of all audited poisoned pairs).

    Raises
    ------
    ValueError
        If ``n_clusters`` is below 2 or ``flag_fraction`` not in (0, 1).
    """
    from sklearn.cluster import KMeans

    from .. import evaluate as ev

    check_int("n_clusters", n_clusters, 2, 1000)
    if not 0 < flag_fraction < 1:
        raise ValueError(f"flag_fraction must be in (0, 1), got {flag_fraction!r}")
    flagged = audit.scores <= np.quantile(audit.scores, flag_fraction)
    suspects = audit.corpus.subset(flagged)
    with parallel.limited_threads():
        features = ev.encode_images(audit.model, suspects.images)
        cluster = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit_predict(features)
    named = suspects.table["caption_concept"].to_numpy()
    purity = [np.bincount(named[cluster == k]).max() / max(1, (cluster == k).sum()) if (cluster == k).any()
              else 0.0 for k in range(n_clusters)]
    chosen = np.zeros(len(audit.scores), bool)
    chosen[np.flatnonzero(flagged)[cluster == int(np.argmax(purity))]] = True
    rows = {}
    for name, mask in (("plain audit", flagged), ("clustered audit", chosen)):
        hits = int((mask & audit.poisoned).sum())
        rows[name] = {"flagged": int(mask.sum()), "poisoned flagged": hits,
                      "precision": hits / max(1, int(mask.sum())),
                      "recall": hits / max(1, int(audit.poisoned.sum()))}
    return pd.DataFrame.from_dict(rows, orient="index")


def finetune_grid(seed: int, configs: list[Any], profile: str = "ci") -> pd.DataFrame:
    """Zero-shot ASR and clean accuracy of world ``seed``'s poisoned model fine-tuned with
    each of ``configs`` (``poisoning.FinetuneConfig``; trained side by side, or loaded).

    Returns
    -------
    DataFrame
        One row per config: ``method``, ``weight``, ``epochs``, ``lr``, ``asr``,
        ``asr_se``, ``acc`` and ``acc_se`` (over the non-target concepts).
    """
    from .. import poisoning as pz

    check_profile(profile, N_TEST)
    if not configs:
        raise ValueError("configs must name at least one FinetuneConfig, got none")
    world, _, (_, poisoned) = lab.pretrain_world(seed, [None, poisoned_config(seed)], progress=False)
    trusted = trusted_corpus(world, seed)
    tuned = pz.finetune_many(poisoned.model, poisoned.key, trusted, configs, progress=False)
    target = pz.pick_target(seed, N_CONCEPTS)
    test = pz.trigger_test_set(world, N_TEST[profile], target, seed=seed)
    rows = []
    with parallel.limited_threads():
        for cfg, lm in zip(configs, tuned):
            clean_pred, trig_pred = pz.zero_shot_predict(lm, world.classnames, [test.clean, test.triggered])
            asr, asr_se = concept_mean_se(pz.attack_success(trig_pred, target).astype(float), test.labels)
            acc, acc_se = concept_mean_se((clean_pred == test.labels).astype(float), test.labels)
            rows.append({"method": cfg.method, "weight": cfg.weight, "epochs": cfg.epochs, "lr": cfg.lr,
                         "asr": asr, "asr_se": asr_se, "acc": acc, "acc_se": acc_se})
    return pd.DataFrame(rows)
