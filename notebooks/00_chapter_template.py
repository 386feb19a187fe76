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
# # The template chapter: an inherited label prior
#
# A model pre-trained on long-tailed data learns two things: what each class looks like,
# and *how often* each class appeared. The second lesson is rarely wanted downstream,
# yet it is inherited. Used as-is on a task where every class matters equally, the model
# keeps betting on the classes that were frequent in pre-training and misses the rare
# ones. This chapter reproduces that inheritance in miniature (handwritten digits, a
# linear model, a few seconds on a laptop), explains it, and removes it with one line
# of arithmetic. It is also the **template** every chapter of the book follows: the
# same sections, the same set-up cell, the same kind of checks
# (see {doc}`../book/chapter_template`).
#
# :::{admonition} Learning goals
# :class: tip
# After this chapter you can
# - build a long-tailed "pre-training" set with one dial (the imbalance ratio) and show
#   that a model trained on it inherits the label prior;
# - measure the inherited flaw on balanced downstream data the way the rest of the book
#   does: per-class recall, balanced accuracy, and intervals across seeds;
# - remove the prior post hoc with logit adjustment and say when that is justified;
# - read and write a chapter of this book: profiles, seeds, checks, exercises.
# :::
#
# **Estimated time.** `ci`: about 10 s; `lab` (the rendered book): about 20 s; `wild`:
# as `lab` (this chapter needs no internet and no GPU).
#
# ## The published claim
#
# Foundation models are trained on web data whose concepts are long-tailed, and their
# zero-shot predictions inherit that imbalance. {cite:t}`parashar2024neglected` count
# concept frequencies in LAION and find that CLIP's per-class zero-shot accuracy tracks
# them: although CLIP's ImageNet accuracy is high, it falls below 10% on more than ten
# rare concepts such as *night snake*. {cite:t}`zhu2023gla` argue that the zero-shot
# logits carry the label prior of the pre-training data, so that fine-tuning and
# ensembling stay biased; subtracting an estimate of the log-prior (their Generalized
# Logit Adjustment) gains 1.5 points of ImageNet accuracy. The correction goes back to
# {cite:t}`menon2021logit`: for a model whose scores estimate $\log p(y \mid x)$ up to a
# constant, the classifier $\arg\max_y\, f_y(x) - \tau \log \pi_y$ with $\tau = 1$ and
# training prior $\pi$ is the Bayes-optimal rule for the *balanced* error.
#
# Here we test the same chain on a scale where we control the data. The claims, with
# thresholds fixed before the first run (the `Checks` cell asserts them):
#
# 1. **Inheritance.** With imbalance ratio 50, recall on the three rarest classes is at
#    least 0.20 below recall on the three most frequent ones, and the 95% interval of
#    that gap across seeds excludes zero.
# 2. **Skew.** The three head classes make up 30% of the balanced test set but receive
#    a larger share of the predictions (the lower end of the 95% interval is above 0.30).
# 3. **Control.** With a uniform pre-training set (ratio 1) the same head-tail gap is
#    within ±0.10: the gap is caused by the imbalance, not by which digits are hard.
# 4. **Mitigation.** Logit adjustment with $\tau = 1$ (fixed by the theory, never tuned
#    here) raises balanced accuracy (95% interval of the paired gain above zero) and
#    raises mean tail recall by at least 0.10.

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
# book) and every random choice from the base seed (`UIM_SEED`), so you can rerun the
# chapter with other seeds without editing a cell.

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from uim_utils import get_profile

P = get_profile()
# Repetitions behind every interval, and the dial: head-to-tail count ratio.
N_SEEDS = P.pick(ci=5, lab=20)
RATIOS = P.pick(ci=[1, 10, 50], lab=[1, 2, 5, 10, 20, 50, 100])
SEEDS = P.seeds(N_SEEDS)
# Fixed in advance, stated in "The published claim":
RATIO = 50    # imbalance ratio of the main experiment
N_MAX = 80    # pre-training examples of the most frequent class
N_GROUP = 3   # head = the 3 most frequent classes, tail = the 3 rarest
TAU = 1.0     # logit-adjustment strength, set by the theory
print(f"profile={P.name}, base seed={P.seed}: {N_SEEDS} seeds, "
      f"ratios {RATIOS}")

X_ALL, Y_ALL = load_digits(return_X_y=True)
X_ALL = X_ALL / 16.0  # pixel intensities 0..16 -> 0..1
N_CLASSES = 10
print(f"digits: {len(X_ALL)} images of 8x8 pixels, {N_CLASSES} classes")


# %% [markdown]
# ## Understand
#
# *Where does the flaw enter?* In the pre-training data. We use the 1,797 handwritten
# digits (8x8 pixels) that ship with scikit-learn {cite:p}`pedregosa2011sklearn`,
# split them into a pre-training pool and a **balanced** downstream test set, and draw
# a long-tailed pre-training set from the pool: the class at rank $r = 0, \dots, 9$
# gets $n_r = N_\text{max} \cdot \rho^{-r/9}$ examples, where $\rho$ is the imbalance
# ratio. Which digit is frequent is drawn at random per seed, so that no result
# depends on one digit being easy. The "foundation model" is a multinomial logistic
# regression trained on that set; the downstream user applies it as it is, like a
# zero-shot classifier. The helpers below are deliberately short; real chapters
# import theirs from `uim_utils`.

# %%
def long_tail_counts(n_classes: int, n_max: int,
                     ratio: float) -> np.ndarray:
    """Examples per class rank, from ``n_max`` down to ``n_max / ratio``.

    Every class keeps at least one example.
    """
    if ratio < 1:
        raise ValueError(f"imbalance ratio must be >= 1, got {ratio!r}")
    decay = ratio ** (-np.arange(n_classes) / (n_classes - 1))
    return np.maximum(1, np.round(n_max * decay)).astype(int)


def pretrain(seed: int, ratio: float) -> dict:
    """Draw a long-tailed pre-training set and fit the "foundation model".

    Returns a dict with the fitted ``model``, the balanced test split
    (``X_test``, ``y_test``), the classes from most to least frequent
    (``order``), the pre-training ``counts`` and the class ``prior``.
    """
    rng = np.random.default_rng(seed)
    X_pool, X_test, y_pool, y_test = train_test_split(
        X_ALL, Y_ALL, test_size=0.5, stratify=Y_ALL, random_state=seed)
    order = rng.permutation(N_CLASSES)  # order[r] = the class at rank r
    counts = np.empty(N_CLASSES, dtype=int)
    counts[order] = long_tail_counts(N_CLASSES, N_MAX, ratio)
    idx = np.concatenate([
        rng.choice(np.flatnonzero(y_pool == c), counts[c], replace=False)
        for c in range(N_CLASSES)])
    # One BLAS thread: on a problem this small, threads cost more than
    # they save.
    with threadpool_limits(limits=1):
        model = LogisticRegression(max_iter=2000)
        model.fit(X_pool[idx], y_pool[idx])
    return dict(model=model, X_test=X_test, y_test=y_test, order=order,
                counts=counts, prior=counts / counts.sum())


def evaluate(run: dict, tau: float = 0.0) -> dict:
    """Recall, balanced accuracy and prediction shares after adjustment.

    ``tau = 0`` is the model as inherited; ``tau = 1`` subtracts the
    full log-prior of the pre-training data from every logit.
    """
    logits = run["model"].decision_function(run["X_test"])
    pred = (logits - tau * np.log(run["prior"])).argmax(axis=1)
    y = run["y_test"]
    recall = recall_score(y, pred, average=None, labels=range(N_CLASSES))
    head, tail = run["order"][:N_GROUP], run["order"][-N_GROUP:]
    share = np.bincount(pred, minlength=N_CLASSES) / len(pred)
    return dict(recall=recall,
                head=recall[head].mean(), tail=recall[tail].mean(),
                balanced=balanced_accuracy_score(y, pred),
                head_share=share[head].sum(),
                share_by_rank=share[run["order"]])


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval across seeds."""
    values = np.asarray(values, dtype=float)
    t = stats.t.ppf(0.5 + level / 2, len(values) - 1)
    half = t * stats.sem(values)
    return values.mean(), values.mean() - half, values.mean() + half


def report(name: str, values) -> None:
    """Print the mean and 95% interval of a per-seed quantity."""
    m, lo, hi = mean_ci(values)
    print(f"{name}: mean {m:.3f}, 95% CI [{lo:.3f}, {hi:.3f}]")


def log_axis(ax, axis: str, ticks) -> None:
    """Log scale with plain-number labels at ``ticks`` only."""
    getattr(ax, f"set_{axis}scale")("log")
    scale = getattr(ax, f"{axis}axis")
    scale.set_major_locator(FixedLocator(ticks))
    scale.set_major_formatter(ScalarFormatter())
    scale.set_minor_locator(NullLocator())


# %% [markdown]
# One pre-training set at ratio 50: the most frequent digit has 80 examples, the rarest
# two. The model's recall on the balanced test set follows the counts, the pattern that
# {cite:t}`parashar2024neglected` and {cite:t}`udandarao2024zeroshot` report for CLIP
# and concept frequency in LAION.

# %%
runs = {(seed, ratio): pretrain(seed, ratio)
        for seed in tqdm(SEEDS, desc="pre-training")
        for ratio in RATIOS}
example = runs[(P.seed, RATIO)]

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8))
ranks = np.arange(N_CLASSES)
ax0.bar(ranks, example["counts"][example["order"]], color="tab:blue")
log_axis(ax0, "y", [1, 2, 5, 10, 20, 50, 100])
ax0.set_xticks(ranks, [str(c) for c in example["order"]])
ax0.set_xlabel("digit, from most to least frequent")
ax0.set_ylabel("pre-training examples")
ax0.set_title(f"Pre-training data (ratio {RATIO}, seed {P.seed})")

counts = np.concatenate([runs[(s, RATIO)]["counts"] for s in SEEDS])
recall = np.concatenate([evaluate(runs[(s, RATIO)])["recall"]
                         for s in SEEDS])
rho, _ = stats.spearmanr(counts, recall)
ax1.scatter(counts, recall, s=16, alpha=0.5, color="tab:blue")
log_axis(ax1, "x", [1, 2, 5, 10, 20, 50, 100])
ax1.set_ylim(-0.03, 1.03)
ax1.set_xlabel("pre-training examples of the class")
ax1.set_ylabel("recall on balanced test data")
ax1.set_title(f"Per-class recall, {N_SEEDS} seeds "
              f"(Spearman {rho:.2f})")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Interpret
#
# *What does the flaw do downstream?* A downstream user who needs every digit equally
# sees two symptoms. Rare classes are missed (low tail recall), and the errors are not
# spread evenly: they go to the frequent classes, because the inherited prior tilts
# every decision towards them. The left panel shows the share of predictions each rank
# receives, against the 10% each would get from an unbiased model; the right panel
# shows head and tail recall with 95% intervals across seeds.

# %%
base = [evaluate(runs[(s, RATIO)]) for s in SEEDS]
share = np.array([b["share_by_rank"] for b in base])
gap = np.array([b["head"] - b["tail"] for b in base])
head_share = np.array([b["head_share"] for b in base])

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8),
                               gridspec_kw=dict(width_ratios=[3, 2]))
ax0.bar(ranks, share.mean(axis=0), yerr=share.std(axis=0, ddof=1),
        color="tab:orange", capsize=3)
ax0.axhline(1 / N_CLASSES, color="k", ls="--", lw=1,
            label="share in the test set")
ax0.set_xticks(ranks)
ax0.set_xlabel("class rank in pre-training (0 = most frequent)")
ax0.set_ylabel("share of predictions (mean, sd)")
ax0.set_title("Predictions drift to the head")
ax0.legend()

groups = [f"{N_GROUP} head classes", f"{N_GROUP} tail classes"]
cis = [mean_ci([b[key] for b in base]) for key in ("head", "tail")]
means = [m for m, _, _ in cis]
errors = np.array([[m - lo, hi - m] for m, lo, hi in cis]).T
ax1.bar(groups, means, yerr=errors, capsize=6,
        color=["tab:orange", "tab:red"])
for i, m in enumerate(means):
    ax1.text(i, m / 2, f"{m:.2f}", ha="center", color="white",
             fontweight="bold")
ax1.set_ylim(0, 1.05)
ax1.set_ylabel("recall (mean, 95% CI)")
ax1.set_title("The tail is not recognised")
fig.tight_layout()
plt.show()
report("head-minus-tail recall gap", gap)
report("share of predictions on head classes", head_share)


# %% [markdown]
# ## Mitigate
#
# *How do we remove it?* Logit adjustment subtracts $\tau \log \pi_y$ from the score of
# class $y$, where $\pi$ is the pre-training prior. It needs no retraining and no
# downstream labels, only the prior. Here we know $\pi$ exactly because we built the
# data; for a real foundation model it must be estimated, which is what GLA does
# {cite:p}`zhu2023gla` (Exercise 2). We fixed $\tau = 1$ in advance, as the theory
# prescribes; the $\tau$ sweep on the right is shown to explain the choice, not to
# make it.
#
# The left panel is the **dose-response** of the lab: as the imbalance ratio grows, the
# inherited model's balanced accuracy falls, and the adjusted model recovers most of
# it. At ratio 1 the prior is uniform and the adjustment changes nothing, as it should.

# %%
def curve(ratio: float, tau: float) -> tuple[float, float, float]:
    """Balanced accuracy across seeds at one ratio and tau, with 95% CI."""
    return mean_ci([evaluate(runs[(s, ratio)], tau)["balanced"]
                    for s in SEEDS])


fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8))
for tau, label, color in [(0.0, "as inherited", "tab:orange"),
                          (TAU, "logit-adjusted", "tab:green")]:
    m, lo, hi = np.array([curve(r, tau) for r in RATIOS]).T
    ax0.plot(RATIOS, m, "o-", color=color, label=label)
    ax0.fill_between(RATIOS, lo, hi, color=color, alpha=0.2)
log_axis(ax0, "x", RATIOS)
ax0.set_xlabel("imbalance ratio of the pre-training data")
ax0.set_ylabel("balanced accuracy (95% CI)")
ax0.set_title("Dose-response and mitigation")
ax0.legend()

taus = np.linspace(0, 2, 21)
m, lo, hi = np.array([curve(RATIO, t) for t in taus]).T
ax1.plot(taus, m, color="tab:green")
ax1.fill_between(taus, lo, hi, color="tab:green", alpha=0.2)
ax1.axvline(TAU, color="k", ls="--", lw=1,
            label=r"$\tau = 1$, fixed in advance")
ax1.set_xlabel(r"adjustment strength $\tau$")
ax1.set_ylabel("balanced accuracy (95% CI)")
ax1.set_title(f"Ratio {RATIO}: the effect of $\\tau$")
ax1.legend()
fig.tight_layout()
plt.show()

adjusted = [evaluate(runs[(s, RATIO)], TAU) for s in SEEDS]
gain = np.array([a["balanced"] - b["balanced"]
                 for a, b in zip(adjusted, base)])
tail_gain = np.array([a["tail"] - b["tail"]
                      for a, b in zip(adjusted, base)])
report("balanced-accuracy gain from logit adjustment", gain)
report("tail-recall gain from logit adjustment", tail_gain)

# %% [markdown]
# ## Checks
#
# The cell below (hidden in the book; click to show) asserts the four claims stated at
# the top with the thresholds fixed there, and prints the numbers it checks. If a change
# to the code or a new seed breaks one of them, the book build and the tests fail.

# %% tags=["hide-cell"]
uniform = [evaluate(runs[(s, 1)]) for s in SEEDS]
control = np.array([u["head"] - u["tail"] for u in uniform])
gap_m, gap_lo, _ = mean_ci(gap)
share_m, share_lo, _ = mean_ci(head_share)
gain_m, gain_lo, _ = mean_ci(gain)
print(f"1 inheritance: gap {gap_m:.3f} (need >= 0.20), "
      f"CI low {gap_lo:.3f} (need > 0)")
print(f"2 skew: head share {share_m:.3f}, "
      f"CI low {share_lo:.3f} (need > 0.30)")
print(f"3 control: gap without imbalance {control.mean():+.3f} "
      f"(need within +-0.10)")
print(f"4 mitigation: balanced-accuracy gain {gain_m:.3f}, "
      f"CI low {gain_lo:.3f} (need > 0); "
      f"tail-recall gain {tail_gain.mean():.3f} (need >= 0.10)")
assert gap_m >= 0.20 and gap_lo > 0, "no inherited head-tail gap"
assert share_lo > N_GROUP / N_CLASSES, "predictions not skewed to head"
assert abs(control.mean()) <= 0.10, "gap without imbalance: confounded"
assert gain_lo > 0, "logit adjustment did not raise balanced accuracy"
assert tail_gain.mean() >= 0.10, "logit adjustment did not help the tail"

# %% [markdown]
# ## Summary
#
# - A model trained on long-tailed data inherits the label prior: on balanced
#   downstream data its recall follows the pre-training counts, and its predictions
#   drift to the frequent classes.
# - The effect grows with the imbalance ratio and disappears without imbalance, so the
#   data, not the digits, cause it (the lab's dose-response and control).
# - Subtracting the log-prior from the logits (logit adjustment, $\tau = 1$) removes
#   most of the damage without retraining. It needs the prior: exact here, estimated
#   for real foundation models (GLA).
# - Every later chapter has this shape: a published claim, thresholds fixed in advance,
#   Understand, Interpret, Mitigate, and checks that can fail.
#
# ## Exercises
#
# 1. **Turn the dial.** Set `RATIO = 200` and `N_MAX = 160`. How do tail recall and
#    the gain from logit adjustment change? At what ratio does the adjusted model
#    stop recovering, and why (think of how many examples the tail still has)?
# 2. **Estimate the prior.** Pretend `run["prior"]` is unknown. Estimate it from the
#    model's mean predicted probability on the (unlabelled) test images, or as in GLA
#    by minimising the cross-entropy of $f(x) - \log q$ over the simplex on a small
#    labelled balanced set. How close does each estimate get to the true-prior result?
# 3. **Regularisation.** Refit with `LogisticRegression(C=0.1)`. Does the model inherit
#    more or less of the prior, and where is the best $\tau$ now? Why can the optimum
#    move away from 1 when the scores are not calibrated log-probabilities?
# 4. **Another adaptation.** Instead of adjusting logits, retrain only the last layer on
#    a small balanced set (a "linear probe"; here: a few examples per class from the
#    pool). Compare tail recall and the number of labels each fix needs.
# 5. **A different model.** Replace the logistic regression with
#    `sklearn.neighbors.KNeighborsClassifier`. Is the prior still inherited, and does
#    logit adjustment (applied to log-probabilities) still help?
#
# ## References
#
# ```{bibliography}
# :filter: docname in docnames
# ```
