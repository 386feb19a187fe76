"""The helper scripts (`make book`, `make sync`, the sweeps behind the chapters' seed tables) and the Makefile wiring."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType

import nbformat
import pandas as pd
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook, new_output

from uim_utils import evaluate as E

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_book = load_script("build_book")
sync_notebooks = load_script("sync_notebooks")


def fake_repo(tmp_path: Path) -> Path:
    (tmp_path / "uim_utils").mkdir()
    (tmp_path / "uim_utils" / "world.py").write_text("A = 1\n")
    (tmp_path / "requirements.txt").write_text("numpy\n")
    shutil.copy2(ROOT / "_config.yml", tmp_path / "_config.yml")
    return tmp_path


def test_execution_key_changes_with_code_profile_and_seed(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    key = build_book.execution_key("lab", 0, repo)
    assert key.startswith("lab-seed0-")
    assert build_book.execution_key("lab", 0, repo) == key  # deterministic
    assert build_book.execution_key("ci", 0, repo) != key
    assert build_book.execution_key("lab", 1, repo) != key
    (repo / "uim_utils" / "world.py").write_text("A = 2\n")
    assert build_book.execution_key("lab", 0, repo) != key
    (repo / "uim_utils" / "world.py").write_text("A = 1\n")
    (repo / "requirements.txt").write_text("numpy>=2\n")
    assert build_book.execution_key("lab", 0, repo) != key


def test_keyed_config_points_the_cache_and_prunes_stale_ones(tmp_path: Path) -> None:
    repo = fake_repo(tmp_path)
    build = repo / "_build"
    stale = build / ".jupyter_cache" / "lab-seed0-000000000000"
    other = build / ".jupyter_cache" / "ci-seed0-000000000000"
    stale.mkdir(parents=True)
    other.mkdir(parents=True)
    key = build_book.execution_key("lab", 0, repo)
    config_path = build_book.write_keyed_config(repo, build, key)
    config = yaml.safe_load(config_path.read_text())
    assert config["execute"]["cache"] == str((build / ".jupyter_cache" / key).resolve())
    assert config["title"] == yaml.safe_load((ROOT / "_config.yml").read_text())["title"]
    assert not stale.exists() and other.exists()


def test_strip_outputs(tmp_path: Path) -> None:
    nb = new_notebook(cells=[new_code_cell("print(1)")])
    nb.cells[0].outputs = [new_output("stream", name="stdout", text="1\n")]
    nb.cells[0].execution_count = 1
    nb.cells[0].metadata["execution"] = {"iopub.status.busy": "x"}
    nb.metadata["widgets"] = {"state": {}}
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    assert sync_notebooks.strip_outputs(path) is True
    clean = nbformat.read(path, as_version=4)
    assert clean.cells[0].outputs == [] and clean.cells[0].execution_count is None
    assert "execution" not in clean.cells[0].metadata and "widgets" not in clean.metadata
    assert sync_notebooks.strip_outputs(path) is False  # idempotent, no rewrite


def test_sync_finds_every_chapter() -> None:
    stems = sync_notebooks.chapter_stems()
    assert ROOT / "notebooks" / "00_chapter_template" in stems


def test_makefile_test_target_is_one_strict_pytest_run() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert recipe.count("pytest") == 1
    for needle in ("UIM_PROFILE=ci", "HF_HUB_OFFLINE=1", "--nbval-lax", "--dist loadfile",
                   "notebooks/*.ipynb", "--must-run", "tests/test_book_build.py"):
        assert needle in recipe, needle
    assert "-n $(TEST_WORKERS)" in recipe and re.search(r"TEST_WORKERS \?= 2", makefile)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.startswith("#!/bin/bash") and "set -euo pipefail" in ci
    assert re.search(r"^exec make test$", ci, re.M)
    assert "make test" in (ROOT / "README.md").read_text()


def test_sweep_longtail_row_matches_its_own_thresholds(tmp_path: Path, monkeypatch) -> None:
    """The long-tail sweep computes the chapter's claim verdicts from the numbers it reports."""
    monkeypatch.setenv("UIM_CACHE", str(tmp_path / "cache"))
    sweep = load_script("sweep_longtail")
    row = sweep.run_design(seed=0, exponent=1.2, epochs=1, n_pairs=600, work=tmp_path, n_test=3, n_unlabelled=2)
    assert row["n_test"] == 3 and row["n_unlabelled"] == 2
    assert row["claim1"] == (row["zipf_spearman"] > 0 and row["zipf_p"] < sweep.ALPHA_ZIPF
                             and row["zipf_slope_low"] > 0)
    assert row["claim2"] == (row["control_p"] >= sweep.ALPHA_CONTROL)
    for name, claim in (("real", "claim4"), ("la", "claim5")):
        assert row[f"{name}_low"] <= row[f"{name}_gain"] <= row[f"{name}_high"]
        assert row[claim] == (row[f"{name}_low"] > 0 and row[f"{name}_drop"] <= sweep.ACC_MARGIN)
    assert 0 <= row["tail_pred_share"] <= 1 and 0 <= row["head_pred_share"] <= 1
    assert row["all"] == all(row[c] for c in ("claim1", "claim2", "claim3b", "claim4", "claim5"))
    assert row["claim3b"] == (row["probe_gap"] < row["zs_gap_low"])
    assert row["claim3"] == (row["probe_low"] > 0)


def test_sweep_longtail_uses_the_chapters_sizes_and_thresholds() -> None:
    """The sweep's defaults are the chapter's `ci` values, so its table describes the chapter."""
    sweep = load_script("sweep_longtail")
    chapter = (ROOT / "notebooks" / "01_long_tail.py").read_text()

    def value(name: str) -> str:
        m = re.search(rf"^{name} = (.+?)(\s+#.*)?$", chapter, flags=re.M)
        assert m, f"{name} not found in the chapter"
        return m.group(1)

    assert float(value("ALPHA_ZIPF")) == sweep.ALPHA_ZIPF
    assert float(value("ALPHA_CONTROL")) == sweep.ALPHA_CONTROL
    assert float(value("ACC_MARGIN")) == sweep.ACC_MARGIN
    assert int(value("N_GROUP")) == sweep.N_GROUP and int(value("N_CONCEPTS")) == sweep.N_CONCEPTS
    assert value("N_PROBE") == "P.pick(ci=10, lab=20)" and value("N_BOOT") == "P.pick(ci=1000, lab=4000)"
    # the command line's defaults are the chapter's design, and so are run_design's
    args = sweep.parser().parse_args([])
    assert args.exponents == [float(value("MAIN_EXPONENT"))] and args.epochs == [int(value("EPOCHS"))]
    assert args.n_pairs == [int(value("N_PAIRS"))] and args.n_test == [int(value("N_TEST"))]
    assert args.n_unlabelled == [int(value("N_UNLABELLED"))]
    assert sweep.run_design.__defaults__ == (int(value("N_TEST")), int(value("N_UNLABELLED")), 10)
    assert sweep.N_BOOT == 1000


def test_sweep_longtail_rejects_a_zero_exponent(monkeypatch, capsys) -> None:
    sweep = load_script("sweep_longtail")
    monkeypatch.setattr("sys.argv", ["sweep_longtail.py", "--exponents", "0"])
    with pytest.raises(SystemExit):
        sweep.main()
    assert "--exponents must be > 0" in capsys.readouterr().err


def test_sweep_longtail_across_seeds_summarises_each_design() -> None:
    sweep = load_script("sweep_longtail")
    cols = list(sweep.MEASURES)
    assert {"zipf_spearman", "la_gain", "real_unchanged_gain"} <= set(cols)
    rows = [{"exponent": e, "epochs": 3, "n_pairs": 20_000, "n_test": 40, "n_unlabelled": 100, "all": seed == 0,
             **{c: float(seed + e) for c in cols}} for e in (1.2, 1.6) for seed in range(3)]
    out = sweep.across_seeds(pd.DataFrame(rows))
    assert len(out) == 2 * len(cols) and set(out["seeds"]) == {3}
    r = out[(out.exponent == 1.6) & (out.measure == "la_gain")].iloc[0]
    assert (r["mean"], r["lo"], r["hi"]) == pytest.approx(E.mean_ci([1.6, 2.6, 3.6]))
    assert r["claims_all_hold"] == 1
    rows[0]["real_unchanged_gain"] = float("nan")   # seed 0 had no unchanged tail concept
    out = sweep.across_seeds(pd.DataFrame(rows))
    r = out[(out.exponent == 1.2) & (out.measure == "real_unchanged_gain")].iloc[0]
    assert r["seeds"] == 2 and r["mean"] == pytest.approx(2.7)
