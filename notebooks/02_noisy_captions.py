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
# # Noisy captions: what a model inherits from wrong labels
#
# Web captions are often wrong: alt-texts name the wrong object, a product photo is
# captioned with the neighbouring item, a scraper pairs an image with the wrong text.
# A CLIP trained on such pairs still learns, and at a glance it learns almost as well.
# But the noise leaves a mark on the *shape* of its feature space, and that mark is
# inherited by every downstream task that uses the frozen features: most of all by tasks
# whose images look different from the bulk of the pre-training data. In this chapter we
# pre-train lab CLIPs on corpora with 0-30% wrong captions and nothing else changed,
# audit such a corpus the way a practitioner would, measure in-domain and out-of-domain
# transfer and the feature spectrum, and try NMTune, a light-weight fix that reshapes
# the frozen features without touching the encoder.
#
# :::{admonition} Learning goals
# :class: tip
# After this chapter you can
# - run a dose-response experiment on pre-training label noise and read the in-domain
#   (ID) and out-of-domain (OOD) transfer curves with intervals across seeds;
# - find wrong captions with confident learning (`cleanlab`) on a probe's
#   out-of-sample predictions, and score the audit against ground truth;
# - compute and interpret the singular-value entropy and the share of dominant singular
#   values of a feature matrix;
# - implement NMTune's three regularisers and measure, with an ablation, what each adds.
# :::
#
# **Estimated time.** `ci`: about 2 minutes on two CPU cores with a cold cache (four lab
# CLIPs are pre-trained), a few seconds warm; `lab` (the rendered book): about 10-11
# minutes cold (15 lab CLIPs); `wild`: a real LAION CLIP on CIFAR-10 and shifted copies,
# a few minutes on a Colab GPU (needs internet).
#
# ## The published claim
#
# {cite:t}`chen2024catastrophic` list noisy pre-training data among the sources of
# catastrophic inheritance: the flaw is invisible in the pre-training loss and surfaces
# downstream as a lack of generalisation. {cite:t}`chen2024noisy` test it directly. They
# pre-train ResNet-50 classifiers on ImageNet-1K and CLIP models on YFCC15M and CC12M
# with 0, 5, 10, 20 and 30% of the labels (or captions) replaced at random, and evaluate
# linear probes on the frozen features. They report that **slight noise (5-10%) can
# improve ID linear-probe accuracy**, while **OOD accuracy falls as the noise grows**;
# the noise reshapes the feature space: the singular-value spectrum becomes flatter
# (higher entropy; the largest singular values lose their share). Their fix,
# **NMTune**, keeps the encoder $f$ frozen and trains a residual MLP $h$ and a linear
# head on its features with
#
# $$\mathcal{L} = \mathrm{CE}\big(g(h(f(x))), y\big)
#   + \lambda_\text{mse}\,\big\|\bar h - \bar f\big\|^2
#   + \lambda_\text{cov}\,\tfrac{1}{d}\textstyle\sum_{i\ne j}\mathrm{Cov}(h)_{ij}^2
#   - \lambda_\text{svd}\,\tfrac{1}{k}\sum_{i\le k}\sigma_i/\textstyle\sum_j\sigma_j ,$$
#
# where $\bar h, \bar f$ are the L2-normalised tuned and pre-trained features (keep what
# was learned), the covariance term decorrelates the dimensions, and the last term
# raises the share of the top-$k$ singular values (undo the flattening). They use
# $\lambda_\text{mse}=1$, $\lambda_\text{cov}=0.04$, $\lambda_\text{svd}=0.001$, the
# values we use without tuning.
#
# **Our claims, thresholds fixed before the first full run** (the `Checks` cell asserts
# them):
#
# 1. **Inheritance (OOD).** The OOD linear-probe accuracy of the model pre-trained with
#    30% wrong captions is below that of the clean model in *every* pre-training seed,
#    and the mean drop is larger than twice the seed-to-seed standard deviation of the
#    clean model's OOD accuracy.
# 2. **ID.** Calibration runs of the lab (see the book plan) found no ID bump, only a
#    fall. We therefore assert the weaker statement the lab can test: the mean ID
#    accuracy at 30% noise is below that at 0%. Whether a bump appears at 5-10% is
#    *printed, not asserted*, and discussed in the text.
# 3. **Audit.** On the 30%-noise corpus, `cleanlab` flags pairs with precision at least
#    1.5 times the noise rate (flagging at random gives exactly the noise rate) and
#    recall at least 0.5.
# 4. **Mitigation.** On the noisiest model, NMTune does at least as well OOD as the
#    linear probe: the mean over seeds of the paired difference (NMTune minus linear
#    probe, OOD accuracy) is $\ge 0$.
#
# The spectrum (entropy, top-$k$ share) is reported and related to the curves, but not
# asserted: the paper's direction is one we want to *look at*, not one we had a
# threshold for.

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
# Sizes come from the run profile (`UIM_PROFILE`: `ci` for the tests, `lab` for the
# book, `wild` for a real checkpoint) and every seed from `UIM_SEED`. The lab world has
# 50 concepts; every corpus has the lab's default domain mix: 70% `photo` and 10% each of
# `sketch`, `noisy` and `recolor`. **ID** is `photo`: the downstream probe is trained
# and tested on photos. **OOD** is the `noisy` domain (grainy, washed-out images): the
# probe trained on photos is tested there. It is a style that pre-training saw, but
# rarely, which is what makes an OOD test informative (a style the encoder never
# learned puts every model at chance and measures nothing; `sketch` and `recolor` are
# close to that here, see the table below).

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from uim_utils import get_profile
from uim_utils import noisy as N
from uim_utils.models import WildModeUnavailable, load_model, network_available
from uim_utils.pretrain import TrainConfig
from uim_utils.world import DOMAINS, ConceptWorld, WorldConfig

P = get_profile()
if P.is_wild and not network_available():
    raise SystemExit("The wild profile needs internet (a LAION checkpoint and CIFAR-10 "
                     "are downloaded); run it on Colab, or use UIM_PROFILE=lab offline.")

N_CONCEPTS = 50
RATES = P.pick(ci=[0.0, 0.3], lab=[0.0, 0.05, 0.1, 0.2, 0.3])  # ci: the two rates the checks use
SEEDS = P.seeds(P.pick(ci=2, lab=3))
N_PAIRS = P.pick(ci=6_000, lab=10_000)
TRAIN = TrainConfig(model="uim-tiny", epochs=P.pick(ci=4, lab=6), batch_size=256, lr=2e-3)
# Downstream images per concept (train: photo; test: each domain). N_TRAIN was 10 on the
# first run; 30 was chosen on development seeds (see "What NMTune buys").
N_TRAIN, N_TEST = 30, 20
OOD = "noisy"                     # the OOD domain of the claims
NOISIEST = max(RATES)
# Thresholds of the claims, fixed in advance (see "The published claim").
SPREAD_FACTOR = 2.0               # claim 1: mean OOD drop > 2 x seed sd of the clean model
AUDIT_PRECISION_FACTOR = 1.5      # claim 3: precision >= 1.5 x noise rate
AUDIT_RECALL_MIN = 0.5            # claim 3
print(f"profile={P.name}, seeds {SEEDS}, noise rates {RATES}, {N_PAIRS:,} pairs x "
      f"{TRAIN.epochs} epochs per model, {len(RATES) * len(SEEDS)} models")

WORLD = ConceptWorld(WorldConfig(n_concepts=N_CONCEPTS, seed=P.seed))

# %% [markdown]
# ## Understand
#
# *Where does the flaw enter?* In the captions. `caption_noise` replaces the caption of
# a fixed share of pairs by a caption of a uniformly random *other* concept: the image
# shows a *bazuti*, the text says *a photo of a molefi*. Everything else (the images,
# the concept frequencies, the domain mix, the model, the training schedule and the
# seed) is the same at every noise rate, so any difference between the models is
# caused by the wrong captions. This is the experiment {cite:t}`chen2024noisy` ran on
# YFCC15M and CC12M, on a scale that fits a laptop. One corpus at the highest rate:

# %%
example = N.noise_corpus(WORLD, NOISIEST, N_PAIRS, SEEDS[0])
wrong = example.table[example.table["noisy"]].head(4)
print(example.data_card().to_string())
print(wrong[["caption", "concept", "caption_concept", "domain_name"]].assign(
    true_name=[WORLD.classnames[c] for c in wrong["concept"]]).to_string(index=False))

fig, axes = plt.subplots(1, 4, figsize=(8, 2.3))
for ax, (_, row) in zip(axes, wrong.iterrows()):
    ax.imshow(example.images[row["sample_id"]])
    ax.set_title(f"true: {WORLD.classnames[row['concept']]}\ncaption: "
                 f"{row['caption'][:22]}", fontsize=7)
    ax.axis("off")
fig.suptitle("Pairs with a wrong caption", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# Now the dose-response: one lab CLIP per noise rate and seed. The lab caches every
# model by its full configuration (`UIM_CACHE`), so a rerun loads them in a second.

# %%
MODELS = N.pretrain_grid(WORLD, RATES, SEEDS, N_PAIRS, TRAIN)

# %% [markdown]
# ### Auditing a noisy corpus
#
# A practitioner does not have the `noisy` column; she has images, captions and a model.
# Confident learning {cite:p}`northcutt2021confident` finds the pairs whose given label
# is unlikely under a classifier's *out-of-sample* predicted probabilities, with
# per-class thresholds that account for the classifier's own confusion. We take the
# concept each caption names as the label, encode the images with the model pre-trained
# on this very corpus, fit a logistic-regression probe with 5-fold cross-validation
# (scikit-learn's `cross_val_predict`, so no pair is scored by a probe that saw it), and
# hand the probabilities to `cleanlab.filter.find_label_issues`. The corpus's ground
# truth tells us how good the audit is.

# %%
AUDIT = N.audit_captions(
    N.encode_any(MODELS[(SEEDS[0], NOISIEST)], example.images),
    example.table["caption_concept"].to_numpy(), example.table["noisy"].to_numpy(),
    seed=P.seed)
print(f"noise rate {AUDIT.base_rate:.3f}: cleanlab flags {AUDIT.flagged.sum():,} of "
      f"{len(AUDIT.flagged):,} pairs; precision {AUDIT.precision:.3f}, recall {AUDIT.recall:.3f}")
by_domain = pd.DataFrame({"domain": example.table["domain_name"], "noisy": AUDIT.truth,
                          "flagged": AUDIT.flagged})
audit_table = by_domain.groupby("domain").apply(
    lambda g: pd.Series({"pairs": len(g), "recall": (g.flagged & g.noisy).sum() / max(g.noisy.sum(), 1),
                         "false-flag rate": (g.flagged & ~g.noisy).sum() / max((~g.noisy).sum(), 1)}),
    include_groups=False)
audit_table.round(3)

# %% [markdown]
# **Reading the audit.** Precision is to be compared with the noise rate (what flagging
# at random would give), recall with 1. The table splits the result by domain: the
# probe is weakest on the rare styles, so a *correct* caption of a hard image can look
# as unlikely as a wrong one, and the false-flag rate there tells you how much of the
# rare data a filter built on this audit would throw away, exactly the data that OOD
# transfer needs. That is one reason why {cite:t}`chen2024noisy` look for a fix that
# does not need to clean the pre-training data at all (Exercise 3 measures the
# trade-off).
#
# ## Interpret
#
# *What does the flaw do downstream?* A downstream user takes the frozen image encoder,
# trains a linear probe (standardised logistic regression, $C=1$) on
# 30 labelled photos per concept, and tests it on fresh photos (ID) and on
# images of the other styles (OOD).

# %%
TASK = N.make_downstream(WORLD, N_TRAIN, N_TEST, seed=P.seed + 1000)
PROBES, FEATS = N.probe_grid(MODELS, TASK)
PROBES = N.with_ood_mean(PROBES)
LP = N.summarise(PROBES)
LP.pivot(index="noise", columns="domain", values="mean").round(3)

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, dom, title in ((ax0, N.ID_DOMAIN, "In-domain (photo)"), (ax1, OOD, f"Out-of-domain ({OOD})")):
    s = LP[LP["domain"] == dom].sort_values("noise")
    x = 100 * s["noise"]
    ax.plot(x, s["mean"], "o-", color="tab:blue" if dom == N.ID_DOMAIN else "tab:red")
    ax.fill_between(x, s["lo"], s["hi"], alpha=0.2, color="tab:blue" if dom == N.ID_DOMAIN else "tab:red")
    raw = PROBES[PROBES["domain"] == dom]
    ax.scatter(100 * raw["noise"], raw["accuracy"], s=10, color="k", alpha=0.5, label="one seed")
    ax.axhline(1 / N_CONCEPTS, color="grey", ls="--", lw=1, label="chance")
    ax.set_xlabel("wrong captions in pre-training (%)")
    ax.set_ylabel("linear-probe accuracy (mean, 95% CI)")
    ax.set_title(title)
    ax.legend(fontsize=8)
fig.suptitle(f"Linear probes on frozen features, {len(SEEDS)} pre-training seeds", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the curves.** Both curves are lower at 30% noise than at 0%, and the OOD
# curve falls by a larger share of its height: wrong captions cost the rarely seen style
# more. In the book's `lab` run (seed 0) ID accuracy fell gently, from 0.55 to 0.45,
# while OOD accuracy held level up to 20% noise (0.32 to 0.31, with a rise to 0.34 at 5%
# that is well within the seed spread) and then fell to 0.13 at 30%. We do
# **not** see the ID bump at 5-10% that {cite:t}`chen2024noisy` report (the table above
# has the numbers; the `Checks` cell prints the verdict for this run). Why not? Their
# explanation of the bump is that slight noise acts as a regulariser on a model with
# plenty of data per class, spreading the features over more dimensions, which helps a
# linear probe on data like the pre-training data. Our lab CLIPs see about a hundred
# pairs per concept for a few epochs: they are data-starved, not over-fitted, and every
# wrong caption is a lost training signal, so slight noise has nothing to regularise.
# The paper's bump is also small (fractions of a point to about a point) and does not
# appear in every setting. The OOD fall is the part of the claim the lab reproduces.
#
# ### The shape of the feature space
#
# {cite:t}`chen2024noisy` trace both effects to the singular values $\sigma_i$ of the
# (centred) feature matrix. With $p_i = \sigma_i/\sum_j\sigma_j$, the **singular-value
# entropy** $-\sum_i p_i\log p_i$ is high when many directions carry variance, and the
# **top-$k$ share** $\sum_{i\le 5} p_i$ is high when a few dominant directions do. They
# report that noise raises the entropy and lowers the dominant share, and argue that the
# dominant directions carry the transferable structure that OOD data needs.

# %%
SPEC = N.spectrum_table(FEATS, domain=N.ID_DOMAIN)
spec_mean = SPEC.groupby("noise")[["entropy", "top_k_share", "largest_share"]].agg(["mean", "std"])
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
sns.lineplot(data=SPEC, x="noise", y="entropy", marker="o", errorbar=("ci", 95), ax=axes[0])
axes[0].set_title("Singular-value entropy")
sns.lineplot(data=SPEC, x="noise", y="top_k_share", marker="o", errorbar=("ci", 95), ax=axes[1],
             color="tab:orange")
axes[1].set_title("Share of the top-5 singular values")
for ax in axes[:2]:
    ax.set_xlabel("caption noise rate")
for (s, r), f in FEATS.items():
    if s == SEEDS[0] and r in (0.0, NOISIEST):
        sv = N.E.spectrum_stats(f[N.ID_DOMAIN])["singular_values"]
        axes[2].semilogy(np.arange(1, len(sv) + 1), sv / sv.sum(), label=f"{100 * r:.0f}% noise")
axes[2].set_xlabel("index i")
axes[2].set_ylabel(r"$\sigma_i / \sum_j \sigma_j$")
axes[2].set_title(f"Normalised spectrum (seed {SEEDS[0]})")
axes[2].legend()
fig.tight_layout()
plt.show()
spec_mean.round(3)

# %% [markdown]
# **Reading the spectra.** Compare the direction of each curve with the paper's
# (entropy up, dominant share down). In the lab the per-seed spread of both statistics
# is as large as the changes between noise rates, so the spectrum is at best a weak
# witness here; the printed table gives the means and standard deviations. Note what a
# spectrum can and cannot say: it summarises *how* variance is spread, not *whether*
# the variance is about the concepts. A data-starved model can have a flat spectrum
# because it learned little, and a noise-trained one a peaked spectrum because one
# nuisance direction (colour, say) dominates. The accuracy curves, not the spectrum, are
# the evidence of inheritance.
#
# ## Mitigate
#
# *Can we undo it without re-training the encoder?* NMTune trains only a residual MLP
# ($64 \to 256 \to 64$, added to the features) and a linear head on the frozen
# features, with cross-entropy plus the three terms of the loss above. We compare three
# heads, all trained on the same ID photos: the **linear probe**, a **plain MLP** (the
# same residual MLP and head, cross-entropy only), and **NMTune**. The plain MLP
# separates what the extra capacity buys from what the regularisers buy.

# %%
HEADS = N.head_grid(FEATS, TASK)
HEADS = N.with_ood_mean(HEADS)
H = N.summarise(HEADS, by=("noise", "head", "domain"))
H[H["domain"].isin([N.ID_DOMAIN, OOD])].pivot_table(
    index="noise", columns=["domain", "head"], values="mean").round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=False)
pal = dict(zip(N.HEADS, sns.color_palette("colorblind", 3)))
for ax, dom in zip(axes, (N.ID_DOMAIN, OOD)):
    for name in N.HEADS:
        s = H[(H["domain"] == dom) & (H["head"] == name)].sort_values("noise")
        ax.errorbar(100 * s["noise"], s["mean"], yerr=[s["mean"] - s["lo"], s["hi"] - s["mean"]],
                    marker="o", capsize=3, label=name, color=pal[name])
    ax.set_xlabel("wrong captions in pre-training (%)")
    ax.set_ylabel("accuracy (mean, 95% CI over seeds)")
    ax.set_title("ID (photo)" if dom == N.ID_DOMAIN else f"OOD ({dom})")
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Ablation: which term does the work?
#
# On the noisiest models, each regulariser alone and each left out, against the plain
# MLP (cross-entropy only) and full NMTune. Differences of a point or two are within the
# seed spread (the columns `sd`); read the table for large, consistent gaps only.

# %%
ABL_SEEDS = SEEDS[:P.pick(ci=1, lab=len(SEEDS))]  # ci: one seed (time); lab: all
noisiest = {k: v for k, v in FEATS.items() if k[1] == NOISIEST and k[0] in ABL_SEEDS}
ABL = N.with_ood_mean(N.head_grid(noisiest, TASK, heads=N.ablation_heads(), progress=True))
abl = N.summarise(ABL, by=("head", "domain"))
ablation = abl[abl["domain"].isin([N.ID_DOMAIN, OOD])].pivot_table(
    index="head", columns="domain", values=["mean", "sd"]).round(3)
ablation.loc[list(N.ablation_heads())]

# %% [markdown]
# **What NMTune buys in the lab: a tie with the linear probe.** On the first run, with
# 10 labelled photos per concept (500 in all), claim 4 failed: both MLP heads were
# *below* the linear probe, ID and OOD, at every noise rate (OOD at 30%: linear probe
# 0.282, MLP 0.264, NMTune 0.272), and over three base seeds NMTune stayed 0.009 to
# 0.015 below the probe. A residual MLP of $64 \to 256 \to 64$ over-fits 500 images. We
# kept the threshold and changed the one thing the paper's setting differs in most, the
# size of the downstream training set: on two *development* base seeds (0 and 1) we
# fitted the three heads on the same pre-trained models with 10, 30 and 100 photos per
# concept (OOD accuracy at 30% noise, mean of two pre-training seeds):
#
# | base seed | photos per concept | linear probe | MLP | NMTune |
# |---|---|---|---|---|
# | 0 | 10 | 0.281 | 0.264 | 0.272 |
# | 0 | 30 | 0.290 | 0.316 | 0.307 |
# | 0 | 100 | 0.334 | 0.358 | 0.361 |
# | 1 | 10 | 0.224 | 0.222 | 0.212 |
# | 1 | 30 | 0.234 | 0.259 | 0.243 |
# | 1 | 100 | 0.244 | 0.250 | 0.256 |
#
# We fixed the smallest size at which NMTune matched the probe on both, 30, and ran the
# chapter on two *held-out* base seeds: NMTune was 0.019 below the probe for base seed
# 2 and 0.008 above it for base seed 3 (the seed table in Checks). So claim 4 is not
# reproduced beyond a tie. And where the MLP heads win, the development table shows
# the *plain* MLP winning as much or more: what beats the linear probe is the MLP's
# extra capacity once there is enough data to fit it, not NMTune's regularisers. The
# ablation table above asks the same question term by term. In {cite:t}`chen2024noisy`
# NMTune gains a few points over both on real models with 512-2048-dimensional features
# and full downstream datasets; our 64-dimensional features leave the regularisers
# little to reshape.
#
# ## Wild: a real CLIP
#
# In the `wild` profile the same functions run on the frozen features of a real
# `open_clip` checkpoint {cite:p}`ilharco2021openclip` (ViT-B-32 trained on LAION-400M
# {cite:p}`schuhmann2022laion5b`), with CIFAR-10 as the ID task and three shifted copies
# of its test set as OOD (the lab's `noisy` and `recolor` styles and grey scale). We
# cannot vary the noise of LAION, so this tests the *mitigation* on a model whose
# pre-training data were noisy to an unknown degree. Offline, in `ci` and `lab`, the
# cell is skipped (the code path is unit-tested on a local checkpoint).

# %%
if P.is_wild:
    import torchvision

    try:
        WILD_LM = load_model("ViT-B-32", "laion400m_e32")
    except WildModeUnavailable as exc:
        raise SystemExit(str(exc)) from None
    from uim_utils.profile import cache_dir

    train_ds = torchvision.datasets.CIFAR10(cache_dir() / "cifar10", train=True, download=True)
    test_ds = torchvision.datasets.CIFAR10(cache_dir() / "cifar10", train=False, download=True)
    rng = np.random.default_rng(P.seed)
    itr = rng.choice(len(train_ds.data), 5000, replace=False)
    ite = rng.choice(len(test_ds.data), 2000, replace=False)
    WILD = N.wild_heads(WILD_LM, (train_ds.data[itr], np.array(train_ds.targets)[itr]),
                        (test_ds.data[ite], np.array(test_ds.targets)[ite]), seed=P.seed)
    display(WILD.pivot(index="head", columns="domain", values="accuracy").round(3))
else:
    print(f"profile {P.name}: the wild cell is skipped (set UIM_PROFILE=wild with internet).")

# %% [markdown]
# ## Checks
#
# The cell below (hidden in the book; click to show) prints the numbers behind each
# claim with the thresholds fixed at the top, then asserts claims 1 and 2. **Claims 3
# and 4 failed** on the first run, and we kept their thresholds; the cell prints their
# verdicts without asserting them, so a seed on which one of them holds is not an error.
# The ID bump is printed, not asserted.
#
# **How robust are these verdicts?** The `ci` profile with base seeds 0 to 3 (each base
# seed pre-trains two seeds per noise rate in its own world), all with the 30 training
# photos per concept chosen on base seeds 0 and 1 (see "What NMTune buys"):
#
# | base seed | role | 1: OOD drop per seed (need > 0; mean > 2 sd) | 2: ID, 0% → 30% | 3: audit precision (need ≥ 0.45) / recall | 4: NMTune − probe, OOD (mean) |
# |---|---|---|---|---|---|
# | 0 | development | 0.045, 0.159 (2 sd = 0.041) | 0.464 → 0.396 | **0.445** / 0.79 | +0.031, +0.004 (+0.017) |
# | 1 | development | 0.070, 0.147 (2 sd = 0.055) | 0.408 → 0.365 | **0.446** / 0.75 | +0.005, +0.013 (+0.009) |
# | 2 | held out | 0.090, 0.051 (2 sd = 0.058) | 0.440 → 0.414 | **0.441** / 0.76 | −0.024, −0.013 (**−0.019**) |
# | 3 | held out | 0.103, 0.041 (2 sd = 0.008) | **0.386 → 0.391** | **0.428** / 0.75 | +0.022, −0.007 (+0.008) |
#
# In the book's `lab` run (base seed 0, three pre-training seeds of 10,000 pairs)
# claims 1 and 2 held, claim 3 held narrowly (precision 0.459, recall 0.79) and claim 4
# failed (NMTune 0.005 below the probe).
#
# Claim 1 held for all four: the OOD fall is the robust part of the lab's result. Claim
# 2 failed for base seed 3, where ID accuracy at 30% noise was as high as at 0% (a
# rerun with `UIM_SEED=3` ends in that assertion error): in-domain transfer is much less
# sensitive to caption noise than out-of-domain transfer, which is the paper's point,
# and sometimes not sensitive at all. Claim 3 missed its threshold by a hair every time.
# Claim 4 held for three base seeds of four, but across all eight noisy models NMTune
# was on average only 0.004 above the linear probe: a tie. Note also that the "seed
# spread" of claim 1 is the standard deviation of two numbers, a crude yardstick.

# %% tags=["hide-cell"]
def per_seed(table: pd.DataFrame, domain: str, rate: float, head: str | None = None) -> np.ndarray:
    """Accuracy per seed (in SEEDS order) for one domain and noise rate."""
    t = table[(table["domain"] == domain) & (table["noise"] == rate)]
    if head is not None:
        t = t[t["head"] == head]
    return t.set_index("seed").loc[SEEDS, "accuracy"].to_numpy()


ood0, ood_max = per_seed(PROBES, OOD, 0.0), per_seed(PROBES, OOD, NOISIEST)
drop = ood0 - ood_max
spread = ood0.std(ddof=1)
print(f"1 OOD ({OOD}) linear probe: 0% {np.round(ood0, 3)}, {NOISIEST:.0%} {np.round(ood_max, 3)}; "
      f"drop per seed {np.round(drop, 3)}, mean {drop.mean():.3f} "
      f"(need every drop > 0 and mean > {SPREAD_FACTOR} x seed sd {spread:.3f} = {SPREAD_FACTOR * spread:.3f})")
id_curve = LP[LP["domain"] == N.ID_DOMAIN].set_index("noise")["mean"]
print(f"2 ID linear probe by noise rate: {id_curve.round(3).to_dict()} "
      f"(need mean at {NOISIEST:.0%} < at 0%)")
bump = [r for r in RATES if 0 < r <= 0.1 and id_curve[r] > id_curve[0.0]]
print(f"  ID bump at 5-10% noise in this run: {'yes, at ' + str(bump) if bump else 'no'} (not asserted)")
print(f"3 audit: precision {AUDIT.precision:.3f} (need >= {AUDIT_PRECISION_FACTOR} x "
      f"{AUDIT.base_rate:.3f} = {AUDIT_PRECISION_FACTOR * AUDIT.base_rate:.3f}), "
      f"recall {AUDIT.recall:.3f} (need >= {AUDIT_RECALL_MIN})")
verdict3 = bool(AUDIT.precision >= AUDIT_PRECISION_FACTOR * AUDIT.base_rate
                and AUDIT.recall >= AUDIT_RECALL_MIN)

gain = per_seed(HEADS, OOD, NOISIEST, "NMTune") - per_seed(HEADS, OOD, NOISIEST, "linear probe")
g_m, g_lo, g_hi = N.mean_ci(gain)
print(f"4 NMTune - linear probe, OOD at {NOISIEST:.0%}: per seed {np.round(gain, 3)}, "
      f"mean {g_m:.3f} [95% CI {g_lo:.3f}, {g_hi:.3f}] (need mean >= 0)")
verdict4 = bool(g_m >= 0)
# Claims 3 and 4 are printed, not asserted: they failed on the first run (see the text);
# a seed on which one of them holds is not an error.
print(f"claim 3 (audit) {'holds' if verdict3 else 'does NOT hold'}; claim 4 (NMTune >= "
      f"linear probe OOD) {'holds' if verdict4 else 'does NOT hold'} (not asserted)")

spec = SPEC.groupby("noise")[["entropy", "top_k_share"]].mean()
print(f"spectrum (reported only): entropy {spec['entropy'].round(3).to_dict()}, "
      f"top-5 share {spec['top_k_share'].round(3).to_dict()}")
# Claims 1 and 2, asserted after every number is printed.
SEE = f" (base seed {P.seed}; see the seed table above: not every seed passes)"
assert (drop > 0).all(), "claim 1: OOD accuracy did not fall in every seed" + SEE
assert drop.mean() > SPREAD_FACTOR * spread, "claim 1: OOD drop is within the seed spread" + SEE
assert id_curve[NOISIEST] < id_curve[0.0], "claim 2: ID accuracy did not fall at the highest noise rate" + SEE
print("claims 1 and 2 hold")

# %% [markdown]
# ## Summary
#
# - Wrong captions in pre-training are inherited: lab CLIPs pre-trained with 30% wrong
#   captions transfer worse, and the out-of-domain style, which pre-training saw
#   rarely, loses a larger share of its accuracy than the in-domain one.
# - The ID bump at slight noise reported by {cite:t}`chen2024noisy` does not appear in
#   the lab: our models are data-starved, and slight noise only removes signal.
# - Confident learning on a probe's out-of-sample predictions finds most wrong captions
#   (recall about 0.8) but flags nearly as many clean pairs, most of all in rare styles.
# - The feature spectrum changes little and noisily at this scale; the accuracy curves,
#   not the spectrum, carry the evidence.
# - NMTune did not beat the linear probe beyond a tie (claim 4): with 10 training photos
#   per concept the MLP heads over-fit; with 30 NMTune matched the probe on average,
#   and the plain MLP did as well as NMTune. The audit's precision missed its
#   threshold narrowly in every `ci` run and passed it narrowly in the `lab` run
#   (claim 3): confident learning flags many clean pairs of a weak model.
# - The OOD fall held for every seed we ran; the in-domain fall did not (one base seed
#   of four showed none).
#
# ## Exercises
#
# 1. **Turn the dial.** Set `N_PAIRS = 30_000` and `TRAIN = TrainConfig(epochs=8)` (a
#    few minutes). With more data per concept, does an ID bump appear at 5-10% noise?
#    Does the OOD drop shrink or grow?
# 2. **Which OOD?** Set `OOD = "sketch"` or `"recolor"`, and then change the corpus's
#    domain mix so that the style makes up 20% of pre-training (edit
#    `N.noise_corpus` to pass `domain_weights`). When does an OOD test start to measure
#    something?
# 3. **Clean, then pre-train.** Remove the pairs `AUDIT.flagged` from the 30% corpus,
#    pre-train on the rest (`uim_utils.pretrain.pretrain`) and compare ID and OOD
#    accuracy with the noisy and the clean model. Which domains lost data?
# 4. **Asymmetric noise.** Real caption noise is not uniform: a wrong caption usually
#    names a *similar* concept. Build a corpus whose wrong captions name the concept
#    with the nearest prototype (hint: `WORLD.hue`, `WORLD.lobes`) and repeat the
#    dose-response. Is confident learning still as precise?
# 5. **NMTune's weights.** Sweep `l_svd` over 0, 0.001, 0.01 and 0.1 on the noisiest
#    model. Plot the top-5 share of the tuned features `h(f)` against OOD accuracy.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
