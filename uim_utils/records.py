"""Reproduction records: a chapter's claims measured over many worlds, kept with the book.

A record of chapter ``C`` in profile ``P`` is two files in ``uim_utils/data/records/``:

``C-P.csv``
    The per-world table: one row per world (a ``seed`` column and one column per
    statistic), as :func:`uim_utils.worlds.run_worlds` returns it.
``C-P.json``
    What made it: ``chapter``, ``profile``, the claims' ``version`` and ``fingerprint``,
    ``n_worlds`` (worlds per notebook run), ``seeds`` (the worlds in the CSV),
    ``design_seeds`` (the development seeds used while designing the chapter; may be
    empty), ``heldout_seeds`` (the base seeds of the notebook runs the record checks),
    ``uim_utils_version``, ``git_commit`` (``""`` if unknown), ``created`` (ISO 8601,
    UTC) and ``csv_sha256`` (of the CSV's bytes).

``scripts/sweep.py`` writes records (:func:`write_record`); the appendix page reads them
(:func:`load_record`, :func:`record_summary`). A record is refused when its CSV was
edited (hash), or when the chapter's claims changed since it was made (version or
fingerprint), so the book never shows numbers of claims it no longer makes.

This module does not import torch.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import stats
from .cache import atomic_write_bytes
from .claims import FAILS, HOLDS, Claim, ClaimSet, seed_text
from .profile import PROFILES
from .validate import check_int
from .worlds import _check_unique_seeds, full_windows, window_verdicts, world_seeds

RECORDS_DIR = Path(__file__).resolve().parent / "data" / "records"
"""Where the records shipped with the book live."""

_REPO = Path(__file__).resolve().parents[1]

SUMMARY_COLUMNS: tuple[str, ...] = ("id", "statement", "kind", "asserted", "statistic", "held", "runs", "held_in",
                                    "worlds", "estimate", "low", "high", "se", "rule", "distance_se",
                                    "distance_se_worlds", "holds_over_worlds")
"""Columns of :func:`record_summary`, in order."""

ALL_ASSERTED = "all asserted claims together"


@dataclass(frozen=True)
class Record:
    """A loaded, verified reproduction record.

    Attributes
    ----------
    meta : dict
        The JSON sidecar (see the module docstring).
    table : DataFrame
        The per-world table, sorted by seed.
    """

    meta: dict[str, Any]
    table: pd.DataFrame = field(repr=False)

    @property
    def n_worlds(self) -> int:
        """Worlds per notebook run."""
        return int(self.meta["n_worlds"])

    @property
    def seeds(self) -> list[int]:
        """The worlds of the record."""
        return [int(s) for s in self.meta["seeds"]]

    @property
    def heldout_seeds(self) -> list[int]:
        """Base seeds of the held-out notebook runs."""
        return [int(s) for s in self.meta["heldout_seeds"]]

    @property
    def design_seeds(self) -> list[int]:
        """Development seeds used while designing the chapter."""
        return [int(s) for s in self.meta["design_seeds"]]


def _check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return profile


def record_paths(chapter: str, profile: str, root: Path | str | None = None) -> tuple[Path, Path]:
    """The ``(csv, json)`` paths of the record of ``chapter`` in ``profile``.

    ``root`` defaults to :data:`RECORDS_DIR`.
    """
    _check_profile(profile)
    if not chapter or any(ch in chapter for ch in "/\\") or chapter.startswith("."):
        raise ValueError(f"chapter must be a notebook stem such as '00_the_lab', got {chapter!r}")
    base = Path(root) if root is not None else RECORDS_DIR
    return base / f"{chapter}-{profile}.csv", base / f"{chapter}-{profile}.json"


def sweep_command(chapter: str, profile: str, meta: dict[str, Any] | None = None) -> str:
    """The command that makes (or remakes) a record.

    With a record's ``meta``, its held-out and design seeds are kept (so a remade record
    never runs on the worlds the chapter was designed on); without, held-out base seeds
    1000-1019 and design seeds 0-9, the book's convention.
    """
    if meta:
        heldout = ",".join(str(s) for s in meta.get("heldout_seeds", [])) or "1000-1019"
        design = ",".join(str(s) for s in meta.get("design_seeds", []))
    else:
        heldout, design = "1000-1019", "0-9"
    cmd = f"python scripts/sweep.py {chapter} --profile {profile} --seeds {heldout}"
    return cmd + (f" --design-seeds {design}" if design else "")


def git_commit(repo: Path = _REPO) -> str:
    """The repository's ``HEAD`` commit, or ``""`` if git or the repository is unavailable."""
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return ""
    commit = out.stdout.strip()
    if len(commit) != 40:
        return ""
    try:  # code that differs from the commit (records themselves excluded) makes it "-dirty"
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "uim_utils", "scripts",
                                ":(exclude)uim_utils/data/records"], capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        dirty = ""
    return commit + ("-dirty" if dirty else "")


def _check_seed_design(chapter: str, seeds: Sequence[int], n_worlds: int, design: Sequence[int],
                       heldout: Sequence[int]) -> None:
    """No development world in the record; every held-out run complete (at least one run)."""
    overlap = sorted(set(seeds) & set(design))
    if overlap:
        raise ValueError(f"{chapter}: the record's worlds include the development (design) seed(s) {overlap}")
    incomplete = sorted(b for b in heldout if not set(world_seeds(b, n_worlds)) <= set(seeds))
    if incomplete:
        raise ValueError(f"{chapter}: held-out run(s) with base seed(s) {incomplete} lack some of their "
                         f"{n_worlds} worlds in the record")
    overlap = sorted({s for b in heldout for s in world_seeds(b, n_worlds)} & set(design))
    if overlap:
        raise ValueError(f"{chapter}: held-out runs would use the development (design) seed(s) {overlap}; "
                         "choose held-out seeds whose windows avoid the design seeds")
    if not full_windows(seeds, n_worlds, heldout or None):
        which = f"held-out base seeds {seed_text(heldout)}" if heldout else "any base seed"
        raise ValueError(f"{chapter}: no notebook run of {n_worlds} worlds is complete for {which} "
                         f"in the worlds {seed_text(seeds)}")


def write_record(
    spec: ClaimSet,
    profile: str,
    table: pd.DataFrame,
    n_worlds: int,
    design_seeds: Sequence[int] = (),
    heldout_seeds: Sequence[int] = (),
    root: Path | str | None = None,
    note: str = "",
) -> Path:
    """Write a reproduction record (CSV + JSON), each atomically.

    Parameters
    ----------
    spec : ClaimSet
        The chapter's claims; their version and fingerprint are recorded.
    profile : str
        ``"ci"``, ``"lab"`` or ``"wild"``: the sizes the worlds were measured with.
    table : DataFrame
        One row per world (``seed`` plus the statistics).
    n_worlds : int
        Worlds per notebook run (at least ``spec.min_worlds``).
    design_seeds : sequence of int
        Development seeds used while designing the chapter (not the record's worlds).
    heldout_seeds : sequence of int
        Base seeds of the notebook runs the record checks; empty means every seed with a
        complete window.
    root : path, optional
        Folder of the records (default :data:`RECORDS_DIR`).
    note : str
        What a reader of the record should know about how it came about (e.g. an
        earlier held-out run and the design change it led to); shown in the appendix.

    Returns
    -------
    Path
        The JSON file (the CSV sits beside it).

    Raises
    ------
    ValueError
        On an unknown profile, a bad table (see :meth:`ClaimSet.validate_table`),
        repeated seeds, held-out runs whose worlds include a design seed, or no complete
        notebook run.
    """
    csv_path, json_path = record_paths(spec.chapter, profile, root)
    check_int("n_worlds", n_worlds, spec.min_worlds)
    table = spec.validate_table(table)
    design = _check_unique_seeds(list(design_seeds))
    heldout = sorted(_check_unique_seeds(list(heldout_seeds)))
    seeds = table["seed"].tolist()
    _check_seed_design(spec.chapter, seeds, int(n_worlds), design, heldout)
    data = table.to_csv(index=False, lineterminator="\n").encode()
    meta = _record_meta(spec, profile, int(n_worlds), seeds, design, heldout, note)
    meta.update(csv=csv_path.name, csv_sha256=hashlib.sha256(data).hexdigest())
    atomic_write_bytes(csv_path, data)
    atomic_write_bytes(json_path, (json.dumps(meta, indent=1) + "\n").encode())
    return json_path


def _record_meta(spec: ClaimSet, profile: str, n_worlds: int, seeds: Sequence[int], design: Sequence[int],
                 heldout: Sequence[int], note: str) -> dict[str, Any]:
    """What made a record (the JSON of :func:`write_record`, without the CSV's name and hash)."""
    from . import __version__

    return {
        "chapter": spec.chapter,
        "profile": profile,
        "version": int(spec.version),
        "fingerprint": spec.fingerprint(),
        "n_worlds": n_worlds,
        "seeds": [int(s) for s in seeds],
        "design_seeds": sorted(design),
        "heldout_seeds": list(heldout),
        "uim_utils_version": __version__,
        "git_commit": git_commit(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "note": str(note),
    }


def load_record(spec: ClaimSet, profile: str, root: Path | str | None = None) -> Record:
    """Load and verify the record of ``spec.chapter`` in ``profile``.

    Raises
    ------
    FileNotFoundError
        If the record does not exist (the message names the path and the sweep command
        that makes it).
    ValueError
        If the record is corrupt (unreadable JSON, or the CSV's SHA-256 does not match),
        belongs to another chapter or profile, or was made by other claims: another
        ``version`` ("... was made by claims version 1 but the chapter is at version 2:
        rerun scripts/sweep.py"), or the same version with another fingerprint ("claims
        changed without a version bump").
    """
    csv_path, json_path = record_paths(spec.chapter, profile, root)
    where = f"record of {spec.chapter} ({profile})"
    for p in (json_path, csv_path):
        if not p.exists():
            raise FileNotFoundError(f"no {where}: {p} does not exist; make it with "
                                    f"`{sweep_command(spec.chapter, profile)}`")
    try:
        meta = json.loads(json_path.read_text())
        expected = meta["csv_sha256"]
        keys = ("chapter", "profile", "version", "fingerprint", "n_worlds", "seeds", "design_seeds",
                "heldout_seeds")
        missing = [k for k in keys if k not in meta]
        if missing:
            raise KeyError(", ".join(missing))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"record {json_path} is corrupt: unreadable or incomplete metadata ({exc})") from None
    data = csv_path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ValueError(f"record {csv_path} is corrupt: its SHA-256 {actual[:12]}... does not match the "
                         f"recorded {str(expected)[:12]}... (edited or truncated); rerun scripts/sweep.py")
    if meta["chapter"] != spec.chapter or meta["profile"] != profile:
        raise ValueError(f"record {json_path} is of {meta['chapter']} ({meta['profile']}), "
                         f"not of {spec.chapter} ({profile})")
    if int(meta["version"]) != spec.version:
        raise ValueError(f"{where} was made by claims version {meta['version']} but the chapter is at "
                         f"version {spec.version}: rerun scripts/sweep.py "
                         f"(`{sweep_command(spec.chapter, profile, meta)}`)")
    if meta["fingerprint"] != spec.fingerprint():
        raise ValueError(f"{where} was made by claims with fingerprint {meta['fingerprint']}, but the "
                         f"chapter's claims at the same version {spec.version} have fingerprint "
                         f"{spec.fingerprint()}: claims changed without a version bump (bump "
                         "ClaimSet.version, then rerun scripts/sweep.py)")
    try:
        table = pd.read_csv(io.BytesIO(data))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"record {csv_path} is corrupt: {exc}") from None
    table = spec.validate_table(table)
    if table["seed"].tolist() != sorted(int(s) for s in meta["seeds"]):
        raise ValueError(f"record {csv_path} is corrupt: its seeds {seed_text(table['seed'])} are not the "
                         f"recorded {seed_text(meta['seeds'])}")
    return Record(meta=meta, table=table)


def summary_runs(record: Record) -> list[int]:
    """Base seeds of the notebook runs a summary replays.

    The held-out base seeds whose whole window of worlds is in the record; every such
    seed of the record if it names no held-out seeds.
    """
    return full_windows(record.seeds, record.n_worlds, record.heldout_seeds or None)


def record_summary(spec: ClaimSet, record: Record, confidence: float = 0.95) -> pd.DataFrame:
    """How each claim fared in a record.

    Parameters
    ----------
    spec : ClaimSet
        The chapter's claims (the record must have been made by them; see
        :func:`load_record`).
    record : Record
    confidence : float
        Level of the intervals.

    Returns
    -------
    DataFrame
        Columns :data:`SUMMARY_COLUMNS`. One row per claim: ``held`` of ``runs`` notebook
        runs (:func:`summary_runs`, replayed by
        :func:`uim_utils.worlds.window_verdicts`), ``held_in`` as text (``"18 of 20"``;
        for an exploratory claim over worlds in a record of one-world runs, its verdict
        over all the record's worlds instead),
        the mean of the statistic over *all* ``worlds`` of the record with its interval at
        the level the rule reads (``estimate``, ``low``, ``high``, ``se``; Student-t over
        worlds, Fisher z for a correlation), the ``rule`` a run applies, and
        ``distance_se``: the mean over runs of how many standard errors each run's
        estimate lay beyond the rule's bound (for a per-world claim, the run's weakest
        world); ``distance_se_worlds``: the same distance for the mean over all worlds,
        in standard errors over worlds; ``holds_over_worlds``: whether the mean over all
        worlds clears the rule; plus a last row ``"all asserted claims together"`` (id
        ``"all"``) with the runs in which every asserted claim held.

    Raises
    ------
    ValueError
        If no notebook run of the record is complete.
    """
    runs = summary_runs(record)
    if not runs:
        raise ValueError(f"record of {spec.chapter}: no notebook run of {record.n_worlds} worlds is complete "
                         f"in its worlds {seed_text(record.seeds)}")
    wv = window_verdicts(spec, record.table, record.n_worlds, runs, confidence)
    table = spec.validate_table(record.table)
    rows = [_summary_row(c, table, wv, record.n_worlds, confidence) for c in spec.claims]
    held = int(wv["all_asserted"].sum())
    rows.append({"id": "all", "statement": ALL_ASSERTED, "kind": "", "asserted": True, "statistic": "",
                 "held": held, "runs": len(runs), "held_in": f"{held} of {len(runs)}", "worlds": len(table),
                 "estimate": np.nan, "low": np.nan, "high": np.nan, "se": np.nan, "rule": "",
                 "distance_se": np.nan, "distance_se_worlds": np.nan, "holds_over_worlds": np.nan})
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    out.attrs = {"chapter": spec.chapter, "profile": record.meta["profile"], "runs": runs,
                 "n_worlds": record.n_worlds, "confidence": float(confidence)}
    return out


def _summary_row(claim: Claim, table: pd.DataFrame, wv: pd.DataFrame, n_worlds: int,
                 confidence: float) -> dict[str, Any]:
    """One claim's row of :func:`record_summary`; ``wv`` are the runs' verdicts
    (:func:`uim_utils.worlds.window_verdicts`)."""
    est = population_interval(claim, table[claim.statistic].to_numpy(dtype=float), confidence)
    over_worlds = claim.decide(est)
    held, n_runs = int(wv[f"claim_{claim.id}"].sum()), len(wv)
    held_in = f"{held} of {n_runs}"
    if claim.within is None and n_worlds < 2:  # a one-world run cannot decide it
        held_in = (f"not decided in one-world runs; over all {int(est.n)} worlds: "
                   f"{HOLDS if over_worlds.passed else FAILS}")
    return {"id": claim.id, "statement": claim.statement, "kind": claim.kind, "asserted": claim.asserted,
            "statistic": claim.statistic, "held": held, "runs": n_runs, "held_in": held_in,
            "worlds": int(est.n), "estimate": est.estimate, "low": est.low, "high": est.high, "se": est.se,
            "rule": claim.rule(confidence), "distance_se": float(wv[f"dse_{claim.id}"].mean()),
            "distance_se_worlds": float(over_worlds.distance_se), "holds_over_worlds": bool(over_worlds.passed)}


def population_interval(claim: Claim, values: np.ndarray, confidence: float = 0.95) -> stats.Estimate:
    """The mean of a claim's statistic over many worlds, with its interval.

    At the level the claim's rule reads; Student-t over worlds (Fisher z for a
    correlation), also for a per-world claim (``within``), whose rule decides each world
    alone but whose population mean is still an average over worlds.
    """
    if claim.within is None:
        return claim.interval(values, confidence)
    return stats.t_interval(values, confidence=claim.interval_confidence(confidence))


__all__ = ["ALL_ASSERTED", "RECORDS_DIR", "SUMMARY_COLUMNS", "Record", "git_commit", "load_record",
           "population_interval", "record_paths", "record_summary", "summary_runs", "sweep_command",
           "write_record"]
