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
# # Solutions: the template chapter
#
# Worked answers to the exercises of {doc}`../00_chapter_template`. Try each exercise
# first: every solution's code and answer stay folded until you open them (click the
# cell or the *Answer* box). The numbers in the answers are computed on this page, in
# the profile the book was built with, over the same worlds as the chapter; each fit
# takes a fraction of a second, so the page runs in seconds in every profile.

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
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from uim_utils import get_profile
from uim_utils.book import glue
from uim_utils.chapters import template

P = get_profile()
SEEDS = P.seeds(template.CHAPTER.worlds(P.name))
RATIO, TAU = template.RATIO, template.TAU
print(f"profile={P.name}: worlds {SEEDS[0]}-{SEEDS[-1]}")


def mean_over_worlds(rows: list[dict]) -> pd.Series:
    """Mean over worlds of each column of one-row-per-world results."""
    return pd.DataFrame(rows).mean()


# %% [markdown]
# ## Exercise 1: turn the dial
#
# Pre-train at ratios 100, 200 and 400 (and 50, the chapter's ratio). How do tail recall
# and the gain from logit adjustment change, and where does the adjusted model stop
# recovering?

# %% tags=["hide-cell"]
RATIOS = (50, 100, 200, 400)
rows = []
for ratio in RATIOS:
    for seed in SEEDS:
        run = template.pretrain(seed, ratio)
        base, adj = template.evaluate(run), template.evaluate(run, TAU)
        rows.append(dict(ratio=ratio, tail=base["tail"], adjusted_tail=adj["tail"],
                         gain=adj["balanced"] - base["balanced"],
                         tail_count=run.counts[run.order[-1]],
                         third_count=run.counts[run.order[-3]]))
dial = pd.DataFrame(rows).groupby("ratio").mean()
for ratio in (RATIOS[0], RATIOS[-1]):
    glue(f"ex1_tail_{ratio}", dial.loc[ratio, "tail"])
    glue(f"ex1_adj_{ratio}", dial.loc[ratio, "adjusted_tail"])
    glue(f"ex1_gain_{ratio}", dial.loc[ratio, "gain"])
    glue(f"ex1_third_{ratio}", int(dial.loc[ratio, "third_count"]))
# the first ratio at which all three tail classes are down to one example
glue("ex1_floor", int(dial.index[dial["third_count"] == 1][0]))
dial.round(3)

# %% [markdown]
# :::{dropdown} Answer
# Tail recall falls from {glue:text}`ex1_tail_50:.2f` at ratio 50 to
# {glue:text}`ex1_tail_400:.2f` at ratio 400, while logit adjustment still lifts it to
# {glue:text}`ex1_adj_50:.2f` and {glue:text}`ex1_adj_400:.2f` (balanced-accuracy gain
# {glue:text}`ex1_gain_50:.3f` and {glue:text}`ex1_gain_400:.3f`). The rarest digit
# cannot get fewer than one example (`long_tail_counts` never goes below 1), so beyond
# ratio 80 the tail's *data* stops shrinking: the third-rarest class has
# {glue:text}`ex1_third_50` examples at ratio 50 and {glue:text}`ex1_third_400` at 400.
# What keeps falling is the prior of the tail, so the inherited model misses it more,
# and the gain of the adjustment grows. But the adjustment only shifts the scores: it
# recovers what the few tail examples taught the model, no more. From ratio
# {glue:text}`ex1_floor` on, every tail class has a single example, and the adjusted
# tail recall stops moving (see the table): the model has learnt all one example can
# teach, and no shift of the logits adds to it; only more data or labels can.
# :::
#
# ## Exercise 2: estimate the prior
#
# Pretend the prior is unknown: estimate it by the model's mean predicted probability on
# unlabelled test digits, or as GLA does, on a small labelled balanced set.

# %% tags=["hide-cell"]
N_LABELLED = 5  # labelled digits per class for GLA, held out of the test set
priors = mean_over_worlds([
    template.compare_priors(template.pretrain(s, RATIO), N_LABELLED, seed=P.seed + s)
    for s in SEEDS])
for key, name in [("none", "inherited"), ("true", "true prior"),
                  ("mean", "mean probability"), ("gla", "GLA")]:
    glue(f"ex2_{key}", priors[name])
glue("ex2_labels", N_LABELLED * template.N_CLASSES)
priors.round(3).to_frame("balanced accuracy")

# %% [markdown]
# :::{dropdown} Answer
# Balanced accuracy (mean over worlds, on the test digits not used for the estimates):
# {glue:text}`ex2_none:.3f` as inherited, {glue:text}`ex2_true:.3f` with the true prior,
# {glue:text}`ex2_mean:.3f` with the mean-probability estimate and
# {glue:text}`ex2_gla:.3f` with the GLA estimate from {glue:text}`ex2_labels` labels.
# The mean predicted probability on balanced data is the prior *as the model applies
# it*, blurred by its errors on the tail, so it understates how skewed the training data
# was; GLA instead asks which prior, removed from the logits, best explains a few
# balanced labels, which is exactly the quantity the adjustment needs. Compare how close
# each estimate gets to the true-prior row.
# :::
#
# ## Exercise 3: regularisation
#
# Refit with `LogisticRegression(C=0.1)`. Does the model inherit more or less of the
# prior, and where is the best $\tau$ now?

# %% tags=["hide-cell"]
TAUS = np.linspace(0, 3, 13)
curves, gaps = {}, {}
for c in (1.0, 0.1):
    runs = [template.pretrain_with(s, RATIO, LogisticRegression(C=c, max_iter=2000))
            for s in SEEDS]
    scores = [[template.evaluate(r, t) for r in runs] for t in TAUS]
    curves[c] = [np.mean([e["balanced"] for e in row]) for row in scores]
    gap = np.mean([e["head"] - e["tail"] for e in scores[0]])  # TAUS[0] = 0
    best, gaps[c] = TAUS[int(np.argmax(curves[c]))], gap
    glue(f"ex3_gap_{c:g}".replace(".", ""), gap)
    glue(f"ex3_best_{c:g}".replace(".", ""), best)
    print(f"C = {c:g}: head-tail gap {gap:.3f}, best tau {best:.2f}")
    plt.plot(TAUS, curves[c], label=f"C = {c:g}")
glue("ex3_more", "more" if gaps[0.1] > gaps[1.0] else "less")
best_01 = TAUS[int(np.argmax(curves[0.1]))]
glue("ex3_moves", f"moves to {best_01:.2f}" if best_01 != TAU else
     f"stays at 1 on this grid (steps of {TAUS[1] - TAUS[0]:.2f}): the miscalibration "
     "is too small to move it that far")
plt.axvline(TAU, color="k", ls="--", lw=1)
plt.xlabel(r"adjustment strength $\tau$")
plt.ylabel("balanced accuracy (mean over worlds)")
plt.legend()
plt.show()

# %% [markdown]
# :::{dropdown} Answer
# With the default `C = 1` the head-tail gap is {glue:text}`ex3_gap_1:.2f` and the best
# $\tau$ is {glue:text}`ex3_best_1:.2f`; with `C = 0.1` the gap is
# {glue:text}`ex3_gap_01:.2f` and the best $\tau$ is {glue:text}`ex3_best_01:.2f`.
# The regularised model inherits {glue:text}`ex3_more` of the prior. Stronger
# regularisation shrinks the weights, so the per-class intercepts, which carry the
# prior, weigh more in every decision, and the shrunk weights learn little from the
# tail's one or two examples. Its scores are also no longer calibrated
# log-probabilities (they are shrunk towards zero), and the theory's $\tau = 1$ assumes
# calibrated scores: subtracting the full log-prior from shrunk scores is a different
# correction than intended, so the best $\tau$ need not be 1. Here it
# {glue:text}`ex3_moves`.
# :::
#
# ## Exercise 4: another adaptation, a linear probe
#
# Instead of adjusting logits, refit the model on a few examples per class.

# %% tags=["hide-cell"]
PER_CLASS = (1, 2, 5, 10)
probe = {k: np.mean([template.evaluate(template.balanced_probe(s, k))["tail"]
                     for s in SEEDS]) for k in PER_CLASS}
adjusted = np.mean([template.evaluate(template.pretrain(s, RATIO), TAU)["tail"]
                    for s in SEEDS])
glue("ex4_adjusted", adjusted)
for k in PER_CLASS:
    glue(f"ex4_probe_{k}", probe[k])
match = [k for k in PER_CLASS if probe[k] >= adjusted]
glue("ex4_match", f"{match[0] * template.N_CLASSES} labels ({match[0]} per class)"
     if match else f"more than {PER_CLASS[-1] * template.N_CLASSES} labels")
pd.Series(probe, name="probe tail recall").rename_axis("labels per class").round(3)

# %% [markdown]
# :::{dropdown} Answer
# Logit adjustment brings tail recall to {glue:text}`ex4_adjusted:.2f` with no
# downstream label (only the prior). The probe's tail recall is
# {glue:text}`ex4_probe_1:.2f`, {glue:text}`ex4_probe_2:.2f`,
# {glue:text}`ex4_probe_5:.2f` and {glue:text}`ex4_probe_10:.2f` with 1, 2, 5 and 10
# labels per class; it matches the adjusted model from {glue:text}`ex4_match`. (Here
# the "last layer" is the whole logistic regression; for a deep model the probe refits
# only the head, on frozen features.) A balanced probe has no inherited prior at all,
# but it pays in labels, and with few of them it has little data per class.
# :::
#
# ## Exercise 5: a different model
#
# Replace the logistic regression by a 5-nearest-neighbour classifier, adjusted on its
# log-probabilities.

# %% tags=["hide-cell"]
knn = [template.pretrain_with(s, RATIO, template.LogProba(KNeighborsClassifier(5)))
       for s in SEEDS]
keys = ["head", "tail", "balanced", "head_share"]
table = pd.DataFrame({
    f"tau = {tau:g}": mean_over_worlds([
        {k: template.evaluate(r, tau)[k] for k in keys} for r in knn])
    for tau in (0.0, TAU)})
before, after = table["tau = 0"], table[f"tau = {TAU:g}"]
glue("ex5_gap", before["head"] - before["tail"])
glue("ex5_tail", before["tail"])
glue("ex5_adj_tail", after["tail"])
glue("ex5_gain", after["balanced"] - before["balanced"])
table.round(3)

# %% [markdown]
# :::{dropdown} Answer
# Yes. The nearest-neighbour model has no intercept, but its votes come from the
# training set, where the head digits are many: a rare digit's neighbours are mostly
# head digits. The head-tail gap is {glue:text}`ex5_gap:.2f`, and tail recall is
# {glue:text}`ex5_tail:.2f`. Adjusting the log-probabilities by the prior lifts tail
# recall to {glue:text}`ex5_adj_tail:.2f` (balanced-accuracy gain
# {glue:text}`ex5_gain:+.3f`). The prior is inherited by any model that learns from
# counts; the clipped probabilities (`LogProba`'s floor) keep the adjustment finite when
# no neighbour votes for a class.
# :::
