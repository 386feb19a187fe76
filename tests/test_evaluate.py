"""Evaluation functions on cases with known answers."""

import numpy as np
import pytest
import torch

from uim_utils import evaluate as ev
from uim_utils.models import create_lab_model


def test_accuracy_and_per_class():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 0, 0])
    assert ev.accuracy(y, p) == pytest.approx(0.5)
    pc = ev.per_class_accuracy(y, p, 4)
    assert pc[:3].tolist() == [0.5, 1.0, 0.0] and np.isnan(pc[3])
    with pytest.raises(ValueError, match="shapes"):
        ev.accuracy(y, p[:3])


def test_zero_shot_logits_pick_the_nearest_class():
    head = np.eye(3, dtype=np.float32)
    feats = np.array([[0.1, 2.0, 0.0], [5.0, 0.0, 0.1]], np.float32)
    assert ev.zero_shot_logits(feats, head).argmax(1).tolist() == [1, 0]
    with pytest.raises(ValueError, match="dim"):
        ev.zero_shot_logits(feats, np.eye(4))


def test_encode_texts_encodes_repeated_texts_once_and_spreads_them_back():
    lm = create_lab_model("uim-tiny", seed=0)
    texts = ["a kefe.", "a sovubu.", "a kefe.", "a lovogu.", "a sovubu."]
    emb = ev.encode_texts(lm, texts)
    distinct = ev.encode_texts(lm, ["a kefe.", "a sovubu.", "a lovogu."])
    assert emb.shape == (5, 64)
    assert np.array_equal(emb, distinct[[0, 1, 0, 2, 1]])
    assert np.allclose(emb[1], ev.encode_texts(lm, ["a sovubu."])[0], atol=1e-6)
    with pytest.raises(ValueError, match="no texts"):
        ev.encode_texts(lm, [])


def test_zero_shot_head_ensembles_prompts():
    lm = create_lab_model("uim-tiny", seed=0)
    head = ev.zero_shot_head(lm, ["sovubu", ["kefe", "lovogu"]], templates=("a {}.", "a photo of a {}."))
    assert head.shape == (2, 64)
    assert np.allclose(np.linalg.norm(head, axis=1), 1, atol=1e-5)
    single = ev.encode_texts(lm, ["a sovubu.", "a photo of a sovubu."]).mean(0)
    assert np.allclose(head[0], single / np.linalg.norm(single), atol=1e-5)
    with pytest.raises(ValueError, match="empty class name"):
        ev.zero_shot_head(lm, ["ok", " "])


def test_zero_shot_classify_is_head_then_logits_for_one_or_several_feature_sets():
    lm = create_lab_model("uim-tiny", seed=0)
    rng = np.random.default_rng(0)
    f1, f2 = rng.normal(size=(4, 64)).astype(np.float32), rng.normal(size=(3, 64)).astype(np.float32)
    names = ["sovubu", "kefe", "lovogu"]
    head = ev.zero_shot_head(lm, names)
    one = ev.zero_shot_classify(lm, names, f1)
    assert np.array_equal(one, ev.zero_shot_logits(f1, head, scale=100.0))
    both = ev.zero_shot_classify(lm, names, [f1, f2])
    assert isinstance(both, list) and np.array_equal(both[0], one) and both[1].shape == (3, 3)
    learned = ev.zero_shot_classify(lm, names, f1, learned_scale=True)
    scale = float(lm.model.logit_scale.exp().item())
    assert np.array_equal(learned, ev.zero_shot_logits(f1, head, scale=scale))
    tpl = ev.zero_shot_classify(lm, names, f1, templates=("a {}.",))
    assert np.array_equal(tpl, ev.zero_shot_logits(f1, ev.zero_shot_head(lm, names, ("a {}.",))))
    with pytest.raises(ValueError, match="classnames is empty"):
        ev.zero_shot_classify(lm, [], f1)


def test_encode_images_accepts_arrays_tensors_and_loaders():
    lm = create_lab_model("uim-tiny", seed=0)
    x = np.random.default_rng(0).integers(0, 255, (5, 32, 32, 3), dtype=np.uint8)
    a = ev.encode_images(lm, x, batch_size=2)
    from uim_utils.models import lab_to_tensor

    t = lab_to_tensor(x)
    b = ev.encode_images(lm, t, batch_size=3)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(t, torch.zeros(5)), batch_size=2)
    c = ev.encode_images(lm, loader)
    assert a.shape == (5, 64) and np.allclose(a, b, atol=1e-5) and np.allclose(a, c, atol=1e-5)


def test_linear_probe_separable_data():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 8)) * 5
    y = np.repeat(np.arange(3), 50)
    x = centers[y] + rng.normal(size=(150, 8))
    _, (pred,) = ev.linear_probe(x[::2], y[::2], x[1::2])
    assert ev.accuracy(y[1::2], pred) > 0.95


def test_spectrum_stats_known_answers():
    rng = np.random.default_rng(0)
    iso = rng.normal(size=(4000, 8))
    s_iso = ev.spectrum_stats(iso, top_k=1)
    assert s_iso["entropy"] == pytest.approx(np.log(8), abs=0.02)  # flat spectrum: max entropy
    rank1 = np.outer(rng.normal(size=500), rng.normal(size=8)) + 1e-6 * rng.normal(size=(500, 8))
    s1 = ev.spectrum_stats(rank1, top_k=1)
    assert s1["largest_share"] > 0.99 and s1["entropy"] < 0.1
    with pytest.raises(ValueError, match="2-D"):
        ev.spectrum_stats(np.ones(5))
