"""Checks of the book's structure, shared by the tests and usable on any folder.

Every ``check_*`` function returns a list of problems (empty when all is well) rather
than asserting, so that the meta-tests can feed it deliberately broken notebooks and
check that the problem is reported.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import yaml

from uim_utils import book

ROOT = Path(__file__).resolve().parents[1]
PAIR_FORMATS = "ipynb,py:percent"
# Headings every chapter must have, in this order (CONTRIBUTING.md, "The template").
REQUIRED_HEADINGS: tuple[str, ...] = (
    "## Understand",
    "## Interpret",
    "## Mitigate",
    "## Checks",
    "## Summary",
    "## Exercises",
    "## References",
)
REQUIRED_PHRASES: tuple[str, ...] = ("Learning goals", "Estimated time", "The published claim")
# Each chapter's solutions page (notebooks/solutions/NN_name_solutions): not a chapter.
SOLUTIONS_DIR = "notebooks/solutions/"
GIT_URL = re.compile(r"git\+(https?://[^\s\"'#@]+)")
# MathJax in a built page (issue 21): <script src=...> and <link href=...> tags, inline
# <script> bodies (a window.MathJax config can point its loader at a CDN), and URLs that
# leave the book (http:, https:, protocol-relative //host/...).
SCRIPT_SRC = re.compile(r"""<script\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.I)
LINK_HREF = re.compile(r"""<link\b[^>]*?\bhref\s*=\s*["']([^"']+)["']""", re.I)
INLINE_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.I | re.S)
REMOTE_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)
REMOTE_MATHJAX = re.compile(r"""(?:https?:)?//[^\s"'<>]*mathjax[^\s"'<>]*""", re.I)


def load_config(root: Path = ROOT) -> dict[str, Any]:
    """The parsed ``_config.yml``."""
    return yaml.safe_load((root / "_config.yml").read_text())


def repository_url(root: Path = ROOT) -> str:
    """``repository.url`` of ``_config.yml``: the one place the repository is named."""
    url = load_config(root).get("repository", {}).get("url")
    if not url:
        raise ValueError(f"_config.yml in {root} has no repository.url")
    return str(url).rstrip("/")


def toc_entries(root: Path = ROOT) -> list[str]:
    """Every ``root``/``file`` entry of ``_toc.yml`` (without suffix), in order."""
    return book.toc_entries(root)


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks the table of contents lists (``notebooks/...``).

    Solutions pages (``notebooks/solutions/...``) are not chapters: see
    :func:`toc_solutions`.
    """
    return [root / f"{entry}.ipynb" for entry in toc_entries(root)
            if entry.startswith("notebooks/") and not entry.startswith(SOLUTIONS_DIR)]


def toc_solutions(root: Path = ROOT) -> list[Path]:
    """The solutions pages the table of contents lists (``notebooks/solutions/...``)."""
    return [root / f"{entry}.ipynb" for entry in toc_entries(root)
            if entry.startswith(SOLUTIONS_DIR)]


def solutions_notebooks(root: Path = ROOT) -> list[Path]:
    """Every ``notebooks/solutions/NN_*_solutions.ipynb`` on disk."""
    return sorted((root / SOLUTIONS_DIR).glob("[0-9][0-9]_*_solutions.ipynb"))


def solutions_page(chapter: Path) -> Path:
    """The solutions page of a chapter notebook (which may not exist)."""
    return chapter.parent / "solutions" / f"{chapter.stem}_solutions.ipynb"


def chapter_notebooks(root: Path = ROOT) -> list[Path]:
    """Every ``notebooks/NN_*.ipynb`` on disk."""
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def check_toc(root: Path = ROOT) -> list[str]:
    """Every toc entry exists; every chapter on disk is in the toc."""
    problems = []
    for entry in toc_entries(root):
        if not any((root / f"{entry}{suffix}").exists() for suffix in (".md", ".ipynb")):
            problems.append(f"_toc.yml lists {entry!r}, but no {entry}.md or .ipynb exists")
    listed = {p.resolve() for p in toc_notebooks(root) + toc_solutions(root)}
    for nb in chapter_notebooks(root) + solutions_notebooks(root):
        if nb.resolve() not in listed:
            problems.append(f"{nb.relative_to(root)} is not listed in _toc.yml, so the "
                            "book does not contain it")
    return problems


def check_pair_exists(ipynb: Path) -> list[str]:
    """The notebook and its jupytext ``.py`` pair both exist."""
    problems = []
    if not ipynb.exists():
        problems.append(f"{ipynb.name}: the notebook does not exist")
    if not ipynb.with_suffix(".py").exists():
        problems.append(f"{ipynb.name}: no jupytext pair {ipynb.with_suffix('.py').name}")
    return problems


def check_pairing_metadata(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """The notebook declares the ``ipynb,py:percent`` pairing and a python3 kernel."""
    problems = []
    formats = nb.metadata.get("jupytext", {}).get("formats")
    if formats != PAIR_FORMATS:
        problems.append(f"{name}: jupytext formats are {formats!r}, expected {PAIR_FORMATS!r}")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"{name}: kernelspec name is {kernel!r}, expected 'python3'")
    return problems


def check_no_outputs(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """No stored outputs, execution counts, execution timings or widget state."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"{name}: cell {i} has stored outputs (run `make sync`)")
        if cell.get("execution_count") is not None:
            problems.append(f"{name}: cell {i} has execution_count "
                            f"{cell.execution_count} (run `make sync`)")
        if "execution" in cell.metadata:
            problems.append(f"{name}: cell {i} has execution metadata (run `make sync`)")
    if "widgets" in nb.metadata:
        problems.append(f"{name}: stored widget state in the notebook metadata")
    return problems


def check_no_empty_cells(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """No empty cells (they show as blank boxes on the page and in Colab)."""
    return [f"{name}: cell {i} is empty" for i, cell in enumerate(nb.cells) if not cell.source.strip()]


def _cell_signature(cell: nbformat.NotebookNode) -> tuple[str, str, tuple[str, ...]]:
    return cell.cell_type, cell.source.strip(), tuple(sorted(cell.metadata.get("tags", [])))


def check_in_sync(ipynb: Path) -> list[str]:
    """The ``.ipynb`` and the ``.py`` (as jupytext reads it) have the same cells.

    Cell types, sources (ignoring leading and trailing blank lines) and tags must agree.
    """
    name = ipynb.name
    nb = nbformat.read(ipynb, as_version=4)
    text = jupytext.read(ipynb.with_suffix(".py"))
    a = [_cell_signature(c) for c in nb.cells]
    b = [_cell_signature(c) for c in text.cells]
    if len(a) != len(b):
        return [f"{name}: {len(a)} cells in the .ipynb but {len(b)} in the .py "
                "(run `make sync`)"]
    problems = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x[0] != y[0]:
            problems.append(f"{name}: cell {i} is {x[0]} in the .ipynb, {y[0]} in the .py")
        elif x[1] != y[1]:
            first = x[1].splitlines()[0][:60] if x[1] else ""
            problems.append(f"{name}: cell {i} ({first!r}...) differs between the .ipynb "
                            "and the .py (run `make sync`)")
        elif x[2] != y[2]:
            problems.append(f"{name}: cell {i} has tags {list(x[2])} in the .ipynb but "
                            f"{list(y[2])} in the .py")
    return problems


def _tagged(nb: nbformat.NotebookNode, tag: str) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]


def check_colab_cell(nb: nbformat.NotebookNode, name: str, url: str) -> list[str]:
    """A ``remove-cell`` set-up cell installs ``git+<url>`` only on Colab, without magics."""
    cells = [c for c in _tagged(nb, "remove-cell") if "google.colab" in c.source]
    if not cells:
        return [f"{name}: no Colab set-up cell (a code cell tagged remove-cell that "
                "checks 'google.colab' in sys.modules)"]
    problems = []
    source = cells[0].source
    if '"google.colab" in sys.modules' not in source and "'google.colab' in sys.modules" not in source:
        problems.append(f"{name}: the Colab cell must test `\"google.colab\" in sys.modules`")
    if re.search(r"^\s*[!%]", source, flags=re.M):
        problems.append(f"{name}: the Colab cell uses a shell/magic line; use subprocess "
                        "so that the .py pair is plain Python")
    if "subprocess" not in source:
        problems.append(f"{name}: the Colab cell must install with subprocess")
    found = [u.rstrip("/") for u in GIT_URL.findall(source)]
    if not found:
        problems.append(f"{name}: the Colab cell installs nothing from git+{url}")
    for other in found:
        if other != url:
            problems.append(f"{name}: the Colab cell installs from {other}, but "
                            f"_config.yml's repository.url is {url}")
    return problems


def check_checks_cell(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """A ``hide-cell`` code cell that asserts follows ``## Checks``.

    It asserts with ``assert`` statements or by calling a claim set's ``check`` (e.g.
    ``T.SPEC.check(table)``, which raises AssertionError naming every asserted claim
    that does not hold).
    """
    asserts = re.compile(r"^\s*(assert\b|[\w.]*SPEC\.check\()", re.M)
    cells = [c for c in _tagged(nb, "hide-cell") if asserts.search(c.source)]
    if not cells:
        return [f"{name}: no Checks cell (a code cell tagged hide-cell containing assert or SPEC.check)"]
    return []


def check_sections(nb: nbformat.NotebookNode, name: str) -> list[str]:
    """The template's headings appear in order, and its front-matter phrases appear."""
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    problems = []
    if not markdown.lstrip().startswith("# "):
        problems.append(f"{name}: the first cell must be a markdown '# Title'")
    positions = []
    for heading in REQUIRED_HEADINGS:
        match = re.search(rf"^{re.escape(heading)}\s*$", markdown, flags=re.M)
        if match is None:
            problems.append(f"{name}: missing section {heading!r}")
        else:
            positions.append(match.start())
    if positions != sorted(positions):
        problems.append(f"{name}: sections are not in the order {list(REQUIRED_HEADINGS)}")
    for phrase in REQUIRED_PHRASES:
        if phrase.lower() not in markdown.lower():
            problems.append(f"{name}: missing {phrase!r}")
    if "{bibliography}" not in markdown or "docname in docnames" not in markdown:
        problems.append(f"{name}: References needs a ```{{bibliography}}``` block with "
                        "`:filter: docname in docnames`")
    return problems


def check_notebook(ipynb: Path, url: str) -> list[str]:
    """Every check of one chapter notebook."""
    problems = check_pair_exists(ipynb)
    if problems:
        return problems
    nb = nbformat.read(ipynb, as_version=4)
    name = ipynb.name
    return (check_pairing_metadata(nb, name) + check_no_outputs(nb, name) + check_no_empty_cells(nb, name)
            + check_in_sync(ipynb) + check_colab_cell(nb, name, url)
            + check_checks_cell(nb, name) + check_sections(nb, name))


def exercise_count(nb: nbformat.NotebookNode) -> int:
    """How many numbered exercises (``1. **Title.**``) the ``## Exercises`` section has."""
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    section = re.split(r"^## Exercises\s*$", markdown, maxsplit=1, flags=re.M)
    if len(section) < 2:
        return 0
    body = re.split(r"^## ", section[1], maxsplit=1, flags=re.M)[0]
    return len(re.findall(r"^\d+\. \*\*", body, flags=re.M))


def check_solutions_page(chapter: Path, url: str) -> list[str]:
    """A chapter with exercises has a solutions page that answers each, hidden by default.

    The page is a jupytext pair like a chapter (metadata, no outputs, no empty cells, in
    sync, the Colab set-up cell); it has one ``## Exercise N`` heading per exercise of the
    chapter; every code cell but the set-up cells is hidden (tagged ``hide-input``,
    ``hide-cell`` or ``remove-cell``) and every answer sits in a ``{dropdown}``; and the
    chapter's Exercises section links to it.
    """
    chapter_nb = nbformat.read(chapter, as_version=4)
    n = exercise_count(chapter_nb)
    if n == 0:
        return []
    page = solutions_page(chapter)
    name = page.name
    problems = check_pair_exists(page)
    if problems:
        return problems
    nb = nbformat.read(page, as_version=4)
    problems = (check_pairing_metadata(nb, name) + check_no_outputs(nb, name)
                + check_no_empty_cells(nb, name) + check_in_sync(page)
                + check_colab_cell(nb, name, url))
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for i in range(1, n + 1):
        if not re.search(rf"^## Exercise {i}\b", markdown, flags=re.M):
            problems.append(f"{name}: no '## Exercise {i}' section ({chapter.name} has {n})")
    if markdown.count("{dropdown}") < n:
        problems.append(f"{name}: {markdown.count('{dropdown}')} dropdowns for {n} "
                        "exercises; every answer must be hidden until the reader asks")
    hidden = ("hide-input", "hide-cell", "remove-cell")
    for i, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and "setup" not in tags and not set(hidden) & set(tags):
            problems.append(f"{name}: code cell {i} is shown; tag it hide-input (or "
                            "setup, for the imports)")
    chapter_md = "\n".join(c.source for c in chapter_nb.cells if c.cell_type == "markdown")
    exercises = re.split(r"^## Exercises\s*$", chapter_md, maxsplit=1, flags=re.M)[1]
    if f"solutions/{page.stem}" not in exercises:
        problems.append(f"{chapter.name}: the Exercises section does not link to "
                        f"solutions/{page.stem}")
    return problems


def mathjax_sources(page: str) -> list[str]:
    """The ``src`` of every ``<script>`` of an HTML page that loads MathJax."""
    return [src for src in SCRIPT_SRC.findall(page) if "mathjax" in src.lower()]


def check_mathjax_offline(html: Path) -> list[str]:
    """Every built page loads MathJax from the book's own ``_static`` folder (issue 21).

    A page that loads MathJax must load it from a relative path that resolves to an
    existing file under ``<html>/_static`` (for a CommonHTML build, with the web fonts it
    fetches at run time, ``output/chtml/fonts``, beside it), and must not name a remote
    MathJax URL in a script, a link or an inline script (a ``window.MathJax`` loader
    config). At least one page must load MathJax: the book has formulas.

    Parameters
    ----------
    html : Path
        The built HTML folder (``_build/html``).
    """
    static = (html / "_static").resolve()
    problems: list[str] = []
    loading = 0
    for path in sorted(html.rglob("*.html")):
        if static in path.resolve().parents:
            continue  # MathJax's own files and theme assets, not pages
        text = path.read_text(errors="replace")
        name = path.relative_to(html).as_posix()
        sources = mathjax_sources(text)
        loading += bool(sources)
        for src in sources:
            if REMOTE_URL.match(src):
                problems.append(f"{name}: loads MathJax from {src}, which needs the internet")
                continue
            file = (path.parent / src.split("?", 1)[0].split("#", 1)[0]).resolve()
            if static not in file.parents:
                problems.append(f"{name}: loads MathJax from {src}, outside _static")
            elif not file.is_file():
                problems.append(f"{name}: loads MathJax from {src}, which was not built")
            elif "chtml" in file.name and not (file.parent / "output" / "chtml" / "fonts").is_dir():
                problems.append(f"{name}: {src} has no output/chtml/fonts beside it")
        # (script srcs naming MathJax are checked above)
        others = "\n".join(LINK_HREF.findall(text) + INLINE_SCRIPT.findall(text))
        for url in sorted({m.group(0) for m in REMOTE_MATHJAX.finditer(others)}):
            problems.append(f"{name}: references the remote MathJax URL {url}")
    if loading == 0:
        problems.append(f"no page under {html} loads MathJax, so no formula is rendered")
    return problems
