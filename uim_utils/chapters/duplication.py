"""The duplication chapter (``06_duplication_privacy``): duplicated pairs are memorised and leak.

A **world** is everything one base seed draws: the concept world, its clean corpus and
clean model (:func:`uim_utils.lab.clean_model`, shared with the other chapters), and a
**duplicated model** pre-trained with the same recipe on the clean corpus in which
:data:`PER_K` randomly chosen pairs appear ``k`` times for every ``k`` in :data:`KS`
(:func:`uim_utils.privacy.duplicated_corpus`), and as many **canaries** (Carlini et al.
2019): fresh pairs from the corpus's generator, absent from the clean corpus, added on
the same ladder of copies (:func:`uim_utils.privacy.add_copies`). The clean model plays
two parts: for the targets it is the **deduplicated** model (removing the exact copies
from the duplicated corpus leaves every target once, as in the clean corpus; it also
leaves one copy of each canary, 0.7% of the corpus, which the clean model lacks), and for
the canaries it is a **reference** model that never saw them (Jayaraman et al. 2024).

The attack is Ko et al.'s: a pair's image-caption cosine under the model
(:func:`uim_utils.privacy.membership_scores`), scored against non-members drawn i.i.d.
from the corpus's own generator (:func:`uim_utils.privacy.nonmember_pairs`). Every AUC
comes with the Hanley-McNeil standard error over the pairs it compares
(:func:`uim_utils.stats.auc_interval`). Deduplication's effect compares two models on the
same pairs, so its standard error is DeLong's paired one
(:func:`uim_utils.stats.paired_auc_difference`); the other differences of two AUCs (other
pairs, the same non-members) take the root of the summed variances, which overstates their
error (the two share the non-members), so those claims err on the cautious side.

Imports torch only inside the functions that need it (the appendix imports it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import lab
from ..claims import Claim, ClaimSet
from ..privacy import LOW_FPR
from ..validate import check_int
from . import Chapter, check_profile

KS = (1, 2, 4, 8, 16, 32)
"""Copies of the target pairs in the duplicated corpus, one group of :data:`PER_K` per level."""
PER_K = 50
"""Target pairs (and canaries) per duplication level: 300 targets, whose extra copies add 2,850
rows to the 40,000, and 300 canaries, 3,150 rows."""
TARGET_SEED_OFFSET = 19
"""The targets are drawn with seed ``seed + 19``."""
CANARY_SEED = 3_000_009
"""The canaries are the corpus of seed ``seed + CANARY_SEED`` (``PER_K`` per level of :data:`KS`)."""
N_SINGLES = 1000
"""Pairs of the corpus that are not targets (each seen once), scored as members of the
k = 1 control."""
N_NONMEMBERS = {"ci": 2000, "lab": 4000, "wild": 4000}
"""Non-members drawn i.i.d. from the corpus's generator, per profile."""
NONMEMBER_SEED = 1_000_003
"""Non-members are the corpus of seed ``seed + NONMEMBER_SEED`` (never a world's own corpus seed)."""
SHIFTED_NOISE = 0.3
"""Share of wrong captions in the shifted non-member set (a noisier crawl) of the pitfall."""
N_LOOKALIKES = 19
"""Look-alikes per target in the deja-vu test: other renderings of the target's concept, domain
and background (the same caption would fit them), never in any corpus."""
N_TEST = {"ci": 10, "lab": 20, "wild": 20}
"""Zero-shot test images per concept and domain (the cost of deduplication), per profile."""
MIN_DUP_GAIN = 0.05
"""AUC the 32-copy targets must exceed the single pairs by (claim 1)."""
SINGLE_MARGIN = 0.1
"""Equivalence margin of the single-pair control: AUC within ``0.5 ± 0.1``."""
REFERENCE_MARGIN = 0.1
"""Equivalence margin of the reference-model control (claim 8): the canaries' AUC under the
clean model, which never saw them, within ``0.5 ± 0.1`` (the single-pair control's margin)."""
MIN_DEDUP_DROP = 0.05
"""AUC deduplication must take off the former 32-copy targets (claim 5)."""
MIN_DEJAVU = 0.1
"""How much more of its look-alikes the duplicated model must rank a 32-copy canary above than the
reference model (the clean model, which never saw it) does (claim 4)."""
MIN_PITFALL = 0.05
"""AUC above chance that a shifted non-member set reports for a model without duplicates (claim 7)."""
SEMDEDUP_CLUSTERS = 100
"""k-means clusters of SemDeDup in the chapter (about 460 pairs each)."""
SEMDEDUP_EPS = (1e-4, 1e-3, 1e-2)
"""SemDeDup thresholds of the Mitigate table (remove at cosine > 1 - eps)."""
COST_MARGIN = 0.05
"""Largest zero-shot accuracy loss deduplication may cost (exploratory claim 6).

Asserted in claims version 2, designed on development worlds 0-5 (mean cost +0.003, every
world's bound inside the margin), it held in 8 of the 20 held-out worlds 1000-1019: over
those worlds deduplication cost -0.020 [-0.031, -0.009] of zero-shot accuracy, -0.074 in
world 1002. The duplicated corpus is 7% longer, so its model takes 7% more optimizer
steps, and the lab's two-epoch models are still learning; a design that trains the
deduplicated model for as many steps would separate the two. Version 3 makes the claim
exploratory; nothing else changed. Version 4 adds the canaries (the duplicated corpus grows
from 42,850 to 46,000 pairs, 15% more than the clean corpus, and now also holds 300 pairs the
clean model never saw): claim 4 (deja vu) moves from the targets, compared with the clean
model that saw them once, to the canaries, compared with the clean model as a reference
model that never saw them (the targets' version stays as the statistic ``dejavu_target``),
and claim 8 is new. On held-out worlds 1000-1019 version 4 held in 19 of 20: claim 5 failed in
world 1014 (drop 0.156, bound 0.040 with the summed-variance SE 0.059). Version 5 gives claim 5
DeLong's paired SE (the two models score the same pairs; about 40% smaller on development
worlds 0-5) and is confirmed on new held-out worlds, 1020-1039."""

SPEC = ClaimSet(
    chapter="06_duplication_privacy",
    # version 7: the lab's v4 recipe (lab.recipe(): uim-base3, 4 epochs, channels-last);
    # the claims and the chapter's own design are those of version 5;
    # versions 8 and 9: the lab's v5 (text tower on its pooled token) and v6 recipes, nothing else
    version=9,
    design={**lab.recipe(), "ks": list(KS), "per_k": PER_K, "target_seed_offset": TARGET_SEED_OFFSET,
            "canary_seed": CANARY_SEED,
            "n_singles": N_SINGLES, "n_nonmembers": N_NONMEMBERS, "nonmember_seed": NONMEMBER_SEED,
            "shifted_noise": SHIFTED_NOISE, "n_test": N_TEST, "n_lookalikes": N_LOOKALIKES},
    claims=(
        Claim("1", f"Understand: pairs seen {KS[-1]} times are recognised as members better than pairs seen "
                   f"once: the attack's AUC is more than {MIN_DUP_GAIN:.2f} higher",
              statistic="dup_gain", kind="effect", threshold=MIN_DUP_GAIN, within="pairs"),
        Claim("2", f"Control (no duplication): against i.i.d. non-members, pairs seen once score an AUC "
                   f"within 0.5 ± {SINGLE_MARGIN:.1f}",
              statistic="single_above_chance", kind="equivalence", margin=SINGLE_MARGIN, within="pairs"),
        Claim("3", f"Kandpal et al.: the true-positive rate at 1% false positives of the {KS[-1]}-copy "
                   f"targets exceeds 1%",
              statistic="tpr_top_above_fpr", kind="effect", threshold=0.0, within="pairs", asserted=False),
        Claim("4", f"Interpret (deja vu): from its caption alone, the duplicated model ranks a {KS[-1]}-copy "
                   f"canary's own image above more of its look-alikes (other renderings of the same concept, "
                   f"domain and background) than a reference model that never saw it does, by more than "
                   f"{MIN_DEJAVU:.1f}",
              statistic="dejavu", kind="effect", threshold=MIN_DEJAVU, within="canaries"),
        Claim("5", f"Mitigate (exact deduplication): the model trained without the copies gives the former "
                   f"{KS[-1]}-copy targets an AUC more than {MIN_DEDUP_DROP:.2f} lower",
              statistic="dedup_drop", kind="effect", threshold=MIN_DEDUP_DROP, within="pairs"),
        Claim("6", f"Cost: deduplication costs at most {COST_MARGIN:.2f} of zero-shot accuracy",
              statistic="dedup_acc_diff", kind="non_inferiority", margin=COST_MARGIN, within="concepts",
              asserted=False),
        Claim("7", f"Pitfall: non-members from a noisier source ({SHIFTED_NOISE:.0%} wrong captions) make the "
                   f"attack report an AUC more than {MIN_PITFALL:.2f} above chance on the model without "
                   f"duplicates",
              statistic="pitfall_above_chance", kind="effect", threshold=MIN_PITFALL, within="pairs"),
        Claim("8", f"Control (reference model): the clean model, which never saw the canaries, scores them "
                   f"against i.i.d. non-members with an AUC within 0.5 ± {REFERENCE_MARGIN:.1f} (the two sets "
                   f"differ only in whether a model saw them)",
              statistic="reference_above_chance", kind="equivalence", margin=REFERENCE_MARGIN, within="pairs"),
    ),
)
"""The chapter's claims (decided in every world on its own, intervals over pairs or concepts)."""


@dataclass
class WorldResult:
    """One world's attack scores and zero-shot accuracies.

    Attributes
    ----------
    seed : int
    scores : DataFrame
        One row per scored pair: ``model`` ("duplicated" or "deduplicated", the clean
        model), ``set`` ("target", "canary", "single", "nonmember", "shifted"), ``pair`` (its
        position in its set, the same under both models), ``k`` (copies in the duplicated
        corpus; 1 for singles, 0 for non-members) and ``score`` (image-caption cosine).
    accuracy : DataFrame
        Per test image: ``concept``, ``domain``, ``duplicated`` and ``deduplicated``
        (1.0 where the model's zero-shot prediction is right).
    dejavu : DataFrame
        One row per target or canary and model: ``row`` (a target's row of the clean
        corpus; a canary's is negative), ``k``, ``set`` ("target" or "canary"), ``model``
        and ``outranked`` (the share of its :data:`N_LOOKALIKES` look-alikes whose cosine
        with its caption is below its own image's).
    histories : dict
        Training seconds of each model trained in this run (empty when both were cached).
    models : dict
        The two lab CLIPs (:class:`~uim_utils.models.LoadedModel`), by the names above.
    corpus_embeddings : ndarray or None
        The clean model's normalised image embeddings of the duplicated corpus, a row a
        pair (if ``run_world(..., embed_corpus=True)``).
    """

    seed: int
    scores: pd.DataFrame
    accuracy: pd.DataFrame
    dejavu: pd.DataFrame
    histories: dict[str, float]
    models: dict[str, Any]
    corpus_embeddings: np.ndarray | None = None


def corpora(seed: int) -> tuple[Any, Any, Any, pd.DataFrame]:
    """World ``seed``, its clean corpus, its duplicated corpus and the targets.

    Returns
    -------
    world, clean, dup, targets
        ``targets`` lists the targets (pairs of the clean corpus, ``row`` their row) and
        then the canaries (fresh pairs, ``row`` negative), each with its copies ``k`` in
        the duplicated corpus and a bool column ``canary``.

    Raises
    ------
    RuntimeError
        If removing the exact copies from the duplicated corpus does not leave the clean
        corpus's pairs plus one copy of each canary.
    """
    from ..privacy import PAIR_KEYS, add_copies, duplicated_corpus, exact_duplicates, nonmember_pairs

    check_int("seed", seed, 0, 2**32 - 1 - CANARY_SEED)
    world, clean = lab.clean_corpus(seed)
    dup, targets = duplicated_corpus(clean, KS, PER_K, seed + TARGET_SEED_OFFSET)
    canaries = nonmember_pairs(clean, PER_K * len(KS), seed + CANARY_SEED)
    canaries.insert(0, "row", -1 - np.arange(len(canaries)))
    canaries["k"] = np.repeat(np.asarray(KS), PER_K)
    dup = add_copies(dup, canaries, canaries["k"].to_numpy(), seed + TARGET_SEED_OFFSET)
    kept = dup.table[exact_duplicates(dup.table)]
    keys = list(PAIR_KEYS)
    expected = pd.concat([clean.table[keys], canaries[keys]], ignore_index=True)
    if len(kept) != len(expected) or not kept[keys].sort_values(keys).reset_index(drop=True).equals(
            expected.sort_values(keys).reset_index(drop=True)):
        raise RuntimeError(f"world {seed}: the deduplicated corpus is not the clean corpus plus the canaries")
    both = pd.concat([targets.assign(canary=False), canaries[list(targets.columns)].assign(canary=True)],
                     ignore_index=True)
    return world, clean, dup, both


def member_sets(seed: int, clean: Any, targets: pd.DataFrame, profile: str) -> dict[str, pd.DataFrame]:
    """The scored sets of world ``seed``.

    Parameters
    ----------
    seed : int
    clean : Corpus
        The world's clean corpus.
    targets : DataFrame
        The targets and canaries (:func:`corpora`).
    profile : str
        Decides the number of non-members (:data:`N_NONMEMBERS`).

    Returns
    -------
    dict
        Tables of pairs with a column ``k``: ``target`` and ``canary`` (copies in the
        duplicated corpus), ``single`` (:data:`N_SINGLES` pairs of the corpus that are not targets, ``k`` 1),
        ``nonmember`` (i.i.d. from the corpus's generator, ``k`` 0) and ``shifted`` (as
        many from a noisier crawl, :data:`SHIFTED_NOISE` wrong captions, ``k`` 0).
    """
    from ..privacy import check_disjoint, nonmember_pairs

    check_profile(profile, N_NONMEMBERS)
    if "canary" not in targets.columns:
        raise ValueError("targets must come from corpora() (a bool column 'canary')")
    canaries, targets = targets[targets["canary"]], targets[~targets["canary"]]
    rng = np.random.default_rng([seed, TARGET_SEED_OFFSET, 1])
    free = np.setdiff1d(np.arange(len(clean.table)), targets["row"].to_numpy())
    singles = clean.table.loc[np.sort(rng.choice(free, N_SINGLES, replace=False))].assign(k=1)
    n = N_NONMEMBERS[profile]
    non = nonmember_pairs(clean, n, seed + NONMEMBER_SEED).assign(k=0)
    shifted = nonmember_pairs(clean, n, seed + 2 * NONMEMBER_SEED, caption_noise=SHIFTED_NOISE).assign(k=0)
    for t in (non, shifted):
        check_disjoint(canaries, t)
    return {"target": targets, "canary": canaries, "single": singles, "nonmember": non, "shifted": shifted}


def run_world(seed: int, profile: str = "ci", progress: bool = False, embed_corpus: bool = False) -> WorldResult:
    """Pre-train (or load) world ``seed``'s duplicated and clean models, score every set under
    both and test their zero-shot accuracy (the clean model is the deduplicated model for the
    targets and the reference model for the canaries; ``"deduplicated"`` in the tables).

    Each model is trained and measured by its own worker process (:func:`_measure_model`),
    so the clean model's measurements run while the longer duplicated corpus still
    trains (one progress bar over the missing models' steps if ``progress``); where
    workers cannot start, one after the other here (a bar per model trained).
    ``profile`` (``"ci"``, ``"lab"`` or ``"wild"``) sizes the scored and test sets;
    ``embed_corpus`` also embeds the duplicated corpus with the clean model (for SemDeDup).
    """
    from .. import parallel
    from ..pretrain import missing_steps, pretrain

    check_profile(profile, N_TEST)
    if not isinstance(embed_corpus, bool):
        raise ValueError(f"embed_corpus must be True or False, got {embed_corpus!r}")
    _, clean, dup, _ = corpora(seed)
    cfg = lab.clean_train_config(seed)
    names = ("duplicated", "deduplicated")
    jobs = [(seed, profile, name, embed_corpus and name == "deduplicated") for name in names]
    workers = parallel.worker_count(len(jobs))
    if workers > 1:  # the models come back through the cache (a model is not worth pickling)
        parts = parallel.run_in_workers(_measure_model, jobs, workers, missing_steps([(dup, cfg), (clean, cfg)]),
                                        f"world {seed}: training and measuring 2 models", progress)
    else:
        parts = [_measure_model(*job, progress=progress, keep_model=True) for job in jobs]
    acc = parts[0]["accuracy"].assign(deduplicated=parts[1]["accuracy"]["deduplicated"])
    models = {name: part["model"] or pretrain(corpus, cfg, progress=False).model
              for name, part, corpus in zip(names, parts, (dup, clean))}
    return WorldResult(seed, pd.concat([p["scores"] for p in parts], ignore_index=True), acc,
                       pd.concat([p["dejavu"] for p in parts], ignore_index=True),
                       {name: p["seconds"] for name, p in zip(names, parts) if p["seconds"] is not None}, models,
                       parts[1]["embeddings"])


def _measure_model(seed: int, profile: str, name: str, embed_corpus: bool, progress: bool = False,
                   keep_model: bool = False) -> dict[str, Any]:
    """One model of world ``seed`` (``name``: ``"duplicated"`` or ``"deduplicated"``, the clean
    model) pre-trained or loaded, and everything :func:`run_world` measures on it, with one
    thread (:func:`uim_utils.parallel.limited_threads`): a worker's job.

    Returns
    -------
    dict
        Its rows of :attr:`WorldResult.scores` (``scores``) and ``dejavu``, its column of
        ``accuracy`` (with ``concept`` and ``domain``), ``seconds`` of training (None if
        loaded), ``embeddings`` of the duplicated corpus's images (if ``embed_corpus``) and
        the ``model`` itself (if ``keep_model``); None where not asked for.
    """
    from .. import evaluate as ev
    from .. import parallel
    from ..pretrain import pretrain
    from ..privacy import lookalike_ranks, membership_scores
    from ..world import DOMAINS

    world, clean, dup, targets = corpora(seed)
    r = pretrain(dup if name == "duplicated" else clean, lab.clean_train_config(seed), progress=progress,
                 on_step=parallel.count_step)
    sets = member_sets(seed, clean, targets, profile)
    tests = [world.sample(N_TEST[profile], d, seed=seed) for d in DOMAINS]
    with parallel.limited_threads():  # the numbers repeat exactly, whatever the machine
        scores = pd.concat([pd.DataFrame({"model": name, "set": set_name, "pair": np.arange(len(t)),
                                          "k": t["k"].to_numpy(), "score": membership_scores(r.model, world, t)})
                            for set_name, t in sets.items()], ignore_index=True)
        logits = ev.zero_shot_classify(r.model, world.classnames, [ev.encode_images(r.model, x) for x, _ in tests])
        dejavu = pd.concat([lookalike_ranks(r.model, world, sets[kind], N_LOOKALIKES, [seed, TARGET_SEED_OFFSET, i])
                            .assign(model=name, set=kind) for kind, i in (("target", 2), ("canary", 3))],
                           ignore_index=True)
        embeddings = ev.encode_images(r.model, dup.images) if embed_corpus else None
    accuracy = pd.concat([pd.DataFrame({"concept": y, "domain": d, name: (lg.argmax(1) == y).astype(float)})
                          for d, lg, (_, y) in zip(DOMAINS, logits, tests)], ignore_index=True)
    return {"scores": scores, "accuracy": accuracy, "dejavu": dejavu,
            "seconds": None if r.cache_hit else float(r.history["seconds"]), "embeddings": embeddings,
            "model": r.model if keep_model else None}


def auc(scores: pd.DataFrame, model: str, members: pd.Series, against: str = "nonmember") -> Any:
    """The attack's AUC of some members against a set of non-members, under one model.

    Parameters
    ----------
    scores : DataFrame
        :attr:`WorldResult.scores`.
    model : str
        ``"duplicated"`` or ``"deduplicated"``.
    members : bool Series
        On the index of ``scores``: the rows (of any model) that are the members to score.
    against : str
        The set of non-members: ``"nonmember"`` (i.i.d.) or ``"shifted"``.

    Returns
    -------
    Estimate
        The AUC with its Hanley-McNeil standard error (:func:`uim_utils.stats.auc_interval`).
    """
    from ..stats import auc_interval

    if not members.index.equals(scores.index):
        raise ValueError("members must be a boolean Series on the index of scores")
    of_model = scores["model"] == model
    pos = scores.loc[members & of_model, "score"].to_numpy()
    neg = scores.loc[(scores["set"] == against) & of_model, "score"].to_numpy()
    return auc_interval(np.r_[pos, neg], np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)])


def auc_by_k(result: WorldResult, model: str = "duplicated", set_name: str = "target") -> pd.DataFrame:
    """The attack on each duplication level's targets (or canaries) under ``model``, and on
    the singles.

    Parameters
    ----------
    result : WorldResult
    model : str
        ``"duplicated"`` or ``"deduplicated"`` (the clean model).
    set_name : str
        ``"target"`` (pairs of the clean corpus) or ``"canary"`` (pairs the clean model
        never saw).

    Returns
    -------
    DataFrame
        One row per group (``group`` = ``"1"``, ..., ``"32"``, then ``"single"``, whose
        ``k`` is 1): ``group, k, auc, auc_se`` (against the i.i.d. non-members) and ``tpr``
        (at :data:`uim_utils.privacy.LOW_FPR` false positives).
    """
    from ..privacy import attack_metrics

    if set_name not in ("target", "canary"):
        raise ValueError(f"set_name must be 'target' or 'canary', got {set_name!r}")
    s = result.scores
    of_model = s["model"] == model
    non = s.loc[of_model & (s["set"] == "nonmember"), "score"].to_numpy()
    rows = []
    for label, mask in [*((str(k), (s["set"] == set_name) & (s["k"] == k)) for k in KS),
                        ("single", s["set"] == "single")]:
        est = auc(s, model, mask)
        m = attack_metrics(s.loc[mask & of_model, "score"].to_numpy(), non)
        rows.append({"group": label, "k": 1 if label == "single" else int(label), "auc": est.estimate,
                     "auc_se": est.se, "tpr": m["tpr_at_fpr"]})
    return pd.DataFrame(rows)


def dejavu_difference(dejavu: pd.DataFrame, set_name: str, seed: int) -> Any:
    """Mean over the top-level (``KS[-1]`` copies) pairs of ``set_name`` of the duplicated model's
    ``outranked`` minus the clean model's, paired over the pairs (Student-t interval)."""
    from .. import stats

    of_set = dejavu[dejavu["set"] == set_name]
    dv = of_set.pivot(index="row", columns="model", values="outranked")  # raises on a repeated row
    if dv.isna().any().any():
        raise ValueError(f"world {seed}: the deja-vu test lacks some {set_name} under one of the models")
    top_rows = of_set.loc[of_set["k"] == KS[-1], "row"].unique()
    return stats.t_interval((dv.loc[top_rows, "duplicated"] - dv.loc[top_rows, "deduplicated"]).to_numpy(),
                            unit=f"{set_name} pairs")


def dedup_difference(scores: pd.DataFrame) -> Any:
    """AUC of the top-level targets against the i.i.d. non-members under the duplicated model
    minus under the clean (deduplicated) model, with DeLong's paired standard error: both
    models score the same pairs (:func:`uim_utils.stats.paired_auc_difference`)."""
    from ..stats import paired_auc_difference

    members = (scores["set"] == "target") & (scores["k"] == KS[-1])
    scored = members | (scores["set"] == "nonmember")
    by_model = {m: scores[scored & (scores["model"] == m)] for m in ("duplicated", "deduplicated")}
    a, b = by_model["duplicated"], by_model["deduplicated"]
    if len(a) != len(b) or not (a[["set", "pair"]].to_numpy() == b[["set", "pair"]].to_numpy()).all():
        raise ValueError("the two models must score the same pairs in the same order")
    return paired_auc_difference(a["score"].to_numpy(), b["score"].to_numpy(), (a["set"] == "target").to_numpy())


def descriptives(result: WorldResult, by_k: pd.DataFrame, dedup_by_k: pd.DataFrame) -> dict[str, float]:
    """Numbers the chapter shows beside its claims: AUC, TPR and look-alike ranks per level."""
    row: dict[str, float] = {}
    for g, r in by_k.iterrows():
        row[f"auc_{g}"], row[f"tpr_{g}"] = float(r["auc"]), float(r["tpr"])
    for prefix, model in (("auc_canary", "duplicated"), ("reference_auc_canary", "deduplicated")):
        for g, r in auc_by_k(result, model, set_name="canary").set_index("group").drop("single").iterrows():
            row[f"{prefix}_{g}"] = float(r["auc"])
    for (model, kind, k), value in result.dejavu.groupby(["model", "set", "k"])["outranked"].mean().items():
        row[f"outranked_{model}_{k}" if kind == "target" else f"outranked_{model}_canary_{k}"] = float(value)
    row["dedup_auc_top"] = float(dedup_by_k.loc[str(KS[-1]), "auc"])
    row["dedup_auc_single"] = float(dedup_by_k.loc["single", "auc"])
    acc = result.accuracy
    row["zs_duplicated"], row["zs_deduplicated"] = float(acc["duplicated"].mean()), float(acc["deduplicated"].mean())
    return row


def statistics(result: WorldResult) -> dict[str, float]:
    """The claims' statistics of one world, each with its standard error (``<name>_se``),
    then :func:`descriptives`."""
    from .. import stats

    s = result.scores
    by_k = auc_by_k(result).set_index("group")
    dedup_by_k = auc_by_k(result, "deduplicated").set_index("group")
    d_top, d_single = by_k.loc[str(KS[-1])], by_k.loc["single"]
    c_shift = auc(s, "deduplicated", s["set"] == "single", against="shifted")
    reference = auc(s, "deduplicated", s["set"] == "canary")
    row: dict[str, float] = {}

    def put(name: str, value: float, *ses: float) -> None:
        row[name], row[f"{name}_se"] = float(value), float(np.sqrt(sum(x * x for x in ses)))

    put("dup_gain", d_top["auc"] - d_single["auc"], d_top["auc_se"], d_single["auc_se"])
    put("single_above_chance", d_single["auc"] - 0.5, d_single["auc_se"])
    drop = dedup_difference(s)
    put("dedup_drop", drop.estimate, drop.se)
    put("pitfall_above_chance", c_shift.estimate - 0.5, c_shift.se)
    put("reference_above_chance", reference.estimate - 0.5, reference.se)
    for name, kind in (("dejavu", "canary"), ("dejavu_target", "target")):
        est = dejavu_difference(result.dejavu, kind, result.seed)
        put(name, est.estimate, est.se)
    tpr, n_top = float(d_top["tpr"]), PER_K
    put("tpr_top_above_fpr", tpr - LOW_FPR, np.sqrt(max(tpr * (1 - tpr), 1e-4) / n_top))
    per = result.accuracy.groupby("concept")[["duplicated", "deduplicated"]].mean()
    est = stats.t_interval((per["deduplicated"] - per["duplicated"]).to_numpy(), unit="concepts")
    put("dedup_acc_diff", est.estimate, est.se)
    return row | descriptives(result, by_k, dedup_by_k)


def measure(seed: int, profile: str = "ci", progress: bool = False) -> dict[str, float]:
    """The claims' statistics of world ``seed``.

    Parameters
    ----------
    seed : int
    profile : str
        ``"ci"``, ``"lab"`` or ``"wild"`` (sizes of the scored sets).
    progress : bool
        A progress bar while pre-training.

    Returns
    -------
    dict
        :func:`statistics` of :func:`run_world`.
    """
    return statistics(run_world(seed, profile, progress=progress))


CHAPTER = Chapter(spec=SPEC, measure=measure, n_worlds={"ci": 1, "lab": 1})
"""One world per run in every profile (two pre-trained models)."""
