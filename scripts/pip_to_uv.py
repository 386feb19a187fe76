"""Print pip's package-index settings as ``uv pip install`` options, one per line.

``scripts/setup_venv.sh`` installs the environment with uv, which does not read pip's
configuration (``pip.conf``, ``PIP_*`` variables). This reads it with ``pip config list``
and prints ``--index-url``, ``--extra-index-url``, ``--find-links`` and ``--constraint``
for uv, leaving out local locations that do not exist (pip only warns about those; uv
would stop). It prints nothing if pip has none of them. Usage:
``python scripts/pip_to_uv.py``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

OPTIONS = {"index-url": "--index-url", "extra-index-url": "--extra-index-url",
           "find-links": "--find-links", "constraint": "--constraint"}
"""pip's setting -> uv's option."""

SECTIONS = {"global": 0, "install": 1, ":env:": 2}
"""The sections of ``pip config list`` that ``pip install`` reads, weakest first: the config
files' ``[global]`` and ``[install]``, then the ``PIP_*`` variables (``:env:``). pip has
already merged the files (a later file overriding an earlier one) and prints the
sections sorted by name, not by precedence."""


def pip_settings(listing: str) -> dict[str, list[str]]:
    """The settings of ``OPTIONS`` in ``pip config list`` output, as ``pip install`` sees them.

    Each line reads ``section.key='value'`` (the value as Python's ``repr``); a value may
    hold several whitespace- or newline-separated locations, as in pip.
    """
    found: dict[str, tuple[int, list[str]]] = {}
    for line in listing.splitlines():
        name, sep, value = line.partition("=")
        section, _, key = name.rpartition(".")
        if not sep or key not in OPTIONS or section not in SECTIONS:
            continue
        try:
            text = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            text = value
        rank = SECTIONS[section]
        if key not in found or rank >= found[key][0]:
            found[key] = (rank, str(text).split())
    return {key: locations for key, (_, locations) in found.items()}


def exists(location: str) -> bool:
    """False for a local path or ``file://`` URL that does not exist; True otherwise."""
    if "://" in location and not location.startswith("file://"):
        return True
    return Path(location.removeprefix("file://")).exists()


def uv_options(settings: dict[str, list[str]]) -> list[str]:
    """``--option value`` pairs for uv, in ``OPTIONS`` order, without missing local locations."""
    out: list[str] = []
    for key, option in OPTIONS.items():
        for location in settings.get(key, []):
            if exists(location):
                out += [option, location]
    return out


def main() -> int:
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                             check=True).stdout
    options = uv_options(pip_settings(listing))
    if options:
        print("\n".join(options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
