"""The registered chapters: their claims, their measurements and known answers.

The template chapter is measured for real (logistic regressions on scikit-learn's
digits: fast). The lab chapter's full measurement pre-trains the standard clean model,
so its statistics are tested here on synthetic per-image correctness (its measurement
runs on a tiny stand-in of the clean model in ``tests/test_lab.py``, which pays for
torch anyway).
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from uim_utils import chapters, lab
from uim_utils.chapters import REGISTRY, Chapter, get_chapter, load_chapter_module, module_of, template
from uim_utils.chapters import lab as lab_chapter
from uim_utils.claims import FAILS, HOLDS
from uim_utils.world import DOMAINS

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- registry

@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_registered_chapters_expose_their_claims_and_a_notebook(key):
    chapter = get_chapter(key)
    assert isinstance(chapter, Chapter) and chapter is load_chapter_module(module_of(key))
    assert chapter.spec.chapter == key
    assert (ROOT / "notebooks" / f"{key}.ipynb").is_file()
    assert callable(chapter.measure) and chapter.worlds("ci") >= chapter.spec.min_worlds >= 1
    assert chapter.worlds("wild") == chapter.worlds("lab")
    assert chapter.spec.asserted()


def test_chapter_modules_import_without_torch():
    code = ("import sys; from uim_utils.chapters import REGISTRY, get_chapter; "
            "[get_chapter(k) for k in REGISTRY]; assert 'torch' not in sys.modules, 'torch imported'")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


# ----------------------------------------------------------------------------- template

def test_long_tail_counts_known_values():
    assert template.long_tail_counts(10, 80, 50).tolist() == [80, 52, 34, 22, 14, 9, 6, 4, 2, 2]
    assert template.long_tail_counts(3, 10, 1).tolist() == [10, 10, 10]
    assert template.long_tail_counts(3, 100, 100).tolist() == [100, 10, 1]
    assert template.long_tail_counts(2, 1, 1000).tolist() == [1, 1]  # never below one example


@pytest.mark.parametrize("args, message", [
    ((10, 80, 0.5), "imbalance ratio must be >= 1, got 0.5"),
    ((10, 80, float("nan")), "imbalance ratio must be >= 1, got nan"),
    ((1, 80, 50), "need n_classes >= 2 and n_max >= 1, got 1 and 80"),
    ((10, 0, 50), "need n_classes >= 2 and n_max >= 1, got 10 and 0"),
])
def test_long_tail_counts_errors(args, message):
    with pytest.raises(ValueError, match=message):
        template.long_tail_counts(*args)


@pytest.fixture(scope="module")
def template_table():
    """The template's statistics on its development seeds 0-9."""
    return pd.DataFrame([{"seed": s, **template.measure(s)} for s in range(10)])


def test_template_measure_is_complete_finite_and_deterministic(template_table):
    for seed in (0, 1):
        row = template.measure(seed)
        assert set(row) == set(template.SPEC.statistics)
        assert all(isinstance(v, float) and math.isfinite(v) for v in row.values())
        assert row == template.measure(seed, "lab")  # same sizes in every profile
        assert row == pytest.approx(template_table.iloc[seed].drop("seed").to_dict(), abs=0)
    assert template.measure(0) != template.measure(1)
    assert template_table["gap"].between(-1, 1).all() and template_table["head_share"].between(0, 1).all()


def test_template_claims_hold_on_the_development_seeds(template_table):
    v = template.SPEC.check(template_table)  # raises if an asserted claim does not hold
    assert v["verdict"].tolist() == [HOLDS] * len(template.SPEC.claims)
    assert v.attrs["seeds"] == list(range(10)) and (v["n_worlds"] == 10).all()


def test_template_checks_can_fail_without_imbalance():
    """A world whose "imbalanced" run has ratio 1 too: no inheritance, no skew, nothing to mitigate."""
    table = pd.DataFrame([{"seed": s, **template.statistics(template.pretrain(s, 1), template.pretrain(s, 1))}
                          for s in range(10)])
    v = template.SPEC.verdicts(table).set_index("id")["verdict"]
    assert v[["1", "2", "4a", "4b"]].tolist() == [FAILS] * 4
    assert v["3"] == HOLDS  # the control is the same run as before: it still holds
    with pytest.raises(AssertionError,
                       match=r"(?s)4 asserted claim\(s\) do not hold.*claim 1 .*claim 2 .*claim 4a .*claim 4b"):
        template.SPEC.check(table)
    # with a uniform prior logit adjustment changes nothing at all
    assert (table[["gain_balanced", "gain_tail", "change_head"]] == 0).all().all()


def test_template_pretrain_with_draws_the_same_world_as_pretrain():
    from sklearn.linear_model import LogisticRegression

    a, b = template.pretrain(3, 50), template.pretrain_with(3, 50, LogisticRegression(max_iter=2000))
    assert (a.counts == b.counts).all() and (a.order == b.order).all()
    np.testing.assert_array_equal(a.model.coef_, b.model.coef_)
    with pytest.raises(ValueError, match="n_max=160 exceeds the 8[0-9] digits"):
        template.pretrain(0, 200, n_max=160)


def test_template_log_proba_scores_a_probability_only_model():
    from sklearn.neighbors import KNeighborsClassifier

    run = template.pretrain_with(0, 50, template.LogProba(KNeighborsClassifier(5)))
    scores = run.model.decision_function(run.X_test)
    assert scores.shape == (len(run.X_test), 10) and np.isfinite(scores).all() and (scores <= 0).all()
    assert template.evaluate(run, 1.0)["tail"] > template.evaluate(run)["tail"]
    with pytest.raises(ValueError, match="floor must be in \\(0, 1\\), got 0"):
        template.LogProba(KNeighborsClassifier(), floor=0)


def test_template_balanced_probe_has_a_uniform_prior():
    run = template.balanced_probe(0, 2)
    assert run.counts.tolist() == [2] * 10 and np.allclose(run.prior, 0.1)
    assert (run.order == template.pretrain(0, 50).order).all()
    for bad in (0, 1000):
        with pytest.raises(ValueError, match=f"per_class must be in 1..8[0-9], got {bad}"):
            template.balanced_probe(0, bad)


def test_the_template_s_gla_prior_recovers_a_known_prior():
    """compare_priors' GLA estimate (longtail.estimate_prior_gla) on sklearn-style scores."""
    from uim_utils.longtail import estimate_prior_gla

    rng = np.random.default_rng(0)
    prior = np.array([0.6, 0.3, 0.1])
    y = np.repeat(np.arange(3), 400)  # balanced labelled set
    clean = rng.normal(0, 1, (1200, 3)) + 3 * np.eye(3)[y]  # balanced-data scores
    q = estimate_prior_gla(clean + np.log(prior), y)  # a model that added log(prior)
    assert q.sum() == pytest.approx(1) and q == pytest.approx(prior, abs=0.05)
    with pytest.raises(ValueError, match="labels must be in \\[0, 2\\], got range \\[0, 3\\]"):
        estimate_prior_gla(clean[:2], np.array([0, 3]))
    with pytest.raises(ValueError, match="labels shape"):
        estimate_prior_gla(clean, y[:5])


def test_template_compare_priors_reads_the_true_prior_as_the_chapter_does():
    run = template.pretrain(0, 50)
    out = template.compare_priors(run, 5, seed=1)
    assert set(out) == {"inherited", "true prior", "mean probability", "GLA"}
    assert out["true prior"] > out["inherited"] and out["GLA"] > out["inherited"]
    with pytest.raises(ValueError, match="n_labelled must be in 1..8[0-9], got 0"):
        template.compare_priors(run, 0, seed=1)


# ----------------------------------------------------------------------------- lab chapter

K, N = 100, 20  # concepts, test images per concept


def synthetic(seed, photo=0.6, other=0.3, untrained=None):
    """Per-domain (correct, concept) arrays of K concepts x N images, drawn at known rates."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(K), N)
    trained = {d: (rng.random(K * N) < (photo if d == "photo" else other), labels) for d in DOMAINS}
    u = np.zeros(K * N, dtype=bool)
    u[rng.choice(K * N, K * N // 100 if untrained is None else int(untrained * K * N), replace=False)] = True
    return trained, dict.fromkeys(DOMAINS, (u, labels))


def test_lab_statistics_known_values():
    trained, untrained = synthetic(0)
    row = lab_chapter.statistics(trained, untrained)
    assert set(row) == set(lab_chapter.SPEC.statistics)
    for d in DOMAINS:
        correct = trained[d][0]
        assert row[f"zs_{d}"] == pytest.approx(correct.mean())
        # the SE is over concepts: about the spread of the concept means / sqrt(K)
        per_concept = correct.reshape(K, N).mean(1)
        assert row[f"zs_{d}_se"] == pytest.approx(per_concept.std(ddof=1) / math.sqrt(K))
    assert row["zs_photo"] == pytest.approx(0.6, abs=0.04) and row["zs_sketch"] == pytest.approx(0.3, abs=0.04)
    others = np.mean([trained[d][0].mean() for d in DOMAINS if d != "photo"])
    assert row["photo_advantage"] == pytest.approx(trained["photo"][0].mean() - others)
    assert row["untrained_excess"] == pytest.approx(0.0, abs=1e-12)  # exactly 1% correct: chance
    assert all(row[f"{s}_se"] > 0 for s in ("zs_photo", "photo_advantage", "untrained_excess"))
    assert row == lab_chapter.statistics(trained, untrained)


def lab_table(*rows):
    return pd.DataFrame([{"seed": s, **r} for s, r in enumerate(rows)])


def test_lab_claims_hold_for_a_working_model_and_fail_at_chance():
    good = lab_table(*(lab_chapter.statistics(*synthetic(s)) for s in (0, 1)))
    v = lab_chapter.SPEC.check(good).set_index("id")
    assert (v["verdict"] == HOLDS).all()
    assert v.loc["1a", "rule"] == "95% CI over concepts low > 0.10 in every world"
    chance = lab_table(*(lab_chapter.statistics(*synthetic(s, photo=0.01, other=0.01)) for s in (0, 1)))
    v = lab_chapter.SPEC.verdicts(chance).set_index("id")["verdict"]
    assert v[["1a", "1b", "1c", "1d"]].tolist() == [FAILS] * 4
    assert v["2"] == FAILS and v["3"] == HOLDS
    # one world at chance is enough to fail claims made in every world
    mixed = lab_table(good.iloc[0].drop("seed").to_dict(), chance.iloc[1].drop("seed").to_dict())
    v = lab_chapter.SPEC.verdicts(mixed).set_index("id")["verdict"]
    assert v[["1a", "1b", "1c", "1d", "2"]].tolist() == [FAILS] * 5 and v["3"] == HOLDS
    # an untrained model far above chance fails the control
    leaky = lab_table(*(lab_chapter.statistics(*synthetic(s, untrained=0.2)) for s in (0, 1)))
    assert lab_chapter.SPEC.verdicts(leaky).set_index("id").loc["3", "verdict"] == FAILS


def test_lab_statistics_refuses_domains_with_other_concepts():
    trained, untrained = synthetic(0)
    labels = trained["sketch"][1]
    shuffled = dict(trained, sketch=(trained["sketch"][0], labels[::-1].copy()))
    with pytest.raises(ValueError, match="same concepts in the same order"):
        lab_chapter.statistics(shuffled, untrained)
    shorter = dict(trained, noisy=(trained["noisy"][0][:1000], labels[:1000]))
    with pytest.raises(ValueError, match="same concepts in the same order"):
        lab_chapter.statistics(shorter, untrained)



@pytest.mark.parametrize("name", sorted(chapters.REGISTRY))
@pytest.mark.parametrize("profile", ["ci", "lab"])
def test_every_registered_chapter_has_a_current_record_where_every_asserted_claim_held(name, profile):
    """A chapter whose claims or measurement changed without a new record fails here
    (load_record checks version and fingerprint); so does a record in which an asserted
    claim failed in some held-out run."""
    from uim_utils.records import load_record, record_summary

    spec = chapters.get_chapter(name).spec
    record = load_record(spec, profile)
    assert record.heldout_seeds and not set(record.seeds) & set(record.design_seeds)
    summary = record_summary(spec, record).set_index("id")
    assert summary.loc["all", "runs"] >= 20
    assert summary.loc["all", "held"] == summary.loc["all", "runs"], summary["held_in"].to_dict()


# ----------------------------------------------------------------------------- long tail

def _long_tail_result(acc_lt, acc_u, count, real=None, seed=0, logp_lt=None, logp_u=None):
    """A synthetic world result of the long-tail chapter (100 concepts)."""
    from uim_utils.chapters import longtail as lt_chapter

    n = len(count)
    order = np.argsort(-np.asarray(count), kind="stable")
    head, tail = np.zeros(n, bool), np.zeros(n, bool)
    head[order[:lt_chapter.N_GROUP]], tail[order[-lt_chapter.N_GROUP:]] = True, True
    names = [f"c{i}" for i in range(n)]
    real_names = [f"r{i}" if i % 2 else f"c{i}" for i in range(n)]   # odd concepts renamed
    real = acc_lt if real is None else real
    concepts = pd.DataFrame({
        "concept": np.arange(n), "name": names, "real_name": real_names, "count": count,
        "log_count": np.log1p(count), "head": head, "tail": tail, "acc_lt": acc_lt, "acc_u": acc_u,
        "acc_probe": acc_u, "acc_real": real, "acc_la": acc_lt, "acc_gla": acc_lt,
        "prior_la": np.full(n, 1 / n), "prior_gla": np.full(n, 1 / n),
        "logp_lt": np.log(np.clip(acc_lt, 1e-3, 1)) if logp_lt is None else logp_lt,
        "logp_u": np.log(np.clip(acc_u, 1e-3, 1)) if logp_u is None else logp_u})
    return lt_chapter.WorldResult(seed, concepts, pd.DataFrame(), np.full(n, 400), 0.1, {})


def test_long_tail_statistics_known_values():
    from uim_utils.chapters import longtail as lt_chapter

    rng = np.random.default_rng(0)
    count = np.arange(100, 0, -1) * 10                     # concept 0 most frequent
    difficulty = rng.uniform(0.2, 0.8, 100)
    acc_u = difficulty
    acc_lt = np.clip(difficulty + 0.004 * (count / 10 - 50), 0, 1)   # frequency helps
    real = acc_lt + np.where(np.arange(100) % 2 == 1, 0.1, 0.0)     # renamed concepts gain 0.1
    row = lt_chapter.statistics(_long_tail_result(acc_lt, acc_u, count, real))
    assert row["rho_freq"] > 0.3 and row["rho_paired"] > 0.95
    assert 0 < row["rho_freq_se"] < 0.15
    assert row["real_renamed_gain"] == pytest.approx(0.1) and row["real_renamed_gain_se"] == pytest.approx(0, abs=1e-12)
    assert row["real_all_change"] == pytest.approx(0.05) and row["n_renamed"] == 50
    head, tail = np.arange(20), np.arange(80, 100)
    assert row["zs_gap"] == pytest.approx(acc_lt[head].mean() - acc_lt[tail].mean())
    assert row["la_tail_gain"] == 0 and row["la_tail_gain_se"] == 0
    assert set(lt_chapter.SPEC.statistics) <= set(row)
    for c in lt_chapter.SPEC.claims:
        if c.within:
            assert c.se_column in row
    table = pd.DataFrame([{"seed": 0, **row}])
    v = lt_chapter.SPEC.check(table).set_index("id")
    assert v.loc["2", "verdict"] == HOLDS and v.loc["6", "verdict"] == HOLDS and row["rho_partial"] > 0.5


class _FeatureWorld:
    """A stand-in world whose 'images' are already features: concept c sits at e_c, with
    noise that grows with the concept's index (the tail, 80-99, is the noisiest)."""

    def sample(self, n, domain, seed):
        rng = np.random.default_rng(seed)
        y = np.repeat(np.arange(100), n)
        x = np.eye(100)[y] * 3 + rng.normal(size=(len(y), 100)) * (0.5 + y[:, None] / 40)
        return x, y


def test_long_tail_probe_gaps_on_known_features(monkeypatch):
    import uim_utils.evaluate
    from uim_utils.chapters import longtail as lt_chapter

    monkeypatch.setattr(uim_utils.evaluate, "encode_images", lambda model, x, normalize=True: x)
    world = _FeatureWorld()
    x, y = world.sample(20, "photo", seed=1)
    concepts = pd.DataFrame({"head": np.arange(100) < 20, "tail": np.arange(100) >= 80})
    zs = lt_chapter.ZeroShotWorld(7, world, None, concepts, pd.DataFrame(), x, y)
    out = lt_chapter.probe_gaps(zs, (2, 10))
    assert list(out.index) == [2, 10] and list(out.columns) == ["accuracy", "head", "tail", "gap", "gap_se"]
    assert (out["gap"] > 0).all() and out.loc[10, "accuracy"] > out.loc[2, "accuracy"]
    assert out.loc[10, "gap"] == pytest.approx(out.loc[10, "head"] - out.loc[10, "tail"])
    for bad in ((), (1, 10), (101,)):
        with pytest.raises(ValueError, match=r"per_class must be labels per concept in 2\.\.100, got"):
            lt_chapter.probe_gaps(zs, bad)


def test_long_tail_run_world_config_names_a_config_of_another_world():
    from uim_utils.chapters import longtail as lt_chapter

    with pytest.raises(ValueError, match="config must be a CorpusConfig with seed=3, got CorpusConfig"):
        lt_chapter.run_world_config(3, lt_chapter.long_tail_config(4))
    with pytest.raises(ValueError, match="config must be a CorpusConfig with seed=3, got 'zipf'"):
        lt_chapter.run_world_config(3, "zipf")


def test_partial_spearman_matches_the_closed_form_and_removes_a_confounder():
    from scipy.stats import spearmanr

    from uim_utils.chapters import longtail as lt_chapter

    rng = np.random.default_rng(3)
    z = rng.normal(size=300)
    x, y = z + rng.normal(size=300), z + rng.normal(size=300)     # related only through z
    r = lambda a, b: spearmanr(a, b).statistic                      # noqa: E731
    closed = (r(x, y) - r(x, z) * r(y, z)) / math.sqrt((1 - r(x, z) ** 2) * (1 - r(y, z) ** 2))
    assert lt_chapter.partial_spearman(x, y, z) == pytest.approx(closed, abs=1e-9)
    assert r(x, y) > 0.4 and abs(lt_chapter.partial_spearman(x, y, z)) < 0.15
    assert lt_chapter.partial_spearman(x, z, z) == 0.0                # nothing left once z is held fixed
    with pytest.raises(ValueError, match="equal length >= 4"):
        lt_chapter.partial_spearman(x, y, z[:10])
    point, se = lt_chapter.partial_spearman_se(x, x + y, z, seed=0)
    assert point > 0.5 and 0 < se < 0.1


def test_long_tail_claims_fail_without_a_frequency_effect():
    from uim_utils.chapters import longtail as lt_chapter

    rng = np.random.default_rng(1)
    count = np.arange(100, 0, -1) * 10
    acc = rng.uniform(0.2, 0.8, 100)
    row = lt_chapter.statistics(_long_tail_result(acc, acc, count))
    v = lt_chapter.SPEC.verdicts(pd.DataFrame([{"seed": 0, **row}])).set_index("id")
    assert v.loc["2", "verdict"] == FAILS and v.loc["6", "verdict"] == FAILS
    with pytest.raises(AssertionError, match="claim 2"):
        lt_chapter.SPEC.check(pd.DataFrame([{"seed": 0, **row}]))


def test_long_tail_helpers_refuse_bad_input():
    from uim_utils.chapters import longtail as lt_chapter

    with pytest.raises(ValueError, match="equal length"):
        lt_chapter.spearman_se(np.arange(5), np.arange(4), seed=0)
    with pytest.raises(ValueError, match="at least 2 concepts, got 1"):
        lt_chapter.mean_se(np.array([0.5]))
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        lt_chapter.run_world(0, "huge")
    with pytest.raises(ValueError, match="seed"):
        lt_chapter.long_tail_config(-1)
    cfg = lt_chapter.long_tail_config(7)
    assert (cfg.seed, cfg.rank_seed, cfg.zipf_exponent, cfg.zipf_offset) == (7, 7, 1.6, 5.0)


@pytest.mark.parametrize("profile", ["ci", "lab"])
def test_long_tail_control_holds_over_the_records_held_out_worlds(profile):
    """The uniform control (claim 3) is about the average world: a run of one world cannot
    decide it, so the record decides it, as an equivalence test over all its worlds."""
    from uim_utils.chapters import longtail as lt_chapter
    from uim_utils.records import load_record, population_interval

    record = load_record(lt_chapter.SPEC, profile)
    claim = lt_chapter.SPEC.get("3")
    values = record.table[claim.statistic].to_numpy(dtype=float)
    assert len(values) >= 20
    result = claim.decide(population_interval(claim, values))
    assert result.passed, result


# ----------------------------------------------------------------------------- backdoor

def _backdoor_result(asr_poisoned=0.9, asr_clip=0.8, asr_cleanclip=0.6, n_concepts=99, per=4, seed=0):
    """A synthetic world of the backdoor chapter: per-concept rates drawn exactly."""
    from uim_utils.chapters import backdoor as bd

    concepts = np.repeat(np.arange(n_concepts), per)
    rng = np.random.default_rng(seed)
    cols = {"concept": concepts}

    def rate(p):  # 0/1 per image, the concept's share exactly round(p * per) / per
        k = int(round(p * per))
        return np.tile(np.r_[np.ones(k), np.zeros(per - k)], n_concepts)

    for name, asr in zip(bd.MODELS, (0.0, asr_poisoned, asr_clip, asr_cleanclip)):
        cols[f"{name}_asr"] = rate(asr)
        cols[f"{name}_hit"] = np.zeros(concepts.size)
        cols[f"{name}_acc"] = rate(0.5)
        cols[f"{name}_lp_asr"] = rate(asr / 2)
        cols[f"{name}_lp_acc"] = rate(0.75)
    poisoned = np.r_[np.ones(40, bool), np.zeros(960, bool)]
    scores = np.r_[rng.normal(-2, 1, 40), rng.normal(0, 1, 960)]
    return bd.WorldResult(seed, 3, pd.DataFrame(cols), scores, poisoned, {})


def test_backdoor_statistics_known_values():
    from uim_utils.chapters import backdoor as bd

    row = bd.statistics(_backdoor_result(asr_poisoned=1.0, asr_clip=0.75, asr_cleanclip=0.5))
    assert row["backdoor"] == 1.0 and row["backdoor_se"] == 0.0  # every concept: 1 - 0
    assert row["control"] == 0.0 and row["stealth"] == 0.0 and row["cleanclip_cost"] == 0.0
    assert row["persist_clip"] == 0.75 and row["cleanclip_gain"] == 0.25
    assert row["probe_backdoor"] == 0.5 and row["poisoned_lp_acc"] == 0.75
    assert 0.9 < row["audit_auc"] < 1.0 and row["audit_auc_se"] > 0
    flagged = round(bd.FLAG_FRACTION * 1000)  # 50 of the 1,000 pairs
    assert row["audit_precision"] == pytest.approx(row["audit_recall"] * 40 / flagged)
    assert set(bd.SPEC.statistics) <= set(row)


def test_concept_mean_se_averages_concepts_first():
    from uim_utils.stats import concept_mean_se

    values = np.array([1.0, 1.0, 1.0, 0.0])     # concept 0 has three images, concept 1 one
    est, se = concept_mean_se(values, np.array([0, 0, 0, 1]))
    assert est == 0.5 and se == pytest.approx(0.5)  # sd of (1, 0) / sqrt(2)
    with pytest.raises(ValueError, match="concepts needs at least 2 distinct labels, got 1"):
        concept_mean_se(values, np.zeros(4))
    with pytest.raises(ValueError, match="1-D of equal length"):
        concept_mean_se(values, np.zeros(3))


def test_backdoor_claims_hold_with_a_backdoor_and_fail_without():
    from uim_utils.chapters import backdoor as bd
    from uim_utils.worlds import run_worlds

    strong = run_worlds(lambda s: bd.statistics(_backdoor_result(seed=s)), [0])
    bd.SPEC.check(strong)
    none = run_worlds(lambda s: bd.statistics(_backdoor_result(asr_poisoned=0.0, seed=s)), [0])
    verdicts = bd.SPEC.verdicts(none).set_index("id")
    assert verdicts.loc["1", "verdict"] == FAILS
    with pytest.raises(AssertionError):
        bd.SPEC.check(none)
    erased = run_worlds(lambda s: bd.statistics(_backdoor_result(asr_clip=0.25, seed=s)), [0])
    assert bd.SPEC.verdicts(erased).set_index("id").loc["6", "verdict"] == FAILS


def test_backdoor_dose_response_reads_the_worlds_two_models_from_its_result():
    from uim_utils.chapters import backdoor as bd
    from uim_utils.stats import concept_mean_se

    result = _backdoor_result(asr_poisoned=1.0)
    curve = bd.dose_response(0, (bd.DOSE, 0), result=result)  # nothing to train or evaluate
    concepts = result.images["concept"].to_numpy()
    for row, name in zip(curve.itertuples(), ("poisoned", "clean")):
        assert (row.asr, row.asr_se) == concept_mean_se(result.images[f"{name}_asr"].to_numpy(), concepts)
        assert (row.acc, row.acc_se) == concept_mean_se(result.images[f"{name}_acc"].to_numpy(), concepts)
    assert list(curve["dose"]) == [bd.DOSE, 0] and list(curve["asr"]) == [1.0, 0.0]
    with pytest.raises(ValueError, match="result is of world 1, not of world 0"):
        bd.dose_response(0, (0,), result=_backdoor_result(seed=1))


def test_backdoor_helpers_refuse_bad_input():
    from uim_utils.chapters import backdoor as bd

    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        bd.run_world(0, "fast")
    with pytest.raises(ValueError, match="dose must be an integer"):
        bd.poisoned_config(0, dose=-1)
    with pytest.raises(ValueError, match="seed must be an integer"):
        bd.poisoned_config(-3)
    with pytest.raises(ValueError, match="doses must be distinct and non-empty"):
        bd.dose_response(0, (0, 0))
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        bd.dose_response(0, (0,), profile="huge")


# ----------------------------------------------------------------------------- noisy captions

def _noisy_result(clean_ood=0.5, noisy_ood=0.25, per=4, n_concepts=20, entropy_gain=0.1, top_change=-0.1,
                  audit_signal=True, seed=0):
    """A synthetic world of the noisy-captions chapter: per-concept rates drawn exactly."""
    from uim_utils.chapters import noisy as nc

    def rate(p, n):  # 0/1 per image, every concept's share exactly round(p * per) / per
        k = int(round(p * per))
        return np.tile(np.r_[np.ones(k), np.zeros(per - k)], n)

    frames = []
    for domain in ("photo", *nc.OOD_DOMAINS, "novel"):
        n = n_concepts // 2 if domain == "novel" else n_concepts
        ood = domain in nc.OOD_DOMAINS
        frames.append(pd.DataFrame({
            "concept": np.repeat(np.arange(n), per), "domain": domain,
            "clean_probe": rate(clean_ood if ood else 0.75, n),
            "noisy_probe": rate(noisy_ood if ood else 0.75, n),
            "noisy_nmtune": rate(0.5, n) if domain != "novel" else np.nan,
            "noisy_ce_only": rate(0.25, n) if domain != "novel" else np.nan}))
    rng = np.random.default_rng(seed)
    wrong = np.r_[np.ones(50, bool), np.zeros(450, bool)]
    quality = np.r_[rng.uniform(0, 0.5, 50), rng.uniform(0.3, 1, 450)] if audit_signal else rng.uniform(0, 1, 500)
    spectra = {"clean": {"entropy": 3.0, "top_k_share": 0.5}, "noisy": {"entropy": 3.0 + entropy_gain}}
    audit = {"quality": quality, "wrong": wrong, "flagged": quality < 0.4}
    spectra["noisy"]["top_k_share"] = 0.5 + top_change
    boot = {"entropy": entropy_gain + rng.normal(0, 0.01, 200),
            "top_share": top_change + rng.normal(0, 0.01, 200)}
    return nc.WorldResult(seed, pd.concat(frames, ignore_index=True), spectra, boot, audit, {})


def test_noisy_statistics_known_values():
    from uim_utils.chapters import noisy as nc

    row = nc.statistics(_noisy_result())
    assert row["ood_drop"] == 0.25 and row["ood_drop_se"] == 0.0  # every concept: 0.5 - 0.25
    assert row["id_change"] == 0.0 and row["transfer_change"] == 0.0
    assert row["nmtune_gain"] == 0.25 and row["nmtune_cost"] == 0.25
    assert row["nmtune_vs_probe"] == 0.25
    assert row["entropy_change"] == pytest.approx(0.1) and 0.005 < row["entropy_change_se"] < 0.02
    assert row["clean_top_share"] == 0.5 and row["noisy_probe_ood"] == 0.25
    assert row["top_share_change"] == pytest.approx(-0.1) and 0.005 < row["top_share_change_se"] < 0.02
    assert "noisy_nmtune_novel" not in row and row["noisy_probe_novel"] == 0.75
    assert 0.85 < row["audit_auc"] < 1.0 and row["audit_auc_se"] > 0
    flags = _noisy_result().audit["flagged"]
    assert row["audit_precision"] == pytest.approx(50 * 0.8 / flags.sum(), abs=0.1)
    assert set(nc.SPEC.statistics) <= set(row)


def test_noisy_claims_hold_with_the_effects_and_fail_without():
    from uim_utils.chapters import noisy as nc
    from uim_utils.worlds import run_worlds

    table = run_worlds(lambda s: nc.statistics(_noisy_result(seed=s)), [0])
    nc.SPEC.check(table)
    for kwargs in ({"top_change": 0.0}, {"audit_signal": False}):
        # the lambda runs at once, inside this iteration
        flat = run_worlds(lambda s: nc.statistics(_noisy_result(seed=s, **kwargs)), [0])  # noqa: B023
        with pytest.raises(AssertionError):
            nc.SPEC.check(flat)


def test_noisy_novel_concepts_are_new_cells():
    from uim_utils import lab
    from uim_utils.chapters import noisy as nc

    world = lab.standard_world(3)
    other, keep = nc.novel_concepts(world, 3)
    assert len(keep) == nc.N_NOVEL and len(set(keep.tolist())) == nc.N_NOVEL

    def grid_cells(w):  # the prototype-grid cells, recomputed from the world's own draw
        import itertools

        from uim_utils import world as wm

        grid = list(itertools.product(range(len(wm._LOBES)), range(len(wm._HOLES)), range(len(wm._ASPECTS)),
                                      range(wm._N_HUES), range(len(wm._STRIPES))))
        pick = np.random.default_rng(w.config.seed).choice(len(grid), size=w.n_concepts, replace=False)
        return [grid[i] for i in pick]

    taken = set(grid_cells(world))
    assert not any(grid_cells(other)[i] in taken for i in keep)
    assert len(taken) == world.n_concepts  # concepts are distinct cells
    # the chapter's reading of a concept's cell agrees with the grid it was drawn from
    assert len(set(nc._cells(world))) == world.n_concepts
    assert all((nc._cells(other)[i] in set(nc._cells(world))) == (grid_cells(other)[i] in taken)
               for i in range(other.n_concepts))
    again = nc.novel_concepts(world, 3)
    assert np.array_equal(again[1], keep)


def test_noisy_spectrum_change_bootstraps_paired_concepts():
    from uim_utils.chapters import noisy as nc

    rng = np.random.default_rng(0)
    concepts = np.repeat(np.arange(30), 5)
    clean = rng.normal(size=(150, 8)) * np.r_[4, 2, 1, 1, 0.5, 0.5, 0.2, 0.2]
    spectra, boot = nc.spectrum_change(clean, clean.copy(), concepts, seed=0)
    assert spectra["clean"]["entropy"] == spectra["noisy"]["entropy"]
    assert all(np.all(b == 0) for b in boot.values())  # same features: every resample's change is 0
    flat = rng.normal(size=(150, 8))
    spectra, boot = nc.spectrum_change(clean, flat, concepts, seed=0)
    assert spectra["noisy"]["entropy"] > spectra["clean"]["entropy"] and boot["entropy"].min() > 0
    assert boot["top_share"].max() < 0  # flat features: the top singular values lose their share
    assert len(boot["entropy"]) == len(boot["top_share"]) == nc.SPECTRUM_BOOT
    with pytest.raises(ValueError, match="must match"):
        nc.spectrum_change(clean, flat[:-1], concepts, seed=0)


def test_noisy_helpers_refuse_bad_input():
    from uim_utils.chapters import noisy as nc

    with pytest.raises(ValueError, match="rate must be a number in"):
        nc.noisy_config(0, 1.0)
    with pytest.raises(ValueError, match="seed"):
        nc.noisy_config(-1)
    with pytest.raises(ValueError, match="unknown profile 'big'"):
        nc.run_world(0, "big")
    with pytest.raises(ValueError, match="distinct"):
        nc.noise_curve(0, (0.1, 0.1))
    with pytest.raises(ValueError, match="rate must be a number in"):
        nc.noise_curve(0, (0.0, 1.5))
    with pytest.raises(ValueError, match="result is of world 1, not of world 0"):
        nc.noise_curve(0, (0.0,), result=_noisy_result(seed=1))
    cfg = nc.noisy_config(5, 0.2)
    assert (cfg.seed, cfg.caption_noise, cfg.n_samples) == (5, 0.2, 40_000)


@pytest.mark.parametrize("profile", ["ci", "lab"])
def test_noisy_ood_drop_holds_over_the_records_held_out_worlds(profile):
    """The OOD inheritance (claim 1) is about the average world: one world's concepts leave
    its interval too wide, so the record decides it, over all its held-out worlds."""
    from uim_utils.chapters import noisy as nc
    from uim_utils.records import load_record, population_interval

    record = load_record(nc.SPEC, profile)
    claim = nc.SPEC.get("1")
    values = record.table.set_index("seed").loc[record.heldout_seeds, claim.statistic].to_numpy(dtype=float)
    assert len(values) >= 20
    result = claim.decide(population_interval(claim, values))
    assert result.passed, result


def test_noisy_audit_corpus_scores_a_sample_deterministically():
    from uim_utils.chapters import noisy as nc
    from uim_utils.corpus import CorpusConfig, build_corpus
    from uim_utils.models import create_lab_model
    from uim_utils.world import ConceptWorld, WorldConfig

    world = ConceptWorld(WorldConfig(n_concepts=4, seed=0))
    corpus = build_corpus(world, CorpusConfig(n_samples=300, seed=0, caption_noise=0.2))
    lm = create_lab_model("uim-tiny", seed=0)
    a, b = nc.audit_corpus(lm, corpus, 120, seed=1), nc.audit_corpus(lm, corpus, 120, seed=1)
    assert all(np.array_equal(a[k], b[k]) for k in ("quality", "wrong", "flagged"))
    assert a["quality"].shape == a["wrong"].shape == a["flagged"].shape == (120,)
    assert ((a["quality"] >= 0) & (a["quality"] <= 1)).all() and a["flagged"].dtype == bool
    assert 0 < a["wrong"].sum() < 120  # the sample holds some of the corpus's wrong captions
    with pytest.raises(ValueError, match="n must be"):
        nc.audit_corpus(lm, corpus, 301, seed=1)


# ----------------------------------------------------------------------------- social bias

def _bias_world(seed=0, lean_high=0.3, lean_balanced=0.0, gap_high=0.15, projection=0.1, recovery=0.85):
    """A synthetic world of the social-bias chapter: word vectors and router outputs drawn exactly.

    Names lean towards career (male) or family (female) words by ``lean``; the P(work) gap
    of every ambiguous pair is the model's gap plus small noise.
    """
    from uim_utils.bias import downstream as bd
    from uim_utils.bias import world as bw
    from uim_utils.bias.words import load_word_lists
    from uim_utils.chapters import bias as bc

    lists = load_word_lists()
    task = bd.build_task(lists["task"], seed=seed, subjects_per_activity=8, n_test_name_pairs=4)
    rng = np.random.default_rng(seed)
    dim = 64

    def words(n, lean):
        base = rng.normal(size=(n, dim)) * 0.3
        base[:, 0] += lean
        base[:, 2] += 1.0
        return base

    A, B_ = words(8, 0) + np.eye(dim)[1] * 2, words(8, 0) - np.eye(dim)[1] * 2
    X0, Y0, N1, N2 = words(32, 0), words(32, 0), words(16, 0), words(16, 0)

    def seat(lean):  # the same words in every model; only the lean differs
        names = {"X": X0 + np.eye(dim)[1] * lean, "Y": Y0 - np.eye(dim)[1] * lean, "A": A, "B": B_}
        flowers = {"X": A[:8] + 0.1, "Y": B_[:8] + 0.1, "A": A, "B": B_}
        null = {"X": N1, "Y": N2, "A": A, "B": B_}
        return {"names": names, "weat6": names, "weat1": flowers, "null": null}

    def down(gap, p_true=0.9, hits=recovery):
        n_a, n_t = len(task.ambiguous), len(task.test)
        g = gap + rng.normal(0, 0.01, n_a)
        hit = rng.random(2 * (n_t + n_a)) < hits
        return bd.DownstreamResult("none", 1.0, g > 0.2, np.zeros(1, bool), g, 0.5 + g / 2, 0.5 - g / 2,
                                   np.ones(n_a, int), np.zeros(n_a, int), np.ones(2 * n_t, int), float(hit.mean()),
                                   np.full(2 * n_t, p_true), hit)

    views = {"base": bw.ModelView(seat(0.0), down(0.02)),
             bc.BALANCED: bw.ModelView(seat(lean_balanced), down(0.02)),
             bc.HIGH: bw.ModelView(seat(lean_high), down(gap_high), down(gap_high - projection, p_true=0.89))}
    return bw.DialWorld(seed=seed, task=task, views=views)


def test_bias_claims_hold_with_a_dialed_association_and_fail_without():
    from uim_utils.chapters import bias as bc
    from uim_utils.worlds import run_worlds

    strong = run_worlds(lambda s: bc.statistics(_bias_world(seed=s)), [0])
    v = bc.SPEC.check(strong).set_index("id")
    assert (v.loc[[c.id for c in bc.SPEC.asserted()], "verdict"] == HOLDS).all()
    assert strong.loc[0, "seat_dose"] > 0.1 and abs(strong.loc[0, "seat_balanced"]) < 0.05
    flat = run_worlds(lambda s: bc.statistics(_bias_world(seed=s, lean_high=0.0, gap_high=0.02)), [0])
    v = bc.SPEC.verdicts(flat).set_index("id")
    assert v.loc["1", "verdict"] == FAILS and v.loc["5", "verdict"] == FAILS
    drift = run_worlds(lambda s: bc.statistics(_bias_world(seed=s, lean_balanced=0.3)), [0])
    assert bc.SPEC.verdicts(drift).set_index("id").loc["2", "verdict"] == FAILS
    hidden = run_worlds(lambda s: bc.statistics(_bias_world(seed=s, recovery=0.5, projection=0.0)), [0])
    v = bc.SPEC.verdicts(hidden).set_index("id")
    assert v.loc["10", "verdict"] == FAILS and v.loc["8", "verdict"] == FAILS
    with pytest.raises(AssertionError, match="claim 1"):
        bc.SPEC.check(flat)


def test_bias_statistics_refuse_a_world_without_its_doses():
    from uim_utils.bias import world as bw
    from uim_utils.chapters import bias as bc

    world = _bias_world()
    del world.views[bc.BALANCED]
    with pytest.raises(ValueError, match="dose 0.5 was not trained"):
        bw.world_statistics(world, bc.BALANCED, bc.HIGH)
    with pytest.raises(ValueError, match="unknown profile 'big'"):
        bc.run_world(0, "big")


# ----------------------------------------------------------------------------- social bias (exercise helpers)

def test_bias_inlp_removes_a_planted_direction_round_by_round():
    from uim_utils.chapters import bias as bias_chapter

    rng = np.random.default_rng(0)
    g = np.repeat(["m", "f"], 100)
    E = rng.normal(size=(200, 6))
    E[:, 0] += np.where(g == "m", 3.0, -3.0)  # gender lives on axis 0 (and a little on 1)
    E[:, 1] += np.where(g == "m", 0.5, -0.5)
    Ps = bias_chapter.inlp_projections(E, g, 3)
    assert len(Ps) == 4 and np.allclose(Ps[0], np.eye(6))
    for k, P in enumerate(Ps):
        assert np.allclose(P @ P, P, atol=1e-8) and np.linalg.matrix_rank(P) == 6 - k
    after = E @ Ps[1].T
    assert abs(np.corrcoef(after[:, 0], g == "m")[0, 1]) < 0.2  # the main direction is gone
    with pytest.raises(ValueError, match="labels must have two classes, got \\['m'\\]"):
        bias_chapter.inlp_projections(E, np.full(200, "m"), 1)
    with pytest.raises(ValueError, match="need E \\(n, d\\) and labels \\(n,\\)"):
        bias_chapter.inlp_projections(E, g[:10], 1)
    with pytest.raises(ValueError, match="n_rounds"):
        bias_chapter.inlp_projections(E, g, 7)


def test_bias_held_out_names_checks_its_arguments():
    from uim_utils.chapters import bias as bias_chapter

    with pytest.raises(ValueError, match="profile"):
        bias_chapter.held_out_names(0, "nope")
    with pytest.raises(ValueError, match="seed"):
        bias_chapter.held_out_names(-1)


# ----------------------------------------------------------------------------- backdoor (exercise helpers)

def test_backdoor_exercise_helpers_name_bad_arguments():
    from uim_utils.chapters import backdoor

    audit = backdoor.AuditSample(None, np.zeros(10), np.zeros(10, bool), None)
    with pytest.raises(ValueError, match="n_clusters"):
        backdoor.cluster_audit(audit, 1)
    with pytest.raises(ValueError, match="flag_fraction must be in \\(0, 1\\), got 0"):
        backdoor.cluster_audit(audit, 4, flag_fraction=0)
    with pytest.raises(ValueError, match="configs must name at least one FinetuneConfig"):
        backdoor.finetune_grid(0, [])
    with pytest.raises(ValueError, match="profile"):
        backdoor.finetune_grid(0, [], "nope")


# ----------------------------------------------------------------------------- noisy captions (exercise helpers)

def test_noisy_downstream_heads_names_bad_arguments():
    from uim_utils.chapters import noisy

    with pytest.raises(ValueError, match="n_probe"):
        noisy.downstream_heads(0, "ci", n_probe=1)
    with pytest.raises(ValueError, match="profile"):
        noisy.downstream_heads(0, "nope")


# ----------------------------------------------------------------------------- lost robustness

def _robust_result(rates=None, per=4, n_concepts=20, seed=0):
    """A synthetic world of the robustness chapter: every concept's rate in every domain exact.

    ``rates`` maps a classifier to ``(photo, shifted)`` accuracy (the same on the three
    shifted domains); ``mix`` is photos only.
    """
    from uim_utils.chapters import robustness as rb

    base = {"zero_shot": (0.5, 0.25), "probe": (0.75, 0.25), "finetuned": (0.5, 0.0), "wise": (0.5, 0.25),
            "narrow": (0.75, 0.0), "mix": (0.0, None)}
    base.update(rates or {})

    def rate(p):
        k = int(round(p * per))
        return np.tile(np.r_[np.ones(k), np.zeros(per - k)], n_concepts)

    frames = []
    for domain in rb.DOMAINS:
        out = pd.DataFrame({"concept": np.repeat(np.arange(n_concepts), per), "domain": domain})
        for name, (photo, shifted) in base.items():
            p = photo if domain == "photo" else shifted
            out[name] = np.nan if p is None else rate(p)
        out["distortion"] = 0.1 if domain == "photo" else 0.2
        frames.append(out)
    return rb.WorldResult(seed, pd.concat(frames, ignore_index=True), {}, {}, {}, {})


def test_robustness_statistics_known_values():
    from uim_utils.chapters import robustness as rb

    row = rb.statistics(_robust_result())
    # gaps: narrow 0.75 - 0 = 0.75, diverse 0.5 - 0.25 = 0.25 -> the diverse gap is 0.5 smaller
    assert row["diversity_er"] == pytest.approx(0.5) and row["diversity_er_se"] == 0.0
    assert row["narrow_above_chance"] == pytest.approx(-rb.CHANCE)
    assert row["ft_ood_loss"] == pytest.approx(0.25) and row["wise_ood_gain"] == pytest.approx(0.25)
    assert row["ft_minus_lp_ood"] == pytest.approx(-0.25) and row["ft_minus_lp_id"] == pytest.approx(-0.25)
    assert row["wise_id_diff"] == 0.0
    assert row["collapse"] == pytest.approx(0.5)  # the weaker end (zero-shot, 0.5) minus the mix (0)
    assert row["distortion_photo"] == pytest.approx(0.1) and row["distortion_sketch"] == pytest.approx(0.2)
    assert set(rb.SPEC.statistics) <= set(row)


def test_robustness_claims_hold_with_the_effects_and_fail_without():
    from uim_utils.chapters import robustness as rb
    from uim_utils.worlds import run_worlds

    rb.SPEC.check(run_worlds(lambda s: rb.statistics(_robust_result(seed=s)), [0]))
    # fine-tuning that keeps its OOD accuracy: claims 3 (loss) and 5 (WiSE's gain) fail
    kept = run_worlds(lambda s: rb.statistics(_robust_result({"finetuned": (0.5, 0.25)}, seed=s)), [0])
    verdicts = rb.SPEC.verdicts(kept).set_index("id")
    assert verdicts.loc["3", "verdict"] == FAILS and verdicts.loc["5", "verdict"] == FAILS
    with pytest.raises(AssertionError):
        rb.SPEC.check(kept)
    # a narrow model that is as robust as the diverse one: claim 1 fails; one above chance: claim 2
    robust = run_worlds(lambda s: rb.statistics(_robust_result({"narrow": (0.5, 0.25)}, seed=s)), [0])
    verdicts = rb.SPEC.verdicts(robust).set_index("id")
    assert verdicts.loc["1", "verdict"] == FAILS and verdicts.loc["2", "verdict"] == FAILS
    # a mix as good as its ends: the interpolation control fails
    working = run_worlds(lambda s: rb.statistics(_robust_result({"mix": (0.5, None)}, seed=s)), [0])
    assert rb.SPEC.verdicts(working).set_index("id").loc["6", "verdict"] == FAILS


def test_robustness_diversity_config_splits_the_shifted_share():
    from uim_utils.chapters import robustness as rb

    cfg = rb.diversity_config(3, 0.3)
    assert cfg.domain_weights["photo"] == pytest.approx(0.7)
    assert [cfg.domain_weights[d] for d in rb.OOD_DOMAINS] == pytest.approx([0.1, 0.1, 0.1])
    assert cfg.n_samples == lab.N_PAIRS and cfg.seed == 3
    assert rb.diversity_config(3, 0.0).domain_weights["sketch"] == 0.0
    assert rb.other_init_config(3).seed == 3 + rb.NARROW_INIT_OFFSET
    assert rb.other_init_config(3).epochs == lab.clean_train_config(3).epochs


def test_robustness_helpers_refuse_bad_input():
    from uim_utils.chapters import robustness as rb

    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        rb.run_world(0, "fast")
    with pytest.raises(ValueError, match="diversity"):
        rb.diversity_config(0, 1.5)
    with pytest.raises(ValueError, match="seed must be an integer"):
        rb.diversity_config(-1, 0.1)
    with pytest.raises(ValueError, match="diversities must be distinct and exclude the standard 0.3"):
        rb.pretrain_models(0, (0.0, 0.3))
    with pytest.raises(ValueError, match="diversities must be distinct and non-empty"):
        rb.diversity_curve(0, ())
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        rb.diversity_curve(0, (0.0,), profile="huge")
    with pytest.raises(ValueError, match="alphas must name at least one mixing weight"):
        rb.wise_curve(_robust_result(), ())


def test_robustness_exercise_helpers_name_bad_arguments():
    from uim_utils.chapters import robustness_exercises as rx

    with pytest.raises(ValueError, match="unknown head 'best'; choose one of zero_shot, probe, random"):
        rx.start_head(_robust_result(), "best")
    with pytest.raises(ValueError, match="variants must name at least one"):
        rx.finetune_variants(_robust_result(), {})


# ----------------------------------------------------------------------------- duplication and privacy

def _dup_result(top_shift=1.0, single_shift=0.0, dedup_top_shift=0.0, shifted_shift=-1.0, dejavu_gain=0.4, seed=0,
                n_non=400, reference_shift=0.0):
    """A synthetic world of the duplication chapter: members' scores shifted by a known amount.

    Non-members score ``0, 1, ..., n_non - 1`` (scaled to [0, 1)); the targets with the
    most copies are shifted by ``top_shift`` under the duplicated model and by
    ``dedup_top_shift`` under the deduplicated one; the singles by ``single_shift``; the
    shifted non-members by ``shifted_shift`` (under both models). The canaries score like
    the targets under the duplicated model and are shifted by ``reference_shift`` under the
    clean (reference) model. In the deja-vu test every target and canary outranks half its
    look-alikes, except the most-copied canaries under the duplicated model, which outrank
    ``0.5 + dejavu_gain`` (the targets ``0.5 + dejavu_gain / 2``).
    """
    from uim_utils.chapters import duplication as du

    base = np.arange(n_non) / n_non
    frames = []
    for model in ("duplicated", "deduplicated"):
        def add(set_name, k, scores, model=model):
            frames.append(pd.DataFrame({"model": model, "set": set_name, "k": k, "score": scores}))
        add("nonmember", 0, base)
        add("shifted", 0, base + shifted_shift)
        add("single", 1, base[::2][:200] + (single_shift if model == "duplicated" else 0.0))
        for k in du.KS:
            shift = (top_shift if model == "duplicated" else dedup_top_shift) if k == du.KS[-1] else 0.0
            add("target", k, base[:: n_non // du.PER_K][: du.PER_K] + shift)
            canary = (top_shift if k == du.KS[-1] else 0.0) if model == "duplicated" else reference_shift
            add("canary", k, base[1:: n_non // du.PER_K][: du.PER_K] + canary)
    acc = pd.DataFrame({"concept": np.repeat(np.arange(10), 4), "domain": "photo",
                        "duplicated": np.tile([1.0, 0.0], 20), "deduplicated": np.tile([1.0, 0.0], 20)})
    n = len(du.KS) * du.PER_K
    dejavu = pd.DataFrame({"row": np.tile(np.r_[np.arange(n), -1 - np.arange(n)], 2),
                           "k": np.tile(np.repeat(du.KS, du.PER_K), 4),
                           "set": np.tile(np.repeat(["target", "canary"], n), 2),
                           "model": np.repeat(["duplicated", "deduplicated"], 2 * n)})
    top = (dejavu["k"] == du.KS[-1]) & (dejavu["model"] == "duplicated")
    gain = np.where(dejavu["set"] == "canary", dejavu_gain, dejavu_gain / 2)
    # per-pair offsets shared by the two models: only a difference paired by pair is exact
    offset = np.tile(np.linspace(-0.2, 0.2, du.PER_K), 4 * len(du.KS))
    dejavu["outranked"] = np.where(top, 0.5 + gain, 0.5) + offset
    scores = pd.concat(frames, ignore_index=True)
    scores.insert(2, "pair", scores.groupby(["model", "set"]).cumcount())
    return du.WorldResult(seed, scores, acc, dejavu, {}, {})


def test_duplication_statistics_known_values():
    from uim_utils.chapters import duplication as du

    row = du.statistics(_dup_result())
    assert row["auc_32"] == 1.0 and row["tpr_32"] == 1.0  # shifted above every non-member
    assert row["auc_1"] == pytest.approx(0.5, abs=0.02) and row["auc_single"] == pytest.approx(0.5, abs=0.02)
    assert row["dup_gain"] == pytest.approx(0.5, abs=0.02)
    assert row["single_above_chance"] == pytest.approx(0.0, abs=0.02)
    assert row["dedup_drop"] == pytest.approx(0.5, abs=0.02) and row["dedup_auc_top"] == pytest.approx(0.5, abs=0.02)
    assert row["pitfall_above_chance"] == 0.5  # members above every shifted non-member
    assert row["dedup_acc_diff"] == 0.0 and row["zs_duplicated"] == 0.5
    assert row["dejavu"] == pytest.approx(0.4) and row["dejavu_se"] == pytest.approx(0.0, abs=1e-12)
    assert row["dejavu_target"] == pytest.approx(0.2)
    assert row["outranked_deduplicated_32"] == pytest.approx(0.5)
    assert row["outranked_duplicated_canary_32"] == pytest.approx(0.9)
    assert row["reference_above_chance"] == pytest.approx(0.0, abs=0.03) and row["reference_above_chance_se"] > 0
    assert row["auc_canary_32"] == 1.0 and row["reference_auc_canary_32"] == pytest.approx(0.5, abs=0.05)
    assert "auc_canary_single" not in row  # the singles are not canaries
    assert all(row[f"{s}_se"] > 0 for s in ("dup_gain", "single_above_chance", "dedup_drop"))
    assert set(du.SPEC.statistics) <= set(row)


def test_duplication_claims_hold_with_the_effects_and_fail_without():
    from uim_utils.chapters import duplication as du
    from uim_utils.worlds import run_worlds

    du.SPEC.check(run_worlds(lambda s: du.statistics(_dup_result(seed=s)), [0]))
    def verdict(claim, **kwargs):
        table = run_worlds(lambda s: du.statistics(_dup_result(seed=s, **kwargs)), [0])
        return du.SPEC.verdicts(table).set_index("id").loc[claim, "verdict"]

    assert verdict("1", top_shift=0.0) == FAILS  # no memorisation
    assert verdict("2", single_shift=0.5) == FAILS  # singles that leak
    assert verdict("4", dejavu_gain=0.0) == FAILS  # nothing recalled from the caption
    assert verdict("5", dedup_top_shift=1.0) == FAILS  # copies that survive deduplication
    assert verdict("7", shifted_shift=0.0) == FAILS  # non-members from the same distribution
    assert verdict("8", reference_shift=0.5) == FAILS  # a "reference" model that knows the canaries
    with pytest.raises(AssertionError):
        du.SPEC.check(run_worlds(lambda s: du.statistics(_dup_result(top_shift=0.0, seed=s)), [0]))


def test_duplication_corpora_deduplicate_to_the_clean_corpus():
    from uim_utils.chapters import duplication as du
    from uim_utils.privacy import PAIR_KEYS, check_disjoint

    world, clean, dup, targets = du.corpora(7)
    assert len(dup) == len(clean) + du.PER_K * sum(k - 1 for k in du.KS) + du.PER_K * sum(du.KS)
    for is_canary in (False, True):
        of_set = targets[targets["canary"] == is_canary]
        assert of_set["k"].value_counts().to_dict() == dict.fromkeys(du.KS, du.PER_K)
        assert (of_set["row"] < 0).all() if is_canary else (of_set["row"] >= 0).all()
    canaries = targets[targets["canary"]]
    with pytest.raises(ValueError, match="both members and non-members"):
        check_disjoint(dup.table, canaries)  # every canary is in the duplicated corpus ...
    check_disjoint(clean.table, canaries)  # ... and none in the clean one
    copies = dup.table.merge(canaries[[*PAIR_KEYS, "k"]], on=list(PAIR_KEYS))
    per_canary = copies.groupby(list(PAIR_KEYS))["k"].agg(["size", "first"])
    assert len(per_canary) == len(canaries) and (per_canary["size"] == per_canary["first"]).all()
    sets = du.member_sets(7, clean, targets, "ci")
    assert len(sets["nonmember"]) == du.N_NONMEMBERS["ci"] and len(sets["single"]) == du.N_SINGLES
    assert len(sets["target"]) == len(sets["canary"]) == du.PER_K * len(du.KS)
    assert not set(sets["single"].index) & set(targets["row"])
    assert sets["shifted"]["noisy"].mean() == pytest.approx(du.SHIFTED_NOISE)
    assert world.n_concepts == lab.N_CONCEPTS


def test_duplication_helpers_refuse_bad_input():
    from uim_utils.chapters import duplication as du

    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        du.run_world(0, "fast")
    with pytest.raises(ValueError, match="seed must be an integer"):
        du.corpora(-1)
    with pytest.raises(ValueError, match="set_name must be 'target' or 'canary'"):
        du.auc_by_k(_dup_result(), set_name="members")
    scores = _dup_result().scores
    clean = scores["model"] == "deduplicated"
    scores.loc[clean, "pair"] = scores.loc[clean].groupby("set")["pair"].transform(lambda p: p[::-1].to_numpy())
    with pytest.raises(ValueError, match="the two models must score the same pairs in the same order"):
        du.dedup_difference(scores)  # the clean model's pairs listed in another order


def test_duplication_run_world_assembles_both_models_measurements_alike_in_workers_and_here(monkeypatch, tmp_path):
    """run_world's tables on untrained stand-ins for the two models, small sets: the same with
    two worker processes as in this process, one block per model in the old order."""
    from uim_utils import pretrain as pt
    from uim_utils.chapters import duplication as du
    from uim_utils.models import create_lab_model

    monkeypatch.setenv("UIM_CACHE", str(tmp_path))
    corpora, sets = du.corpora, du.member_sets
    monkeypatch.setattr(du, "corpora", lambda s: (lambda w, c, d, t: (w, c, d.subset(np.arange(len(d)) < 300), t))(
        *corpora(s)))
    monkeypatch.setattr(du, "member_sets", lambda *a: {k: v.groupby("k").head(2) for k, v in sets(*a).items()})
    monkeypatch.setattr(du, "N_TEST", {"ci": 1, "lab": 1, "wild": 1})
    monkeypatch.setattr(du, "N_LOOKALIKES", 3)
    monkeypatch.setattr(pt, "pretrain", lambda corpus, cfg, progress=True, on_step=None: pt.PretrainResult(
        create_lab_model(lab.MODEL, seed=len(corpus) % 7), {"seconds": 1.0}, False, "k"))
    runs = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("UIM_WORKERS", workers)
        runs[workers] = du.run_world(7, "ci", embed_corpus=True)
    here, there = runs["1"], runs["2"]
    for name in ("scores", "accuracy", "dejavu"):
        assert getattr(here, name).equals(getattr(there, name)), name
    assert np.array_equal(here.corpus_embeddings, there.corpus_embeddings)
    assert here.corpus_embeddings.shape == (300, 64)
    assert list(here.scores["model"].unique()) == ["duplicated", "deduplicated"]
    assert list(here.accuracy.columns) == ["concept", "domain", "duplicated", "deduplicated"]
    assert len(here.accuracy) == lab.N_CONCEPTS * 4  # one image per concept and domain
    assert list(here.dejavu.groupby(["model", "set"], sort=False).size().index) == [
        ("duplicated", "target"), ("duplicated", "canary"), ("deduplicated", "target"), ("deduplicated", "canary")]
    assert here.histories == {"duplicated": 1.0, "deduplicated": 1.0} and set(here.models) == set(here.histories)
    part = du._measure_model(7, "ci", "duplicated", False)  # a worker's job: no embedding, no model back
    assert part["embeddings"] is None and part["model"] is None and part["scores"].equals(
        here.scores[here.scores["model"] == "duplicated"])
    with pytest.raises(ValueError, match="embed_corpus must be True or False, got 1"):
        du.run_world(7, "ci", embed_corpus=1)


# ----------------------------------------------------------------------------- value misalignment

def _mis_result(base_top=0.5, base_low=0.05, aligned=0.0, attacked_top=0.8, attacked_low=0.3, attacked_f0=0.0,
                random=0.05, finetuned=0.3, augmented_attacked=0.05, help_aligned=0.95, help_augmented=0.93,
                kl_first=3.0, kl_later=0.05, probe=1.0, seed=0):
    """A synthetic world of the misalignment chapter with known per-request rates.

    Each condition's harmful rate is the given value plus a per-request offset shared by
    every condition (so differences paired by request are exact); the KL of the aligned
    model is ``kl_first`` at the first answer token and ``kl_later`` elsewhere; the probe's
    accuracy is ``probe`` on every held-out verb.
    """
    from uim_utils import alignment as al
    from uim_utils import textlab as tl
    from uim_utils.chapters import misalignment as mi

    world = tl.text_world(seed)
    prompts = {kind: al.eval_prompts(world, kind == "harmful") for kind in ("harmful", "benign")}
    offset = np.linspace(-0.02, 0.02, len(prompts["harmful"]))
    values = {("base", 0, "none"): lambda f: base_top if f == mi.TOP_F else base_low if f == mi.LOW_F else 0.0,
              ("aligned", 0, "none"): lambda f: aligned,
              ("finetuned", 0, "none"): lambda f: finetuned,
              ("aligned", mi.K_ATTACK, "random"): lambda f: random}
    for k in mi.KS[1:]:
        values[("aligned", k, "harmful")] = (
            lambda f: attacked_top if f == mi.TOP_F else attacked_low if f == mi.LOW_F else attacked_f0)
        values[("augmented", k, "harmful")] = lambda f: augmented_attacked
    values[("augmented", 0, "none")] = lambda f: 0.0
    frames = []
    for f in mi.FS:
        for (model, k, attack), value in values.items():
            v = value(f)
            frames.append(prompts["harmful"].assign(harmful=np.clip(v + (offset if 0 < v < 1 else 0), 0, 1),
                                                    refused=0.0, helpful=0.0, f=f, model=model, attack=attack, k=k,
                                                    request="harmful"))
        for model, h in (("base", 0.9), ("aligned", help_aligned), ("augmented", help_augmented)):
            frames.append(prompts["benign"].assign(harmful=0.0, refused=0.0, f=f, model=model, attack="none", k=0,
                                                   request="benign",
                                                   helpful=h + np.linspace(-0.01, 0.01, len(prompts["benign"]))))
    n_req, n_pos = len(prompts["harmful"]), 15
    kl = pd.DataFrame([(r, p, kl_first if p == 0 else kl_later + 0.001 * r, f, m)
                       for f in mi.FS for m in ("aligned", "augmented") for r in range(n_req) for p in range(n_pos)],
                      columns=["request", "position", "kl", "f", "model"])
    verbs = [v for v, _ in (*world.harm, *world.benign)][::2]
    probe_table = pd.DataFrame([(m, v, v in dict(world.harm), probe - 0.01 * (i % 2), f)
                                for f in mi.FS for m in ("base", "aligned", "augmented")
                                for i, v in enumerate(verbs)],
                               columns=["model", "verb", "harmful_verb", "accuracy", "f"])
    return mi.WorldResult(seed, pd.concat(frames, ignore_index=True), kl, probe_table, {})


def test_misalignment_statistics_known_values():
    from uim_utils.chapters import misalignment as mi

    row = mi.statistics(_mis_result())
    assert row["f_gain"] == pytest.approx(0.45) and row["f_gain_se"] == pytest.approx(0.0, abs=1e-12)
    assert row["align_drop"] == pytest.approx(0.5)
    assert row["shallow_kl"] == pytest.approx(3.0 - 0.05 - 0.001 * np.arange(64).mean())
    assert row["revival"] == pytest.approx(0.8) and row["revival_f"] == pytest.approx(0.5)
    assert row["f0_rate"] == 0.0 and row["random_effect"] == pytest.approx(0.05)
    assert row["specificity"] == pytest.approx(0.75) and row["ft_gain"] == pytest.approx(0.3)
    assert row["recovery"] == pytest.approx(0.75) and row["help_diff"] == pytest.approx(-0.02)
    assert row["probe_aligned"] == pytest.approx(0.995)
    assert row["harmful_base_10"] == pytest.approx(0.5) and row["attacked_aligned_0"] == 0.0
    assert row["attacked1_aligned_10"] == pytest.approx(0.8) and row["later_kl_aligned"] < 0.2
    assert set(mi.SPEC.statistics) <= set(row)


def test_misalignment_statistics_can_all_be_glued():
    from uim_utils.book import glue
    from uim_utils.chapters import misalignment as mi

    for key, value in mi.statistics(_mis_result()).items():
        glue(key, value)  # raises on a name the book cannot glue


def test_misalignment_claims_hold_with_the_effects_and_fail_without():
    from uim_utils.chapters import misalignment as mi
    from uim_utils.worlds import run_worlds

    mi.SPEC.check(run_worlds(lambda s: mi.statistics(_mis_result(seed=s)), [0]))

    def verdict(claim, **kwargs):
        table = run_worlds(lambda s: mi.statistics(_mis_result(seed=s, **kwargs)), [0])
        return mi.SPEC.verdicts(table).set_index("id").loc[claim, "verdict"]

    assert verdict("1", base_top=0.1) == FAILS  # the base model does not follow f
    assert verdict("2", aligned=0.45) == FAILS  # alignment that does nothing
    assert verdict("3", kl_first=0.05) == FAILS  # a deep (or no) alignment
    assert verdict("4", attacked_top=0.05) == FAILS  # prefilling revives nothing
    assert verdict("6", attacked_f0=0.3) == FAILS  # harm revived that pre-training never had
    assert verdict("7", random=0.75) == FAILS  # any tokens revive as much
    assert verdict("9", augmented_attacked=0.75) == FAILS  # augmentation that does not help
    assert verdict("10", help_augmented=0.8) == FAILS  # augmentation that costs helpfulness
    assert verdict("11", probe=0.5) == FAILS  # no concept left to read
    with pytest.raises(AssertionError):
        mi.SPEC.check(run_worlds(lambda s: mi.statistics(_mis_result(attacked_top=0.0, seed=s)), [0]))


def test_misalignment_helpers_refuse_bad_input():
    from uim_utils.chapters import misalignment as mi

    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        mi.run_world(0, "fast")
    with pytest.raises(ValueError, match="seed must be an integer"):
        mi.train_world(-1, 8)
    with pytest.raises(ValueError, match="no measured condition f=0.1, model='aligned', k=9"):
        mi.rate(_mis_result(), 0.1, "aligned", 9)
