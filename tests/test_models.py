"""Lab model registry and the wild loader, offline."""

import time

import numpy as np
import pytest
import torch

from uim_utils import models
from uim_utils.models import WildModeUnavailable, create_lab_model, lab_to_tensor, load_model


def test_lab_model_is_a_real_open_clip_clip():
    import open_clip

    lm = create_lab_model("uim-tiny", seed=0)
    assert isinstance(lm.model, open_clip.CLIP)
    tok = lm.tokenizer(["a photo of a sovubu."])
    assert tok.shape == (1, 16)
    x = lab_to_tensor(np.zeros((2, 32, 32, 3), np.uint8))
    img, txt, scale = lm.model(x, tok)
    assert img.shape == (2, 64) and txt.shape == (1, 64)
    assert torch.allclose(img.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert 1_000_000 < models.count_parameters(lm.model) < 10_000_000


def test_lab_init_is_seeded():
    a = create_lab_model("uim-tiny", seed=1).model.state_dict()
    b = create_lab_model("uim-tiny", seed=1).model.state_dict()
    c = create_lab_model("uim-tiny", seed=2).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_unknown_model_names():
    with pytest.raises(ValueError, match="unknown lab model 'uim-huge'"):
        create_lab_model("uim-huge")
    with pytest.raises(ValueError, match="unknown model 'ViT-B-33'.*ViT-B-32"):
        load_model("ViT-B-33")


def test_unknown_tag():
    with pytest.raises(ValueError, match="unknown pretrained tag 'laion9000'"):
        load_model("ViT-B-32", "laion9000")


def test_wild_tag_offline_fails_fast_with_one_sentence(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(models, "_in_hf_cache", lambda name, tag: False)
    t = time.perf_counter()
    with pytest.raises(WildModeUnavailable, match="needs internet") as info:
        load_model("ViT-B-32", "laion400m_e32")
    assert time.perf_counter() - t < 5
    assert "\n" not in str(info.value)


def test_missing_local_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file at .*nothing.safetensors"):
        load_model("uim-tiny", tmp_path / "nothing.safetensors")


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_wild_loader_on_a_local_checkpoint(tmp_path, suffix):
    """The wild code path (load by name + checkpoint) on a local file, offline."""
    src = create_lab_model("uim-tiny", seed=5)
    path = tmp_path / f"ckpt{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in src.model.state_dict().items()}, str(path))
    else:
        torch.save(src.model.state_dict(), path)
    lm = load_model("uim-tiny", path)
    assert lm.pretrained == str(path)
    sd = lm.model.state_dict()
    assert all(torch.equal(sd[k], v) for k, v in src.model.state_dict().items())


def test_lab_to_tensor_validates():
    with pytest.raises(ValueError, match="uint8 images"):
        lab_to_tensor(np.zeros((2, 32, 32, 3), np.float32))
    x = lab_to_tensor(np.full((1, 4, 4, 3), 255, np.uint8))
    assert x.shape == (1, 3, 4, 4) and torch.allclose(x, torch.full_like(x, 2.0))
