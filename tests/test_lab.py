"""The standard lab world and its clean model (uim_utils.lab), without the full pre-training."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from uim_utils import lab
from uim_utils.chapters import lab as lab_chapter
from uim_utils.pretrain import TrainConfig
from uim_utils.world import DOMAINS


def test_standard_world_is_deterministic_and_seed_dependent():
    a, b, c = lab.standard_world(0), lab.standard_world(0), lab.standard_world(1)
    assert a.n_concepts == lab.N_CONCEPTS == 100 and a.config.seed == 0
    assert a.names == b.names and a.to_dict() == b.to_dict()
    assert a.classnames != c.classnames
    x = a.render(np.arange(5), np.zeros(5, int), np.zeros(5, int), np.arange(5))
    assert np.array_equal(x, b.render(np.arange(5), np.zeros(5, int), np.zeros(5, int), np.arange(5)))
    assert not np.array_equal(x, c.render(np.arange(5), np.zeros(5, int), np.zeros(5, int), np.arange(5)))
    assert lab.standard_world(2, n_concepts=10).n_concepts == 10


def test_clean_train_config_uses_the_module_constants():
    cfg = lab.clean_train_config(7)
    assert isinstance(cfg, TrainConfig)
    assert (cfg.model, cfg.epochs, cfg.lr, cfg.seed) == (lab.MODEL, lab.EPOCHS, lab.LR, 7)
    assert cfg.channels_last is lab.CHANNELS_LAST and cfg.threads == 1
    assert cfg.pooled_text is lab.POOLED_TEXT is True
    assert lab.MODEL == "uim-base4" and lab.EPOCHS == 6
    assert lab.clean_train_config(7) == cfg and lab.clean_train_config(8) != cfg


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "3", True])
def test_bad_seeds_are_refused_by_name(seed):
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 4294967295\], got "):
        lab.standard_world(seed)
    with pytest.raises(ValueError, match="seed must be an integer"):
        lab.clean_model(seed, progress=False)


def test_clean_model_is_trained_once_then_a_cache_hit(tmp_path, monkeypatch):
    monkeypatch.setenv("UIM_CACHE", str(tmp_path))
    monkeypatch.setattr(lab, "N_PAIRS", 600)  # two steps of 256: seconds, not the real model
    monkeypatch.setattr(lab, "EPOCHS", 1)
    first = lab.clean_model(3, progress=False)
    assert not first.result.cache_hit
    assert len(first.corpus) == 600 and first.world.config.seed == 3
    assert first.result.history["steps"] == 2
    assert first.result.model.name == lab.MODEL
    second = lab.clean_model(3, progress=False)
    assert second.result.cache_hit and second.result.key == first.result.key
    assert second.world.names == first.world.names
    assert second.corpus.captions == first.corpus.captions
    sa, sb = first.result.model.model.state_dict(), second.result.model.model.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not second.result.model.model.training
    # other training settings are another model: another cache entry, trained anew
    monkeypatch.setattr(lab, "EPOCHS", 2)
    other = lab.clean_model(3, progress=False)
    assert not other.result.cache_hit and other.result.key != first.result.key


def test_lab_measure_on_a_tiny_clean_model(tmp_path, monkeypatch):
    """The lab chapter's real measurement pipeline, on a clean model trained for two steps."""
    monkeypatch.setenv("UIM_CACHE", str(tmp_path))
    monkeypatch.setattr(lab, "N_PAIRS", 600)
    monkeypatch.setattr(lab, "EPOCHS", 1)
    monkeypatch.setitem(lab_chapter.N_TEST, "ci", 3)
    row = lab_chapter.measure(0, "ci")
    assert set(row) == set(lab_chapter.SPEC.statistics)
    assert all(math.isfinite(v) for v in row.values())
    assert all(0 <= row[f"zs_{d}"] <= 1 for d in DOMAINS)
    assert -lab_chapter.CHANCE <= row["untrained_excess"] <= 1 - lab_chapter.CHANCE
    assert row == lab_chapter.measure(0, "ci")  # second call: the cached model, same numbers


def test_lab_chapter_chance_matches_the_standard_world():
    """chapters/lab.py stays torch-free, so it repeats the concept count: keep them equal."""
    from uim_utils.chapters import lab as LC

    assert LC.N_CONCEPTS == lab.N_CONCEPTS and LC.CHANCE == 1 / lab.N_CONCEPTS


def test_no_lab_caption_or_prompt_is_cut_by_the_standard_models_context():
    """Every caption and prompt template with every name of three worlds fits the standard
    model's context (``uim-base3`` reads 14 tokens; the longest lab text has 13)."""
    from uim_utils.models import lab_tokenizer
    from uim_utils.world import BACKGROUNDS, CAPTION_TEMPLATES, EVAL_TEMPLATES

    tok = lab_tokenizer(lab.MODEL)
    templates = [t for group in (*CAPTION_TEMPLATES.values(), EVAL_TEMPLATES) for t in group]
    for seed in (0, 1, 3):
        names = [n for concept in lab.standard_world(seed).names for n in concept]
        texts = [t.format(n, bg=bg) for t in templates for bg in BACKGROUNDS for n in names]
        ids = tok(texts)
        assert bool((ids[:, -1] == 0).all()), "a lab text fills the whole context: it may be cut"
