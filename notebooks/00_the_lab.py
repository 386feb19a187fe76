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
# # The lab: a pre-training world whose flaws we dial
#
# Nobody can re-train CLIP on a LAION with the captions fixed, so on real models we can
# only *correlate* a flaw of the data with a weakness of the model. This book adds a
# second world where we can do the experiment: a synthetic "web" of image-caption pairs
# whose every flaw is a dial (how long-tailed the concepts are, how many captions are
# wrong, how many pairs are duplicated or poisoned, ...), and a tiny but real `open_clip`
# CLIP {cite:p}`ilharco2021openclip` pre-trained from scratch on it in well under a
# minute of CPU time. Turning one dial while holding the rest fixed shows *cause*, and
# lets every chapter run a dose-response curve that nobody can run on LAION
# {cite:p}`schuhmann2022laion5b`.
#
# :::{admonition} Learning goals
# :class: tip
# After this chapter you can
# - describe the lab's concept world: concepts, domains, names and synonyms, captions;
# - build a pre-training corpus with chosen flaws and audit it from its data card, with
#   pandas or with SQL (DuckDB) over its Parquet file;
# - pre-train a lab CLIP (seeded, cached) and evaluate it zero-shot with the same code
#   the book uses for real LAION checkpoints;
# - decide a claim over **worlds** (everything one seed draws), with the interval over
#   the unit the claim is about;
# - say what the lab can and cannot tell us about real foundation models.
# :::
#
# **Estimated time.** `ci`: one to two minutes on two CPU cores, depending on the
# machine's speed (two worlds, most of it pre-training); `lab` (the rendered book): one
# and a half to three minutes (three worlds); a rerun with a warm cache: a few seconds.
#
# ## The published claim
#
# Contrastive language-image pre-training learns, from captions alone, an image encoder
# and a text encoder whose similarity classifies images into classes named in a prompt,
# with no labelled training data ("zero-shot") {cite:p}`radford2021clip`. The lab is
# useful only if this holds at its scale, and in *every* world, not just a lucky one: a
# **world** is everything one seed draws (the concepts, the corpus, the model's
# initial weights). The claims, declared once in `uim_utils.chapters.lab.SPEC` with
# thresholds fixed before the first run (the cell after the set-up lists them):
#
# 1. **Zero-shot works in the lab**, on every image domain it saw in pre-training, in
#    every world: far above chance, with the interval over the world's concepts.
# 2. **Domains seen more are learnt better**: photos (most of the pairs) beat the other
#    domains (a small share each).
# 3. **Control**: the same model before pre-training is at chance, within a margin
#    fixed in advance (an equivalence test, not "no significant difference").
#
# The `Checks` cell also asserts that the dials do what they say (a corpus asked for
# 10% noisy captions, 1% duplicated pairs and 20 poisoned pairs has exactly that) and
# that asking again for a model is a cache hit with the same weights. The
# {doc}`reproduction record <99_reproduction_record>` repeats the claims on worlds never
# used while the lab was designed.

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
# seed (`UIM_SEED`). Trained models are cached under `UIM_CACHE`, keyed by everything
# that determines them, so the chapters that ask for the same model share it.

# %%
import tempfile
from pathlib import Path

import duckdb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from uim_utils import get_profile, lab
from uim_utils.book import glue
from uim_utils.chapters import lab as lab_chapter
from uim_utils.corpus import CorpusConfig, build_corpus
from uim_utils.display import show_verdicts
from uim_utils.models import FULL_VOCAB_SIZE, count_parameters
from uim_utils.plotting import image_grid, rank_frequency
from uim_utils.pretrain import pretrain
from uim_utils.world import DOMAINS
from uim_utils.worlds import run_worlds

P = get_profile()
N_CONCEPTS = lab.N_CONCEPTS
N_PAIRS = lab.N_PAIRS
SEEDS = P.seeds(lab_chapter.CHAPTER.worlds(P.name))  # the worlds of this run
print(f"profile={P.name} seed={P.seed}: worlds {SEEDS}, {N_CONCEPTS} concepts, "
      f"{N_PAIRS:,} pairs, {lab.EPOCHS} epochs of {lab.MODEL}")
glue("n_concepts", N_CONCEPTS)
glue("photo_share", lab_chapter.DOMAIN_SHARES["photo"])
glue("other_share", lab_chapter.OTHER_SHARE)
sns.set_theme(style="whitegrid", context="notebook")

# %% [markdown]
# The claims, as declared in `uim_utils.chapters.lab.SPEC`:

# %%
lab_chapter.SPEC.describe().style

# %% [markdown]
# ## Understand
#
# ### The world
#
# The world has {glue:text}`n_concepts` **concepts**. Each is a cell of a grid of visual
# attributes: a shape with 0 to 6 lobes, with or without a hole, round or elongated, one
# of eight hues, plain or striped at one of two frequencies. Concepts that share all but
# one attribute are the world's hard confusions, as a husky and a wolf are in ImageNet.
# Every image draws its position, size, rotation, colour jitter, clutter and pixel noise
# at random, in one of four **domains** (styles): `photo`, `sketch` (coloured-pencil
# outlines on paper), `noisy` (grain and washed-out contrast) and `recolor` (a fixed
# false-colour map), on a `grass` or `water` background.

# %%
world = lab.standard_world(P.seed)
show = np.arange(8)
rows, labels = [], []
for d, domain in enumerate(DOMAINS):
    rows.append(world.render(show, np.full(8, d), show % 2, 10_000 + show))
    labels.append(domain)
fig = image_grid(np.concatenate(rows), row_labels=labels,
                 col_labels=[world.classnames[c] for c in show])
fig.suptitle("Eight concepts (columns) in the four domains (rows)", y=1.07)
plt.show()

# %% [markdown]
# One concept, many images: the within-class variation the encoder has to see through.

# %%
one_concept = world.render(np.zeros(16, int), np.zeros(16, int), np.arange(16) % 2,
                           np.arange(16))
fig = image_grid(one_concept, ncols=16, size=0.7)
fig.suptitle(f"sixteen images of '{world.classnames[0]}' (photo)", y=1.1)
plt.show()

# %% [markdown]
# Concepts have **names**: pseudo-words, so that nothing is known about them from
# outside the corpus. Each concept has a canonical name (what a benchmark would call
# it, like "night snake") and synonyms, and the world's "language" uses them with
# different frequencies. Often the canonical name is not the most common one, just as
# LAION captions say "tiger lily" far more often than a benchmark's Latin class name
# {cite:p}`parashar2024neglected`.

# %%
names = pd.DataFrame({
    "canonical name": world.classnames,
    "all names": [", ".join(n) for n in world.names],
    "share of captions per name": [", ".join(f"{p:.2f}" for p in ps)
                                   for ps in world.name_probs],
    "most common name": world.most_common_names,
})
print(f"canonical name is the most common name for "
      f"{np.mean(np.argmax(world.name_probs, 1) == 0):.0%} of concepts")
names.head(6)

# %% [markdown]
# ### A corpus and its data card
#
# A corpus is a table of image-caption pairs drawn from the world, with the flaws set by
# the dials of `CorpusConfig`. Every row keeps its ground truth (the true concept, which
# concept the caption names, whether it is noisy, duplicated, poisoned...), which no
# real crawl offers: it is what lets a chapter *audit* the data it trained on. Here is a
# deliberately flawed corpus: long-tailed concepts (Zipf exponent 1.2), 10% captions that
# name the wrong concept, 1% of pairs duplicated nine times, and 20 poisoned pairs.

# %%
flawed = build_corpus(world, CorpusConfig(
    n_samples=N_PAIRS, zipf_exponent=1.2, caption_noise=0.10, dup_fraction=0.01,
    dup_copies=9, poison_count=20, poison_target=0, seed=P.seed))
flawed.data_card().to_frame()

# %%
flawed.table[["concept", "caption", "caption_concept", "domain_name", "noisy",
              "dup_group", "poisoned"]].head(8)

# %% [markdown]
# The table is written to Parquet, so real tools can query it. The same SQL would run on a
# folder of LAION caption shards: here DuckDB counts how often the captions name each
# concept's canonical name.

# %%
parquet = Path(tempfile.mkdtemp()) / "flawed.parquet"
flawed.to_parquet(parquet)
duckdb.sql(f"""
    SELECT domain_name, count(*) AS pairs, avg(noisy::INT) AS noisy_share,
           sum(poisoned::INT) AS poisoned
    FROM read_parquet('{parquet}') GROUP BY domain_name ORDER BY pairs DESC
""").df()

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for z in (0.0, 1.2, 2.0):
    c = build_corpus(world, CorpusConfig(n_samples=N_PAIRS, zipf_exponent=z,
                                         seed=P.seed))
    rank_frequency(c.concept_counts(), ax=axes[0], label=f"Zipf exponent {z}")
axes[0].legend()
axes[0].set_title("concept frequency: the long-tail dial")
share = flawed.table.groupby("domain_name").size().reindex(list(DOMAINS)) / len(flawed)
sns.barplot(x=share.index, y=share.to_numpy(), ax=axes[1], color="tab:blue")
axes[1].set_ylabel("share of pairs")
axes[1].set_xlabel("domain")
axes[1].set_title("domain mix of a default corpus")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Interpret
#
# ### A clean lab CLIP
#
# Now a clean corpus (uniform concepts, no flaws, the default domain mix of
# {glue:text}`photo_share:.0%` photo and {glue:text}`other_share:.0%` each of the other
# domains) and a lab CLIP pre-trained on it: the book's standard clean model of a world
# (`uim_utils.lab.clean_model`), which every chapter that needs a clean model shares
# through the cache. The model is a real `open_clip.CLIP` (`uim-base4`): a small
# convolutional image encoder (timm's `test_byobnet` with a narrower stem, four
# residual stages with squeeze-and-excitation) on 32x32 images and a one-layer text
# transformer, trained with open_clip's `ClipLoss`. Its text tower reads open_clip's own BPE tokens, mapped onto
# the {glue:text}`vocab_size:,` tokens that the lab's names and templates can produce,
# instead of embedding all {glue:text}`full_vocab:,` (`uim_utils.models.LabTokenizer`):
# the embedding of a vocabulary the lab never uses would be most of the model, and most
# of the cost of every optimizer step.
#
# Every lab model trains on **one thread**, whatever the machine: a sum split over two
# threads adds in another order, which changes the weights in their fourth decimal and
# can flip a prediction, so one thread is what makes "the same seed gives the same
# numbers" true on a laptop, on Colab and in CI alike. A chapter that needs several
# models trains them side by side, one worker process per core
# (`uim_utils.pretrain.pretrain_many`), which on small models gets more done than two
# threads on one model. The image tower trains in the channels-last memory format, in
# which the CPU's convolutions run faster. And the text tower trains on one token per
# caption: CLIP's loss reads the text tower's output only at the end-of-text token, and
# in a one-layer transformer that output needs every token's keys and values but only
# that token's query, attention output and MLP. So training computes just that
# (`uim_utils.models.encode_text_pooled`, the same function as open_clip's `encode_text`
# up to float rounding, `uim_utils.lab.POOLED_TEXT`), and the trained model is a plain
# open_clip CLIP again.

# %%
# all the worlds' clean models at once, side by side in worker processes (cached after)
standard = dict(zip(SEEDS, lab.clean_models(SEEDS)))[P.seed]
clean, result, cfg = standard.corpus, standard.result, lab.clean_train_config(P.seed)
h = result.history
glue("vocab_size", result.model.tokenizer.vocab_size)
glue("full_vocab", FULL_VOCAB_SIZE)
glue("n_params", count_parameters(result.model.model))
glue("n_pairs", N_PAIRS)
glue("train_seconds", h["seconds"])
print(f"{count_parameters(result.model.model):,} parameters; "
      f"{'loaded from the cache' if result.cache_hit else 'trained'}: "
      f"{h['steps']} steps, "
      f"{h['seconds']:.0f} s, {h['pairs_per_second']:,.0f} pairs/s")

# %%
loss = pd.Series(h["loss"]).rolling(10, min_periods=1).mean()
ax = loss.plot(figsize=(6, 3), title="contrastive pre-training loss (10-step mean)")
ax.axhline(np.log(cfg.batch_size), ls="--", c="gray", label="chance: log(batch size)")
ax.set_xlabel("step")
ax.legend()
plt.show()

# %% [markdown]
# **Zero-shot classification** embeds a prompt per concept ("a photo of a {name}.",
# ensembled over a few templates), embeds each test image, and predicts the most
# similar prompt. The test images are new draws (render seeds no corpus uses), balanced
# over concepts, in each domain. The same `uim_utils.evaluate` functions run on a LAION
# checkpoint in the `wild` profile.
#
# One world is one draw of luck. The cell below measures every world of this run with
# `uim_utils.chapters.lab.measure`, the function the sweep over held-out worlds calls
# too: each world's clean model (trained once, then cached), its zero-shot accuracy per
# domain with a standard error over concepts (each concept's test images are averaged
# first: images of one concept are not independent evidence), and the same
# evaluation of the untrained model.

# %%
table = run_worlds(lambda s: lab_chapter.measure(s, P.name, progress=True), SEEDS)
long = table.melt(id_vars="seed", value_vars=[f"zs_{d}" for d in DOMAINS],
                  var_name="domain", value_name="accuracy")
long["domain"] = long["domain"].str.removeprefix("zs_")
long["world"] = long["seed"].astype(str)
ax = sns.barplot(long, x="domain", y="accuracy", color="tab:green", errorbar=None,
                 alpha=0.6)
sns.stripplot(long, x="domain", y="accuracy", hue="world", palette="dark", size=7,
              ax=ax)
ax.axhline(lab_chapter.CHANCE, ls="--", c="gray", label="chance")
ax.axhline(lab_chapter.FLOOR, ls=":", c="tab:red", label="claim 1: ten times chance")
ax.set_title(f"zero-shot accuracy of the clean lab CLIP in {len(SEEDS)} worlds (dots)")
ax.legend(title="world", bbox_to_anchor=(1.02, 1), loc="upper left")
plt.show()
table.set_index("seed").round(3)

# %% [markdown]
# The model is far above chance everywhere, best on photos
# ({glue:text}`photo_share:.0%` of what it saw) and worse on the styles it saw less.
# That is the lab's working point: high enough to measure what a flaw takes away, low
# enough that it can take something.
#
# ## Mitigate
#
# ### What the lab is for
#
# The lab does not mitigate anything itself; every chapter does, and the lab keeps them
# honest. Because the same model can be trained with one dial changed and everything
# else held fixed (same world, same seed, same steps), a chapter can show that the flaw
# *causes* the weakness, that the effect grows with the dose, and that a mitigation
# removes what the flaw added. Because a world is one seed, a chapter can also repeat
# the whole experiment in many worlds and say how often it holds (the
# {doc}`reproduction record <99_reproduction_record>`). Its limits are as clear: 32x32
# images, {glue:text}`n_concepts` concepts, pseudo-word names, a model of
# {glue:text}`n_params:,` parameters. The lab shows mechanisms, and each chapter's
# `wild` profile checks them on a real LAION checkpoint.

# %% [markdown]
# ## Checks
#
# Each claim is decided in every world of this run on its own, with the world's
# interval over concepts; the table shows the mean over worlds, the widest bounds, the
# rule, and how many standard errors the weakest world lies beyond the rule's bound.

# %%
verdicts = lab_chapter.SPEC.verdicts(table)
by_id = verdicts.set_index("id")
glue("photo_mean", float(by_id.loc["1a", "estimate"]))
glue("weakest_domain_se",
     float(by_id.loc[["1a", "1b", "1c", "1d"], "distance_se"].min()))
glue("n_worlds", len(table))
show_verdicts(verdicts)

# %% [markdown]
# In these {glue:text}`n_worlds` worlds, photo accuracy averages
# {glue:text}`photo_mean:.2f`, and the weakest domain of the weakest world still lies
# {glue:text}`weakest_domain_se:.1f` standard errors above ten times chance.
#
# The cell below (hidden in the book; click to show) asserts the claims from that
# table, then that the dials do what they say and that the cache returns the same
# model.

# %% tags=["hide-cell"]
lab_chapter.SPEC.check(table)

t = flawed.table
n_clean = N_PAIRS
print(f"noisy caption share {t['noisy'].mean():.4f} "
      "(asked 0.10; copies of noisy pairs are noisy too)")
assert abs(t["noisy"].mean() - 0.10) < 0.005
assert (t["dup_group"] >= 0).sum() == round(0.01 * n_clean) * 10
assert t["poisoned"].sum() == 20
assert (t.loc[t["poisoned"], "caption_concept"] == 0).all()
n_wrong = (t["caption_concept"] != t["concept"]).sum()
assert n_wrong == t["noisy"].sum() + t["poisoned"].sum()

again = pretrain(clean, cfg, progress=False)
sa, sb = again.model.model.state_dict(), result.model.model.state_dict()
assert again.cache_hit and all((sa[k] == sb[k]).all() for k in sa)
print("all checks passed")

# %% [markdown]
# ## Summary
#
# - The lab is a world of 100 procedurally drawn concepts in four domains, with names,
#   synonyms and captions; every image is a pure function of a table row.
# - `CorpusConfig` dials the flaws of a crawl: long tail, noisy captions, duplicates,
#   poison, spurious backgrounds, misaligned pairs, corrupt images, domain mix. Each row
#   keeps its ground truth, and the corpus is Parquet, so DuckDB and pandas can audit it.
# - A real `open_clip` CLIP pre-trained on {glue:text}`n_pairs:,` clean pairs in
#   {glue:text}`train_seconds:.0f` s on one CPU thread classifies the
#   {glue:text}`n_concepts` concepts zero-shot far above chance in every domain it saw,
#   in every world of the run, and its untrained twin is at chance.
# - Models are seeded and cached by their full configuration: the same question gets the
#   same model, at once.
#
# ## Exercises
#
# 1. **Fewer pairs.** Pre-train on half the pairs,
#    `pretrain(build_corpus(world, CorpusConfig(n_samples=N_PAIRS // 2, seed=P.seed)), cfg)`,
#    and evaluate it as `lab_chapter.zero_shot_correct` does. How much zero-shot accuracy does
#    the clean model lose, per domain? Which domain suffers most, and why?
# 2. **A narrow corpus.** Pre-train on photos only (`domain_weights={"photo": 1}`) and
#    measure zero-shot accuracy on sketches. Compare with the table above. (Chapter 6's
#    question, in one line.)
# 3. **Audit with SQL.** Write a DuckDB query over the Parquet file that finds the
#    duplicated captions without using the `dup_group` column. How many does it find, and
#    why are there more than the true duplicates?
# 4. **Prompting.** Replace `world.classnames` by `world.most_common_names` in the
#    zero-shot head. Does accuracy change? (Chapter 1 explains why it should.)
# 5. **Worlds.** Rerun with `UIM_SEED=100`. How much does photo accuracy move between
#    worlds, compared with its standard error over concepts within one world? Which of
#    the two should an interval for "the lab works" be built from, and why?
#
# Worked solutions, runnable in every profile and hidden until you open them:
# {doc}`solutions/00_the_lab_solutions`.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
