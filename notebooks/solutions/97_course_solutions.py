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
# # Solutions: the course
#
# Worked answers to the exercises of {doc}`../97_course`. Try each exercise first:
# every solution's code and answer stay folded until you open them. The code reads the
# syllabus from the chapters and, for the project week, runs the template chapter's
# fast worlds, so the page runs in seconds in every profile.

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

# %% tags=["setup"]
from uim_utils import course
from uim_utils.book import glue
from uim_utils.chapters import template
from uim_utils.claims import Claim, ClaimSet
from uim_utils.worlds import run_worlds

SYLLABUS = course.syllabus().set_index("week")
print(f"{len(SYLLABUS)} weeks")

# %% [markdown]
# ## Exercise 1: a shorter course
#
# Pick four weeks for a one-month module and say what students lose.

# %% tags=["hide-cell"]
KEEP = (1, 2, 3, 6)  # the template, the lab, the long tail, backdoors
dropped = SYLLABUS.drop(index=list(KEEP))
glue("ex1_kept", "; ".join(SYLLABUS.loc[list(KEEP), "title"]))
glue("ex1_dropped", "; ".join(dropped["title"]))
glue("ex1_goals", sum(len(g) for g in dropped["goals"]))
dropped[["title", "goals"]]

# %% [markdown]
# :::{dropdown} Answer
# One answer keeps {glue:text}`ex1_kept`: the format and the statistics (weeks 1 and
# 2 are what every later week builds on), one consequence that is about data
# statistics (the long tail) and one about an attacker (backdoors). Students lose
# {glue:text}`ex1_dropped`, and with them {glue:text}`ex1_goals` learning goals (the
# table): they never see a flaw in the labels of the data rather than its
# distribution (noisy captions), a flaw in a text encoder and its fairness
# measurements (social bias), or the book's summary of all chapters against the
# published effects. The report card can still be shown in the last session as a
# reading.
# :::
#
# ## Exercise 2: a project week
#
# Turn one chapter's exercises into a graded project with a claim fixed in advance,
# development seeds and held-out seeds.

# %% tags=["hide-cell"]
PROJECT = ClaimSet(  # fixed before any run: the template's Exercise 1 as a claim
    chapter="project_template_ratio_200", version=1, design={"ratio": 200},
    claims=(Claim("P1", "At ratio 200, logit adjustment still raises mean tail recall "
                        "by at least 0.30", statistic="gain_tail", kind="effect",
                  threshold=0.30),),
)


def measure(seed: int) -> dict[str, float]:
    """The project's statistic in world ``seed``."""
    return template.statistics(template.pretrain(seed, 200), template.pretrain(seed, 1))


verdicts = {}
for label, seeds in (("development (0-9)", range(10)),
                     ("held out (3000-3019)", range(3000, 3020))):
    table = run_worlds(measure, list(seeds), progress=False)
    verdicts[label] = PROJECT.verdicts(table).iloc[0]
glue("ex2_dev", verdicts["development (0-9)"]["verdict"])
glue("ex2_heldout", verdicts["held out (3000-3019)"]["verdict"])
glue("ex2_estimate", float(verdicts["held out (3000-3019)"]["estimate"]))
PROJECT.describe()

# %% [markdown]
# :::{dropdown} Answer
# A project built from the template's Exercise 1: students declare, *before* running,
# a claim with a statistic, a kind and a threshold (here: at ratio 200, logit
# adjustment still raises tail recall by at least 0.30), measure it on development
# seeds while they write the code, then freeze the code and run it once on held-out
# seeds they have not touched. In this build the claim's verdict is
# **{glue:text}`ex2_dev`** on the development seeds and **{glue:text}`ex2_heldout`**
# on the held-out ones (gain {glue:text}`ex2_estimate:.2f`). Grade the declaration
# (is the threshold meaningful and fixed in advance?), the code (does `measure` depend
# only on the seed?) and the report (does it state the held-out verdict, whatever it
# is?), not whether the claim held.
# :::
#
# ## Exercise 3: a new week
#
# Add a `course.Week` for a chapter and check that the syllabus reads its goals and
# exercises.

# %% tags=["hide-cell"]
NEW = course.Week(len(course.WEEKS) + 1, "99_reproduction_record", "weeks 1-7",
                  "anywhere (reads records only)")
longer = course.syllabus((*course.WEEKS, NEW)).set_index("week")
row = longer.loc[NEW.week]
glue("ex3_title", row["title"])
glue("ex3_goals", len(row["goals"]))
glue("ex3_exercises", len(row["assignments"]))
row[["chapter", "title", "time", "goals", "assignments"]].to_frame()

# %% [markdown]
# :::{dropdown} Answer
# The new week, {glue:text}`ex3_title`, reads {glue:text}`ex3_goals` learning goals and
# {glue:text}`ex3_exercises` exercises from the chapter itself: the syllabus is parsed
# from each chapter's `.py` pair (its title, its "Learning goals" box, its estimated
# time and the bold titles of its exercises), so a new week needs only the `Week` line
# with what it builds on and where to run it. A chapter without learning goals or
# exercises is refused with a message that names the file, which is what keeps the
# course page and the chapters in step.
# :::
