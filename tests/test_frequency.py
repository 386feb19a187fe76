"""uim_utils.frequency: the shipped real data, its manifest, and the real-data claims."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomllib
from scipy import stats as sps

from uim_utils import frequency as fr
from uim_utils import stats as st

ROOT = Path(__file__).resolve().parents[1]
IMAGENET_COUNTS = "search_counts/imagenet_laion400m_integrated_tlemmatized_i0.7_search_counts.json"


# --------------------------------------------------------------------------- the shipped files


def test_shipped_copy_matches_its_manifest_and_is_complete():
    n = fr.verify()
    manifest = (fr.DATA_DIR / fr.MANIFEST).read_text().splitlines()
    assert n == len(manifest) == 1 + 19 + 73
    names = {line.split("  ", 1)[1] for line in manifest}
    assert "LICENSE" in names and "MIT License" in (fr.DATA_DIR / "LICENSE").read_text()
    assert len(fr.datasets()) == 19 and "imagenet" in fr.datasets()
    readme = (fr.DATA_DIR / "README.md").read_text()
    for needed in ("bethgelab/frequency_determines_performance", "11ef009", "MIT", "2404.04125",
                   "udandarao2024zeroshot"):
        assert needed in readme
    assert "udandarao2024zeroshot" in (ROOT / "book" / "references.bib").read_text()


def test_package_data_ships_every_data_file():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["uim_utils"]
    pkg = ROOT / "uim_utils"
    shipped = {p for pat in patterns for p in pkg.glob(pat) if p.is_file()}
    files = {p for p in fr.DATA_DIR.rglob("*") if p.is_file()}
    assert files and files <= shipped, sorted(str(p) for p in files - shipped)[:5]


def test_module_does_not_import_torch():
    code = "import sys, uim_utils.frequency; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """A copy of the shipped data folder that a test may damage."""
    dst = tmp_path / "data"
    shutil.copytree(fr.DATA_DIR, dst)
    return dst


def test_a_corrupted_copy_is_refused_naming_the_file(data_copy: Path):
    path = data_copy / IMAGENET_COUNTS
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    path.write_bytes(bytes(data))
    with pytest.raises(fr.DataCorruptError, match="imagenet_laion400m_integrated.*is corrupt"):
        fr.load_counts("imagenet", "laion400m", data_dir=data_copy)
    with pytest.raises(fr.DataCorruptError, match="imagenet_laion400m"):
        fr.verify(data_copy)
    # control: the intact files of the same copy still load
    assert len(fr.load_counts("imagenet", "cc3m", data_dir=data_copy)) == 1000


def test_files_outside_the_manifest_are_refused(data_copy: Path):
    (data_copy / "search_counts" / "extra.json").write_text("{}")
    with pytest.raises(fr.DataCorruptError, match="extra.json.*not listed"):
        fr.verify(data_copy)
    manifest = data_copy / fr.MANIFEST
    lines = [ln for ln in manifest.read_text().splitlines() if IMAGENET_COUNTS not in ln]
    manifest.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="no concept counts of pretraining set 'laion400m' for dataset 'imagenet'"):
        fr.load_counts("imagenet", "laion400m", data_dir=data_copy)
    with pytest.raises(fr.DataCorruptError, match="not listed in the manifest"):
        fr.files._read_verified(IMAGENET_COUNTS, data_copy)
    manifest.unlink()
    with pytest.raises(FileNotFoundError, match="no manifest"):
        fr.datasets(data_copy)


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("call, message", [
    (lambda: fr.load_counts("imagenet-1k", "laion400m"),
     r"unknown dataset 'imagenet-1k'; choose one of \[.*'imagenet'"),
    (lambda: fr.load_counts("imagenet", "laion5b"), r"unknown pretraining set 'laion5b'; choose one of \['laion400m'"),
    (lambda: fr.load_counts("imagenet-r", "cc3m"), r"no concept counts of pretraining set 'cc3m' for dataset "
                                                   r"'imagenet-r'; it has counts for \['laion400m'\]"),
    (lambda: fr.load_accuracy("imagenet", "ViT-B-99/laion400m"),
     r"unknown model 'ViT-B-99/laion400m' for dataset 'imagenet'; choose one of \[.*'RN50/cc3m'"),
    (lambda: fr.load_accuracy("imagenet", "RN50"), r"model must be '<arch>/<corpus>'.*got 'RN50'"),
    (lambda: fr.joined("imagenet", "ViT-B-32/laion2b"), r"trained on 'laion2b'.*pass pretraining="),
    (lambda: fr.paired_change("imagenet", "RN50", "cc3m", "cc3m"), r"must differ, got 'cc3m'"),
    (lambda: fr.frequency_accuracy("imagenet", "RN50/cc3m", n_boot=10), r"n_boot must be an integer >= 100, got 10"),
    (lambda: fr.binned_curve(pd.DataFrame({"x": [1.0]}), 3), r"lacks the column\(s\) \['log10_count', 'accuracy'\]"),
])
def test_bad_names_and_values_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_models_are_named_arch_slash_corpus():
    assert fr.parse_model("backboneViT-B-32_pretrainedlaion400m") == ("ViT-B-32", "laion400m")
    assert fr.parse_model("RN50/cc3m") == ("RN50", "cc3m")
    table = fr.available()
    assert len(table) == 19 * 21  # every benchmark lists the 21 checkpoints
    imagenet = table[table["dataset"] == "imagenet"]
    assert len(imagenet) == 21 and imagenet["counts"].sum() == 10
    assert set(imagenet.loc[imagenet["counts"], "pretraining"]) == set(fr.PRETRAINING)
    # a proxy is allowed when asked for: LAION-2B model, LAION-400M counts
    proxy = fr.joined("imagenet", "ViT-B-32/laion2b", pretraining="laion400m")
    assert proxy.attrs["pretraining"] == "laion400m" and len(proxy) == 1000


# --------------------------------------------------------------------------- a tiny synthetic folder


def _write(root: Path, rel: str, obj: object) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def _manifest(root: Path) -> None:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}"
             for p in sorted(root.rglob("*.json"))]
    (root / fr.MANIFEST).write_text("\n".join(lines) + "\n")


@pytest.fixture()
def toy(tmp_path: Path) -> Path:
    root = tmp_path / "toy"
    _write(root, "zero_shot_evaluations/toy_ensemble_results.json", {
        "backboneRN50_pretrainedcc3m": {"full": 50.0, "classwise": {
            "red_fox": 80.0, "cat": 60.0, "dog": 40.0, "plane": 20.0}},
        "backboneRN50_pretrainedcc12m": {"full": 70.0, "classwise": {
            "red_fox": 90.0, "cat": 70.0, "dog": 60.0, "plane": 60.0}},
    })
    _write(root, "search_counts/toy_cc3m_integrated_tlemmatized_i0.7_search_counts.json",
           {"red fox": 999, "cat": 99, "dog": 9, "airplane": 5})
    _write(root, "search_counts/toy_cc12m_integrated_tlemmatized_i0.7_search_counts.json",
           {"red fox": 999, "cat": 999, "dog": 99, "airplane": 5})
    _manifest(root)
    return root


def test_joined_matches_names_and_counts_what_it_drops(toy: Path):
    df = fr.joined("toy", "RN50/cc3m", data_dir=toy)
    assert list(df.columns) == ["class", "count", "log10_count", "accuracy"]
    assert df["class"].tolist() == ["red_fox", "cat", "dog"]  # underscores matched, 'plane' dropped
    assert df["count"].tolist() == [999, 99, 9]
    np.testing.assert_allclose(df["log10_count"], [3.0, 2.0, 1.0])
    np.testing.assert_allclose(df["accuracy"], [0.8, 0.6, 0.4])
    assert df.attrs["n_classes"] == 3 and df.attrs["n_dropped"] == 1
    assert df.attrs["dropped_accuracy"] == ["plane"] and df.attrs["dropped_counts"] == ["airplane"]
    assert fr.load_accuracy("toy", "RN50/cc3m", data_dir=toy).attrs["full"] == pytest.approx(0.5)
    assert fr.spearman(df["log10_count"], df["accuracy"]) == pytest.approx(1.0)
    t = fr.paired_table("toy", "RN50", "cc3m", "cc12m", data_dir=toy)
    np.testing.assert_allclose(t["d_log10_count"], [0.0, 1.0, 1.0])
    np.testing.assert_allclose(t["d_accuracy"], [0.1, 0.1, 0.2])


def test_binned_curve_means_and_t_intervals():
    df = pd.DataFrame({"log10_count": [0.0, 0.1, 0.2, 1.5, 2.9, 3.0], "accuracy": [0.1, 0.2, 0.3, 0.8, 0.6, 0.9]})
    curve = fr.binned_curve(df, n_bins=3)
    assert curve["n"].tolist() == [3, 1, 2] and curve["n"].sum() == len(df)
    first = st.t_interval([0.1, 0.2, 0.3], unit="classes")
    assert curve.loc[0, "accuracy"] == pytest.approx(0.2)
    assert (curve.loc[0, "low"], curve.loc[0, "high"]) == pytest.approx((first.low, first.high))
    assert math.isnan(curve.loc[1, "low"])  # one class: no interval
    assert curve.loc[2, "log10_count"] == pytest.approx(2.95)
    assert len(fr.binned_curve(df, n_bins=6)) == 3  # the 3 empty bins of 6 are left out


# --------------------------------------------------------------------------- real numbers


def test_spearman_and_slope_equal_scipy_on_imagenet_and_the_interval_covers_them():
    df = fr.joined("imagenet", "ViT-B-32/laion400m")
    assert len(df) == 1000 and df.attrs["n_dropped"] == 0
    res = fr.frequency_accuracy("imagenet", "ViT-B-32/laion400m")
    rho = sps.spearmanr(df["log10_count"], df["accuracy"])[0]
    assert res.spearman.estimate == pytest.approx(rho, abs=1e-12)
    assert res.slope.estimate == pytest.approx(np.polyfit(df["log10_count"], df["accuracy"], 1)[0], abs=1e-12)
    for est in (res.spearman, res.slope):
        assert est.low < est.estimate < est.high and est.n == 1000 and est.unit == "classes"
    assert res.spearman.low > 0.05 and res.spearman.high < 0.3


def test_pooled_is_the_mean_of_the_models_correlations():
    ms = ["RN50/cc3m", "RN50/cc12m"]
    est = fr.pooled_frequency_accuracy("caltech256", ms, n_boot=200)
    rhos = [fr.spearman(d["log10_count"], d["accuracy"]) for d in (fr.joined("caltech256", m) for m in ms)]
    assert est.estimate == pytest.approx(np.mean(rhos), abs=1e-12)
    assert est.low < est.estimate < est.high and est.n == 257


def test_numbers_are_deterministic():
    a = fr.paired_change("caltech256", "RN50", "cc3m", "cc12m")
    b = fr.paired_change("caltech256", "RN50", "cc3m", "cc12m")
    assert a == b
    assert a.estimate == pytest.approx(0.351, abs=5e-4)
    other = fr.paired_change("caltech256", "RN50", "cc3m", "cc12m", seed=1)
    assert other.estimate == a.estimate and other.low != a.low  # only the resamples change


def test_survey_marks_where_the_relation_fails():
    s = fr.survey(["eurosat", "stanfordcars"], n_boot=200)
    assert list(s.columns) == list(fr.SURVEY_COLUMNS)
    assert len(s) == 20 and set(s["dataset"]) == {"eurosat", "stanfordcars"}
    row = s[(s["dataset"] == "eurosat") & (s["model"] == "ViT-B-32/laion400m")].iloc[0]
    assert row["spearman"] < 0 and row["relation"] == "none detected" and row["n_classes"] == 10
    undefined = s[s["relation"] == "undefined"]
    assert set(undefined["pretraining"]) == {"cc12m", "yfcc15m"} and (undefined["n_zero"] == 196).all()
    assert undefined["spearman"].isna().all()
    assert not (s["relation"] == "positive").any()


def test_real_claims_hold_and_the_weak_datasets_are_exploratory():
    claims = fr.real_claims()
    assert all(c.id.startswith("R") for c in claims.claims)
    v = fr.check_real()
    assert list(v.columns) == list(fr.REAL_VERDICT_COLUMNS)
    asserted = v[v["asserted"]]
    assert len(asserted) >= 5 and (asserted["verdict"] == "holds").all()
    assert (asserted["low"] > asserted["threshold"]).all() and (asserted["unit"] == "classes").all()
    explo = v[~v["asserted"]]
    assert {"EuroSAT", "Stanford Cars", "UCF101"} <= {s.split(":")[0] for s in explo["statement"]}
    assert (explo["verdict"] == "does not hold").all()
    paired = v.set_index("id").loc["R6"]
    assert paired["n"] == 1000 and paired["estimate"] == pytest.approx(0.161, abs=5e-4)


def test_check_real_names_a_failing_claim(monkeypatch):
    original = fr.verdicts._measure

    def shifted(spec, data_dir, done):
        est = original(spec, data_dir, done)
        if spec.claim.id != "R2":
            return est
        return st.Estimate(-0.1, -0.2, 0.0, 0.05, est.n, est.unit, est.method, est.confidence)

    monkeypatch.setattr(fr.verdicts, "_SPECS", tuple(s for s in fr.verdicts._SPECS if s.claim.id in ("R2", "R8")))
    monkeypatch.setattr(fr.verdicts, "_measure", shifted)
    with pytest.raises(AssertionError, match=r"claim R2 \(ImageNet: .*RN50.*\): .* = -0.100 \[-0.200, 0.000\]"):
        fr.check_real()
    shown = fr.real_verdicts()   # a table computed before is checked as it is
    with pytest.raises(AssertionError, match="claim R2"):
        fr.check_real(shown)


def test_check_real_refuses_a_table_of_other_claims():
    with pytest.raises(ValueError, match=r"real_verdicts\(\) with claims \['R1'"):
        fr.check_real(pd.DataFrame({"id": ["R1"], "verdict": ["holds"], "asserted": [True]}))
    with pytest.raises(ValueError, match="got list"):
        fr.check_real([1, 2])


# --------------------------------------------------------------------------- plots


def test_plots_draw_on_the_given_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3)
    try:
        assert fr.plot_long_tail(axes[0]) is axes[0] and axes[0].get_xscale() == "log"
        assert "184 of 1000 with 0" in axes[0].get_legend().get_texts()[0].get_text()
        fr.plot_frequency_accuracy(axes[1], model_list=("ViT-B-32/laion400m", "RN50/cc3m"))
        assert len(axes[1].get_legend().get_texts()) == 2
        fr.plot_paired_change(axes[2])
        assert "1000 classes" in axes[2].get_title()
    finally:
        plt.close(fig)
