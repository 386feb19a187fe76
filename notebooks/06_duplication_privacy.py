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
# # Duplicated data: what a model remembers, and who can tell
#
# Web-scale corpora are full of copies: the same photo with the same caption posted on
# hundreds of pages. A model that sees a pair many times can remember *that pair*, not
# just its concept, and then anyone holding the model can test whether a given image
# and caption were in its training data (*membership inference*). For a private photo,
# that is a leak. In this chapter we give some pairs of a lab corpus
# {glue:text}`k_min` to {glue:text}`top_k` copies, pre-train a CLIP on it, and attack
# it; then we remove the copies and attack again. Along the way we meet the most common
# mistake in measuring such leaks.
#
# :::{admonition} Learning goals
# :class: tip
# After this chapter you can
# - run a membership-inference attack on a CLIP (image-caption similarity) and report
#   it as an AUC and a true-positive rate at a low false-positive rate;
# - explain why memorisation grows with the number of copies of a pair, and why one
#   exposure leaves almost nothing to detect;
# - remove exact and near duplicates (SemDeDup) and measure what that buys and costs;
# - design a fair attack evaluation: non-members drawn from the same distribution as
#   the members, and say what goes wrong otherwise.
# :::
#
# **Estimated time.** `ci`: 1 to 3 minutes on two CPU cores with an empty cache (one
# world: two lab CLIPs pre-trained side by side, each then scoring a few thousand
# pairs), seconds once the models are cached; `lab` (the rendered book): about the
# same (the same models, with twice as many non-members and test images). The chapter
# has no `wild` part (no real CLIP's training set can be queried offline); `wild` runs
# it as `lab`.
#
# ## The published claims
#
# - {cite:t}`ko2023membership` attack CLIP by the cosine similarity of an image and its
#   caption: pairs from the training set score higher than pairs that were not.
# - {cite:t}`kandpal2022deduplicating` show, for language models, that how often a
#   sequence is regenerated grows steeply with how often it is duplicated in the
#   training data, that membership inference is near chance for sequences seen once, and
#   that deduplicating the training data mitigates these privacy risks.
# - {cite:t}`abbas2023semdedup` remove *semantic* near-duplicates from LAION with
#   SemDeDup (k-means on embeddings, then pairs with cosine above $1 - \epsilon$ within
#   a cluster) and keep performance with much less data.
# - {cite:t}`das2025blind` find that published membership-inference evaluations of
#   foundation models draw members and non-members from *different* distributions, so
#   that a "blind" attack that never looks at the model beats the published attacks:
#   such evaluations measure the shift, not the leak.
#
# The chapter's claims are declared once, with thresholds fixed in advance, in
# `uim_utils.chapters.duplication.SPEC`; the set-up cell lists them. They are about
# **worlds** (everything one seed draws: the concepts, the corpus, the chosen pairs,
# the initial weights), and each asserted claim is decided in every world with an
# interval over the pairs it compares, so a rerun with any `UIM_SEED` decides them
# again. The {doc}`reproduction record <99_reproduction_record>` repeats them on worlds
# never used while designing the chapter.

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
# seed (`UIM_SEED`). Pre-trained models are cached on disk (`UIM_CACHE`), keyed by
# everything that determines them; the clean model of a world is the book's standard
# clean model, shared with the other chapters.

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from uim_utils import get_profile, lab, privacy
from uim_utils.book import glue, glue_record
from uim_utils.chapters import duplication
from uim_utils.display import show_verdicts
from uim_utils.records import load_record, record_summary
from uim_utils.worlds import run_worlds

start = time.perf_counter()
P = get_profile()
SEEDS = P.seeds(duplication.CHAPTER.worlds(P.name))  # the worlds of this run
SEED = P.seed
TOP = duplication.KS[-1]
print(
    f"profile={P.name} seed={SEED}: worlds {SEEDS}; {lab.N_CONCEPTS} concepts, "
    f"{lab.N_PAIRS:,} clean pairs; {duplication.PER_K} target pairs at each of "
    f"k = {duplication.KS} copies; {duplication.N_NONMEMBERS[P.name]:,} non-members"
)
sns.set_theme(style="whitegrid", context="notebook")

# The reproduction record: the measurement repeated on held-out worlds
record = load_record(duplication.SPEC, "ci")
rec = record_summary(duplication.SPEC, record).set_index("id")
glue_record(rec, {"1": "gain", "2": "single", "3": "tpr", "4": "dejavu",
                  "5": "dedup", "6": "cost", "7": "pitfall", "8": "reference"})
glue("per_k", duplication.PER_K)
glue("top_k", TOP)
glue("k_min", duplication.KS[0])
glue("ks", ", ".join(str(k) for k in duplication.KS))
glue("epochs", lab.EPOCHS)
glue("n_singles", duplication.N_SINGLES)
glue("n_nonmembers", duplication.N_NONMEMBERS[P.name])
glue("shifted_noise", duplication.SHIFTED_NOISE)
glue("n_lookalikes", duplication.N_LOOKALIKES)
glue("cost_margin", duplication.COST_MARGIN)
glue("rec_auc_top", float(record.table[f"auc_{TOP}"].mean()))
glue("rec_tpr_top", float(record.table[f"tpr_{TOP}"].mean()))

# %% [markdown]
# The claims, as declared in `uim_utils.chapters.duplication.SPEC`:

# %%
duplication.SPEC.describe().style

# %% [markdown]
# ## Understand
#
# *Does a model remember pairs it saw many times?* We take the world's clean corpus
# and choose {glue:text}`per_k` pairs at random for each duplication level $k$
# ({glue:text}`ks`); each chosen pair (a *target*) then appears $k$ times
# (`privacy.duplicated_corpus`). We also draw as many fresh pairs from the corpus's
# generator, pairs the clean corpus does not contain, and add them on the same ladder
# of copies (`privacy.add_copies`): these **canaries** {cite:p}`carlini2019secret` are
# seen $k$ times by the duplicated model and never by the clean one, so for them the
# clean model is a **reference model** that tells what anyone could guess about a pair
# from the data's distribution alone. Everything else stays as it was: the duplicated
# model is pre-trained with the same recipe as the clean model.

# %%
world, clean, dup, targets = duplication.corpora(SEED)
glue("extra_share", len(dup) / len(clean) - 1)
pd.DataFrame({
    "clean corpus": clean.data_card(),
    "duplicated corpus": dup.data_card(),
}).loc[["pairs", "duplicated pairs (copies)", "max / median concept count"]]

# %% [markdown]
# **The attack.** A CLIP scores how well an image matches a caption, the cosine of their
# embeddings. {cite:t}`ko2023membership`'s attack uses that score directly: the higher
# a pair's own image-caption cosine, the more likely it was a training pair
# (`privacy.membership_scores`). We judge it against **non-members drawn from the same
# generator**, pairs of the same world with the same concepts, domains and caption
# templates that no corpus contains (`privacy.nonmember_pairs`), so that the only
# difference between the two sets is membership.
#
# `duplication.run_world` pre-trains (or loads) the duplicated and the clean model side
# by side, scores the targets, the canaries, {glue:text}`n_singles` other pairs of the
# corpus (seen once) and {glue:text}`n_nonmembers` non-members under both, and tests
# both models' zero-shot accuracy, and runs the deja-vu test below (`result.dejavu`). On
# two or more cores each model trains and is measured in a worker process of its own, so
# the clean model's measurements run while the duplicated model, on its longer corpus,
# still trains; this world's clean model also embeds the duplicated corpus for SemDeDup.

# %%
results = {s: duplication.run_world(s, P.name, progress=True, embed_corpus=s == SEED)
           for s in SEEDS}
result = results[SEED]
row = duplication.statistics(result)
for key, value in row.items():
    glue(key, value)
trained = {k: f"{v:.0f} s" for k, v in result.histories.items()}
print(f"pre-training times: {trained}" if trained else "all models loaded from cache")

# %% [markdown]
# The attack's quality is its **AUC** (the chance that a random member scores above a
# random non-member; 0.5 is guessing) and its **true-positive rate at a 1%
# false-positive rate** (how many members it finds when it may wrongly accuse only one
# non-member in a hundred), the number privacy researchers care about most.

# %%
by_k = duplication.auc_by_k(result)
fig, ax = plt.subplots(figsize=(7, 4))
curves = {
    "targets, duplicated model": (by_k, "tab:red", "o-"),
    "canaries, duplicated model": (duplication.auc_by_k(result, set_name="canary"),
                                   "tab:orange", "^--"),
    "canaries, reference model (never saw them)": (
        duplication.auc_by_k(result, "deduplicated", set_name="canary"),
        "tab:grey", "v:"),
}
for label, (frame, colour, fmt) in curves.items():
    pts = frame[frame["group"] != "single"]
    ax.errorbar(pts["k"], pts["auc"], yerr=1.96 * pts["auc_se"], fmt=fmt, color=colour,
                capsize=3, label=f"{label} ({duplication.PER_K} per level)")
single = by_k[by_k["group"] == "single"].iloc[0]
ax.errorbar([1], [single["auc"]], yerr=[1.96 * single["auc_se"]], fmt="s",
            color="tab:blue", capsize=3,
            label=f"{duplication.N_SINGLES} other pairs seen once")
ax.axhline(0.5, color="grey", lw=0.8, ls=":", label="chance")
ax.set_xscale("log", base=2)
ax.set_xticks(list(duplication.KS), [str(k) for k in duplication.KS])
ax.set_xlabel("copies of the pair in the pre-training corpus (k)")
ax.set_ylabel("attack AUC (95% CI over pairs)")
ax.set_title(f"World {SEED}: the more copies, the more the model gives a pair away")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
by_k.round(3)

# %% [markdown]
# **Reading the curve.** Pairs seen once are barely told apart from non-members (AUC
# {glue:text}`auc_single:.3f`, claim 2); the more copies, the higher the AUC, up to
# {glue:text}`auc_32:.3f` at {glue:text}`top_k` copies, {glue:text}`dup_gain:.3f` above
# the single pairs (claim 1; over the {glue:text}`rec_worlds` held-out worlds of the
# record {glue:text}`rec_gain_estimate:.3f` [{glue:text}`rec_gain_low:.3f`,
# {glue:text}`rec_gain_high:.3f`]). The canaries follow the same curve under the
# duplicated model ({glue:text}`auc_canary_32:.3f` at {glue:text}`top_k` copies), while
# the reference model, which never saw them, scores all of them at chance (AUC
# {glue:text}`reference_above_chance:+.3f` from 0.5, claim 8; record
# {glue:text}`rec_reference_estimate:+.3f` [{glue:text}`rec_reference_low:+.3f`,
# {glue:text}`rec_reference_high:+.3f`]). Nothing about how the canaries look tells them
# from the non-members, so what the duplicated model finds in them is its memory of
# those very pairs. This is
# {cite:t}`kandpal2022deduplicating`'s finding in a CLIP: memorisation is concentrated
# in the duplicated data. The true
# positive rate at 1% false positives stays small even at {glue:text}`top_k` copies
# ({glue:text}`tpr_32:.2f` here, {glue:text}`rec_tpr_top:.2f` on average over the
# record's worlds; exploratory claim 3): the lab's {glue:text}`epochs` epochs leave a
# trace in the
# average pair, not a certainty about any single one.

# %% [markdown]
# ## Interpret
#
# *What does the attacker see?* The scores themselves: the image-caption cosine of each
# pair under the duplicated model, by group.

# %%
s = result.scores[result.scores["model"] == "duplicated"]
groups = {
    "non-members": s["set"] == "nonmember",
    "seen once": s["set"] == "single",
    f"{TOP} copies": (s["set"] == "target") & (s["k"] == TOP),
}
fig, ax = plt.subplots(figsize=(7, 3.8))
for (label, mask), colour in zip(groups.items(), ["grey", "tab:blue", "tab:red"]):
    sns.kdeplot(s.loc[mask, "score"], ax=ax, label=label, color=colour,
                common_norm=False, fill=True, alpha=0.2)
ax.set_xlabel("image-caption cosine under the duplicated model")
ax.set_title(f"World {SEED}: duplicated pairs fit their captions better")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the densities.** The non-members and the pairs seen once overlap almost
# completely; the pairs with {glue:text}`top_k` copies are shifted to the right, but
# the shift is small next to the spread: the model has learned these exact pairs a
# little better, which is what a membership test detects on average over many pairs.
# Which pairs a model remembers is decided by the data, not by the pairs' content: the
# targets were drawn at random.

# %% [markdown]
# **What leaks: déjà vu.** A membership test asks "was this pair in the data?". A
# sharper question for privacy is what the model can tell about a training *image*
# from its caption alone {cite:p}`jayaraman2024deja`, measured as they do against a
# reference model that never saw the pair. For each canary we render
# {glue:text}`n_lookalikes` look-alikes: the same concept, domain and background, so
# the caption describes them exactly as well, but other renderings (another pose,
# jitter and clutter). Given only the caption, which image does the model prefer?
# `privacy.lookalike_ranks` (run by `run_world` above) counts the share of look-alikes
# each canary's own image outranks: about one half for a model that has not memorised
# it.

# %%
canary_dv = result.dejavu[result.dejavu["set"] == "canary"]
dv = (canary_dv.groupby(["model", "k"])["outranked"].agg(["mean", "sem"])
      .reset_index())
fig, ax = plt.subplots(figsize=(7, 3.8))
for model, colour, name in (("duplicated", "tab:red", "duplicated model"),
                            ("deduplicated", "tab:grey", "reference model")):
    d = dv[dv["model"] == model]
    ax.errorbar(d["k"], d["mean"], yerr=1.96 * d["sem"], fmt="o-", color=colour,
                capsize=3, label=name)
ax.axhline(0.5, color="grey", lw=0.8, ls=":", label="no memory")
ax.set_xscale("log", base=2)
ax.set_xticks(list(duplication.KS), [str(k) for k in duplication.KS])
ax.set_xlabel("copies of the pair in the duplicated corpus (k)")
ax.set_ylabel("look-alikes outranked (95% CI)")
ax.set_ylim(0, 1)
ax.set_title(f"World {SEED}: the caption recalls the very image it was paired with")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the curve.** Given the caption of a canary it saw {glue:text}`top_k` times,
# the duplicated model ranks the canary's own image above
# {glue:text}`outranked_duplicated_canary_32:.0%` of its look-alikes; the reference
# model, which never saw it, above {glue:text}`outranked_deduplicated_canary_32:.0%`,
# about what chance gives. The difference, {glue:text}`dejavu:.2f` (claim 4; record
# {glue:text}`rec_dejavu_estimate:.2f` [{glue:text}`rec_dejavu_low:.2f`,
# {glue:text}`rec_dejavu_high:.2f`]), is what the model has stored about those images
# beyond what their captions say: here the details of one rendering; for a private
# photo, whatever the photo shows that its caption does not.

# %% [markdown]
# ## Mitigate
#
# ### Exact deduplication
#
# Removing every repeated copy from the duplicated corpus leaves each target once, as
# in the clean corpus (`privacy.exact_duplicates` keeps the first row of every group of
# identical pairs; `duplication.corpora` checks that the result is the clean corpus
# plus one copy of each canary). So, for the targets, the world's clean model is the
# model trained on the deduplicated data (it lacks only the canaries' single copies,
# under 1% of the corpus).

# %%
dedup_by_k = duplication.auc_by_k(result, model="deduplicated")
pd.DataFrame({
    "duplicated model": by_k.set_index("group")["auc"],
    "deduplicated model": dedup_by_k.set_index("group")["auc"],
}).rename_axis("copies (k) before deduplication").round(3)

# %% [markdown]
# **Reading the table.** Trained without the copies, the model gives the former
# {glue:text}`top_k`-copy targets an AUC of {glue:text}`dedup_auc_top:.3f`,
# {glue:text}`dedup_drop:.3f` below the duplicated model (claim 5; record
# {glue:text}`rec_dedup_estimate:.3f` [{glue:text}`rec_dedup_low:.3f`,
# {glue:text}`rec_dedup_high:.3f`]). Both models score the same pairs, so the two AUCs
# are correlated (the pairs one model finds easy, the other does too), and the
# difference gets DeLong's paired standard error (`stats.paired_auc_difference`), here
# {glue:text}`dedup_drop_se:.3f`, smaller than the two AUCs' errors combined as if they
# were independent.
#
# **What it costs.** The deduplicated model's zero-shot accuracy differs from the
# duplicated model's by {glue:text}`dedup_acc_diff:+.3f` in this world, and by
# {glue:text}`rec_cost_estimate:+.3f` [{glue:text}`rec_cost_low:+.3f`,
# {glue:text}`rec_cost_high:+.3f`] on average over the record's worlds. We had
# planned to assert that the cost stays within {glue:text}`cost_margin:.2f` in every
# world, and it did in every development world; on the held-out worlds it did in
# {glue:text}`rec_cost_held` of {glue:text}`rec_worlds`, so the claim is exploratory
# (claim 6). The likely reason is not the copies' content: the duplicated corpus is
# {glue:text}`extra_share:.0%` longer (the targets' copies and the canaries), so its
# model trains that many more steps, and the lab's models, {glue:text}`epochs` epochs
# each, are still learning. A fair comparison would train a model on the deduplicated
# corpus for as many steps (an exercise for a course project).
#
# ### Near duplicates: SemDeDup
#
# Real copies are rarely exact: a photo is resized, re-encoded, re-captioned. SemDeDup
# {cite:p}`abbas2023semdedup` finds them in embedding space: k-means on normalised
# embeddings, then, within each cluster, drop every item whose cosine with any item
# before it exceeds $1 - \epsilon$ (`privacy.semdedup`, following the reference
# implementation). We run it on the clean model's image embeddings of the duplicated
# corpus and count how much it removes, and how many of the removed rows were copies.

# %%
emb = result.corpus_embeddings  # the clean model's, computed by run_world
copies = dup.table["dup_group"].to_numpy() >= 0
exact = privacy.exact_duplicates(dup.table)
rows = [{"method": "exact", "removed": int((~exact).sum()),
         "of them duplicated pairs": int((~exact & copies).sum())}]
similarity = privacy.semdedup_similarity(emb, duplication.SEMDEDUP_CLUSTERS, seed=SEED)
for eps in duplication.SEMDEDUP_EPS:
    keep = privacy.semdedup(emb, duplication.SEMDEDUP_CLUSTERS, eps,
                            similarity=similarity)
    rows.append({"method": f"SemDeDup eps={eps:g}", "removed": int((~keep).sum()),
                 "of them duplicated pairs": int((~keep & copies).sum())})
semdedup_table = pd.DataFrame(rows).set_index("method")
semdedup_table["share of the corpus"] = semdedup_table["removed"] / len(dup)
glue("exact_removed", rows[0]["removed"])
glue("emb_dim", emb.shape[1])
for i, r in enumerate(rows[1:]):
    glue(f"sd_removed_{i}", r["removed"])
    glue(f"sd_dups_{i}", r["of them duplicated pairs"])
    glue(f"sd_share_{i}", r["removed"] / len(dup))
    glue(f"sd_eps_{i}", duplication.SEMDEDUP_EPS[i])
semdedup_table.round(3)

# %% [markdown]
# **Reading the table.** Exact deduplication removes the
# {glue:text}`exact_removed` extra copies. SemDeDup with the smallest $\epsilon$
# removes {glue:text}`sd_removed_0` rows, {glue:text}`sd_dups_0` of them duplicated
# pairs: it finds the copies from the images alone (an image and its copy have cosine
# 1). With $\epsilon$ = {glue:text}`sd_eps_2` it removes
# {glue:text}`sd_share_2:.0%` of the corpus: in the lab's
# {glue:text}`emb_dim`-dimensional embedding
# space, renderings of one concept on one background are nearly the same point, so
# "alike" swallows most of the data. On LAION the near-duplicates SemDeDup removes at
# such thresholds are resized and re-captioned copies of one image; in a corpus whose
# concepts each look alike they are the examples a concept has. The threshold has to
# be chosen by looking at what it removes (Exercise 3).

# %% [markdown]
# ### The pitfall: non-members from another distribution
#
# An attack is only as good as its evaluation. Suppose we took the non-members from a
# *noisier* crawl ({glue:text}`shifted_noise:.0%` of captions name the wrong concept)
# and attacked the **clean** model, which saw every scored pair once and memorised
# none of them.

# %%
pd.DataFrame({
    "attack AUC": [row["dedup_auc_single"], 0.5 + row["pitfall_above_chance"]],
}, index=["non-members from the same generator",
          "non-members from a noisier crawl"]).round(3)

# %% [markdown]
# **Reading the table.** With i.i.d. non-members the attack is at chance
# ({glue:text}`dedup_auc_single:.3f`); with the shifted ones it "detects membership"
# with an AUC {glue:text}`pitfall_above_chance:.3f` above chance (claim 7; record
# {glue:text}`rec_pitfall_estimate:.3f` [{glue:text}`rec_pitfall_low:.3f`,
# {glue:text}`rec_pitfall_high:.3f`]). Nothing about the model changed: wrong captions
# simply fit their images worse. This is the flaw {cite:t}`das2025blind` found in
# published evaluations of attacks on foundation models, and the reason this chapter
# draws its non-members from the members' own generator.

# %% [markdown]
# ## Checks
#
# Each asserted claim (the duplication effect, the single-pair and reference-model
# controls, the déjà-vu recall, deduplication's effect and the pitfall) is decided in
# the world of this run
# on its own, with an interval over the pairs it compares. The table shows the
# estimate, the interval, the rule and how many standard errors the estimate lies
# beyond the rule's bound; exploratory claims are shown, not asserted.

# %%
table = run_worlds(lambda s: duplication.statistics(results[s]), SEEDS)
show_verdicts(duplication.SPEC.verdicts(table))

# %% [markdown]
# The cell below (hidden in the book; click to show) asserts every asserted claim from
# this table.

# %% tags=["hide-cell"]
duplication.SPEC.check(table)
print(f"all asserted claims hold; wall time {time.perf_counter() - start:.0f} s")

# %% [markdown]
# ## Summary
#
# - A lab CLIP gives away which pairs it was trained on in proportion to how often it
#   saw them: the attack's AUC rises with the number of copies, by
#   {glue:text}`rec_gain_estimate:.2f` from one copy to {glue:text}`top_k` on average
#   over the record's worlds.
# - A pair seen once is all but invisible to the attack.
# - The same canaries are at chance under a reference model that never saw them: the
#   attack finds the duplicated model's memory of the pairs, not something in how the
#   pairs look.
# - From a duplicated pair's caption alone, the model picks out the pair's own image
#   among look-alikes that fit the caption as well: it stores details of the image.
# - Removing the copies removes the leak: the deduplicated model treats the former
#   duplicated pairs like any other. It costs a little zero-shot accuracy in the lab,
#   most likely because the copies also meant more training steps.
# - SemDeDup finds copies from embeddings alone, and, with a larger $\epsilon$,
#   near-duplicates too.
# - An attack must be judged against non-members from the members' own distribution;
#   otherwise it measures the shift between the two sets, not the model.
#
# ## Exercises
#
# 1. **The attack at a strict threshold.** From `result.scores`, compute the TPR at
#    0.1% and at 10% false positives for each duplication level
#    (`privacy.attack_metrics(..., fpr=...)`). At which level does the attack find more
#    than one member in ten at 1% false positives?
# 2. **A blind attack.** Without any model, tell the shifted non-members from the
#    members using the captions alone (hint: does the caption name the concept of the
#    image?). How does your blind AUC compare with the attack's on the clean model?
# 3. **How far should SemDeDup go?** For $\epsilon$ from $10^{-4}$ to $0.1$, count the
#    rows SemDeDup removes from the *clean* corpus (no copies at all). What is it
#    removing there?
# 4. **A reference model.** A stronger attack compares a pair's score under the target
#    model with its score under a reference model that never saw it (the clean model,
#    for the canaries). Score every canary by the difference and recompute the AUC per
#    duplication level. Does it beat the plain cosine?
#
# Worked solutions, runnable in every profile and hidden until you open them:
# {doc}`solutions/06_duplication_privacy_solutions`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
