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
# # Solutions: the reproduction record
#
# Worked answers to the exercises of {doc}`../99_reproduction_record`. Try each exercise
# first: every solution's code and answer stay folded until you open them. The numbers
# are computed on this page from the records shipped with the book (`ci` profile) and,
# for Exercise 1, from a fresh run of the template chapter, whose worlds take a fraction
# of a second each; the same code works for any chapter, at that chapter's cost.

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
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from uim_utils.book import glue
from uim_utils.chapters import template
from uim_utils.records import load_record, record_paths, summary_runs
from uim_utils.worlds import full_windows, run_worlds, window_verdicts, world_seeds

SPEC = template.SPEC
RECORD = load_record(SPEC, "ci")
N_WORLDS = RECORD.n_worlds
RUNS = summary_runs(RECORD)
print(f"{SPEC.chapter}: {len(RECORD.table)} worlds, {len(RUNS)} held-out runs of "
      f"{N_WORLDS} worlds each")

# %% [markdown]
# ## Exercise 1: your own run
#
# Run a chapter with a held-out base seed and compare its `Checks` verdicts with the row
# of that run in the sweep's output.

# %% tags=["hide-cell"]
BASE = RUNS[1]  # a held-out base seed of the record
table = run_worlds(template.measure, world_seeds(BASE, N_WORLDS), progress=False)
mine = SPEC.verdicts(table).set_index("id")[["estimate", "low", "high", "verdict"]]
sweep = window_verdicts(SPEC, RECORD.table, N_WORLDS, [BASE]).iloc[0]
mine["sweep estimate"] = [sweep[f"est_{c}"] for c in mine.index]
mine["sweep holds"] = [bool(sweep[f"claim_{c}"]) for c in mine.index]
same = (mine["estimate"] - mine["sweep estimate"]).abs().max()
glue("ex1_base", BASE)
glue("ex1_diff", same)
glue("ex1_agree", "agree" if (mine["verdict"].eq("holds") == mine["sweep holds"]).all()
     else "do not all agree")
mine.round(4)

# %% [markdown]
# :::{dropdown} Answer
# The run with base seed {glue:text}`ex1_base` measures the same worlds the sweep
# measured for that base seed, so its estimates equal the record's (largest difference
# {glue:text}`ex1_diff:.1e`) and the verdicts {glue:text}`ex1_agree`. That is what
# makes the record checkable: anyone can pick a row, rerun it, and get the same numbers,
# because a world is everything one seed draws and nothing else changes the result
# (one thread, seeded draws, cached models keyed by everything that makes them).
# :::
#
# ## Exercise 2: fewer worlds per run
#
# How often would the asserted claims hold together with half the worlds per run?

# %% tags=["hide-cell"]
rates = {}
for n in (N_WORLDS, N_WORLDS // 2):
    starts = range(RUNS[0], RUNS[-1] + N_WORLDS, n)  # back-to-back runs
    bases = full_windows(RECORD.table["seed"], n, starts)
    v = window_verdicts(SPEC, RECORD.table, n, bases)
    rates[n] = {"runs": len(v), "all asserted hold": v["all_asserted"].mean(),
                **{f"claim {c.id}": v[f"claim_{c.id}"].mean() for c in SPEC.asserted()}}
ex2 = pd.DataFrame(rates).T.rename_axis("worlds per run")
glue("ex2_full", ex2.loc[N_WORLDS, "all asserted hold"])
glue("ex2_half", ex2.loc[N_WORLDS // 2, "all asserted hold"])
glue("ex2_n", N_WORLDS)
glue("ex2_weakest", ex2.drop(columns=["runs", "all asserted hold"])
     .loc[N_WORLDS // 2].idxmin())
ex2.round(3)

# %% [markdown]
# :::{dropdown} Answer
# With {glue:text}`ex2_n` worlds per run, all asserted claims hold together in
# {glue:text}`ex2_full:.0%` of the runs; with half as many worlds (and twice as many
# runs from the same record) in {glue:text}`ex2_half:.0%`. The weakest claim at half the
# worlds is {glue:text}`ex2_weakest`. An interval over fewer worlds is wider, so a claim
# whose effect lies close to its threshold, or a non-inferiority margin, fails more
# often: power, not truth, changes. That is why version 2 of the template doubled its
# worlds per run (the record's note tells the story).
# :::
#
# ## Exercise 3: equivalence at 95%
#
# Recompute the negative control's verdicts with a 95% interval instead of 90%.

# %% tags=["hide-cell"]
CONTROL = next(c for c in SPEC.claims if c.kind == "equivalence")
held = {}
for label, confidence in (("90% interval", 0.95), ("95% interval", 0.975)):
    v = window_verdicts(SPEC, RECORD.table, N_WORLDS, RUNS, confidence=confidence)
    held[label] = v[f"claim_{CONTROL.id}"]
ex3 = pd.DataFrame(held)
glue("ex3_claim", CONTROL.id)
glue("ex3_held90", int(ex3["90% interval"].sum()))
glue("ex3_held95", int(ex3["95% interval"].sum()))
glue("ex3_changed", int((ex3["90% interval"] != ex3["95% interval"]).sum()))
glue("ex3_runs", len(ex3))
ex3.sum().to_frame("runs where the control holds")

# %% [markdown]
# :::{dropdown} Answer
# The control (claim {glue:text}`ex3_claim`) holds in {glue:text}`ex3_held90` of the
# {glue:text}`ex3_runs` runs with the usual 90% interval and in
# {glue:text}`ex3_held95` with a 95% one; {glue:text}`ex3_changed` run(s) change. An
# equivalence test is two one-sided tests, "the effect is above minus the margin" and
# "below plus the margin", each at 5%; both hold exactly when the 90% interval
# (5% cut from each side) lies inside the margin. A 95% interval tests each side at
# 2.5%: stricter than the 5% the claim promises, so it throws away power for nothing.
# :::
#
# ## Exercise 4: a corrupt record
#
# Change one number of a record's CSV in a copy and load it.

# %% tags=["hide-cell"]
folder = Path(tempfile.mkdtemp())
for path in record_paths(SPEC.chapter, "ci"):
    shutil.copy(path, folder / path.name)
csv = folder / record_paths(SPEC.chapter, "ci")[0].name
lines = csv.read_text().splitlines()
cells = lines[1].split(",")
cells[1] = f"{float(cells[1]) + 0.001:.6f}"  # one statistic of the first world
lines[1] = ",".join(cells)
csv.write_text("\n".join(lines) + "\n")
try:
    load_record(SPEC, "ci", root=folder)
    message = "loaded without complaint"
except ValueError as err:
    message = str(err)
shutil.rmtree(folder)
glue("ex4_message", message.split(";")[0].replace(f"{folder}/", ""))
print(message)

# %% [markdown]
# :::{dropdown} Answer
# Loading the edited copy fails: {glue:text}`ex4_message`. The record's JSON keeps the
# SHA-256 of the CSV's bytes, so any change, however small, is caught before a number
# reaches a page. A silently wrong table is worse than none: the appendix and the
# report card would show a verdict that no run produced, and nobody would know which
# number to distrust. An error that names the file and how to remake it (the sweep
# command) costs a rerun.
# :::
