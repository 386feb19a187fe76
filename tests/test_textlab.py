"""uim_utils.textlab and uim_utils.alignment: the request-answer generator, the tiny GPT-2,
alignment data, the prefilling attack, per-token KL and probes; known answers and clear
errors. The chapter's statistics and claims are tested in test_chapters.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from uim_utils import alignment as al
from uim_utils import textlab as tl


@pytest.fixture(scope="module")
def world():
    return tl.text_world(0)


@pytest.fixture(scope="module")
def small_model(world):
    """A model trained briefly on a corpus with f = 10% (seconds)."""
    corpus = tl.pretrain_corpus(world, 0.1, 1500, seed=0)
    model = tl.create_lm(0)
    ids, labels = tl.encode(list(corpus["prompt"]), list(corpus["answer"]))
    tl.train_lm(model, ids, labels, tl.TrainConfig(epochs=1, batch_size=32))
    return model


def test_worlds_shuffle_the_tools_and_split_the_objects(world):
    assert tl.text_world(0) == world
    other = tl.text_world(1)
    assert other.benign != world.benign or other.harm != world.harm
    assert sorted(t for _, t in world.benign) == sorted(t for _, t in tl.BENIGN_TASKS)
    assert sorted(t for _, t in world.harm) == sorted(t for _, t in tl.HARM_TASKS)
    assert len(world.heldout_objects) == tl.N_HELDOUT_OBJECTS
    assert set(world.heldout_objects).isdisjoint(world.train_objects)
    assert set(world.heldout_objects) | set(world.train_objects) == set(tl.OBJECTS)
    with pytest.raises(ValueError, match="unknown verb 'fly'"):
        world.tool("fly")


def test_the_corpus_has_the_dialled_share_of_harmful_answers(world):
    corpus = tl.pretrain_corpus(world, 0.1, 20_000, seed=0)
    share = (corpus["kind"] == "harmful").mean()
    assert share == pytest.approx(0.1, abs=0.006)  # f is the share of harmful answers
    assert (corpus["kind"] == "refusal").mean() == pytest.approx(0.9 * tl.DECLINE, abs=0.004)
    assert corpus["harmful_request"].mean() == pytest.approx(tl.HARM_SHARE, abs=0.01)
    harm_words = {t for _, t in tl.HARM_TASKS}
    names_harm = corpus["answer"].map(lambda a: bool(harm_words & set(a.split())))
    assert (names_harm == (corpus["kind"] == "harmful")).all()  # harmful exactly when it names a harmful tool
    assert not corpus.loc[~corpus["harmful_request"], "kind"].isin(["harmful", "deflection"]).any()
    none = tl.pretrain_corpus(world, 0.0, 5000, seed=0)
    assert not none["answer"].map(lambda a: bool(harm_words & set(a.split()))).any()
    assert corpus.equals(tl.pretrain_corpus(world, 0.1, 20_000, seed=0))


@pytest.mark.parametrize("f, match", [(-0.1, "f must be"), (1.5, "f must be"), (0.5, "above the share")])
def test_a_share_outside_its_range_is_named(world, f, match):
    with pytest.raises(ValueError, match=match):
        tl.pretrain_corpus(world, f, 10, seed=0)


def test_encode_takes_the_loss_where_asked():
    ids, labels = tl.encode(["<bos> user : how do i bake the door ? assistant :"], ["sorry i can not help with that ."],
                            [2])
    assert ids.shape == (1, tl.PROMPT_LENGTH + 9)  # eight words and <eos>
    assert (labels[0, :tl.PROMPT_LENGTH + 2] == -100).all()
    assert (labels[0, tl.PROMPT_LENGTH + 2:] == ids[0, tl.PROMPT_LENGTH + 2:]).all()
    whole, whole_labels = tl.encode(["<bos> user : how do i bake the door ? assistant :"], ["sure ."])
    assert (whole_labels == whole).all()
    with pytest.raises(ValueError, match="as many prompts as answers"):
        tl.encode(["a"], [])
    with pytest.raises(ValueError, match="not in the text lab's vocabulary: \\['zebra'\\]"):
        tl.token_ids(["door", "zebra"])
    with pytest.raises(ValueError, match="loss_from needs one value per document"):
        tl.encode(["<bos> user : how do i bake the door ? assistant :"], ["sure ."], [0, 1])
    with pytest.raises(ValueError, match="loss_from\\[0\\] = 3 leaves no answer token"):
        tl.encode(["<bos> user : how do i bake the door ? assistant :"], ["sure ."], [3])


def test_an_unknown_model_name_is_named():
    with pytest.raises(ValueError, match="unknown text-lab model 'gpt-5'; choose one of gpt2-lab"):
        tl.create_lm(0, "gpt-5")


def test_training_needs_a_batch_and_is_deterministic(world):
    corpus = tl.pretrain_corpus(world, 0.05, 64, seed=1)
    ids, labels = tl.encode(list(corpus["prompt"]), list(corpus["answer"]))
    cfg = tl.TrainConfig(epochs=1, batch_size=32)
    a, b = tl.create_lm(3), tl.create_lm(3)
    ha, hb = tl.train_lm(a, ids, labels, cfg), tl.train_lm(b, ids, labels, cfg)
    assert ha == hb and ha["steps"] == 2
    assert all((pa == pb).all() for pa, pb in zip(a.parameters(), b.parameters()))
    with pytest.raises(ValueError, match="fewer than one batch of 32"):
        tl.train_lm(tl.create_lm(0), ids[:10], labels[:10], cfg)


def test_alignment_data_refuses_harmful_requests_and_augments_half(world):
    plain = al.alignment_data(world, 400, seed=0)
    assert plain["harmful_request"].mean() == pytest.approx(0.5, abs=0.08)
    assert (plain.loc[plain["harmful_request"], "answer"] == tl.REFUSAL).all()
    assert (plain["loss_from"] == 0).all()
    assert not plain["prompt"].str.contains("|".join(world.heldout_objects)).any()
    aug = al.alignment_data(world, 400, seed=0, augment=True)
    assert aug["prompt"].equals(plain["prompt"])  # the same requests, paired
    recovery = aug[aug["loss_from"] > 0]
    assert 0.15 < len(recovery) / len(aug) < 0.35  # half of the harmful half
    assert recovery["harmful_request"].all()
    assert recovery["answer"].str.endswith(tl.REFUSAL).all()
    for _, r in recovery.iterrows():  # the prefix is the harmful answer's start, then the refusal
        words = r["answer"].split()
        assert len(words) == r["loss_from"] + len(tl.REFUSAL.split())
        assert words[0] == "sure"


def test_prefills_are_the_harmful_answers_start_or_random_words(world):
    prompts = al.eval_prompts(world, harmful=True)
    assert len(prompts) == len(tl.HARM_TASKS) * tl.N_HELDOUT_OBJECTS
    pre = al.prefill_words(world, prompts, 5)
    assert all(p == tl.COMPLIANCE.split() for p in pre)
    rand = al.prefill_words(world, prompts, 5, "random", seed=0)
    harm = {t for _, t in tl.HARM_TASKS}
    assert all(len(p) == 5 and not harm & set(p) for p in rand)
    assert rand == al.prefill_words(world, prompts, 5, "random", seed=0)
    with pytest.raises(ValueError, match="k \\(prefilled tokens\\) must be an int from 0 to 13, one less than the "
                                         "harmful answer's 14 tokens; got 30"):
        al.prefill_words(world, prompts, 30)  # longer than the answer
    with pytest.raises(ValueError, match="prompts is empty"):
        al.prefill_words(world, prompts.iloc[:0], 1)
    with pytest.raises(ValueError, match="unknown prefill kind 'nice'"):
        al.prefill_words(world, prompts, 2, "nice")


def test_generation_is_seeded_and_counts_harm_by_the_harmful_tools(world, small_model):
    prompts = al.eval_prompts(world, harmful=True).iloc[:8]
    pre = al.prefill_words(world, prompts, 7)  # up to the tool: the next word names it
    a = al.generate(small_model, list(prompts["prompt"]), pre, 3, seed=5)
    assert a.shape == (24, al.MAX_NEW_TOKENS)
    assert (a == al.generate(small_model, list(prompts["prompt"]), pre, 3, seed=5)).all()
    r = al.rates(small_model, world, prompts, pre, 3, seed=5)
    harm = np.isin(a, tl.harmful_token_ids()).any(axis=1).reshape(8, 3).mean(axis=1)
    assert np.allclose(r["harmful"], harm)
    assert set(r.columns) >= {"harmful", "refused", "helpful"}
    with pytest.raises(ValueError, match="one prefill per prompt"):
        al.generate(small_model, list(prompts["prompt"]), pre[:2], 1, seed=0)
    with pytest.raises(ValueError, match="same length"):
        al.generate(small_model, list(prompts["prompt"][:2]), [["sure"], []], 1, seed=0)
    with pytest.raises(ValueError, match="not in the text lab's vocabulary: \\['zebra'\\]"):
        al.generate(small_model, list(prompts["prompt"][:1]), [["zebra"]], 1, seed=0)
    whole = al.rates(small_model, world, prompts, al.prefill_words(world, prompts, 8), 2, seed=5)
    assert (whole["harmful"] == 1.0).all()  # the prefill itself names the harmful tool: the answer is harmful


def test_position_kl_is_zero_against_itself_and_positive_after_alignment(world, small_model):
    prompts = al.eval_prompts(world, harmful=True).iloc[:4]
    answers = [tl.compliant_answer(world, v, o) for v, o in zip(prompts["verb"], prompts["object"])]
    same = al.position_kl(small_model, small_model, list(prompts["prompt"]), answers)
    assert same.shape == (4, len(answers[0].split()) + 1)
    assert np.allclose(same, 0.0, atol=1e-6)
    with pytest.raises(ValueError, match="requests of 12 tokens"):
        al.position_kl(small_model, small_model, ["<bos> user : hi"], answers[:1])
    aligned, _ = al.fine_tune(small_model, al.alignment_data(world, 256, seed=0),
                              tl.TrainConfig(epochs=1, batch_size=32, lr=2e-3, warmup=2))
    kl = al.position_kl(aligned, small_model, list(prompts["prompt"]), answers)
    assert (kl >= -1e-6).all() and kl[:, 0].mean() > kl[:, 1:].mean()  # "sure" -> "sorry" first


def test_the_probe_needs_a_model_and_reports_each_held_out_verb(world, small_model):
    with pytest.raises(ValueError, match="models is empty"):
        al.probe_accuracy({}, world, 0)
    table = al.probe_accuracy({"m": small_model}, world, 0)
    assert len(table) == (len(tl.HARM_TASKS) + len(tl.BENIGN_TASKS)) // 2
    assert table["accuracy"].between(0, 1).all() and table["harmful_verb"].sum() == len(tl.HARM_TASKS) // 2


def test_cached_models_round_trip_and_corrupt_entries_are_rebuilt(tmp_path, monkeypatch, small_model):
    from uim_utils import cache

    monkeypatch.setenv("UIM_CACHE", str(tmp_path))
    calls = []

    def build():
        calls.append(1)
        return small_model, {"steps": 1}

    model, hit = tl.cached_lm({"test": 1}, build)
    again, hit2 = tl.cached_lm({"test": 1}, build)
    assert (hit, hit2, len(calls)) == (False, True, 1)
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert (a == b).all(), name
    tensor_file = next((tmp_path / tl.CACHE_NAMESPACE).glob("*.safetensors"))
    tensor_file.write_bytes(tensor_file.read_bytes()[:-10])  # truncated
    _, hit3 = tl.cached_lm({"test": 1}, build)
    assert not hit3 and len(calls) == 2
    assert cache.load_entry(tl.CACHE_NAMESPACE, tensor_file.stem) is not None


def test_decode_stops_at_the_end_of_the_answer():
    ids = np.array([tl.token_ids(["sorry", "i", "can", "not", "help", "with", "that", ".", "<eos>", "<pad>"])])
    assert al.decode(ids) == [tl.REFUSAL]
    assert isinstance(pd.DataFrame({"a": al.decode(ids)}), pd.DataFrame)
