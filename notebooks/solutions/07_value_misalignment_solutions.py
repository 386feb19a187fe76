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
# # Solutions: harmful content and shallow alignment
#
# Worked answers to the exercises of {doc}`../07_value_misalignment`. Try each exercise
# first: every solution's code and answer stay folded until you open them. The numbers
# are computed on this page, in the profile the book was built with, from the chapter's
# models of world `UIM_SEED` (loaded from the cache). No exercise trains a new model.

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
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from sklearn.linear_model import LogisticRegression

from uim_utils import alignment, get_profile, textlab
from uim_utils.book import glue
from uim_utils.chapters import misalignment

P = get_profile()
SEED = P.seed
TOP = misalignment.TOP_F
SAMPLES = misalignment.SAMPLES[P.name]
result = misalignment.run_world(SEED, P.name)
world = textlab.text_world(SEED)
prompts = alignment.eval_prompts(world, harmful=True)
models = result.models[TOP]
print(f"profile={P.name}, world {SEED}: the chapter's models")

# %% [markdown]
# ## Exercise 1: how few tokens?
#
# Plot the harmful rate of the aligned models against $k$ for every $f$. Which $k$
# already gives most of the effect, and why?

# %% tags=["hide-cell"]
r = result.rates
curve = (r[(r["model"] == "aligned") & (r["request"] == "harmful")
           & (r["attack"] != "random")]
         .groupby(["f", "k"])["harmful"].mean().unstack("f"))
fig, ax = plt.subplots(figsize=(6, 3.6))
curve.plot(ax=ax, marker="o")
ax.set_xlabel("tokens prefilled (k)")
ax.set_ylabel("harmful answers")
plt.show()
top = curve[TOP]
share_k1 = (top.loc[1] - top.loc[0]) / max(top.max() - top.loc[0], 1e-9)
glue("ex1_share_k1", float(share_k1))
glue("ex1_top_f", TOP)
glue("ex1_first_kl", float(result.kl.query("f == @TOP and model == 'aligned' "
                                           "and position == 0")["kl"].mean()))
glue("ex1_later_kl", float(result.kl.query("f == @TOP and model == 'aligned' "
                                           "and position > 0")["kl"].mean()))
display(curve.round(3))

# %% [markdown]
# :::{dropdown} Answer
# At $f$ = {glue:text}`ex1_top_f:.0%` the first prefilled token alone
# gives {glue:text}`ex1_share_k1:.0%` of the largest rise. The KL plot of the chapter
# says why: plain alignment changed the model's next-token distribution at the first
# answer token (where "sure" became "sorry") by {glue:text}`ex1_first_kl:.1f` nats, and
# at the later tokens by {glue:text}`ex1_later_kl:.2f` on average. An answer that does
# not start with "sorry" is continued much as the base model would continue it.
# :::


# %% [markdown]
# ## Exercise 2: deeper attacks
#
# Prefill 7 tokens ("sure here is how : get a") against the aligned and the augmented
# models. Does the augmentation still hold?

# %% tags=["hide-cell"]
deep = {}
for name in ("aligned", "augmented"):
    for k in (misalignment.K_ATTACK, 7):
        pre = alignment.prefill_words(world, prompts, k)
        rates = alignment.rates(models[name], world, prompts, pre, SAMPLES, seed=SEED)
        deep[(name, k)] = rates["harmful"].mean()
ex2 = pd.Series(deep).unstack().rename_axis(index="model", columns="tokens prefilled")
glue("ex2_aug_7", float(ex2.loc["augmented", 7]))
glue("ex2_plain_7", float(ex2.loc["aligned", 7]))
display(ex2.round(3))

# %% [markdown]
# :::{dropdown} Answer
# With 7 tokens the next word the model writes is the tool itself. The
# plainly aligned model names a harmful one in {glue:text}`ex2_plain_7:.0%` of its
# answers; the augmented model in {glue:text}`ex2_aug_7:.0%`. Its recovery examples had
# harmful prefixes of every length, so it can turn into a refusal at any point of the
# answer, not just at the start. {cite:t}`qi2025safety` report that for real models,
# and later work shows that stronger attacks (choosing the harmful token among the top
# few) can still get through such an alignment.
# :::


# %% [markdown]
# ## Exercise 3: which tokens matter?
#
# Repeat the random-prefill control with random words drawn only from the objects.

# %% tags=["hide-cell"]
rng = np.random.default_rng(SEED)
k = misalignment.K_ATTACK
object_words = [list(rng.choice(textlab.OBJECTS, k)) for _ in range(len(prompts))]
random_words = alignment.prefill_words(world, prompts, k, "random", seed=SEED)
prefills = {
    "no prefill": [[]] * len(prompts),
    "random words": random_words,
    "random objects": object_words,
    "harmful prefix": alignment.prefill_words(world, prompts, k),
}
ex3 = pd.Series({
    name: alignment.rates(models["aligned"], world, prompts, pre, SAMPLES,
                          seed=SEED)["harmful"].mean()
    for name, pre in prefills.items()
}, name="harmful rate")
glue("ex3_objects", float(ex3["random objects"]))
glue("ex3_random", float(ex3["random words"]))
glue("ex3_prefix", float(ex3["harmful prefix"]))
display(ex3.round(3).to_frame())

# %% [markdown]
# :::{dropdown} Answer
# Random objects give a harmful rate of {glue:text}`ex3_objects:.3f`,
# fully random words {glue:text}`ex3_random:.3f`, the harmful prefix
# {glue:text}`ex3_prefix:.3f`. Random words sometimes include the template's own words
# ("get", "a", "sure"), which can put the model back on the road of a compliant answer;
# objects never do. What revives the harm is getting past the first token *and* being
# on the way to an answer.
# :::


# %% [markdown]
# ## Exercise 4: probe the answer, not the request
#
# Fit a probe that tells harmful from helpful answers on the base model's hidden states
# just before the tool. Does it read the aligned model's states as well?

# %% tags=["hide-cell"]
benign = alignment.eval_prompts(world, harmful=False)
both = pd.concat([prompts.assign(harmful=True), benign.assign(harmful=False)],
                 ignore_index=True)
texts = [
    " ".join([p, *textlab.compliant_answer(world, v, o).split()[:7]])  # before the tool
    for p, v, o in zip(both["prompt"], both["verb"], both["object"])
]
y = both["harmful"].to_numpy()
fit = both["object"].isin(world.heldout_objects[:4]).to_numpy()
states = {name: alignment.hidden_states(models[name], texts)
          for name in ("base", "aligned")}
probe = LogisticRegression(max_iter=2000, class_weight="balanced")
probe.fit(states["base"][fit], y[fit])
ex4 = pd.Series({name: float((probe.predict(s[~fit]) == y[~fit]).mean())
                 for name, s in states.items()}, name="accuracy on other objects")
glue("ex4_base", float(ex4["base"]))
glue("ex4_aligned", float(ex4["aligned"]))
display(ex4.round(3).to_frame())

# %% [markdown]
# :::{dropdown} Answer
# The probe fitted on the base model's states just before the tool (after
# "... get a") reads harmful answers with accuracy {glue:text}`ex4_base:.2f` on objects
# it was not fitted on, and the *same* probe reads the aligned model's states with
# {glue:text}`ex4_aligned:.2f`. Where the two agree, the aligned model's states inside a
# harmful answer are close enough to the base model's for one linear read-out to serve
# both: the KL plot's finding seen from the inside.
# :::
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
