"""Meta-tests: the test command catches the failures it is meant to catch.

Each test builds a deliberately broken notebook (or test file) in ``tmp_path`` and shows
that the check or the pytest run used by ``make test`` reports it; a matching control
shows that the healthy version passes, so the checks are not failing for another reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import book_checks as bc
import jupytext
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

ROOT = bc.ROOT
TEMPLATE = ROOT / "notebooks" / "00_chapter_template"
URL = bc.repository_url()


def run_pytest(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run pytest in a subprocess, isolated from this repository's configuration."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-q", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


def copy_template(tmp_path: Path) -> Path:
    """A copy of the template chapter's pair in ``tmp_path``; returns the .ipynb path."""
    for suffix in (".ipynb", ".py"):
        shutil.copy2(TEMPLATE.with_suffix(suffix), tmp_path / f"99_copy{suffix}")
    return tmp_path / "99_copy.ipynb"


def write_nb(path: Path, sources: list[str]) -> Path:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


# ---------------------------------------------------------------- nbval

def test_nbval_fails_on_a_raising_cell(tmp_path: Path) -> None:
    write_nb(tmp_path / "good.ipynb", ["x = 1", "assert x == 1"])
    write_nb(tmp_path / "bad.ipynb", ["x = 1", "1 / 0"])
    result = run_pytest(["--nbval-lax", "--nbval-current-env", "good.ipynb", "bad.ipynb"],
                        tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "ZeroDivisionError" in out
    assert "PASSED good.ipynb::Cell 1" in out
    assert "FAILED bad.ipynb::Cell 1" in out


# ---------------------------------------------------------------- --must-run

@pytest.fixture()
def must_run_dir(tmp_path: Path) -> Path:
    shutil.copy2(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    (tmp_path / "test_skipped.py").write_text(
        "import pytest\n\n@pytest.mark.skip(reason='lost')\ndef test_x():\n    pass\n")
    return tmp_path


def test_must_run_passes_when_every_file_ran(must_run_dir: Path) -> None:
    result = run_pytest(["--must-run", "test_ok.py"], must_run_dir)
    assert result.returncode == 0, result.stdout


def test_must_run_fails_when_a_required_file_only_skipped(must_run_dir: Path) -> None:
    result = run_pytest(["--must-run", "test_*.py"], must_run_dir)
    assert result.returncode == 1, result.stdout
    assert "test_skipped.py: no test passed" in result.stdout
    assert "1 failed" in result.stdout.splitlines()[-1]


def test_must_run_fails_when_a_required_file_was_not_collected(must_run_dir: Path) -> None:
    result = run_pytest(["test_ok.py", "--must-run", "test_skipped.py"], must_run_dir)
    assert result.returncode == 1, result.stdout


def test_must_run_fails_on_a_pattern_that_matches_nothing(must_run_dir: Path) -> None:
    result = run_pytest(["--must-run", "notebooks/*.ipynb"], must_run_dir)
    assert result.returncode == 1, result.stdout
    assert "matches no file" in result.stdout


def test_no_tests_collected_is_a_failure(tmp_path: Path) -> None:
    (tmp_path / "test_empty.py").write_text("x = 1\n")
    result = run_pytest(["test_empty.py"], tmp_path)
    assert result.returncode == 5


# ---------------------------------------------------------------- structure checks

def test_template_copy_passes_every_check(tmp_path: Path) -> None:
    """Control for the tests below: an unmodified copy is clean."""
    assert bc.check_notebook(copy_template(tmp_path), URL) == []


def test_stored_outputs_are_reported(tmp_path: Path) -> None:
    ipynb = copy_template(tmp_path)
    nb = nbformat.read(ipynb, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code" and "get_profile" in c.source)
    code.outputs = [new_output("stream", name="stdout", text="hello\n")]
    code.execution_count = 3
    nbformat.write(nb, ipynb)
    problems = bc.check_notebook(ipynb, URL)
    assert any("stored outputs" in p for p in problems), problems
    assert any("execution_count" in p for p in problems), problems


def test_out_of_sync_pair_is_reported(tmp_path: Path) -> None:
    ipynb = copy_template(tmp_path)
    text = ipynb.with_suffix(".py")
    text.write_text(text.read_text().replace("N_WORLDS = template.CHAPTER.worlds(P.name)", "N_WORLDS = 3"))
    problems = bc.check_in_sync(ipynb)
    assert len(problems) == 1 and "differs between the .ipynb and the .py" in problems[0]


def test_a_cell_missing_from_the_pair_is_reported(tmp_path: Path) -> None:
    ipynb = copy_template(tmp_path)
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells.append(new_code_cell("print('only in the ipynb')"))
    nbformat.write(nb, ipynb)
    assert any("cells in the .ipynb" in p for p in bc.check_in_sync(ipynb))


def test_changed_tags_are_reported(tmp_path: Path) -> None:
    ipynb = copy_template(tmp_path)
    text = ipynb.with_suffix(".py")
    text.write_text(text.read_text().replace('# %% tags=["hide-cell"]', "# %%"))
    problems = bc.check_in_sync(ipynb)
    assert any("tags" in p for p in problems), problems
    # and, judged on its own, the .py version has no Checks cell any more
    assert bc.check_checks_cell(jupytext.read(text), text.name) != []


def test_missing_pair_is_reported(tmp_path: Path) -> None:
    ipynb = copy_template(tmp_path)
    ipynb.with_suffix(".py").unlink()
    assert any("no jupytext pair" in p for p in bc.check_notebook(ipynb, URL))


def test_checks_cell_without_assert_is_reported(tmp_path: Path) -> None:
    nb = nbformat.read(copy_template(tmp_path), as_version=4)
    cell = next(c for c in nb.cells if "hide-cell" in c.metadata.get("tags", []))
    assert "SPEC.check(" in cell.source
    cell.source = cell.source.replace("assert ", "print(").replace("SPEC.check(", "SPEC.verdicts(")
    assert bc.check_checks_cell(nb, "x") != []


@pytest.mark.parametrize("change, message", [
    (lambda s: s.replace(URL, "https://github.com/someone-else/fork"), "installs from"),
    (lambda s: s.replace("subprocess.run(", "os.system(").replace("import subprocess", ""),
     "subprocess"),
    (lambda s: "!pip install something\n" + s, "magic"),
    (lambda s: s.replace('"google.colab" in sys.modules', "True"), "google.colab"),
])
def test_bad_colab_cell_is_reported(tmp_path: Path, change, message: str) -> None:
    nb = nbformat.read(copy_template(tmp_path), as_version=4)
    cell = next(c for c in nb.cells if "remove-cell" in c.metadata.get("tags", []))
    cell.source = change(cell.source)
    problems = bc.check_colab_cell(nb, "x", URL)
    assert any(message in p for p in problems), problems


def test_missing_colab_cell_is_reported(tmp_path: Path) -> None:
    nb = nbformat.read(copy_template(tmp_path), as_version=4)
    nb.cells = [c for c in nb.cells if "remove-cell" not in c.metadata.get("tags", [])]
    assert any("no Colab set-up cell" in p for p in bc.check_colab_cell(nb, "x", URL))


def test_missing_section_is_reported(tmp_path: Path) -> None:
    nb = nbformat.read(copy_template(tmp_path), as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace("## Mitigate", "## Fix it")
    assert any("'## Mitigate'" in p for p in bc.check_sections(nb, "x"))


def test_empty_cell_is_reported(tmp_path: Path) -> None:
    nb = nbformat.read(copy_template(tmp_path), as_version=4)
    assert bc.check_no_empty_cells(nb, "x") == []
    nb.cells.insert(3, new_code_cell("  \n"))
    assert bc.check_no_empty_cells(nb, "x") == ["x: cell 3 is empty"]


def test_toc_problems_are_reported(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    write_nb(tmp_path / "notebooks" / "01_orphan.ipynb", ["x = 1"])
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/02_missing\n")
    problems = bc.check_toc(tmp_path)
    assert any("02_missing" in p for p in problems), problems
    assert any("01_orphan.ipynb is not listed" in p for p in problems), problems
