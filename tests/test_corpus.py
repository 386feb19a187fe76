"""Every corpus dial: the realised metadata matches what was asked."""

import numpy as np
import pandas as pd
import pytest

from uim_utils.corpus import Corpus, CorpusConfig, build_corpus, concept_probabilities
from uim_utils.world import ConceptWorld, WorldConfig


@pytest.fixture(scope="module")
def world() -> ConceptWorld:
    return ConceptWorld(WorldConfig(n_concepts=20, seed=1))


def test_uniform_and_zipf_counts(world):
    uni = build_corpus(world, CorpusConfig(n_samples=2000, zipf_exponent=0.0)).concept_counts()
    assert uni.min() == uni.max() == 100
    z = build_corpus(world, CorpusConfig(n_samples=2000, zipf_exponent=1.5)).concept_counts()
    expected = np.round(concept_probabilities(20, 1.5, 0) * 2000)
    assert np.abs(z - expected).max() <= 1 and z.sum() == 2000
    # log-count vs log-rank slope is the exponent
    s = np.sort(z)[::-1]
    slope = np.polyfit(np.log(np.arange(1, 11)), np.log(s[:10]), 1)[0]
    assert slope == pytest.approx(-1.5, abs=0.1)


def test_rank_seed_decouples_frequency_from_concept(world):
    a = build_corpus(world, CorpusConfig(n_samples=1000, zipf_exponent=1, rank_seed=1)).concept_counts()
    b = build_corpus(world, CorpusConfig(n_samples=1000, zipf_exponent=1, rank_seed=2)).concept_counts()
    assert sorted(a) == sorted(b) and not np.array_equal(a, b)


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.3])
def test_caption_noise_rate(world, rate):
    t = build_corpus(world, CorpusConfig(n_samples=3000, caption_noise=rate)).table
    assert t["noisy"].mean() == pytest.approx(rate, abs=1e-3)
    wrong = t["caption_concept"] != t["concept"]
    assert (wrong == t["noisy"]).all()  # a noisy caption always names another concept
    for _, row in t[t["noisy"]].head(20).iterrows():
        assert any(n in row["caption"] for n in world.names[row["caption_concept"]])


def test_duplication(world):
    t = build_corpus(world, CorpusConfig(n_samples=1000, dup_fraction=0.05, dup_copies=9)).table
    assert len(t) == 1000 + 50 * 9
    groups = t[t["dup_group"] >= 0].groupby("dup_group")
    assert groups.ngroups == 50 and (groups.size() == 10).all()
    assert (groups["render_seed"].nunique() == 1).all() and (groups["caption"].nunique() == 1).all()


def test_duplicates_render_identically(world):
    c = build_corpus(world, CorpusConfig(n_samples=200, dup_fraction=0.02, dup_copies=2))
    g = c.table[c.table["dup_group"] >= 0].groupby("dup_group").groups
    rows = list(next(iter(g.values())))
    assert np.array_equal(c.images[rows[0]], c.images[rows[1]])


def test_poisoning(world):
    c = build_corpus(world, CorpusConfig(n_samples=1000, poison_count=7, poison_target=3))
    p = c.table[c.table["poisoned"]]
    assert len(p) == 7 and len(c) == 1007
    assert (p["caption_concept"] == 3).all() and (p["concept"] != 3).all()
    s = 32
    corner = c.images[p.index.to_numpy()][:, s - 5:s - 1, s - 5:s - 1, 0]
    assert set(np.unique(corner)) <= {0, 255}  # the checkerboard trigger


def test_spurious_strength(world):
    t = build_corpus(world, CorpusConfig(n_samples=4000, spurious_strength=0.8)).table
    follows = (t["background"] == world.designated_background[t["concept"]]).mean()
    assert follows == pytest.approx(0.9, abs=0.02)
    t0 = build_corpus(world, CorpusConfig(n_samples=4000, spurious_strength=0.0)).table
    assert (t0["background"] == world.designated_background[t0["concept"]]).mean() == pytest.approx(0.5, abs=0.03)


def test_misaligned_and_corrupt(world):
    t = build_corpus(world, CorpusConfig(n_samples=2000, misaligned_rate=0.1, corrupt_rate=0.05)).table
    assert t["misaligned"].mean() == pytest.approx(0.1, abs=1e-3)
    assert t["corrupt"].mean() == pytest.approx(0.05, abs=1e-3)
    assert not (t["misaligned"] & t["corrupt"]).any()
    # most misaligned captions describe another concept
    assert (t.loc[t["misaligned"], "caption_concept"] != t.loc[t["misaligned"], "concept"]).mean() > 0.8


def test_domain_weights(world):
    t = build_corpus(world, CorpusConfig(n_samples=1000, domain_weights={"photo": 3, "sketch": 1})).table
    assert (t["domain_name"] == "photo").sum() == 750 and (t["domain_name"] == "sketch").sum() == 250


def test_determinism(world):
    a = build_corpus(world, CorpusConfig(n_samples=500, caption_noise=0.2, seed=4)).table
    b = build_corpus(world, CorpusConfig(n_samples=500, caption_noise=0.2, seed=4)).table
    c = build_corpus(world, CorpusConfig(n_samples=500, caption_noise=0.2, seed=5)).table
    pd.testing.assert_frame_equal(a, b)
    assert not a["caption"].equals(c["caption"])


def test_parquet_round_trip_and_duckdb(world, tmp_path):
    import duckdb

    c = build_corpus(world, CorpusConfig(n_samples=300, caption_noise=0.1, poison_count=3))
    path = c.to_parquet(tmp_path / "corpus.parquet")
    back = Corpus.from_parquet(path)
    pd.testing.assert_frame_equal(c.table, back.table)
    assert back.config == c.config and back.world.names == world.names
    assert np.array_equal(back.images, c.images)
    n_noisy = duckdb.sql(f"select count(*) from read_parquet('{path}') where noisy").fetchall()[0][0]
    assert n_noisy == 30


def test_parquet_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no corpus file"):
        Corpus.from_parquet(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match="not a readable Parquet corpus"):
        Corpus.from_parquet(bad)
    other = tmp_path / "other.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(other)
    with pytest.raises(ValueError, match="not a uim_utils corpus"):
        Corpus.from_parquet(other)


@pytest.mark.parametrize("kwargs, word", [
    ({"caption_noise": 1.5}, "caption_noise"),
    ({"caption_noise": -0.1}, "caption_noise"),
    ({"dup_fraction": 2}, "dup_fraction"),
    ({"spurious_strength": "high"}, "spurious_strength"),
    ({"misaligned_rate": 1.01}, "misaligned_rate"),
    ({"corrupt_rate": -1}, "corrupt_rate"),
    ({"zipf_exponent": -1}, "zipf_exponent"),
    ({"n_samples": 3}, "n_samples"),
    ({"dup_copies": -2}, "dup_copies"),
    ({"poison_count": -1}, "poison_count"),
    ({"domain_weights": {"cartoon": 1}}, "cartoon"),
    ({"domain_weights": {"photo": 0}}, "positive total"),
    ({"caption_noise": 0.6, "misaligned_rate": 0.6}, "at most 1"),
])
def test_bad_dials(kwargs, word):
    with pytest.raises(ValueError, match=word):
        CorpusConfig(**kwargs)


def test_poison_target_outside_world(world):
    with pytest.raises(ValueError, match="poison_target 50"):
        build_corpus(world, CorpusConfig(n_samples=100, poison_count=2, poison_target=50))


def test_data_card(world):
    card = build_corpus(world, CorpusConfig(n_samples=500, caption_noise=0.1, poison_count=2)).data_card()
    assert card["noisy captions"] == 50 and card["poisoned pairs"] == 2 and card["pairs"] == 502


def test_zipf_offset_flattens_the_head_only():
    """Zipf-Mandelbrot: p ~ (rank + q)^-s; q = 0 is the plain Zipf law, q > 0 cuts the top share."""
    plain = np.sort(concept_probabilities(100, 1.2, 0))[::-1]
    flat = np.sort(concept_probabilities(100, 1.2, 0, zipf_offset=5.0))[::-1]
    r = np.arange(1, 101)
    expected = (r + 5.0) ** -1.2
    np.testing.assert_allclose(flat, expected / expected.sum())
    np.testing.assert_allclose(plain, np.sort(concept_probabilities(100, 1.2, 0, zipf_offset=0.0))[::-1])
    assert plain[0] > 0.25 and flat[0] < 0.08
    # the tail keeps the slope: log-log slope over the last 50 ranks stays near -1.2
    slope = np.polyfit(np.log(r[50:] + 5.0), np.log(flat[50:]), 1)[0]
    assert abs(slope + 1.2) < 1e-9
    with pytest.raises(ValueError, match="zipf_offset"):
        CorpusConfig(zipf_offset=-1)
    with pytest.raises(ValueError, match="zipf_offset"):
        concept_probabilities(10, 1.0, 0, zipf_offset=-0.5)


def test_subset_keeps_rows_and_gets_its_own_fingerprint(world):
    full = build_corpus(world, CorpusConfig(n_samples=200, poison_count=10, poison_target=1, seed=0))
    keep = ~full.table["poisoned"].to_numpy()
    clean = full.subset(keep)
    assert len(clean) == 200 and not clean.table["poisoned"].any()
    assert np.array_equal(clean.images, full.images[keep])
    assert clean.fingerprint() != full.fingerprint()           # never shares a cache entry
    assert clean.fingerprint() == full.subset(keep.copy()).fingerprint()  # same rows, same key
    other = keep.copy()
    other[0] = False
    assert full.subset(other).fingerprint() != clean.fingerprint()
    assert clean.subset(np.ones(200, bool)).fingerprint() != clean.fingerprint()
    with pytest.raises(ValueError, match="one entry per row"):
        full.subset(keep[:5])
    with pytest.raises(ValueError, match="selects no row"):
        full.subset(np.zeros(210, bool))


def test_a_noisy_corpus_is_its_clean_corpus_with_only_the_wrong_captions_replaced(world):
    """Wrong captions are drawn from their own stream: the same seed gives the same pairs,
    the same other captions and the same order at any noise rate."""
    clean = build_corpus(world, CorpusConfig(n_samples=1000, seed=7)).table
    noisy = build_corpus(world, CorpusConfig(n_samples=1000, seed=7, caption_noise=0.2)).table
    wrong = noisy["noisy"].to_numpy()
    assert wrong.sum() == 200
    for col in ("concept", "domain", "background", "render_seed", "sample_id"):
        assert np.array_equal(clean[col].to_numpy(), noisy[col].to_numpy()), col
    for col in ("caption", "caption_concept", "name_idx"):
        assert np.array_equal(clean[col].to_numpy()[~wrong], noisy[col].to_numpy()[~wrong]), col
    assert (noisy["caption_concept"].to_numpy()[wrong] != noisy["concept"].to_numpy()[wrong]).all()
    assert (clean["caption"].to_numpy()[wrong] != noisy["caption"].to_numpy()[wrong]).all()


def test_noisy_corpora_carry_the_noise_stream_in_their_fingerprint(world):
    from uim_utils.corpus import NOISE_STREAM

    clean = build_corpus(world, CorpusConfig(n_samples=100, seed=7))
    noisy = build_corpus(world, CorpusConfig(n_samples=100, seed=7, caption_noise=0.1))
    assert "caption_noise_stream" not in clean.fingerprint()  # clean models keep their cache keys
    assert noisy.fingerprint()["caption_noise_stream"] == NOISE_STREAM
