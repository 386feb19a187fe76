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
# # Solutions: backdoor poisoning
#
# Worked answers to the exercises of {doc}`../04_backdoor_poisoning`. Try each exercise
# first: every solution's code and answer stay folded until you open them. The numbers
# are computed on this page, in the profile the book was built with, from the chapter's
# clean and poisoned models of world `UIM_SEED` (loaded from the cache). Exercises 1 to
# 3 and the retraining of Exercise 4 train new models (pre-trainings of minutes, or
# several fine-tunes): they run only when you set `UIM_TRAIN_EXERCISES=1` (minutes on
# two cores); the rendered book and the tests skip them and say so. The audits of
# Exercises 4 and 5 run everywhere; in `ci` they score a random sample of 8,000 pairs
# of the poisoned corpus, in `lab` all of them.

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

from uim_utils import get_profile, lab, poisoning
from uim_utils.book import SKIPPED, glue, train_exercises
from uim_utils.chapters import backdoor

P = get_profile()
SEED = P.seed
TRAIN_NEW = train_exercises()
AUDIT = backdoor.audit_sample(SEED, P.pick(ci=8_000, lab=None))
print(f"profile={P.name}, world {SEED}: audited {len(AUDIT.scores):,} pairs, "
      f"{AUDIT.poisoned.sum()} of them poisoned")

# %% [markdown]
# ## Exercise 1: turn the dial
#
# Plot the attack success rate (ASR) against the dose (0, 100, 200, 400, 800 poisoned
# pairs), in two worlds. Where does it start to rise?

# %% tags=["hide-cell"]
DOSES = (0, 100, 200, 400, 800)
if TRAIN_NEW:  # up to eight new pre-trainings
    curves = pd.concat({s: backdoor.dose_response(s, DOSES, P.name).set_index("dose")
                        for s in (SEED, SEED + 1)}, names=["world"])
    asr = curves["asr"].unstack("world")
    asr.plot(marker="o", xlabel="poisoned pairs", ylabel="attack success rate")
    rising = {s: asr.index[asr[s] > backdoor.MIN_ASR / 2] for s in asr}
    glue("ex1_finding", "; ".join(
        f"in world {s} the ASR first exceeds {backdoor.MIN_ASR / 2:.2f} at "
        f"{r[0] if len(r) else 'no dose up to ' + str(DOSES[-1])} poisoned pairs"
        for s, r in rising.items()))
    display(curves.round(3))
else:
    print("Exercise 1 pre-trains up to eight models: skipped "
          "(set UIM_TRAIN_EXERCISES=1 to run it).")
    glue("ex1_finding", SKIPPED)

# %% [markdown]
# :::{dropdown} Answer
# Result in this build: {glue:text}`ex1_finding`. A backdoor is learnt in a jump, not
# in proportion to the dose: below some number of poisoned pairs the model treats the
# patch as noise, and above it the patch becomes the strongest cue for the target's
# name. The threshold is a count of pairs, not a share of the corpus, and it moves
# between worlds (the target concept, the images that carry the patch and the
# initial weights change), which is why a defence cannot rely on one world's number.
# :::
#
# ## Exercise 2: a heavier fine-tune
#
# Fine-tune the poisoned model with more epochs or a larger learning rate, with the
# CLIP loss alone and with CleanCLIP. At what budget does the CLIP loss alone remove
# the backdoor, and at what cost?

# %% tags=["hide-cell"]
BUDGETS = [(1, backdoor.FT_LR), (1, 3 * backdoor.FT_LR), (3, backdoor.FT_LR)]
if TRAIN_NEW:  # six fine-tunes
    ex2 = backdoor.finetune_grid(SEED, [
        poisoning.FinetuneConfig(method=m, epochs=e, lr=lr, seed=SEED)
        for e, lr in BUDGETS for m in ("clip", "cleanclip")], P.name)
    best = ex2[ex2["method"] == "clip"].sort_values("asr").iloc[0]
    glue("ex2_finding", f"the CLIP loss alone gets the ASR lowest ({best['asr']:.2f}) "
         f"with {best['epochs']} epoch(s) at learning rate {best['lr']:g}, at a clean "
         f"accuracy of {best['acc']:.2f} (the table lists every budget and both "
         "methods)")
    display(ex2.round(3))
else:
    print("Exercise 2 fine-tunes six models: skipped "
          "(set UIM_TRAIN_EXERCISES=1 to run it).")
    glue("ex2_finding", SKIPPED)

# %% [markdown]
# :::{dropdown} Answer
# Result in this build: {glue:text}`ex2_finding`. Fine-tuning on clean pairs only weakens the backdoor as far as it moves the
# weights: a light fine-tune leaves the patch-to-target shortcut in place, and a heavy
# one removes it by overwriting much of what pre-training learnt, which costs clean
# accuracy. CleanCLIP's in-modal terms pull each image towards its own augmented
# views and away from other images, which weakens a shortcut that a patch shared by
# many images provides; look in the table for a budget where its ASR is lower than the
# CLIP loss's by more than two standard errors at a similar clean accuracy: that is
# where CleanCLIP is clearly ahead, if anywhere.
# :::
#
# ## Exercise 3: the in-modal weight
#
# Repeat the CleanCLIP fine-tune with in-modal weight `w` = 0.5, 2 and 4.

# %% tags=["hide-cell"]
WEIGHTS = (0.5, 1.0, 2.0, 4.0)
if TRAIN_NEW:  # three new fine-tunes (w = 1 is the chapter's)
    configs = [poisoning.FinetuneConfig(method="cleanclip", weight=w, seed=SEED,
                                        epochs=backdoor.FT_EPOCHS, lr=backdoor.FT_LR)
               for w in WEIGHTS]
    ex3 = backdoor.finetune_grid(SEED, configs, P.name)
    glue("ex3_finding", "; ".join(f"w = {r.weight:g}: ASR {r.asr:.2f}, clean accuracy "
                                  f"{r.acc:.2f}" for r in ex3.itertuples()))
    display(ex3.round(3))
else:
    print("Exercise 3 fine-tunes three models: skipped "
          "(set UIM_TRAIN_EXERCISES=1 to run it).")
    glue("ex3_finding", SKIPPED)

# %% [markdown]
# :::{dropdown} Answer
# Result in this build: {glue:text}`ex3_finding`. A larger `w` weighs the in-modal
# terms more against the CLIP loss that keeps image and text aligned: it breaks the
# shortcut faster, and past some point it also loosens what the model knows of clean
# concepts. You cannot choose `w` by ASR, since a defender does not know the trigger;
# choose it on clean data only, the largest `w` whose clean zero-shot accuracy on a
# held-out clean set stays within a margin you accept, and treat the ASR as what an
# audit with a *suspected* trigger would check afterwards.
# :::
#
# ## Exercise 4: filter, then retrain
#
# Keep the pairs the audit does not flag and pre-train on them. How many poisoned pairs
# survive the filter, and is the backdoor gone?

# %% tags=["hide-cell"]
keep = AUDIT.scores > np.quantile(AUDIT.scores, backdoor.FLAG_FRACTION)
survivors = int((keep & AUDIT.poisoned).sum())
share = survivors / AUDIT.poisoned.sum()
glue("ex4_survivors", survivors)
glue("ex4_audited", len(AUDIT.scores))
glue("ex4_share", share)
glue("ex4_full", round(share * backdoor.DOSE))
glue("ex4_dose", backdoor.DOSE)
if TRAIN_NEW:  # a new 40,000-pair pre-training on the kept pairs
    from uim_utils.pretrain import pretrain

    world = lab.standard_world(SEED)  # in lab, AUDIT holds every pair of the corpus
    filtered = pretrain(AUDIT.corpus.subset(keep), lab.clean_train_config(SEED),
                        progress=False)
    target = poisoning.pick_target(SEED, lab.N_CONCEPTS)
    test = poisoning.trigger_test_set(world, backdoor.N_TEST[P.name], target, seed=SEED)
    (trig,) = poisoning.zero_shot_predict(filtered.model, world.classnames,
                                          [test.triggered])
    glue("ex4_finding", "the model pre-trained on the kept pairs has an ASR of "
         f"{poisoning.attack_success(trig, target).mean():.3f}")
else:
    print("Exercise 4's retraining is a new pre-training: skipped "
          "(set UIM_TRAIN_EXERCISES=1 to run it).")
    glue("ex4_finding", SKIPPED)

# %% [markdown]
# :::{dropdown} Answer
# Of the {glue:text}`ex4_audited:,` audited pairs, {glue:text}`ex4_survivors` poisoned
# pairs survive the filter, {glue:text}`ex4_share:.0%` of the poisoned ones: in the
# whole corpus, about {glue:text}`ex4_full` of the chapter's {glue:text}`ex4_dose:,`
# poisoned pairs would survive. Compare that count
# with the dose at which the ASR started to rise in Exercise 1: if the survivors are
# well below it, the retrained model should not learn the backdoor. Result of the
# retraining in this build: {glue:text}`ex4_finding`. Filtering costs clean pairs too
# (the audit flags a fixed share of the corpus, a little more than the poison), and it only works
# because the reference model that scores the pairs was trained on clean data.
# :::
#
# ## Exercise 5: a better audit
#
# Cluster the reference model's image embeddings of the least-agreeing pairs and see
# whether one cluster collects the poison.

# %% tags=["hide-cell"]
ex5 = backdoor.cluster_audit(AUDIT, n_clusters=8, seed=SEED)
for name, key in (("plain audit", "plain"), ("clustered audit", "cluster")):
    glue(f"ex5_{key}_precision", ex5.loc[name, "precision"])
    glue(f"ex5_{key}_recall", ex5.loc[name, "recall"])
glue("ex5_cluster_size", int(ex5.loc["clustered audit", "flagged"]))
glue("ex5_flag", backdoor.FLAG_FRACTION)
glue("ex5_verdict", "one cluster collects most of the poison"
     if ex5.loc["clustered audit", "recall"] > 0.5 * ex5.loc["plain audit", "recall"]
     else "no single cluster collects most of the poison")
ex5.round(3)

# %% [markdown]
# :::{dropdown} Answer
# The plain audit (the least-agreeing {glue:text}`ex5_flag:.0%` of pairs, as the
# chapter flags them) has precision {glue:text}`ex5_plain_precision:.2f` and recall
# {glue:text}`ex5_plain_recall:.2f`. Of eight clusters of its flagged pairs, the one
# whose captions most often name a single concept (the poison's captions all name the
# target; no ground truth is used to choose it) has {glue:text}`ex5_cluster_size`
# pairs, with precision {glue:text}`ex5_cluster_precision:.2f` and recall
# {glue:text}`ex5_cluster_recall:.2f`: {glue:text}`ex5_verdict`. Where the poison
# spreads over the clusters, the reason is what the embedding sees: a 32x32 image's
# embedding is dominated by the concept it shows, the poisoned images show many
# concepts, so they fall in with the clean pairs of those concepts; the small patch
# they share barely moves the embedding of a clean reference model, which never learnt
# that it matters. Clustering the *captions* (they all name the target) or looking for
# a patch in the pixels would use what the poison really
# has in common.
# :::
