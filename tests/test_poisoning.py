"""Tests of uim_utils.poisoning: known answers on tiny inputs, and bad input."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from uim_utils import poisoning as PZ
from uim_utils.corpus import CorpusConfig, build_corpus
from uim_utils.models import create_lab_model, load_model
from uim_utils.offline import OfflineError
from uim_utils.world import ConceptWorld, WorldConfig


@pytest.fixture(scope="module")
def world() -> ConceptWorld:
    return ConceptWorld(WorldConfig(n_concepts=6, seed=1))


def test_attack_success_known_answer() -> None:
    assert PZ.attack_success(np.array([2, 0, 2, 1]), 2).tolist() == [1.0, 0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="non-empty 1-D"):
        PZ.attack_success(np.array([]), 0)


def test_trigger_test_set_excludes_target_and_differs_only_in_patch(world: ConceptWorld) -> None:
    ts = PZ.trigger_test_set(world, 3, target=2, seed=0)
    assert len(ts.labels) == 5 * 3 and 2 not in set(ts.labels.tolist())
    diff = np.any(ts.clean != ts.triggered, axis=-1)  # (N, S, S)
    s = world.config.image_size
    assert diff.any(axis=(1, 2)).all()  # every image got the patch
    assert not diff[:, : s // 2, :].any() and not diff[:, :, : s // 2].any()  # only bottom-right
    again = PZ.trigger_test_set(world, 3, target=2, seed=0)
    assert np.array_equal(again.triggered, ts.triggered)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_per_class=2, target=6, seed=0), "target"),
    (dict(n_per_class=2, target=-1, seed=0), "target"),
    (dict(n_per_class=0, target=1, seed=0), "n_per_class"),
    (dict(n_per_class=2, target=1, seed=0, domain="cartoon"), "cartoon"),
])
def test_trigger_test_set_bad_input(world: ConceptWorld, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PZ.trigger_test_set(world, **kwargs)


def test_audit_report_known_answer() -> None:
    scores = np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.7])
    truth = np.array([True, False, False, False, True, False])
    r = PZ.audit_report(scores, truth, flag_fraction=0.5)  # flags 0.1, 0.2, 0.3
    assert r["flagged"] == 3
    assert r["precision"] == pytest.approx(2 / 3)
    assert r["recall"] == 1.0
    assert r["prevalence"] == pytest.approx(1 / 3)
    assert r["roc_auc"] == pytest.approx(7 / 8)  # one clean pair (0.2) outranks poisoned 0.3


@pytest.mark.parametrize("kwargs, match", [
    (dict(scores=np.ones(3), is_poisoned=np.array([True, False]), flag_fraction=0.5), "equal"),
    (dict(scores=np.ones(2), is_poisoned=np.array([True, False]), flag_fraction=0.0), "flag_fraction"),
    (dict(scores=np.ones(2), is_poisoned=np.array([False, False]), flag_fraction=0.5), "both classes"),
])
def test_audit_report_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PZ.audit_report(**kwargs)


def test_augment_captions_keep_the_name(world: ConceptWorld) -> None:
    corpus = build_corpus(world, CorpusConfig(n_samples=40, poison_count=4, poison_target=1, seed=0))
    aug = PZ.augment_captions(corpus, seed=0)
    t = corpus.table
    assert len(aug) == len(t)
    for a, c, i in zip(aug, t["caption_concept"], t["name_idx"]):
        assert world.names[c][i] in a.split(" ") or world.names[c][i] + "." in a.split(" ")
    assert aug != corpus.captions  # some templates changed
    assert PZ.augment_captions(corpus, seed=0) == aug


def test_image_augmenter_shape_and_per_image_draws() -> None:
    torch.manual_seed(0)
    x = torch.arange(3 * 8 * 8, dtype=torch.float32).reshape(1, 3, 8, 8).repeat(16, 1, 1, 1)
    y = PZ.image_augmenter(8)(x)
    assert y.shape == x.shape
    assert len({tuple(v.flatten().tolist()) for v in y}) > 1  # not one draw for the batch


def test_cleanclip_extra_loss_is_finite_and_differentiable(world: ConceptWorld) -> None:
    lm = create_lab_model("uim-tiny", seed=0)
    corpus = build_corpus(world, CorpusConfig(n_samples=16, seed=0))
    tokens = lm.tokenizer(corpus.captions)
    aug = lm.tokenizer(PZ.augment_captions(corpus, 0))
    from uim_utils.models import lab_to_tensor

    x = lab_to_tensor(corpus.images[:8])
    loss = PZ.cleanclip_extra_loss(aug, 1.0, PZ.image_augmenter(32))(lm.model, x, tokens[:8], np.arange(8))
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()
    assert lm.model.visual.conv1.weight.grad is not None
    with pytest.raises(ValueError, match="weight"):
        PZ.cleanclip_extra_loss(aug, 0.0, PZ.image_augmenter(32))


def test_cleanclip_extra_loss_reuses_the_step_features(world: ConceptWorld) -> None:
    """Passing the forward pass's features gives the same loss as encoding again."""
    from uim_utils.models import lab_to_tensor

    lm = create_lab_model("uim-tiny", seed=0)
    lm.model.eval()
    corpus = build_corpus(world, CorpusConfig(n_samples=16, seed=0))
    tokens = lm.tokenizer(corpus.captions)[:8]
    extra = PZ.cleanclip_extra_loss(lm.tokenizer(PZ.augment_captions(corpus, 0)), 2.0, PZ.image_augmenter(32))
    x = lab_to_tensor(corpus.images[:8])
    with torch.no_grad():
        img, txt = lm.model(x, tokens)[:2]
        torch.manual_seed(5)
        reused = extra(lm.model, x, tokens, np.arange(8), img, txt)
        torch.manual_seed(5)
        fresh = extra(lm.model, x, tokens, np.arange(8))
        torch.manual_seed(5)
        wrong = extra(lm.model, x, tokens, np.arange(8), img.roll(1, dims=0), txt)
    assert torch.allclose(reused, fresh, atol=1e-5)
    assert not torch.allclose(wrong, fresh, atol=1e-3)


def test_finetune_config_bad_input() -> None:
    with pytest.raises(ValueError, match="dropout"):
        PZ.FinetuneConfig(method="dropout")
    with pytest.raises(ValueError, match="weight"):
        PZ.FinetuneConfig(weight=-1.0)
    with pytest.raises(ValueError, match="epochs"):
        PZ.FinetuneConfig(epochs=0).train_config("uim-tiny")


def test_finetune_changes_a_copy_and_caches(world: ConceptWorld, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("UIM_CACHE", str(tmp_path))
    lm = create_lab_model("uim-tiny", seed=0)
    before = {k: v.clone() for k, v in lm.model.state_dict().items()}
    clean = build_corpus(world, CorpusConfig(n_samples=64, seed=3))
    cfg = PZ.FinetuneConfig(method="cleanclip", epochs=1, batch_size=32, seed=0)
    out = PZ.finetune(lm, "base", clean, cfg, progress=False)
    assert all(torch.equal(v, lm.model.state_dict()[k]) for k, v in before.items())
    w = "visual.conv1.weight"
    assert not torch.equal(out.model.state_dict()[w], before[w])
    again = PZ.finetune(lm, "base", clean, cfg, progress=False)  # from the cache
    assert torch.equal(again.model.state_dict()[w], out.model.state_dict()[w])
    assert list((tmp_path / PZ.CACHE_NAMESPACE).glob("*.safetensors"))
    poisoned = build_corpus(world, CorpusConfig(n_samples=64, poison_count=2, poison_target=0, seed=3))
    with pytest.raises(ValueError, match="2 poisoned"):
        PZ.finetune(lm, "base", poisoned, cfg, progress=False)
    with pytest.raises(ValueError, match="base_key"):
        PZ.finetune(lm, "", clean, cfg, progress=False)


def test_finetune_many_in_workers_equals_finetune_alone(world: ConceptWorld, tmp_path, monkeypatch) -> None:
    from uim_utils.pretrain import TrainConfig, pretrain

    monkeypatch.setenv("UIM_CACHE", str(tmp_path))
    base = pretrain(build_corpus(world, CorpusConfig(n_samples=64, seed=1)),
                    TrainConfig(epochs=1, batch_size=32, seed=0), progress=False)
    clean = build_corpus(world, CorpusConfig(n_samples=64, seed=3))
    cfgs = [PZ.FinetuneConfig(method=m, epochs=1, batch_size=32, seed=0) for m in PZ.METHODS]
    many = PZ.finetune_many(base.model, base.key, clean, cfgs, progress=False, workers=2)
    alone = [PZ.finetune(base.model, base.key, clean, c, use_cache=False, progress=False) for c in cfgs]
    for a, b in zip(many, alone):
        sa, sb = a.model.state_dict(), b.model.state_dict()
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(many[0].model.state_dict()["visual.conv1.weight"],
                           many[1].model.state_dict()["visual.conv1.weight"])  # two methods, two models
    with pytest.raises(ValueError, match="non-empty sequence of FinetuneConfig"):
        PZ.finetune_many(base.model, base.key, clean, [], progress=False)


def test_checkpoint_round_trip_through_load_model(tmp_path) -> None:
    """The wild code path (load_model with a local file), on a tiny lab fixture."""
    lm = create_lab_model("uim-tiny", seed=5)
    path = PZ.save_checkpoint(lm, tmp_path / "poisoned.safetensors")
    back = PZ.load_checkpoint("uim-tiny", path)
    for k, v in lm.model.state_dict().items():
        assert torch.equal(v, back.model.state_dict()[k]), k
    with pytest.raises(ValueError, match=r"\.pt"):
        PZ.save_checkpoint(lm, tmp_path / "x.pt")
    with pytest.raises(FileNotFoundError):
        PZ.load_checkpoint("uim-tiny", tmp_path / "missing.safetensors")


def test_wild_tag_fails_fast_offline(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import time

    t0 = time.perf_counter()
    with pytest.raises(OfflineError, match="offline mode"):
        load_model("ViT-B-32", "laion400m_e32")
    assert time.perf_counter() - t0 < 10


def test_pick_target_is_seeded_and_in_range() -> None:
    targets = [PZ.pick_target(s, 100) for s in range(20)]
    assert targets == [PZ.pick_target(s, 100) for s in range(20)]
    assert all(0 <= t < 100 for t in targets) and len(set(targets)) > 5
    assert PZ.pick_target(0, 100) == 45  # the chapter's seed-0 target ('suvu' in its text)
    with pytest.raises(ValueError, match="n_concepts"):
        PZ.pick_target(0, 0)
