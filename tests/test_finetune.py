"""Fine-tuning a lab CLIP into a classifier: zero-shot head, probe, fine-tuning, WiSE-FT."""

import numpy as np
import pytest
import torch

from uim_utils import evaluate as ev
from uim_utils.finetune import FinetuneConfig, ImageClassifier, finetune, interpolate, predict, probe_head
from uim_utils.models import create_lab_model
from uim_utils.world import ConceptWorld, WorldConfig

FAST = FinetuneConfig(lr=3e-3, epochs=5, batch_size=16, warmup_steps=2)


@pytest.fixture(scope="module")
def setup():
    world = ConceptWorld(WorldConfig(n_concepts=4, seed=0))
    x, y = world.sample(16, "photo", seed=1)
    return create_lab_model("uim-base", seed=0), world, x, y


def _bn_stats(clf: ImageClassifier) -> list[torch.Tensor]:
    return [b.clone() for name, b in clf.encoder.named_buffers() if name.endswith("running_mean")]


def test_the_zero_shot_classifier_is_clip_zero_shot(setup):
    lm, world, x, _ = setup
    clf = ImageClassifier.zero_shot(lm, world.classnames)
    expected = ev.zero_shot_classify(lm, world.classnames, ev.encode_images(lm, x), learned_scale=True)
    assert np.array_equal(predict(clf, x), expected.argmax(1))
    scale = float(lm.model.logit_scale.detach().exp())
    assert torch.allclose(clf.head.weight.norm(dim=1), torch.full((4,), scale), rtol=1e-5)
    assert torch.count_nonzero(clf.head.bias) == 0


def test_finetuning_learns_repeats_and_leaves_the_source_alone(setup):
    lm, world, x, y = setup
    zs = ImageClassifier.zero_shot(lm, world.classnames)
    before = {k: v.clone() for k, v in zs.state_dict().items()}
    a, b = finetune(zs, x, y, FAST), finetune(zs, x, y, FAST)
    assert all(torch.equal(before[k], v) for k, v in zs.state_dict().items())  # a copy was trained
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())  # same seed, same weights
    assert (predict(a, x) == y).mean() > (predict(zs, x) == y).mean()
    other = finetune(zs, x, y, FinetuneConfig(lr=3e-3, epochs=5, batch_size=16, warmup_steps=2, seed=1))
    assert not torch.equal(other.head.weight, a.head.weight)


def test_frozen_encoder_and_frozen_batchnorm(setup):
    lm, world, x, y = setup
    zs = ImageClassifier.zero_shot(lm, world.classnames)
    probe = finetune(zs, x, y, FinetuneConfig(lr=1e-2, epochs=2, batch_size=16, freeze_encoder=True))
    assert all(torch.equal(p, q) for p, q in zip(zs.encoder.parameters(), probe.encoder.parameters()))
    assert not torch.equal(zs.head.weight, probe.head.weight)
    kept = finetune(zs, x, y, FAST)  # freeze_bn=True by default
    assert all(torch.equal(s, t) for s, t in zip(_bn_stats(zs), _bn_stats(kept)))
    moved = finetune(zs, x, y, FinetuneConfig(lr=3e-3, epochs=5, batch_size=16, warmup_steps=2, freeze_bn=False))
    assert not all(torch.equal(s, t) for s, t in zip(_bn_stats(zs), _bn_stats(moved)))


def test_interpolation_ends_are_the_two_models_and_the_middle_is_the_mean(setup):
    lm, world, x, y = setup
    zs = ImageClassifier.zero_shot(lm, world.classnames)
    ft = finetune(zs, x, y, FAST)
    for alpha, ref in ((0.0, zs), (1.0, ft)):
        mixed = interpolate(zs, ft, alpha).state_dict()
        assert all(torch.allclose(v, mixed[k]) for k, v in ref.state_dict().items())
    half = interpolate(zs, ft, 0.5)
    assert torch.allclose(half.head.weight, (zs.head.weight + ft.head.weight) / 2)
    for bad in (-0.1, 1.5, True):
        with pytest.raises(ValueError, match="alpha must be in \\[0, 1\\]"):
            interpolate(zs, ft, bad)
    narrow = ImageClassifier.from_head(lm, np.ones((3, zs.head.in_features)), np.zeros(3))
    with pytest.raises(ValueError, match="not the same architecture"):
        interpolate(zs, narrow, 0.5)


def test_probe_head_gives_an_lp_ft_start(setup):
    lm, world, x, y = setup
    zs = ImageClassifier.zero_shot(lm, world.classnames)
    w, b = probe_head(zs, x, y, C=10.0)
    assert w.shape == (4, zs.head.in_features) and b.shape == (4,)
    lp = ImageClassifier.from_head(lm, w, b)
    assert (predict(lp, x) == y).mean() >= 0.5  # a probe fits its own training set
    with pytest.raises(ValueError, match="every one of the 4 classes"):
        probe_head(zs, x[y < 3], y[y < 3])
    with pytest.raises(ValueError, match="C must be > 0"):
        probe_head(zs, x, y, C=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0), "lr must be in"), (dict(lr=2.0), "lr must be in"), (dict(epochs=0), "epochs"),
    (dict(batch_size=1), "batch_size"), (dict(weight_decay=-1), "weight_decay"), (dict(warmup_steps=-1), "warmup"),
])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FinetuneConfig(**kwargs)


def test_bad_training_sets_are_named(setup):
    lm, world, x, y = setup
    zs = ImageClassifier.zero_shot(lm, world.classnames)
    with pytest.raises(ValueError, match="labels must be in \\[0, 3\\]"):
        finetune(zs, x, y + 1, FAST)
    with pytest.raises(ValueError, match="one label per image"):
        finetune(zs, x, y[:-1], FAST)
    with pytest.raises(ValueError, match="uint8 of shape"):
        finetune(zs, x.astype(np.float32), y, FAST)
    with pytest.raises(ValueError, match="fewer than batch_size=128"):
        finetune(zs, x[:10], y[:10])
    with pytest.raises(ValueError, match="head weight must be"):
        ImageClassifier.from_head(lm, np.ones(5), np.zeros(5))
    with pytest.raises(ValueError, match="non-empty"):
        predict(zs, x[:0])
