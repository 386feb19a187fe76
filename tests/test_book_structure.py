"""The book's structure: table of contents, notebook pairs, the chapter template,
configuration, citations and figures. Fast (no execution); see book_checks.py."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import book_checks as bc
import nbformat
import pytest

ROOT = bc.ROOT
CHAPTERS = bc.toc_notebooks()
# Keys that chapters cite; the lead and other chapters rely on exactly these names.
REQUIRED_KEYS = [
    "chen2024catastrophic", "parashar2024neglected", "udandarao2024zeroshot", "zhu2023gla", "chen2024noisy",
    "caliskan2017semantics", "may2019seat", "bolukbasi2016man", "chuang2023debiasing", "gonen2019lipstick",
    "ravfogel2020inlp", "carlini2022poisoning", "bansal2023cleanclip", "verma2023effective",
    "kandpal2022deduplicating", "abbas2023semdedup", "ko2023membership", "fang2022data",
    "kumar2022finetuning", "wortsman2022robust", "zhang2022contrastive", "gadre2023datacomp",
    "radford2021clip", "ilharco2021openclip", "schuhmann2022laion5b", "reimers2019sbert",
    "northcutt2021confident", "bird2020fairlearn", "menon2021logit",
]
# A citation role: {cite:p}`key` or {cite:t}`key1,key2` (not the role named in prose).
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([\w:.-]+(?:\s*,\s*[\w:.-]+)*)`")


def bib_keys() -> list[str]:
    return re.findall(r"^@\w+\{([^,\s]+),", (ROOT / "book/references.bib").read_text(), re.M)


def page_sources() -> list[Path]:
    """Every page of the book: the toc's markdown files and chapter notebooks."""
    out = []
    for entry in bc.toc_entries():
        for suffix in (".md", ".ipynb"):
            if (ROOT / f"{entry}{suffix}").exists():
                out.append(ROOT / f"{entry}{suffix}")
    return out


def test_toc_lists_existing_pages_and_every_chapter() -> None:
    assert bc.check_toc() == []


def test_toc_has_at_least_the_template_chapter() -> None:
    assert ROOT / "notebooks/00_chapter_template.ipynb" in CHAPTERS


@pytest.mark.parametrize("ipynb", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_follows_the_template(ipynb: Path) -> None:
    problems = bc.check_notebook(ipynb, bc.repository_url())
    assert problems == [], "\n".join(problems)


def test_colab_url_is_the_configured_repository() -> None:
    url = bc.repository_url()
    assert url == "https://github.com/uim-book/catastrophic-inheritance"
    for ipynb in CHAPTERS:
        nb = nbformat.read(ipynb, as_version=4)
        assert bc.check_colab_cell(nb, ipynb.name, url) == []


def test_config_builds_only_toc_files_and_fails_on_errors() -> None:
    config = bc.load_config()
    assert config["only_build_toc_files"] is True
    execute = config["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["allow_errors"] is False
    assert execute["timeout"] >= 60
    # "warn"/"error" would make every tqdm progress bar fail a -W build.
    assert execute["stderr_output"] in {"show", "remove"}
    assert config["bibtex_bibfiles"] == ["book/references.bib"]
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["repository"]["branch"] == "main"


def test_bibliography_has_the_shared_keys_once() -> None:
    keys = bib_keys()
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert duplicates == []
    missing = sorted(set(REQUIRED_KEYS) - set(keys))
    assert missing == []


def test_every_citation_is_in_the_bibliography() -> None:
    keys = set(bib_keys())
    unknown = []
    for page in page_sources():
        text = page.read_text()
        for group in CITE.findall(text):
            unknown += [f"{page.relative_to(ROOT)}: {k.strip()}"
                        for k in group.split(",") if k.strip() not in keys]
    assert unknown == []


def test_figures_are_well_formed_and_referenced() -> None:
    svgs = sorted((ROOT / "book/figures").glob("*.svg"))
    assert svgs, "book/figures has no SVG"
    for svg in svgs:
        root = ET.parse(svg).getroot()  # raises on malformed XML
        assert root.tag.endswith("svg")
        assert root.find("{http://www.w3.org/2000/svg}title") is not None, f"{svg.name}: no <title>"
    assert "figures/uim_pipeline.svg" in (ROOT / "book/intro.md").read_text()


def test_no_stray_pages_would_be_parsed() -> None:
    """Files that must never become pages are outside the toc."""
    entries = set(bc.toc_entries())
    assert not any(e.startswith(("tests/", ".venv/", "scripts/")) for e in entries)
    assert "README" not in entries and "CONTRIBUTING" not in entries


# Chapters whose exercises have no solutions page yet (issue 21): each is an expected
# failure, and strict, so that writing the page without removing it here fails too.
SOLUTIONS_PENDING: set[str] = set()


@pytest.mark.parametrize("ipynb", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason="solutions not written yet"))
    if p.stem in SOLUTIONS_PENDING else p for p in CHAPTERS], ids=lambda p: p.stem)
def test_chapter_exercises_have_a_hidden_solutions_page(ipynb: Path) -> None:
    """Every chapter with exercises has a solutions page (issue 21, Teaching)."""
    problems = bc.check_solutions_page(ipynb, bc.repository_url())
    assert problems == [], "\n".join(problems)


def test_solutions_pages_are_not_chapters_and_sit_under_their_chapter() -> None:
    solutions = bc.toc_solutions()
    assert solutions and not set(solutions) & set(CHAPTERS)
    toc = (ROOT / "_toc.yml").read_text()
    for page in solutions:
        chapter = page.name.removesuffix("_solutions.ipynb")
        entry = page.relative_to(ROOT).with_suffix("").as_posix()
        # listed as a section of its chapter: right after the chapter's entry
        assert re.search(rf"file: notebooks/{chapter}\s*\n\s*sections:\s*\n\s*- file: {entry}\s*\n",
                         toc), f"{entry} is not a section of notebooks/{chapter} in _toc.yml"
