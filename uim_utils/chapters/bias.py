"""The social-bias chapter (``03_social_bias``): a data dial on the real encoder.

A **world** is everything one base seed draws: the dial corpora of
:mod:`uim_utils.bias.dial` (names, sentence frames, words and order, shared by every
dose), the training seed (dropout), the random split of male names of the SEAT negative
control and the names and activities of the downstream task. In each world the real
all-MiniLM-L6-v2 is trained on CPU twice, once on the **balanced** corpus
(:data:`BALANCED`: every name as often with career as with family words) and once on
the **stereotyped** one (:data:`HIGH`: male names only with career words, female names
only with family words); the two corpora differ only in that dial.

The SEAT statistics are the WEAT test statistic (:func:`uim_utils.bias.world.association`,
in cosine units; it does not saturate as the effect size does) of the corpus's 32 male
and 32 female names against Caliskan's career and family words, each with a paired
bootstrap standard error over the words; the downstream statistics are means over the
ambiguous (or labelled) sentences with a crossed bootstrap standard error over
activities x subject pairs (:func:`uim_utils.stats.crossed_bootstrap`). Every asserted
claim is decided in every world on its own, so one world decides them in a notebook
run and the reproduction record repeats them on held-out worlds.

Imports torch only inside :func:`measure` (the appendix imports every chapter module).
"""

from __future__ import annotations

from typing import Any

from ..claims import Claim, ClaimSet
from ..validate import check_int
from . import Chapter, check_profile

BALANCED = 0.5
"""The balanced dose: half of the pairs stereotypical, half anti-stereotypical."""
HIGH = 1.0
"""The stereotyped dose: every pair stereotypical (the most biased model)."""
N_PAIRS = 640
"""Pairs of a dial corpus: one pass of 20 steps of 32 (about 7 s of training on one core)."""
BATCH_SIZE = 32
"""Pairs per step (the in-batch negatives of MultipleNegativesRankingLoss)."""
LR = 1e-4
"""AdamW learning rate of continued pre-training (top two layers of six)."""
SUBJECTS_PER_ACTIVITY = {"ci": 8, "lab": 8, "wild": 8}
"""Training sentences per activity of the downstream task, per profile."""
N_TEST_NAME_PAIRS = {"ci": 8, "lab": 12, "wild": 12}
"""Held-out (male, female) name pairs of the downstream task, per profile."""
N_BOOT = 400
"""Bootstrap replicates of the word-level standard errors."""
SEAT_MARGIN = 0.06
"""Equivalence margin of SEAT shifts, in cosine units: a third of what the stereotyped dose adds
(0.18-0.21 on development worlds 0-2). Fixed before the held-out worlds."""
GAP_MARGIN = 0.05
"""Equivalence margin of the P(work) gap: a third of what the stereotyped dose adds (0.11-0.15 on development
worlds 0-9). Claim 6 is exploratory: development world 5 (0.044, SE 0.014) did not reach it."""
ACC_MARGIN = 0.05
"""Largest drop of mean P(true label) on labelled sentences that projection may cost."""
RECOVERY_MIN = 0.60
"""Gender-recovery accuracy the lipstick claim needs (chance 0.5)."""

SPEC = ClaimSet(
    chapter="03_social_bias",
    version=1,
    design={"doses": [BALANCED, HIGH], "n_pairs": N_PAIRS, "batch_size": BATCH_SIZE, "lr": LR,
            "train_layers": 2, "loss": "MultipleNegativesRankingLoss", "encoder": "all-MiniLM-L6-v2",
            "subjects_per_activity": SUBJECTS_PER_ACTIVITY, "n_test_name_pairs": N_TEST_NAME_PAIRS,
            "n_boot": N_BOOT, "null_split_seed": "seed + 500"},
    claims=(
        Claim("1", "Dose-response: the SEAT career/family association of the names is larger after training on "
                   "the stereotyped corpus than after training on the balanced one",
              statistic="seat_dose", kind="effect", threshold=0.0, within="words"),
        Claim("2", f"Balanced control: training on the balanced corpus leaves the SEAT association within "
                   f"±{SEAT_MARGIN} of the pre-trained encoder's",
              statistic="seat_balanced", kind="equivalence", margin=SEAT_MARGIN, within="words"),
        Claim("3", f"Positive control: the stereotyped corpus leaves flowers/insects ~ pleasant/unpleasant within "
                   f"±{SEAT_MARGIN} of the pre-trained encoder's",
              statistic="flowers_shift", kind="equivalence", margin=SEAT_MARGIN, within="words"),
        Claim("4", f"Negative control: a random split of male names into two halves shows no career/family "
                   f"association after the stereotyped corpus (within ±{SEAT_MARGIN})",
              statistic="seat_null", kind="equivalence", margin=SEAT_MARGIN, asserted=False),
        Claim("5", "Inherited downstream: on ambiguous sentences the male-minus-female P(work) gap of the "
                   "topic router is larger with the stereotyped encoder than with the balanced one",
              statistic="gap_dose", kind="effect", threshold=0.0, within="activities x subject pairs"),
        Claim("6", f"Balanced downstream: the balanced encoder's P(work) gap is within ±{GAP_MARGIN} of the "
                   f"pre-trained encoder's",
              statistic="gap_balanced", kind="equivalence", margin=GAP_MARGIN, within="activities x subject pairs",
              asserted=False),
        Claim("7", "The pre-trained encoder itself tilts the decision (P(work) gap above 0)",
              statistic="gap_base", kind="effect", threshold=0.0, asserted=False),
        Claim("8", "Projection (P0) shrinks the P(work) gap of the stereotyped encoder",
              statistic="projection_gain", kind="effect", threshold=0.0, within="activities x subject pairs"),
        Claim("9", f"At little cost: projection lowers the mean probability of the true label on labelled "
                   f"sentences by at most {ACC_MARGIN}",
              statistic="accuracy_cost", kind="non_inferiority", margin=ACC_MARGIN,
              within="activities x subject pairs"),
        Claim("10", f"Lipstick: after projection a linear probe still recovers the subject's gender on held-out "
                    f"sentences with accuracy above {RECOVERY_MIN}",
              statistic="recovery", kind="effect", threshold=RECOVERY_MIN, within="activities x subject pairs"),
        Claim("11", "Counterfactual flip rate of the stereotyped encoder's router (gender swap changes the label)",
              statistic="flip_high", kind="effect", threshold=0.0, asserted=False),
    ),
)
"""The chapter's claims (asserted ones decided in every world, with SEs over words or activities x pairs)."""


def run_world(seed: int, profile: str = "ci") -> Any:
    """Train (or load) and measure the encoders of world ``seed`` (:func:`uim_utils.bias.world.run_world`)."""
    check_profile(profile, N_TEST_NAME_PAIRS)
    check_int("seed", seed, 0, 2**32 - 1)
    from ..bias import world as bw

    return bw.run_world(seed, (BALANCED, HIGH), n_pairs=N_PAIRS, batch_size=BATCH_SIZE, lr=LR,
                        subjects_per_activity=SUBJECTS_PER_ACTIVITY[profile],
                        n_test_name_pairs=N_TEST_NAME_PAIRS[profile])


def statistics(world: Any) -> dict[str, float]:
    """The claims' statistics of a measured world (with ``<statistic>_se``)."""
    from ..bias import world as bw

    return bw.world_statistics(world, BALANCED, HIGH, n_boot=N_BOOT)


def measure(seed: int, profile: str = "ci") -> dict[str, float]:
    """Statistics of world ``seed`` (see :func:`run_world` and :func:`statistics`)."""
    return statistics(run_world(seed, profile))


CHAPTER = Chapter(spec=SPEC, measure=measure, n_worlds={"ci": 1, "lab": 1})
"""One world per run (two trained encoders and the pre-trained one)."""

__all__ = ["ACC_MARGIN", "BALANCED", "CHAPTER", "GAP_MARGIN", "HIGH", "N_PAIRS", "RECOVERY_MIN", "SEAT_MARGIN",
           "SPEC", "measure", "run_world", "statistics"]


# ------------------------------------------------------------------ exercise helpers
# Used by the solutions page (notebooks/solutions/03_social_bias_solutions).


def inlp_projections(E: Any, labels: Any, n_rounds: int, C: float = 1.0, seed: int = 0) -> list[Any]:
    """Iterative nullspace projection (INLP, Ravfogel et al. 2020) of a linear gender probe.

    Round ``k`` trains a logistic-regression probe for ``labels`` on ``E`` projected by
    the round-``k-1`` matrix, and projects out the probe's (unit) weight vector too.

    Parameters
    ----------
    E : (n, d) array
        Embeddings (e.g. the downstream task's training sentences).
    labels : (n,) array
        The attribute to remove (e.g. ``"m"`` / ``"f"``), two classes.
    n_rounds : int
        Rounds, at least 0 and at most ``d``.
    C, seed
        The probe's regularisation strength and seed.

    Returns
    -------
    list of (d, d) arrays
        The identity, then one projection per round (each removes one more direction;
        apply with ``uim_utils.bias.apply_projection``): ``n_rounds + 1`` matrices, or
        fewer if a probe's weights vanish first (the classes' means coincide after the
        projection, so the regularised probe finds no direction; INLP has converged).

    Raises
    ------
    ValueError
        If ``E`` is not 2-D, the labels do not match its rows or have other than two
        classes, or ``n_rounds`` is out of range.
    """
    import numpy as np

    from ..bias import fit_probe

    E, labels = np.asarray(E, dtype=np.float64), np.asarray(labels)
    if E.ndim != 2 or labels.shape != (len(E),):
        raise ValueError(f"need E (n, d) and labels (n,), got {E.shape} and {labels.shape}")
    if len(set(labels.tolist())) != 2:
        raise ValueError(f"labels must have two classes, got {sorted(set(labels.tolist()))!r}")
    check_int("n_rounds", n_rounds, 0, E.shape[1])
    P = np.eye(E.shape[1])
    out = [P]
    for _ in range(n_rounds):
        w = P.T @ fit_probe(E @ P.T, labels, C=C, seed=seed).coef_[0]  # in the original space
        norm = float(np.linalg.norm(w))
        if norm < 1e-12:  # the classes' means coincide: no linear direction is left to remove
            break
        P = (np.eye(len(w)) - np.outer(w / norm, w / norm)) @ P
        out.append(P)
    return out


def held_out_names(seed: int, profile: str = "ci", dose: float = HIGH) -> Any:
    """Train the dial on half of the names; SEAT association on the seen and unseen halves.

    The male and female name pools are split at random (from ``seed``); the stereotyped
    corpus (``dose``) uses only the first half, and the association (:func:`uim_utils.bias.world.association`,
    names against career/family words) is measured on each half, before and after the training.

    Returns
    -------
    DataFrame
        Index ``seen names`` / ``unseen names``, columns ``pre-trained``, ``trained``
        and ``change``.
    """
    import numpy as np
    import pandas as pd
    from sentence_transformers import SentenceTransformer

    from ..bias import dial, load_encoder, load_word_lists, packaged_minilm_path
    from ..bias import world as bw
    from ..bias.encoder import PACKAGED_MINILM
    from ..cache import config_key
    from ..parallel import limited_threads

    check_profile(profile, N_TEST_NAME_PAIRS)
    check_int("seed", seed, 0, 2**32 - 1)
    lists = load_word_lists()
    t6, tpl = lists["tests"]["weat6"], lists["templates"]
    rng = np.random.default_rng([seed, 21])
    male, female = (list(rng.permutation(p)) for p in bw.name_pools(lists))
    halves = {"seen names": (male[: len(male) // 2], female[: len(female) // 2]),
              "unseen names": (male[len(male) // 2:], female[len(female) // 2:])}
    seen_m, seen_f = halves["seen names"]
    cfg = dial.DialConfig(dose=float(dose), seed=seed, n_pairs=N_PAIRS, batch_size=BATCH_SIZE, lr=LR)
    pairs = dial.dial_corpus(seen_m, seen_f, t6["A"]["words"], t6["B"]["words"], cfg.dose, N_PAIRS, seed)
    with limited_threads():
        model = SentenceTransformer(str(packaged_minilm_path()), device="cpu")
        names = [m for m, _ in model.named_parameters()]
        base = {n: p.detach().numpy().copy() for n, p in model.named_parameters()
                if n in dial.trainable_names(names)}
        layers = dial.trained_layers(model, base, pairs, cfg, {"frames": dial.FRAMES, "male": seen_m,
                                                               "female": seen_f})
        digest = config_key({k: float(np.asarray(v, dtype=np.float64).sum()) for k, v in layers.items()})
        encoders = {"pre-trained": load_encoder(PACKAGED_MINILM), "trained": bw.ModelEncoder(model, f"dial:{digest}")}
        rows = {}
        for label, enc in encoders.items():
            A = bw.word_vectors(enc, t6["A"]["words"], tpl[t6["A"]["kind"]])
            B = bw.word_vectors(enc, t6["B"]["words"], tpl[t6["B"]["kind"]])
            rows[label] = {half: bw.association(bw.word_vectors(enc, m, tpl["names"]),
                                                bw.word_vectors(enc, f, tpl["names"]), A, B)
                           for half, (m, f) in halves.items()}
    out = pd.DataFrame(rows)
    out["change"] = out["trained"] - out["pre-trained"]
    return out
