"""Tests of uim_utils.longtail: DuckDB counting, fits, priors, metrics parsing, wild pipeline."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from uim_utils import longtail as L
from uim_utils.offline import OfflineError

FIXTURE = Path(__file__).parent / "fixtures" / "longtail_metrics-LAION400M.json"


def write_captions(path: Path, captions: list[str], column: str = "caption") -> Path:
    pd.DataFrame({column: captions}).to_parquet(path)
    return path


# ------------------------------------------------------------------ counting
def test_normalize_term() -> None:
    assert L.normalize_term("  Night-Snake ") == "night snake"
    with pytest.raises(ValueError, match="'--'"):
        L.normalize_term("--")


def test_count_whole_words_ngrams_and_one_count_per_caption(tmp_path: Path) -> None:
    names = [["night snake", "nightsnake"], ["snake"], ["tabby cat", "cat"]]
    caps = ["A Night-Snake at dusk.",          # night snake (0) and snake (1)
            "snakes are not a snake",           # snake (1) once; 'snakes' is not 'snake'
            "a cat, a tabby cat and a CAT",     # concept 2 once; names: cat, tabby cat
            "nightsnake!",                      # the synonym of 0
            None, ""]
    path = write_captions(tmp_path / "c.parquet", caps)
    per_name, per_concept = L.count_concept_mentions(path, names)
    got = {(r.concept, r.name): r.count for r in per_name.itertuples()}
    assert got == {(0, "night snake"): 1, (0, "nightsnake"): 1, (1, "snake"): 2,
                   (2, "tabby cat"): 1, (2, "cat"): 1}
    assert per_concept["count"].tolist() == [2, 2, 1]


def test_count_reads_folders_globs_and_other_columns(tmp_path: Path) -> None:
    write_captions(tmp_path / "a.parquet", ["a molu", "a bare"], column="TEXT")
    write_captions(tmp_path / "b.parquet", ["the molu"], column="TEXT")
    names = [["molu", "bare"], ["zzz"]]
    for src in (tmp_path, str(tmp_path / "*.parquet"), [tmp_path / "a.parquet", tmp_path / "b.parquet"]):
        _, pc = L.count_concept_mentions(src, names, caption_column="TEXT")
        assert pc["count"].tolist() == [3, 0]
    with pytest.raises(ValueError, match="'caption'"):
        L.count_concept_mentions(tmp_path, names)
    with pytest.raises(FileNotFoundError, match="nope"):
        L.count_concept_mentions(tmp_path / "nope.parquet", names)
    with pytest.raises(ValueError, match="string"):
        L.count_concept_mentions(tmp_path, ["molu"], caption_column="TEXT")


def test_count_equals_the_corpus_ground_truth(tmp_path: Path) -> None:
    from uim_utils.corpus import CorpusConfig, build_corpus
    from uim_utils.world import ConceptWorld, WorldConfig

    world = ConceptWorld(WorldConfig(n_concepts=12, seed=3))
    corpus = build_corpus(world, CorpusConfig(n_samples=600, zipf_exponent=1.0, seed=3))
    per_name, per_concept = L.count_concept_mentions(corpus.to_parquet(tmp_path / "c.parquet"), world.names)
    t = corpus.table
    assert np.array_equal(per_concept["count"], np.bincount(t["caption_concept"], minlength=12))
    truth = t.groupby(["caption_concept", "name_idx"]).size()
    for r in per_name.itertuples():
        idx = world.names[r.concept].index(r.name)
        assert r.count == truth.get((r.concept, idx), 0)


def test_most_frequent_names_ties_go_to_the_first() -> None:
    pn = pd.DataFrame({"concept": [0, 0, 1, 1, 1], "name": ["a", "b", "c", "d", "e"],
                       "count": [3, 3, 1, 5, 2]})
    assert L.most_frequent_names(pn) == ["a", "d"]
    assert L.most_frequent_names(pn, fallback=["x", "y", "z"]) == ["a", "d", "z"]
    with pytest.raises(ValueError, match="count"):
        L.most_frequent_names(pn.drop(columns="count"))


# ------------------------------------------------------------------ interpret
def test_frequency_fit_recovers_a_known_slope() -> None:
    freq = np.array([9, 99, 999, 9999, 99], dtype=float)
    acc = 0.1 + 0.2 * np.log10(1 + freq)
    fit = L.frequency_accuracy_fit(freq, acc)
    assert fit.slope == pytest.approx(0.2)
    assert fit.intercept == pytest.approx(0.1)
    assert fit.spearman == pytest.approx(1.0)
    assert fit.slope_low <= 0.2 <= fit.slope_high
    with pytest.raises(ValueError, match="equal"):
        L.frequency_accuracy_fit(np.ones(5), acc)
    with pytest.raises(ValueError, match="-1"):
        L.frequency_accuracy_fit(np.array([-1.0, 1, 2, 3, 4]), acc)


def test_frequency_fit_holding_difficulty_fixed() -> None:
    rng = np.random.default_rng(0)
    freq = np.round(10 ** rng.uniform(1, 4, 200))
    difficulty = rng.uniform(0, 1, 200)           # varies far more than frequency's effect
    acc = 0.05 * np.log10(1 + freq) + 0.8 * difficulty + rng.normal(0, 0.01, 200)
    raw = L.frequency_accuracy_fit(freq, acc)
    fit = L.frequency_accuracy_fit(freq, acc, difficulty=difficulty)
    assert fit.controlled and not raw.controlled
    assert fit.slope_low <= 0.05 <= fit.slope_high and fit.slope_high - fit.slope_low < 0.01
    assert fit.spearman > 0.8 and fit.spearman_p < 1e-10    # difficulty no longer hides the effect
    assert raw.spearman < 0.5 and raw.slope_high - raw.slope_low > 5 * (fit.slope_high - fit.slope_low)
    # no frequency effect at all: the controlled fit does not invent one
    null = L.frequency_accuracy_fit(freq, 0.8 * difficulty + rng.normal(0, 0.01, 200), difficulty=difficulty)
    assert null.slope_low < 0 < null.slope_high and null.spearman_p > 0.01
    # NaN difficulty drops the concept; a wrong shape names both shapes
    difficulty[:5] = np.nan
    assert L.frequency_accuracy_fit(freq, acc, difficulty=difficulty).n == 195
    with pytest.raises(ValueError, match=r"difficulty \(3,\)"):
        L.frequency_accuracy_fit(freq, acc, difficulty=np.ones(3))


def test_head_tail_masks_and_group_correct() -> None:
    freq = np.array([5, 50, 1, 500, 10, 2])
    head, tail = L.head_tail_masks(freq, 2)
    assert np.flatnonzero(head).tolist() == [1, 3]
    assert np.flatnonzero(tail).tolist() == [2, 5]
    with pytest.raises(ValueError, match="4"):
        L.head_tail_masks(freq, 4)
    y = np.repeat(np.arange(6), 10)
    pred = np.where(np.isin(y, [1, 3]), y, 0)  # head always right, everything else wrong
    assert (L.group_correct(y, pred, head).mean(), L.group_correct(y, pred, tail).mean()) == (1.0, 0.0)


# ------------------------------------------------------------------ mitigate
def _biased_logits(q: np.ndarray, n_per: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Balanced data, a noisy unbiased classifier, plus the log of a known prior."""
    rng = np.random.default_rng(seed)
    k = len(q)
    y = np.repeat(np.arange(k), n_per)
    clean = 2.0 * np.eye(k)[y] + rng.normal(0, 1, (len(y), k))
    return clean + np.log(q), y


def test_priors_recover_a_known_prior_and_adjustment_rebalances() -> None:
    q = np.array([0.5, 0.25, 0.15, 0.1])
    logits, y = _biased_logits(q, 3000)
    q_gla = L.estimate_prior_gla(logits, y)
    assert q_gla == pytest.approx(q, abs=0.02)
    q_unl = L.estimate_prior_unlabelled(logits, n_iter=20)
    assert np.argsort(q_unl).tolist() == np.argsort(q).tolist()
    adj = L.adjust_logits(logits, q_unl).argmax(1)
    share = np.bincount(adj, minlength=4) / len(adj)
    assert share == pytest.approx(np.full(4, 0.25), abs=0.02)  # mean prediction now uniform
    raw_share = np.bincount(logits.argmax(1), minlength=4) / len(y)
    assert raw_share[0] > 0.35  # the bias was there before


def test_mitigation_inputs_are_checked() -> None:
    logits = np.zeros((3, 2))
    with pytest.raises(ValueError, match="shape"):
        L.adjust_logits(logits, np.array([1.0]))
    with pytest.raises(ValueError, match="sum"):
        L.adjust_logits(logits, np.array([0.2, 0.2]))
    with pytest.raises(ValueError, match="-1"):
        L.adjust_logits(logits, np.array([0.5, 0.5]), tau=-1)
    with pytest.raises(ValueError, match="n_iter"):
        L.estimate_prior_unlabelled(logits, n_iter=0)
    with pytest.raises(ValueError, match="NaN"):
        L.estimate_prior_unlabelled(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="labels"):
        L.estimate_prior_gla(logits, np.array([0, 1, 2]))


# ---------------------------------------------------------------------- wild
def test_load_laion_metrics_fixture() -> None:
    m = L.load_laion_metrics(FIXTURE)
    assert m["class_idx"].tolist() == [0, 1, 2, 3]
    assert m["actual_freq"].tolist() == [100, 75, 700, 3]
    assert m.loc[1, "alternates"] == {"molu": 30, "beba": 5, "bare": 40}
    real = L.most_frequent_names(L.metrics_per_name(m))
    assert real == ["fideva", "bare", "ragopo", "ratoro"]  # class 3: a tie, the name wins
    assert real[:3] == m["most_common_name"].tolist()[:3]


@pytest.mark.parametrize("bad, match", [
    ({}, "non-empty"),
    ({"x": {}}, "'x'"),
    ({"0": {"name": "a"}}, "lacks"),
    ({"0": {"name": "a", "alternates": [], "most_common_name": "a", "actual_freq": 1}}, "alternates"),
    ({"1": {"name": "a", "alternates": {}, "most_common_name": "a", "actual_freq": 1}}, "0..0"),
    ({"0": {"name": "a", "alternates": {"a": "many"}, "most_common_name": "a", "actual_freq": 1}}, "non-integer"),
])
def test_load_laion_metrics_rejects_bad_files(bad: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        L.load_laion_metrics(bad)


def test_fetch_fails_fast_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t = time.perf_counter()
    with pytest.raises(OfflineError, match="needs the internet"):
        L.fetch_laion_metrics("flowers102", tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    with pytest.raises(OfflineError, match="needs the internet"):
        L.fetch_laion_metrics("flowers102", tmp_path, url="http://127.0.0.1:9/none.json", timeout=2)
    assert time.perf_counter() - t < 5
    with pytest.raises(ValueError, match="../x"):
        L.fetch_laion_metrics("../x", tmp_path)
    with pytest.raises(ValueError, match="imagenet"):
        L.run_wild("imagenet", "ViT-B-32", "laion400m_e32", tmp_path)


def test_wild_pipeline_offline_on_a_local_checkpoint(tmp_path: Path) -> None:
    """The wild code path end to end: a lab CLIP saved as .safetensors, loaded by path."""
    from safetensors.torch import save_file

    from uim_utils.corpus import CorpusConfig, build_corpus
    from uim_utils.evaluate import encode_images, zero_shot_classify
    from uim_utils.models import load_model
    from uim_utils.pretrain import TrainConfig, pretrain
    from uim_utils.world import ConceptWorld, WorldConfig

    world = ConceptWorld(WorldConfig(n_concepts=4, seed=0))
    metrics = L.load_laion_metrics(FIXTURE)
    assert metrics["name"].tolist() == world.classnames  # the fixture names this world
    corpus = build_corpus(world, CorpusConfig(n_samples=512, zipf_exponent=1.0, seed=0))
    res = pretrain(corpus, TrainConfig(epochs=2, batch_size=64, warmup_steps=2, seed=0),
                   use_cache=False, progress=False)
    ckpt = tmp_path / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in res.model.model.state_dict().items()}, str(ckpt))
    lm = load_model("uim-tiny", ckpt)
    x_test, y_test = world.sample(5, "photo", seed=1)
    x_unl, _ = world.sample(5, "photo", seed=2)
    out = L.wild_pipeline(lm, metrics, x_test, y_test, x_unl, n_group=1)
    assert out.summary.index.tolist() == ["zero-shot", "REAL-Prompt", "logit adj. (unlabelled)"]
    assert out.per_class["real_name"].tolist() == ["fideva", "bare", "ragopo", "ratoro"]
    assert ((out.summary >= 0) & (out.summary <= 1)).all().all()
    assert out.prior.sum() == pytest.approx(1.0) and out.fit.n == 4
    # The loaded checkpoint is the trained model: same zero-shot logits.
    f0 = zero_shot_classify(res.model, world.classnames, encode_images(res.model, x_test), learned_scale=True)
    f1 = zero_shot_classify(lm, world.classnames, encode_images(lm, x_test), learned_scale=True)
    assert np.allclose(f0, f1, atol=1e-4)
    with pytest.raises(ValueError, match="labels"):
        L.wild_pipeline(lm, metrics, x_test, y_test + 4, x_unl, n_group=1)

