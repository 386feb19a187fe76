"""Lab model registry and the wild loader, offline."""

import time

import numpy as np
import pytest
import torch

from uim_utils import models
from uim_utils.models import create_lab_model, lab_to_tensor, load_model
from uim_utils.offline import OfflineError


def test_lab_model_is_a_real_open_clip_clip():
    import open_clip

    lm = create_lab_model("uim-tiny", seed=0)
    assert isinstance(lm.model, open_clip.CLIP)
    tok = lm.tokenizer(["a photo of a sovubu."])
    assert tok.shape == (1, 16)
    x = lab_to_tensor(np.zeros((2, 32, 32, 3), np.uint8))
    img, txt, _scale = lm.model(x, tok)
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
    with pytest.raises(OfflineError, match="needs the internet") as info:
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


# --------------------------------------------------------------------------------------
# The compact lab vocabulary (LabTokenizer) and the uim-base lab CLIP.

LAB_CONTEXT = 16


@pytest.fixture(scope="module")
def lab_tok():
    return models.LabTokenizer(LAB_CONTEXT)


@pytest.fixture(scope="module")
def small_lab_texts():
    """Every caption of a small world's corpus, and every template with every name."""
    from uim_utils.corpus import CorpusConfig, build_corpus
    from uim_utils.world import BACKGROUNDS, CAPTION_TEMPLATES, EVAL_TEMPLATES, ConceptWorld, WorldConfig

    world = ConceptWorld(WorldConfig(n_concepts=50, seed=3))
    corpus = build_corpus(world, CorpusConfig(n_samples=500))
    names = [n for row in world.names for n in row]
    templates = {t for group in (*CAPTION_TEMPLATES.values(), EVAL_TEMPLATES) for t in group}
    prompts = [t.format(n, bg=bg) for t in sorted(templates) for n in names for bg in BACKGROUNDS]
    return list(corpus.captions), prompts


def test_lab_tokenizer_splits_like_open_clip(lab_tok, small_lab_texts):
    import open_clip

    models.register_lab_models()
    base = open_clip.get_tokenizer("uim-tiny")  # open_clip's own BPE, same context length
    captions, prompts = small_lab_texts
    texts = captions + prompts[::7] + ["a photo of a sovubu on grass.", "xylophone"]
    b, lab = base(texts), lab_tok(texts)
    assert b.shape == lab.shape == (len(texts), LAB_CONTEXT) and lab.dtype == torch.int64
    # same token boundaries: non-pad at the same positions
    assert torch.equal(b != 0, lab != 0)
    assert (lab[:, 0] == models.LabTokenizer.SOT).all()
    eot = lab_tok.vocab_size - 1
    assert torch.equal(lab == eot, b == lab_tok.base.eot_token_id)
    assert (lab == eot).sum(1).eq(1).all()  # exactly one end of text per row
    # the end of text is the largest id, as open_clip's argmax pooling needs
    assert torch.equal(lab.argmax(1), b.argmax(1))
    # lab tokens are open_clip ids renumbered: 3 + their rank in the shipped list
    ids = models.lab_vocab_ids()
    rank = {i: 3 + r for r, i in enumerate(ids)}
    inner = (b != 0) & (b != lab_tok.base.sot_token_id) & (b != lab_tok.base.eot_token_id)
    for bi, li in zip(b[inner].tolist(), lab[inner].tolist()):
        assert li == rank.get(bi, models.LabTokenizer.UNK)
    # a context length given at call time is honoured
    assert lab_tok(["a sketch of a sovubu."], context_length=8).shape == (1, 8)
    assert lab_tok("a sovubu.").shape == (1, LAB_CONTEXT)


def test_shipped_vocabulary_covers_the_lab(lab_tok, small_lab_texts):
    captions, prompts = small_lab_texts
    for texts in (captions, prompts):
        tok = lab_tok(texts)
        bad = [t for t, row in zip(texts, tok) if (row == models.LabTokenizer.UNK).any()]
        assert not bad, f"{len(bad)} lab texts with unknown tokens, e.g. {bad[:3]}"
        assert int(tok.max()) == lab_tok.vocab_size - 1
    # names drawn as the world draws them: every BPE piece is in the shipped list
    from uim_utils.world import NAME_LENGTHS, NAME_SYLLABLES

    rng = np.random.default_rng(0)
    shipped = set(models.lab_vocab_ids())
    base = models.base_tokenizer()
    missing = {}
    for _ in range(2000):
        name = "".join(rng.choice(NAME_SYLLABLES, size=int(rng.choice(NAME_LENGTHS))))
        absent = set(base.encode(name)) - shipped
        if absent:
            missing[name] = sorted(absent)
    assert not missing, f"names with token ids outside {models.LAB_VOCAB_PATH.name}: {dict(list(missing.items())[:5])}"


def test_words_outside_the_lab_are_unknown(lab_tok):
    tok = lab_tok(["xylophone"])[0]
    body = tok[1:int((tok == lab_tok.vocab_size - 1).nonzero()[0, 0])]
    assert (body == models.LabTokenizer.UNK).any()
    q = lab_tok(["quantum"])[0]  # one BPE token, not a lab token
    assert q[:3].tolist() == [models.LabTokenizer.SOT, models.LabTokenizer.UNK, lab_tok.vocab_size - 1]
    assert (q[3:] == models.LabTokenizer.PAD).all()
    # only ids 0 (pad), 1 (unknown), 2 (start), lab tokens and the end of text are produced
    assert int(lab_tok(["zebra quantum xylophone"]).max()) == lab_tok.vocab_size - 1


def test_shipped_vocabulary_file_is_well_formed():
    import json

    ids = models.lab_vocab_ids()
    assert ids == sorted(set(ids)) and ids[0] > 0 and ids[-1] < models.FULL_VOCAB_SIZE
    assert json.loads(models.LAB_VOCAB_PATH.read_text())["token_ids"] == ids
    assert len(ids) + 4 == models.LabTokenizer(LAB_CONTEXT).vocab_size == 3428
    base = models.base_tokenizer()
    assert base.sot_token_id not in ids and base.eot_token_id not in ids


def test_uim_base_is_a_small_real_clip_on_the_compact_vocabulary():
    import open_clip

    lm = create_lab_model("uim-base", seed=0)
    assert isinstance(lm.model, open_clip.CLIP) and isinstance(lm.tokenizer, models.LabTokenizer)
    assert lm.model.token_embedding.weight.shape == (3428, 64)
    assert lm.tokenizer.vocab_size == 3428
    tok = lm.tokenizer(["a photo of a sovubu.", "a sketch of a kazomu."])
    x = lab_to_tensor(np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8))
    with torch.no_grad():
        img, txt, _scale = lm.model(x, tok)
    assert img.shape == (4, 64) and txt.shape == (2, 64)
    assert torch.allclose(img.norm(dim=-1), torch.ones(4), atol=1e-5)
    assert torch.allclose(txt.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert torch.isfinite(img).all() and torch.isfinite(txt).all()
    n_base = models.count_parameters(lm.model)
    n_tiny = models.count_parameters(create_lab_model("uim-tiny", seed=0).model)
    assert n_base < n_tiny / 3
    # seeded like every lab model
    again = create_lab_model("uim-base", seed=0).model.state_dict()
    assert all(torch.equal(v, again[k]) for k, v in lm.model.state_dict().items())


def test_load_model_gives_uim_base_its_lab_tokenizer():
    lm = load_model("uim-base")
    assert isinstance(lm.tokenizer, models.LabTokenizer) and lm.preprocess is None
    assert lm.model.token_embedding.weight.shape[0] == lm.tokenizer.vocab_size
    # uim-tiny keeps open_clip's full vocabulary and tokenizer
    assert not isinstance(models.lab_tokenizer("uim-tiny"), models.LabTokenizer)


def test_lab_tokenizer_refuses_a_config_that_disagrees_with_the_vocabulary(monkeypatch):
    import copy

    import open_clip

    models.register_lab_models()
    real = open_clip.get_model_config

    def fake(name):
        cfg = copy.deepcopy(real(name))
        cfg["text_cfg"]["vocab_size"] = 5000
        return cfg

    monkeypatch.setattr(open_clip, "get_model_config", fake)
    with pytest.raises(ValueError, match="lab model 'uim-base' embeds 5000 tokens but the compact vocabulary has 3428"):
        models.lab_tokenizer("uim-base")


@pytest.mark.parametrize("ids", [[5, 3, 4], [3, 3, 4], [], [0, 3], [3, models.FULL_VOCAB_SIZE]])
def test_lab_vocab_ids_refuses_a_corrupt_file(tmp_path, monkeypatch, ids):
    import json
    import re

    path = tmp_path / "lab_vocab.json"
    path.write_text(json.dumps({"token_ids": ids}))
    monkeypatch.setattr(models, "LAB_VOCAB_PATH", path)
    with pytest.raises(ValueError, match=re.escape(str(path)) + " must hold sorted, unique ids"):
        models.lab_vocab_ids()
    with pytest.raises(ValueError, match=re.escape(str(path))):
        models.LabTokenizer(LAB_CONTEXT)


def test_uim_base4_has_the_narrow_stem_tower_and_repeats_its_initialisation():
    """``uim-base4`` (the standard lab model since lab v6) is an open_clip CLIP on timm's ``test_byobnet``
    with a 16-channel stem and a 24-channel first stage, registered by uim_utils.towers."""
    import timm

    from uim_utils import towers

    a, b = create_lab_model("uim-base4", seed=5), create_lab_model("uim-base4", seed=5)
    # channels of the stem and the four stages, against uim-base3's 24, 32, 64, 128, 256
    assert [f["num_chs"] for f in a.model.visual.trunk.feature_info] == [16, 24, 64, 128, 256]
    assert all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()))
    feats = a.model.encode_image(torch.zeros(2, 3, 32, 32))
    assert feats.shape == (2, 64)
    towers.register_towers()  # idempotent: a second call registers nothing twice
    assert towers.BYOBNET_S16 in timm.list_models("uim_*")
    with pytest.raises(ValueError, match="no pretrained weights"):
        towers.uim_byobnet_s16(pretrained=True)
