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
# # Appendix: reproduction record
#
# Every chapter of this book checks its claims when it runs, on the few worlds that one
# run can afford. This page asks the question a sceptical reader asks next: *would the
# chapter have reached the same verdict with other seeds?* For every chapter it shows a
# reproduction record: the chapter's own measurement repeated over many worlds that
# were never used while the chapter was written, and how often each claim held.
#
# :::{admonition} Learning goals
# :class: tip
# After this page you can
# - say what a world is, and why the book's claims are about the average world rather
#   than about one run;
# - tell development seeds from held-out seeds, and why only the second count as
#   evidence;
# - read a record: in how many notebook runs a claim held, its mean over all worlds with
#   an interval, and how many standard errors that mean lies beyond the threshold;
# - regenerate a record with `scripts/sweep.py`.
# :::
#
# **Estimated time.** A few seconds in every profile: the page only reads the records
# (small CSV files shipped with the book); it trains nothing and never imports torch.
# Making a record is another matter: see "Regenerating a record" below.
#
# ## The published claim
#
# The chapters reproduce claims about how foundation models inherit the flaws of their
# pre-training data {cite:p}`chen2024catastrophic`. A claim reproduced once could be
# luck: a lucky draw of concepts, corpus or initialisation. This page makes one claim
# about the book itself, asserted in its `Checks` cell: **every record shown here is
# current and intact**, that is, it was made by the chapter's present claims and
# measurement (same claims version and fingerprint) and its table is the one the sweep
# wrote (same SHA-256). A chapter whose claims changed after its record was made is
# reported below and fails the check, until its record is made again.

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
# The records live in `uim_utils/data/records/`, one CSV (one row per world) and one
# JSON file (how it was made) per chapter and profile. The chapters come from the
# registry `uim_utils.chapters.REGISTRY`, which also holds each chapter's claims.

# %%
import sys

import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import Markdown, display

from uim_utils import chapters
from uim_utils.display import describe_record, plot_record, show_summary
from uim_utils.records import RECORDS_DIR, load_record, record_summary, sweep_command

CONFIDENCE = 0.95       # level of every interval on this page (equivalence claims: 90%)
RECORDS_ROOT = None     # None: the records shipped with the book (RECORDS_DIR)
NAMES = sorted(chapters.REGISTRY)
sns.set_theme(style="whitegrid", context="notebook")
print(f"{len(NAMES)} registered chapter(s); "
      f"records in {RECORDS_DIR.relative_to(RECORDS_DIR.parents[2])}")

# %% [markdown]
# ## Understand
#
# **A world** is everything that one base seed draws: the concepts of the lab, the
# pre-training corpus, the model's initialisation, the test images. Two worlds differ
# in all of these at once. A chapter's claim ("rare concepts are recognised worse") is a
# claim about worlds in general, so a chapter measures its statistics once per world and
# decides each claim from the worlds' average:
#
# - an **effect** holds when the whole 95% Student-t interval of the mean over worlds is
#   beyond its threshold;
# - a **negative control** (an *equivalence* claim: "no gap without the flaw") holds when
#   the 90% interval lies inside a margin fixed in advance, e.g. ±0.10 (two one-sided
#   tests at 5% each);
# - a **cost** (a *non-inferiority* claim: "the mitigation costs at most 0.02 accuracy")
#   holds when the 95% interval's lower end is above minus the margin.
#
# - a **per-world** claim ("in every world", for chapters that can afford only one to
#   three worlds per run) holds when, in each world of the run, the world's own interval
#   over concepts clears the rule; its record's worlds are independent replications.
#   A claim about the average world cannot be decided by a run of one world: such a
#   claim is exploratory in the chapter, and its record decides it over all the
#   record's worlds.
#
# A **notebook run** with base seed `s` (`UIM_SEED=s`) uses the worlds `s, s+1, ...,
# s+n-1`, where `n` is the chapter's number of worlds per run in the profile (one when
# a world is costly and every asserted claim is per world, twenty for the cheap
# template). Held-out runs whose windows overlap share worlds
# and are not independent: a record of claims over worlds steps its base seeds by `n`
# (e.g. `--seeds 2000-2380:20`).
#
# **Development and held-out seeds.** While a chapter is written, its author looks at
# some seeds again and again, choosing sizes, dials and thresholds: these are the
# *development* (design) seeds, and the claims were bound to hold on them. The record
# uses *held-out* seeds, chosen after the claims were frozen and never looked at before:
# the runs with base seeds 1000, 1001, ... for example. Only they are evidence that the
# claims hold beyond the worlds they were designed on. The record lists both, and a note
# on how it came about (e.g. an earlier held-out run that led to more power per run;
# the seeds seen then count as development seeds afterwards).
#
# **How to read a record's table.** One row per claim:
#
# - *held in (notebook runs)*, "k of N": of N notebook runs with held-out base seeds, the
#   claim held in k. This is what a reader rerunning the chapter with a new `UIM_SEED`
#   should expect to see. The last row counts the runs in which **all asserted claims
#   held together**, which is what the chapter's `Checks` cell needs in order to pass;
# - *mean over worlds* and *interval*: the statistic averaged over *all* worlds of the
#   record, with the claim's own interval (much narrower than one run's, since it rests
#   on many more worlds);
# - *SEs beyond (mean per run)*: how many standard errors each run's estimate lay beyond
#   the rule's threshold or margin (positive on the side where the claim holds; for a
#   per-world claim, the run's weakest world), averaged over the runs. A claim only one
#   or two SEs beyond in an average run fails in some runs;
# - *SEs beyond (all worlds)*: the same for the mean over all the record's worlds, in
#   standard errors over worlds (the population figure);
# - exploratory claims (marked, in italics) are shown for information and never
#   asserted.
#
# The figure shows the statistic of every world (one dot each), the interval of the
# mean, and the bound of the rule as a dashed line: how far the worlds spread around the
# threshold tells at a glance why a claim holds in all runs or only in most.

# %% [markdown]
# ## Interpret
#
# The records, chapter by chapter, for every profile the chapter defines. A missing
# record is reported with the command that makes it.

# %%
problems = []   # records refused: made by other claims, or corrupt
shown = 0
for name in NAMES:
    chapter = chapters.get_chapter(name)
    spec = chapter.spec
    display(Markdown(f"**{name}**: claims version {spec.version}, "
                     f"{len(spec.claims)} claims ({len(spec.asserted())} asserted)"))
    for profile in chapter.n_worlds:
        try:
            record = load_record(spec, profile, root=RECORDS_ROOT)
        except FileNotFoundError:
            print(f"No {profile} record of {name} yet; "
                  f"make it with: {sweep_command(name, profile)}")
            continue
        except ValueError as exc:
            problems.append(str(exc))
            print(f"The {profile} record of {name} is refused: {exc}")
            continue
        display(show_summary(record_summary(spec, record, CONFIDENCE)))
        print(describe_record(record))
        plot_record(spec, record, CONFIDENCE)
        plt.show()
        shown += 1
if not NAMES:
    print("No chapter is registered yet: nothing to show. A chapter appears here once "
          "it is added to uim_utils.chapters.REGISTRY and its record is made with "
          "scripts/sweep.py.")
print(f"{shown} record(s) shown, {len(problems)} refused")

# %% [markdown]
# ## Mitigate
#
# ### Regenerating a record
#
# A record is refused when the chapter's claims or measurement changed after it was
# made: the chapter's claims carry a version, bumped with every change, and a
# fingerprint of every claim's text, statistic, threshold and margin and of the
# measurement's settings (model, sizes, epochs). To make a record
# again (or for the first time), run the sweep from the repository's root:
#
# ```bash
# # held-out notebook runs with base seeds 1000..1019 (the sweep measures every world
# # these runs need: 1000 .. 1019 + n - 1), recording the development seeds 0..9
# python scripts/sweep.py 00_the_lab --profile ci --seeds 1000-1019 --design-seeds 0-9
# # the same on two processes, one thread each
# python scripts/sweep.py 00_the_lab --profile ci --seeds 1000-1019 --design-seeds 0-9 --workers 2
# # re-read a record and print its summary
# python scripts/sweep.py 00_the_lab --profile ci --check
# ```
#
# The sweep calls the same measurement function as the chapter's notebook, prints the
# verdict of every held-out run and the summary, writes
# `uim_utils/data/records/<chapter>-<profile>.csv` and `.json`, and exits with status 1
# if an asserted claim failed in any held-out run.
#
# ### When a claim fails in some runs
#
# Do not look for other held-out seeds until it passes, nor tune a threshold to the
# record: that turns held-out seeds into development seeds. Either the claim is weaker
# than stated (say so, and change the claim, its threshold or the design *on development
# seeds*, bump the claims version, then sweep new held-out seeds), or a run needs more
# worlds to see an effect of that size (raise the chapter's worlds per run).

# %% [markdown]
# ## Checks
#
# The cell below (hidden in the book; click to show) asserts the claim stated at the
# top: no record shown here is stale or corrupt. It also checks that the page stayed
# light: reading the records imported no torch.

# %% tags=["hide-cell"]
for p in problems:
    print("refused:", p)
assert not problems, (f"{len(problems)} record(s) refused; "
                     "regenerate them with scripts/sweep.py")
assert "torch" not in sys.modules, "the reproduction record imported torch"
print(f"all checks passed ({shown} record(s), {len(NAMES)} chapter(s))")

# %% [markdown]
# ## Summary
#
# - A world is everything one base seed draws; the book's claims are about the average
#   world, decided by an interval over worlds (effects), a margin (negative controls and
#   costs).
# - A record repeats a chapter's measurement over many held-out worlds and replays every
#   notebook run they allow: "held in k of N runs" is what a reader rerunning the chapter
#   should expect.
# - Records are tied to the exact claims that made them (version and fingerprint) and
#   verified on read (SHA-256), so this page never shows numbers of claims a chapter no
#   longer makes.
# - `python scripts/sweep.py CHAPTER --profile ci --seeds 1000-1019` makes a record.
#
# ## Exercises
#
# 1. **Your own run.** Pick a chapter and a base seed in its held-out range, run the
#    chapter with `UIM_SEED` set to it, and compare its `Checks` verdicts with the row
#    of that run in the sweep's output.
# 2. **Fewer worlds per run.** In the sweep, how often would the asserted claims hold
#    together with half the worlds per run? Use `uim_utils.worlds.window_verdicts` on a
#    record's table with a smaller `n_worlds`.
# 3. **Equivalence at 95%.** Recompute a negative control's verdicts with a 95%
#    interval instead of 90%. How many runs change, and why is 90% the usual choice for
#    two one-sided tests at 5%?
# 4. **A corrupt record.** Copy a record to a temporary folder, change one number in its
#    CSV and load it with `load_record(..., root=folder)`. What happens, and why is that
#    better than a silently wrong table?
#
# Worked solutions, hidden until you open them:
# {doc}`solutions/99_reproduction_record_solutions`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
