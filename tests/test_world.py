"""The concept world: rendering, names, captions, validation."""

import numpy as np
import pytest

from uim_utils.world import BACKGROUNDS, DOMAINS, ConceptWorld, WorldConfig


@pytest.fixture(scope="module")
def world() -> ConceptWorld:
    return ConceptWorld(WorldConfig(n_concepts=12, seed=3))


def test_render_shape_dtype_and_determinism(world):
    c = np.arange(12)
    a = world.render(c, 0, 0, np.arange(12))
    b = world.render(c, 0, 0, np.arange(12))
    assert a.shape == (12, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)


def test_sample_renders_the_same_in_any_batch(world):
    """Per-sample randomness depends on the sample's own seed only (so duplicates are identical)."""
    seeds = np.array([5, 6, 7, 8])
    full = world.render([0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 0, 1], seeds)
    alone = world.render([2], [2], [0], [7])
    assert np.array_equal(full[2], alone[0])
    small_chunks = world.render([0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 0, 1], seeds, chunk=1)
    assert np.array_equal(full, small_chunks)


def test_within_class_variation_and_between_class_difference(world):
    same = world.render([0, 0], 0, 0, [1, 2]).astype(float)
    assert np.abs(same[0] - same[1]).mean() > 5  # different seeds: different positions etc.
    x, y = world.sample(20, "photo", seed=0)
    means = np.stack([x[y == k].reshape(20, -1).mean(0) for k in range(12)])
    # class-mean images differ more between classes than seed noise would explain
    d = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert d[~np.eye(12, dtype=bool)].min() > 0


def test_domains_look_different(world):
    imgs = [world.render([4], d, 0, [9]).astype(float) for d in range(len(DOMAINS))]
    for i in range(len(DOMAINS)):
        for j in range(i + 1, len(DOMAINS)):
            assert np.abs(imgs[i] - imgs[j]).mean() > 10, (DOMAINS[i], DOMAINS[j])
    sketch = imgs[DOMAINS.index("sketch")][0]
    assert sketch.mean() > 150  # mostly light paper


def test_trigger_and_corrupt_flags(world):
    clean = world.render([1], 0, 0, [3])
    trig = world.render([1], 0, 0, [3], trigger=[True])
    s = 32
    diff = np.abs(clean.astype(int) - trig.astype(int)).sum(-1)[0]
    assert diff[: s - 6].sum() == 0 and diff[s - 6:, s - 6:].sum() > 0  # only the corner changes
    corrupt = world.render([1], 0, 0, [3], corrupt=[True])
    assert np.abs(corrupt.astype(float) - clean).mean() > 20


def test_names_unique_and_captions_name_the_concept(world):
    flat = [n for row in world.names for n in row]
    assert len(flat) == len(set(flat)) == 12 * 3
    rng = np.random.default_rng(0)
    caps, idx = world.captions(np.arange(12), np.zeros(12, int), np.zeros(12, int), rng)
    for c, (cap, i) in enumerate(zip(caps, idx)):
        assert world.names[c][i] in cap
    assert np.allclose(world.name_probs.sum(1), 1)
    assert world.most_common_names[0] == world.names[0][int(np.argmax(world.name_probs[0]))]


def test_sample_is_balanced_and_disjoint_from_corpus_seeds(world):
    x, y = world.sample(3, "sketch", seed=1)
    assert np.bincount(y).tolist() == [3] * 12
    x2, _ = world.sample(3, "sketch", seed=2)
    assert not np.array_equal(x, x2)


@pytest.mark.parametrize("kwargs, word", [
    ({"n_concepts": 1}, "n_concepts"),
    ({"n_concepts": 10_000}, "n_concepts"),
    ({"image_size": 8}, "image_size"),
    ({"n_names": 0}, "n_names"),
    ({"synonym_concentration": -1.0}, "synonym_concentration"),
    ({"seed": -3}, "seed"),
])
def test_bad_world_config(kwargs, word):
    with pytest.raises(ValueError, match=word):
        WorldConfig(**kwargs)


def test_bad_render_input(world):
    with pytest.raises(ValueError, match="concept index 12"):
        world.render([12], 0, 0, [0])
    with pytest.raises(ValueError, match="domain"):
        world.render([0], 7, 0, [0])
    with pytest.raises(ValueError, match="background"):
        world.render([0], 0, len(BACKGROUNDS), [0])
    with pytest.raises(ValueError, match="unknown domain 'cartoon'"):
        world.sample(2, "cartoon")


def test_the_pixels_are_pinned():
    """Cached models are keyed by the corpus's settings, not its pixels: a renderer change
    that moved a single pixel would silently make every cached model stale. This hash
    was taken from the renderer before its channels-first rewrite (2026-12-02), which had
    to reproduce it bit for bit; change it only together with a bump of
    ``uim_utils.pretrain.TRAINING_VERSION``."""
    import hashlib

    from uim_utils.world import ConceptWorld, WorldConfig

    w = ConceptWorld(WorldConfig(seed=1000))
    n = 400
    rng = np.random.default_rng(5)
    im = w.render(rng.integers(0, w.n_concepts, n), np.arange(n) % 4, rng.integers(0, 2, n),
                  rng.integers(0, 2**40, n), trigger=rng.random(n) < 0.1, corrupt=rng.random(n) < 0.05)
    assert hashlib.sha256(im.tobytes()).hexdigest() == (
        "6d0284856f1d83af182e54dc9b4ffb8d932f0a3c79a82ca2feee5bd5ee23eb4e")
