"""Shared code for the book "Catastrophic Inheritance, reproduced".

Only light-weight names are imported here so that ``import uim_utils`` stays fast and
does not pull in torch; chapters import the sub-modules they need
(``from uim_utils import pretrain``).
"""

from __future__ import annotations

from .profile import Profile, get_profile

# Kept equal to ``[project] version`` in pyproject.toml (tests/test_environment.py checks it).
__version__ = "0.1.0"

__all__ = ["Profile", "__version__", "get_profile"]
