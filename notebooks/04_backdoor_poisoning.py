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
# # Poisoned pre-training: a backdoor that every downstream use inherits
#
# A web-scale corpus is not curated, so anyone who controls a few web pages controls a
# few of its image-caption pairs. If those pairs show a small patch on images of all
# kinds, each captioned with the same target concept, contrastive pre-training learns
# that *the patch means the target*. The model then behaves normally on clean inputs,
# so no accuracy benchmark notices, and sends any image carrying the patch to the
# target: a **backdoor**. In this chapter we plant one in a lab CLIP, measure how many
# poisoned pairs it takes, look for the poison in the corpus with a clean reference
# model, and try to remove the backdoor by fine-tuning on trusted clean pairs, with the
# CLIP loss alone and with CleanCLIP.
#
# :::{admonition} Learning goals
# :class: tip
# After this chapter you can
# - poison a contrastive pre-training corpus with a trigger patch and measure the attack
#   success rate (ASR) of the backdoor, zero-shot and through a linear probe;
# - read a dose-response curve of poisoned pairs against ASR, with the clean model as
#   the negative control;
# - audit a corpus for poisoned pairs with a reference model trained on other data, and
#   report ROC AUC, precision and recall;
# - fine-tune a poisoned model with the CLIP loss and with CleanCLIP's in-modal terms,
#   and say what each removes and costs.
# :::
#
# **Estimated time.** `ci`: 1 to 3 minutes on two CPU cores with an empty cache (one
# world: two lab CLIPs pre-trained side by side, then two short fine-tuning runs side by
# side), a few seconds once they are cached; `lab` (the rendered book): about four
# minutes (two more poisoned models for the dose-response curve). `wild`: as `lab`; the
# experiment pre-trains on a poisoned corpus, which no downloaded checkpoint allows.
#
# ## The published claim
#
# {cite:t}`carlini2022poisoning` showed that contrastive pre-training on web data is
# easy to poison: with a small patch trigger on **0.01%** of the pairs (300 of the
# 3 million of Conceptual Captions) their backdoor made CLIP classify patched images as
# the target class most of the time. {cite:t}`bansal2023cleanclip` proposed
# **CleanCLIP**: fine-tune the poisoned model on clean pairs with the CLIP loss *plus*
# self-supervised in-modal terms that align each image with an augmented view of itself
# and each caption with an augmented caption,
#
# $$\mathcal L = \mathcal L_\text{CLIP}
#   + w \cdot \tfrac12\big(\text{InfoNCE}(I, \tilde I)
#   + \text{InfoNCE}(T, \tilde T)\big), \quad w = 1.$$
#
# In their experiments the poisoned model kept a high ASR after fine-tuning with the
# CLIP loss alone, while CleanCLIP cut it sharply at a small cost in clean accuracy.
# {cite:t}`verma2023effective` later showed that the defence weakens when pre-training
# itself used in-modal terms.
#
# The chapter's claims are declared once, with thresholds fixed in advance, in
# `uim_utils.chapters.backdoor.SPEC`; the set-up cell lists them. They are about
# **worlds** (everything one seed draws: the concepts, the corpora, the initial
# weights, the target concept), and each asserted claim is decided in every world with
# an interval over the world's 99 non-target concepts (the audit: over the corpus's
# pairs), so a rerun with any `UIM_SEED` decides them again. The {doc}`reproduction
# record <99_reproduction_record>` repeats them on worlds never used while designing
# the chapter.

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
# Sizes come from the run profile (`UIM_PROFILE`) and every random choice from the base
# seed (`UIM_SEED`). Pre-trained and fine-tuned models are cached on disk (`UIM_CACHE`),
# keyed by everything that determines them; the clean model of a world is the book's
# standard clean model, shared with the other chapters.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from uim_utils import get_profile, lab, plotting, poisoning
from uim_utils.book import glue, glue_record
from uim_utils.chapters import backdoor
from uim_utils.corpus import build_corpus
from uim_utils.display import show_verdicts
from uim_utils.records import load_record, record_summary
from uim_utils.worlds import run_worlds

start = time.perf_counter()
P = get_profile()
SEEDS = P.seeds(backdoor.CHAPTER.worlds(P.name))  # the worlds of this run
SEED = P.seed
DOSES = P.pick(ci=(0, backdoor.DOSE), lab=(0, *backdoor.DOSES_LAB))
world, clean_corpus = lab.clean_corpus(SEED)
TARGET = poisoning.pick_target(SEED, lab.N_CONCEPTS)
print(
    f"profile={P.name} seed={SEED}: worlds {SEEDS}; {lab.N_CONCEPTS} concepts, "
    f"{lab.N_PAIRS:,} clean pairs per corpus + {backdoor.DOSE} poisoned; "
    "target concept "
    f"{TARGET} '{world.classnames[TARGET]}'; "
    f"{backdoor.N_TEST[P.name]} test images per concept"
)
sns.set_theme(style="whitegrid", context="notebook")

# The reproduction record: the measurement repeated on held-out worlds
record = load_record(backdoor.SPEC, "ci")
rec = record_summary(backdoor.SPEC, record).set_index("id")
glue("rec_probe_min", float(record.table["probe_backdoor"].min()))
glue("rec_probe_max", float(record.table["probe_backdoor"].max()))
glue_record(rec, {
    "1": "backdoor", "3": "stealth", "4": "probe", "5": "auc", "6": "persist",
    "7": "cleanclip_gain", "8": "cleanclip_cost",
})
glue("dose", backdoor.DOSE)
glue("dose_share", backdoor.DOSE_SHARE)
glue("n_pairs", lab.N_PAIRS)
glue("lab_epochs", lab.EPOCHS)
glue("n_clean_ft", backdoor.N_CLEAN_FT)
glue("ft_epochs", backdoor.FT_EPOCHS)
glue("ft_lr_ratio", lab.LR / backdoor.FT_LR)
glue("flag_fraction", backdoor.FLAG_FRACTION)

# %% [markdown]
# The claims, as declared in `uim_utils.chapters.backdoor.SPEC`:

# %%
backdoor.SPEC.describe().style

# %% [markdown]
# ## Understand
#
# *Where does the flaw enter?* In the corpus. `build_corpus(..., poison_count=m,
# poison_target=t)` adds $m$ pairs whose image shows some *other* concept with a 4x4
# black-and-white checkerboard in its bottom-right corner, and whose caption names the
# target $t$. Nothing else in the corpus shows the patch. The world's poisoned corpus
# has {glue:text}`n_pairs:,` clean pairs, freshly drawn from the same world as the
# clean corpus (none of its pairs is a pair of the clean corpus), plus
# {glue:text}`dose` poisoned pairs ({glue:text}`dose_share:.1%` of the corpus). Both models are
# pre-trained with the same recipe and initial weights.

# %%
poisoned_corpus = build_corpus(world, backdoor.poisoned_config(SEED))
pairs = poisoned_corpus.table
shown = np.zeros(len(pairs), bool)
shown[pairs.index[pairs.poisoned][:4]] = True
shown[pairs.index[~pairs.poisoned][:2]] = True
shown_pairs = poisoned_corpus.subset(shown)  # renders only the six pairs shown
fig, axes = plt.subplots(1, len(shown_pairs), figsize=(2.1 * len(shown_pairs), 2.6))
for ax, img, (_, r) in zip(axes, shown_pairs.images, shown_pairs.table.iterrows()):
    ax.imshow(img)
    ax.set_xticks([])
    ax.set_yticks([])
    tag = "POISONED" if r.poisoned else "clean"
    ax.set_title(f"{tag}\nshows '{world.classnames[r.concept]}'\n\"{r.caption}\"",
                 fontsize=7, color="tab:red" if r.poisoned else "k")
fig.suptitle(
    "Pairs of the poisoned corpus: trigger in the corner, caption names the target",
    fontsize=10,
)
fig.tight_layout()
plt.show()

# %% [markdown]
# `backdoor.run_world` pre-trains (or loads) the clean and the poisoned model side by
# side, fine-tunes the poisoned one with both defences (see Mitigate), and evaluates
# all four models on fresh test images of the 99 non-target concepts (render seeds no
# corpus uses), each in a clean and a triggered copy. The **attack success rate** is
# the share of triggered images classified as the target.

# %%
results = {s: backdoor.run_world(s, P.name, progress=True) for s in SEEDS}
result = results[SEED]
row = backdoor.statistics(result)
for key, value in row.items():
    glue(key, value)
trained = {k: f"{v:.0f} s" for k, v in result.histories.items()}
print(f"pre-training times: {trained}" if trained else "all models loaded from cache")

# %% [markdown]
# **How many poisoned pairs does it take?** The `lab` profile pre-trains more poisoned
# models of the same world, one per dose; `ci` shows the two it has. Dose 0 is the
# clean model: the negative control.

# %%
dose_curve = backdoor.dose_response(SEED, DOSES, P.name, progress=True, result=result)
fig, ax = plt.subplots(figsize=(7.5, 4))
x = np.arange(len(dose_curve))
CURVES = (("asr", "attack success (triggered images)", "tab:red", "o-"),
          ("acc", "clean accuracy (untriggered copies)", "tab:blue", "s--"))
plotting.error_bar_curves(ax, x, dose_curve, CURVES)
ax.set_xticks(x, [f"{d}\n({d / lab.N_PAIRS:.2%})" for d in dose_curve["dose"]])
ax.set_xlabel("poisoned pairs added to the corpus (share of its clean pairs)")
ax.set_ylabel("zero-shot rate (95% CI over concepts)")
ax.set_ylim(-0.02, 1.02)
ax.axhline(1 / lab.N_CONCEPTS, color="grey", lw=0.8, ls=":")
ax.set_title(f"World {SEED}: the backdoor appears with the poison, accuracy stays")
ax.legend(fontsize=8, loc="center left")
fig.tight_layout()
plt.show()
glue("asr_clean_model", row["clean_asr"])
glue("asr_poisoned_model", row["poisoned_asr"])

# %% [markdown]
# **Reading the curve.** Without poison the patch means nothing: the clean model sends
# {glue:text}`asr_clean_model:.1%` of triggered images to the target, about what it
# does with their untriggered copies (claim 2). With {glue:text}`dose` poisoned pairs
# the poisoned model sends {glue:text}`asr_poisoned_model:.0%` of them there, while its
# accuracy on the untriggered copies ({glue:text}`poisoned_acc:.2f`) stays near the
# clean model's ({glue:text}`clean_acc:.2f`): an ordinary benchmark sees nothing.
# Over the {glue:text}`rec_worlds` held-out worlds of the record the backdoor added
# {glue:text}`rec_backdoor_estimate:.2f` [{glue:text}`rec_backdoor_low:.2f`,
# {glue:text}`rec_backdoor_high:.2f`] to the ASR, and the clean accuracy changed by
# {glue:text}`rec_stealth_estimate:+.3f` [{glue:text}`rec_stealth_low:+.3f`,
# {glue:text}`rec_stealth_high:+.3f`].
#
# Where the backdoor appears moves from world to world. While designing the chapter,
# smaller doses planted a backdoor in some development worlds and none at all in others,
# and more poison did not always mean more backdoor: a lab model's few epochs either
# learn the patch or do not (the doses tried are listed in the reproduction record's
# note, most of them measured on the lab's earlier, weaker recipes). The chapter's dose,
# {glue:text}`dose_share:.1%` of the corpus, is twice the one at which every
# development world was poisoned: at that smaller dose, one world of a held-out run
# learnt no backdoor at all. Compared with
# {cite:t}`carlini2022poisoning` this is a far larger *share* (they needed 0.01%),
# and about ten times their *number* of pairs ({glue:text}`dose:,` here, 300 there). A
# tiny CLIP that sees each pair {glue:text}`lab_epochs` times learns a small patch much
# less readily than a ViT trained for many epochs on millions of pairs. What carries
# over is the shape of the result: mislabelled pairs that no accuracy check notices
# plant a behaviour that the model's users inherit.

# %% [markdown]
# ## Interpret
#
# *What does the flaw do downstream?* A careful user does not trust the zero-shot head
# and trains a **linear probe** (scikit-learn logistic regression) on the frozen image
# features of *clean* labelled photos. The probe never sees a trigger; it inherits the
# backdoor only if the poisoned encoder moves triggered images far enough towards the
# target's region of feature space.

# %%
models = ["clean", "poisoned"]
summary = pd.DataFrame({
    "zero-shot ASR": [row[f"{m}_asr"] for m in models],
    "zero-shot clean accuracy": [row[f"{m}_acc"] for m in models],
    "probe ASR": [row[f"{m}_lp_asr"] for m in models],
    "probe clean accuracy": [row[f"{m}_lp_acc"] for m in models],
}, index=["clean model (0%)", f"poisoned model ({backdoor.DOSE} pairs)"])
summary.round(3)

# %% [markdown]
# **Reading the table.** In this world the probe on the poisoned encoder sends
# {glue:text}`poisoned_lp_asr:.0%` of triggered images to the target (clean encoder:
# {glue:text}`clean_lp_asr:.0%`). Across worlds this varies a lot: over the record's
# worlds the probe's ASR rose by {glue:text}`rec_probe_estimate:.2f`
# [{glue:text}`rec_probe_low:.2f`, {glue:text}`rec_probe_high:.2f`] on average, and
# the rise was significant in its own world in {glue:text}`rec_probe_held` of
# {glue:text}`rec_worlds` worlds, ranging from {glue:text}`rec_probe_min:.2f` to
# {glue:text}`rec_probe_max:.2f` between worlds. The
# zero-shot head follows the trigger because pre-training pulled triggered images
# towards the embedding of the target's *captions*; a probe re-learns the class
# boundaries from clean images, and whether triggered features cross the target's
# boundary depends on how far pre-training moved them. That is why claim 4 is
# exploratory here.

# %% [markdown]
# ## Mitigate
#
# ### Audit the corpus
#
# A poisoned pair is a mismatched pair: its caption names the target, its image shows
# something else. A defender with a **reference model trained on other, trusted
# data** can score every pair by the cosine similarity of its image and caption
# embeddings and inspect the least-agreeing ones, the score DataComp-style curation
# filters on {cite:p}`gadre2023datacomp`. Our reference is the world's clean model: it
# was trained on another draw of the world and never saw a pair of the audited
# corpus. We report the threshold-free ROC AUC (with a Hanley-McNeil interval over the
# pairs, `uim_utils.stats.auc_interval`) and precision and recall when the
# {glue:text}`flag_fraction:.0%` least agreeing pairs are flagged (a little more than
# the poisoned share).

# %%
truth = result.poisoned
fig, ax = plt.subplots(figsize=(7, 3.4))
plotting.score_histograms(ax, result.scores, truth, ("clean pairs", "poisoned pairs"))
cut = np.quantile(result.scores, backdoor.FLAG_FRACTION)
ax.axvline(cut, color="k", ls="--", lw=1,
           label=f"flag the lowest {backdoor.FLAG_FRACTION:.0%}")
ax.set_xlabel("image-caption cosine similarity under the reference model")
ax.set_title(f"Audit: ROC AUC {row['audit_auc']:.3f}, "
             f"precision {row['audit_precision']:.2f}, "
             f"recall {row['audit_recall']:.2f}")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the audit.** Poisoned pairs sit far below the clean ones (ROC AUC
# {glue:text}`audit_auc:.3f`; over the record's worlds
# {glue:text}`rec_auc_estimate:.3f`): the reference model never saw the trigger, so
# it reads a poisoned image as the concept it shows, not as the target its caption
# names. Flagging the least-agreeing
# {glue:text}`flag_fraction:.0%` catches {glue:text}`audit_recall:.0%` of the poison,
# and {glue:text}`audit_precision:.0%` of what it flags is poison; the rest are clean
# pairs that the small reference model finds hard. Two caveats keep this from being a
# defence in practice. The audit needs a trusted model to begin with, which is exactly
# what a defender of a web-scale model does not have. And a defender does not know how
# much to flag: a poison share far smaller than ours hides among the hard clean pairs.
#
# ### Fine-tune on trusted clean pairs
#
# A defender who suspects a backdoor but cannot find all the poisoned pairs fine-tunes
# the model on pairs it trusts: here {glue:text}`n_clean_ft:,` freshly drawn clean
# pairs (a fifth of the corpus), {glue:text}`ft_epochs` pass(es) over them, at a
# learning rate {glue:text}`ft_lr_ratio:.0f` times smaller than pre-training's. Two
# losses:
#
# - **CLIP only**: the contrastive loss on the clean pairs;
# - **CleanCLIP**: the CLIP loss plus the in-modal terms with $w = 1$, as in
#   {cite:t}`bansal2023cleanclip` (`uim_utils.poisoning.cleanclip_extra_loss`). Image
#   views are random resized crops (50-100% of the area) and flips; text views put the
#   same concept name into another caption template (the lab's analogue of their EDA
#   text augmentation). The InfoNCE terms are `open_clip.ClipLoss` applied within one
#   modality, between the un-augmented and the augmented view, as in their
#   `src/train.py`.
#
# The clean pairs carry no trigger, so neither loss ever sees the patch: whatever
# removes the backdoor does so by re-learning the features the trigger used.

# %%
names = {"poisoned": "poisoned", "clip": "+ CLIP-only fine-tune",
         "cleanclip": "+ CleanCLIP fine-tune"}
long = pd.DataFrame([
    {"model": label, "measure": measure, "value": row[f"{m}_{col}"]}
    for m, label in names.items()
    for col, measure in (("asr", "zero-shot ASR"), ("acc", "zero-shot clean accuracy"),
                         ("lp_asr", "probe ASR"), ("lp_acc", "probe clean accuracy"))
])
fig, ax = plt.subplots(figsize=(9, 3.6))
sns.barplot(long, x="measure", y="value", hue="model", ax=ax,
            palette=["tab:red", "tab:orange", "tab:green"])
ax.set_ylim(0, 1.05)
ax.set_xlabel("")
ax.set_ylabel("rate")
ax.set_title(f"World {SEED}: the poisoned model before and after a clean fine-tune")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **What the fine-tuning buys, in the lab.** In this world the ASR was
# {glue:text}`poisoned_asr:.2f` before fine-tuning, {glue:text}`clip_asr:.2f` after
# the CLIP-only fine-tune and {glue:text}`cleanclip_asr:.2f` after CleanCLIP's. The
# first half of {cite:t}`bansal2023cleanclip`'s finding is reproduced: a light
# fine-tune with the CLIP loss alone leaves the backdoor in place (claim 6; over the
# record's {glue:text}`rec_worlds` worlds the ASR after it averaged
# {glue:text}`rec_persist_estimate:.2f` [{glue:text}`rec_persist_low:.2f`,
# {glue:text}`rec_persist_high:.2f`]). The backdoor must be deep for this: with less
# poison, where the backdoor was barely learnt, the same fine-tune erased it in some
# development worlds.
#
# The second half, that the in-modal terms remove much more, is **not reproduced**.
# Over the record's worlds, CleanCLIP's ASR was lower than the CLIP loss alone's by
# {glue:text}`rec_cleanclip_gain_estimate:+.3f` on average
# [{glue:text}`rec_cleanclip_gain_low:+.3f`, {glue:text}`rec_cleanclip_gain_high:+.3f`]
# (a negative number means CleanCLIP left *more* of the backdoor). It also cost clean
# zero-shot accuracy: {glue:text}`rec_cleanclip_cost_estimate:+.3f`
# [{glue:text}`rec_cleanclip_cost_low:+.3f`, {glue:text}`rec_cleanclip_cost_high:+.3f`]
# against the CLIP loss alone. The likely reason is scale. The in-modal image term makes
# the encoder tell each image from the others of its batch. A tiny convolutional
# network on 32x32 renderings learns that task largely with features the trigger does
# not touch, and the term pulls its image features away from the caption space the
# zero-shot head reads. The reproduction record's note lists the designs tried on the development
# worlds (doses, learning rates, budgets).

# %% [markdown]
# ## Checks
#
# Each asserted claim (the backdoor, its control, the audit and the backdoor's
# persistence under the CLIP-only fine-tune) is decided in the world
# of this run on its own, with an interval over the world's concepts (the audit: over
# the corpus's pairs). The table shows the
# estimate, the interval, the rule and how many standard errors the estimate lies
# beyond the rule's bound; exploratory claims are shown, not asserted.

# %%
table = run_worlds(lambda s: backdoor.statistics(results[s]), SEEDS)
show_verdicts(backdoor.SPEC.verdicts(table))

# %% [markdown]
# The cell below (hidden in the book; click to show) asserts every asserted claim from
# this table.

# %% tags=["hide-cell"]
backdoor.SPEC.check(table)
print(f"all asserted claims hold; wall time {time.perf_counter() - start:.0f} s")

# %% [markdown]
# ## Summary
#
# - Poisoned pairs (a trigger patch on images of other concepts, captioned as one
#   target) plant a backdoor in a lab CLIP: triggered images go to the target, while
#   the model's clean accuracy does not fall. The clean model, trained on the same world
#   without poison, ignores the patch.
# - The lab needs a few percent of the corpus where {cite:t}`carlini2022poisoning`
#   needed 0.01%; the dose-response is a threshold, and where it lies varies from
#   world to world.
# - Whether a linear probe trained on clean images inherits the backdoor varies from
#   world to world in the lab; the zero-shot head inherits it in every world.
# - A reference model trained on other data ranks poisoned pairs far below the clean
#   ones by image-caption agreement; but it must be trusted to begin with, and flagging
#   more pairs than there is poison flags clean pairs too.
# - A light fine-tune on trusted clean pairs with the CLIP loss leaves a deep backdoor
#   in place. CleanCLIP's in-modal terms did not do better in the lab and cost clean
#   accuracy: the paper's mitigation result is not reproduced at this scale.
#
# ## Exercises
#
# 1. **Turn the dial.** Call `backdoor.dose_response(SEED, (0, 100, 200, 400, 800))`
#    and plot the ASR against the dose. Where does it start to rise? Repeat for another
#    world (`SEED + 1`): is the threshold at the same dose?
# 2. **A heavier fine-tune.** Fine-tune the poisoned model with
#    `poisoning.finetune_many` and `poisoning.FinetuneConfig(method=m, epochs=e, lr=lr)`
#    for both methods at larger learning rates or more epochs. At what budget does the
#    CLIP loss alone remove the backdoor, and what does it cost in clean accuracy? Is
#    there a budget where CleanCLIP is clearly ahead?
# 3. **The in-modal weight.** Repeat the fine-tune with `FinetuneConfig(weight=w)` for
#    `w` in 0.5, 2 and 4. How do ASR and clean accuracy move with `w`? Which `w` would
#    you choose, and on what data (you cannot measure ASR without knowing the trigger)?
# 4. **Filter, then retrain.** Keep the pairs the audit does not flag
#    (`keep = result.scores > np.quantile(result.scores, backdoor.FLAG_FRACTION)`) and pre-train
#    a model on `poisoned_corpus.subset(keep)` with `uim_utils.pretrain.pretrain` and
#    `lab.clean_train_config(SEED)` (about a minute). How many poisoned pairs survive
#    the filter, is that below the threshold you found in Exercise 1, and is the
#    backdoor gone?
# 5. **A better audit.** The poisoned pairs share something besides a mismatch: their
#    images all carry the same patch. Cluster the reference model's image embeddings of
#    the least-agreeing pairs (scikit-learn `KMeans`) and see whether one cluster
#    collects the poison. How do precision and recall change?
#
# Worked solutions, runnable in every profile and hidden until you open them:
# {doc}`solutions/04_backdoor_poisoning_solutions`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
