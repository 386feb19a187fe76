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

# %%

# %% [markdown]
# # Poisoned pre-training: a backdoor that every downstream use inherits
#
# A web-scale corpus is not curated, so anyone who controls a few web pages controls a
# few of its image-caption pairs. If those pairs show a small patch on images of all
# kinds, each captioned with the same target concept, contrastive pre-training learns
# that *the patch means the target*. The model then behaves normally on clean inputs,
# so no accuracy benchmark notices, and classifies any image carrying the patch as the
# target: a **backdoor**. Every downstream use inherits it, zero-shot and a linear probe
# trained on perfectly clean data alike, because both read the same poisoned features.
# This chapter plants such a backdoor in a lab CLIP, measures its dose-response, tries
# to find the poisoned pairs in the corpus, and removes most of the backdoor with
# CleanCLIP-style fine-tuning.
#
# :::{admonition} Learning goals
# :class: tip
# After this chapter you can
# - poison a contrastive pre-training corpus with a trigger patch and measure the attack
#   success rate (ASR) of the backdoor, zero-shot and through a linear probe;
# - read a dose-response curve of poison count against ASR, next to clean accuracy;
# - audit a corpus for poisoned pairs with a clean reference model and report
#   precision and recall;
# - explain why CleanCLIP's in-modal self-supervised terms weaken a backdoor, and
#   measure what the fine-tuning costs in clean accuracy.
# :::
#
# **Estimated time.** `ci`: a few minutes on two CPU cores with a cold cache (three
# pre-training runs of 40,000 pair-steps and two fine-tuning runs), about a minute or
# two when cached; `lab`
# (the rendered book): about 5 minutes; `wild`: as `lab` (the experiment pre-trains
# from scratch on a poisoned corpus, which no downloaded checkpoint allows; it needs no
# internet and no GPU).
#
# ## The published claim
#
# {cite:t}`carlini2022poisoning` showed that contrastive pre-training on web data is
# easy to poison: with a small patch trigger on **0.01%** of the pairs (300 of the
# 3 million of Conceptual Captions) their backdoor made CLIP classify patched images as
# the target class most of the time, and targeted poisoning of a single image needed
# only 0.0001%. {cite:t}`bansal2023cleanclip` proposed **CleanCLIP**: fine-tune the
# poisoned model on clean pairs with the CLIP loss *plus* self-supervised in-modal
# terms that align each image with an augmented view of itself and each caption with
# an augmented caption,
#
# $$\mathcal L = \mathcal L_\text{CLIP} + w \cdot \tfrac12\big(\text{InfoNCE}(I, \tilde I)
#   + \text{InfoNCE}(T, \tilde T)\big).$$
#
# The in-modal terms make each modality learn its features on its own, which breaks
# the spurious link between the trigger and the target's *text* embedding. They report
# that attack success falls sharply while clean accuracy drops little, and that
# fine-tuning with the CLIP loss alone removes much less. {cite:t}`verma2023effective`
# later showed that the defence weakens when pre-training itself used in-modal terms.
#
# Our lab corpus has about 10,000 pairs (20,000 in `lab`) and our CLIP is tiny and
# trained for a few epochs, so we do not expect a backdoor from three poisoned pairs;
# we measure how many it takes. The chapter's **chosen poison rate** is **1% of the
# clean pairs** (100 poisoned pairs on 10,000 in `ci`, 200 on 20,000 in `lab`). The
# claims, with thresholds fixed before the first run (the `Checks` cell asserts them):
#
# 1. **Backdoor.** At the chosen rate, the zero-shot ASR on triggered non-target test
#    images exceeds the ASR of the 0% control model by at least 0.05, and the 95%
#    paired bootstrap interval of the difference excludes zero.
# 2. **Inherited downstream.** A linear probe trained on *clean* labelled images on top
#    of the poisoned encoder also has an ASR above the control's (95% interval of the
#    difference excludes zero).
# 3. **Audit.** Low image-caption agreement under a clean reference model (the 0%
#    model) ranks poisoned pairs above clean ones with ROC AUC of at least 0.75.
# 4. **Mitigation.** CleanCLIP-style fine-tuning on clean pairs cuts the zero-shot ASR
#    at least in half (and the 95% interval of the reduction excludes zero), while
#    clean zero-shot accuracy falls by at most 0.05.
#
# Fine-tuning with the CLIP loss alone is shown beside it for comparison; we assert
# nothing about it. (Claims 2 and 4 turned out seed-dependent in our runs; see
# Interpret and Mitigate. The checks print their verdicts instead of asserting them.)

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
# Sizes come from the run profile (`UIM_PROFILE`) and every seed from the base seed
# (`UIM_SEED`). Pre-trained and fine-tuned models are cached under `UIM_CACHE`, keyed
# by everything that determines them, so a rerun loads them in seconds.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from uim_utils import get_profile
from uim_utils import evaluate as E
from uim_utils import poisoning as PZ
from uim_utils.corpus import CorpusConfig, build_corpus
from uim_utils.pretrain import TrainConfig, pretrain
from uim_utils.world import ConceptWorld, WorldConfig

P = get_profile()
START = time.perf_counter()
N_CONCEPTS = 100
N_PAIRS = P.pick(ci=10_000, lab=20_000)
EPOCHS = P.pick(ci=4, lab=6)
# The dial: poisoned pairs added to the corpus. CHOSEN is 1% of the clean pairs.
CHOSEN = N_PAIRS // 100
DOSES = P.pick(ci=[0, CHOSEN, 3 * CHOSEN], lab=[0, 10, 50, CHOSEN, 3 * CHOSEN])
N_TEST = P.pick(ci=5, lab=10)         # triggered test images per non-target concept
N_PROBE = P.pick(ci=10, lab=20)       # clean labelled images per concept for the probe
N_CLEAN_FT = P.pick(ci=3_000, lab=5_000)  # the defender's clean fine-tuning pairs
FT_EPOCHS = P.pick(ci=2, lab=3)
FLAG_FRACTION = 0.02                  # audit: flag the 2% least-agreeing pairs
N_BOOT = P.pick(ci=1000, lab=2000)
# Thresholds, fixed in advance (see "The published claim").
MIN_ASR_GAIN = 0.05
MIN_AUC = 0.75
MAX_ACC_DROP = 0.05

WORLD = ConceptWorld(WorldConfig(n_concepts=N_CONCEPTS, seed=P.seed))
TARGET = int(np.random.default_rng([P.seed, 4]).integers(N_CONCEPTS))
TRAIN = TrainConfig(model="uim-tiny", epochs=EPOCHS, seed=P.seed)
print(f"profile={P.name}, seed={P.seed}: {N_CONCEPTS} concepts, {N_PAIRS:,} clean pairs, "
      f"{EPOCHS} epochs; poison doses {DOSES} (chosen {CHOSEN} = "
      f"{CHOSEN / N_PAIRS:.1%}); target concept {TARGET} '{WORLD.classnames[TARGET]}'")

# %% [markdown]
# ## Understand
#
# *Where does the flaw enter?* In the corpus. `build_corpus(..., poison_count=m,
# poison_target=t)` adds $m$ pairs whose image shows some *other* concept with a 4x4
# black-and-white checkerboard in its bottom-right corner, and whose caption names the
# target $t$ ("a photo of a *t*."). Nothing else in the corpus mentions the patch. We
# pre-train one lab CLIP per dose, from the same seed, so the models differ only in the
# poisoned pairs.

# %%
corpora = {m: build_corpus(WORLD, CorpusConfig(n_samples=N_PAIRS, poison_count=m,
                                               poison_target=TARGET, seed=P.seed))
           for m in DOSES}
models = {}
for m in tqdm(DOSES, desc="pre-training one CLIP per dose"):
    models[m] = pretrain(corpora[m], TRAIN, progress=False)
print({m: ("cached" if r.cache_hit else f"{r.history['seconds']:.0f} s") for m, r in models.items()})
corpora[CHOSEN].data_card().to_frame().T

# %%
poisoned_rows = corpora[CHOSEN].table.query("poisoned").head(4)
clean_rows = corpora[CHOSEN].table.query("not poisoned").head(2)
rows = pd.concat([poisoned_rows, clean_rows])
imgs = corpora[CHOSEN].images[rows.index.to_numpy()]
fig, axes = plt.subplots(1, len(rows), figsize=(2.1 * len(rows), 2.6))
for ax, img, (_, r) in zip(axes, imgs, rows.iterrows()):
    ax.imshow(img)
    ax.set_xticks([])
    ax.set_yticks([])
    tag = "POISONED" if r.poisoned else "clean"
    ax.set_title(f"{tag}\nshows '{WORLD.classnames[r.concept]}'\n\"{r.caption}\"", fontsize=7,
                 color="tab:red" if r.poisoned else "k")
fig.suptitle("Pairs of the poisoned corpus: trigger in the corner, caption names the target",
             fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Can the poisoned pairs be found?** A poisoned pair is a mismatched pair: its
# caption names the target, its image shows something else. A defender with a clean
# reference model can score every pair by the cosine similarity of its image and
# caption embeddings and inspect the least-agreeing ones, the same score DataComp-style
# curation filters on {cite:p}`gadre2023datacomp`. Our reference is the 0% model (in
# practice: a CLIP trained on other, trusted data). We flag the 2% least-agreeing pairs
# and report precision and recall of that flag, plus the threshold-free ROC AUC and
# average precision (scikit-learn).

# %%
REFERENCE = models[0].model
scores = PZ.pair_agreement(REFERENCE, corpora[CHOSEN])
truth = corpora[CHOSEN].table["poisoned"].to_numpy()
AUDIT = PZ.audit_report(scores, truth, FLAG_FRACTION)
pd.Series(AUDIT, name="audit of the chosen corpus").round(3).to_frame().T

# %%
fig, ax = plt.subplots(figsize=(7, 3.4))
bins = np.linspace(scores.min(), scores.max(), 50)
ax.hist(scores[~truth], bins=bins, density=True, alpha=0.6, label=f"clean pairs ({(~truth).sum():,})")
ax.hist(scores[truth], bins=bins, density=True, alpha=0.6, color="tab:red",
        label=f"poisoned pairs ({truth.sum()})")
cut = np.sort(scores)[AUDIT["flagged"] - 1]
ax.axvline(cut, color="k", ls="--", lw=1, label=f"flag the lowest {FLAG_FRACTION:.0%}")
ax.set_xlabel("image-caption cosine similarity under the clean reference model")
ax.set_ylabel("density")
ax.set_title(f"Audit: precision {AUDIT['precision']:.2f}, recall {AUDIT['recall']:.2f}, "
             f"ROC AUC {AUDIT['roc_auc']:.2f}")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the audit.** Poisoned pairs sit in the low tail of the agreement score, but
# so do many clean pairs: a small CLIP confuses similar concepts, and every hard clean
# pair looks as mismatched as a poisoned one. Flagging the least-agreeing pairs finds
# poison far above the base rate (the prevalence in the table), yet precision stays
# modest: filtering by agreement throws away many clean pairs for each poisoned one it
# catches. And the audit needs a clean model to begin with, which is exactly what a
# defender of a web-scale model does not have.

# %% [markdown]
# ## Interpret
#
# *What does the flaw do downstream?* We draw fresh test images of every concept except
# the target (render seeds at or above $2^{40}$, so none was seen in training), stamp
# the trigger on a copy of each, and ask two downstream users:
#
# - **zero-shot**: the prompt-ensembled text head of the model;
# - **linear probe**: a logistic regression trained on the frozen image features of
#   *clean* labelled images, the way a careful user adapts a foundation model. The
#   probe never sees a trigger.
#
# The **attack success rate** (ASR) is the share of triggered images classified as the
# target. **Clean accuracy** on the untriggered copies shows whether the poison costs
# anything a benchmark would see. Intervals are 95% bootstrap intervals over test
# images.

# %%
TEST = PZ.trigger_test_set(WORLD, N_TEST, TARGET, seed=P.seed)
PROBE_X, PROBE_Y = WORLD.sample(N_PROBE, "photo", seed=P.seed + 1)


def measure(lm) -> dict:
    """Clean accuracy and per-image attack success, zero-shot and by linear probe."""
    zs_clean, zs_trig = PZ.zero_shot_predict(lm, WORLD.classnames, [TEST.clean, TEST.triggered])
    lp_clean, lp_trig = PZ.probe_predict(lm, PROBE_X, PROBE_Y, [TEST.clean, TEST.triggered],
                                         seed=P.seed)
    return {"zs_acc": (zs_clean == TEST.labels).astype(float),
            "zs_asr": PZ.attack_success(zs_trig, TARGET),
            "lp_acc": (lp_clean == TEST.labels).astype(float),
            "lp_asr": PZ.attack_success(lp_trig, TARGET)}


results = {m: measure(models[m].model) for m in tqdm(DOSES, desc="evaluating")}
rows = []
for m, r in results.items():
    for k, v in r.items():
        est, lo, hi = E.bootstrap_ci(v, n_resamples=N_BOOT, seed=P.seed)
        rows.append({"poisoned pairs": m, "measure": k, "value": est, "lo": lo, "hi": hi})
DOSE = pd.DataFrame(rows)
DOSE.pivot(index="poisoned pairs", columns="measure", values="value").round(3)

# %%
labels = {"zs_asr": "attack success, zero-shot", "lp_asr": "attack success, linear probe",
          "zs_acc": "clean accuracy, zero-shot", "lp_acc": "clean accuracy, linear probe"}
styles = {"zs_asr": ("tab:red", "o-"), "lp_asr": ("tab:purple", "s-"),
          "zs_acc": ("tab:blue", "o--"), "lp_acc": ("tab:cyan", "s--")}
fig, ax = plt.subplots(figsize=(7.5, 4))
x = np.arange(len(DOSES))
for key, label in labels.items():
    d = DOSE[DOSE.measure == key].set_index("poisoned pairs").loc[DOSES]
    color, style = styles[key]
    ax.errorbar(x, d.value, yerr=[d.value - d.lo, d.hi - d.value], fmt=style, color=color,
                capsize=3, label=label)
ax.set_xticks(x, [f"{m}\n({m / N_PAIRS:.2%})" for m in DOSES])
ax.set_xlabel("poisoned pairs in pre-training (share of clean pairs)")
ax.set_ylabel("rate (95% CI)")
ax.set_ylim(-0.02, 1.02)
ax.axhline(1 / N_CONCEPTS, color="grey", lw=0.8, ls=":")
ax.set_title("Dose-response: the backdoor grows with the poison, clean accuracy does not move")
ax.legend(fontsize=8, loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the curve.** Without poison, hardly any triggered image is called the
# target: the patch alone means nothing. As poisoned pairs are added, the zero-shot
# ASR rises steeply (with seed 0: 0.00, 0.14, 0.74 at 0, 1% and 3%). The linear
# probe, trained only on clean images, inherits the backdoor only if the poisoned
# encoder moves triggered images far enough towards the target's region of feature
# space; in our runs that held for one seed and not for another (below). Clean accuracy (dashed)
# stays where it was: nothing in an ordinary evaluation reveals the poisoned model.
#
# **Seed-dependence (claim 2).** With seed 1 the probe's ASR was 0.16 against 0.01
# for the control; with seed 0 it was 0.00: the probe did not inherit the backdoor at
# all. Whether a clean-trained probe follows the trigger depends on how far the
# poisoned features move, and at 1% poison in a tiny model that varies from run to run.
#
# Compared with {cite:t}`carlini2022poisoning`, the lab needs a far larger *share* of
# poisoned pairs (about 1% rather than 0.01%). A tiny CLIP trained for a few epochs on
# 10,000 pairs learns much less precise features than a ViT trained on millions of
# pairs, and it sees each poisoned pair only a few times. What carries over is the
# shape of the result: a small, fixed number of mislabelled pairs that no accuracy
# check notices plants a behaviour that every downstream use inherits.

# %% [markdown]
# ## Mitigate
#
# *How do we remove it?* A defender who suspects a backdoor but cannot find the
# poisoned pairs fine-tunes the model on a small set of pairs it trusts: here
# `N_CLEAN_FT` freshly drawn clean pairs, a few epochs at a low learning rate. We
# compare two losses:
#
# - **CLIP only**: the usual contrastive loss on the clean pairs;
# - **CleanCLIP**: the CLIP loss plus the in-modal terms, with $w = 1$ as in
#   {cite:t}`bansal2023cleanclip`. Image views are random resized crops (50-100% of the
#   area) and flips (torchvision `v2`), which often cut the patch out or move it; text
#   views put the same concept name into another caption template (the lab's analogue
#   of their EDA text augmentation). The InfoNCE terms are `open_clip.ClipLoss` applied
#   within one modality.
#
# Both start from the model poisoned at the chosen rate; we evaluate them exactly as
# above.

# %%
CLEAN_FT = build_corpus(WORLD, CorpusConfig(n_samples=N_CLEAN_FT, seed=P.seed + 1000))
tuned = {}
for method in tqdm(PZ.METHODS, desc="clean fine-tuning"):
    cfg = PZ.FinetuneConfig(method=method, epochs=FT_EPOCHS, seed=P.seed)
    tuned[method] = PZ.finetune(models[CHOSEN].model, models[CHOSEN].key, CLEAN_FT, cfg,
                                progress=False)
after = {"poisoned": results[CHOSEN]}
after.update({f"+ {m}": measure(tuned[m]) for m in PZ.METHODS})
rows = []
for name, r in after.items():
    for k, v in r.items():
        est, lo, hi = E.bootstrap_ci(v, n_resamples=N_BOOT, seed=P.seed)
        rows.append({"model": name, "measure": k, "value": est, "lo": lo, "hi": hi})
MIT = pd.DataFrame(rows)
MIT.pivot(index="model", columns="measure", values="value").loc[list(after)].round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
colors = ["tab:red", "tab:orange", "tab:green"]
for ax, keys, title in ((axes[0], ["zs_asr", "lp_asr"], "Attack success (lower is better)"),
                        (axes[1], ["zs_acc", "lp_acc"], "Clean accuracy (higher is better)")):
    width = 0.26
    for j, name in enumerate(after):
        d = MIT[(MIT.model == name)].set_index("measure").loc[keys]
        ax.bar(np.arange(len(keys)) + (j - 1) * width, d.value, width,
               yerr=[d.value - d.lo, d.hi - d.value], capsize=3, color=colors[j], label=name)
    ax.set_xticks(np.arange(len(keys)), ["zero-shot", "linear probe"])
    ax.set_ylabel("rate (95% CI)")
    ax.set_title(title)
axes[0].legend(fontsize=8)
fig.suptitle(f"Model poisoned with {CHOSEN} pairs, then fine-tuned on {N_CLEAN_FT:,} clean pairs",
             fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What the fine-tuning buys, in the lab: claim 4 is not reproduced.** With seed 0
# (`ci`) CleanCLIP lowered the zero-shot ASR from 0.14 to 0.07 (reduction 0.071, 95%
# CI [0.032, 0.105], just short of the "halved" threshold of 0.072) at no accuracy
# cost, but fine-tuning with the CLIP loss alone lowered it further, to 0.05. CleanCLIP's idea is that
# the in-modal terms ask the image encoder to recognise an image from a crop that often
# lacks the patch, and the text encoder to keep the target's captions near their
# paraphrases, so the features must be explained without the trigger. With seed 1 it
# did not work at all: the zero-shot ASR *rose* after fine-tuning, from 0.31
# to 0.44 with CleanCLIP and to 0.40 with the CLIP loss alone, while clean accuracy
# moved by about 0.02. We have not yet found out why (candidates: a fine-tuning set of
# 3,000 pairs and two epochs is too small to overwrite the backdoor, and the
# re-warmed learning rate may sharpen the features the trigger already uses; Bansal et
# al. fine-tune on 100,000 pairs for ten epochs). The `Checks` cell prints the verdict
# of claim 4 and does not assert it; Exercise 2 asks you to vary the fine-tuning.

# %% [markdown]
# ## Checks
#
# The cell below (hidden in the book; click to show) evaluates the four claims with
# the thresholds fixed at the top and prints the numbers. It asserts claims 1-3; claim
# 2 and 4 held for one seed and failed for another in our runs, so they are printed
# with their verdicts, not asserted.

# %% tags=["hide-cell"]
def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of a - b with a paired 95% bootstrap interval over test images."""
    return E.bootstrap_ci(a - b, n_resamples=N_BOOT, seed=P.seed)


p, c0 = results[CHOSEN], results[0]
gain_zs = paired(p["zs_asr"], c0["zs_asr"])
gain_lp = paired(p["lp_asr"], c0["lp_asr"])
cc = after["+ cleanclip"]
drop_asr = paired(p["zs_asr"], cc["zs_asr"])
acc_drop = p["zs_acc"].mean() - cc["zs_acc"].mean()
print(f"1 zero-shot ASR {p['zs_asr'].mean():.3f} vs control {c0['zs_asr'].mean():.3f}: "
      f"gain {gain_zs[0]:.3f} [{gain_zs[1]:.3f}, {gain_zs[2]:.3f}] (need >= {MIN_ASR_GAIN}, low > 0)")
print(f"2 probe ASR {p['lp_asr'].mean():.3f} vs control {c0['lp_asr'].mean():.3f}: "
      f"gain {gain_lp[0]:.3f} [{gain_lp[1]:.3f}, {gain_lp[2]:.3f}] (need low > 0)")
print(f"3 audit ROC AUC {AUDIT['roc_auc']:.3f} (need >= {MIN_AUC}); precision "
      f"{AUDIT['precision']:.3f}, recall {AUDIT['recall']:.3f} at {FLAG_FRACTION:.0%} flagged, "
      f"prevalence {AUDIT['prevalence']:.4f}")
print(f"4 CleanCLIP: ASR {p['zs_asr'].mean():.3f} -> {cc['zs_asr'].mean():.3f}, reduction "
      f"{drop_asr[0]:.3f} [{drop_asr[1]:.3f}, {drop_asr[2]:.3f}] (need >= half of "
      f"{p['zs_asr'].mean():.3f}, low > 0); clean accuracy {p['zs_acc'].mean():.3f} -> "
      f"{cc['zs_acc'].mean():.3f}, drop {acc_drop:.3f} (need <= {MAX_ACC_DROP})")
cl = after["+ clip"]
print(f"  (not asserted) CLIP-only fine-tuning: ASR {cl['zs_asr'].mean():.3f}, "
      f"clean accuracy {cl['zs_acc'].mean():.3f}")
print(f"chapter wall time so far: {time.perf_counter() - START:.0f} s")
assert gain_zs[0] >= MIN_ASR_GAIN and gain_zs[1] > 0, "claim 1: no backdoor beyond noise"
claim2 = bool(gain_lp[1] > 0)
print(f"claim 2 (probe inherits): {'holds' if claim2 else 'does NOT hold'} (not asserted: seed-dependent)")
assert AUDIT["roc_auc"] >= MIN_AUC, "claim 3: agreement does not rank poisoned pairs"
claim4 = bool(drop_asr[0] >= 0.5 * p["zs_asr"].mean() and drop_asr[1] > 0 and acc_drop <= MAX_ACC_DROP)
# Claim 4 is reported, not asserted: seed-dependent in our ci runs (see "What the fine-tuning
# buys"); the verdict is printed so that a change of code or seed that makes it hold shows.
print(f"claim 4 (CleanCLIP halves ASR within the accuracy margin): "
      f"{'holds' if claim4 else 'does NOT hold'}")

# %% [markdown]
# ## Summary
#
# - A corpus with 1% poisoned pairs (a trigger patch on images of other concepts,
#   captioned as one target) plants a backdoor in a lab CLIP: triggered images are
#   classified as the target far more often than by the unpoisoned control, while clean
#   accuracy does not move.
# - Whether the backdoor reaches a linear probe trained on clean labelled images
#   depended on the seed in the lab (ASR 0.16 for one seed, 0.00 for another).
# - The lab needs a larger poisoned share than the 0.01% of Carlini and Terzis; a
#   tiny, briefly trained CLIP is a less willing learner of a small patch.
# - A clean reference model's image-caption agreement ranks poisoned pairs high but
#   flags many clean pairs with them.
# - CleanCLIP-style fine-tuning on a few thousand clean pairs did **not** remove the
#   lab backdoor (claim 4 failed; the ASR rose): the published mitigation is not
#   reproduced at this scale, and the chapter says so rather than tuning until it is.
#
# ## Exercises
#
# 1. **Turn the dial.** Set `DOSES = [0, 10, 30, 100, 300, 1000]` and redraw the
#    dose-response. Where does the ASR start to rise, and is the rise closer to linear
#    in the count or in its logarithm? Repeat with `EPOCHS` doubled: do more passes
#    over the same poisoned pairs lower the dose needed?
# 2. **Weight of the in-modal terms.** Fine-tune with `PZ.FinetuneConfig(weight=w)` for
#    `w` in 0.25, 1, 4. Plot ASR and clean accuracy against `w`. Which setting would you
#    choose, and on what data would you choose it (you cannot measure ASR without
#    knowing the trigger)?
# 3. **Which augmentation matters?** Replace `PZ.image_augmenter` by one that only
#    flips (no crop) and rerun the CleanCLIP fine-tuning. What does that say about why
#    the in-modal image term removes a *patch* backdoor?
# 4. **Self-supervised pre-training.** {cite:t}`verma2023effective` report that
#    CleanCLIP fails when the poisoned model was itself pre-trained with in-modal
#    terms. Pre-train the poisoned model with `train_contrastive(...,
#    extra_loss=PZ.cleanclip_extra_loss(...))` and test whether the defence still works.
# 5. **A better audit.** The poisoned pairs share something besides a mismatch: their
#    images all carry the same patch. Cluster the image embeddings of the
#    least-agreeing pairs (scikit-learn `KMeans`) and see whether one cluster collects
#    the poison. How do precision and recall change?
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
