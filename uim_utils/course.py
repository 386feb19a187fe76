"""The course page: a syllabus read from the chapters themselves.

Each chapter notebook (its jupytext ``.py`` pair) states its title, its learning goals
(a ``Learning goals`` admonition), its estimated time and its exercises. A teacher's
syllabus should say the same, so :func:`chapter_outline` reads them from the chapter
and :data:`WEEKS` only adds what a chapter cannot know about itself: the week, what it
builds on, and where to run it. Torch-free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
"""The chapter notebooks' folder (``.py`` pairs)."""


@dataclass(frozen=True)
class Week:
    """One week of the course.

    Attributes
    ----------
    week : int
        The week, from 1.
    chapter : str
        The chapter's notebook stem.
    builds_on : str
        What a student should have done first.
    where : str
        Where to run it (laptop, Colab CPU, Colab GPU) and in which profile.
    """

    week: int
    chapter: str
    builds_on: str
    where: str


WEEKS: tuple[Week, ...] = (
    Week(1, "00_chapter_template", "Python, NumPy, a first course in machine learning",
         "laptop or Colab CPU, `ci` or `lab`"),
    Week(2, "00_the_lab", "week 1 (worlds, claims over worlds)", "laptop or Colab CPU, `ci`; `lab` as homework"),
    Week(3, "01_long_tail", "week 2 (the lab, zero-shot evaluation)", "laptop or Colab CPU, `ci`"),
    Week(4, "02_noisy_captions", "week 2; linear probes", "laptop or Colab CPU, `ci`"),
    Week(5, "03_social_bias", "week 1; word embeddings", "laptop or Colab CPU, `ci` or `lab`"),
    Week(6, "04_backdoor_poisoning", "week 2; fine-tuning", "laptop or Colab CPU, `ci`; Colab GPU for `wild`"),
    Week(7, "05_lost_robustness", "week 4 (linear probes); fine-tuning", "laptop or Colab CPU, `ci`"),
    Week(8, "06_duplication_privacy", "week 2 (the lab, zero-shot evaluation); ROC curves",
         "laptop or Colab CPU, `ci`"),
    Week(9, "07_value_misalignment", "week 1 (claims over worlds); next-token prediction, fine-tuning",
         "laptop or Colab CPU, `ci`"),
    Week(10, "98_report_card", "weeks 3-9", "anywhere (reads records only)"),
)
"""The syllabus: one chapter a week, in the book's order."""


def _markdown_lines(text: str) -> list[str]:
    """The markdown text of a percent-format notebook: comment lines of markdown cells, unprefixed."""
    out, in_markdown = [], False
    for line in text.splitlines():
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
            continue
        if in_markdown and (line.startswith("# ") or line == "#"):
            out.append(line[2:])
    return out


def chapter_outline(path: Path | str) -> dict[str, object]:
    """A chapter's title, learning goals, estimated time and exercise titles, read from its ``.py`` pair.

    Raises
    ------
    ValueError
        If the file has no title, no learning goals or no exercises (naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no chapter notebook at {path}")
    lines = _markdown_lines(path.read_text(encoding="utf-8"))
    title = next((ln[2:].strip() for ln in lines if ln.startswith("# ")), "")
    goals: list[str] = []
    if "Learning goals" in "\n".join(lines):
        start = next(i for i, ln in enumerate(lines) if "Learning goals" in ln)
        for ln in lines[start + 1:]:
            if ln.startswith(":::") or ln.startswith("## "):
                break
            if ln.startswith("- "):
                goals.append(ln[2:].strip())
            elif ln.startswith("  ") and goals:
                goals[-1] += " " + ln.strip()
    time = ""
    if any(ln.startswith("**Estimated time.**") for ln in lines):
        start = next(i for i, ln in enumerate(lines) if ln.startswith("**Estimated time.**"))
        end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
        paragraph = " ".join(ln.strip() for ln in lines[start:end])
        time = re.sub(r"^\*\*Estimated time\.\*\*\s*", "", paragraph).split(";")[0].strip()
    exercises = []
    if "## Exercises" in lines:
        for ln in lines[lines.index("## Exercises") + 1:]:
            if ln.startswith("## "):
                break
            m = re.match(r"^\d+\.\s+\*\*(.+?)\*\*", ln)
            if m:
                exercises.append(m.group(1).rstrip("."))
    missing = [n for n, v in (("a title", title), ("learning goals", goals), ("exercises", exercises)) if not v]
    if missing:
        raise ValueError(f"{path.name}: no {', no '.join(missing)} found")
    return {"title": title, "goals": goals, "time": time, "exercises": exercises}


def syllabus(weeks: tuple[Week, ...] = WEEKS, folder: Path | str = NOTEBOOKS) -> pd.DataFrame:
    """One row per week: week, chapter, title, builds on, where to run, time (``ci``),
    learning goals and suggested assignments (the chapter's exercises), all but the
    first four read from the chapter."""
    rows = []
    for w in weeks:
        o = chapter_outline(Path(folder) / f"{w.chapter}.py")
        rows.append({"week": w.week, "chapter": w.chapter, "title": o["title"], "builds on": w.builds_on,
                     "where": w.where, "time": o["time"], "goals": o["goals"], "assignments": o["exercises"]})
    return pd.DataFrame(rows)


__all__ = ["NOTEBOOKS", "WEEKS", "Week", "chapter_outline", "syllabus"]
