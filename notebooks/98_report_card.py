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
# # Report card: what the lab inherits, and what mitigates it
#
# Each chapter of this book takes one flaw of pre-training data and shows, in a lab we
# control, that a model inherits it. This page puts the chapters side by side: for each
# flaw, the consequence it belongs to, the published effect, the lab's effect measured
# over held-out worlds, what the mitigation gained, and a status computed from the
# chapter's claims.
#
# :::{admonition} Learning goals
# :class: tip
# After this page you can
# - name the six consequences of catastrophic inheritance and the chapters that show
#   them;
# - read a status ("reproduced", "partly", "not reproduced") back to the claims and
#   intervals it comes from;
# - say which published effects the lab does not show, and where to look for why.
# :::
#
# **Estimated time.** A few seconds in every profile: the page reads the reproduction
# records shipped with the book and trains nothing.
#
# ## The published claim
#
# {cite:t}`chen2024catastrophic` argue that the flaws of pre-training data (long tails,
# noise, poison, bias, duplication, narrow distributions, harmful content) are inherited
# by every model adapted from a foundation model, with six consequences: bias, lack of
# generalization, deteriorated performance, security vulnerability, privacy leakage and
# value misalignment. The chapters test this one flaw at a time, with a dial on the
# data.
# This page claims nothing new about models; it asserts that **every chapter on the
# report card has a current record** (made by its present claims) and that its status
# is computed from that record.

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
# The cards are declared once, in `uim_utils.report.CARDS`: for each chapter, its flaw,
# its consequences, the published effect and which of its claims carry the inherited
# effect and the mitigation. The numbers come from the chapters' `ci` records (the
# held-out worlds of the {doc}`reproduction record <99_reproduction_record>`).

# %%
import sys

import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import display

from uim_utils import chapters, report
from uim_utils.book import glue

PROFILE = "ci"       # the records read: ci (or lab)
CONFIDENCE = 0.95    # level of every interval on this page
sns.set_theme(style="whitegrid", context="notebook")
card = report.report_card(profile=PROFILE, confidence=CONFIDENCE)
status_table = report.chapter_status(card)
counts = status_table["status"].value_counts()
for status in report.STATUSES:
    glue(f"n_{status.replace(' ', '_')}", int(counts.get(status, 0)))
glue("n_cards", len(status_table))
print(f"{len(status_table)} chapters on the card, records of profile {PROFILE!r}")

# %% [markdown]
# ## Understand
#
# **One row per flaw.**
#
# Of the {glue:text}`n_cards` chapters on the card, {glue:text}`n_reproduced` reproduce
# the published effect and its mitigation, {glue:text}`n_partly` reproduce part of it,
# {glue:text}`n_not_reproduced` do not reproduce it, and {glue:text}`n_no_record_yet`
# are not yet measured over worlds. The status is computed, never typed:
#
# - **reproduced**: every effect claim and every mitigation claim of the card holds
#   over the record's worlds (its interval over worlds clears the claim's rule), and
#   all asserted claims of the chapter held together in every held-out run;
# - **partly**: at least one effect claim holds over the worlds, but not all of that;
# - **not reproduced**: no effect claim holds over the worlds.

# %%
WRAP = {"white-space": "normal", "min-width": "20em"}  # long text wraps in the table
status_table.style.hide(axis="index").set_properties(subset=["published"], **WRAP)

# %% [markdown]
# ## Interpret
#
# **The lab's effects over worlds.**
#
# Each claim on the card with the lab's mean over the record's held-out worlds, its 95%
# interval (90% for an equivalence), the rule it is held to, and in how many held-out
# notebook runs it held.

# %%
COLUMNS = ["chapter", "role", "claim", "statement", "estimate", "low", "high", "rule",
           "holds", "held_in"]
measured = card[card["status"] != report.NO_RECORD][COLUMNS]
(measured.style.hide(axis="index")
 .format({"estimate": "{:+.3f}", "low": "{:+.3f}", "high": "{:+.3f}"})
 .set_properties(subset=["statement"], **WRAP))

# %%
fig = report.plot_card(card)
plt.show()

# %% [markdown]
# **Reading the figure.** Red: the inherited effect; blue: the mitigation's gain; a
# hollow marker is a claim whose interval over worlds does not clear its rule (dashed).
# The chapters say why an effect is missing: in the noisy-captions chapter the lab
# shows the out-of-domain loss but not the in-domain bump, and NMTune does not beat the
# same head trained with cross-entropy alone; in the backdoor chapter CleanCLIP's
# fine-tuning does no better than the CLIP loss alone once the backdoor is deep.

# %% [markdown]
# ## Mitigate
#
# **What the book does not show yet.**
#
# The consequences and the chapters that show them; a consequence without a chapter is
# a gap in the evidence, not evidence of absence.

# %%
display(report.coverage().style.hide(axis="index"))

# %% [markdown]
# ## Checks
#
# The cell below (hidden in the book; click to show) asserts what this page claims:
# every chapter on the card that is on the claims machinery had a current record (else
# `report_card` would have raised above), every registered chapter about a flaw has a
# card, and every status is one of the four computed ones. It also checks that the page
# stayed light (no torch).

# %% tags=["hide-cell"]
missing = report.chapters_without_card()
assert not missing, f"registered chapters without a card: {missing}"
assert set(status_table["status"]) <= set(report.STATUSES), set(status_table["status"])
registered = status_table[status_table["chapter"].isin(chapters.REGISTRY)]
assert (registered["status"] != report.NO_RECORD).all(), registered
assert "torch" not in sys.modules, "the report card imported torch"
print(f"all checks passed ({len(registered)} chapters with records)")

# %% [markdown]
# ## Summary
#
# - The card maps each flaw to the paper's consequences and shows the lab's effect
#   beside the published one, over held-out worlds.
# - A status is computed from the chapter's claims and its record; a missing or stale
#   record stops the build.
# - Where the lab does not show a published effect, the chapter states the estimate
#   and the likely reason; the card points there.
#
# ## Exercises
#
# 1. **A stricter card.** Change `report.card_status` so that "reproduced" also
#    requires every effect claim to have held in every held-out run (not only over the
#    worlds). Which chapters change status, and which rule do you find fairer?
# 2. **The lab profile.** Build the card from the `lab` records (`PROFILE = "lab"`).
#    Do the statuses agree with the `ci` ones? Where would you expect them to differ?
# 3. **Your own card.** Add a `report.Card` for the template chapter (its effect is
#    claim 1, its mitigation 4a) and pass `cards=report.CARDS + (your_card,)` to
#    `report_card`. What does its status say, and why is the template not on the card?
# 4. **A gap.** Every consequence now has a chapter, but not every flaw of the book's
#    plan has one: sketch, in five lines, the dial, the inherited effect, the negative
#    control and the mitigation of a chapter on *spurious correlations* (objects that
#    co-occur with a concept in the pre-training captions).
#
# Worked solutions, hidden until you open them:
# {doc}`solutions/98_report_card_solutions`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
