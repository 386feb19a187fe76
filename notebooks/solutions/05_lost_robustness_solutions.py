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
# # Solutions: narrow data and fine-tuning
#
# Worked answers to the exercises of {doc}`../05_lost_robustness`. Try each exercise
# first: every solution's code and answer stay folded until you open them. The numbers
# are computed on this page, in the profile the book was built with, from the chapter's
# models of world `UIM_SEED` (loaded from the cache; the chapter's fine-tuning runs
# again, a few seconds). Exercise 1 pre-trains two new models and Exercises 3 and 4
# fine-tune new ones: they run only when you set `UIM_TRAIN_EXERCISES=1` (a few minutes
# on two cores); the rendered book and the tests skip them and say so. Exercise 2 runs
# everywhere.

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
from dataclasses import replace

import numpy as np
from IPython.display import display

from uim_utils import get_profile
from uim_utils.book import SKIPPED, glue, train_exercises
from uim_utils.chapters import robustness, robustness_exercises

P = get_profile()
SEED = P.seed
TRAIN_NEW = train_exercises()
result = robustness.run_world(SEED, P.name)
print(f"profile={P.name}, world {SEED}: the chapter's classifiers, "
      f"{robustness.N_TEST[P.name]} test images per concept and domain")

# %% [markdown]
# ## Exercise 1: more diversity
#
# Pre-train models with 0%, 10%, 30% and 60% non-photo pairs. Is the gain from 30% to
# 60% as large as from 0% to 10%? What does photo accuracy pay?

# %% tags=["hide-cell"]
if TRAIN_NEW:  # two new pre-trainings (0% and 30% are the chapter's)
    ex1 = robustness.diversity_curve(SEED, (0.0, 0.1, 0.3, 0.6), P.name)
    ood = ex1.set_index("diversity")["ood"]
    photo = ex1.set_index("diversity")["id"]
    glue("ex1_finding",
         f"OOD accuracy rises by {ood[0.1] - ood[0.0]:+.3f} from 0% to 10% and by "
         f"{ood[0.6] - ood[0.3]:+.3f} from 30% to 60%, while photo accuracy changes "
         f"by {photo[0.6] - photo[0.0]:+.3f} from 0% to 60%")
    display(ex1.round(3))
else:
    print("Exercise 1 pre-trains two models: skipped "
          "(set UIM_TRAIN_EXERCISES=1 to run it).")
    glue("ex1_finding", SKIPPED)

# %% [markdown]
# :::{dropdown} Answer
# Result in this build: {glue:text}`ex1_finding`. The first few percent matter most:
# a domain that pre-training never showed gives the zero-shot head nothing to match,
# and a modest share already teaches the model that a sketch of a concept and a photo
# of it belong with the same caption. More of the same domain then adds less, and the
# photos it replaces cost some photo accuracy. {cite:t}`fang2022data` make the same
# point at scale: what matters is which distributions the data covers.
# :::
#
# ## Exercise 2: find the best alpha
#
# On a fine grid of mixing weights, which $\alpha$ maximises OOD accuracy, and which the
# mean of ID and OOD? Could you choose $\alpha$ without labelled OOD data?

# %% tags=["hide-cell"]
ex2 = robustness.wise_curve(result, tuple(np.linspace(0, 1, 21)))
ex2["mean"] = (ex2["id"] + ex2["ood"]) / 2
best_ood = ex2.loc[ex2["ood"].idxmax()]
best_mean = ex2.loc[ex2["mean"].idxmax()]
best_id = ex2.loc[ex2["id"].idxmax()]
glue("ex2_best_ood", float(best_ood["alpha"]))
glue("ex2_best_mean", float(best_mean["alpha"]))
glue("ex2_best_id", float(best_id["alpha"]))
glue("ex2_ood_at_best", float(best_ood["ood"]))
glue("ex2_ood_at_best_id", float(best_id["ood"]))
ex2.plot(x="alpha", y=["id", "ood", "mean"], marker="o", ylabel="accuracy")
display(ex2.round(3))

# %% [markdown]
# :::{dropdown} Answer
# In this world OOD accuracy peaks at $\alpha$ = {glue:text}`ex2_best_ood:.2f`
# ({glue:text}`ex2_ood_at_best:.3f`), the mean of ID and OOD at
# {glue:text}`ex2_best_mean:.2f` and photo accuracy at {glue:text}`ex2_best_id:.2f`.
# Without labelled OOD data you cannot locate the OOD peak, but you can pick the
# $\alpha$ that is best on held-out *photos*, which needs only the labels you fine-tuned
# with; here its OOD accuracy is {glue:text}`ex2_ood_at_best_id:.3f`. How far that falls
# short of the peak is the price of not knowing the shift, and it is why
# {cite:t}`wortsman2022robust` also report a fixed $\alpha = 0.5$, chosen without
# looking at any shifted data.
# :::
#
# ## Exercise 3: LP-FT
#
# Fine-tune from a linear probe's head (LP-FT), from the zero-shot head and from a
# random head, with the chapter's settings. Which keeps the most OOD accuracy?

# %% tags=["hide-cell"]
if TRAIN_NEW:  # three fine-tunes
    config = robustness.ft_config(SEED)
    ex3 = robustness_exercises.finetune_variants(result, {
        "from the zero-shot head": ("zero_shot", config),
        "LP-FT (from a probe's head)": ("probe", config),
        "from a random head": ("random", config)}).set_index("variant")
    glue("ex3_finding", "OOD accuracy " + ", ".join(
        f"{v} {r['ood']:.3f}" for v, r in ex3.iterrows()))
    display(ex3.round(3))
else:
    print("Exercise 3 fine-tunes three models: skipped "
          "(set UIM_TRAIN_EXERCISES=1 to run it).")
    glue("ex3_finding", SKIPPED)

# %% [markdown]
# :::{dropdown} Answer
# Result in this build: {glue:text}`ex3_finding`. {cite:t}`kumar2022finetuning`'s
# argument is about the first steps: with a random head the gradients that reach the
# encoder are large and point wherever the random head is wrong, so the features move
# a long way before the head is any good; with a probe's head (or CLIP's zero-shot
# head, which is a head fitted by pre-training) the head is already right on most
# photos and the encoder moves less. In an earlier design of the chapter (half the
# learning rate), LP-FT kept clearly more OOD accuracy than fine-tuning from a random
# head, and about as much as fine-tuning from the zero-shot head, which is what
# WiSE-FT's reference code does.
# :::
#
# ## Exercise 4: unfreeze BatchNorm
#
# Fine-tune with `freeze_bn=False`. What happens to OOD accuracy?

# %% tags=["hide-cell"]
if TRAIN_NEW:  # one fine-tune
    config = robustness.ft_config(SEED)
    ex4 = robustness_exercises.finetune_variants(result, {
        "BatchNorm statistics frozen": ("zero_shot", config),
        "BatchNorm statistics re-estimated":
            ("zero_shot", replace(config, freeze_bn=False))})
    ex4 = ex4.set_index("variant")
    glue("ex4_finding", "OOD accuracy " + ", ".join(
        f"{v.lower()} {r['ood']:.3f}" for v, r in ex4.iterrows()))
    display(ex4.round(3))
else:
    print("Exercise 4 fine-tunes two models: skipped "
          "(set UIM_TRAIN_EXERCISES=1 to run it).")
    glue("ex4_finding", SKIPPED)

# %% [markdown]
# :::{dropdown} Answer
# Result in this build: {glue:text}`ex4_finding`. In training mode a BatchNorm layer
# normalises with the statistics of the current batch and updates its running averages
# towards them. Fine-tuned on photos alone, the running averages become photo
# statistics, and at test time sketches and false-colour images are normalised as if
# they were photos: their features land in the wrong place, whatever the weights learnt.
# (In an earlier design of the chapter this alone took OOD accuracy down to a fraction
# of the frozen model's.) The reference CLIP models are Vision Transformers with
# LayerNorm, which normalises each image by itself and has no running statistics, so
# this failure is specific to the lab's convolutional tower; it is a reminder that
# "fine-tuning" hides choices that matter as much as the learning rate.
# :::
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
