"""Tests of uim_utils.records, the chapter registry and scripts/sweep.py, on a fake chapter."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from uim_utils import chapters
from uim_utils.claims import Claim, ClaimSet
from uim_utils.display import describe_record, show_summary
from uim_utils.records import SUMMARY_COLUMNS, load_record, record_paths, record_summary, write_record

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = (
    Claim("1", "The gap is positive", "gap", "effect"),
    Claim("2", "The control is null", "ctrl", "equivalence", margin=0.1),
    Claim("3", "The gap exceeds 1", "gap", "effect", threshold=1.0, asserted=False),
)
SPEC = ClaimSet("00_toy", 1, CLAIMS)
# Worlds 0-3 have a positive gap, 4-6 a negative one (see tests/test_worlds.py).
TOY = pd.DataFrame({
    "seed": [0, 1, 2, 3, 4, 5, 6],
    "gap": [0.30, 0.32, 0.31, 0.29, -0.30, -0.31, -0.29],
    "ctrl": [0.01, -0.01, 0.0, 0.01, -0.01, 0.0, 0.01],
    "note": [0.1234567890123, 1e-17, 2.0, 3.5, 4.0, 5.0, 6.0],   # not a statistic; kept as is
})


def test_record_round_trip(tmp_path: Path) -> None:
    path = write_record(SPEC, "ci", TOY.sample(frac=1, random_state=0), 3, design_seeds=[100, 101],
                        heldout_seeds=[2, 0, 1], root=tmp_path)
    assert path == tmp_path / "00_toy-ci.json" and (tmp_path / "00_toy-ci.csv").exists()
    assert record_paths("00_toy", "ci", tmp_path) == (tmp_path / "00_toy-ci.csv", path)
    rec = load_record(SPEC, "ci", root=tmp_path)
    pd.testing.assert_frame_equal(rec.table, TOY, check_exact=True)   # sorted by seed, floats exact
    m = rec.meta
    assert (m["chapter"], m["profile"], m["version"], m["fingerprint"]) == ("00_toy", "ci", 1, SPEC.fingerprint())
    assert m["n_worlds"] == 3 and m["seeds"] == list(range(7))
    assert m["design_seeds"] == [100, 101] and m["heldout_seeds"] == [0, 1, 2]
    import uim_utils

    assert m["uim_utils_version"] == uim_utils.__version__
    assert isinstance(m["git_commit"], str) and m["created"][:2] == "20"
    assert rec.n_worlds == 3 and rec.heldout_seeds == [0, 1, 2] and rec.design_seeds == [100, 101]
    assert "held-out base seeds 0-2" in describe_record(rec)
    assert not list(tmp_path.glob(".*.tmp"))   # atomic writes leave no temp file


def test_record_summary_counts_runs_and_pools_all_worlds(tmp_path: Path) -> None:
    write_record(SPEC, "ci", TOY, 3, heldout_seeds=[0, 1, 2, 3, 4], root=tmp_path)
    rec = load_record(SPEC, "ci", root=tmp_path)
    s = record_summary(SPEC, rec)
    assert list(s.columns) == list(SUMMARY_COLUMNS)
    assert s["id"].tolist() == ["1", "2", "3", "all"]
    assert s["held_in"].tolist() == ["2 of 5", "5 of 5", "0 of 5", "2 of 5"]
    assert s.loc[3, "statement"] == "all asserted claims together"
    # the claim's own interval over all 7 worlds
    est = CLAIMS[0].interval(TOY["gap"])
    assert s.loc[0, ["estimate", "low", "high"]].tolist() == pytest.approx(est.as_tuple())
    assert s.loc[0, "worlds"] == 7 and s.loc[1, "rule"] == "90% CI inside ±0.10"
    html = show_summary(s).to_html()
    assert "2 of 5" in html and "(exploratory)" in html and "all asserted claims together" in html
    # every held-out run must be complete (no silent dropping); no held-out seeds: every full window
    with pytest.raises(ValueError, match=r"base seed\(s\) \[5, 6\] lack some of their 3 worlds"):
        write_record(SPEC, "lab", TOY, 3, heldout_seeds=[3, 4, 5, 6], root=tmp_path)
    # the population interval is over all worlds; distance_se is the mean over runs
    from uim_utils.worlds import window_verdicts

    wv = window_verdicts(SPEC, TOY, 3, [0, 1, 2, 3, 4])
    assert s.loc[0, "distance_se"] == pytest.approx(wv["dse_1"].mean())
    # a record may not contain development worlds
    with pytest.raises(ValueError, match="include the development"):
        write_record(SPEC, "lab", TOY, 3, design_seeds=[6], heldout_seeds=[0], root=tmp_path)
    write_record(SPEC, "wild", TOY, 3, root=tmp_path)
    assert record_summary(SPEC, load_record(SPEC, "wild", root=tmp_path))["held_in"].iloc[-1] == "2 of 5"


def test_plot_record_draws_every_claim_and_its_bounds(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from uim_utils.claim import claim_bounds
    from uim_utils.display import plot_record

    write_record(SPEC, "ci", TOY, 3, root=tmp_path)
    fig = plot_record(SPEC, load_record(SPEC, "ci", root=tmp_path), ncols=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["claim 1", "claim 2", "claim 3 (exploratory)"]
    dashed = [sorted(line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--")
              for ax in visible]
    assert dashed == [[0.0], [-0.1, 0.1], [1.0]] == [sorted(claim_bounds(c)) for c in CLAIMS]
    assert claim_bounds(Claim("k", "cost", "c", "non_inferiority", margin=0.02)) == [-0.02]
    assert claim_bounds(Claim("k", "cost", "c", "non_inferiority", margin=0.02, direction="less")) == [0.02]
    plt.close(fig)


def test_corrupt_csv_is_detected(tmp_path: Path) -> None:
    write_record(SPEC, "ci", TOY, 3, root=tmp_path)
    csv = tmp_path / "00_toy-ci.csv"
    csv.write_bytes(csv.read_bytes().replace(b"0.32", b"0.42"))
    with pytest.raises(ValueError, match=r"record .*00_toy-ci.csv is corrupt"):
        load_record(SPEC, "ci", root=tmp_path)
    (tmp_path / "00_toy-ci.json").write_text("{not json")
    with pytest.raises(ValueError, match="is corrupt"):
        load_record(SPEC, "ci", root=tmp_path)


def test_version_bump_and_silent_claim_change_are_detected(tmp_path: Path) -> None:
    write_record(SPEC, "ci", TOY, 3, root=tmp_path)
    bumped = ClaimSet("00_toy", 2, CLAIMS)
    with pytest.raises(ValueError, match=r"^record of 00_toy \(ci\) was made by claims version 1 but the "
                                         r"chapter is at version 2: rerun scripts/sweep.py"):
        load_record(bumped, "ci", root=tmp_path)
    silent = ClaimSet("00_toy", 1, (Claim("1", "The gap is positive", "gap", "effect", threshold=0.05),
                                     *CLAIMS[1:]))
    with pytest.raises(ValueError, match="record of 00_toy \\(ci\\).*claims changed without a version bump"):
        load_record(silent, "ci", root=tmp_path)


def test_missing_record_names_the_path_and_the_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"00_toy-lab.json does not exist; make it with "
                                                r"`python scripts/sweep.py 00_toy --profile lab --seeds"):
        load_record(SPEC, "lab", root=tmp_path)


def test_write_record_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"design\) seed\(s\) \[2\]"):
        write_record(SPEC, "ci", TOY, 3, design_seeds=[2], heldout_seeds=[0], root=tmp_path)
    with pytest.raises(ValueError, match=r"held-out run\(s\) with base seed\(s\) \[5, 6\] lack some"):
        write_record(SPEC, "ci", TOY, 3, heldout_seeds=[5, 6], root=tmp_path)
    with pytest.raises(ValueError, match="unknown profile 'big'"):
        write_record(SPEC, "big", TOY, 3, root=tmp_path)
    with pytest.raises(ValueError, match=r"lacks the statistic column\(s\) \['ctrl'\]"):
        write_record(SPEC, "ci", TOY.drop(columns="ctrl"), 3, root=tmp_path)
    with pytest.raises(ValueError, match="the per-world table is empty"):
        write_record(SPEC, "ci", TOY.iloc[:0], 3, root=tmp_path)
    with pytest.raises(ValueError, match="n_worlds must be an integer >= 2, got 1"):
        write_record(SPEC, "ci", TOY, 1, root=tmp_path)
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ registry and sweep
FAKE_CHAPTER = '''
"""A fake chapter for the tests: a known gap per world, no torch."""
from uim_utils.chapters import Chapter
from uim_utils.claims import Claim, ClaimSet

SPEC = ClaimSet("00_fake", 1, (
    Claim("1", "The gap is positive", "gap", "effect"),
    Claim("2", "The control is null", "ctrl", "equivalence", margin=0.1),
    Claim("3", "The gap exceeds 1", "gap", "effect", threshold=1.0, asserted=False),
))
BAD_SEEDS = {BAD_SEEDS}


def measure(seed, profile):
    sign = -1.0 if seed in BAD_SEEDS else 1.0
    return {{"gap": sign * (0.3 + 0.01 * ((seed * 7) % 5 - 2)), "ctrl": 0.01 * ((seed * 3) % 5 - 2)}}


CHAPTER = Chapter(SPEC, measure, {{"ci": 3, "lab": 5}})
'''


def fake_chapter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, bad_seeds: set[int] = frozenset(),
                 name: str = "00_fake") -> str:
    """Write an importable fake chapter module and register it as ``name``."""
    folder = tmp_path / "mods"
    folder.mkdir(exist_ok=True)
    bad = repr(set(bad_seeds)) if bad_seeds else "set()"
    (folder / f"{module}.py").write_text(FAKE_CHAPTER.format(BAD_SEEDS=bad))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.setitem(chapters.REGISTRY, name, module)
    return name


def load_sweep() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sweep", ROOT / "scripts" / "sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_registry_resolves_lazily_and_names_unknown_chapters(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(ValueError, match="unknown chapter '99_nope'; registered chapters: "):
        chapters.get_chapter("99_nope")
    fake_chapter(tmp_path, monkeypatch, "fake_chapter_reg")
    ch = chapters.get_chapter("00_fake")
    assert ch.spec.chapter == "00_fake" and ch.worlds("ci") == 3 and ch.worlds("wild") == 5
    assert ch.measure(0, "ci") == pytest.approx({"gap": 0.28, "ctrl": -0.02})
    with pytest.raises(ValueError, match=r"unknown chapter '99_nope'; registered chapters: .*00_fake"):
        chapters.get_chapter("99_nope")
    monkeypatch.setitem(chapters.REGISTRY, "00_other", "fake_chapter_reg")
    with pytest.raises(ValueError, match="registered as '00_other' but its claims are of '00_fake'"):
        chapters.get_chapter("00_other")
    with pytest.raises(ValueError, match="unknown profile 'big'"):
        chapters.Chapter(SPEC, lambda s, p: {}, {"big": 3})
    with pytest.raises(ValueError, match=r"n_worlds\['ci'\] must be an integer >= 2, got 1"):
        chapters.Chapter(SPEC, lambda s, p: {}, {"ci": 1})


def test_registered_chapters_import_without_torch() -> None:
    """The appendix page reads every registered chapter's claims; that must not import torch."""
    if not chapters.REGISTRY:
        pytest.skip("no chapter registered yet")
    code = ("import sys; from uim_utils import chapters\n"
            "for name in chapters.REGISTRY: chapters.get_chapter(name)\n"
            "bad = sorted(m for m in ('torch', 'open_clip') if m in sys.modules)\n"
            "assert not bad, f'importing the chapter modules imported {bad}'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_parse_seeds() -> None:
    sweep = load_sweep()
    assert sweep.parse_seeds("1000-1003") == [1000, 1001, 1002, 1003]
    assert sweep.parse_seeds("0,3,5") == [0, 3, 5] and sweep.parse_seeds("0-2, 7") == [0, 1, 2, 7]
    for bad, message in (("5-3", "runs backwards"), ("a", "bad seed item 'a'"), ("-1", "bad seed item '-1'"),
                         ("1,1", r"seeds \[1\] are repeated"), ("", "bad seed item ''")):
        with pytest.raises(ValueError, match=message):
            sweep.parse_seeds(bad)


def test_sweep_end_to_end_on_a_fake_chapter(tmp_path: Path, monkeypatch, capsys) -> None:
    name = fake_chapter(tmp_path, monkeypatch, "fake_chapter_ok")
    sweep = load_sweep()
    out = tmp_path / "records"
    status = sweep.main([name, "--profile", "ci", "--seeds", "100-103", "--design-seeds", "0-9",
                         "--out", str(out), "--no-progress"])
    text = capsys.readouterr().out
    assert status == 0, text
    assert "measuring 6 worlds (100-105)" in text and "record written" in text and "4 of 4" in text
    rec = load_record(chapters.get_chapter(name).spec, "ci", root=out)
    assert rec.seeds == list(range(100, 106)) and rec.heldout_seeds == [100, 101, 102, 103]
    assert rec.design_seeds == list(range(10)) and rec.n_worlds == 3
    assert rec.table.loc[0, "gap"] == pytest.approx(0.3 + 0.01 * ((100 * 7) % 5 - 2))
    assert sweep.main([name, "--profile", "ci", "--check", "--out", str(out)]) == 0
    assert "4 of 4" in capsys.readouterr().out
    # --check of a missing record fails with the command that makes it
    assert sweep.main([name, "--profile", "lab", "--check", "--out", str(out)]) == 1
    assert "scripts/sweep.py 00_fake --profile lab" in capsys.readouterr().err


def test_sweep_fails_when_a_held_out_run_fails(tmp_path: Path, monkeypatch, capsys) -> None:
    name = fake_chapter(tmp_path, monkeypatch, "fake_chapter_bad", bad_seeds={104, 105})
    sweep = load_sweep()
    out = tmp_path / "records"
    status = sweep.main([name, "--seeds", "100-103", "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert status == 1
    assert "asserted claims failed in 2 of 4 held-out runs (base seeds [102, 103])" in captured.err
    assert (out / "00_fake-ci.json").exists()   # written anyway, for the appendix to show
    meta = json.loads((out / "00_fake-ci.json").read_text())
    assert meta["heldout_seeds"] == [100, 101, 102, 103] and meta["design_seeds"] == []


def test_sweep_refuses_bad_arguments(tmp_path: Path, monkeypatch, capsys) -> None:
    name = fake_chapter(tmp_path, monkeypatch, "fake_chapter_args")
    sweep = load_sweep()
    cases = [([name, "--seeds", "0-3", "--design-seeds", "5"], "include design seed(s) [5]"),
             ([name], "--seeds is required"),
             (["99_nope", "--seeds", "0-3"], "unknown chapter '99_nope'"),
             ([name, "--seeds", "3-1"], "runs backwards"),
             ([name, "--seeds", "0-3", "--workers", "0"], "--workers must be >= 1")]
    for argv, message in cases:
        with pytest.raises(SystemExit) as exc:
            sweep.main([*argv, "--out", str(tmp_path)])
        assert exc.value.code == 2
        assert message in capsys.readouterr().err


def test_sweep_with_two_worker_processes(tmp_path: Path, monkeypatch, capsys) -> None:
    name = fake_chapter(tmp_path, monkeypatch, "fake_chapter_pool")
    sweep = load_sweep()
    table = sweep.measure_worlds(name, [7, 3, 5], "ci", workers=2, progress=False)
    assert table["seed"].tolist() == [7, 3, 5]
    assert table["gap"].tolist() == pytest.approx([0.3 + 0.01 * ((s * 7) % 5 - 2) for s in (7, 3, 5)])
    serial = sweep.measure_worlds(name, [7, 3, 5], "ci", workers=1, progress=False)
    pd.testing.assert_frame_equal(table, serial)


def test_sweep_docstring_says_how_to_use_it() -> None:
    doc = load_sweep().__doc__
    assert "python scripts/sweep.py" in doc and "--check" in doc and "--workers" in doc


def test_one_world_runs_count_per_world_claims_and_pool_the_exploratory_control(tmp_path: Path) -> None:
    spec = ClaimSet("00_toy", 1, (
        Claim("1", "The gap is positive in every world", "gap", "effect", within="concepts"),
        Claim("2", "The control is null on average", "ctrl", "equivalence", margin=0.1, asserted=False),
    ))
    table = TOY.assign(gap_se=0.05)
    write_record(spec, "ci", table, 1, heldout_seeds=[0, 1, 2, 3, 4], root=tmp_path)
    s = record_summary(spec, load_record(spec, "ci", root=tmp_path)).set_index("id")
    assert s.loc["1", "held_in"] == "4 of 5" and s.loc["all", "held_in"] == "4 of 5"
    assert s.loc["2", "held_in"] == "not decided in one-world runs; over all 7 worlds: holds"
