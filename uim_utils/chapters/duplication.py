"""The duplication chapter (``06_duplication_privacy``): duplicated pairs are memorised and leak.

A **world** is everything one base seed draws: the concept world, its clean corpus and
clean model (:func:`uim_utils.lab.clean_model`, shared with the other chapters), and a
**duplicated model** pre-trained with the same recipe on the clean corpus in which
:data:`PER_K` randomly chosen pairs appear ``k`` times for every ``k`` in :data:`KS`
(:func:`uim_utils.privacy.duplicated_corpus`). Removing the exact copies from the
duplicated corpus gives back the clean corpus, so the clean model is also the
**deduplicated** model.

The attack is Ko et al.'s: a pair's image-caption cosine under the model
(:func:`uim_utils.privacy.membership_scores`), scored against non-members drawn i.i.d.
from the corpus's own generator (:func:`uim_utils.privacy.nonmember_pairs`). Every AUC
comes with the Hanley-McNeil standard error over the pairs it compares
(:func:`uim_utils.stats.auc_interval`); a difference of two AUCs takes the root of the
summed variances, which overstates its error where the two share pairs (they are
positively correlated), so the claims err on the cautious side.

Imports torch only inside the functions that need it (the appendix imports every
chapter module).
"""

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
"""Target pairs per duplication level (300 targets, 2,850 extra rows on 40,000)."""
TARGET_SEED_OFFSET = 19
"""The targets are drawn with seed ``seed + 19``."""
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
MIN_DEDUP_DROP = 0.05
"""AUC deduplication must take off the former 32-copy targets (claim 5)."""
MIN_DEJAVU = 0.1
"""How much more of its look-alikes the duplicated model must rank a 32-copy target above than the
deduplicated model does (claim 4)."""
MIN_PITFALL = 0.05
"""AUC above chance that a shifted non-member set reports for a model without duplicates (claim 7)."""
SEMDEDUP_CLUSTERS = 100
"""k-means clusters of SemDeDup in the chapter (about 430 pairs each)."""
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
exploratory; nothing else changed."""

SPEC = ClaimSet(
    chapter="06_duplication_privacy",
    version=3,
    design={**lab.recipe(), "ks": list(KS), "per_k": PER_K, "target_seed_offset": TARGET_SEED_OFFSET,
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
                   f"target's own image above more of its look-alikes (other renderings of the same concept, "
                   f"domain and background) than the deduplicated model does, by more than {MIN_DEJAVU:.1f}",
              statistic="dejavu", kind="effect", threshold=MIN_DEJAVU, within="target pairs"),
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
        One row per scored pair: ``model`` ("duplicated" or "deduplicated"), ``set``
        ("target", "single", "nonmember", "shifted"), ``k`` (copies in the duplicated
        corpus; 1 for singles, 0 for non-members) and ``score`` (image-caption cosine).
    accuracy : DataFrame
        Per test image: ``concept``, ``domain``, ``duplicated`` and ``deduplicated``
        (1.0 where the model's zero-shot prediction is right).
    dejavu : DataFrame
        One row per target and model: ``row`` (the target's row of the clean corpus),
        ``k``, ``model`` and ``outranked`` (the share of its :data:`N_LOOKALIKES`
        look-alikes whose cosine with the target's caption is below the target's own).
    histories : dict
        Training seconds of each model trained in this run (empty when both were cached).
    models : dict
        The two lab CLIPs (:class:`~uim_utils.models.LoadedModel`), ``duplicated`` and
        ``deduplicated``.
    """

    seed: int
    scores: pd.DataFrame
    accuracy: pd.DataFrame
    dejavu: pd.DataFrame
    histories: dict[str, float]
    models: dict[str, Any]


def corpora(seed: int) -> tuple[Any, Any, Any, pd.DataFrame]:
    """World ``seed``, its clean corpus, its duplicated corpus and the targets.

    Raises
    ------
    RuntimeError
        If removing the exact copies from the duplicated corpus does not give back the
        clean corpus's pairs (the deduplicated model would not be the clean model).
    """
    from ..privacy import PAIR_KEYS, duplicated_corpus, exact_duplicates

    check_int("seed", seed, 0, 2**32 - 1)
    world, clean = lab.clean_corpus(seed)
    dup, targets = duplicated_corpus(clean, KS, PER_K, seed + TARGET_SEED_OFFSET)
    kept = dup.table[exact_duplicates(dup.table)]
    keys = list(PAIR_KEYS)
    if len(kept) != len(clean) or not kept[keys].sort_values(keys).reset_index(drop=True).equals(
            clean.table[keys].sort_values(keys).reset_index(drop=True)):
        raise RuntimeError(f"world {seed}: the deduplicated corpus is not the clean corpus")
    return world, clean, dup, targets


def member_sets(seed: int, clean: Any, targets: pd.DataFrame, profile: str) -> dict[str, pd.DataFrame]:
    """The scored sets of world ``seed``.

    Parameters
    ----------
    seed : int
    clean : Corpus
        The world's clean corpus.
    targets : DataFrame
        The targets (:func:`corpora`).
    profile : str
        Decides the number of non-members (:data:`N_NONMEMBERS`).

    Returns
    -------
    dict
        Tables of pairs with a column ``k``: ``target`` (copies in the duplicated corpus),
        ``single`` (:data:`N_SINGLES` pairs of the corpus that are not targets, ``k`` 1),
        ``nonmember`` (i.i.d. from the corpus's generator, ``k`` 0) and ``shifted`` (as
        many from a noisier crawl, :data:`SHIFTED_NOISE` wrong captions, ``k`` 0).
    """
    from ..privacy import nonmember_pairs

    check_profile(profile, N_NONMEMBERS)
    rng = np.random.default_rng([seed, TARGET_SEED_OFFSET, 1])
    free = np.setdiff1d(np.arange(len(clean.table)), targets["row"].to_numpy())
    singles = clean.table.loc[np.sort(rng.choice(free, N_SINGLES, replace=False))].assign(k=1)
    n = N_NONMEMBERS[profile]
    non = nonmember_pairs(clean, n, seed + NONMEMBER_SEED).assign(k=0)
    shifted = nonmember_pairs(clean, n, seed + 2 * NONMEMBER_SEED, caption_noise=SHIFTED_NOISE).assign(k=0)
    return {"target": targets, "single": singles, "nonmember": non, "shifted": shifted}


def run_world(seed: int, profile: str = "ci", progress: bool = False) -> WorldResult:
    """Pre-train (or load) world ``seed``'s duplicated and clean (= deduplicated) models side
    by side, score every set under both, and test their zero-shot accuracy."""
    from .. import evaluate as ev
    from ..pretrain import pretrain_many
    from ..privacy import membership_scores
    from ..world import DOMAINS

    check_profile(profile, N_TEST)
    world, clean, dup, targets = corpora(seed)
    dup_r, clean_r = pretrain_many([(dup, lab.clean_train_config(seed)), (clean, lab.clean_train_config(seed))],
                                   progress=progress)
    sets = member_sets(seed, clean, targets, profile)
    tests = {d: world.sample(N_TEST[profile], d, seed=seed) for d in DOMAINS}
    scores, acc = [], [pd.DataFrame({"concept": y, "domain": d}) for d, (_, y) in tests.items()]
    for name, r in (("duplicated", dup_r), ("deduplicated", clean_r)):
        for set_name, t in sets.items():
            scores.append(pd.DataFrame({"model": name, "set": set_name, "k": t["k"].to_numpy(),
                                        "score": membership_scores(r.model, world, t)}))
        feats = [ev.encode_images(r.model, x) for x, _ in tests.values()]
        logits = ev.zero_shot_classify(r.model, world.classnames, feats)
        for frame, lg, (_, y) in zip(acc, logits, tests.values()):
            frame[name] = (lg.argmax(1) == y).astype(float)
    histories = {name: float(r.history["seconds"]) for name, r in (("duplicated", dup_r), ("deduplicated", clean_r))
                 if not r.cache_hit}
    models = {"duplicated": dup_r.model, "deduplicated": clean_r.model}
    dejavu = pd.concat([lookalike_ranks(lm, world, targets, seed).assign(model=name) for name, lm in models.items()],
                       ignore_index=True)
    return WorldResult(seed, pd.concat(scores, ignore_index=True), pd.concat(acc, ignore_index=True), dejavu,
                       histories, models)


def lookalike_ranks(lm: Any, world: Any, targets: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The deja-vu test of every target under ``lm``: from the target's caption alone, how many of
    its look-alikes does the model rank below the target's own image?

    The look-alikes are :data:`N_LOOKALIKES` renderings of the target's concept, domain and
    background with fresh render seeds (at or above 2**40, which no corpus draws), so the
    caption describes them as well as it describes the target. A model that has not
    memorised the target ranks it in the middle (``outranked`` about 0.5).

    Returns
    -------
    DataFrame
        ``row, k, outranked``, one row per target.
    """
    from ..privacy import membership_scores

    n, m = len(targets), N_LOOKALIKES
    if n == 0:
        raise ValueError("targets holds no pair")
    rng = np.random.default_rng([seed, TARGET_SEED_OFFSET, 2])
    look_seeds = (1 << 40) + rng.integers(0, 1 << 40, (n, m))
    # each target m times, with another rendering of its image and its own caption
    lookalikes = targets.iloc[np.repeat(np.arange(n), m)].assign(render_seed=look_seeds.ravel())
    own_score = membership_scores(lm, world, targets)
    look_score = membership_scores(lm, world, lookalikes).reshape(n, m)
    return pd.DataFrame({"row": targets["row"].to_numpy(), "k": targets["k"].to_numpy(),
                         "outranked": (look_score < own_score[:, None]).mean(axis=1)})


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


def auc_by_k(result: WorldResult, model: str = "duplicated") -> pd.DataFrame:
    """The attack on each duplication level's targets under ``model``, and on the singles.

    Parameters
    ----------
    result : WorldResult
    model : str
        ``"duplicated"`` or ``"deduplicated"``.

    Returns
    -------
    DataFrame
        One row per group (``group`` = ``"1"``, ..., ``"32"``, then ``"single"``, whose
        ``k`` is 1): ``group, k, auc, auc_se`` (against the i.i.d. non-members) and ``tpr``
        (at :data:`uim_utils.privacy.LOW_FPR` false positives).
    """
    from ..privacy import attack_metrics

    s = result.scores
    of_model = s["model"] == model
    non = s.loc[of_model & (s["set"] == "nonmember"), "score"].to_numpy()
    rows = []
    for label, mask in [*((str(k), (s["set"] == "target") & (s["k"] == k)) for k in KS),
                        ("single", s["set"] == "single")]:
        est = auc(s, model, mask)
        m = attack_metrics(s.loc[mask & of_model, "score"].to_numpy(), non)
        rows.append({"group": label, "k": 1 if label == "single" else int(label), "auc": est.estimate,
                     "auc_se": est.se, "tpr": m["tpr_at_fpr"]})
    return pd.DataFrame(rows)


def statistics(result: WorldResult) -> dict[str, float]:
    """The claims' statistics of one world, each with its standard error (``<name>_se``)."""
    from .. import stats

    s = result.scores
    by_k = auc_by_k(result).set_index("group")
    dedup_by_k = auc_by_k(result, "deduplicated").set_index("group")
    d_top, d_single, c_top = by_k.loc[str(KS[-1])], by_k.loc["single"], dedup_by_k.loc[str(KS[-1])]
    c_shift = auc(s, "deduplicated", s["set"] == "single", against="shifted")
    row: dict[str, float] = {}

    def put(name: str, value: float, *ses: float) -> None:
        row[name], row[f"{name}_se"] = float(value), float(np.sqrt(sum(x * x for x in ses)))

    put("dup_gain", d_top["auc"] - d_single["auc"], d_top["auc_se"], d_single["auc_se"])
    put("single_above_chance", d_single["auc"] - 0.5, d_single["auc_se"])
    put("dedup_drop", d_top["auc"] - c_top["auc"], d_top["auc_se"], c_top["auc_se"])
    put("pitfall_above_chance", c_shift.estimate - 0.5, c_shift.se)
    dv = result.dejavu.pivot(index="row", columns="model", values="outranked")  # raises on a repeated row
    if dv.isna().any().any():
        raise ValueError(f"world {result.seed}: the deja-vu test lacks some target under one of the models")
    top_rows = result.dejavu.loc[result.dejavu["k"] == KS[-1], "row"].unique()
    est = stats.t_interval((dv.loc[top_rows, "duplicated"] - dv.loc[top_rows, "deduplicated"]).to_numpy(),
                           unit="target pairs")
    put("dejavu", est.estimate, est.se)
    for (model, k), value in result.dejavu.groupby(["model", "k"])["outranked"].mean().items():
        row[f"outranked_{model}_{k}"] = float(value)
    tpr, n_top = float(d_top["tpr"]), PER_K
    put("tpr_top_above_fpr", tpr - LOW_FPR, np.sqrt(max(tpr * (1 - tpr), 1e-4) / n_top))
    acc = result.accuracy
    per = acc.groupby("concept")[["duplicated", "deduplicated"]].mean()
    est = stats.t_interval((per["deduplicated"] - per["duplicated"]).to_numpy(), unit="concepts")
    put("dedup_acc_diff", est.estimate, est.se)
    for g, r in by_k.iterrows():
        row[f"auc_{g}"], row[f"tpr_{g}"] = float(r["auc"]), float(r["tpr"])
    row["dedup_auc_top"], row["dedup_auc_single"] = float(c_top["auc"]), float(dedup_by_k.loc["single", "auc"])
    row["zs_duplicated"], row["zs_deduplicated"] = float(acc["duplicated"].mean()), float(acc["deduplicated"].mean())
    return row


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
