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
# # Solutions: social bias
#
# Worked answers to the exercises of {doc}`../03_social_bias`. Try each exercise first:
# every solution's code and answer stay folded until you open them. The numbers are
# computed on this page, in the profile the book was built with, from the packaged
# all-MiniLM-L6-v2 and the chapter's task (embeddings cached by the chapter). Exercise
# 2 trains one encoder (20 steps, cached after); Exercise 1 trains three more doses,
# which run only when you set `UIM_TRAIN_EXERCISES=1` (the rendered book and the tests
# skip them); Exercise 5 needs the `wild` profile and internet.

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
import numpy as np
import pandas as pd
from IPython.display import display

import uim_utils.offline
from uim_utils import bias, get_profile
from uim_utils.bias import world as bias_world
from uim_utils.book import SKIPPED, glue, train_exercises
from uim_utils.chapters import bias as chapter

P = get_profile()
LISTS = bias.load_word_lists()
ENC = bias.load_encoder(bias.PACKAGED_MINILM)
TASK = bias.build_task(LISTS["task"], seed=P.seed,
                       subjects_per_activity=chapter.SUBJECTS_PER_ACTIVITY[P.name],
                       n_test_name_pairs=chapter.N_TEST_NAME_PAIRS[P.name])
EMB = bias_world.task_embeddings(ENC, TASK)
D_WORDS, D_SENTENCES = bias.defining_pair_differences(
    ENC, LISTS["defining_pairs"], LISTS["templates"]["terms"])
print(f"profile={P.name}, world {P.seed}: {len(TASK.train)} training sentences")


def downstream(matrix=None, method="none") -> dict:
    """Gap, flip rate, gender recovery and accuracy of the router after a projection."""
    f = None if matrix is None else (lambda E: bias.apply_projection(E, matrix))
    r = bias.evaluate_downstream(TASK, EMB, f, method=method, seed=P.seed)
    return {"P(work) gap": r.gap.mean(), "flip rate": r.flips.mean(),
            "gender recovery": r.recovery, "accuracy": r.accuracy}


# %% [markdown]
# ## Exercise 1: more doses
#
# Train the dial at doses 0, 0.25, 0.5, 0.75 and 1 and plot the WEAT statistic and the
# P(work) gap against the dose. Is the response linear? What does dose 0 do?

# %% tags=["hide-cell"]
DOSES = (0.0, 0.25, 0.5, 0.75, 1.0)
if train_exercises():  # three new trainings (0.5 and 1.0 are the chapter's)
    dial_world = bias_world.run_world(
        P.seed, DOSES, n_pairs=chapter.N_PAIRS, batch_size=chapter.BATCH_SIZE,
        lr=chapter.LR, subjects_per_activity=chapter.SUBJECTS_PER_ACTIVITY[P.name],
        n_test_name_pairs=chapter.N_TEST_NAME_PAIRS[P.name])
    views = dial_world.views
    ex1 = pd.DataFrame({
        "WEAT statistic": [bias_world.seat_difference(
            views[d].seat["names"], None, seed=P.seed)[0] for d in DOSES],
        "P(work) gap": [views[d].down.gap.mean() for d in DOSES]}, index=DOSES)
    ex1.plot(marker="o", subplots=True, figsize=(6, 4), xlabel="dose")
    fit = np.polyfit(ex1.index, ex1["WEAT statistic"], 1)
    residual = ex1["WEAT statistic"] - np.polyval(fit, ex1.index)
    glue("ex1_finding", f"the WEAT statistic goes from {ex1.iloc[0, 0]:+.3f} at dose 0 "
         f"to {ex1.iloc[-1, 0]:+.3f} at dose 1 (a straight line misses by at most "
         f"{residual.abs().max():.3f}), and the P(work) gap from "
         f"{ex1.iloc[0, 1]:+.3f} to {ex1.iloc[-1, 1]:+.3f}")
    display(ex1.round(3))
else:
    print("Exercise 1 trains three new doses: skipped "
          "(set UIM_TRAIN_EXERCISES=1 to run it).")
    glue("ex1_finding", SKIPPED)

# %% [markdown]
# :::{dropdown} Answer
# Result in this build: {glue:text}`ex1_finding`. The dose is the share of sentences
# that pair a male name with a career word and a female name with a family word, so the
# association the training adds should grow with it, and dose 0.5 (no association in
# the data) should leave the pre-trained association roughly where it was. Dose 0 is
# the *anti*-stereotyped corpus: it pushes the association below the pre-trained
# model's, towards or past zero. Data put the association in, in either direction; a
# response that bends near the ends shows how far 20 steps on 640 sentences can move
# a pre-trained encoder.
# :::
#
# ## Exercise 2: held-out names
#
# Train on a corpus that uses only half of the names and measure the association on
# the other half.

# %% tags=["hide-cell"]
ex2 = chapter.held_out_names(P.seed, P.name)
glue("ex2_seen", ex2.loc["seen names", "change"])
glue("ex2_unseen", ex2.loc["unseen names", "change"])
glue("ex2_share", ex2.loc["unseen names", "change"] / ex2.loc["seen names", "change"])
ex2.round(3)

# %% [markdown]
# :::{dropdown} Answer
# Trained on the stereotyped corpus (dose 1) with half of the names, the association
# (male names with career words, female names with family words; in cosine units) grows
# by {glue:text}`ex2_seen:+.3f` for the names the corpus used and by
# {glue:text}`ex2_unseen:+.3f` for names it never showed: the unseen names get
# {glue:text}`ex2_share:.0%` of the change. The encoder did not memorise name-word
# pairs; it moved what the names have in common, their gender, towards the career or
# family words, and every name that carries that gender moves with it. This is why a
# bias learnt from some examples reaches people who never appeared in the data.
# :::
#
# ## Exercise 3: turn the projection dial
#
# Remove one gender direction (`k=1`) instead of the whole subspace, and try the
# calibration weight `LAMBDA` = 0, 10 and 10,000. Is there a setting that removes the
# gap *and* the recoverability?

# %% tags=["hide-cell"]
rows = {("none", "-"): downstream()}
for k, label in [(None, "subspace"), (1, "k = 1")]:
    P0 = bias.projection_matrix(bias.bias_subspace(D_WORDS, k=k))
    rows[(label, "P0")] = downstream(P0, "P0")
    for lam in (0.0, 10.0, 1000.0, 10_000.0):
        rows[(label, f"P*, lambda {lam:g}")] = downstream(
            bias.calibrated_projection(P0, D_SENTENCES, lam=lam), "P*")
ex3 = pd.DataFrame(rows).T.rename_axis(["directions", "projection"])
both = ex3[(ex3["P(work) gap"].abs() < chapter.GAP_MARGIN)
           & (ex3["gender recovery"] < chapter.RECOVERY_MIN)]
glue("ex3_min_recovery", ex3["gender recovery"].min())
glue("ex3_both", "none of them" if both.empty else
     ", ".join(f"{a} {b}" for a, b in both.index))
glue("ex3_gap_margin", chapter.GAP_MARGIN)
glue("ex3_recovery_min", chapter.RECOVERY_MIN)
ex3.round(3)

# %% [markdown]
# :::{dropdown} Answer
# Of the settings in the table, {glue:text}`ex3_both` bring the P(work) gap within
# ±{glue:text}`ex3_gap_margin` *and* gender recovery below
# {glue:text}`ex3_recovery_min` (the chapter's thresholds); the lowest recovery of any
# setting is {glue:text}`ex3_min_recovery:.2f`, against 0.5 for chance. A projection
# removes the few directions in which the defining pairs (he/she, man/woman...) differ;
# the calibration weight trades how strictly it removes them against how much of the
# rest it keeps. But gender is written into many directions at once (names, pronouns,
# kinship nouns, the activities that co-occur with them), so a linear probe trained
# *after* the projection finds it again in what is left: removing one direction, or a
# handful, hides the bias from the measurement that defined it, not from a classifier
# ("lipstick on a pig", {cite:t}`gonen2019lipstick`).
# :::
#
# ## Exercise 4: iterate (INLP)
#
# Train a linear gender probe, project out its weight vector, repeat. After how many
# rounds does gender recovery reach chance, and what happens to the topic accuracy?

# %% tags=["hide-cell"]
N_ROUNDS = 20
projections = chapter.inlp_projections(EMB["train"], TASK.train["gender"], N_ROUNDS,
                                       seed=P.seed)
ex4 = pd.DataFrame({k: downstream(M, f"INLP {k}") for k, M in enumerate(projections)}
                   ).T.rename_axis("rounds")
ex4[["gender recovery", "accuracy"]].plot(marker="o", figsize=(6, 3),
                                          ylabel="accuracy", ylim=(0.4, 1.02))
at_chance = ex4.index[ex4["gender recovery"] <= 0.55]
glue("ex4_rounds", f"after {at_chance[0]} rounds" if len(at_chance)
     else f"not within the {len(ex4) - 1} rounds run")
glue("ex4_converged", len(projections) - 1)
glue("ex4_recovery_end", ex4["gender recovery"].iloc[-1])
glue("ex4_acc_start", ex4["accuracy"].iloc[0])
glue("ex4_acc_end", ex4["accuracy"].iloc[-1])
ex4.round(3)

# %% [markdown]
# :::{dropdown} Answer
# Gender recovery on held-out sentences comes within 0.05 of chance (0.5)
# {glue:text}`ex4_rounds`. INLP stopped after {glue:text}`ex4_converged` rounds: then
# the two genders' training sentences have the same mean in every direction that is
# left, and the regularised probe's weights vanish, so there is nothing linear left to
# remove; held-out recovery ends at {glue:text}`ex4_recovery_end:.2f`. The topic
# accuracy goes from {glue:text}`ex4_acc_start:.3f` to {glue:text}`ex4_acc_end:.3f`:
# the router's work/home signal lies in other directions than the few removed. INLP
# {cite:p}`ravfogel2020inlp` is the principled answer
# to Exercise 3: it keeps removing until *a probe* can no longer recover the attribute,
# which is the test the one-shot projections failed.
# :::
#
# ## Exercise 5: bigger encoders (wild)
#
# With internet, run the association tests on the text tower of a CLIP trained on LAION,
# or on all-mpnet-base-v2.

# %% tags=["hide-cell"]
WILD_ENCODERS = ("open_clip:ViT-B-32:laion2b_s34b_b79k",
                 "hf:sentence-transformers/all-mpnet-base-v2")
if P.is_wild:
    tests = bias.association_tests(lists=LISTS)
    for name in WILD_ENCODERS:
        try:
            enc = bias.load_encoder(name)
        except uim_utils.offline.OfflineError as err:
            print(f"{name}: skipped ({err})")
            continue
        vecs = bias.embed_tests(enc, tests, templates=LISTS["templates"])
        display(bias.weat_table(
            bias.run_weat(t, vecs, n_perm=10_000, n_boot=2000, seed=P.seed,
                          embedding=name) for t in tests)
            [["test", "effect_size", "ci_low", "ci_high", "p_value"]].round(3))
else:
    print(f"profile {P.name!r}: Exercise 5 downloads real encoders and runs only with "
          "UIM_PROFILE=wild (needs internet).")

# %% [markdown]
# :::{dropdown} Answer
# Run the cell with `UIM_PROFILE=wild`; this build did not (its profile is not `wild`,
# or it has no internet), so the page shows no numbers for it. What to look for: the
# flowers/insects control should hold in every encoder; the social tests (names with
# career/family, with math/arts, with science/arts) measure what each encoder's
# pre-training text carried. A CLIP text tower learnt from image captions, a
# sentence encoder from question-answer and paraphrase pairs: different corpora,
# different inherited associations, and the effect sizes' bootstrap intervals (over the
# words) say which differences are more than a choice of words.
# :::
