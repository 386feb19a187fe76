"""uim_utils.privacy: duplicated targets, i.i.d. non-members, the cosine attack, its
metrics, exact and semantic deduplication; known answers and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from uim_utils import privacy
from uim_utils.corpus import CorpusConfig, build_corpus
from uim_utils.models import create_lab_model
from uim_utils.world import ConceptWorld, WorldConfig


@pytest.fixture(scope="module")
def corpus():
    world = ConceptWorld(WorldConfig(n_concepts=6, seed=0))
    return build_corpus(world, CorpusConfig(n_samples=300, seed=0, zipf_exponent=0.0))


def test_duplicated_corpus_gives_each_target_exactly_k_copies(corpus):
    ks, per_k = (1, 2, 5), 4
    dup, targets = privacy.duplicated_corpus(corpus, ks, per_k, seed=3)
    assert len(dup) == len(corpus) + per_k * (0 + 1 + 4)
    assert targets["k"].value_counts().sort_index().to_dict() == {1: 4, 2: 4, 5: 4}
    key = list(privacy.PAIR_KEYS)
    counts = dup.table.groupby(key, sort=False).size()
    for _, t in targets.iterrows():
        assert counts.loc[tuple(t[key])] == t["k"]
    assert (counts.drop([tuple(r) for r in targets[key].to_numpy()]) == 1).all()  # the rest once
    assert dup.fingerprint() != corpus.fingerprint()
    assert dup.fingerprint() == privacy.duplicated_corpus(corpus, ks, per_k, seed=3)[0].fingerprint()
    assert dup.fingerprint() != privacy.duplicated_corpus(corpus, ks, per_k, seed=4)[0].fingerprint()
    assert targets["row"].is_unique and set(targets["row"]) <= set(range(len(corpus)))


def test_add_copies_adds_fresh_pairs_in_their_counts(corpus):
    fresh = privacy.nonmember_pairs(corpus, 10, seed=77).iloc[:5]
    copies = np.array([1, 2, 3, 1, 4])
    more = privacy.add_copies(corpus, fresh, copies, seed=1)
    assert len(more) == len(corpus) + copies.sum()
    key = list(privacy.PAIR_KEYS)
    counts = more.table.groupby(key, sort=False).size()
    for (_, t), c in zip(fresh.iterrows(), copies):
        assert counts.loc[tuple(t[key])] == c
    groups = more.table.loc[more.table["dup_group"] >= 0, "dup_group"]
    assert groups.nunique() == 3 and groups.value_counts().sort_values().tolist() == [2, 3, 4]
    assert (more.table["sample_id"] == np.arange(len(more))).all()
    assert more.fingerprint() == privacy.add_copies(corpus, fresh, copies, seed=1).fingerprint()
    assert more.fingerprint() != privacy.add_copies(corpus, fresh, copies + 1, seed=1).fingerprint()
    kept = more.table[privacy.exact_duplicates(more.table)]
    assert len(kept) == len(corpus) + len(fresh)  # deduplication leaves each new pair once


def test_add_copies_refuses_members_and_bad_counts(corpus):
    fresh = privacy.nonmember_pairs(corpus, 10, seed=78).iloc[:3]
    with pytest.raises(ValueError, match="both members and non-members"):
        privacy.add_copies(corpus, corpus.table.iloc[:3], [1, 1, 1], seed=0)
    with pytest.raises(ValueError, match="non-member set is empty"):
        privacy.add_copies(corpus, fresh.iloc[:0], [], seed=0)
    with pytest.raises(ValueError, match="pairs repeats 1 pair"):
        privacy.add_copies(corpus, pd.concat([fresh, fresh.iloc[:1]]), [1, 1, 1, 1], seed=0)
    with pytest.raises(ValueError, match="pairs lacks the corpus columns \\['noisy'\\]"):
        privacy.add_copies(corpus, fresh.drop(columns="noisy"), [1, 1, 1], seed=0)
    for bad in ([1, 2], [1, 0, 1], [1.0, 2.0, 1.0]):
        with pytest.raises(ValueError, match="copies must hold one integer >= 1 for each of the 3 pairs"):
            privacy.add_copies(corpus, fresh, bad, seed=0)


@pytest.mark.parametrize("ks, match", [((), "at least one"), ((0, 2), "k \\(copies of a pair\\)"),
                                       ((2, 2), "distinct"), ((1.5,), "k \\(copies")])
def test_bad_duplication_levels_are_named(corpus, ks, match):
    with pytest.raises(ValueError, match=match):
        privacy.duplicated_corpus(corpus, ks, 2, seed=0)


def test_more_targets_than_pairs_is_refused(corpus):
    with pytest.raises(ValueError, match="per_k \\* len\\(ks\\) = 400"):
        privacy.duplicated_corpus(corpus, (1, 2), 200, seed=0)


def test_nonmembers_come_from_the_same_generator_and_are_disjoint(corpus):
    non = privacy.nonmember_pairs(corpus, 300, seed=99)
    assert len(non) == 300
    privacy.check_disjoint(corpus.table, non)  # does not raise
    # same generator: the same concept and domain shares (uniform concepts, same domain weights)
    assert np.array_equal(np.bincount(non["concept"], minlength=6), np.bincount(corpus.table["concept"], minlength=6))
    assert non["domain"].value_counts().to_dict() == corpus.table["domain"].value_counts().to_dict()
    noisy = privacy.nonmember_pairs(corpus, 300, seed=99, caption_noise=0.2)
    assert noisy["noisy"].mean() == pytest.approx(0.2) and non["noisy"].sum() == 0
    assert np.array_equal(noisy["render_seed"], non["render_seed"])  # the same draws, other captions
    with pytest.raises(ValueError, match="seed 0 is the corpus's own seed"):
        privacy.nonmember_pairs(corpus, 10, seed=0)


def test_nonmembers_of_a_long_tailed_corpus_keep_its_concept_ranking():
    world = ConceptWorld(WorldConfig(n_concepts=6, seed=0))
    zipf = build_corpus(world, CorpusConfig(n_samples=600, seed=2, zipf_exponent=1.5))
    non = privacy.nonmember_pairs(zipf, 600, seed=5)
    assert np.array_equal(np.bincount(non["concept"], minlength=6), zipf.concept_counts())


def test_duplicate_groups_get_ids_of_their_own(corpus):
    dup, _ = privacy.duplicated_corpus(corpus, (1, 3), 4, seed=2)
    groups = dup.table.loc[dup.table["dup_group"] >= 0, "dup_group"]
    assert groups.nunique() == 4 and (groups.value_counts() == 3).all()
    assert groups.min() >= len(corpus)  # above every id the corpus used
    assert dup.table["sample_id"].tolist() == list(range(len(dup)))


def test_overlapping_or_empty_sets_are_refused(corpus):
    t = corpus.table
    with pytest.raises(ValueError, match="3 pair\\(s\\) are both members and non-members"):
        privacy.check_disjoint(t, t.iloc[:3])
    with pytest.raises(ValueError, match="the member set is empty"):
        privacy.check_disjoint(t.iloc[:0], t)
    with pytest.raises(ValueError, match="lacks the columns \\['caption'\\]"):
        privacy.check_disjoint(t, t.drop(columns="caption"))


def test_attack_metrics_known_answers():
    sep = privacy.attack_metrics(np.array([2.0, 3.0, 4.0]), np.array([0.0, 1.0]))
    assert sep["auc"] == 1.0 and sep["tpr_at_fpr"] == 1.0
    rng = np.random.default_rng(0)
    same = privacy.attack_metrics(rng.normal(size=4000), rng.normal(size=4000), fpr=0.05)
    assert abs(same["auc"] - 0.5) < 0.02 and abs(same["tpr_at_fpr"] - 0.05) < 0.02
    # AUC = P(member > non-member): one of four orderings
    assert privacy.attack_metrics(np.array([1.0, 3.0]), np.array([2.0, 4.0]))["auc"] == 0.25


@pytest.mark.parametrize("m, n, fpr, match", [
    ([], [1.0], 0.01, "member_scores must be a non-empty"),
    ([1.0], [np.nan], 0.01, "nonmember_scores holds 1 non-finite"),
    ([1.0], [0.0], 0.0, "fpr must lie strictly between 0 and 1"),
    ([1.0], [0.0], 1.5, "fpr must be in"),
])
def test_attack_metrics_bad_input(m, n, fpr, match):
    with pytest.raises(ValueError, match=match):
        privacy.attack_metrics(np.asarray(m), np.asarray(n), fpr=fpr)


def test_membership_scores_are_cosines_of_each_pair(corpus):
    lm = create_lab_model("uim-base", seed=0)
    t = corpus.table.iloc[:20]
    s = privacy.membership_scores(lm, corpus.world, t)
    assert s.shape == (20,) and np.all(np.abs(s) <= 1 + 1e-5)
    assert np.array_equal(s, privacy.membership_scores(lm, corpus.world, t))
    # a pair scored alone scores the same as within the table
    assert np.isclose(privacy.membership_scores(lm, corpus.world, t.iloc[[7]])[0], s[7], atol=1e-5)
    with pytest.raises(ValueError, match="no pair to score"):
        privacy.membership_scores(lm, corpus.world, t.iloc[:0])


def test_exact_duplicates_keeps_the_first_copy(corpus):
    dup, _ = privacy.duplicated_corpus(corpus, (3, 4), 5, seed=1)
    keep = privacy.exact_duplicates(dup.table)
    assert keep.sum() == len(corpus)
    kept = dup.table[keep]
    assert not kept.duplicated(subset=list(privacy.PAIR_KEYS)).any()
    with pytest.raises(ValueError, match="lacks the columns"):
        privacy.exact_duplicates(pd.DataFrame({"concept": [1]}))


def test_semdedup_removes_near_copies_and_keeps_the_hardest():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(30, 16))
    near = base[:10] + 1e-3 * rng.normal(size=(10, 16))  # near-copies of the first ten
    x = np.vstack([base, near])
    keep = privacy.semdedup(x, n_clusters=3, eps=0.01, seed=0)
    assert keep[10:30].all()  # distinct points stay
    assert (keep[:10] ^ keep[30:]).all()  # exactly one of each near-duplicate pair stays
    assert keep.sum() == 30
    assert privacy.semdedup(x, n_clusters=3, eps=0.01, seed=0).tolist() == keep.tolist()
    # one cluster, two copies: the one farther from the centroid (the "hard" one) stays
    y = np.array([[1.0, 0.0], [1.0, 1e-4], [0.0, 1.0]])
    assert privacy.semdedup(y, n_clusters=1, eps=0.01).tolist() == [True, False, True]


def test_semdedup_thresholds_one_clustering_at_every_eps():
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(size=(40, 8)), rng.normal(size=(10, 8))])
    x[40:] = x[:10] + 1e-2 * rng.normal(size=(10, 8))
    sim = privacy.semdedup_similarity(x, n_clusters=4, seed=0)
    assert sim.shape == (50,) and np.all(sim <= 1 + 1e-9)
    for eps in (1e-3, 1e-2, 0.3):
        assert privacy.semdedup(x, 4, eps, seed=0).tolist() == privacy.semdedup(x, 4, eps, similarity=sim).tolist()
    with pytest.raises(ValueError, match="one score per embedding \\(50\\)"):
        privacy.semdedup(x, 4, 0.1, similarity=sim[:3])


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_clusters=0, eps=0.1), "n_clusters must be an integer in \\[1, 4\\]"),
    (dict(n_clusters=2, eps=0.0), "eps must be > 0"),
    (dict(n_clusters=2, eps=1.5), "eps must be in"),
])
def test_semdedup_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        privacy.semdedup(np.eye(4), **kwargs)
    with pytest.raises(ValueError, match="no zero row"):
        privacy.semdedup(np.zeros((3, 2)), 1, 0.1)


def test_lookalike_ranks_of_an_untrained_model_sit_near_one_half():
    from uim_utils import lab
    from uim_utils.chapters import duplication as du

    world, _, _, targets = du.corpora(7)
    lm = create_lab_model(lab.MODEL, seed=0)
    ranks = privacy.lookalike_ranks(lm, world, targets.iloc[:60], 19, seed=[7, 2])
    assert list(ranks.columns) == ["row", "k", "outranked"] and len(ranks) == 60
    assert ranks["outranked"].between(0, 1).all() and abs(ranks["outranked"].mean() - 0.5) < 0.15
    assert ranks.equals(privacy.lookalike_ranks(lm, world, targets.iloc[:60], 19, seed=[7, 2]))
    assert not ranks.equals(privacy.lookalike_ranks(lm, world, targets.iloc[:60], 19, seed=[7, 3]))
    with pytest.raises(ValueError, match="targets holds no pair"):
        privacy.lookalike_ranks(lm, world, targets.iloc[:0], 19, seed=7)
    with pytest.raises(ValueError, match="n_lookalikes must be an integer >= 1, got 0"):
        privacy.lookalike_ranks(lm, world, targets.iloc[:60], 0, seed=7)
    with pytest.raises(ValueError, match="each part of seed must be an integer in .*got -1"):
        privacy.lookalike_ranks(lm, world, targets.iloc[:60], 19, seed=[7, -1])
