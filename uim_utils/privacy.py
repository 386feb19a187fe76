"""Duplication, memorization and membership inference in the lab (chapter 06).

- :func:`duplicated_corpus` gives chosen pairs of a corpus ``k`` copies each (one group of
  targets per ``k``), so that one model shows every duplication level.
- :func:`nonmember_pairs` draws non-members **i.i.d. from the same generator** as the
  corpus (same world, same dials, fresh render seeds and captions). Das, Zhang and
  Tramèr (2025) show why this matters: with non-members from another distribution a
  "blind" attack that never looks at the model beats published attacks, so such an
  evaluation measures the shift, not memorization.
- :func:`membership_scores` is the attack of Ko et al. (ICCV 2023): the cosine similarity
  between a pair's image and its own caption under the model; members score higher.
- :func:`lookalike_ranks` is the deja-vu test (Jayaraman et al. 2024): from a pair's
  caption alone, does the model rank the pair's own image above other renderings the
  caption fits as well?
- :func:`attack_metrics`: AUC and true-positive rate at a low false-positive rate
  (scikit-learn's ROC), the two numbers membership-inference papers report.
- :func:`exact_duplicates` and :func:`semdedup` remove copies: the first by identical
  rows, the second as SemDeDup does (Abbas et al. 2023, facebookresearch/SemDeDup,
  ``clustering/sort_clusters.py`` and ``semdedup.py``): k-means on normalised embeddings,
  each cluster sorted by cosine distance to its centroid, farthest first ("keep hard"),
  and an item removed when its cosine similarity to any item before it exceeds
  ``1 - eps``. The reference clusters with faiss (optionally spherical k-means); here
  scikit-learn's Euclidean ``KMeans`` on the normalised embeddings.

Everything but :func:`membership_scores` and :func:`lookalike_ranks` is torch-free.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .validate import check_float, check_int

if TYPE_CHECKING:
    from .corpus import Corpus
    from .models import LoadedModel
    from .world import ConceptWorld

PAIR_KEYS: tuple[str, ...] = ("concept", "domain", "background", "render_seed", "caption")
"""The columns that make a pair: two rows equal on all of them are the same image and caption."""
LOW_FPR = 0.01
"""The false-positive rate at which an attack's true-positive rate is read by default."""


def check_copies(ks: Sequence[int]) -> tuple[int, ...]:
    """``ks`` as a tuple of distinct duplication levels, each an integer >= 1.

    Raises
    ------
    ValueError
        Naming the bad value (an empty list, ``k < 1``, a repeated ``k``).
    """
    ks = tuple(ks)
    if not ks:
        raise ValueError("ks must name at least one duplication level, got an empty sequence")
    for k in ks:
        check_int("k (copies of a pair)", k, 1, 10_000)
    if len(set(ks)) != len(ks):
        raise ValueError(f"duplication levels must be distinct, got {ks!r}")
    return ks


def duplicated_corpus(corpus: Corpus, ks: Sequence[int], per_k: int, seed: int) -> tuple[Corpus, pd.DataFrame]:
    """``corpus`` with ``per_k`` of its pairs in ``k`` copies for every ``k`` in ``ks``.

    The targets are drawn uniformly from the pairs that are not already duplicated or
    poisoned, so each group is an i.i.d. sample of the corpus (same concepts, domains and
    captions as a non-member drawn by :func:`nonmember_pairs`). A target with ``k = 1``
    stays a single pair: the group that shows what one exposure gives.

    Parameters
    ----------
    corpus : Corpus
        The corpus to duplicate into (e.g. a world's clean corpus).
    ks : sequence of int
        Distinct duplication levels, each >= 1 (e.g. ``(1, 2, 4, 8, 16, 32)``).
    per_k : int
        Targets per level.
    seed : int
        Draws the targets and the shuffle of the new table.

    Returns
    -------
    corpus, targets
        The new corpus (its fingerprint names the design, so its model is cached apart
        from the original's) and the targets: their rows of ``corpus.table`` (``row``)
        with their columns and their copies ``k``.
    """

    ks = check_copies(ks)
    check_int("per_k", per_k, 1)
    check_int("seed", seed, 0, 2**32 - 1)
    table = corpus.table
    free = np.flatnonzero((table["dup_group"].to_numpy() < 0) & ~table["poisoned"].to_numpy())
    need = per_k * len(ks)
    if need > len(free):
        raise ValueError(f"per_k * len(ks) = {need} targets, but the corpus has only {len(free)} "
                         "pairs that are neither duplicated nor poisoned")
    rng = np.random.default_rng([seed, 19])
    rows = rng.choice(free, need, replace=False)
    copies = np.repeat(np.asarray(ks), per_k)
    targets = table.loc[rows].copy()
    targets.insert(0, "row", rows)
    targets["k"] = copies
    many = copies > 1
    new = table.copy()
    first_id = int(max(table["dup_group"].max(), table["sample_id"].max())) + 1  # ids no group has
    new.loc[rows[many], "dup_group"] = first_id + np.arange(int(many.sum()))
    extra = new.loc[np.repeat(rows[many], copies[many] - 1)]
    design = f"{ks}:{per_k}:{seed}:{hashlib.sha256(rows.astype(np.int64).tobytes()).hexdigest()}"
    parent = corpus.selection or ""
    selection = hashlib.sha256(f"duplicated:{parent}:{design}".encode()).hexdigest()
    return _shuffled(corpus, [new, extra], rng, selection), targets.reset_index(drop=True)


def add_copies(corpus: Corpus, pairs: pd.DataFrame, copies: Sequence[int] | np.ndarray, seed: int) -> Corpus:
    """``corpus`` with new pairs added, pair ``i`` of ``pairs`` in ``copies[i]`` copies.

    The pairs must be absent from the corpus (e.g. drawn by :func:`nonmember_pairs`): a
    model trained on the original corpus never saw them, so it is a *reference* model for
    them (Jayaraman et al. 2024), while a model trained on the new corpus saw each one
    ``copies[i]`` times (the canaries of Carlini et al. 2019).

    Parameters
    ----------
    corpus : Corpus
    pairs : DataFrame
        New pairs with the columns of a corpus table, none of them in ``corpus``.
    copies : sequence of int
        One count (>= 1) per pair.
    seed : int
        Shuffles the new table.

    Returns
    -------
    Corpus
        A new corpus (its fingerprint names the added pairs and their copies); the pairs
        added more than once form new duplicate groups.

    Raises
    ------
    ValueError
        If ``pairs`` is empty, lacks a column of the corpus table, repeats a pair or holds
        one already in ``corpus``, or if ``copies`` does not hold one integer >= 1 per pair.
    """

    check_int("seed", seed, 0, 2**32 - 1)
    check_disjoint(corpus.table, pairs)
    missing = [c for c in corpus.table.columns if c not in pairs.columns]
    if missing:
        raise ValueError(f"pairs lacks the corpus columns {missing}")
    repeated = int(pairs.duplicated(subset=list(PAIR_KEYS)).sum())
    if repeated:
        raise ValueError(f"pairs repeats {repeated} pair(s); give each pair once, with its count in copies")
    counts = np.asarray(copies)
    if counts.shape != (len(pairs),) or not np.issubdtype(counts.dtype, np.integer) or (counts < 1).any():
        raise ValueError(f"copies must hold one integer >= 1 for each of the {len(pairs)} pairs, "
                         f"got {counts.tolist() if counts.size < 10 else counts.shape}")
    table = corpus.table
    new = pairs[list(table.columns)].reset_index(drop=True).copy()
    many = np.flatnonzero(counts > 1)
    first_id = int(max(table["dup_group"].max(), table["sample_id"].max(), len(table) + len(new))) + 1
    new["dup_group"] = -1
    new.loc[many, "dup_group"] = first_id + np.arange(len(many))
    digest = hashlib.sha256(pd.util.hash_pandas_object(new[list(PAIR_KEYS)], index=False).to_numpy().tobytes()
                            + counts.astype(np.int64).tobytes()).hexdigest()
    selection = hashlib.sha256(f"added:{corpus.selection or ''}:{seed}:{digest}".encode()).hexdigest()
    return _shuffled(corpus, [table, new.loc[np.repeat(np.arange(len(new)), counts)]],
                     np.random.default_rng([seed, 23]), selection)


def _shuffled(corpus: Corpus, parts: list[pd.DataFrame], rng: np.random.Generator, selection: str) -> Corpus:
    """A corpus of ``corpus``'s world and config whose table is ``parts`` stacked, shuffled by
    ``rng`` and numbered anew (``sample_id``), named by ``selection``."""
    from .corpus import Corpus

    full = pd.concat(parts, ignore_index=True)
    full = full.iloc[rng.permutation(len(full))].reset_index(drop=True)
    full["sample_id"] = np.arange(len(full))
    return Corpus(corpus.world, corpus.config, full, selection=selection)


def nonmember_pairs(corpus: Corpus, n: int, seed: int, caption_noise: float | None = None) -> pd.DataFrame:
    """``n`` pairs drawn i.i.d. from the generator of ``corpus`` and absent from it.

    The same world and dials (Zipf law and its concept ranking, domains, captions) with
    another corpus seed: fresh render seeds and captions. No pair of ``corpus`` is among
    them (:func:`check_disjoint`).

    Parameters
    ----------
    corpus : Corpus
    n : int
        Non-members to draw.
    seed : int
        Their corpus seed; it must differ from ``corpus.config.seed``.
    caption_noise : float, optional
        Another share of wrong captions than the corpus's: non-members from a *shifted*
        generator (the pitfall of an evaluation that draws them from elsewhere).

    Returns
    -------
    DataFrame
        The non-members, with the columns of a corpus table.
    """
    from .corpus import build_corpus

    check_int("n", n, 1)
    check_int("seed", seed, 0, 2**32 - 1)
    if seed == corpus.config.seed:
        raise ValueError(f"seed {seed} is the corpus's own seed: its draws would be members")
    # the corpus's own concept ranking (rank_seed), else a Zipf law would rank concepts anew
    config = replace(corpus.config, n_samples=n, seed=seed, rank_seed=corpus.config.effective_rank_seed,
                     dup_fraction=0.0, dup_copies=0, poison_count=0)
    if caption_noise is not None:
        config = replace(config, caption_noise=caption_noise)
    table = build_corpus(corpus.world, config).table
    check_disjoint(corpus.table, table)
    return table


def check_disjoint(members: pd.DataFrame, nonmembers: pd.DataFrame) -> None:
    """Check that no pair is both a member and a non-member.

    Parameters
    ----------
    members, nonmembers : DataFrame
        Pairs with the columns :data:`PAIR_KEYS`.

    Raises
    ------
    ValueError
        If either set is empty or lacks a column, or if a pair (equal on every column of
        :data:`PAIR_KEYS`) is in both, naming how many.
    """
    for name, t in (("member", members), ("non-member", nonmembers)):
        if len(t) == 0:
            raise ValueError(f"the {name} set is empty")
        missing = [c for c in PAIR_KEYS if c not in t.columns]
        if missing:
            raise ValueError(f"the {name} table lacks the columns {missing}")
    both = pd.merge(members[list(PAIR_KEYS)].drop_duplicates(), nonmembers[list(PAIR_KEYS)].drop_duplicates(),
                    on=list(PAIR_KEYS))
    if len(both):
        raise ValueError(f"{len(both)} pair(s) are both members and non-members "
                         f"(e.g. render seed {both['render_seed'].iloc[0]})")


def membership_scores(lm: LoadedModel, world: ConceptWorld, table: pd.DataFrame,
                      batch_size: int = 512) -> np.ndarray:
    """The attack score of every pair of ``table``: cosine similarity of its image and its
    own caption under ``lm`` (Ko et al., ICCV 2023). Higher means "member".

    Parameters
    ----------
    lm : LoadedModel
        A lab CLIP.
    world : ConceptWorld
        Renders the pairs' images.
    table : DataFrame
        Pairs with the columns of a corpus table (:data:`PAIR_KEYS`).
    batch_size : int
        Images and captions encoded at a time.

    Returns
    -------
    ndarray
        One cosine per row of ``table``, in row order.
    """
    from .evaluate import encode_images, encode_texts

    if len(table) == 0:
        raise ValueError("table holds no pair to score")
    images = world.render(table["concept"].to_numpy(), table["domain"].to_numpy(),
                          table["background"].to_numpy(), table["render_seed"].to_numpy())
    fi = encode_images(lm, images, batch_size=batch_size)
    ft = encode_texts(lm, list(table["caption"]), batch_size=batch_size)
    return (fi * ft).sum(axis=1)


def lookalike_ranks(lm: LoadedModel, world: ConceptWorld, targets: pd.DataFrame, n_lookalikes: int,
                    seed: int | Sequence[int]) -> pd.DataFrame:
    """The deja-vu test (Jayaraman et al. 2024) of every target under ``lm``: from the
    target's caption alone, how many of its look-alikes does the model rank below the
    target's own image?

    A model that has not memorised a target ranks it in the middle (``outranked`` about 0.5).

    Parameters
    ----------
    lm : LoadedModel
    world : ConceptWorld
        Renders the images.
    targets : DataFrame
        Pairs with the columns of a corpus table (:data:`PAIR_KEYS`), ``row`` and ``k``.
    n_lookalikes : int
        Look-alikes per target: renderings of its concept, domain and background with fresh
        render seeds (at or above 2**40, which no corpus draws), so that its caption
        describes them as well as it describes the target.
    seed : int or sequence of int
        Seeds the look-alikes' render seeds (``numpy.random.default_rng(seed)``).

    Returns
    -------
    DataFrame
        ``row, k, outranked``, one row per target (``row`` and ``k`` from ``targets``).
    """
    check_int("n_lookalikes", n_lookalikes, 1)
    for part in np.atleast_1d(np.asarray(seed, dtype=object)):
        check_int("each part of seed", part, 0, 2**32 - 1)
    n = len(targets)
    if n == 0:
        raise ValueError("targets holds no pair")
    look_seeds = (1 << 40) + np.random.default_rng(seed).integers(0, 1 << 40, (n, n_lookalikes))
    # each target n_lookalikes times, with another rendering of its image and its own caption
    lookalikes = targets.iloc[np.repeat(np.arange(n), n_lookalikes)].assign(render_seed=look_seeds.ravel())
    own_score = membership_scores(lm, world, targets)
    look_score = membership_scores(lm, world, lookalikes).reshape(n, n_lookalikes)
    return pd.DataFrame({"row": targets["row"].to_numpy(), "k": targets["k"].to_numpy(),
                         "outranked": (look_score < own_score[:, None]).mean(axis=1)})


def attack_metrics(member_scores: np.ndarray, nonmember_scores: np.ndarray, fpr: float = LOW_FPR) -> dict[str, float]:
    """AUC and true-positive rate at false-positive rate ``fpr`` of a score that should be
    higher for members.

    Parameters
    ----------
    member_scores, nonmember_scores : 1-D arrays, non-empty, finite
    fpr : float
        In (0, 1): the false-positive rate at which the TPR is read (interpolated on the
        ROC curve, scikit-learn's ``roc_curve``).

    Returns
    -------
    dict
        ``{"auc", "tpr_at_fpr", "n_members", "n_nonmembers"}``.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    m = _scores("member_scores", member_scores)
    n = _scores("nonmember_scores", nonmember_scores)
    check_float("fpr", fpr, 0.0, 1.0)
    if not 0 < fpr < 1:
        raise ValueError(f"fpr must lie strictly between 0 and 1, got {fpr!r}")
    y = np.r_[np.ones(len(m)), np.zeros(len(n))]
    s = np.r_[m, n]
    f, t, _ = roc_curve(y, s)
    return {"auc": float(roc_auc_score(y, s)), "tpr_at_fpr": float(np.interp(fpr, f, t)),
            "n_members": float(len(m)), "n_nonmembers": float(len(n))}


def _scores(name: str, values: Any) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} holds {int((~np.isfinite(a)).sum())} non-finite value(s)")
    return a


def exact_duplicates(table: pd.DataFrame) -> np.ndarray:
    """Which rows to keep when exact copies are removed.

    Parameters
    ----------
    table : DataFrame
        Pairs with the columns :data:`PAIR_KEYS`.

    Returns
    -------
    ndarray of bool
        True for the first row of every group of rows equal on :data:`PAIR_KEYS` (the same
        image and caption), False for the later copies.
    """
    missing = [c for c in PAIR_KEYS if c not in table.columns]
    if missing:
        raise ValueError(f"the table lacks the columns {missing}")
    return ~table.duplicated(subset=list(PAIR_KEYS), keep="first").to_numpy()


def semdedup_similarity(embeddings: np.ndarray, n_clusters: int, seed: int = 0) -> np.ndarray:
    """SemDeDup's (Abbas et al. 2023) score of every item: its largest cosine similarity to an
    item before it in its cluster's order (0 for the first item and for a cluster of one).

    As the reference implementation does: the embeddings are L2-normalised and clustered
    with k-means; within a cluster the items are sorted by cosine distance to the
    centroid, farthest first (``keep_hard``); the score of item ``j`` is the column
    maximum of the upper triangle of the cluster's similarity matrix. The reference
    computes these once and thresholds them for every eps of its list; so does
    :func:`semdedup`.

    Parameters
    ----------
    embeddings : 2-D array (N, D), finite, no zero row
    n_clusters : int
        k-means clusters, 1 to N.
    seed : int
        k-means initialisation (scikit-learn's ``KMeans``, ``n_init=1``).

    Returns
    -------
    ndarray
        One score per item, in the order of ``embeddings``.
    """
    from sklearn.cluster import KMeans

    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"embeddings must be a non-empty 2-D array, got shape {x.shape}")
    norms = np.linalg.norm(x, axis=1)
    if not np.isfinite(x).all() or (norms == 0).any():
        raise ValueError("embeddings must be finite with no zero row")
    check_int("n_clusters", n_clusters, 1, len(x))
    x = x / norms[:, None]
    km = KMeans(n_clusters=n_clusters, n_init=1, random_state=seed).fit(x)
    score = np.zeros(len(x))
    for c in range(n_clusters):
        items = np.flatnonzero(km.labels_ == c)
        if len(items) < 2:
            continue
        centroid = km.cluster_centers_[c] / max(np.linalg.norm(km.cluster_centers_[c]), 1e-12)
        order = items[np.argsort(-(1 - x[items] @ centroid), kind="stable")]
        score[order] = np.triu(x[order] @ x[order].T, k=1).max(axis=0)
    return score


def semdedup(embeddings: np.ndarray, n_clusters: int, eps: float, seed: int = 0,
             similarity: np.ndarray | None = None) -> np.ndarray:
    """SemDeDup (Abbas et al. 2023): bool mask of the items to keep.

    Item ``j`` is removed when its :func:`semdedup_similarity` (its largest cosine
    similarity to an item before it in its cluster's keep-hard order) exceeds
    ``1 - eps``. Of a group of near-duplicates, the item farthest from the centroid stays.

    Parameters
    ----------
    embeddings : 2-D array (N, D), finite, no zero row
    n_clusters : int
        k-means clusters, 1 to N.
    eps : float
        In (0, 1]: removal threshold ``cosine > 1 - eps`` (the paper's eps).
    seed : int
        k-means initialisation (scikit-learn's ``KMeans``, ``n_init=1``).
    similarity : array, optional
        :func:`semdedup_similarity` of the same embeddings, clusters and seed, to threshold
        at several eps without clustering again.
    """
    check_float("eps", eps, 0.0, 1.0)
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    if similarity is None:
        similarity = semdedup_similarity(embeddings, n_clusters, seed)
    elif np.shape(similarity) != (len(embeddings),):
        raise ValueError(f"similarity must hold one score per embedding ({len(embeddings)}), "
                         f"got shape {np.shape(similarity)}")
    return ~(np.asarray(similarity) > 1 - eps)
