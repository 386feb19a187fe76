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
    g = ev.group_accuracy(y, p, np.array(["a", "a", "a", "b", "b", "b"]))
    assert g == {"a": pytest.approx(2 / 3), "b": pytest.approx(1 / 3)}
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


def test_bootstrap_ci_covers_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(1)
    small = rng.normal(3, 1, 50)
    big = rng.normal(3, 1, 2000)
    est, lo, hi = ev.bootstrap_ci(small, seed=0)
    _, lo2, hi2 = ev.bootstrap_ci(big, seed=0)
    assert lo < est < hi and lo2 < 3 < hi2
    assert (hi2 - lo2) < (hi - lo) / 3
    assert ev.bootstrap_ci(small, seed=0) == (est, lo, hi)  # seeded
    acc, alo, ahi = ev.accuracy_ci(np.zeros(100, int), np.r_[np.zeros(80, int), np.ones(20, int)])
    assert acc == pytest.approx(0.8) and alo < 0.8 < ahi
    with pytest.raises(ValueError, match="at least two"):
        ev.bootstrap_ci(np.array([1.0]))


def test_paired_gain() -> None:
    before = np.array([0, 0, 1, 1, 0, 0, 1, 0], float)
    after = np.array([1, 1, 1, 1, 1, 0, 1, 1], float)
    m, lo, hi = ev.paired_gain(before, after, n_boot=500)
    assert m == pytest.approx(0.5) and 0 < lo <= m <= hi
    assert ev.paired_gain(before, before) == (0.0, 0.0, 0.0)
    assert ev.paired_gain(before, after, n_boot=500, seed=3) == ev.bootstrap_ci(after - before, n_resamples=500, seed=3)
    with pytest.raises(ValueError, match="must be equal"):
        ev.paired_gain(before, after[:4])


def test_bootstrap_table_one_row_per_group_and_measure() -> None:
    groups = {"a": {"acc": np.array([1.0, 0.0, 1.0, 1.0]), "asr": np.array([0.0, 0.0, 0.0, 1.0])},
              "b": {"acc": np.ones(4) - [0, 1, 0, 0], "asr": np.array([1.0, 1.0, 0.0, 1.0])}}
    t = ev.bootstrap_table(groups, "model", n_boot=200, seed=1)
    assert list(t.columns) == ["model", "measure", "value", "lo", "hi"]
    assert list(zip(t["model"], t["measure"])) == [("a", "acc"), ("a", "asr"), ("b", "acc"), ("b", "asr")]
    assert t["value"].tolist() == [0.75, 0.25, 0.75, 0.75]
    assert (t["lo"] <= t["value"]).all() and (t["value"] <= t["hi"]).all()
    row = t.iloc[3]
    assert (row.value, row.lo, row.hi) == ev.bootstrap_ci(groups["b"]["asr"], n_resamples=200, seed=1)


def test_mean_ci_is_a_student_t_interval_over_seeds() -> None:
    m, lo, hi = ev.mean_ci([1.0, 2.0, 3.0])
    # t(0.975, 2 df) = 4.3027, standard error 1/sqrt(3)
    assert m == 2.0 and abs(hi - m - 4.3027 / np.sqrt(3)) < 1e-3 and abs((m - lo) - (hi - m)) < 1e-12
    assert ev.mean_ci([1.0, 2.0, 3.0], confidence=0.5)[2] < hi
    assert ev.mean_ci(iter([0.5])) == (0.5, 0.5, 0.5)
    with pytest.raises(ValueError, match="1.5"):
        ev.mean_ci([1.0, 2.0], confidence=1.5)
    with pytest.raises(ValueError, match="at least one"):
        ev.mean_ci([])

