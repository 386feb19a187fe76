"""Glue between a chapter's computed numbers and its prose (myst-nb ``glue``).

No number in a chapter's prose is typed by hand: the notebook computes it and
:func:`glue` hands it to the book, where the prose cites it as
``{glue:text}`name:.3f```. Outside a Jupyter Book build (Colab, a plain Jupyter
session) myst-nb may be missing; then :func:`glue` only records the value, so the
notebook still runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

GLUED: dict[str, Any] = {}
"""Every value glued in this session, by name (what the prose cites)."""


def glue(name: str, value: Any) -> None:
    """Hand ``value`` to the book under ``name``, not displayed.

    A NumPy scalar is handed over as the Python number it holds. Returns nothing, so that
    a glue on the last line of a cell does not show its value as the cell's output;
    :data:`GLUED` records every value glued in this process.

    Raises
    ------
    ValueError
        If ``name`` is empty or not an identifier-like string (myst-nb keys are cited in
        prose, so ``"gap mean"`` would be unciteable).
    """
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise ValueError(f"glue name must be a non-empty identifier such as 'gap_mean', got {name!r}")
    import numpy as np

    if isinstance(value, np.generic):  # np.float64 would reach the page as 'np.float64(...)',
        value = value.item()           # which a format spec such as :.3f cannot format
    GLUED[name] = value
    try:
        from myst_nb import glue as _glue
    except ImportError:  # not building the book: the value is only recorded
        return
    _glue(name, value, display=False)


def glue_record(summary: Any, keys: dict[str, str]) -> None:
    """Glue a chapter's reproduction record for its prose.

    ``summary`` is :func:`uim_utils.records.record_summary`'s table indexed by claim id;
    ``keys`` maps claim ids to the names the prose cites. Glues ``rec_worlds`` (worlds
    in the record) and, for every claim, ``rec_<key>_estimate``, ``_low``, ``_high``
    (its mean over the worlds and interval) and ``rec_<key>_held`` (held-out runs in
    which it held).

    Raises
    ------
    ValueError
        If ``summary`` lacks a claim of ``keys`` (naming it).
    """
    missing = [cid for cid in keys if cid not in summary.index]
    if missing:
        raise ValueError(f"the record summary has no claim {missing}; it has {list(summary.index)}")
    glue("rec_worlds", int(summary.loc["all", "worlds"]))
    for cid, key in keys.items():
        for col in ("estimate", "low", "high"):
            glue(f"rec_{key}_{col}", float(summary.loc[cid, col]))
        glue(f"rec_{key}_held", int(summary.loc[cid, "held"]))


TRAIN_EXERCISES_ENV = "UIM_TRAIN_EXERCISES"
"""Set to ``1`` to run the exercises that train new models on the solutions pages."""

SKIPPED = ("not measured in this build: the exercise trains new models (minutes on two cores); "
           "run the page with UIM_TRAIN_EXERCISES=1 to measure it")
"""What a solutions page's answer says for an exercise it did not run."""


def train_exercises() -> bool:
    """Whether a solutions page runs the exercises that pre-train or fine-tune new models.

    Only with ``UIM_TRAIN_EXERCISES=1``, in any profile: such an exercise takes minutes
    (a noise curve alone pre-trains a dozen models), so ``make book`` and ``make test``
    skip them and the page says how to run them. The code is the same either way.

    Raises
    ------
    ValueError
        If ``UIM_TRAIN_EXERCISES`` is set to anything but ``0`` or ``1``.
    """
    raw = os.environ.get(TRAIN_EXERCISES_ENV, "0")
    if raw not in ("0", "1"):
        raise ValueError(f"{TRAIN_EXERCISES_ENV} must be 0 or 1, got {raw!r}")
    return raw == "1"


def toc_entries(root: Path | str) -> list[str]:
    """Every ``root`` and ``file`` entry of ``root/_toc.yml`` (paths without suffix), in the
    order of the table of contents, sections included."""
    import yaml

    return list(_toc_files(yaml.safe_load((Path(root) / "_toc.yml").read_text())))


def _toc_files(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root") and isinstance(value, str):
                yield value
            else:
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def execute_into_cache(data: Any) -> tuple[int, str, float]:
    """Execute one notebook into a jupyter-cache (in a pool process of ``scripts/build_book.py``).

    Parameters
    ----------
    data : jupyter_cache.executors.basic.ProcessData
        The notebook's project record, its cache, the cell timeout and ``allow_errors``.

    Returns
    -------
    (status, uri, seconds)
        jupyter-cache's worker status (0 executed and cached, 1 a cell raised, 2 could not
        execute or cache), the notebook's path and the seconds it took.
    """
    import time

    from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc

    start = time.monotonic()
    status, uri = ExecutionWorkerLocalMProc()(data)
    return int(status), str(uri), time.monotonic() - start
