"""Synchronise every chapter's jupytext pair and strip the notebooks' outputs.

``make sync`` calls this script. For each ``notebooks/NN_*.py`` / ``.ipynb`` pair, and
each chapter's solutions page (``notebooks/solutions/NN_*_solutions``), it runs
``jupytext --sync`` (the more recently edited file wins), then removes outputs,
execution counts and per-cell execution metadata from the ``.ipynb`` so that it can be
committed as the clean page source the book and the Colab button use.

Usage::

    python scripts/sync_notebooks.py [notebooks/03_bias.py ...]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_GLOB = "notebooks/[0-9][0-9]_*"
# Each chapter's solutions page (notebooks/solutions/NN_name_solutions), a pair as well.
SOLUTIONS_GLOB = "notebooks/solutions/[0-9][0-9]_*_solutions"


def chapter_stems(root: Path = ROOT) -> list[Path]:
    """Paths (without suffix) of every chapter and solutions page with a ``.py`` or ``.ipynb``."""
    files = [p for glob in (CHAPTER_GLOB, SOLUTIONS_GLOB) for p in root.glob(glob)
             if p.suffix in {".py", ".ipynb"}]
    return sorted({p.with_suffix("") for p in files})


def strip_outputs(path: Path) -> bool:
    """Remove outputs and execution data from a notebook in place.

    Returns
    -------
    bool
        True if the file changed.
    """
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            cell.outputs, cell.execution_count = [], None
            changed = True
        if "execution" in cell.metadata:
            del cell.metadata["execution"]
            changed = True
    if "widgets" in nb.metadata:
        del nb.metadata["widgets"]
        changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


def sync(stem: Path) -> None:
    """Run ``jupytext --sync`` on one pair, creating the missing half if needed."""
    source = stem.with_suffix(".py") if stem.with_suffix(".py").exists() else stem.with_suffix(".ipynb")
    jupytext = Path(sys.executable).with_name("jupytext")
    subprocess.run([str(jupytext), "--sync", str(source)], check=True)


def main(argv: list[str]) -> int:
    """Sync the given chapters (default: all) and strip their outputs."""
    stems = [Path(a).resolve().with_suffix("") for a in argv] or chapter_stems()
    if not stems:
        print("no chapters found under notebooks/", file=sys.stderr)
        return 1
    for stem in stems:
        sync(stem)
        if strip_outputs(stem.with_suffix(".ipynb")):
            print(f"stripped outputs from {stem.with_suffix('.ipynb').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
