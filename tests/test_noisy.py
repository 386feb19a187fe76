"""Tests of uim_utils.noisy: audit, NMTune losses and heads, shifts, the wild code path."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from uim_utils import noisy as N  # noqa: E402
from uim_utils.world import ConceptWorld, WorldConfig  # noqa: E402


def blobs(n_per: int = 40, k: int = 4, d: int = 8, sep: float = 4.0, seed: int = 0):
    """Well-separated Gaussian classes: any sensible head gets them right."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, sep, (k, d))
    y = np.repeat(np.arange(k), n_per)
    x = centres[y] + rng.normal(0, 1, (len(y), d))
    return x.astype(np.float32), y


# ------------------------------------------------------------------------- corpus
def test_noise_corpus_has_exact_rate_and_only_that_flaw() -> None:
    w = ConceptWorld(WorldConfig(n_concepts=10))
    c = N.noise_corpus(w, 0.2, 500, seed=3)
    t = c.table
    assert t["noisy"].sum() == 100
    assert (t.loc[t["noisy"], "caption_concept"] != t.loc[t["noisy"], "concept"]).all()
    assert (t.loc[~t["noisy"], "caption_concept"] == t.loc[~t["noisy"], "concept"]).all()
    assert not t["misaligned"].any() and not t["poisoned"].any() and not t["corrupt"].any()
    # Same seed, other rate: the same images (in another row order; only captions differ).
    c0 = N.noise_corpus(w, 0.0, 500, seed=3)
    a = c0.table.sort_values("render_seed")[["render_seed", "concept", "domain"]].to_numpy()
    b = t.sort_values("render_seed")[["render_seed", "concept", "domain"]].to_numpy()
    assert (a == b).all()


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "x", True])
def test_noise_corpus_rejects_bad_rate(rate) -> None:
    w = ConceptWorld(WorldConfig(n_concepts=5))
    with pytest.raises(ValueError, match=repr(rate) if not isinstance(rate, str) else "'x'"):
        N.noise_corpus(w, rate, 100, seed=0)


# -------------------------------------------------------------------------- audit
def test_audit_finds_flipped_labels_on_separable_data() -> None:
    x, y = blobs(n_per=60, k=4, sep=6.0)
    rng = np.random.default_rng(1)
    truth = np.zeros(len(y), bool)
    truth[rng.choice(len(y), 24, replace=False)] = True
    given = y.copy()
    given[truth] = (y[truth] + rng.integers(1, 4, truth.sum())) % 4
    res = N.audit_captions(x, given, truth, seed=0)
    assert res.base_rate == pytest.approx(0.1)
    assert res.recall >= 0.9 and res.precision >= 0.9


def test_audit_rejects_mismatched_lengths() -> None:
    x, y = blobs()
    with pytest.raises(ValueError, match="same number of rows"):
        N.audit_captions(x, y[:-1], np.zeros(len(y), bool))


# ------------------------------------------------------------------------- NMTune
def test_nmtune_losses_known_values() -> None:
    f = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    r = N.nmtune_losses(f.clone(), f)
    assert r["mse"].item() == pytest.approx(0.0)
    assert r["cov"].item() == pytest.approx(0.0, abs=1e-7)  # uncorrelated dimensions
    assert r["svd"].item() == pytest.approx(0.5)  # two equal singular values, top_k covers both
    # Perfectly correlated dims: Cov = [[v, v], [v, v]], off-diagonal sum of squares = 2 v^2.
    z = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [2.0, 2.0], [-2.0, -2.0]])
    v = (z[:, 0] ** 2).sum() / 3
    assert N.nmtune_losses(z, z)["cov"].item() == pytest.approx((2 * v**2 / 2).item())
    assert N.nmtune_losses(z, z, top_k=1)["svd"].item() == pytest.approx(1.0)  # rank one


def test_nmtune_losses_reject_bad_shapes() -> None:
    with pytest.raises(ValueError, match="equal 2-D shapes"):
        N.nmtune_losses(torch.zeros(4, 3), torch.zeros(4, 2))


def test_fit_nmtune_and_plain_mlp_learn_separable_classes() -> None:
    x, y = blobs(seed=2)
    xt, yt = blobs(seed=2)  # same centres (same seed) -> same classes
    for cfg in (N.NMTuneConfig(epochs=30), N.PLAIN_MLP):
        head = N.fit_nmtune(x, y, N.NMTuneConfig(**{**N.config_dict(cfg), "epochs": 30}))
        assert (head.predict(xt) == yt).mean() > 0.95


def test_fit_nmtune_is_seeded() -> None:
    x, y = blobs()
    a = N.fit_nmtune(x, y, N.NMTuneConfig(epochs=3, seed=5)).history
    b = N.fit_nmtune(x, y, N.NMTuneConfig(epochs=3, seed=5)).history
    assert a == b


@pytest.mark.parametrize("field,value", [("l_mse", -1.0), ("l_cov", float("nan")), ("top_k", 0),
                                         ("hidden", 2.5), ("lr", 0.0)])
def test_nmtune_config_rejects_bad_values(field, value) -> None:
    with pytest.raises(ValueError, match=field):
        N.NMTuneConfig(**{field: value})


def test_ablation_heads_switch_terms() -> None:
    abl = N.ablation_heads()
    assert abl["MLP (CE only)"].l_mse == abl["MLP (CE only)"].l_cov == abl["MLP (CE only)"].l_svd == 0
    assert abl["+cov only"].l_cov == 0.04 and abl["+cov only"].l_mse == 0
    assert abl["all but svd"].l_svd == 0 and abl["all but svd"].l_mse == 1.0
    assert abl["NMTune (all three)"] == N.NMTuneConfig()


# ------------------------------------------------------------------ tables, stats
def test_mean_ci_and_ood_mean() -> None:
    m, lo, hi = N.mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and lo < 2.0 < hi
    assert N.mean_ci([0.5]) == (0.5, 0.5, 0.5)
    with pytest.raises(ValueError):
        N.mean_ci([])
    t = pd.DataFrame({"seed": 0, "noise": 0.0, "domain": list(N.DOMAINS) if hasattr(N, "DOMAINS") else
                      ["photo", "sketch", "noisy", "recolor"], "accuracy": [0.9, 0.1, 0.4, 0.1]})
    out = N.with_ood_mean(t)
    assert out.loc[out["domain"] == "OOD (mean)", "accuracy"].item() == pytest.approx(0.2)


# ------------------------------------------------------------------ shifts, wild
def test_shift_images_known_outputs() -> None:
    img = np.zeros((1, 2, 2, 3), np.uint8)
    img[..., 0] = 255  # pure red
    rec = N.shift_images(img, "recolor")
    assert (rec[0, 0, 0] == [255, 0, 255]).all()  # [b, r, g] = [0, 255, 0] inverted
    gray = N.shift_images(img, "gray")
    assert (gray[..., 0] == gray[..., 1]).all() and gray[0, 0, 0, 0] == 76
    with pytest.raises(ValueError, match="'blur'"):
        N.shift_images(img, "blur")


def test_wild_path_on_a_local_checkpoint(tmp_path) -> None:
    """The wild code path, offline: a lab model saved to safetensors, loaded by path."""
    from safetensors.torch import save_file

    from uim_utils.models import create_lab_model, load_model

    lm = create_lab_model("uim-tiny", seed=0)
    path = tmp_path / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in lm.model.state_dict().items()}, str(path))
    loaded = load_model("uim-tiny", str(path))
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(2), 20)
    x = np.zeros((40, 48, 48, 3), np.uint8)  # not the lab's 32 px: exercises the resize
    x[y == 0, :, :, 0] = 220
    x[y == 1, :, :, 2] = 220
    x = np.clip(x.astype(int) + rng.integers(0, 30, x.shape), 0, 255).astype(np.uint8)
    table = N.wild_heads(loaded, (x, y), (x, y), shifts=("gray",),
                         heads={"linear probe": None, "NMTune": N.NMTuneConfig(epochs=5, batch_size=8)},
                         progress=False)
    assert set(table["domain"]) == {"ID", "gray"}
    assert table.loc[(table["head"] == "linear probe") & (table["domain"] == "ID"), "accuracy"].item() == 1.0


def test_wild_tag_fails_fast_offline(monkeypatch) -> None:
    from uim_utils.models import WildModeUnavailable, load_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("uim_utils.models._in_hf_cache", lambda *a: False)
    with pytest.raises(WildModeUnavailable, match="unreachable"):
        load_model("ViT-B-32", "laion400m_e32")
