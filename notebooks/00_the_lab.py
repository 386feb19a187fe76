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
# CLIP {cite:p}`ilharco2021openclip` pre-trained from scratch on it in under a minute of
# CPU time. Turning one dial while holding the rest fixed shows *cause*, and lets every
# chapter run a dose-response curve that nobody can run on LAION
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
# - say what the lab can and cannot tell us about real foundation models.
# :::
#
# **Estimated time.** `ci`: about a minute (most of it pre-training); `lab` (the rendered
# book): the same; a rerun with a warm cache: a few seconds.
#
# ## The published claim
#
# Contrastive language-image pre-training learns, from captions alone, an image encoder
# and a text encoder whose similarity classifies images into classes named in a prompt,
# with no labelled training data ("zero-shot") {cite:p}`radford2021clip`. The lab is
# useful only if this holds at its scale, so this chapter checks, with thresholds fixed
# in advance:
#
# 1. **Zero-shot works in the lab.** A lab CLIP pre-trained on a clean corpus classifies
#    the 100 concepts zero-shot far above chance (1%) on *every* image domain it saw in
#    pre-training: the lower end of the 95% bootstrap interval is above 5%, five times
#    chance.
# 2. **The dials do what they say.** A corpus asked for 10% noisy captions, 1% duplicated
#    pairs and 20 poisoned pairs has exactly that (within rounding).
# 3. **Caching.** Asking again for the same model is a cache hit that returns the same
#    weights.

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

from uim_utils import evaluate as ev
from uim_utils import get_profile
from uim_utils.corpus import CorpusConfig, build_corpus
from uim_utils.models import count_parameters
from uim_utils.plotting import image_grid, rank_frequency
from uim_utils.pretrain import TrainConfig, pretrain
from uim_utils.world import BACKGROUNDS, DOMAINS, ConceptWorld, WorldConfig

P = get_profile()
N_CONCEPTS = 100
N_PAIRS = P.pick(ci=20_000, lab=20_000)
EPOCHS = P.pick(ci=6, lab=6)
N_TEST_PER_CLASS = P.pick(ci=10, lab=30)
print(f"profile={P.name} seed={P.seed}: {N_CONCEPTS} concepts, {N_PAIRS:,} pairs, {EPOCHS} epochs")
sns.set_theme(style="whitegrid", context="notebook")

# %% [markdown]
# ## Understand
#
# ### The world
#
# The world has 100 **concepts**. Each is a cell of a grid of visual attributes: a shape
# with 0 to 6 lobes, with or without a hole, round or elongated, one of eight hues, plain
# or striped at one of two frequencies. Concepts that share all but one attribute are the
# world's hard confusions, as a husky and a wolf are in ImageNet. Every image draws its
# position, size, rotation, colour jitter, clutter and pixel noise at random, in one of
# four **domains** (styles): `photo`, `sketch` (coloured-pencil outlines on paper),
# `noisy` (grain and washed-out contrast) and `recolor` (a fixed false-colour map), on a
# `grass` or `water` background.

# %%
world = ConceptWorld(WorldConfig(n_concepts=N_CONCEPTS, seed=P.seed))
show = np.arange(8)
rows, labels = [], []
for d, domain in enumerate(DOMAINS):
    rows.append(world.render(show, np.full(8, d), show % 2, 10_000 + show))
    labels.append(domain)
fig = image_grid(np.concatenate(rows), row_labels=labels, col_labels=[world.classnames[c] for c in show])
fig.suptitle("Eight concepts (columns) in the four domains (rows)", y=1.07)
plt.show()

# %% [markdown]
# One concept, many images: the within-class variation the encoder has to see through.

# %%
fig = image_grid(world.render(np.zeros(16, int), np.zeros(16, int), np.arange(16) % 2, np.arange(16)),
                 ncols=16, size=0.7)
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
    "share of captions per name": [", ".join(f"{p:.2f}" for p in ps) for ps in world.name_probs],
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
    n_samples=N_PAIRS, zipf_exponent=1.2, caption_noise=0.10, dup_fraction=0.01, dup_copies=9,
    poison_count=20, poison_target=0, seed=P.seed))
flawed.data_card().to_frame()

# %%
flawed.table[["concept", "caption", "caption_concept", "domain_name", "noisy", "dup_group", "poisoned"]].head(8)

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
    c = build_corpus(world, CorpusConfig(n_samples=N_PAIRS, zipf_exponent=z, seed=P.seed))
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
# Now a clean corpus (uniform concepts, no flaws, the default domain mix of 70% photo and
# 10% each of the other domains) and a lab CLIP pre-trained on it. The model is a real
# `open_clip.CLIP`: a vision transformer on 32x32 images (8x8 patches) and a text
# transformer with open_clip's own tokenizer, trained with open_clip's `ClipLoss`.

# %%
clean = build_corpus(world, CorpusConfig(n_samples=N_PAIRS, seed=P.seed))
cfg = TrainConfig(model="uim-tiny", epochs=EPOCHS, seed=P.seed)
result = pretrain(clean, cfg)
h = result.history
print(f"{count_parameters(result.model.model):,} parameters; "
      f"{'loaded from the cache' if result.cache_hit else 'trained'}: {h['steps']} steps, "
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

# %%
head = ev.zero_shot_head(result.model, world.classnames)
rows = []
for domain in DOMAINS:
    x, y = world.sample(N_TEST_PER_CLASS, domain, seed=P.seed + 1)
    pred = ev.zero_shot_logits(ev.encode_images(result.model, x), head).argmax(1)
    acc, lo, hi = ev.accuracy_ci(y, pred, seed=P.seed)
    rows.append({"domain": domain, "accuracy": acc, "low": lo, "high": hi,
                 "share of pre-training": (clean.table["domain_name"] == domain).mean()})
zs = pd.DataFrame(rows)
ax = sns.barplot(zs, x="domain", y="accuracy", color="tab:green")
ax.errorbar(range(len(zs)), zs["accuracy"], yerr=[zs["accuracy"] - zs["low"], zs["high"] - zs["accuracy"]],
            fmt="none", c="k", capsize=4)
ax.axhline(1 / N_CONCEPTS, ls="--", c="gray", label="chance")
ax.set_title("zero-shot accuracy of a clean lab CLIP (95% bootstrap CI)")
ax.legend()
plt.show()
zs.round(3)

# %% [markdown]
# The model is far above chance everywhere, best on photos (70% of what it saw) and worse
# on the styles it saw less. Photo accuracy around 30-40% on 100 fine-grained concepts,
# from 20,000 pairs and under a minute of CPU, is the lab's working point: high enough
# to measure what a flaw takes away, low enough that it can take something.
#
# ## Mitigate
#
# ### What the lab is for
#
# The lab does not mitigate anything itself; every chapter does, and the lab keeps them
# honest. Because the same model can be trained with one dial changed and everything else
# held fixed (same world, same seed, same steps), a chapter can show that the flaw
# *causes* the weakness, that the effect grows with the dose, and that a mitigation
# removes what the flaw added. Its limits are as clear: 32x32 images, 100 concepts,
# pseudo-word names, a 3M-parameter model. The lab shows mechanisms, and each chapter's
# `wild` profile checks them on a real LAION checkpoint.

# %% [markdown]
# ## Checks
#
# The cell below (hidden in the book; click to show) asserts the three claims stated at
# the top, with the thresholds fixed there.

# %% tags=["hide-cell"]
chance = 1 / N_CONCEPTS
for r in zs.itertuples():
    print(f"{r.domain:8s} zero-shot {r.accuracy:.3f} [{r.low:.3f}, {r.high:.3f}] (threshold: low > {5 * chance:.2f})")
    assert r.low > 5 * chance, f"zero-shot accuracy on {r.domain} is not clearly above chance"

t = flawed.table
n_clean = N_PAIRS
print(f"noisy caption share {t['noisy'].mean():.4f} (asked 0.10; copies of noisy pairs are noisy too)")
assert abs(t["noisy"].mean() - 0.10) < 0.005
assert (t["dup_group"] >= 0).sum() == round(0.01 * n_clean) * 10
assert t["poisoned"].sum() == 20 and (t.loc[t["poisoned"], "caption_concept"] == 0).all()
assert (t["caption_concept"] != t["concept"]).sum() == t["noisy"].sum() + t["poisoned"].sum()

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
# - A real `open_clip` CLIP pre-trained on 20,000 clean pairs in about a minute of CPU
#   classifies all 100 concepts zero-shot far above chance in every domain it saw.
# - Models are seeded and cached by their full configuration: the same question gets the
#   same model, at once.
#
# ## Exercises
#
# 1. **Fewer pairs.** Halve `N_PAIRS`. How much zero-shot accuracy does the clean model
#    lose, per domain? Which domain suffers most, and why?
# 2. **A narrow corpus.** Pre-train on photos only (`domain_weights={"photo": 1}`) and
#    measure zero-shot accuracy on sketches. Compare with the table above. (Chapter 6's
#    question, in one line.)
# 3. **Audit with SQL.** Write a DuckDB query over the Parquet file that finds the
#    duplicated captions without using the `dup_group` column. How many does it find, and
#    why are there more than the true duplicates?
# 4. **Prompting.** Replace `world.classnames` by `world.most_common_names` in the
#    zero-shot head. Does accuracy change? (Chapter 1 explains why it should.)
# 5. **Seeds.** Rerun with `UIM_SEED=1` and `UIM_SEED=2`. How much does photo accuracy
#    move? That spread is the noise every chapter's checks must beat.
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
