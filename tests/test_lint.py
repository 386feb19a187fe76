"""The code passes its linters, so that `make test` fails on a finding.

ruff lints the modules, tests and scripts (120 characters a line) and the notebooks'
code cells (88 characters, so that code fits the column of the rendered page, and no
module aliases: notebooks/ruff.toml); mypy checks ``uim_utils``. Both read their settings
from pyproject.toml; the rules turned off are listed there with their reasons. Run them
by hand the same way::

    .venv/bin/ruff check .          # --fix applies the safe fixes
    .venv/bin/mypy                  # about 35 s cold, 2 s with its cache (.mypy_cache)

ruff lints the ``.ipynb`` notebooks itself (code cells only, cell by cell, as the page
shows them), so nbqa is not needed; the jupytext ``.py`` pairs hold the same cells
(tests/test_book_structure.py checks that) and are not linted a second time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ARGS`` in the repository root with the test's interpreter."""
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_passes() -> None:
    result = run("ruff", "check", "--output-format", "concise", ".")
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"ruff found problems (`ruff check --fix .` fixes some):\n{output}"


def test_ruff_lints_every_notebook_with_the_notebook_settings() -> None:
    """A slip in the configuration (a notebook excluded, the 88 limit lost) cannot pass silently."""
    files = run("ruff", "check", "--show-files", ".").stdout
    linted = {Path(line.strip()).resolve() for line in files.splitlines() if line.strip()}
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks and not [nb.name for nb in notebooks if nb.resolve() not in linted]
    assert ROOT / "uim_utils" / "lab.py" in linted
    settings = run("ruff", "check", "--show-settings", str(notebooks[0])).stdout
    assert "linter.line_length = 88\n" in settings


def test_mypy_passes_on_uim_utils() -> None:
    result = run("mypy")
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"mypy found problems:\n{output}"


MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
"""Size limits of the code a newcomer reads (issue 21): a module over 500 lines mixes
concerns; a function over 60 lines (docstring included) hides steps that deserve names."""


def _sizes() -> tuple[list[str], list[str]]:
    import ast

    long_modules, long_functions = [], []
    for path in sorted((ROOT / "uim_utils").rglob("*.py")):
        text = path.read_text()
        rel = path.relative_to(ROOT)
        if text.count("\n") > MAX_MODULE_LINES:
            long_modules.append(f"{rel}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1 if node.end_lineno else 0
                if n > MAX_FUNCTION_LINES:
                    long_functions.append(f"{rel}:{node.lineno} {node.name}: {n} lines")
    return long_modules, long_functions


def test_no_module_over_500_lines_and_no_function_over_60() -> None:
    long_modules, long_functions = _sizes()
    assert not long_modules, f"split these modules along their concerns: {long_modules}"
    assert not long_functions, f"split these functions into named steps: {long_functions}"
