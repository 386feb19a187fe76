"""NMTune as the reference implements it: the MLP, the three terms, the views, the fit."""

import numpy as np
import pytest
import torch

from uim_utils.augment import GroupedRandAugment
from uim_utils.models import create_lab_model, lab_to_tensor
from uim_utils.nmtune import (
    CE_ONLY,
    NMTuneConfig,
    NMTuneMLP,
    fit_nmtune,
    make_views,
    nmtune_terms,
    off_diagonal,
)
from uim_utils.world import ConceptWorld, WorldConfig


def test_off_diagonal_is_every_entry_but_the_diagonal():
    m = torch.arange(16.0).view(4, 4)
    expected = torch.tensor([m[i, j] for i in range(4) for j in range(4) if i != j])
    assert torch.equal(off_diagonal(m), expected)
    with pytest.raises(ValueError, match="square"):
        off_diagonal(torch.zeros(2, 3))


def test_mlp_follows_the_reference_layout():
    net = NMTuneMLP(8, 5, NMTuneConfig())
    kinds = [type(m).__name__ for m in net.mlp]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert net.mlp[0].out_features == 32 and net.mlp[-1].out_features == 8  # ratio 4, back to d
    assert net.scale is None  # not residual by default
    assert torch.count_nonzero(net.head.bias) == 0
    assert net.head.weight.abs().max() <= np.sqrt(6 / 8) + 1e-6  # Kaiming-uniform bound, fan_in 8
    res = NMTuneMLP(8, 5, NMTuneConfig(residual=True, residual_scale=0.5))
    f = torch.randn(4, 8)
    res.eval()
    assert torch.allclose(res.embed(f), 0.5 * res.mlp(f) + f)


def test_terms_match_their_formulas():
    torch.manual_seed(0)
    b, d = 6, 4
    z, f_weak = torch.randn(2 * b, d), torch.randn(b, d)
    t = nmtune_terms(z, z[b:], f_weak, top_k=2)
    zs = z[b:] / z[b:].norm(dim=1, keepdim=True)
    fw = f_weak / f_weak.norm(dim=1, keepdim=True)
    assert torch.isclose(t["mse"], ((zs - fw) ** 2).mean())
    cov = np.cov(z.numpy(), rowvar=False)
    assert np.isclose(t["cov"].item(), ((cov ** 2).sum() - (np.diag(cov) ** 2).sum()) / d, rtol=1e-5)
    s = np.linalg.svd(z.numpy(), compute_uv=False)
    assert np.isclose(t["svd"].item(), (s / s.sum())[:2].mean(), rtol=1e-5)


def test_terms_name_bad_shapes():
    with pytest.raises(ValueError, match="must match"):
        nmtune_terms(torch.zeros(4, 3), torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="at least 2 rows"):
        nmtune_terms(torch.zeros(1, 3), torch.zeros(1, 3), torch.zeros(1, 3))


def test_views_are_random_per_call_and_keep_the_shape():
    torch.manual_seed(0)
    crop, randaugment = make_views(NMTuneConfig(), 32)
    ims = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    a, b = randaugment(ims), randaugment(ims)
    assert a.shape == ims.shape and a.dtype == torch.uint8 and not torch.equal(a, b)
    assert crop(ims[0]).shape == ims[0].shape
    with pytest.raises(ValueError, match="uint8 batch"):
        randaugment(ims.float())


def test_grouped_randaugment_equals_a_loop_over_images():
    torch.manual_seed(1)
    g = GroupedRandAugment(3, 5)
    ims = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8)
    policy = g.policy(len(ims), 32, 32)
    grouped = g.apply(ims, policy)
    for i, im in enumerate(ims):
        one = im[None]
        for row in policy:
            name, m = row[i]
            one = g.ra._apply_image_or_video_transform(one, name, m, interpolation=g.ra.interpolation,
                                                       fill=g.ra._fill)
        assert torch.equal(grouped[i], one[0]), f"image {i}"
    drawn = {name for row in policy for name, _ in row}
    assert len(drawn) > 8  # the policy spans RandAugment's operations
    assert any(m < 0 for row in policy for _, m in row)  # signed operations get both signs


@pytest.mark.parametrize("kwargs, word", [({"mse_weight": -1.0}, "mse_weight"),
                                          ({"crop_scale": (0.5, 0.2)}, "crop_scale"),
                                          ({"batch_size": 1}, "batch_size"), ({"lr": 0.0}, "lr")])
def test_bad_config_names_the_setting(kwargs, word):
    with pytest.raises(ValueError, match=word):
        NMTuneConfig(**kwargs)


@pytest.fixture(scope="module")
def task():
    world = ConceptWorld(WorldConfig(n_concepts=4, seed=0))
    x, y = world.sample(16, "photo", seed=1)
    return create_lab_model("uim-tiny", seed=0), x, y


def test_fit_is_deterministic_and_leaves_the_encoder_alone(task):
    lm, x, y = task
    before = {k: v.clone() for k, v in lm.model.state_dict().items()}
    cfg = NMTuneConfig(epochs=2, batch_size=16)
    a, b = fit_nmtune(lm, x, y, cfg), fit_nmtune(lm, x, y, cfg)
    assert a.history == b.history and np.array_equal(a.predict(x), b.predict(x))
    assert all(torch.equal(before[k], v) for k, v in lm.model.state_dict().items())
    assert set(a.history[0]) == {"ce", "mse", "cov", "svd", "total"}
    assert a.predict(x).shape == y.shape


def test_ce_only_has_no_regulariser(task):
    lm, x, y = task
    fit = fit_nmtune(lm, x, y, CE_ONLY.__class__(**{**CE_ONLY.__dict__, "epochs": 1, "batch_size": 16}))
    assert all(h["mse"] == h["cov"] == h["svd"] == 0.0 and h["total"] == h["ce"] for h in fit.history)


def test_fit_names_bad_input(task):
    lm, x, y = task
    with pytest.raises(ValueError, match="uint8"):
        fit_nmtune(lm, x.astype(np.float32), y)
    with pytest.raises(ValueError, match="one label per image"):
        fit_nmtune(lm, x, y[:-1])
    with pytest.raises(ValueError, match="fewer than batch_size"):
        fit_nmtune(lm, x[:10], y[:10], NMTuneConfig(batch_size=16))


def test_views_are_shared_by_encoders_and_heads(task):
    """Views drawn once serve every encoder; fitting on them equals fit_nmtune."""
    from uim_utils.nmtune import fit_on_views, view_features

    lm, x, y = task
    other = create_lab_model("uim-tiny", seed=1)
    cfg = NMTuneConfig(epochs=2, batch_size=16)
    va, vb = view_features([lm, other], x, cfg)
    assert va.weak.shape == (2, len(x), va.weak.shape[2]) and va.strong.shape == va.weak.shape
    assert va.epochs == 2 and not torch.equal(va.weak[0], va.weak[1])  # fresh views each epoch
    (alone,) = view_features([lm], x, cfg)
    assert torch.equal(alone.weak, va.weak) and torch.equal(alone.strong, va.strong)
    assert not torch.equal(va.weak, vb.weak)  # another encoder, other features of the same views
    direct = fit_nmtune(lm, x, y, cfg)
    on_views = fit_on_views(va, y, cfg)
    assert direct.history == on_views.history
    with torch.no_grad():
        feats = lm.model.encode_image(lab_to_tensor(x))
    assert np.array_equal(on_views.predict_features(feats.numpy()), direct.predict(x))
    with pytest.raises(ValueError, match="fitted on features"):
        on_views.predict(x)
    with pytest.raises(ValueError, match="epochs"):
        fit_on_views(va, y, NMTuneConfig(epochs=3, batch_size=16))
    with pytest.raises(ValueError, match="one label per view row"):
        fit_on_views(va, y[:-1], cfg)
    with pytest.raises(ValueError, match="features must be"):
        on_views.predict_features(np.zeros((3, 2)))


def test_optimizer_steps_counts_full_batches():
    from uim_utils.nmtune import optimizer_steps

    assert optimizer_steps(1000) == 7 * 10  # 1000 // 128 full batches, ten epochs
    assert optimizer_steps(127) == 0
    assert optimizer_steps(300, NMTuneConfig(batch_size=100, epochs=3)) == 9
    with pytest.raises(ValueError, match="n_images"):
        optimizer_steps(-1)
