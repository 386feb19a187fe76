"""Pre-training: learning happens, determinism, caching and corrupt-cache recovery."""

import json

import numpy as np
import pytest
import torch

from uim_utils import cache
from uim_utils.corpus import CorpusConfig, build_corpus
from uim_utils.pretrain import (
    CACHE_NAMESPACE,
    TrainConfig,
    cosine_lr,
    missing_steps,
    pretrain,
    pretrain_key,
    pretrain_many,
)
from uim_utils.world import ConceptWorld, WorldConfig

CFG = TrainConfig(epochs=2, batch_size=64, lr=2e-3, warmup_steps=5, seed=0)


@pytest.fixture(scope="module")
def corpus():
    world = ConceptWorld(WorldConfig(n_concepts=8, seed=0))
    return build_corpus(world, CorpusConfig(n_samples=640, domain_weights={"photo": 1.0}))


@pytest.fixture()
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("UIM_CACHE", str(tmp_path))
    return tmp_path


def _same(a, b):
    sa, sb = a.model.model.state_dict(), b.model.model.state_dict()
    return all(torch.equal(sa[k], sb[k]) for k in sa)


def test_same_seed_same_weights_other_seed_other_weights(corpus):
    a = pretrain(corpus, CFG, use_cache=False, progress=False)
    b = pretrain(corpus, CFG, use_cache=False, progress=False)
    c = pretrain(corpus, TrainConfig(**{**CFG.__dict__, "seed": 1}), use_cache=False, progress=False)
    assert _same(a, b) and not _same(a, c)
    loss = a.history["loss"]
    assert np.mean(loss[-3:]) < np.mean(loss[:3])  # it learns


def test_second_call_is_a_cache_hit(corpus, tmp_cache):
    first = pretrain(corpus, CFG, progress=False)
    second = pretrain(corpus, CFG, progress=False)
    assert not first.cache_hit and second.cache_hit and first.key == second.key
    assert _same(first, second)
    assert second.history["steps"] == first.history["steps"]


def test_key_changes_with_every_ingredient(corpus):
    k = pretrain_key(corpus, CFG)
    other_corpus = build_corpus(corpus.world, CorpusConfig(n_samples=640, caption_noise=0.1,
                                                           domain_weights={"photo": 1.0}))
    assert pretrain_key(other_corpus, CFG) != k
    assert pretrain_key(corpus, TrainConfig(**{**CFG.__dict__, "epochs": 3})) != k
    assert pretrain_key(corpus, TrainConfig(**{**CFG.__dict__, "seed": 9})) != k
    assert pretrain_key(corpus, TrainConfig(**{**CFG.__dict__, "threads": 2})) != k
    assert pretrain_key(corpus, TrainConfig(**{**CFG.__dict__, "channels_last": True})) != k
    assert pretrain_key(corpus, TrainConfig(**{**CFG.__dict__, "pooled_text": True})) != k


def test_fields_added_later_keep_the_old_keys_at_their_old_values(corpus):
    # the key of CFG on this corpus as the code before threads and channels_last computed it (9d8feec)
    assert pretrain_key(corpus, CFG) == "2b7145bb88a0d0ae"
    assert pretrain_key(corpus, TrainConfig(**{**CFG.__dict__, "threads": 1, "channels_last": False,
                                               "pooled_text": False})) == "2b7145bb88a0d0ae"


RESNET = TrainConfig(model="uim-base2", epochs=1, batch_size=128, lr=2e-3, warmup_steps=1, seed=0)
"""A lab model with a convolutional image tower (channels-last applies to it); two steps on
the ``small`` corpus, since two-thread steps crawl under make test's two busy workers."""


@pytest.fixture(scope="module")
def small(corpus):
    """The first 256 pairs of ``corpus``: two steps of :data:`RESNET`."""
    return corpus.subset(np.arange(len(corpus)) < 256)


def _image_features(result, corpus):
    from uim_utils import evaluate as ev

    with torch.no_grad():
        return ev.encode_images(result.model, corpus.images[:32])


def _layouts_seen_in_training(corpus, cfg, augment=None):
    """(input is channels-last, first conv's weight is channels-last) at every training step."""
    from uim_utils.models import create_lab_model
    from uim_utils.pretrain import train_contrastive

    lm = create_lab_model(cfg.model, seed=cfg.seed)
    conv = next(m for m in lm.model.visual.modules() if isinstance(m, torch.nn.Conv2d))
    seen = []
    lm.model.visual.register_forward_pre_hook(lambda _m, args: seen.append(
        (args[0].is_contiguous(memory_format=torch.channels_last),
         conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous())))
    train_contrastive(lm.model, corpus.images, lm.tokenizer(corpus.captions), cfg, progress=False, augment=augment)
    assert all(p.is_contiguous() for p in lm.model.parameters())
    return set(seen)


def test_channels_last_is_what_training_runs_and_the_default_leaves_the_layouts_be(small):
    cl = TrainConfig(**{**RESNET.__dict__, "channels_last": True})
    assert _layouts_seen_in_training(small, cl) == {(True, True)}
    # default: lab_to_tensor's batches (channels-last views of NHWC images) and plain weights, as before
    assert _layouts_seen_in_training(small, RESNET) == {(True, False)}
    plain = lambda x, gen: x.contiguous()  # noqa: E731 (an augmentation that returns NCHW)
    assert _layouts_seen_in_training(small, RESNET, augment=plain) == {(False, False)}
    assert _layouts_seen_in_training(small, cl, augment=plain) == {(True, True)}


def test_channels_last_training_returns_a_model_that_computes_like_its_cached_copy(small, tmp_cache):
    cl = TrainConfig(**{**RESNET.__dict__, "channels_last": True})
    fresh = pretrain(small, cl, progress=False)
    assert all(p.is_contiguous() for p in fresh.model.model.parameters())  # back in the default format
    cached = pretrain(small, cl, progress=False)
    assert cached.cache_hit and _same(fresh, cached)
    assert np.array_equal(_image_features(fresh, small), _image_features(cached, small))
    again = pretrain(small, cl, use_cache=False, progress=False)
    assert _same(fresh, again)  # deterministic in either format


def test_threads_is_what_training_runs_with_and_a_worker_refuses_more_than_one(small, monkeypatch):
    two = TrainConfig(**{**RESNET.__dict__, "threads": 2})
    seen = []
    before = torch.get_num_threads()
    pretrain(small, two, use_cache=False, progress=False, on_step=lambda: seen.append(torch.get_num_threads()))
    assert set(seen) == {2} and torch.get_num_threads() == before
    from uim_utils import parallel

    monkeypatch.setenv(parallel.WORKER_ENV, "1")
    with pytest.raises(ValueError, match="threads=2 in a worker process of one thread"):
        pretrain(small, two, use_cache=False, progress=False)


def test_pretrain_many_trains_multi_thread_models_here_one_after_the_other(small, tmp_cache, monkeypatch):
    two = [TrainConfig(**{**RESNET.__dict__, "threads": 2, "seed": s}) for s in (0, 1)]
    alone = [pretrain(small, c, use_cache=False, progress=False) for c in two]
    from uim_utils import parallel

    def no_workers(*args, **kwargs):
        raise AssertionError("models of two threads must not train side by side in workers")

    monkeypatch.setattr(parallel, "run_in_workers", no_workers)
    many = pretrain_many([(small, c) for c in two], progress=False, workers=2)
    assert [r.cache_hit for r in many] == [False, False]
    assert _same(many[0], alone[0]) and _same(many[1], alone[1])


@pytest.mark.parametrize("damage", ["truncate", "flip", "sidecar"])
def test_corrupt_cache_is_detected_and_rebuilt(corpus, tmp_cache, damage):
    first = pretrain(corpus, CFG, progress=False)
    tpath, jpath = cache.entry_paths(CACHE_NAMESPACE, first.key)
    if damage == "truncate":
        tpath.write_bytes(tpath.read_bytes()[:1000])
    elif damage == "flip":
        data = bytearray(tpath.read_bytes())
        data[-10] ^= 0xFF
        tpath.write_bytes(bytes(data))
    else:
        jpath.write_text("{not json")
    with pytest.raises(cache.CacheCorruptError):
        cache.load_entry(CACHE_NAMESPACE, first.key)
    with pytest.warns(UserWarning, match="retraining"):
        again = pretrain(corpus, CFG, progress=False)
    assert not again.cache_hit and _same(first, again)
    assert cache.load_entry(CACHE_NAMESPACE, first.key) is not None  # rebuilt and valid
    assert json.loads(jpath.read_text())["key"] == first.key


@pytest.mark.parametrize("kwargs, word", [
    ({"model": "uim-giant"}, "uim-giant"), ({"epochs": 0}, "epochs"), ({"batch_size": 1}, "batch_size"),
    ({"lr": 0}, "lr"), ({"lr": 5}, "lr"), ({"seed": -1}, "seed"), ({"weight_decay": -1}, "weight_decay"),
    ({"threads": 0}, "threads"), ({"threads": 65}, "threads"), ({"threads": 1.5}, "threads"),
    ({"channels_last": 1}, "channels_last"), ({"pooled_text": "yes"}, "pooled_text"),
])
def test_bad_train_config(kwargs, word):
    with pytest.raises(ValueError, match=word):
        TrainConfig(**kwargs)


def test_corpus_smaller_than_batch(corpus):
    with pytest.raises(ValueError, match="smaller than batch_size=1024"):
        pretrain(corpus, TrainConfig(batch_size=1024), use_cache=False, progress=False)


def test_cosine_schedule():
    assert cosine_lr(0, 100, 10, 1.0) == pytest.approx(0.1)
    assert cosine_lr(9, 100, 10, 1.0) == pytest.approx(1.0)
    assert cosine_lr(100, 100, 10, 1.0) == pytest.approx(0.0)
    assert cosine_lr(55, 100, 10, 1.0) == pytest.approx(0.5)


def test_weights_do_not_depend_on_the_callers_thread_count(corpus):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        a = pretrain(corpus, CFG, use_cache=False, progress=False)
        torch.set_num_threads(1)
        b = pretrain(corpus, CFG, use_cache=False, progress=False)
    finally:
        torch.set_num_threads(before)
    assert _same(a, b)
    assert torch.get_num_threads() == before  # the limit is lifted after training


def test_pretrain_many_in_workers_equals_pretrain_alone(corpus, tmp_cache):
    other = TrainConfig(**{**CFG.__dict__, "seed": 1})
    steps = []
    alone = [pretrain(corpus, c, use_cache=False, progress=False, on_step=lambda: steps.append(1))
             for c in (CFG, other)]
    assert len(steps) == 2 * alone[0].history["steps"]  # on_step is called once a step
    # the bar's total counts each model missing from the cache once
    assert missing_steps([(corpus, CFG), (corpus, other), (corpus, CFG)]) == len(steps)
    from uim_utils.parallel import WorkerPool

    with WorkerPool(2) as pool:  # a caller's pool (finetune_many's test covers a pool of its own)
        many = pretrain_many([(corpus, CFG), (corpus, other), (corpus, CFG)], progress=False, pool=pool)
    assert [r.cache_hit for r in many] == [False, False, False]  # all three trained by this call
    assert _same(many[0], alone[0]) and _same(many[1], alone[1]) and _same(many[2], alone[0])
    again = pretrain_many([(corpus, CFG), (corpus, other)], progress=False)
    assert all(r.cache_hit for r in again) and _same(again[1], alone[1])
    assert missing_steps([(corpus, CFG), (corpus, other)]) == 0


def test_pretrain_many_rejects_a_bad_job(corpus):
    with pytest.raises(ValueError, match="job 1 must be a \\(Corpus, TrainConfig\\) pair"):
        pretrain_many([(corpus, CFG), (CFG, corpus)], progress=False)
    with pytest.raises(ValueError, match="job 0 must be a \\(Corpus, TrainConfig\\) pair"):
        missing_steps([CFG])


def test_a_corpus_pickles_without_its_images(corpus):
    import pickle

    _ = corpus.images  # rendered
    clone = pickle.loads(pickle.dumps(corpus))
    assert "images" not in clone.__dict__
    assert np.array_equal(clone.images, corpus.images)  # re-rendered identically


def _pretrain_in_child(corpus, queue) -> None:
    # a forked child first drops to one thread, as torch's DataLoader workers do: GNU
    # OpenMP hangs in a fork's first parallel region if the parent ran one
    torch.set_num_threads(1)
    res = pretrain(corpus, CFG, progress=False)
    queue.put(res.cache_hit)


def test_two_processes_wanting_the_same_model_train_it_once(corpus, tmp_cache):
    """Two processes (two chapters side by side) ask for the same missing model at once:
    one trains it, the other waits on the entry's lock and loads it."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    children = [ctx.Process(target=_pretrain_in_child, args=(corpus, queue)) for _ in range(2)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=300)
    assert all(child.exitcode == 0 for child in children)
    assert sorted(queue.get(timeout=5) for _ in children) == [False, True]
    assert _same(pretrain(corpus, CFG, progress=False), pretrain(corpus, CFG, use_cache=False, progress=False))


def test_train_steps_drop_the_ragged_last_batch_of_every_epoch():
    from uim_utils.pretrain import train_steps

    assert train_steps(600, 256, 1) == 2
    assert train_steps(600, 256, 3) == 6
    assert train_steps(512, 256, 2) == 4
    assert train_steps(255, 256, 5) == 0


POOLED = TrainConfig(**{**RESNET.__dict__, "model": "uim-base3", "pooled_text": True})
"""Two steps of the standard lab model (one text layer) with the text tower on the pooled token only."""


def test_pooled_text_encodes_what_open_clip_encodes_and_passes_the_same_gradients(small):
    from uim_utils.models import create_lab_model, encode_text_pooled

    lm = create_lab_model("uim-base3", seed=3)
    tok = lm.tokenizer(list(small.captions[:64]))
    assert len(set(tok.argmax(dim=-1).tolist())) > 1  # captions of several lengths
    lm.model.train()
    for normalize in (False, True):
        ref, new = lm.model.encode_text(tok, normalize=normalize), encode_text_pooled(lm.model, tok, normalize)
        assert new.shape == ref.shape and torch.allclose(new, ref, atol=1e-5, rtol=1e-5)
    grads = []
    for encode in (lm.model.encode_text, lambda t: encode_text_pooled(lm.model, t)):
        lm.model.zero_grad()
        encode(tok).square().sum().backward()
        grads.append({n: p.grad.clone() for n, p in lm.model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and "token_embedding.weight" in grads[0]
    assert all((grads[0][n] - grads[1][n]).abs().max() <= 1e-5 * grads[0][n].abs().max() for n in grads[0])


def test_pooled_text_trains_like_the_full_tower_and_returns_a_plain_model(small, tmp_cache, monkeypatch):
    import uim_utils.pretrain as pre

    full = pretrain(small, TrainConfig(**{**POOLED.__dict__, "pooled_text": False}), progress=False)
    calls = []
    real = pre.encode_text_pooled
    monkeypatch.setattr(pre, "encode_text_pooled", lambda *a, **k: calls.append(1) or real(*a, **k))
    pooled = pretrain(small, POOLED, progress=False)
    assert len(calls) == 2  # one batch of captions per step, both steps through the pooled path
    assert pooled.key != full.key and "encode_text" not in vars(pooled.model.model)  # a plain CLIP again
    assert np.allclose(full.history["loss"], pooled.history["loss"], atol=1e-4)  # the same function
    cached = pretrain(small, POOLED, progress=False)
    assert cached.cache_hit and _same(pooled, cached)
    assert _same(pooled, pretrain(small, POOLED, use_cache=False, progress=False))  # deterministic


@pytest.mark.parametrize("model", ["uim-base", "uim-tiny"])
def test_pooled_text_refuses_a_text_tower_of_more_than_one_layer(small, model):
    with pytest.raises(ValueError, match="layers=2"):
        pretrain(small, TrainConfig(**{**POOLED.__dict__, "model": model}), use_cache=False, progress=False)


def test_pooled_text_in_eval_mode_and_refusing_other_pooling():
    from uim_utils.models import check_pooled_text, create_lab_model, encode_text_pooled

    lm = create_lab_model("uim-base3", seed=1)
    tok = lm.tokenizer(["a photo of a cat", "a sketch of a very small dog on a mat"])
    with torch.no_grad():  # the inference fast path of attention, too
        assert torch.allclose(encode_text_pooled(lm.model, tok), lm.model.encode_text(tok), atol=1e-5)
    lm.model.text_pool_type = "eos"
    with pytest.raises(ValueError, match="text_pool_type='eos'"):
        check_pooled_text(lm.model)
