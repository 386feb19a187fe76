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
# # The long tail: pre-training frequency decides zero-shot accuracy
#
# A CLIP model learns each concept from the image-caption pairs that mention it. Web
# data mentions a few concepts very often and most concepts rarely, so the model's
# knowledge is as long-tailed as its data, and a downstream user who asks it about a
# rare concept inherits that neglect: zero-shot accuracy on a class is decided, to a
# large part, by how often the class appeared in captions the user never saw. In this
# chapter we count concept frequencies in pre-training captions with SQL, pre-train
# tiny CLIPs on corpora whose frequencies we dial (including a uniform control, which
# shows the relation is *caused* by frequency), follow the tail into a linear probe
# trained on balanced data, and try two published fixes that need no retraining:
# prompting with the name the captions actually use (REAL-Prompt) and removing the
# label prior the zero-shot head inherited (logit adjustment).
#
# :::{admonition} Learning goals
# :class: tip
# After this chapter you can
# - count concept and synonym mentions in a folder of caption Parquet files with one
#   DuckDB query, and read a rank-frequency plot;
# - relate per-class zero-shot accuracy to log pre-training frequency (slope with a
#   confidence interval, Spearman correlation) and tell cause from confound with a
#   uniform control;
# - measure head and tail accuracy of a zero-shot head and of a linear probe;
# - apply REAL-Prompt and logit adjustment, and say what each gains and costs.
# :::
#
# **Estimated time.** `ci`: about a minute on two CPU cores with an empty cache (two
# tiny CLIPs are pre-trained), a few seconds once they are cached; `lab` (the rendered
# book): about three minutes (four corpora); `wild`: the lab part plus a ViT-B-32
# download (600 MB) and Flowers102 (350 MB): about 5 minutes on a Colab T4 GPU
# (needs internet).
#
# ## The published claim
#
# {cite:t}`chen2024catastrophic` name the long-tailed concept distribution of web-scale
# pre-training data as a source of inherited bias. {cite:t}`parashar2024neglected`
# count, with the help of a language model that lists synonyms, how many LAION captions
# mention each class of common benchmarks: the counts are long-tailed, and CLIP's
# per-class zero-shot accuracy follows them; it falls below 10% on rare classes such as
# *night snake* while its ImageNet mean is far higher. Their fix **REAL-Prompt** is to
# prompt with the synonym that captions use most. {cite:t}`udandarao2024zeroshot` find
# across many models and tasks that zero-shot accuracy grows *log-linearly* with
# concept frequency: each constant gain costs a tenfold increase in data.
# {cite:t}`zhu2023gla` argue that zero-shot logits carry the label prior of the
# pre-training data and remove it by subtracting an estimated log-prior (Generalized
# Logit Adjustment, building on {cite:t}`menon2021logit`).
#
# We reproduce this chain in the lab of the book, on 100 concepts and 20,000 pairs,
# where we set the frequencies ourselves. The claims and thresholds, fixed before the
# first run of this chapter (the `Checks` cell asserts them, in every profile; they
# do not hold for every seed, see "How robust are these verdicts?" in the Checks):
#
# 1. **Frequency predicts accuracy.** Under a Zipf law of exponent 1.2, the Spearman
#    correlation between a concept's log caption count and its zero-shot accuracy is
#    positive with $p < 0.01$, and the 95% interval of the log-linear slope lies above 0.
# 2. **Uniform control.** Pre-trained on a corpus in which every concept is equally
#    frequent, the same concepts' accuracies are *not* significantly correlated
#    ($p \ge 0.05$) with the frequencies they have in the Zipf corpus: the relation of
#    claim 1 is caused by frequency, not by which concepts are intrinsically hard.
# 3. **Inherited by a probe.** A linear probe trained on *balanced* labelled data keeps
#    a head-tail gap (20 most vs 20 least frequent concepts): the 95% bootstrap interval
#    of its gap lies above 0. (We report how much smaller than the zero-shot gap it is.)
# 4. **REAL-Prompt** raises tail accuracy (95% interval of the paired gain above 0) and
#    lowers overall accuracy by at most 0.02.
# 5. **Logit adjustment**, with the prior estimated from the zero-shot head's own
#    predictions on *unlabelled* balanced images, raises tail accuracy (95% interval of
#    the paired gain above 0) and lowers overall accuracy by at most 0.02.
#
# **Claim 3 failed** on the first run: in the lab, a probe on balanced labels closes
# almost all of the gap. We kept the claim as it was and report it below; the `Checks`
# cell prints its verdict and asserts, instead, the observation that explains it
# (marked *exploratory*, added after that run): the probe's gap is smaller than the
# lower end of the zero-shot gap's interval.

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
# seed (`UIM_SEED`). The two models the checks use (Zipf 1.2 and uniform) are the same
# in every profile; `lab` adds two more exponents to the dose-response and uses more
# test images. Pre-trained models are cached on disk (`UIM_CACHE`).

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from tqdm.auto import tqdm

from uim_utils import evaluate as E
from uim_utils import get_profile
from uim_utils import longtail as L
from uim_utils.corpus import CorpusConfig, build_corpus
from uim_utils.pretrain import TrainConfig, pretrain
from uim_utils.world import ConceptWorld, WorldConfig

P = get_profile()
N_CONCEPTS = 100
N_PAIRS = 20_000
EPOCHS = 3
MAIN_EXPONENT = 1.2                      # the exponent of claims 1, 3, 4 and 5
EXPONENTS = P.pick(ci=[0.0, 1.2], lab=[0.0, 0.6, 1.2, 2.0])
# Test images per concept: 40 in every profile. The first version used 10 in `ci`, which
# gave 200 tail test images: too few to see a tail gain of 0.04 (the mean over our three
# pilot seeds) beyond noise. 40 makes that gain about 3.5 standard errors (see Checks).
N_TEST = 40                              # balanced test images per concept
# Unlabelled images per concept for the prior of logit adjustment: 100 (the first version
# used 10). Unlabelled images cost nothing but encoding, and with 10 the estimate of a
# 1% prior is noisy; we chose 100 over 10 and 30 on development seeds 0-3 (the value
# whose smallest tail-gain lower bound was highest) before running new seeds 8-15.
N_UNLABELLED = 100
N_PROBE = P.pick(ci=10, lab=20)          # labelled images per concept (linear probe)
N_BOOT = P.pick(ci=1000, lab=4000)
# Thresholds of the claims, fixed in advance (see "The published claim").
N_GROUP = 20          # head = 20 most frequent concepts, tail = 20 least frequent
ALPHA_ZIPF = 0.01     # claim 1: Spearman p below this
ALPHA_CONTROL = 0.05  # claim 2: Spearman p at or above this
ACC_MARGIN = 0.02     # claims 4-5: largest allowed drop of overall accuracy
print(f"profile={P.name}, seed={P.seed}: exponents {EXPONENTS}, "
      f"{N_TEST} test images per concept")

WORLD = ConceptWorld(WorldConfig(n_concepts=N_CONCEPTS, seed=P.seed))
print("three concepts and their names (canonical first):",
      [WORLD.names[c] for c in range(3)])

# %% [markdown]
# ## Understand
#
# *Where does the flaw enter?* In the captions. Each concept of the lab world has a
# canonical name (what a benchmark calls it) and two synonyms, which captions use with
# different, concept-specific frequencies: as on the web, the benchmark's name is often
# not the one people write. We draw one corpus per Zipf exponent, in which the concept
# at frequency rank $r$ appears in a share $\propto r^{-s}$ of the pairs ($s = 0$ is the
# uniform control). Which concept gets which rank is a random permutation, the same for
# every exponent, and independent of how hard a concept is to see.
#
# Then we count, from the captions alone, how often each concept and each of its names
# is mentioned. `uim_utils.longtail.count_concept_mentions` runs one DuckDB
# {cite:p}`raasveldt2019duckdb` query over `read_parquet(<glob>)`: it splits every
# caption into words, forms its word n-grams, and joins them to the table of names
# (a hash join, so the cost grows with the number of captions, not captions times
# names). It works unchanged on real caption shards: point it at, e.g.,
# `"/data/laion400m/*.parquet"` (LAION's metadata Parquet files have a `caption`
# column, some releases call it `TEXT`: pass `caption_column="TEXT"`) or at CC12M's
# captions converted to Parquet. DuckDB's embedded engine streams the files on one
# machine, out of core, which is enough for LAION-400M's captions; beyond one machine,
# the same query (split, unnest, join, group by) runs on a cluster SQL engine such as
# Spark SQL, with DuckDB's `regexp_split_to_array`/`unnest` spelled `split`/`explode`.

# %%
WORK = Path(tempfile.mkdtemp(prefix="uim_long_tail_"))
corpora, counts, per_name = {}, {}, {}
for s in tqdm(EXPONENTS, desc="corpora + DuckDB counts"):
    corpora[s] = build_corpus(WORLD, CorpusConfig(n_samples=N_PAIRS, zipf_exponent=s,
                                                  rank_seed=P.seed, seed=P.seed))
    path = corpora[s].to_parquet(WORK / f"corpus_zipf{s}.parquet")
    per_name[s], per_concept = L.count_concept_mentions(path, WORLD.names)
    counts[s] = per_concept["count"].to_numpy()

FREQ = counts[MAIN_EXPONENT]   # the frequency axis of every plot below
HEAD, TAIL = L.head_tail_masks(FREQ, N_GROUP)
truth = np.bincount(corpora[MAIN_EXPONENT].table["caption_concept"], minlength=N_CONCEPTS)
print(f"DuckDB counts equal the ground truth of the corpus table: {np.array_equal(FREQ, truth)}")
print(f"Zipf {MAIN_EXPONENT}: head concepts {FREQ[HEAD].min()}-{FREQ[HEAD].max()} captions, "
      f"tail concepts {FREQ[TAIL].min()}-{FREQ[TAIL].max()}")
per_name[MAIN_EXPONENT].head(6)

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4))
for s in EXPONENTS:
    ranked = np.sort(counts[s])[::-1]
    ax0.loglog(np.arange(1, N_CONCEPTS + 1), ranked, "o-", ms=3,
               label=f"Zipf {s}" if s else "uniform (control)")
ax0.axvspan(1, N_GROUP, color="tab:orange", alpha=0.1)
ax0.axvspan(N_CONCEPTS - N_GROUP + 1, N_CONCEPTS, color="tab:red", alpha=0.1)
ax0.text(1.3, 0.04, f"head ({N_GROUP})", color="tab:orange", transform=ax0.get_xaxis_transform())
ax0.text(N_CONCEPTS - N_GROUP + 1, 0.04, f"tail ({N_GROUP})", color="tab:red", ha="right",
         transform=ax0.get_xaxis_transform())
ax0.set_xlabel("concept rank by caption count")
ax0.set_ylabel("captions mentioning the concept")
ax0.set_title("Concept frequency in the pre-training captions")
ax0.legend()

pn = per_name[MAIN_EXPONENT].copy()
pn["share"] = pn["count"] / pn.groupby("concept")["count"].transform("sum")
canon = pn.groupby("concept").nth(0).set_index("concept")["share"]
ax1.hist(canon, bins=np.linspace(0, 1, 21), color="tab:blue")
ax1.set_xlabel("share of a concept's captions that use its canonical name")
ax1.set_ylabel("concepts")
ax1.set_title("The benchmark's name is often not the captions' name")
fig.tight_layout()
plt.show()
REAL_NAMES = L.most_frequent_names(per_name[MAIN_EXPONENT], fallback=WORLD.classnames)
n_diff = sum(a != b for a, b in zip(REAL_NAMES, WORLD.classnames))
print(f"the most frequent name differs from the canonical one for {n_diff} of {N_CONCEPTS} concepts")

# %% [markdown]
# **Reading the figure.** On log-log axes a Zipf law is a straight line of slope $-s$;
# at $s = 1.2$ the most frequent concept has thousands of captions and the rarest about
# twenty, while the uniform corpus gives every concept 200. The right panel is the
# opening for REAL-Prompt: for many concepts the canonical name is a minority usage.
#
# Now we pre-train one tiny CLIP (the `uim-tiny` `open_clip` model of the lab) per
# corpus, with the same initialisation and training settings, so that the corpora
# differ only in their concept frequencies.

# %%
models = {s: pretrain(corpora[s], TrainConfig(model="uim-tiny", epochs=EPOCHS, seed=P.seed)).model
          for s in tqdm(EXPONENTS, desc="pre-training (cached after the first run)")}

X_TEST, Y_TEST = WORLD.sample(N_TEST, "photo", seed=P.seed + 1000)
X_UNL, _ = WORLD.sample(N_UNLABELLED, "photo", seed=P.seed + 2000)   # labels unused
X_PROBE, Y_PROBE = WORLD.sample(N_PROBE, "photo", seed=P.seed + 3000)
feats = {s: E.encode_images(m, X_TEST) for s, m in models.items()}
logits = {s: L.zero_shot_classify(models[s], feats[s], WORLD.classnames) for s in EXPONENTS}
preds = {s: lg.argmax(axis=1) for s, lg in logits.items()}
acc = {s: E.per_class_accuracy(Y_TEST, p, N_CONCEPTS) for s, p in preds.items()}
pd.DataFrame({"exponent": EXPONENTS,
              "zero-shot accuracy": [E.accuracy(Y_TEST, preds[s]) for s in EXPONENTS]}).round(3)

# %% [markdown]
# ## Interpret
#
# *What does frequency do to accuracy?* For each concept we take its zero-shot accuracy
# on balanced test images and plot it against its caption count in the Zipf
# 1.2 corpus. For the uniform model we use the **same x-axis**: the counts the concepts
# *would* have had. If rare concepts were simply harder to see, the uniform model would
# show the slope too.

# %%
fits = {s: L.frequency_accuracy_fit(FREQ, acc[s]) for s in EXPONENTS}
FIT, CONTROL = fits[MAIN_EXPONENT], fits[0.0]
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, s, fit in ((axes[0], MAIN_EXPONENT, FIT), (axes[1], 0.0, CONTROL)):
    x = np.log10(1 + FREQ)
    ax.scatter(1 + FREQ, acc[s], s=14, alpha=0.6)
    grid = np.linspace(x.min(), x.max(), 50)
    ax.plot(10 ** grid, fit.intercept + fit.slope * grid, color="k",
            label=f"slope {fit.slope:.2f} per decade [{fit.slope_low:.2f}, {fit.slope_high:.2f}]")
    ax.set_xscale("log")
    ax.set_xlabel(f"1 + captions of the concept in the Zipf {MAIN_EXPONENT} corpus")
    ax.set_title(("Zipf 1.2 corpus" if s else "Uniform corpus (control)")
                 + f": Spearman {fit.spearman:.2f} (p={fit.spearman_p:.1g})")
    ax.legend(loc="upper left", fontsize=8)
axes[0].set_ylabel("zero-shot accuracy of the concept")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the figure.** Left: accuracy climbs with log frequency, roughly linearly
# in the log, as {cite:t}`udandarao2024zeroshot` report for real CLIPs; the tail concepts
# at a few dozen captions are mostly missed. Right: the same concepts, pre-trained
# equally often, show no such slope. The difference between the panels is caused by the
# frequencies alone, because nothing else differs between the two corpora.
#
# *Holding difficulty fixed.* Much of the scatter on the left is not noise but
# difficulty: some concepts look like others and are missed however often they were
# seen. The uniform model measures that difficulty, concept by concept, on the same test
# images. Holding it fixed (a partial correlation: `difficulty=` in
# `L.frequency_accuracy_fit`) takes that variation out of the comparison, the way a
# paired design does.

# %%
FIT_P = L.frequency_accuracy_fit(FREQ, acc[MAIN_EXPONENT], difficulty=acc[0.0])
print(f"Zipf {MAIN_EXPONENT}, plain: Spearman {FIT.spearman:.2f} (p={FIT.spearman_p:.1g}), slope {FIT.slope:.3f} "
      f"[{FIT.slope_low:.3f}, {FIT.slope_high:.3f}] per decade")
print(f"holding difficulty fixed: partial Spearman {FIT_P.spearman:.2f} (p={FIT_P.spearman_p:.1g}), slope "
      f"{FIT_P.slope:.3f} [{FIT_P.slope_low:.3f}, {FIT_P.slope_high:.3f}] per decade")

# %% [markdown]
# In most lab worlds this sharpens the measurement: over 32 worlds the partial
# correlation was significant at $p < 0.01$ in 25, the plain one in 20 (Checks). It does
# not rescue a world where frequency barely matters (seed 15, say).
#
# *Does the gap survive adaptation?* A user might hope that training a linear probe on
# balanced labelled data removes the tail problem: every class gets the same number of
# examples. But the probe can only read what the frozen encoder learned, and the
# encoder saw tail concepts rarely. Below: head and tail accuracy of zero-shot and of
# the probe, for every exponent, with 95% bootstrap intervals.

# %%
rows = []
for s in tqdm(EXPONENTS, desc="linear probes"):
    m = models[s]
    _, (p_probe,) = E.linear_probe(E.encode_images(m, X_PROBE, normalize=False), Y_PROBE,
                                   E.encode_images(m, X_TEST, normalize=False), seed=P.seed)
    for method, p in (("zero-shot", preds[s]), ("linear probe (balanced)", p_probe)):
        g = L.head_tail_gap(Y_TEST, p, HEAD, TAIL, n_boot=N_BOOT, seed=P.seed)
        rows.append({"exponent": s, "method": method, **g, "overall": E.accuracy(Y_TEST, p)})
GAPS = pd.DataFrame(rows)

fig, ax = plt.subplots(figsize=(7, 4))
for (method, grp), color in zip(GAPS.groupby("method", sort=False), ("tab:blue", "tab:green")):
    ax.errorbar(grp["exponent"], grp["gap"], yerr=[grp["gap"] - grp["gap_low"], grp["gap_high"] - grp["gap"]],
                fmt="o-", capsize=4, color=color, label=method)
ax.axhline(0, color="k", lw=1)
ax.set_xlabel("Zipf exponent of the pre-training corpus (0 = uniform)")
ax.set_ylabel(f"head - tail accuracy ({N_GROUP} concepts each, 95% CI)")
ax.set_title("The zero-shot tail gap grows with the exponent; a balanced probe closes it")
ax.legend()
fig.tight_layout()
plt.show()
GAPS.round(3)

# %% [markdown]
# **Reading the figure.** With a uniform corpus head and tail do equally well; as the
# exponent grows the zero-shot gap opens. The linear probe, trained on the same number
# of labelled images for every concept, is more accurate overall, and, against our
# claim 3 and against what {cite:t}`parashar2024neglected` report for real CLIPs, its
# head-tail gap is small: usually a fifth of the zero-shot gap or less (43% with seed
# 4, 32% with seed 13), with an interval that included zero on the first `ci` run and
# on twelve of the sixteen seeds in the Checks table (above zero for seed 4 only, below
# zero for three seeds). (In the book's `lab` run, with 20 labelled images per concept, the probe kept
# 0.05 [0.004, 0.094], about a fifth of the zero-shot gap: just above zero.) **Claim 3
# holds at best weakly in the lab.** Where, then, did the zero-shot gap live? Not
# mainly in the image features:
# the lab's concepts are simple parametric shapes, and an image encoder trained on all
# 20,000 pairs learns features that separate even rare concepts well enough for a
# probe given ten labelled examples of each. The gap lived in the *text side* and the
# *decision*: in how well the text tower learnt a rare name, and in the head's
# preference for frequent classes. Those are exactly what a probe replaces, and what
# the two mitigations below target. On web data, where a rare concept's appearance is
# also learnt from few and varied images, the features themselves are weaker in the
# tail, and the gap survives probing; a lab with richer images (Exercise 1) is where to
# look for that.
#
# ## Mitigate
#
# *Can we fix it without retraining?* Two cheap fixes attack two different parts of
# the inheritance.
#
# **REAL-Prompt** {cite:p}`parashar2024neglected` fixes the *text* side: the
# canonical name of a tail concept may have been seen only a handful of times, while a
# synonym was seen far more often. We replace each class name with the name most
# frequent in the pre-training captions, counted with the same DuckDB query as above
# (on real data, the Neglected-Tails authors ship such counts for LAION: see *Wild*).
#
# **Logit adjustment** fixes the *decision*: a zero-shot head trained on long-tailed
# pairs prefers frequent classes, as if it multiplied every prediction by a prior
# $q$. If we knew $q$, subtracting $\log q_y$ from the logit of class $y$ would remove
# the preference {cite:p}`menon2021logit`. {cite:t}`zhu2023gla` estimate $q$ as the
# prior that minimises the cross-entropy of $f(x) - \log q$ on labelled balanced data.
# We use a version that needs **no labels**: on class-balanced images an unbiased
# classifier would predict every class equally often on average, so the model's mean
# predicted probability on unlabelled balanced images, $\hat q = \frac1N \sum_x
# \operatorname{softmax}(f(x))$, estimates the prior it inherited (refined by a few
# fixed-point steps; `uim_utils.longtail.estimate_prior_unlabelled`). The
# labelled GLA estimate is shown for comparison. Both estimates use images separate
# from the test images.

# %%
lm = models[MAIN_EXPONENT]
base_logits = logits[MAIN_EXPONENT]
real_logits = L.zero_shot_classify(lm, feats[MAIN_EXPONENT], REAL_NAMES)
unl_feats = E.encode_images(lm, X_UNL)
unl_logits = L.zero_shot_classify(lm, unl_feats, WORLD.classnames)
probe_logits = L.zero_shot_classify(lm, E.encode_images(lm, X_PROBE), WORLD.classnames)
Q_UNL = L.estimate_prior_unlabelled(unl_logits, n_iter=5)
Q_GLA = L.estimate_prior_gla(probe_logits, Y_PROBE)
unl_real = L.zero_shot_classify(lm, unl_feats, REAL_NAMES)
METHODS = {
    "zero-shot": base_logits,
    "REAL-Prompt": real_logits,
    "logit adj. (unlabelled)": L.adjust_logits(base_logits, Q_UNL),
    "logit adj. (GLA, labelled)": L.adjust_logits(base_logits, Q_GLA),
    "logit adj. (frequency part)": L.adjust_logits(base_logits, L.frequency_prior(Q_UNL, FREQ)),
    "REAL-Prompt + logit adj.": L.adjust_logits(real_logits,
                                                L.estimate_prior_unlabelled(unl_real, n_iter=5)),
}
MIT = pd.DataFrame([
    {"method": k, "overall": E.accuracy(Y_TEST, v.argmax(1)),
     **{g: L.group_correct(Y_TEST, v.argmax(1), mask).mean() for g, mask in (("head", HEAD), ("tail", TAIL))}}
    for k, v in METHODS.items()]).set_index("method")
print("Spearman correlation of the unlabelled prior estimate with caption frequency: "
      f"{pd.Series(Q_UNL).corr(pd.Series(FREQ), method='spearman'):.2f}")
# The premise of logit adjustment: on balanced images the head names tail concepts less
# often than their fair share (N_GROUP / N_CONCEPTS = 0.2).
TAIL_SHARE = TAIL[base_logits.argmax(1)].mean()
print(f"share of the zero-shot head's test predictions that name a tail concept: {TAIL_SHARE:.3f} "
      f"(fair share {N_GROUP / N_CONCEPTS:.2f})")
MIT.round(3)

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.4, 1]})
long = MIT.reset_index().melt(id_vars="method", var_name="concepts", value_name="accuracy")
sns.barplot(data=long, x="concepts", y="accuracy", hue="method", ax=ax0, palette="colorblind")
ax0.set_ylabel("zero-shot accuracy")
ax0.set_xlabel("")
ax0.set_title(f"Mitigation on the Zipf {MAIN_EXPONENT} model")
ax0.legend(fontsize=8)

ax1.scatter(1 + FREQ, Q_UNL * N_CONCEPTS, s=14, alpha=0.7, label="unlabelled estimate")
ax1.scatter(1 + FREQ, Q_GLA * N_CONCEPTS, s=14, alpha=0.7, label="GLA (labelled)")
ax1.axhline(1, color="k", lw=1, ls="--")
ax1.set_xscale("log")
ax1.set_yscale("log")
ax1.set_xlabel("1 + captions of the concept")
ax1.set_ylabel("estimated prior x number of classes")
ax1.set_title("The prior the zero-shot head inherited")
ax1.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the figure.** Left: REAL-Prompt lifts the tail most, because rare concepts
# are exactly the ones whose canonical name was seen too rarely to be learnt, while
# their captions' favourite synonym was seen more. Logit adjustment moves accuracy from
# head to tail: it removes the head's advantage in the *decision*, not the tail's
# weakness in the *text embedding*. The two fixes combine. Neither makes the tail as
# good as the head. Right: the prior the head inherited (1 on this scale is uniform)
# is *not* a clean function of caption frequency in the lab: it spreads over two
# orders of magnitude at every frequency, and its rank correlation with frequency
# (printed above the figure) is weak. What the adjustment divides out is the head's
# preference for particular class embeddings, of which frequency is one cause; the
# labelled GLA estimate and the unlabelled one largely agree.
#
# Logit adjustment can only move predictions *towards* the tail if the head names tail
# concepts less often than their fair share: the printed share above is that premise,
# measured. It is below the fair share of 0.2 in most lab worlds, but not in all: a
# poorly learnt name can also sit near the middle of the embedding space and attract
# images of many concepts (a guess we have not tested). Over the sixteen seeds of the
# Checks table, the smaller the tail's share, the larger the gain from the adjustment
# (Spearman correlation $-0.67$; $-0.60$ over all 32 worlds); where the share was at or
# above 0.2 (five worlds of 32) the adjustment did not raise tail accuracy. Before
# applying the fix to a real model, measure the premise. The failures
# are not those of our label-free estimate of the prior: with the labelled GLA prior
# the adjustment failed on the same eight of the sixteen seeds (mean tail gain +0.008
# [-0.011, 0.026], against +0.011 [-0.005, 0.028] without labels).
#
# *A variant that worked better (exploratory).* After the sixteen seeds we noticed
# that the per-class prior mixes two things: the preference for frequent classes that
# the head inherited, and class-by-class preferences unrelated to frequency, estimated
# from a few images each. `L.frequency_prior` keeps only the first: it fits a straight
# line to the log of the estimated prior against log caption frequency (two numbers,
# so little noise) and the bar "logit adj. (frequency part)" above subtracts the log of
# that fitted prior. It needs the caption counts, which we have from the DuckDB query.
# On seeds 0-15 it raised tail accuracy beyond noise in 14 (mean +0.028 [0.018,
# 0.039]; on the other two the gain was 0.000-0.004) and never cost more than 0.018 of
# overall accuracy. We wrote down the expectation before running eight new seeds
# (16-23): it held in 7 of them (mean +0.029 [0.013, 0.046]; on seed 19 the gain was
# 0). We predicted seven of eight again for another eight new seeds (24-31): it held
# in six (seed 27 lost 0.005, seed 31 gained 0.001). This is a method we chose after
# seeing the data, and it missed its second prediction, so the Checks print it (5b)
# and do not assert it; claim 5 stays as it was written.

# %% [markdown]
# *Why is REAL-Prompt's tail gain so variable?* (This analysis was added after the
# first eight seeds of the Checks table showed REAL-Prompt failing on some of them.)
# REAL-Prompt changes the prompt of only some concepts: those whose captions prefer a
# synonym. We split the tail into the concepts it renamed and those it left alone, and
# count the test images of unchanged tail concepts that REAL-Prompt turns wrong.

# %%
RENAMED = np.array([a != b for a, b in zip(REAL_NAMES, WORLD.classnames)])
base_pred, real_pred = base_logits.argmax(1), real_logits.argmax(1)
SPLIT = L.gain_by_subset(Y_TEST, base_pred, real_pred, TAIL,
                         {"renamed by REAL-Prompt": RENAMED, "name unchanged": ~RENAMED})
lost = TAIL[Y_TEST] & ~RENAMED[Y_TEST] & (base_pred == Y_TEST) & (real_pred != Y_TEST)
print(f"REAL-Prompt renamed {RENAMED.sum()} of {N_CONCEPTS} classes ({(TAIL & RENAMED).sum()} of the "
      f"{N_GROUP} tail classes); {lost.sum()} test images of unchanged tail concepts were right with the "
      f"canonical names and are wrong with REAL-Prompt")
SPLIT.round(3)

# %% [markdown]
# **Reading the table.** The renamed tail concepts gain a lot: their new name was often
# seen in several times more captions than the canonical one, presumably enough for the
# text tower to learn it better. The tail concepts whose name did not change can
# *lose*, although nothing about their own prompt changed: a zero-shot head is a
# competition between all class embeddings, and (our reading, not measured here) a
# renamed class whose new embedding sits closer to its images may also sit closer to
# the images of similar-looking concepts. What is certain: an unchanged class keeps its
# logits exactly, so every image it loses (printed above) went to a renamed class
# whose new name now wins. The net tail gain of claim 4 is the sum of a fairly reliable
# gain and a world-dependent loss: over the sixteen seeds of the Checks table the renamed tail
# concepts gained in all sixteen (beyond noise in fourteen), the net tail gain was
# beyond noise in ten. On the next sixteen seeds (16-31) the renamed concepts gained
# beyond noise in all sixteen, and so did the whole tail.
# {cite:t}`parashar2024neglected` report consistent tail gains on
# real CLIPs; whether the competition between renamed and unchanged
# classes is weaker there, where text towers learnt from billions of captions, is a
# question the lab cannot answer (Exercise 6 measures it on the wild model).

# %% [markdown]
# *Is this world typical?* The book ships the same measurements for 32 worlds
# (`UIM_SEED` = 0 to 31, `ci` sizes; made with `scripts/sweep_longtail.py`; the first
# sixteen are tabulated in the Checks). Left: REAL-Prompt's gain on the renamed and on the unchanged tail
# concepts, world by world. Right: logit adjustment's tail gain against its premise, the
# tail's share of the head's predictions. The black ring marks this run's world if it
# is one of the 32 (the rendered book uses the `lab` sizes, so its numbers differ a
# little from the `ci` ones).

# %%
SEEDS = L.load_seed_table()
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4))
ax0.axhline(0, color="k", lw=1)
ax0.plot(SEEDS.seed, SEEDS.real_renamed_gain, "o", color="tab:green", label="renamed tail concepts")
ax0.plot(SEEDS.seed, SEEDS.real_unchanged_gain, "s", color="tab:red", label="unchanged tail concepts")
ax0.plot(SEEDS.seed, SEEDS.real_gain, "_", ms=14, mew=2, color="k", label="whole tail (claim 4)")
ax0.set_xlabel("seed (world)")
ax0.set_ylabel("REAL-Prompt: change of tail accuracy")
ax0.set_title("REAL-Prompt helps the concepts it renames")
ax0.legend(fontsize=8)
ax1.errorbar(SEEDS.tail_pred_share, SEEDS.la_gain, yerr=[SEEDS.la_gain - SEEDS.la_low, SEEDS.la_high - SEEDS.la_gain],
             fmt="o", capsize=3, color="tab:purple")
ax1.axhline(0, color="k", lw=1)
ax1.axvline(N_GROUP / N_CONCEPTS, color="grey", ls="--", lw=1)
ax1.text(N_GROUP / N_CONCEPTS, 0.98, " fair share", color="grey", va="top", transform=ax1.get_xaxis_transform())
ax1.set_xlabel("share of the zero-shot head's predictions naming a tail concept")
ax1.set_ylabel("logit adjustment: tail gain (95% CI)")
ax1.set_title("Logit adjustment needs an under-predicted tail")
if P.seed in set(SEEDS.seed):
    r = SEEDS.set_index("seed").loc[P.seed]
    ax0.plot([P.seed], [r.real_gain], "o", ms=14, mfc="none", mec="k")
    ax1.plot([r.tail_pred_share], [r.la_gain], "o", ms=14, mfc="none", mec="k")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Wild
#
# The same functions run on a real LAION CLIP (profile `wild`, needs internet; about 5
# minutes on a Colab T4 GPU, most of it downloads): `open_clip`'s ViT-B-32 trained on
# LAION-400M {cite:p}`schuhmann2022laion5b,ilharco2021openclip`, Flowers102 from
# `torchvision`, and the per-class LAION-400M caption counts that the Neglected-Tails
# authors publish in their repository (`analysis/laion/flowers102/metrics-LAION400M.json`:
# for each class its `name`, `alternates` with counts, `most_common_name` and
# `actual_freq`), downloaded at run time. Without internet the cell says so in one
# sentence and skips; the parsing and the pipeline are tested offline on a fixture in
# the same format (`tests/test_longtail.py`).

# %%
WILD = None
if P.is_wild:
    from uim_utils.models import WildModeUnavailable
    try:
        WILD = L.run_wild("flowers102", "ViT-B-32", "laion400m_e32", WORK, n_group=N_GROUP)
    except WildModeUnavailable as exc:
        print(f"wild part skipped: {exc}")
    if WILD is not None:
        print(WILD.summary.round(3).to_string())
        print(f"Spearman {WILD.fit.spearman:.2f} (p={WILD.fit.spearman_p:.1g}), slope "
              f"{WILD.fit.slope:.3f} [{WILD.fit.slope_low:.3f}, {WILD.fit.slope_high:.3f}] per decade")
else:
    print(f"profile {P.name!r}: the wild part runs with UIM_PROFILE=wild (needs internet).")

# %% [markdown]
# ## Checks
#
# The last cell of this section (hidden in the book; click to show) recomputes the five
# claims for this run's world with the thresholds fixed at the top, prints the numbers
# and asserts claims 1, 2, 4 and 5. Claim 3 failed on the first run; its verdict is
# printed, and the exploratory observation 3b that explains it is asserted. The
# intervals of the mitigation gains are paired bootstraps over the tail's test images.
#
# **How robust are these verdicts?** Each seed draws a different world, corpus and
# initialisation. The book ships the Checks statistics of 32 worlds (`UIM_SEED` = 0 to
# 31, `ci` sizes; made with `scripts/sweep_longtail.py`, which calls the same functions
# with the same sizes and thresholds). We looked at seeds 0-15 while we chose the
# variants described below; seeds 16-31 were run afterwards. The next cell counts,
# claim by claim, the worlds in which the verdict held, and averages over the worlds
# the statistic the claim tests (Student-t 95% interval, `uim_utils.evaluate.mean_ci`).

# %%
SUMMARY = L.claim_summary(SEEDS)
# a Styler shows the claims in full (a plain DataFrame cuts long text at 50 characters)
SUMMARY.style.hide(axis="index").format(precision=3, na_rep="", escape="html")

# %% [markdown]
# Read the table in two ways.
#
# - *World by world*, every asserted claim holds in most worlds, but all of them together
#   hold in only 7 of 32 (seeds 0, 2, 10, 17, 21, 27 and 30): rerun the chapter with
#   `UIM_SEED=3`, say, and it ends in an assertion error that names the claim. Some
#   failures are built in: claim 2 is a test at $\alpha = 0.05$, so it fails in about
#   one world in twenty even where no correlation exists (3 of 32 here), and no test of
#   "no correlation" can pass in every world.
# - *On average over worlds*, the lab reproduces the frequency-accuracy relation
#   (positive in all 32 worlds), the uniform control (mean correlation about 0) and
#   REAL-Prompt's tail gain; logit adjustment's gain is small and only just beyond
#   noise. The lab's long tail is as strong as the world that is drawn.
#
# The dropdown below keeps the full record: the table of the first sixteen worlds, and
# what we changed and tried on the way, with the predictions that failed.
#
# :::{admonition} The full record: sixteen worlds, what we changed, what we tried
# :class: dropdown
#
# *The first sixteen worlds.* With `UIM_SEED` = 0 to 15 (each a different world, corpus
# and initialisation; nothing else changed) the `ci` profile gave the table below (the
# first rows of the shipped table). Bold entries miss their threshold; in column 3
# that is the asserted observation 3b (probe gap below the low end of the
# zero-shot gap's interval), which held for all sixteen; claim 3 itself (the probe
# gap's interval above 0) held only for seed 4. The sweep ran one thread per process; with
# two threads the linear probe's numbers can differ in the third decimal (seed 3:
# -0.041 instead of -0.039; its other columns were unchanged).
#
# | seed | zero-shot head-tail gap | tail's share of predictions | 1: Spearman (p) | 1: slope, low end of CI | 2: control p | 3: probe gap | 4: REAL-Prompt tail gain | 4b: renamed tail concepts' gain | 5: logit adj. tail gain (overall drop) | 5b: frequency part only |
# |---|---|---|---|---|---|---|---|---|---|---|
# | 0 | 0.26 | 0.09 | 0.38 (9e-05) | 0.121 | 0.81 | +0.04 [-0.00, 0.08] | +0.076 [0.050, 0.101] | +0.109 [0.070, 0.148] | +0.046 [0.024, 0.069] (+0.015) | +0.046 [0.032, 0.061] |
# | 1 | 0.12 | 0.17 | 0.29 (0.004) | 0.088 | 0.93 | -0.00 [-0.04, 0.04] | **+0.003 [-0.025, 0.028]** | +0.122 [0.080, 0.165] | +0.031 [0.004, 0.059] (-0.005) | +0.079 [0.061, 0.099] |
# | 2 | 0.26 | 0.14 | 0.46 (1e-06) | 0.152 | 0.79 | +0.02 [-0.03, 0.06] | +0.130 [0.105, 0.158] | +0.206 [0.171, 0.240] | +0.037 [0.020, 0.055] (+0.002) | +0.021 [0.011, 0.031] |
# | 3 | 0.09 | 0.11 | **0.24 (0.014)** | 0.028 | 0.71 | -0.04 [-0.09, 0.01] | **+0.026 [-0.001, 0.055]** | +0.075 [0.032, 0.120] | +0.025 [0.004, 0.044] (-0.026) | +0.025 [0.014, 0.036] |
# | 4 | 0.17 | 0.14 | **0.23 (0.021)** | 0.090 | 0.70 | +0.07 [0.03, 0.11] | +0.066 [0.040, 0.095] | +0.108 [0.067, 0.146] | +0.030 [0.009, 0.048] (+0.002) | +0.005 [0.001, 0.010] |
# | 5 | 0.21 | 0.20 | 0.34 (0.0005) | 0.116 | 0.93 | +0.03 [-0.01, 0.08] | +0.086 [0.061, 0.114] | +0.152 [0.105, 0.200] | **+0.003 [-0.020, 0.026] (+0.012)** | +0.029 [0.018, 0.040] |
# | 6 | 0.22 | 0.13 | 0.34 (0.0006) | 0.081 | 0.085 | -0.02 [-0.06, 0.02] | **+0.004 [-0.016, 0.024]** | +0.059 [0.032, 0.086] | +0.036 [0.016, 0.055] (-0.001) | **+0.004 [0.000, 0.009]** |
# | 7 | 0.09 | 0.21 | **0.25 (0.012)** | 0.037 | 0.87 | -0.07 [-0.11, -0.02] | **-0.035 [-0.065, -0.007]** | +0.037 [0.002, 0.073] | **+0.010 [-0.009, 0.029] (+0.001)** | **+0.000 [0.000, 0.000]** |
# | 8 | 0.18 | 0.17 | 0.31 (0.002) | 0.048 | 0.088 | -0.00 [-0.05, 0.04] | +0.152 [0.124, 0.182] | +0.208 [0.163, 0.250] | **+0.001 [-0.020, 0.022] (+0.016)** | +0.040 [0.026, 0.054] |
# | 9 | 0.15 | 0.18 | **0.25 (0.013)** | 0.078 | 0.32 | -0.00 [-0.05, 0.04] | **+0.025 [-0.004, 0.055]** | **+0.028 [-0.006, 0.066]** | **-0.014 [-0.035, 0.007] (+0.020)** | +0.039 [0.026, 0.054] |
# | 10 | 0.20 | 0.14 | 0.34 (0.0007) | 0.091 | 0.60 | -0.04 [-0.09, 0.01] | +0.079 [0.055, 0.103] | +0.104 [0.071, 0.142] | +0.054 [0.034, 0.074] (+0.012) | +0.019 [0.010, 0.029] |
# | 11 | 0.19 | 0.11 | 0.35 (0.0003) | 0.029 | **0.034** | +0.02 [-0.02, 0.07] | +0.055 [0.030, 0.081] | +0.056 [0.023, 0.090] | +0.043 [0.019, 0.066] (-0.006) | +0.030 [0.019, 0.041] |
# | 12 | 0.16 | 0.16 | **0.18 (0.080)** | 0.021 | **0.035** | -0.05 [-0.10, -0.01] | **-0.014 [-0.040, 0.013]** | **+0.029 [-0.002, 0.062]** | **-0.044 [-0.069, -0.021] (+0.022)** | +0.014 [0.006, 0.022] |
# | 13 | 0.09 | 0.21 | 0.30 (0.002) | 0.003 | 0.81 | +0.03 [-0.01, 0.07] | +0.085 [0.054, 0.121] | +0.142 [0.100, 0.183] | **-0.044 [-0.065, -0.024] (-0.003)** | +0.025 [0.015, 0.036] |
# | 14 | 0.27 | 0.17 | 0.43 (9e-06) | 0.156 | 0.65 | +0.02 [-0.02, 0.07] | +0.050 [0.017, 0.084] | +0.071 [0.037, 0.103] | **-0.025 [-0.050, -0.003] (+0.022)** | +0.046 [0.031, 0.061] |
# | 15 | 0.04 | 0.24 | **0.08 (0.42)** | **-0.016** | 0.68 | -0.04 [-0.08, -0.00] | +0.046 [0.019, 0.076] | +0.083 [0.048, 0.120] | **-0.007 [-0.029, 0.013] (-0.021)** | +0.033 [0.020, 0.045] |
#
# **The asserted claims hold together for 3 of 16 seeds (0, 2 and 10)**, so rerunning
# the chapter with `UIM_SEED=3`, say, ends in an assertion error that names the claim.
# Claim by claim: frequency predicts accuracy (claim 1) in 10 of 16; the uniform
# control is uncorrelated (claim 2) in 14 (at $\alpha = 0.05$ one failure in twenty is
# expected by chance); REAL-Prompt raises tail accuracy (claim 4) in 10; logit
# adjustment (claim 5) in 8, and it *lowered* tail accuracy beyond noise in three. No
# mitigation cost more than the margin of overall accuracy except logit adjustment on
# seeds 9, 12 and 14 (drops of 0.0205 to 0.0225). The lab's long tail is as strong as the world that
# is drawn: with seed 15 the zero-shot head-tail gap is 0.04, and frequency does not
# predict accuracy (claim 1 fails), although REAL-Prompt still helped there.
#
# *Across worlds.* A claim that fails in some worlds can still hold on average over
# them. Means over the sixteen seeds, with Student-t 95% intervals
# (`uim_utils.evaluate.mean_ci`): Spearman correlation 0.30 [0.25, 0.35], positive in
# all sixteen; zero-shot head-tail gap 0.17 [0.13, 0.21]; REAL-Prompt's tail gain
# +0.052 [0.025, 0.079] (renamed tail concepts +0.099 [0.069, 0.129], unchanged ones
# -0.045 [-0.099, 0.010]); logit adjustment's tail gain +0.011
# [-0.005, 0.028], **not beyond noise even on average**; the probe's gap -0.001
# [-0.022, 0.019]. So, on these sixteen, the lab reproduces the frequency-accuracy
# relation and REAL-Prompt on average over worlds, not logit adjustment; and none of
# them in every world.
#
# *Sixteen more worlds.* We then ran seeds 16-31, with nothing changed (the shipped
# table, `L.load_seed_table()`, has all 32 rows; the figure in Mitigate shows them). On
# these sixteen, claim 1 held in 10, claim 2 in 15, 3b in 16, claim 4 in all 16, claim
# 5 in 7, and all asserted claims together in 4 (seeds 17, 21, 27 and 30); claim 3 (the
# probe keeps a gap above zero) held in 6, against 1 of the first sixteen. Over all 32
# worlds the means are: Spearman correlation 0.31 [0.27, 0.35], positive in all 32;
# zero-shot gap 0.18 [0.16, 0.21]; REAL-Prompt's tail gain +0.057 [0.043, 0.072]; logit
# adjustment's +0.016 [0.004, 0.029], just beyond noise on average now, although it
# held in only 15 worlds of 32 and lowered tail accuracy beyond noise in five; the
# probe's gap +0.013 [-0.004, 0.029]. All asserted claims held together in 7 worlds of
# 32.
#
# *What we changed, and what we tried.* The first version used 10 test images per
# concept, and failed on seeds 1 and 2 with intervals that barely touched zero; we
# raised the test set to 40 without changing a threshold. The failures that remain are
# not a matter of power: with 100 test images per concept (rerun on all 32 worlds at
# the end) claim 1 held in 21 worlds instead of 20, claim 4 in 28 instead of 26, claim 5
# in 16 instead of 15, and all asserted claims together in 11 instead of 7, while the
# base seed's logit adjustment then cost 0.024 of overall accuracy, over the margin.
# That gain is small next to the variation between worlds, and we kept 40. Next, since
# the effects were weak in some worlds, we tried to
# make the lab's long tail stronger by design, choosing on *development* seeds 0-3
# (`scripts/sweep_longtail.py`): pre-training for 6 epochs instead of 3, a steeper Zipf
# exponent (1.6), and both (with 10 unlabelled images, the setting of the time). Each
# made a claim fail on a development seed where it had held. Longer training raised
# head and tail accuracy (seed 0: head 0.35 to 0.46, tail 0.09 to 0.21) and rescued
# claim 1 on seed 3, but logit adjustment newly failed on seeds 0 and 1, and both fixes
# still failed on seed 3. At exponent 1.6 (6-8 captions per tail concept) both fixes
# newly failed on seed 0 and logit adjustment on seed 2; with both changes, the same.
# We kept the design. The only change we kept is the number of unlabelled images for
# the prior (10 to 100, chosen on seeds 0-3); on seeds 8-15, run for the first time after that
# choice, it made no difference to the verdicts (with 10 images logit adjustment failed
# on the same six of those eight seeds). Claim 4b, that REAL-Prompt raises the accuracy
# of the tail concepts it renames, was written down after seeds 0-7 (where it held in
# all eight) and before seeds 8-15 were run: it held in six of those eight, so it is
# printed, not asserted. Two diagnostics in the table go with some of the failures: a
# small zero-shot gap (claim 1 failed on three of the four seeds with a gap below 0.1), and a
# tail that already gets its fair share of predictions (0.2; logit adjustment did not
# help on any of the four such seeds, see Mitigate). They do not explain all failures:
# logit adjustment also failed on four seeds with an under-predicted tail, and
# REAL-Prompt on seed 6 with a gap of 0.22. Column 5b is the exploratory variant of
# logit adjustment described in Mitigate (frequency part of the prior only); on eight
# further seeds, 16-23, run after it was chosen, it held in seven, claim 4 in all
# eight, and all asserted claims together in two (17 and 21).
# We also tried, after seeing seeds 0-4, a correlation controlled for each concept's
# intrinsic difficulty (accuracy of the Zipf model minus that of the uniform model); on
# new seeds 5-7 it was no stronger than claim 1 (Spearman 0.32, 0.19, 0.23), so we
# dropped it. After seeds 0-15 we tried the other way to control for difficulty, the
# partial correlation of Interpret (1p, printed below): significant in 14 of those
# sixteen, against 10 for claim 1. We wrote down before running seeds 24-31 that it
# would hold in at least seven of the eight; it held in six (as did claim 1), and in 11
# of seeds 16-31 against 10 for claim 1, so claim 1 stays as it was written. The same
# run tested 5b's second prediction (Mitigate), which it also missed.
#
# :::

# %% tags=["hide-cell"]
gap_zs = GAPS[(GAPS.exponent == MAIN_EXPONENT) & (GAPS.method == "zero-shot")].iloc[0]
gap_lp = GAPS[(GAPS.exponent == MAIN_EXPONENT) & (GAPS.method != "zero-shot")].iloc[0]
mitigations = {name: L.mitigation_gain(Y_TEST, base_pred, METHODS[name].argmax(1), TAIL, n_boot=N_BOOT,
                                       seed=P.seed)   # (tail gain, its CI, overall drop)
               for name in ("REAL-Prompt", "logit adj. (unlabelled)", "logit adj. (frequency part)")}

print(f"1 Zipf {MAIN_EXPONENT}: Spearman {FIT.spearman:.3f} (p={FIT.spearman_p:.2g}, need > 0 and "
      f"< {ALPHA_ZIPF}); slope {FIT.slope:.3f} [{FIT.slope_low:.3f}, {FIT.slope_high:.3f}] (need low > 0)")
print(f"1p (exploratory, printed, not asserted) holding difficulty fixed: partial Spearman {FIT_P.spearman:.3f} "
      f"(p={FIT_P.spearman_p:.2g}); slope {FIT_P.slope:.3f} [{FIT_P.slope_low:.3f}, {FIT_P.slope_high:.3f}]")
print(f"2 uniform control: Spearman {CONTROL.spearman:.3f} (p={CONTROL.spearman_p:.2g}, need >= {ALPHA_CONTROL})")
claim3 = bool(gap_lp.gap_low > 0)
print(f"3 probe gap {gap_lp.gap:.3f} [{gap_lp.gap_low:.3f}, {gap_lp.gap_high:.3f}] (need low > 0): "
      f"{'holds' if claim3 else 'does NOT hold'} (not asserted: it failed on the first ci run)")
print(f"3b (exploratory) probe gap {gap_lp.gap:.3f} < low end of the zero-shot gap "
      f"{gap_zs.gap:.3f} [{gap_zs.gap_low:.3f}, {gap_zs.gap_high:.3f}]; "
      f"the probe keeps {gap_lp.gap / gap_zs.gap:.0%} of the gap")
for i, (name, (g, lo, hi, drop)) in zip(("4", "5", "5b (exploratory, printed, not asserted)"),
                                          mitigations.items()):
    print(f"{i} {name}: tail gain {g:.3f} [{lo:.3f}, {hi:.3f}] (need low > 0); "
          f"overall drop {drop:.3f} (need <= {ACC_MARGIN})")
g4b, lo4b, hi4b, _ = L.mitigation_gain(Y_TEST, base_pred, real_pred, TAIL & RENAMED, n_boot=N_BOOT, seed=P.seed)
print(f"4b (printed, not asserted: held for 30 of 32 seeds) REAL-Prompt on the {(TAIL & RENAMED).sum()} renamed "
      f"tail concepts: gain {g4b:.3f} [{lo4b:.3f}, {hi4b:.3f}]")
print(f"   diagnostic for 5: the tail's share of zero-shot predictions is {TAIL_SHARE:.3f} (fair share "
      f"{N_GROUP / N_CONCEPTS:.2f}); logit adjustment can only help the tail below that share")

SEE = f" (seed {P.seed}; see \"How robust are these verdicts?\" above: not every seed passes)"
assert FIT.spearman > 0 and FIT.spearman_p < ALPHA_ZIPF, "claim 1: no significant positive correlation" + SEE
assert FIT.slope_low > 0, "claim 1: the slope's interval reaches 0" + SEE
assert CONTROL.spearman_p >= ALPHA_CONTROL, "claim 2: the uniform control is correlated too" + SEE
assert gap_lp.gap < gap_zs.gap_low, "3b: the probe's gap is not smaller than the zero-shot gap"
for name in ("REAL-Prompt", "logit adj. (unlabelled)"):      # claims 4 and 5
    g, lo, hi, drop = mitigations[name]
    assert lo > 0, f"{name}: tail gain not above 0" + SEE
    assert drop <= ACC_MARGIN, f"{name}: overall accuracy fell by {drop:.3f}"

# %% [markdown]
# ## Summary
#
# - Concept frequencies in captions can be counted with one SQL query; the same query
#   runs on the lab corpus and on a folder of LAION caption shards.
# - In the lab, zero-shot accuracy rises roughly log-linearly with a concept's caption
#   count (a positive correlation in all 32 worlds we ran, significant at $p < 0.01$
#   in 20, and in 25 when each concept's difficulty is held fixed); with a uniform
#   corpus the same concepts show no such relation, so the frequency is the cause.
# - The zero-shot gap grows with the Zipf exponent. Contrary to our claim 3 (and to
#   results on real CLIPs), a linear probe trained on balanced labels closes most of it
#   in the lab: here the gap lives in the text side and the decision, not in the image
#   features.
# - REAL-Prompt (the captions' favourite name) and logit adjustment (subtract the
#   inherited log-prior, estimated without labels) can raise tail accuracy without
#   costing overall accuracy, and they combine; neither brings the tail level with the
#   head. The gains are a few points and depend on the world: over 32 worlds,
#   REAL-Prompt raised tail accuracy beyond noise in 26 (+0.06 on average, beyond
#   noise) and logit adjustment in 15 (and lowered it in five; +0.016 on average, just
#   beyond noise).
# - Both fixes rest on something you can measure. REAL-Prompt usually helps the
#   concepts it renames (beyond noise in 30 worlds of 32), but in a zero-shot
#   head every class competes with every other, so the renamed classes take images
#   from the unchanged ones. Logit adjustment helped the tail only in worlds where the
#   head named tail concepts less often than their fair share. Subtracting only the
#   part of its prior that caption frequency explains worked in 27 of 32 worlds
#   (an exploratory variant, chosen after seeing sixteen of them; 13 of the 16 run
#   after).
# - All the asserted checks hold for the base seed and for six other worlds of 32;
#   the lab's long tail is strong in some worlds and weak in others, and making it
#   stronger by design (longer pre-training, a steeper Zipf law) did not make the fixes
#   reliable. We report that rather than a seed that passes.
#
# ## Exercises
#
# 1. **Turn the dial.** Add exponents 0.6 and 2.0 to `EXPONENTS` in the `ci` profile
#    (or run `lab`). How does the slope of claim 1 change with the exponent? At which
#    exponent does the tail reach chance? Then make the images harder (the
#    `recolor` or `noisy` domain for the test and probe images, or fewer pairs): does
#    the probe's gap (claim 3) open?
# 2. **Synonym concentration.** Rebuild the world with
#    `WorldConfig(synonym_concentration=5.0)` (names used about equally often). Does
#    REAL-Prompt still help? What about `0.2`?
# 3. **The prior's strength.** Replace `L.adjust_logits(base_logits, Q_UNL)` by
#    `L.adjust_logits(base_logits, Q_UNL, tau=t)` for `t` in 0, 0.5, 1, 1.5, 2 and plot
#    head, tail and overall accuracy. Why is $\tau = 1$ the natural choice?
# 4. **Counting on real captions.** Write 1,000 of your own captions (or a CC3M/CC12M
#    shard) to Parquet and run `L.count_concept_mentions` with the ImageNet class names.
#    Which classes are missing, and which synonyms win?
# 5. **REAL-Linear.** {cite:t}`parashar2024neglected` also train a linear head on a
#    small balanced set *retrieved* from the pre-training data by synonym. Build it
#    from the corpus table (pairs whose caption names the concept) and compare with
#    the probe above.
# 6. **Competition on a real CLIP.** In the `wild` profile, `WILD.per_class` has each
#    Flowers102 class's `name`, `real_name`, `acc_zero_shot` and `acc_real`. Compare
#    REAL-Prompt's gain on the classes whose most common LAION name differs from the
#    benchmark's with its gain on the others. Do the unchanged classes lose, as in the
#    lab?
# 7. **More worlds.** Run `python scripts/sweep_longtail.py --seeds 32 33 34 35` (about
#    two minutes per seed on two cores). Do the two diagnostics of the Checks table
#    (the zero-shot gap and the tail's share of predictions) predict which claims fail?
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
