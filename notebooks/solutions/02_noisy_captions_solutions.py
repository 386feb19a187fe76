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
# # Solutions: noisy captions
#
# Worked answers to the exercises of {doc}`../02_noisy_captions`. Try each exercise
# first: every solution's code and answer stay folded until you open them. The numbers
# are computed on this page, in the profile the book was built with, from the chapter's
# clean and noisy models of world `UIM_SEED` (loaded from the cache). Exercises 1, 3
# and 4 train new models or many views (more noise rates, an audited corpus, NMTune on
# five times the photos): they run only when you set `UIM_TRAIN_EXERCISES=1` (minutes
# on two cores); the rendered book and the tests skip them and say so. Exercise 5
# runs everywhere; in `ci` its heads train on 3 epochs of views instead of the
# chapter's 10.

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
import dataclasses

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from uim_utils import get_profile, lab, nmtune
from uim_utils.book import SKIPPED, glue, train_exercises
from uim_utils.chapters import noisy

P = get_profile()
SEED = P.seed
TRAIN_NEW = train_exercises()
EPOCHS = P.pick(ci=3, lab=nmtune.NMTuneConfig().epochs)  # epochs of views, Exercise 5
BASE = dataclasses.replace(nmtune.NMTuneConfig(), epochs=EPOCHS)
HEADS = {
    "NMTune": BASE,
    "no MSE term": dataclasses.replace(BASE, mse_weight=0.0),
    "no covariance term": dataclasses.replace(BASE, cov_weight=0.0),
    "no SVD term": dataclasses.replace(BASE, svd_weight=0.0),
    "cross-entropy only": dataclasses.replace(nmtune.CE_ONLY, epochs=EPOCHS),
}
IMAGES, ENTROPY = noisy.downstream_heads(SEED, P.name, HEADS)
OOD = IMAGES["domain"] != noisy.ID_DOMAIN
print(f"profile={P.name}, world {SEED}: {len(IMAGES):,} test images, "
      f"{len(HEADS)} heads on {EPOCHS} epochs of views")

# %% [markdown]
# ## Exercise 1: turn the dial
#
# Pre-train at noise rates 0, 2.5%, 5%, 10% and 20% (and in a second world) and plot
# ID, OOD and transfer accuracy and the singular-value entropy against the rate.

# %% tags=["hide-cell"]
RATES = (0.0, 0.025, 0.05, 0.1, 0.2)
if TRAIN_NEW:  # up to six new pre-trainings per world
    curves = pd.concat({s: noisy.noise_curve(s, RATES, P.name).set_index("rate")
                        for s in (SEED, SEED + 1)}, names=["world"])
    cols = ["id", "ood", "novel", "entropy"]
    fig, axes = plt.subplots(2, 2, figsize=(9, 6))
    for ax, col in zip(axes.flat, cols):  # one panel per statistic, a line per world
        curves[col].unstack("world").plot(ax=ax, marker="o", title=col)
    fig.tight_layout()
    plt.show()
    id_gain = (curves["id"].unstack("world").diff() > 0).any().any()
    glue("ex1_finding", ("ID accuracy rises between some pair of neighbouring rates"
                         if id_gain else "ID accuracy never rises with the rate")
         + " in the two worlds, and the entropy goes from "
         + ", ".join(f"{curves.loc[s, 'entropy'].iloc[0]:.2f} to "
                     f"{curves.loc[s, 'entropy'].iloc[-1]:.2f} (world {s})"
                     for s in (SEED, SEED + 1))
         + " (the table has every rate and world)")
    display(curves[cols].round(3))
else:
    print("Exercise 1 pre-trains new models: skipped "
          "(set UIM_TRAIN_EXERCISES=1 to run it).")
    glue("ex1_finding", SKIPPED)

# %% [markdown]
# :::{dropdown} Answer
# Result in this build: {glue:text}`ex1_finding`. The paper's slight-noise bump in ID accuracy is the part the lab does not
# reproduce (the chapter explains why scale is the likely reason); a single rate where
# ID accuracy ticks up is within the noise of one world unless the other world shows
# it too. Whether the spectrum keeps spreading at heavier noise is the question of the
# entropy row: wrong captions add directions no concept needs, but at high rates the
# model also learns less of everything, which can shrink the spectrum again.
# :::
#
# ## Exercise 2: which concepts lose?
#
# Compute each concept's OOD accuracy under the clean and the noisy model. Do the
# concepts the clean model knew best lose most?

# %% tags=["hide-cell"]
per_concept = IMAGES[OOD].groupby("concept")[["clean_probe", "noisy_probe"]].mean()
per_concept["loss"] = per_concept["clean_probe"] - per_concept["noisy_probe"]
rho = per_concept["clean_probe"].corr(per_concept["loss"], method="spearman")
ax = per_concept.plot.scatter("clean_probe", "noisy_probe", alpha=0.6)
ax.axline((0, 0), slope=1, color="k", lw=1)
ax.set(xlabel="OOD accuracy, clean model", ylabel="OOD accuracy, noisy model")
plt.show()
glue("ex2_rho", rho)
glue("ex2_below", (per_concept["loss"] > 0).mean())
glue("ex2_mean_loss", per_concept["loss"].mean())
per_concept.describe().round(3)

# %% [markdown]
# :::{dropdown} Answer
# The noisy model's OOD accuracy is lower for {glue:text}`ex2_below:.0%` of the
# concepts (mean loss {glue:text}`ex2_mean_loss:+.3f`), and the Spearman correlation
# between what a concept had under the clean model and what it lost is
# {glue:text}`ex2_rho:.2f`. A concept can only lose what it had: concepts near chance
# under the clean model have nothing to lose, so the loss grows with the clean
# accuracy (part of that correlation is the floor, and part is regression to the mean,
# since both columns are noisy measurements of the same concept; a held-out split of the
# test images would separate the two).
# :::
#
# ## Exercise 3: audit, then retrain
#
# Score the whole noisy corpus, pre-train on the pairs the audit does not flag, and
# compare the OOD accuracy with both models.

# %% tags=["hide-cell"]
if TRAIN_NEW:  # an audit of 40,000 pairs and a new pre-training
    from uim_utils.corpus import build_corpus
    from uim_utils.pretrain import pretrain

    world, _, (clean, noisy_model) = lab.pretrain_world(
        SEED, [None, noisy.noisy_config(SEED)], progress=False)
    corpus = build_corpus(world, noisy.noisy_config(SEED))
    audit = noisy.audit_corpus(noisy_model.model, corpus, len(corpus), SEED)
    audited = pretrain(corpus.subset(~audit["flagged"]), lab.clean_train_config(SEED),
                       progress=False)
    tasks = noisy.downstream_tasks(world, SEED, P.name)
    images, _ = noisy.evaluate_models({"clean": clean.model, "audited": audited.model},
                                      tasks, SEED)
    ood = images[images["domain"].isin(["sketch", "noisy", "recolor"])]
    acc = {"clean": ood["clean_probe"].mean(), "audited": ood["audited_probe"].mean(),
           "noisy": IMAGES.loc[OOD, "noisy_probe"].mean()}
    recovered = (acc["audited"] - acc["noisy"]) / (acc["clean"] - acc["noisy"])
    glue("ex3_finding", f"the audit flags {audit['flagged'].sum():,} pairs, of which "
         f"{(audit['flagged'] & audit['wrong']).sum():,} have a wrong caption (of "
         f"{audit['wrong'].sum():,}); retrained on the rest, the OOD accuracy is "
         f"{acc['audited']:.3f}, against {acc['noisy']:.3f} (noisy) and "
         f"{acc['clean']:.3f} (clean): {recovered:.0%} of the loss recovered")
else:
    print("Exercise 3 audits 40,000 pairs and pre-trains a new model: skipped "
          "(set UIM_TRAIN_EXERCISES=1 to run it).")
    glue("ex3_finding", SKIPPED)

# %% [markdown]
# :::{dropdown} Answer
# Result in this build: {glue:text}`ex3_finding`. The audit removes most of the wrong
# captions but also some right ones (the pairs the noisy model finds hard), so the
# retrained model has less clean signal than the clean model had, and it cannot
# recover everything; what it recovers is the part of the loss the wrong captions
# caused, minus what the removed right pairs cost.
# :::
#
# ## Exercise 4: more downstream data for NMTune
#
# Fit NMTune and the cross-entropy-only MLP on 50 photos per concept. Does the gap to
# the linear probe close?

# %% tags=["hide-cell"]
if TRAIN_NEW:  # five times the chapter's photos, ten epochs of views
    heads = {"NMTune": nmtune.NMTuneConfig(), "cross-entropy only": nmtune.CE_ONLY}
    images, _ = noisy.downstream_heads(SEED, P.name, heads, n_probe=50)
    ood = images["domain"] != noisy.ID_DOMAIN
    ex4 = pd.DataFrame({"ID": images[~ood].mean(numeric_only=True),
                        "OOD": images[ood].mean(numeric_only=True)}).drop("concept")
    glue("ex4_finding", "with 50 photos per concept, OOD accuracy is "
         + ", ".join(f"{ex4.loc[k, 'OOD']:.3f} ({k})" for k in ex4.index))
    display(ex4.round(3))
else:
    print("Exercise 4 fits NMTune on five times the photos: skipped "
          "(set UIM_TRAIN_EXERCISES=1 to run it).")
    glue("ex4_finding", SKIPPED)

# %% [markdown]
# :::{dropdown} Answer
# Result in this build: {glue:text}`ex4_finding`. An MLP head has many more
# parameters than a linear probe, so with ten photos per concept it overfits the few
# views it sees; more labelled photos are what it lacks, and the gap to the probe
# should narrow as they grow. NMTune beats the plain MLP out of distribution only if its
# regularisers (which reshape the feature spectrum) matter more than the data, which is
# what comparing the two rows answers.
# :::
#
# ## Exercise 5: ablate the regularisers
#
# Refit NMTune with one term at a time removed, on the same views. Which term changes
# the OOD accuracy or the spectrum of the tuned features most?

# %% tags=["hide-cell"]
ex5 = pd.DataFrame({
    "ID": IMAGES[~OOD][list(HEADS)].mean(),
    "OOD": IMAGES[OOD][list(HEADS)].mean(),
    "entropy": pd.Series(ENTROPY)})
change = (ex5.drop("NMTune") - ex5.loc["NMTune"]).abs()
glue("ex5_epochs", EPOCHS)
glue("ex5_ood_term", change["OOD"].idxmax())
glue("ex5_ood_change", change["OOD"].max())
glue("ex5_entropy_term", change["entropy"].idxmax())
glue("ex5_entropy_change", change["entropy"].max())
glue("ex5_nmtune_ood", ex5.loc["NMTune", "OOD"])
glue("ex5_probe_ood", IMAGES.loc[OOD, "noisy_probe"].mean())
glue("ex5_cov", BASE.cov_weight)
glue("ex5_svd", BASE.svd_weight)
glue("ex5_verdict", "barely move the OOD accuracy (by less than 0.01)"
     if change["OOD"].max() < 0.01 else "move the OOD accuracy by up to "
     f"{change['OOD'].max():.3f}")
ex5.round(3)

# %% [markdown]
# :::{dropdown} Answer
# On {glue:text}`ex5_epochs` epochs of views of the chapter's labelled photos, NMTune
# reaches an OOD accuracy of {glue:text}`ex5_nmtune_ood:.3f` (the linear probe on the
# same noisy features: {glue:text}`ex5_probe_ood:.3f`). Removing the
# {glue:text}`ex5_ood_term` changes the OOD accuracy most, by
# {glue:text}`ex5_ood_change:.3f`, and removing the {glue:text}`ex5_entropy_term`
# changes the singular-value entropy of the tuned photo features most, by
# {glue:text}`ex5_entropy_change:.3f`. Here the terms
# {glue:text}`ex5_verdict`. With a thousand labelled photos the cross-entropy term
# dominates the loss, and the regularisers' weights (covariance
# {glue:text}`ex5_cov`, SVD {glue:text}`ex5_svd`, as in the reference code) are small:
# they were tuned for full-size downstream sets on features of models pre-trained on
# millions of pairs, where the spectrum they reshape is the large one.
# :::
