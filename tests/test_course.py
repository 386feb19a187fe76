"""Tests of uim_utils.course: the syllabus is read from the chapters."""

from __future__ import annotations

from pathlib import Path

import pytest

from uim_utils import course

CHAPTER = '''# %% [markdown]
# # A chapter
#
# :::{admonition} Learning goals
# :class: tip
# After this chapter you can
# - do one thing that takes
#   two lines;
# - do another.
# :::
#
# **Estimated time.** `ci`: about 10 s
# on two cores; `lab`: 20 s.

# %%
x = 1  # code is not read

# %% [markdown]
# ## Exercises
#
# 1. **First.** Do it.
# 2. **Second one.** And this.
#
# ## References
'''


def test_chapter_outline_reads_goals_time_and_exercises(tmp_path: Path) -> None:
    path = tmp_path / "01_x.py"
    path.write_text(CHAPTER)
    o = course.chapter_outline(path)
    assert o == {"title": "A chapter", "goals": ["do one thing that takes two lines;", "do another."],
                 "time": "`ci`: about 10 s on two cores", "exercises": ["First", "Second one"]}


def test_chapter_outline_names_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "02_y.py"
    path.write_text("# %% [markdown]\n# # Title only\n")
    with pytest.raises(ValueError, match="02_y.py: no learning goals, no exercises found"):
        course.chapter_outline(path)
    with pytest.raises(ValueError, match="no chapter notebook at"):
        course.chapter_outline(tmp_path / "nope.py")


def test_the_syllabus_reads_every_week_from_its_chapter() -> None:
    s = course.syllabus()
    assert list(s["week"]) == [w.week for w in course.WEEKS]
    assert all(len(g) >= 2 for g in s["goals"]) and all(len(a) >= 3 for a in s["assignments"])
    assert all(t for t in s["time"])
