# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # For teachers: a course, one chapter a week
#
# The book can carry a short course on how foundation models inherit the flaws of their
# pre-training data: one chapter a week, a lecture on the published claim and a lab
# session in which the students run the chapter, change a dial and defend what they
# see with intervals over worlds.
#
# :::{admonition} Learning goals
# :class: tip
# After this page you can
# - plan the course week by week, with what each week builds on;
# - tell students where to run each chapter (laptop, Colab CPU, Colab GPU) and how long
#   it takes;
# - pick assignments from the chapters' exercises.
# :::
#
# **Estimated time.** A second: the page reads the chapters' own learning goals,
# estimated times and exercises, so the syllabus never disagrees with the chapters.
#
# ## The published claim
#
# The course follows {cite:t}`chen2024catastrophic`: pre-training data are long-tailed,
# noisy, duplicated, poisoned, biased and narrow, and adapted models inherit those
# flaws. Each week turns one of the paper's claims into an experiment with a dial on
# the data.

# %% tags=["remove-cell"]
# Colab set-up: install this book's helper package on Google Colab.
# Anywhere else (local venv, Binder, CI) this cell does nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet",
         "git+https://github.com/uim-book/catastrophic-inheritance"],
        check=True,
    )

# %% [markdown]
# ## Set-up
#
# The weeks are declared in `uim_utils.course.WEEKS` (week, chapter, what it builds
# on, where to run it); everything else is read from the chapters.

# %%
from IPython.display import Markdown, display

from uim_utils import course
from uim_utils.book import glue

syllabus = course.syllabus()
glue("n_weeks", len(syllabus))
print(f"{len(syllabus)} weeks")

# %% [markdown]
# ## Understand
#
# **The plan.** One chapter a week. The `ci` profile runs each chapter on a laptop or
# a free Colab CPU within about two minutes; the `lab` profile (the rendered book) takes
# up to four. The `wild` profile, on real checkpoints, wants a Colab GPU.

# %%
PLAN = ["week", "title", "builds on", "where", "time"]
syllabus[PLAN].style.hide(axis="index").set_properties(**{"white-space": "normal"})

# %% [markdown]
# ## Interpret
#
# **Learning goals and assignments, week by week.** The goals are the chapter's own;
# the assignments are its exercises, and each chapter's solutions page (a section of
# the chapter in the table of contents) holds worked answers, folded until opened.

# %%
for row in syllabus.itertuples():
    goals = "\n".join(f"- {g}" for g in row.goals)
    tasks = "\n".join(f"{i}. {t}" for i, t in enumerate(row.assignments, 1))
    display(Markdown(f"### Week {row.week}: {row.title}\n\nStudents will be able to\n\n"
                     f"{goals}\n\n**Suggested assignments:**\n\n{tasks}"))

# %% [markdown]
# ## Mitigate
#
# **When something goes wrong in class.** A chapter that fails its checks on a
# student's seed is a finding, not a bug to hide: the verdict table shows which claim
# failed and by how much, and the {doc}`reproduction record <99_reproduction_record>`
# says how often that happens over held-out worlds. {doc}`../book/how_to_run` lists the
# measured times and what to do when a run is slow.

# %% [markdown]
# ## Checks
#
# The cell below (hidden in the book) asserts that every week names a chapter of the
# book with learning goals and at least three exercises.

# %% tags=["hide-cell"]
assert list(syllabus["week"]) == list(range(1, len(syllabus) + 1)), syllabus["week"]
assert all(len(a) >= 3 for a in syllabus["assignments"]), syllabus["assignments"]
assert all(len(g) >= 2 for g in syllabus["goals"]), syllabus["goals"]
print("all checks passed")

# %% [markdown]
# ## Summary
#
# - {glue:text}`n_weeks` weeks, one chapter each, from the chapter template to the
#   report card.
# - The syllabus is read from the chapters, so it stays in step with them.
#
# ## Exercises
#
# 1. **A shorter course.** Pick four weeks for a one-month module and say what
#    students lose.
# 2. **A project week.** Turn one chapter's exercises into a graded project with a
#    claim fixed in advance, development seeds and held-out seeds.
# 3. **A new week.** Add a `course.Week` for a chapter of your own and check that the
#    syllabus reads its goals and exercises.
#
# Worked solutions, hidden until you open them:
# {doc}`solutions/97_course_solutions`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
