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
# **Estimated time.** `ci`: about 3 minutes on two CPU cores with a cold cache (two
# pre-training runs of 40,000 pair-steps and one CleanCLIP fine-tuning run of 50,000),
# under a minute when cached; `lab` (the rendered book): about 8 minutes (five
# pre-training runs of 120,000 pair-steps, two fine-tuning runs of 100,000); `wild`: as `lab` (the experiment pre-trains
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
# nothing about it. Claim 2 turned out seed-dependent (see Interpret): its verdict is
# printed, not asserted. Claim 4 **failed** with our first fine-tuning budget (3,000
# clean pairs, 2 epochs); we then chose a larger budget on two *development* seeds and
# confirmed it on two others, as told in Mitigate.

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
from uim_utils.pretrain import TrainConfig, pretrain_many
from uim_utils.world import ConceptWorld, WorldConfig

P = get_profile()
START = time.perf_counter()
N_CONCEPTS = 100
N_PAIRS = P.pick(ci=10_000, lab=20_000)
EPOCHS = P.pick(ci=4, lab=6)
# The dial: poisoned pairs added to the corpus. CHOSEN is 1% of the clean pairs.
CHOSEN = N_PAIRS // 100
DOSES = P.pick(ci=[0, CHOSEN], lab=[0, 10, 50, CHOSEN, 3 * CHOSEN])
N_TEST = P.pick(ci=5, lab=10)         # triggered test images per non-target concept
N_PROBE = P.pick(ci=10, lab=20)       # clean labelled images per concept for the probe
# The defender's clean fine-tuning set: as many pairs as the pre-training corpus, 5 epochs
# (chosen with scripts/sweep_cleanclip.py on development seeds 0 and 1; see Mitigate).
N_CLEAN_FT = N_PAIRS
FT_EPOCHS = 5
FT_METHODS = P.pick(ci=("cleanclip",), lab=PZ.METHODS)  # ci: the asserted method only (time)
FLAG_FRACTION = 0.02                  # audit: flag the 2% least-agreeing pairs
N_BOOT = P.pick(ci=1000, lab=2000)
# Thresholds, fixed in advance (see "The published claim").
MIN_ASR_GAIN = 0.05
MIN_AUC = 0.75
MAX_ACC_DROP = 0.05

WORLD = ConceptWorld(WorldConfig(n_concepts=N_CONCEPTS, seed=P.seed))
TARGET = PZ.pick_target(P.seed, N_CONCEPTS)
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
models = dict(zip(DOSES, pretrain_many([(corpora[m], TRAIN) for m in DOSES])))  # side by side
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
DOSE = E.bootstrap_table(results, "poisoned pairs", n_boot=N_BOOT, seed=P.seed)
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
# ASR rises steeply. In the book's `lab` run (seed 0, 20,000 pairs, 6 epochs) it was
# 0.01 at 0, 10 and 50 poisoned pairs, then 0.98 at 200 (1%) and 1.00 at 600: a
# threshold rather than a slope. The linear probe, trained only on clean images,
# inherits the backdoor when the poisoned encoder moves triggered images far enough
# towards the target's region of feature space: at 1% its ASR was 0.81. Clean accuracy
# (dashed) stays where it was: nothing in an ordinary evaluation reveals the poisoned
# model.
#
# **Seed- and size-dependence (claim 2).** In the smaller `ci` runs (10,000 pairs, 4
# epochs) the backdoor was weaker and the probe's inheritance came and went: with seed
# 1 the probe's ASR was 0.17 against 0.01 for the control; with seeds 0, 2 and 3 it was
# 0.00, although their zero-shot ASR was 0.14, 0.58 and 0.62. Whether a clean-trained
# probe follows the trigger depends on how far the poisoned features move, which grows
# with training. We cannot explain one more observation of the `lab` run: at 3% poison
# the probe's ASR fell back to 0.11 while the zero-shot ASR was 1.00 (Exercise 1).
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
# poisoned pairs fine-tunes the model on pairs it trusts: here `N_CLEAN_FT` freshly
# drawn clean pairs (as many as the pre-training corpus), 5 epochs at a quarter of the
# pre-training learning rate. We compare two losses:
#
# - **CLIP only**: the usual contrastive loss on the clean pairs;
# - **CleanCLIP**: the CLIP loss plus the in-modal terms, with $w = 1$ as in
#   {cite:t}`bansal2023cleanclip`. Image views are random resized crops (50-100% of the
#   area) and flips (torchvision `v2`); text views put the same concept name into
#   another caption template (the lab's analogue of their EDA text augmentation). The
#   InfoNCE terms are `open_clip.ClipLoss` applied within one modality. The clean pairs
#   carry no trigger, so neither loss ever sees the patch: whatever removes the backdoor
#   does so by re-learning the features the trigger used.
#
# Both start from the model poisoned at the chosen rate; we evaluate them exactly as
# above. (The `ci` profile runs CleanCLIP only, to keep the test run short; the book
# shows both.)

# %%
CLEAN_FT = build_corpus(WORLD, CorpusConfig(n_samples=N_CLEAN_FT, seed=P.seed + 1000))
FT_CONFIGS = [PZ.FinetuneConfig(method=m, epochs=FT_EPOCHS, seed=P.seed) for m in FT_METHODS]
tuned = dict(zip(FT_METHODS, PZ.finetune_many(models[CHOSEN].model, models[CHOSEN].key,
                                              CLEAN_FT, FT_CONFIGS)))  # side by side
after = {"poisoned": results[CHOSEN]}
after.update({f"+ {m}": measure(tuned[m]) for m in FT_METHODS})
MIT = E.bootstrap_table(after, "model", n_boot=N_BOOT, seed=P.seed)
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
#
# %% [markdown]
# **What the fine-tuning buys, in the lab.** Our first fine-tuning budget, 3,000 clean
# pairs for 2 epochs, failed claim 4: with seed 0 CleanCLIP lowered the zero-shot ASR
# from 0.14 to 0.07, just short of halving it, and with seed 1 the ASR *rose* (0.31 to
# 0.44). We did not change the threshold. We swept the budget instead
# (`scripts/sweep_cleanclip.py`: 3,000 or 10,000 pairs, 2 or 5 epochs, $w$ = 1 or 4)
# on two *development* seeds, 0 and 1, and fixed the smallest budget that worked on
# both: 10,000 pairs (as many as pre-training) for 5 epochs, $w = 1$. With 10,000 pairs
# for 2 epochs, seed 1 still kept an ASR of 0.30 after CleanCLIP; a larger weight
# $w = 4$ helped at small budgets (0.21) but did not halve it. Then we ran the chapter
# on two *held-out* seeds:
#
# | seed | role | ASR before | CleanCLIP | CLIP only | clean acc. before | after CleanCLIP |
# |---|---|---|---|---|---|---|
# | 0 | development | 0.14 | 0.01 | 0.02 | 0.16 | 0.23 |
# | 1 | development | 0.31 | 0.03 | 0.05 | 0.15 | 0.24 |
# | 2 | held out | 0.58 | 0.01 | 0.00 | 0.16 | 0.24 |
# | 3 | held out | 0.62 | 0.04 | 0.01 | 0.14 | 0.25 |
#
# (`ci` profile, 10,000 pre-training pairs. In the book's `lab` run shown above,
# seed 0 with 20,000 pairs, the ASR fell from 0.98 to 0.01 with either loss while
# clean zero-shot accuracy rose from 0.33 to 0.39 with CleanCLIP and 0.37 with the
# CLIP loss alone.) At this budget claim 4 holds on all four seeds, so the `Checks` cell asserts
# it. Two things keep it from being the paper's result, though.
#
# - **The CLIP loss alone does as well.** {cite:t}`bansal2023cleanclip` find that
#   fine-tuning with the CLIP loss alone removes much less of the backdoor than
#   CleanCLIP. In the lab both remove it: the in-modal terms are not what does the work.
# - **The budget is as large as pre-training.** Fine-tuning here costs 50,000
#   pair-steps against pre-training's 40,000, and clean accuracy *rises* (0.15 to
#   0.24) because our pre-trained model is far from converged. This is closer to
#   re-training on clean data than to the light fine-tuning of the paper, whose clean
#   set was a fifth of the poisoned corpus. At small budgets (a third of the corpus
#   for 2 epochs) neither loss removed the backdoor reliably.
#
# What carries over is that a backdoor lives in features, and enough training on data
# without the trigger re-learns those features; what the lab cannot show at this scale
# is that CleanCLIP's in-modal terms make that cheaper.

# %% [markdown]
# ## Checks
#
# The cell below (hidden in the book; click to show) evaluates the four claims with
# the thresholds fixed at the top and prints the numbers. It asserts claims 1, 3 and 4
# (claim 4 with the fine-tuning budget chosen on development seeds, see Mitigate).
# Claim 2 held for one seed of four in our runs, so its verdict is printed, not
# asserted.

# %% tags=["hide-cell"]
# Paired differences over the same test images, with 95% bootstrap intervals.
p, c0 = results[CHOSEN], results[0]
gain_zs = E.paired_gain(c0["zs_asr"], p["zs_asr"], n_boot=N_BOOT, seed=P.seed)
gain_lp = E.paired_gain(c0["lp_asr"], p["lp_asr"], n_boot=N_BOOT, seed=P.seed)
cc = after["+ cleanclip"]
drop_asr = E.paired_gain(cc["zs_asr"], p["zs_asr"], n_boot=N_BOOT, seed=P.seed)  # poisoned - cleaned
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
if "+ clip" in after:
    cl = after["+ clip"]
    print(f"  (not asserted) CLIP-only fine-tuning: ASR {cl['zs_asr'].mean():.3f}, "
          f"clean accuracy {cl['zs_acc'].mean():.3f}")
print(f"chapter wall time so far: {time.perf_counter() - START:.0f} s")
assert gain_zs[0] >= MIN_ASR_GAIN and gain_zs[1] > 0, "claim 1: no backdoor beyond noise"
claim2 = bool(gain_lp[1] > 0)
print(f"claim 2 (probe inherits): {'holds' if claim2 else 'does NOT hold'} (not asserted: seed-dependent)")
assert AUDIT["roc_auc"] >= MIN_AUC, "claim 3: agreement does not rank poisoned pairs"
assert drop_asr[0] >= 0.5 * p["zs_asr"].mean(), "claim 4: CleanCLIP did not halve the ASR"
assert drop_asr[1] > 0, "claim 4: the ASR reduction's interval reaches 0"
assert acc_drop <= MAX_ACC_DROP, f"claim 4: clean accuracy fell by {acc_drop:.3f}"
print("claims 1, 3 and 4 hold")

# %% [markdown]
# ## Summary
#
# - A corpus with 1% poisoned pairs (a trigger patch on images of other concepts,
#   captioned as one target) plants a backdoor in a lab CLIP: triggered images are
#   classified as the target far more often than by the unpoisoned control, while clean
#   accuracy does not move.
# - Whether the backdoor reaches a linear probe trained on clean labelled images
#   depended on the training size and seed: ASR 0.81 in the book's `lab` run, but
#   0.17 for one `ci` seed and 0.00 for three others.
# - The lab needs a larger poisoned share than the 0.01% of Carlini and Terzis; a
#   tiny, briefly trained CLIP is a less willing learner of a small patch.
# - A clean reference model's image-caption agreement ranks poisoned pairs high but
#   flags many clean pairs with them.
# - Fine-tuning on a few thousand clean pairs did **not** remove the lab backdoor
#   reliably (the ASR even rose for one seed). With a clean set as large as the
#   pre-training corpus for 5 epochs, CleanCLIP removed it on four of four seeds
#   without costing clean accuracy, but so did the CLIP loss alone: the lab does not
#   reproduce the paper's finding that the in-modal terms are what makes the defence
#   work.
#
# ## Exercises
#
# 1. **Turn the dial.** Set `DOSES = [0, 10, 30, 100, 300, 1000]` and redraw the
#    dose-response. Where does the ASR start to rise, and is the rise closer to linear
#    in the count or in its logarithm? Repeat with `EPOCHS` doubled: do more passes
#    over the same poisoned pairs lower the dose needed?
#    In the `lab` run the probe's ASR was 0.81 at 1% poison but 0.11 at 3%: look at
#    where the triggered images land in feature space (their mean cosine similarity to
#    the target's clean images and to their own class) at each dose, and explain it.
# 2. **A smaller budget.** Set `N_CLEAN_FT = 3_000` and `FT_EPOCHS = 2`, and fine-tune
#    with `PZ.FinetuneConfig(weight=w)` for `w` in 0.25, 1, 4 and with the CLIP loss
#    alone. Plot ASR and clean accuracy against `w`. Is there a budget at which the
#    in-modal terms beat the CLIP loss alone, as in the paper? Which `w` would you
#    choose, and on what data (you cannot measure ASR without knowing the trigger)?
# 3. **Which augmentation matters?** Replace `PZ.image_augmenter` by one that only
#    flips (no crop) and rerun the CleanCLIP fine-tuning at the small budget of
#    Exercise 2. Does the in-modal image term still change the ASR?
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
