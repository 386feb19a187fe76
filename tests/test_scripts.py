"""The helper scripts (`make book`, `make sync`, the set-up's pip_to_uv, the sweeps behind the
chapters' seed tables) and the Makefile wiring."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from types import ModuleType

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_book = load_script("build_book")
pip_to_uv = load_script("pip_to_uv")
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


def test_pre_execution_fills_the_cache_that_the_build_reads(tmp_path: Path, monkeypatch) -> None:
    """UIM_BOOK_PARALLEL=1 executes the toc's notebooks into the keyed jupyter-cache, so that
    jupyter-book finds every one cached (the match it makes: same code cells), and reports
    each notebook: executed, failed with the cell's traceback, or cached from before."""
    from jupyter_cache import get_cache

    repo = fake_repo(tmp_path)
    (repo / "notebooks" / "solutions").mkdir(parents=True)
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    pages = (("01_a", "print(1 + 1)"), ("02_b", "x = 3\nprint(x * 2)"), ("03_bad", "raise ValueError('bad cell')"),
             ("solutions/01_a_solutions", "print('s')"))
    for name, code in pages:
        nbformat.write(new_notebook(cells=[new_code_cell(code)], metadata=kernel), repo / "notebooks" / f"{name}.ipynb")
    (repo / "_toc.yml").write_text("format: jb-book\nroot: intro\nparts:\n  - caption: C\n    chapters:\n"
                                   "      - file: notebooks/01_a\n        sections:\n"
                                   "          - file: notebooks/solutions/01_a_solutions\n"
                                   "      - file: notebooks/02_b\n      - file: notebooks/03_bad\n"
                                   "      - file: missing\n")
    nbs = repo / "notebooks"
    assert build_book.toc_notebooks(repo) == [nbs / "01_a.ipynb", nbs / "solutions" / "01_a_solutions.ipynb",
                                              nbs / "02_b.ipynb", nbs / "03_bad.ipynb"]
    assert build_book.execution_waves(build_book.toc_notebooks(repo)) == [
        [nbs / "01_a.ipynb", nbs / "02_b.ipynb", nbs / "03_bad.ipynb"], [nbs / "solutions" / "01_a_solutions.ipynb"]]
    config = build_book.write_keyed_config(repo, repo / "_build", "ci-seed0-test")
    report = build_book.pre_execute(repo, config, repo / "report.json")
    assert json.loads((repo / "report.json").read_text()) == report
    assert {k: v["status"] for k, v in report.items()} == {
        "notebooks/01_a.ipynb": "executed", "notebooks/02_b.ipynb": "executed",
        "notebooks/03_bad.ipynb": "failed", "notebooks/solutions/01_a_solutions.ipynb": "executed"}
    assert "ValueError: bad cell" in report["notebooks/03_bad.ipynb"]["traceback"]
    cache = get_cache(yaml.safe_load(config.read_text())["execute"]["cache"])
    for name, expected in (("01_a", "2\n"), ("02_b", "6\n")):
        record = cache.match_cache_notebook(nbformat.read(nbs / f"{name}.ipynb", as_version=4))
        outputs = cache.get_cache_bundle(record.pk).nb.cells[0].outputs
        assert outputs[0]["text"] == expected
    again = build_book.pre_execute(repo, config)  # the same code: nothing runs again but the failure
    assert again["notebooks/01_a.ipynb"]["status"] == "cached" and again["notebooks/03_bad.ipynb"]["status"] == "failed"
    monkeypatch.setenv("UIM_BOOK_PARALLEL", "yes")
    with pytest.raises(ValueError, match="UIM_BOOK_PARALLEL must be 0 or 1, got 'yes'"):
        build_book.parallel_execution()
    monkeypatch.setenv("UIM_BOOK_PARALLEL", "1")
    assert build_book.parallel_execution()


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
    for needle in ("UIM_PROFILE=ci", "HF_HUB_OFFLINE=1", "--dist loadfile", "--must-run",
                   "tests/test_book_build.py", "tests/test_lint.py"):
        assert needle in recipe, needle
    # the notebooks run once, in the book-build test (first, so that it starts first)
    assert "notebooks/" not in recipe and "nbval" not in recipe
    assert recipe.index("tests/test_book_build.py") < recipe.index(" tests ")
    assert "-n $(TEST_WORKERS)" in recipe and re.search(r"TEST_WORKERS \?= 2", makefile)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.startswith("#!/bin/bash") and "set -euo pipefail" in ci
    assert re.search(r"^exec make test$", ci, re.M)
    assert "make test" in (ROOT / "README.md").read_text()




def test_cleanclip_design_sweep_refuses_held_out_seeds() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "sweep_cleanclip.py"), "--seeds", "0,1000"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "development seeds (below 1000)" in out.stderr


# The environment set-up (scripts/setup_venv.sh): uv reads pip's index settings.

def test_pip_settings_follow_pips_precedence_not_the_listings_order() -> None:
    # pip prints the sections sorted by name: the PIP_* variables (":env:") come first but win
    listing = (":env:.find-links='/opt/b'\n"
               "global.extra-index-url='file:///x/simple\\nhttps://mirror.example/simple'\n"
               "global.find-links='/opt/a'\n"
               "global.cert='/etc/ssl/cert.pem'\n"
               "install.extra-index-url='https://install.example/simple'\n"
               "download.index-url='https://not-for-install.example/simple'\n")
    assert pip_to_uv.pip_settings(listing) == {
        "find-links": ["/opt/b"], "extra-index-url": ["https://install.example/simple"]}
    only_global = "global.extra-index-url='file:///x/simple\\nhttps://mirror.example/simple'\n"
    assert pip_to_uv.pip_settings(only_global) == {
        "extra-index-url": ["file:///x/simple", "https://mirror.example/simple"]}
    assert pip_to_uv.pip_settings("") == {} and pip_to_uv.uv_options({}) == []


def test_uv_options_keep_remote_and_existing_locations_only(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    constraints = tmp_path / "c.txt"
    constraints.write_text("torch<=2.14.1\n")
    settings = {"extra-index-url": [f"file://{tmp_path}/missing", "https://mirror.example/simple"],
                "find-links": [str(wheels), str(tmp_path / "gone")], "constraint": [str(constraints)],
                "index-url": [f"file://{wheels}"]}
    assert pip_to_uv.uv_options(settings) == [
        "--index-url", f"file://{wheels}", "--extra-index-url", "https://mirror.example/simple",
        "--find-links", str(wheels), "--constraint", str(constraints)]


def test_the_makefile_reinstalls_when_the_set_up_changes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    stamp_rule = next(line for line in makefile.splitlines() if line.startswith("$(STAMP):"))
    assert "scripts/setup_venv.sh" in stamp_rule and "scripts/pip_to_uv.py" in stamp_rule
    script = (ROOT / "scripts" / "setup_venv.sh").read_text()
    assert "scripts/pip_to_uv.py" in script and "UIM_INSTALLER" in script


def test_benchmark_step_times_has_every_phase_of_a_step() -> None:
    """The benchmark times the four phases of a training step, each step on a fresh batch;
    a corpus too small for that many batches is refused with a message naming its size."""
    from uim_utils import lab
    from uim_utils.corpus import CorpusConfig, build_corpus
    from uim_utils.pretrain import TrainConfig

    bench = load_script("benchmark_lab")
    corpus = build_corpus(lab.standard_world(0, n_concepts=10), CorpusConfig(n_samples=200, seed=0))
    cfg = TrainConfig(model=lab.MODEL, batch_size=32, channels_last=True, pooled_text=True)
    times = bench.step_times(corpus, cfg, steps=3, warmup=1)
    assert list(times) == ["batch", "forward", "backward", "optimizer"]
    assert all(0 < t < 60 for t in times.values())
    with pytest.raises(ValueError, match="200 pairs"):
        bench.step_times(corpus, cfg, steps=6, warmup=1)
