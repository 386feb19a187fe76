"""Noisy captions in pre-training: ID/OOD transfer, feature spectra, audits and NMTune.

Chapter 2 of the book. Chen et al. (ICLR 2024) pre-train models on data with 0-30%
label noise and find that the noise changes what downstream tasks inherit: in-domain
(ID) linear-probe accuracy may even rise at slight noise, while out-of-domain (OOD)
accuracy falls, and the singular-value spectrum of the features changes shape. Their fix,
NMTune, trains a small residual MLP on the *frozen* features with three regularisers.

This module builds on the lab (:mod:`~uim_utils.world`, :mod:`~uim_utils.corpus`,
:mod:`~uim_utils.pretrain`, :mod:`~uim_utils.evaluate`):

- :func:`noise_corpus` and :func:`pretrain_grid`: one lab CLIP per (noise rate, seed),
  everything else held fixed, cached by the lab;
- :func:`make_downstream` and :func:`probe_grid`: a linear probe trained on the ID
  domain and tested on every domain;
- :func:`audit_captions`: find mislabelled pairs with ``cleanlab`` on a probe's
  out-of-sample probabilities and score the audit against the corpus's ground truth;
- :class:`NMTuneConfig`, :func:`fit_nmtune`, :func:`nmtune_losses`: NMTune in torch;
- :func:`shift_images` and :func:`encode_any`: the same code on a real checkpoint and
  real images (wild profile).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from . import evaluate as E
from .evaluate import mean_ci  # noqa: F401  (re-exported: chapter 2 calls N.mean_ci)
from .corpus import Corpus, CorpusConfig, build_corpus
from .models import LoadedModel, lab_to_tensor
from .pretrain import TrainConfig, pretrain_many
from .validate import check_int
from .world import DOMAINS, ConceptWorld

ID_DOMAIN = "photo"
"""The in-domain style: 70% of a default corpus, and the domain the probes train on."""

OOD_DOMAINS: tuple[str, ...] = tuple(d for d in DOMAINS if d != ID_DOMAIN)
"""Out-of-domain styles: each 10% of a default corpus (covered partly in pre-training)."""


def _check_rate(rate: float) -> float:
    try:
        r = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"noise rate must be a number in [0, 1), got {rate!r}") from None
    if isinstance(rate, bool) or not 0.0 <= r < 1.0:
        raise ValueError(f"noise rate must be in [0, 1), got {rate!r}")
    return r


# --------------------------------------------------------------------- pre-training
def noise_corpus(world: ConceptWorld, rate: float, n_samples: int, seed: int) -> Corpus:
    """A corpus whose only flaw is caption noise at ``rate``.

    The concept frequencies are uniform and the domain mix is the lab default
    (photo 0.7, sketch / noisy / recolor 0.1 each), so that models at different noise
    rates differ in nothing else. A noisy caption names a uniformly random *other*
    concept (symmetric noise, as in Chen et al.).

    Parameters
    ----------
    world : ConceptWorld
    rate : float
        Fraction of pairs with a wrong caption, in [0, 1).
    n_samples : int
        Pairs in the corpus.
    seed : int
        Seed of the corpus draw (the same seed gives the same images at every rate,
        in another row order).
    """
    r = _check_rate(rate)
    return build_corpus(world, CorpusConfig(n_samples=n_samples, caption_noise=r, seed=seed))


def pretrain_grid(
    world: ConceptWorld,
    rates: Sequence[float],
    seeds: Sequence[int],
    n_samples: int,
    train: TrainConfig,
    progress: bool = True,
) -> dict[tuple[int, float], LoadedModel]:
    """Pre-train (or load from the lab cache) one lab CLIP per ``(seed, rate)``.

    The seed sets both the corpus draw and the initial weights; ``train.seed`` is
    replaced by it.

    Returns
    -------
    dict mapping ``(seed, rate)`` to the pre-trained model.
    """
    if not rates or not seeds:
        raise ValueError(f"need at least one rate and one seed, got rates={rates!r}, seeds={seeds!r}")
    rates = [_check_rate(r) for r in rates]
    jobs = [(s, r) for s in seeds for r in rates]
    results = pretrain_many([(noise_corpus(world, r, n_samples, s), replace(train, seed=s)) for s, r in jobs],
                            progress=progress)
    return {job: res.model for job, res in zip(jobs, results)}


# ----------------------------------------------------------------------- downstream
@dataclass
class Downstream:
    """A downstream task: a labelled ID training set and test sets in every domain.

    Attributes
    ----------
    train_images, train_labels : arrays
        ``n_train`` images per concept of :data:`ID_DOMAIN`.
    test : dict of str to (images, labels)
        ``n_test`` fresh images per concept of each domain in :data:`DOMAINS`.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test: dict[str, tuple[np.ndarray, np.ndarray]]


def make_downstream(world: ConceptWorld, n_train: int, n_test: int, seed: int) -> Downstream:
    """Draw the downstream task (render seeds disjoint from every corpus)."""
    if n_train < 1 or n_test < 1:
        raise ValueError(f"n_train and n_test must be >= 1, got {n_train!r}, {n_test!r}")
    xtr, ytr = world.sample(n_train, ID_DOMAIN, seed=seed)
    test = {d: world.sample(n_test, d, seed=seed + 10_000) for d in DOMAINS}
    return Downstream(xtr, ytr, test)


def features(lm: LoadedModel, task: Downstream) -> dict[str, np.ndarray]:
    """Un-normalised image features of the training set (``"train"``) and every test set."""
    out = {"train": E.encode_images(lm, task.train_images, normalize=False)}
    for d, (x, _) in task.test.items():
        out[d] = E.encode_images(lm, x, normalize=False)
    return out


def probe_grid(
    models: Mapping[tuple[int, float], LoadedModel],
    task: Downstream,
    C: float = 1.0,
    progress: bool = True,
) -> tuple[pd.DataFrame, dict[tuple[int, float], dict[str, np.ndarray]]]:
    """Linear-probe accuracy of every model on every domain, and the features used.

    The probe (standardised logistic regression, :func:`uim_utils.evaluate.linear_probe`)
    is trained on the ID training set and tested on each domain's test set.

    Returns
    -------
    table : DataFrame with columns ``seed, noise, domain, accuracy``
    feats : dict mapping ``(seed, rate)`` to the :func:`features` dict
    """
    rows, feats = [], {}
    for key, lm in tqdm(models.items(), desc="linear probes", disable=not progress):
        f = features(lm, task)
        feats[key] = f
        _, preds = E.linear_probe(f["train"], task.train_labels, [f[d] for d in DOMAINS], C=C)
        for d, p in zip(DOMAINS, preds):
            rows.append({"seed": key[0], "noise": key[1], "domain": d,
                         "accuracy": E.accuracy(task.test[d][1], p)})
    return pd.DataFrame(rows), feats


def with_ood_mean(table: pd.DataFrame) -> pd.DataFrame:
    """Add rows with domain ``"OOD (mean)"``: the mean over :data:`OOD_DOMAINS`."""
    need = {"domain", "accuracy"}
    if not need <= set(table.columns):
        raise ValueError(f"table needs columns {sorted(need)}, has {list(table.columns)}")
    keys = [c for c in table.columns if c not in ("domain", "accuracy")]
    ood = (table[table["domain"].isin(OOD_DOMAINS)].groupby(keys, as_index=False)["accuracy"].mean()
           .assign(domain="OOD (mean)"))
    return pd.concat([table, ood], ignore_index=True)


def summarise(table: pd.DataFrame, by: Sequence[str] = ("noise", "domain")) -> pd.DataFrame:
    """Mean accuracy and 95% t-interval across seeds for each group of ``by``."""
    rows = []
    for key, g in table.groupby(list(by)):
        m, lo, hi = mean_ci(g["accuracy"])
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))),
                     "mean": m, "lo": lo, "hi": hi, "sd": float(g["accuracy"].std(ddof=1)) if len(g) > 1 else 0.0,
                     "n_seeds": len(g)})
    return pd.DataFrame(rows)


def spectrum_table(feats: Mapping[tuple[int, float], Mapping[str, np.ndarray]],
                   domain: str = ID_DOMAIN, top_k: int = 5) -> pd.DataFrame:
    """Singular-value entropy and top-``top_k`` share of each model's features.

    Computed on the *test* features of ``domain`` with
    :func:`uim_utils.evaluate.spectrum_stats` (centred features).
    """
    rows = []
    for (seed, rate), f in feats.items():
        if domain not in f:
            raise ValueError(f"no features for domain {domain!r}; have {sorted(f)}")
        s = E.spectrum_stats(f[domain], top_k=top_k)
        rows.append({"seed": seed, "noise": rate, "entropy": s["entropy"],
                     "top_k_share": s["top_k_share"], "largest_share": s["largest_share"]})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- audit
@dataclass
class AuditResult:
    """What a label-issue audit found, scored against the ground truth.

    Attributes
    ----------
    flagged : bool array
        Pairs cleanlab flags as mislabelled.
    truth : bool array
        Pairs whose caption really names a wrong concept.
    precision, recall : float
        Of the flagged pairs, the share that are noisy; of the noisy pairs, the share
        flagged.
    base_rate : float
        Share of noisy pairs (the precision of flagging at random).
    """

    flagged: np.ndarray
    truth: np.ndarray
    precision: float
    recall: float
    base_rate: float


def audit_captions(
    feats: np.ndarray,
    caption_labels: np.ndarray,
    truth: np.ndarray,
    n_folds: int = 5,
    C: float = 1.0,
    seed: int = 0,
) -> AuditResult:
    """Find mislabelled image-caption pairs as a practitioner would.

    A logistic-regression probe predicts the concept a caption names from the image
    features; its out-of-sample probabilities (``sklearn.model_selection.cross_val_predict``)
    go to ``cleanlab.filter.find_label_issues`` (confident learning, Northcutt et al.
    2021), which flags the pairs whose given label is unlikely.

    Parameters
    ----------
    feats : array (N, D)
        Image features of the pairs.
    caption_labels : int array (N,)
        The concept each caption names (the "given", possibly wrong, label).
    truth : bool array (N,)
        Ground truth: True where the caption is wrong (only used for scoring).
    """
    from cleanlab.filter import find_label_issues
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    feats = np.asarray(feats)
    y = np.asarray(caption_labels)
    truth = np.asarray(truth, dtype=bool)
    if feats.ndim != 2 or len(feats) != len(y) or len(y) != len(truth):
        raise ValueError(f"feats {feats.shape}, caption_labels {y.shape} and truth {truth.shape} "
                         "must have the same number of rows (feats 2-D)")
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2, got {n_folds!r}")
    # cleanlab wants labels 0..K-1 with every class present.
    classes, y_idx = np.unique(y, return_inverse=True)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=500))
    cv = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    probs = cross_val_predict(clf, feats, y_idx, cv=cv, method="predict_proba")
    flagged = find_label_issues(y_idx, probs)
    tp = int((flagged & truth).sum())
    precision = tp / max(int(flagged.sum()), 1)
    recall = tp / max(int(truth.sum()), 1)
    return AuditResult(flagged, truth, float(precision), float(recall), float(truth.mean()))


# --------------------------------------------------------------------------- NMTune
@dataclass(frozen=True)
class NMTuneConfig:
    """Settings of NMTune (and of the plain MLP: all three weights zero).

    Attributes
    ----------
    l_mse, l_cov, l_svd : float
        Weights of the consistency, covariance and dominant-singular-value terms
        (reference defaults of Chen et al.'s code: 1.0, 0.04, 0.001).
    top_k : int
        Number of dominant singular values in the SVD term.
    hidden : int
        Hidden width of the residual MLP.
    epochs, batch_size, lr, weight_decay : training settings (AdamW).
    seed : int
    """

    l_mse: float = 1.0
    l_cov: float = 0.04
    l_svd: float = 0.001
    top_k: int = 5
    hidden: int = 256
    epochs: int = 60
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("l_mse", "l_cov", "l_svd", "weight_decay"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0 or not np.isfinite(v):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        for name in ("top_k", "hidden", "epochs", "batch_size"):
            check_int(name, getattr(self, name), 1)
        if not 0 < self.lr <= 1:
            raise ValueError(f"lr must be in (0, 1], got {self.lr!r}")


PLAIN_MLP = NMTuneConfig(l_mse=0.0, l_cov=0.0, l_svd=0.0)
"""The same residual MLP and head with cross-entropy only (the ablation baseline)."""


class NMTuneNet(torch.nn.Module):
    """Residual MLP ``h(f) = f + W2 gelu(W1 f)`` followed by a linear head."""

    def __init__(self, dim: int, hidden: int, n_classes: int) -> None:
        super().__init__()
        self.mlp = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.GELU(),
                                       torch.nn.Linear(hidden, dim))
        self.head = torch.nn.Linear(dim, n_classes)

    def embed(self, f: torch.Tensor) -> torch.Tensor:
        """The tuned features ``h(f)``."""
        return f + self.mlp(f)

    def forward(self, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.embed(f)
        return self.head(z), z


def nmtune_losses(z: torch.Tensor, f: torch.Tensor, top_k: int = 5) -> dict[str, torch.Tensor]:
    """The three NMTune regularisers of a batch (each to be weighted and added to CE).

    Parameters
    ----------
    z : tensor (B, D)
        Tuned features ``h(f)``.
    f : tensor (B, D)
        Frozen pre-trained features (detached here).
    top_k : int
        Dominant singular values averaged by the SVD term.

    Returns
    -------
    dict with
        ``mse``: mean squared error between the L2-normalised ``z`` and ``f`` (keeps the
        pre-trained knowledge); ``cov``: ``(1/D) sum_{i != j} Cov(z)_ij^2`` (decorrelates
        the dimensions, as in VICReg); ``svd``: the mean of the ``top_k`` largest
        normalised singular values ``sigma / sum(sigma)`` of ``z`` (to be *subtracted*:
        NMTune raises the dominant singular values that noise flattened).
    """
    if z.shape != f.shape or z.ndim != 2:
        raise ValueError(f"z {tuple(z.shape)} and f {tuple(f.shape)} must be equal 2-D shapes")
    if z.shape[0] < 2:
        raise ValueError(f"need a batch of at least 2, got {z.shape[0]}")
    b, d = z.shape
    mse = torch.nn.functional.mse_loss(torch.nn.functional.normalize(z, dim=1),
                                       torch.nn.functional.normalize(f.detach(), dim=1))
    zc = z - z.mean(dim=0, keepdim=True)
    cov = zc.T @ zc / (b - 1)
    off = cov - torch.diag(torch.diag(cov))
    cov_loss = off.pow(2).sum() / d
    s = torch.linalg.svdvals(z)
    k = min(top_k, s.numel())
    svd = (s / s.sum())[:k].mean()
    return {"mse": mse, "cov": cov_loss, "svd": svd}


@dataclass
class FittedHead:
    """A fitted NMTune (or MLP) head with the standardisation of its inputs."""

    net: NMTuneNet
    mean: np.ndarray
    scale: np.ndarray
    config: NMTuneConfig
    history: list[float]

    @torch.no_grad()
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class of each row of ``x``."""
        t = torch.from_numpy(((np.asarray(x, np.float32) - self.mean) / self.scale).astype(np.float32))
        self.net.eval()
        return self.net(t)[0].argmax(dim=1).numpy()


def fit_nmtune(x: np.ndarray, y: np.ndarray, config: NMTuneConfig = NMTuneConfig()) -> FittedHead:
    """Train NMTune on frozen features ``x`` with labels ``y``.

    Loss per batch: ``CE(head(h(f)), y) + l_mse * mse + l_cov * cov - l_svd * svd``
    (see :func:`nmtune_losses`). Features are standardised on the training set, as
    for the linear probe. With :data:`PLAIN_MLP` this is a plain MLP head.
    """
    x = np.asarray(x, np.float32)
    y = np.asarray(y)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"x {x.shape} must be 2-D with as many rows as y {y.shape}")
    if len(x) < 2:
        raise ValueError(f"need at least 2 training examples, got {len(x)}")
    classes = np.unique(y)
    if classes.min() < 0:
        raise ValueError(f"labels must be non-negative integers, got {classes.min()!r}")
    n_classes = int(classes.max()) + 1
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    xt = torch.from_numpy((x - mean) / scale)
    yt = torch.from_numpy(y.astype(np.int64))
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    net = NMTuneNet(x.shape[1], config.hidden, n_classes)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    bs = min(config.batch_size, len(x))
    regularised = config.l_mse or config.l_cov or config.l_svd
    history: list[float] = []
    net.train()
    for _ in range(config.epochs):
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for a in range(0, len(x) - bs + 1, bs):  # drop the ragged batch (the SVD needs rows)
            idx = perm[a:a + bs]
            logits, z = net(xt[idx])
            loss = torch.nn.functional.cross_entropy(logits, yt[idx])
            if regularised:
                r = nmtune_losses(z, xt[idx], config.top_k)
                loss = loss + config.l_mse * r["mse"] + config.l_cov * r["cov"] - config.l_svd * r["svd"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
        history.append(total)
    net.eval()
    return FittedHead(net, mean, scale, config, history)


HEADS: dict[str, NMTuneConfig | None] = {"linear probe": None, "MLP": PLAIN_MLP, "NMTune": NMTuneConfig()}
"""The three downstream heads compared in the chapter (``None`` = logistic regression)."""


def head_grid(
    feats: Mapping[tuple[int, float], Mapping[str, np.ndarray]],
    task: Downstream,
    heads: Mapping[str, NMTuneConfig | None] = HEADS,
    C: float = 1.0,
    progress: bool = True,
) -> pd.DataFrame:
    """Accuracy of each head (fitted on ID features) on every domain, per model.

    Returns a DataFrame with columns ``seed, noise, head, domain, accuracy``.
    """
    rows = []
    jobs = [(k, h) for k in feats for h in heads]
    for (seed, rate), name in tqdm(jobs, desc="heads (model, head)", disable=not progress):
        f = feats[(seed, rate)]
        cfg = heads[name]
        if cfg is None:
            _, preds = E.linear_probe(f["train"], task.train_labels, [f[d] for d in DOMAINS], C=C)
        else:
            fitted = fit_nmtune(f["train"], task.train_labels, replace(cfg, seed=seed))
            preds = [fitted.predict(f[d]) for d in DOMAINS]
        for d, p in zip(DOMAINS, preds):
            rows.append({"seed": seed, "noise": rate, "head": name, "domain": d,
                         "accuracy": E.accuracy(task.test[d][1], p)})
    return pd.DataFrame(rows)


def ablation_heads(base: NMTuneConfig = NMTuneConfig()) -> dict[str, NMTuneConfig]:
    """NMTune with each term alone and each term left out, plus the plain MLP."""
    z = dict(l_mse=0.0, l_cov=0.0, l_svd=0.0)
    full = dict(l_mse=base.l_mse, l_cov=base.l_cov, l_svd=base.l_svd)
    out = {"MLP (CE only)": replace(base, **z)}
    for term in ("l_mse", "l_cov", "l_svd"):
        out[f"+{term[2:]} only"] = replace(base, **{**z, term: full[term]})
    for term in ("l_mse", "l_cov", "l_svd"):
        out[f"all but {term[2:]}"] = replace(base, **{**full, term: 0.0})
    out["NMTune (all three)"] = base
    return out


# ----------------------------------------------------------------------------- wild
def shift_images(images: np.ndarray, kind: str = "noisy", seed: int = 0) -> np.ndarray:
    """A shifted copy of uint8 images ``(N, H, W, 3)``, the lab's OOD styles for real photos.

    ``"noisy"``: strong Gaussian pixel noise and washed-out contrast (like the lab's
    ``noisy`` domain); ``"recolor"``: the lab's false-colour map (channel rotation, then
    inversion); ``"gray"``: grey scale.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 images (N, H, W, 3), got {images.dtype} {images.shape}")
    x = images.astype(np.float32) / 255.0
    if kind == "noisy":
        rng = np.random.default_rng(seed)
        x = 0.5 + 0.6 * (x - 0.5) + rng.normal(0, 0.15, x.shape).astype(np.float32)
    elif kind == "recolor":
        x = 1.0 - x[..., [2, 0, 1]]
    elif kind == "gray":
        x = np.repeat(x @ np.array([0.299, 0.587, 0.114], np.float32), 3).reshape(x.shape)
    else:
        raise ValueError(f"unknown shift kind {kind!r}; choose noisy, recolor or gray")
    return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)


def encode_any(lm: LoadedModel, images: np.ndarray, batch_size: int = 256,
               progress: bool = False) -> np.ndarray:
    """Un-normalised image features of uint8 images for a lab *or* a wild model.

    A wild model's own ``preprocess`` (resize, crop, normalise) is applied to each image
    as a PIL image; a lab model (``preprocess is None``) gets the images resized to its
    input size and :func:`~uim_utils.models.lab_to_tensor`.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 images (N, H, W, 3), got {images.dtype} {images.shape}")
    if lm.preprocess is None:
        size = lm.model.visual.image_size
        size = size[0] if isinstance(size, (tuple, list)) else int(size)
        if images.shape[1] != size or images.shape[2] != size:
            t = torch.from_numpy(images).permute(0, 3, 1, 2).float()
            t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", antialias=True)
            images = t.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
        return E.encode_images(lm, images, batch_size=batch_size, normalize=False, progress=progress)
    from PIL import Image

    def batches() -> Iterable[torch.Tensor]:
        for a in range(0, len(images), batch_size):
            yield torch.stack([lm.preprocess(Image.fromarray(im)) for im in images[a:a + batch_size]])

    return E.encode_images(lm, batches(), normalize=False, progress=progress)


def wild_heads(
    lm: LoadedModel,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    shifts: Sequence[str] = ("noisy", "recolor", "gray"),
    heads: Mapping[str, NMTuneConfig | None] = HEADS,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Linear probe, MLP and NMTune on a real model's frozen features: ID and shifted test.

    Parameters
    ----------
    lm : LoadedModel
        Any ``open_clip`` model (a LAION checkpoint in the wild profile).
    train, test : (uint8 images, labels)
        A real downstream dataset (e.g. CIFAR-10); ``test`` is also shifted by each of
        ``shifts`` (:func:`shift_images`) for the OOD test sets.

    Returns
    -------
    DataFrame with columns ``head, domain, accuracy`` (domain ``"ID"`` or a shift).
    """
    xtr, ytr = train
    xte, yte = test
    ftr = encode_any(lm, xtr, progress=progress)
    sets = {"ID": encode_any(lm, xte, progress=progress)}
    for k in shifts:
        sets[k] = encode_any(lm, shift_images(xte, k, seed=seed), progress=progress)
    rows = []
    for name, cfg in heads.items():
        if cfg is None:
            _, preds = E.linear_probe(ftr, ytr, list(sets.values()))
        else:
            fitted = fit_nmtune(ftr, ytr, replace(cfg, seed=seed))
            preds = [fitted.predict(v) for v in sets.values()]
        for d, p in zip(sets, preds):
            rows.append({"head": name, "domain": d, "accuracy": E.accuracy(yte, p)})
    return pd.DataFrame(rows)


def config_dict(cfg: NMTuneConfig) -> dict:
    """Plain-dict form of an :class:`NMTuneConfig` (for tables)."""
    return asdict(cfg)
