"""Print pip's package-index settings as ``uv pip install`` options, one per line.

``scripts/setup_venv.sh`` installs the environment with uv, which does not read pip's
configuration (``pip.conf``, ``PIP_*`` variables). This reads it with ``pip config list``
(the later scope wins, as in pip) and prints ``--index-url``, ``--extra-index-url``,
``--find-links`` and ``--constraint`` for uv, leaving out local locations that do not
exist (pip only warns about those; uv would stop). Usage: ``python scripts/pip_to_uv.py``.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

OPTIONS = {"index-url": "--index-url", "extra-index-url": "--extra-index-url",
           "find-links": "--find-links", "constraint": "--constraint"}
"""pip's setting -> uv's option."""


def pip_settings(listing: str) -> dict[str, list[str]]:
    """The settings of ``OPTIONS`` in ``pip config list`` output, later lines winning.

    Each line reads ``scope.key='value'``; a value may hold several whitespace-separated
    locations.
    """
    found: dict[str, list[str]] = {}
    for line in listing.splitlines():
        name, sep, value = line.partition("=")
        key = name.rpartition(".")[2]
        if sep and key in OPTIONS:
            found[key] = shlex.split(value)[0].split() if value.strip() else []
    return found


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
                             check=False).stdout
    print("\n".join(uv_options(pip_settings(listing))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
