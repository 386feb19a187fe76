"""Measure any chapter's claims over many worlds and write its reproduction record.

A chapter's claims are about worlds (a world = everything one base seed draws), and a
notebook run with base seed ``s`` evaluates them on the worlds ``s, ..., s+n-1`` (``n``
= the chapter's worlds per run in the profile). This script measures every world that
the runs with the given base seeds need, shows what each of those runs would conclude,
and writes the record (``uim_utils/data/records/<chapter>-<profile>.csv`` and ``.json``)
that the appendix page "Reproduction record" renders. The chapter comes from
``uim_utils.chapters.REGISTRY``; its measurement is the same code its notebook runs.

Usage::

    # held-out runs with base seeds 1000..1019 (the worlds 1000..1019+n-1 are measured)
    python scripts/sweep.py 00_the_lab --profile ci --seeds 1000-1019 --design-seeds 0-9
    # two processes, one thread each
    python scripts/sweep.py 00_the_lab --profile ci --seeds 1000-1019 --workers 2
    # re-read a record and print its summary
    python scripts/sweep.py 00_the_lab --profile ci --check

Seeds are ranges (``1000-1019``), lists (``0,3,5``) or both (``0-3,7``).
``--design-seeds`` records the development seeds on which the chapter was designed;
the held-out runs' worlds must avoid them. The exit status is 1 if an asserted claim
does not hold in some held-out run (the record is written anyway; with ``--check``: in
some held-out run of the record, or the record is missing, stale or corrupt), 2 on bad
arguments.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from uim_utils import chapters, parallel
from uim_utils.claims import Claim
from uim_utils.profile import PROFILES
from uim_utils.records import RECORDS_DIR, load_record, record_summary, write_record
from uim_utils.worlds import run_worlds, window_seeds, window_verdicts, world_table


def parse_seeds(text: str) -> list[int]:
    """``"1000-1019"`` -> 1000..1019; ``"0,3,5"`` -> [0, 3, 5]; ``"0-3,7"`` mixes both;
    ``"2000-2380:20"`` steps by 20 (2000, 2020, ..., 2380: base seeds of runs whose
    windows of 20 worlds do not overlap).

    Raises
    ------
    ValueError
        On an empty or malformed item (a negative seed is one), a reversed range or a
        repeated seed.
    """
    out: list[int] = []
    for item in str(text).split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*(?::\s*(\d+)\s*)?)?", item)
        if m is None:
            raise ValueError(f"bad seed item {item.strip()!r} in {text!r}; write e.g. 1000-1019 or 0,3,5 "
                             "(seeds are integers >= 0)")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise ValueError(f"seed range {item.strip()!r} in {text!r} runs backwards")
        step = int(m.group(3)) if m.group(3) is not None else 1
        if step < 1:
            raise ValueError(f"seed step in {item.strip()!r} of {text!r} must be >= 1")
        out.extend(range(lo, hi + 1, step))
    dups = sorted({s for s in out if out.count(s) > 1})
    if dups:
        raise ValueError(f"seeds {dups} are repeated in {text!r}")
    return out


def _seeds_arg(text: str) -> list[int]:
    try:
        return parse_seeds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    """The command line (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("chapter", help="notebook stem of a registered chapter, e.g. 00_the_lab")
    ap.add_argument("--profile", default="ci", choices=PROFILES, help="sizes to measure with (default: ci)")
    ap.add_argument("--seeds", type=_seeds_arg, help="held-out base seeds of the notebook runs, e.g. 1000-1019")
    ap.add_argument("--design-seeds", type=_seeds_arg, default=[],
                    help="development seeds the chapter was designed on (recorded; windows must avoid them)")
    ap.add_argument("--out", type=Path, default=None, help=f"records folder (default: {RECORDS_DIR})")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (one thread each if > 1)")
    ap.add_argument("--confidence", type=float, default=0.95, help="level of the claims' intervals")
    ap.add_argument("--check", action="store_true", help="only load the record and print its summary")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--note", default="", help="how the record came about (shown in the appendix)")
    return ap


def measure_worlds(name: str, seeds: Sequence[int], profile: str, workers: int = 1,
                   progress: bool = True) -> pd.DataFrame:
    """The per-world table of a registered chapter: one row per seed.

    With ``workers > 1`` the worlds are measured in a pool of worker processes
    (:func:`uim_utils.parallel.mp_context`), each limited to one thread
    (:func:`uim_utils.parallel.init_worker`).
    """
    chapter = chapters.get_chapter(name)
    if workers <= 1:
        return run_worlds(lambda s: chapter.measure(s, profile), seeds, progress=progress,
                          desc=f"{name} worlds ({profile})")
    module = chapters.module_of(name)
    results: dict[int, dict[str, float]] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=parallel.mp_context(),
                             initializer=parallel.init_worker) as pool:
        with parallel.quiet_fork():
            futures = {pool.submit(chapters.measure_in_worker, module, s, profile): s for s in seeds}
        for fut in tqdm(as_completed(futures), total=len(futures), desc=f"{name} worlds ({profile})",
                        disable=not progress):
            results[futures[fut]] = fut.result()
    return world_table({s: results[s] for s in seeds})


def _print_runs(runs: pd.DataFrame, spec_claims: Sequence[Claim]) -> None:
    marks = runs[["base_seed"]].copy()
    for c in spec_claims:
        head = f"claim {c.id}" if c.asserted else f"({c.id}, exploratory)"
        marks[head] = runs[f"claim_{c.id}"].map({True: "holds", False: "FAILS"})
    marks["all asserted"] = runs["all_asserted"].map({True: "hold", False: "FAIL"})
    print(marks.to_string(index=False))


def _print_summary(summary: pd.DataFrame) -> None:
    cols = ["id", "asserted", "statistic", "held_in", "estimate", "low", "high", "rule", "distance_se"]
    print(summary[cols].round(3).to_string(index=False))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sweep (or ``--check``); returns the exit status."""
    ap = parser()
    a = ap.parse_args(argv)
    try:
        chapter = chapters.get_chapter(a.chapter)
        n = chapter.worlds(a.profile)
    except ValueError as exc:
        ap.error(str(exc))
    spec = chapter.spec
    if a.workers < 1:
        ap.error(f"--workers must be >= 1, got {a.workers}")
    if a.check:
        try:
            record = load_record(spec, a.profile, root=a.out)
        except (FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        summary = record_summary(spec, record, a.confidence)
        print(f"record of {spec.chapter} ({a.profile}): {len(record.seeds)} worlds, {n} per notebook run")
        _print_summary(summary)
        return 0 if summary["held"].iloc[-1] == summary["runs"].iloc[-1] else 1
    if not a.seeds:
        ap.error("--seeds is required (the held-out base seeds, e.g. 1000-1019) unless --check")
    overlap = sorted(set(window_seeds(a.seeds, n)) & set(a.design_seeds))
    if overlap:
        ap.error(f"the held-out runs' worlds include design seed(s) {overlap}; "
                 "choose held-out seeds whose windows avoid the design seeds")
    worlds = window_seeds(a.seeds, n)
    print(f"{spec.chapter} ({a.profile}, claims version {spec.version}): {len(a.seeds)} notebook runs of {n} "
          f"worlds each -> measuring {len(worlds)} worlds ({worlds[0]}-{worlds[-1]})", flush=True)
    table = measure_worlds(a.chapter, worlds, a.profile, workers=a.workers, progress=not a.no_progress)
    runs = window_verdicts(spec, table, n, a.seeds, a.confidence)
    print("\nverdicts per notebook run (base seed):")
    _print_runs(runs, spec.claims)
    path = write_record(spec, a.profile, table, n, design_seeds=a.design_seeds, heldout_seeds=a.seeds, note=a.note,
                        root=a.out)
    print(f"\nrecord written: {path} (+ {path.with_suffix('.csv').name})")
    summary = record_summary(spec, load_record(spec, a.profile, root=a.out), a.confidence)
    print("\nsummary:")
    _print_summary(summary)
    failed = runs.loc[~runs["all_asserted"], "base_seed"].tolist()
    if failed:
        print(f"\nasserted claims failed in {len(failed)} of {len(runs)} held-out runs (base seeds {failed})",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
