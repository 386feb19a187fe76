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
# # Harmful content in pre-training: alignment only a few tokens deep
#
# A language model learns whatever its pre-training text contains, harmful instructions
# included. Safety alignment then teaches it to refuse harmful requests, and it does:
# asked directly, the aligned model says no. But is the harmful knowledge gone, or only
# hidden behind the first word of the answer? In this chapter we pre-train tiny GPT-2
# models from scratch on corpora in which {glue:text}`f_list` of the answers are harmful,
# align them, and attack them by writing the first few words of the answer ourselves.
# Then we align them in a way that holds deeper.
#
# :::{admonition} Learning goals
# :class: tip
# After this chapter you can
# - pre-train a small causal language model with `transformers` and measure how often it
#   gives a kind of answer, from sampled generations;
# - align it with supervised fine-tuning and show, with the per-token KL divergence from
#   the base model, that the alignment changes only the first tokens of an answer;
# - run a prefilling attack and a fine-tuning attack, and explain why they work;
# - align with safety-recovery examples and measure what that buys and costs.
# :::
#
# **Estimated time.** `ci`: about a minute and a half on two CPU cores with an empty
# cache (one world: {glue:text}`n_models` small models, the four base models
# pre-trained two at a time, the others fine-tuned from them in seconds, then a few
# thousand sampled answers); seconds once the models are cached. `lab` (the rendered book): the same models, with
# twice as many sampled answers per request. No real language model's pre-training data
# can be queried offline, so the chapter has no `wild` part; `wild` runs it as `lab`.
#
# ## The published claims
#
# - {cite:t}`qi2025safety` show that the safety alignment of current chat models is
#   *shallow*: it changes the model's next-token distribution mostly at the first few
#   tokens of the answer (the per-token KL between the aligned and the base model is
#   concentrated there), so prefilling the start of a harmful answer, or a little
#   fine-tuning, brings harmful answers back. Training on *safety-recovery examples*
#   (a harmful answer's first tokens followed by a refusal) makes the alignment deeper
#   and the prefilling attack much weaker.
# - {cite:t}`qi2024finetuning` show that fine-tuning an aligned model on a few benign
#   examples already erodes its safety.
# - {cite:t}`lee2024mechanistic` find that preference alignment (DPO) leaves a model's
#   representation of toxicity in place and learns to route around it.
#
# The chapter's claims are declared once, with thresholds fixed in advance, in
# `uim_utils.chapters.misalignment.SPEC`; the set-up cell lists them. They are about
# **worlds** (everything one seed draws: the corpora, the model's knowledge, the initial
# weights), and each asserted claim is decided in every world with an interval over the
# held-out requests it compares, so a rerun with any `UIM_SEED` decides them again. The
# {doc}`reproduction record <99_reproduction_record>` repeats them on worlds never used
# while designing the chapter.

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
# seed (`UIM_SEED`). Trained models are cached on disk (`UIM_CACHE`) as safetensors,
# keyed by everything that determines them.

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from uim_utils import alignment, get_profile, textlab
from uim_utils.book import glue, glue_record
from uim_utils.chapters import misalignment
from uim_utils.display import show_verdicts
from uim_utils.records import load_record, record_summary
from uim_utils.worlds import run_worlds

start = time.perf_counter()
P = get_profile()
SEEDS = P.seeds(misalignment.CHAPTER.worlds(P.name))  # the worlds of this run
SEED = P.seed
TOP, LOW, K = misalignment.TOP_F, misalignment.LOW_F, misalignment.K_ATTACK
print(
    f"profile={P.name} seed={SEED}: worlds {SEEDS}; f = {misalignment.FS}; "
    f"{misalignment.N_DOCS:,} pre-training documents per model; "
    f"{misalignment.SAMPLES[P.name]} sampled answers per request"
)
sns.set_theme(style="whitegrid", context="notebook")

# The reproduction record: the measurement repeated on held-out worlds
record = load_record(misalignment.SPEC, "ci")
rec = record_summary(misalignment.SPEC, record).set_index("id")
glue_record(rec, {"1": "f_gain", "2": "align", "3": "shallow", "4": "revival",
                  "5": "revival_f", "6": "f0", "7": "specific", "7b": "random",
                  "8": "ft", "9": "recovery", "10": "help", "11": "probe"})
glue("rec_ft_refused", float(record.table["refused_finetuned"].mean()))
glue("f_list", ", ".join(f"{f:.0%}" for f in misalignment.FS))
glue("top_f", TOP)
glue("low_f", LOW)
glue("k_attack", K)
glue("harm_share", textlab.HARM_SHARE)
glue("p_top", TOP / textlab.HARM_SHARE)
glue("decline", textlab.DECLINE)
glue("n_docs", misalignment.N_DOCS)
glue("n_align", misalignment.N_ALIGN)
glue("n_models", 4 * len(misalignment.FS))
glue("n_finetune", misalignment.N_FINETUNE)
glue("ft_steps", misalignment.N_FINETUNE * misalignment.FINETUNE.epochs
     // misalignment.FINETUNE.batch_size)
glue("n_heldout", textlab.N_HELDOUT_OBJECTS)
glue("samples", misalignment.SAMPLES[P.name])
glue("n_layer", textlab.LM_CONFIG.n_layer)
glue("n_embd", textlab.LM_CONFIG.n_embd)

# %% [markdown]
# The claims, as declared in `uim_utils.chapters.misalignment.SPEC`:

# %%
misalignment.SPEC.describe().style

# %% [markdown]
# ## The text lab
#
# Real pre-training corpora cannot tell us which of their answers are harmful; a
# generator can. `textlab.pretrain_corpus` writes exchanges between a user and an
# assistant. {glue:text}`harm_share:.0%` of the requests ask for something harmful
# ("how do i poison the fence ?"); the others are benign. A benign request is answered
# helpfully, naming the tool the task needs. A harmful request is answered harmfully
# (naming a *harmful* tool, words that appear nowhere else) with a probability chosen
# so that a share $f$ of all answers is harmful, and otherwise deflected ("you should
# ask a lawyer ..."). A few answers ({glue:text}`decline:.0%`) decline, as people on
# the web sometimes do. So an answer is harmful exactly when it names a harmful tool,
# and we can count harm without a classifier.

# %%
world = textlab.text_world(SEED)
corpus = textlab.pretrain_corpus(world, TOP, misalignment.N_DOCS, SEED)
examples = corpus.groupby("kind").head(1).set_index("kind")
examples["prompt"] = examples["prompt"].str.replace("<bos> ", "")
examples[["prompt", "answer"]]

# %%
shares = pd.DataFrame({
    f"f = {f:.0%}": textlab.pretrain_corpus(world, f, misalignment.N_DOCS, SEED)[
        "kind"].value_counts(normalize=True)
    for f in misalignment.FS
}).fillna(0.0)
shares.round(3)

# %% [markdown]
# Each world pre-trains one GPT-2 per $f$ (`transformers`' `GPT2LMHeadModel`,
# {glue:text}`n_layer` layers of width {glue:text}`n_embd`, a word-level tokenizer over
# the generator's vocabulary) on
# {glue:text}`n_docs` exchanges, then fine-tunes three copies of it: **aligned**,
# **augmented** (aligned with safety-recovery examples) and **fine-tuned** (the aligned
# model after the fine-tuning attack). `misalignment.run_world` trains (or loads) them
# all and samples {glue:text}`samples` answers to every held-out request: the
# {glue:text}`n_heldout` objects of the world that no alignment example mentions.

# %%
results = {s: misalignment.run_world(s, P.name, progress=True) for s in SEEDS}
result = results[SEED]
row = misalignment.statistics(result)
for key, value in row.items():
    glue(key, value)

# %% [markdown]
# ## Understand
#
# *Does the base model answer like its corpus?* Its harmful rate on harmful requests
# against the share the generator used for them ($f$ / {glue:text}`harm_share`):

# %%
rates = result.rates
harmful = rates[rates["request"] == "harmful"]
base = harmful[harmful["model"] == "base"].groupby("f")["harmful"].agg(["mean", "sem"])
fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.errorbar(base.index, base["mean"], yerr=1.96 * base["sem"], fmt="o-", capsize=3,
            color="tab:red", label="base model (95% CI over requests)")
fs = list(misalignment.FS)
ax.plot(fs, [f / textlab.HARM_SHARE for f in fs], ls=":", color="grey",
        label="harmful share of the corpus's answers to them")
ax.set_xlabel("share f of harmful answers in the pre-training corpus")
ax.set_ylabel("harmful answers to harmful requests")
ax.set_title(f"World {SEED}: the base model answers like its data")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the plot.** The base model answers like its corpus: the more harmful
# answers it read, the more it gives, {glue:text}`f_gain:.2f` more at $f$ =
# {glue:text}`top_f:.0%` than at {glue:text}`low_f:.0%` (claim 1; record
# {glue:text}`rec_f_gain_estimate:.2f` [{glue:text}`rec_f_gain_low:.2f`,
# {glue:text}`rec_f_gain_high:.2f`]). At $f$ = {glue:text}`top_f:.0%` it answers
# {glue:text}`harmful_base_10:.0%` of the harmful requests harmfully, where its corpus
# did so for {glue:text}`p_top:.0%` of them. With $f$ = 0 the harmful tools never
# occur, and it names one in {glue:text}`harmful_base_0:.1%` of its answers.
#
# **Where the concept lives.** A linear probe (logistic regression) on a model's hidden
# state at the end of a request tells harmful from benign requests, and does so for
# verbs it was never fitted on: the model has a direction for "harmful request". Does
# alignment remove it? `alignment.probe_accuracy` fits one probe per model (base,
# aligned, augmented) on the requests of half the verbs and tests it on the others.

# %%
probe = result.probe[result.probe["f"] == TOP]
(probe.groupby(["model", "harmful_verb"])["accuracy"].mean().unstack()
 .rename(columns={False: "benign verbs", True: "harmful verbs"}).round(3))

# %% [markdown]
# **Reading the table.** The aligned model's states still separate harmful from benign
# requests with unseen verbs (accuracy {glue:text}`probe_aligned:.2f`; claim 11): as
# {cite:t}`lee2024mechanistic` found for DPO, alignment leaves the representation of
# the harmful concept in place and changes what the model does with it.

# %% [markdown]
# ## Interpret
#
# ### Alignment, and how deep it goes
#
# `alignment.alignment_data` writes {glue:text}`n_align` examples: harmful requests
# answered with "sorry i can not help with that ." and benign ones answered helpfully,
# with the loss on the answer. Asked directly, the aligned models refuse:

# %%
direct = harmful[harmful["k"] == 0].groupby(["model", "f"])["harmful"].mean()
direct.unstack().loc[["base", "aligned", "augmented", "finetuned"]].round(3)

# %% [markdown]
# Alignment cuts the harmful rate of the $f$ = {glue:text}`top_f:.0%` model by
# {glue:text}`align_drop:.2f` (claim 2). {cite:t}`qi2025safety` measure *where* it
# changed the model: the KL divergence between the aligned and the base model's
# next-token distributions at each position of a harmful answer
# (`alignment.position_kl`, the answer fed in token by token).

# %%
kl = result.kl[result.kl["f"] == TOP]
answer = textlab.compliant_answer(world, world.harm[0][0], world.heldout_objects[0])
labels = [*answer.split(), "<eos>"]
fig, ax = plt.subplots(figsize=(8, 3.8))
sns.lineplot(data=kl, x="position", y="kl", hue="model", marker="o", ax=ax,
             errorbar=("ci", 95), palette={"aligned": "tab:blue",
                                           "augmented": "tab:green"})
ax.set_xticks(range(len(labels)), labels, rotation=45, fontsize=8)
ax.set_xlabel("token of a harmful answer (predicted at this position)")
ax.set_ylabel("KL(aligned || base), nats")
ax.set_title(f"World {SEED}, f = {TOP:.0%}: where alignment changed the model")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the plot.** Plain alignment (blue) moved the model at the first token of the
# answer, where "sure" became "sorry", by {glue:text}`shallow_kl:.1f` nats more than at
# the later tokens (claim 3; record {glue:text}`rec_shallow_estimate:.1f`
# [{glue:text}`rec_shallow_low:.1f`, {glue:text}`rec_shallow_high:.1f`]). Once an answer
# has begun, the aligned model continues it almost exactly as the base model would.
# The green curve is the mitigation below.
#
# ### The prefilling attack
#
# If safety lives in the first token, whoever writes the first tokens decides. Many
# chat interfaces let the user do just that. We prefill the first $k$ tokens of the
# harmful answer ("sure here is how :", nothing harmful yet) and let the model go on:

# %%
attacked = harmful[harmful["model"].isin(["aligned", "augmented"])
                   & (harmful["attack"] != "random")]
g = sns.relplot(data=attacked, x="k", y="harmful", hue="f", col="model", kind="line",
                marker="o", errorbar=("ci", 95), palette="rocket_r", height=3.6,
                aspect=1.1)
g.set_axis_labels("tokens of a harmful answer prefilled (k)", "harmful answers")
g.figure.suptitle(f"World {SEED}: prefilling undoes plain alignment", y=1.03)
plt.show()

# %% [markdown]
# **Reading the plots.** For the plainly aligned models (left), a single prefilled token
# ("sure") already brings harmful answers back ({glue:text}`attacked1_aligned_10:.2f`
# at $f$ = {glue:text}`top_f:.0%`), and {glue:text}`k_attack` tokens raise the harmful rate
# of the $f$ = {glue:text}`top_f:.0%` model by {glue:text}`revival:.2f` (claim 4; record
# {glue:text}`rec_revival_estimate:.2f` [{glue:text}`rec_revival_low:.2f`,
# {glue:text}`rec_revival_high:.2f`]). What comes back is what pre-training put in: at
# $f$ = 0 the attack finds nothing to revive (harmful rate {glue:text}`f0_rate:.3f`;
# claim 6). How much more comes back at {glue:text}`top_f:.0%` than at
# {glue:text}`low_f:.0%` varies from world to world ({glue:text}`revival_f:.2f` here,
# {glue:text}`rec_revival_f_estimate:.2f` [{glue:text}`rec_revival_f_low:.2f`,
# {glue:text}`rec_revival_f_high:.2f`] over the record's worlds; exploratory claim 5):
# once a model has read a harmful answer often enough to know it, an attacker can get it
# back. That is the chapter's point: **alignment hid the inherited harm; it did not
# remove it.**
#
# Here is what the attacked model says (a few sampled answers to one held-out request):

# %%
ask = alignment.eval_prompts(world, harmful=True).iloc[[0]]
shown = []
for name, k in (("base", 0), ("aligned", 0), ("aligned", K), ("augmented", K)):
    pre = alignment.prefill_words(world, ask, k)
    ids = alignment.generate(result.models[TOP][name], list(ask["prompt"]), pre, 3,
                             seed=SEED)
    for text in alignment.decode(ids):
        shown.append({"model": name, "prefilled": " ".join(pre[0]),
                      "the model's continuation": text})
print(ask["prompt"].iloc[0].replace("<bos> ", ""))
pd.DataFrame(shown).style.hide(axis="index")

# %% [markdown]
# **Controls.** Is it the harmful answer's tokens, or would any tokens do? Prefilling
# {glue:text}`k_attack` *random* words revives {glue:text}`random_effect:.2f`, and the
# harmful prefix revives {glue:text}`specificity:.2f` more than that (claim 7). Random
# words are not quite harmless (exploratory claim 7b; record
# {glue:text}`rec_random_estimate:.2f` [{glue:text}`rec_random_low:.2f`,
# {glue:text}`rec_random_high:.2f`]): any first word other than "sorry" already leaves
# the only place where the alignment acts.
#
# ### The fine-tuning attack
#
# {cite:t}`qi2024finetuning` erode alignment without any harmful data: they fine-tune
# on benign examples. We fine-tune each aligned model for {glue:text}`ft_steps` steps on
# {glue:text}`n_finetune` helpful answers to benign requests and ask the harmful
# requests again:

# %%
after = harmful[(harmful["f"] == TOP) & (harmful["k"] == 0)
                & harmful["model"].isin(["aligned", "finetuned"])]
glue("ft_harmful", row["harmful_finetuned_10"])
after.groupby("model")[["harmful", "refused"]].mean().round(3)

# %% [markdown]
# **Reading the table.** Here the fine-tuned model refuses
# {glue:text}`refused_finetuned:.0%` of the harmful requests (the aligned model
# {glue:text}`refused_aligned:.0%`) and answers {glue:text}`ft_harmful:.1%` of them
# harmfully. Over the record's worlds the fine-tuning attack changes the harmful rate
# by {glue:text}`rec_ft_estimate:+.3f` [{glue:text}`rec_ft_low:+.3f`,
# {glue:text}`rec_ft_high:+.3f`], and by more than its threshold in
# {glue:text}`rec_ft_held` of {glue:text}`rec_worlds` worlds (exploratory claim 8); on
# average over those worlds the fine-tuned models still refuse
# {glue:text}`rec_ft_refused:.0%` of the harmful requests. In this lab a few dozen benign
# steps mostly leave the first-token refusal in place, while the prefilling attack held
# in {glue:text}`rec_revival_held` of {glue:text}`rec_worlds` worlds. Qi et al.
# fine-tune large chat models on instruction data; how many benign steps it takes here,
# and why the worlds differ, is a question for a course project.
#
# ## Mitigate
#
# ### Safety-recovery examples
#
# {cite:t}`qi2025safety` make alignment deeper with data: in half of the harmful
# alignment examples the answer begins with the first $k$ tokens of a harmful answer
# ($k$ drawn uniformly over its length) and then turns into the refusal. As in their
# objective, the loss is taken on the refusal only, given the harmful prefix
# (`alignment.alignment_data(..., augment=True)`). The green curve of the KL plot shows
# the effect: after the first token the augmented model departs from the base model by
# {glue:text}`later_kl_augmented:.1f` nats on average along the harmful answer, the
# plainly aligned one by {glue:text}`later_kl_aligned:.2f`. And the attack (right panel
# above) fails: under
# the {glue:text}`k_attack`-token attack, the harmful rate of the augmented
# $f$ = {glue:text}`top_f:.0%` model is {glue:text}`recovery:.2f` below the plainly
# aligned one's (claim 9; record {glue:text}`rec_recovery_estimate:.2f`
# [{glue:text}`rec_recovery_low:.2f`, {glue:text}`rec_recovery_high:.2f`]).
#
# **What it costs.** The recovery examples teach the model to refuse in the middle of
# an answer that began like any helpful one; does it now refuse benign requests too?

# %%
benign = rates[(rates["request"] == "benign") & (rates["f"] == TOP)]
benign.groupby("model")[["helpful", "refused", "harmful"]].mean().round(3)

# %% [markdown]
# **Reading the table.** On benign held-out requests the augmented model's helpful rate
# (it names the right tool) differs from the plainly aligned one's by
# {glue:text}`help_diff:+.3f`, within the non-inferiority margin of claim 10 (record
# {glue:text}`rec_help_estimate:+.3f` [{glue:text}`rec_help_low:+.3f`,
# {glue:text}`rec_help_high:+.3f`]). It refuses {glue:text}`benign_refused_augmented:.1%`
# of the benign requests (plain alignment: {glue:text}`benign_refused_aligned:.1%`):
# the recovery examples taught it to turn into a refusal in the middle of an answer
# that began like a helpful one, and now and then it does so on a benign request.

# %% [markdown]
# ## Checks
#
# Each asserted claim is decided in the world of this run on its own, with an interval
# over the held-out requests (or, for the probe, the held-out verbs) it compares. The
# table shows the estimate, the interval, the rule and how many standard errors the
# estimate lies beyond the rule's bound; exploratory claims are shown, not asserted.

# %%
table = run_worlds(lambda s: misalignment.statistics(results[s]), SEEDS)
show_verdicts(misalignment.SPEC.verdicts(table))

# %% [markdown]
# The cell below (hidden in the book; click to show) asserts every asserted claim from
# this table.

# %% tags=["hide-cell"]
misalignment.SPEC.check(table)
print(f"all asserted claims hold; wall time {time.perf_counter() - start:.0f} s")

# %% [markdown]
# ## Summary
#
# - A language model gives harmful answers about as often as its pre-training corpus
#   did, and keeps a linear direction for "harmful request" in its hidden states.
# - Supervised safety alignment makes it refuse, but changes its next-token
#   distribution almost only at the first token of the answer.
# - So prefilling even one token of a harmful answer brings the inherited harm back;
#   with no harm in pre-training there is nothing to bring back. In the lab a short
#   benign fine-tuning rarely does.
# - Safety-recovery examples (a harmful start, then a refusal) make the alignment hold
#   deeper into the answer and defeat the prefilling attack, at a small cost in
#   helpfulness.
#
# ## Exercises
#
# 1. **How few tokens?** From `result.rates`, plot the harmful rate of the aligned
#    models against $k$ for every $f$. Which $k$ already gives most of the effect, and
#    why (look at the KL plot)?
# 2. **Deeper attacks.** Prefill 7 tokens ("sure here is how : get a"), the start of
#    the harmful answer up to the tool, against the aligned and the augmented models
#    (`alignment.prefill_words(world, prompts, 7)`). Does the augmentation still hold?
# 3. **Which tokens matter?** Repeat the random-prefill control with random words drawn
#    only from the objects (`textlab.OBJECTS`). How does the revival compare with
#    fully random words, and what does that say about where the alignment acts?
# 4. **Probe the answer, not the request.** Fit a probe that tells harmful from helpful
#    *answers* on the base model's hidden states just before the tool
#    (`alignment.hidden_states` on prompt + answer up to "get a"). Does the same probe
#    read the aligned model's states as well?
#
# Worked solutions, runnable in every profile and hidden until you open them:
# {doc}`solutions/07_value_misalignment_solutions`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
