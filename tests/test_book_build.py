"""Execute every notebook once and build the whole book, as `make book` does but in the ci
profile; then inspect the HTML.

This is where `make test` runs the notebooks: ``scripts/build_book.py`` (what `make book`
runs) with ``UIM_BOOK_PARALLEL=1`` executes every page of the table of contents side by
side into the build's jupyter-cache, chapters first and exercise solutions after them,
then builds with -W -n --keep-going, so that any Sphinx warning (a broken reference, an
unknown citation, a failing cell) fails the build. It works on a copy of the repository
(without .venv, _build and .git), so that it never touches the working tree's _build or
jupyter-cache; the models the chapters pre-train go to the run's ``UIM_CACHE``.

``test_notebook_runs`` reports each notebook on its own (with the traceback of the cell
that raised, and its time in the session's closing summary); the other tests read the
HTML. One execution serves both: a notebook's asserts (its Checks cell) fail its test,
and the book is built from the same outputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import book_checks as bc
import pytest

from uim_utils.book import toc_entries

ROOT = Path(__file__).resolve().parents[1]
REPO_URL = "https://github.com/uim-book/catastrophic-inheritance"
IGNORE = shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__", ".pytest_cache",
                                ".ipynb_checkpoints", "*.egg-info", ".jupyter_cache")

pytestmark = pytest.mark.book
NOTEBOOKS = [f"{entry}.ipynb" for entry in toc_entries(ROOT) if (ROOT / f"{entry}.ipynb").exists()]
"""Every notebook page of the book, as ``notebooks/01_long_tail.ipynb``."""


@dataclass
class Build:
    """One run of ``scripts/build_book.py``: its exit code, log, html folder and the
    pre-execution's report (``{notebook: {"status", "seconds", "traceback"}}``)."""

    returncode: int
    log: str
    html: Path
    report: dict[str, dict[str, Any]]
    seconds: float


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Execute the notebooks and build the book once for this module."""
    src = tmp_path_factory.mktemp("book") / "src"
    shutil.copytree(ROOT, src, ignore=IGNORE)
    # Tools leave markdown in hidden folders (.pytest_cache/README.md); it must never
    # become an orphan page (that warning would fail `make book` after `make test`).
    (src / ".some_tool_cache").mkdir()
    (src / ".some_tool_cache" / "README.md").write_text("# not a page\n")
    env = {**os.environ, "UIM_PROFILE": "ci", "HF_HUB_OFFLINE": "1", "UIM_BOOK_PARALLEL": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(src / "scripts" / "build_book.py")],
        cwd=src, env=env, capture_output=True, text=True, timeout=1500,
    )
    log = result.stdout + result.stderr
    (src / "build.log").write_text(log)
    report_path = src / "_build" / "execution.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return Build(result.returncode, log, src / "_build" / "html", report, time.monotonic() - start)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs(build: Build, notebook: str, record_property: Any) -> None:
    """Every cell of the notebook runs without raising (its Checks cell asserts its claims)."""
    entry = build.report.get(notebook)
    assert entry is not None, (f"{notebook} was not executed before the build (exit {build.returncode}):\n"
                               + build.log[-3000:])
    record_property("notebook_seconds", entry["seconds"])
    assert entry["status"] in ("executed", "cached"), f"{notebook} failed:\n{entry['traceback']}"


@pytest.fixture(scope="module")
def built(build: Build) -> Path:
    """The html folder of a build that passed with no warning; fails the tests that read it otherwise."""
    warnings = [line for line in build.log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert build.returncode == 0, (
        f"jupyter-book build failed (exit {build.returncode}) after {build.seconds:.0f} s:\n"
        + "\n".join(warnings[-40:] or build.log[-4000:].splitlines())
    )
    executed_by_the_build = [line for line in build.log.splitlines() if "Executing notebook" in line]
    assert not executed_by_the_build, ("the parallel pre-execution left notebooks to the build:\n"
                                       + "\n".join(executed_by_the_build))
    return build.html


def page(html: Path, name: str) -> str:
    path = html / f"{name}.html"
    assert path.exists(), f"{path.name} was not built"
    return path.read_text()


def test_index_redirects_to_the_intro(built: Path) -> None:
    index = built / "index.html"
    assert index.exists()
    assert "book/intro.html" in index.read_text()


def test_intro_shows_the_pipeline_figure(built: Path) -> None:
    intro = page(built, "book/intro")
    assert re.search(r'<img[^>]+src="[^"]*uim_pipeline\.svg"', intro)
    assert (built / "_images" / "uim_pipeline.svg").exists()
    assert "Catastrophic Inheritance, reproduced" in intro


def test_template_chapter_is_executed_in_the_ci_profile(built: Path) -> None:
    html = page(built, "notebooks/00_chapter_template")
    assert "cell_output" in html
    assert "profile=ci" in html, "the chapter did not run with UIM_PROFILE=ci"
    assert re.search(r'<img[^>]+src="[^"]+\.png"', html), "no executed figure"
    # the verdict table is shown, the Checks cell ran and is collapsed, not removed
    assert "does not hold" not in html and "holds" in html
    assert "all asserted claims hold over worlds" in html and "tag_hide-cell" in html
    # numbers in the prose are glued from the run (20 worlds in ci), not typed
    text = re.sub(r"<[^>]+>", "", html)  # glued values sit in their own <span>
    assert re.search(r"Over these\s+20\s+worlds", text), "glued numbers missing from the prose"
    # the Colab set-up cell is removed from the page
    assert "google.colab" not in html


def test_no_error_output_reached_a_page(built: Path) -> None:
    for path in built.rglob("*.html"):
        text = path.read_text()
        assert "Traceback (most recent call last)" not in text, path.name
        assert "output error" not in text, path.name


def test_colab_button_opens_the_notebook_on_github(built: Path) -> None:
    html = page(built, "notebooks/00_chapter_template")
    org_repo = REPO_URL.removeprefix("https://github.com/")
    expected = (f"https://colab.research.google.com/github/{org_repo}/blob/main/"
                "notebooks/00_chapter_template.ipynb")
    assert expected in html
    assert "/./" not in re.findall(r"https://colab\.research\.google\.com[^\"]+", html)[0]


def test_citations_resolve_to_bibliographies(built: Path) -> None:
    html = page(built, "notebooks/00_chapter_template")
    # author-year citations that link to the page's own bibliography
    assert re.search(r'<a class="reference internal" href="#id\d+" title="Aditya Krishna Menon', html)
    assert "Long-tail learning via logit adjustment" in html
    refs = page(built, "book/references")
    assert re.search(r"On catastrophic inheritance of large foundation models", refs, re.I)
    assert "CleanCLIP" in refs  # :all: lists works no page cites yet


def test_search_and_static_assets_exist(built: Path) -> None:
    assert (built / "search.html").exists()
    assert (built / "searchindex.js").exists()


def test_mathjax_is_served_from_the_book(built: Path, tmp_path: Path) -> None:
    """Formulas render offline: MathJax comes from _static, never from a CDN (issue 21)."""
    assert bc.check_mathjax_offline(built) == []
    # the template chapter has inline math ($\tau = 1$), so it must load MathJax itself
    html = page(built, "notebooks/00_chapter_template")
    sources = bc.mathjax_sources(html)
    assert sources and all("_static/mathjax/" in src for src in sources), sources
    # Control: the check reports the same page when MathJax comes from Sphinx's default
    # CDN, when its file was not built, or when an inline config sends the loader away.
    cdn = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"
    loader = ("<script>window.MathJax = {loader: {paths: {mathjax: "
              "'https://cdnjs.cloudflare.com/ajax/libs/mathjax/3.2.2/es5'}}}</script>")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "cdn.html").write_text(html.replace(sources[0], cdn))
    (tmp_path / "notebooks" / "missing.html").write_text(html)
    (tmp_path / "notebooks" / "loader.html").write_text(html.replace("</head>", loader + "</head>"))
    problems = bc.check_mathjax_offline(tmp_path)
    assert [p.split(":", 1)[0] for p in problems] == [
        "notebooks/cdn.html", "notebooks/loader.html", "notebooks/loader.html",
        "notebooks/missing.html"], problems
