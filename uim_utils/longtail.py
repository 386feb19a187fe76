"""The long tail: concept frequency in pre-training captions decides zero-shot accuracy.

The chapter "The long tail" (notebook 01) uses this module in three steps.

Understand
    :func:`count_concept_mentions` counts, with one DuckDB query, how many captions
    mention each concept and each of its names (synonyms). It reads any Parquet files
    with a caption column: the lab corpus written by :meth:`Corpus.to_parquet`, or a
    folder of LAION / CC12M caption shards (``"laion/*.parquet"``).
Interpret
    :func:`frequency_accuracy_fit` relates per-concept zero-shot accuracy to log
    frequency (least-squares slope with a t interval, Spearman correlation), optionally
    holding each concept's difficulty fixed (partial slope and partial Spearman);
    :func:`head_tail_masks` and :func:`group_correct` pick out the most and least
    frequent concepts' test examples (their intervals: :mod:`uim_utils.stats`).
Mitigate
    :func:`most_frequent_names` picks REAL-Prompt names (Parashar et al. 2024);
    :func:`estimate_prior_unlabelled` and :func:`estimate_prior_gla` estimate the label
    prior a zero-shot head inherited, and :func:`adjust_logits` removes it (Zhu et al.
    2023, in the spirit of Menon et al. 2021).
Wild
    :func:`load_laion_metrics` parses the per-class LAION frequency files published by
    the Neglected Tails authors (``analysis/laion/<dataset>/metrics-LAION400M.json``);
    :func:`fetch_laion_metrics` downloads one, failing fast offline.
"""

from __future__ import annotations

import glob
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .models import LoadedModel
from .offline import OfflineError, require_internet
from .validate import check_int, check_nonnegative

METRICS_URL = ("https://raw.githubusercontent.com/shubhamprshr27/NeglectedTailsVLM/main/"
               "analysis/laion/{dataset}/metrics-LAION400M.json")
"""Where the Neglected Tails repository publishes per-class LAION-400M frequencies."""

_TOKEN_SPLIT = "[^a-z0-9]+"


def normalize_term(term: str) -> str:
    """Lower-case a name and collapse every run of non-alphanumerics to one space.

    This is the normal form in which captions are matched, so ``"Night-Snake"`` and
    ``"night snake"`` are the same term.

    Examples
    --------
    >>> normalize_term("  Night-Snake ")
    'night snake'
    """
    if not isinstance(term, str):
        raise ValueError(f"a term must be a string, got {term!r}")
    out = " ".join(re.split(_TOKEN_SPLIT, term.lower())).strip()
    if not out:
        raise ValueError(f"term {term!r} has no letters or digits")
    return out


def terms_table(names: Sequence[Sequence[str]] | Mapping[int, Sequence[str]]) -> pd.DataFrame:
    """A table of (concept, name, term, n_words) from each concept's list of names.

    Parameters
    ----------
    names : sequence of sequences of str, or mapping concept -> names
        ``names[c]`` lists the names of concept ``c`` (e.g. ``world.names``, or the
        ``alternates`` of a LAION metrics file). Duplicated names within a concept are
        kept once.
    """
    items = names.items() if isinstance(names, Mapping) else enumerate(names)
    rows = []
    for c, ns in items:
        if isinstance(ns, str):
            raise ValueError(f"names of concept {c!r} must be a list of strings, got the string {ns!r}")
        seen = set()
        for n in ns:
            t = normalize_term(n)
            if t not in seen:
                seen.add(t)
                rows.append((int(c), str(n), t, len(t.split(" "))))
    if not rows:
        raise ValueError("no names to count")
    return pd.DataFrame(rows, columns=["concept", "name", "term", "n_words"])


def _parquet_source(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    if not paths:
        raise ValueError("no Parquet source given")
    out = []
    for p in paths:
        s = str(p)
        if any(ch in s for ch in "*?["):
            if not glob.glob(s, recursive=True):
                raise FileNotFoundError(f"no Parquet file matches {s!r}")
        elif Path(s).is_dir():
            s = str(Path(s) / "*.parquet")
            if not glob.glob(s):
                raise FileNotFoundError(f"no *.parquet file in folder {p!r}")
        elif not Path(s).is_file():
            raise FileNotFoundError(f"no Parquet file at {s!r}")
        out.append(s)
    return out


def count_concept_mentions(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    names: Sequence[Sequence[str]] | Mapping[int, Sequence[str]],
    caption_column: str = "caption",
    threads: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count captions that mention each concept and each of its names, with DuckDB.

    A caption mentions a name if the name's words appear consecutively in it as whole
    words, case-insensitively (``"a Night Snake!"`` mentions ``"night snake"``, and
    ``"snakes"`` does not mention ``"snake"``). Captions are split into words once and
    their word n-grams are joined to the names with a hash join, so the cost grows
    with the number of captions, not with captions x names as a regex scan would.

    Parameters
    ----------
    source : path, glob or list of them
        Parquet files with a caption column: the lab corpus (``corpus.to_parquet``), or
        e.g. ``"/data/laion400m/captions/*.parquet"`` (LAION's metadata shards, column
        ``caption``; CC12M converted to Parquet, column ``caption``). A folder means
        all ``*.parquet`` files in it.
    names : sequence of name lists, or mapping concept -> name list
        ``names[c]`` = the canonical name and synonyms of concept ``c``.
    caption_column : str
        Name of the caption column (``"TEXT"`` in some LAION releases).
    threads : int, optional
        DuckDB threads (default: DuckDB's choice, all cores).

    Returns
    -------
    per_name : DataFrame
        ``concept, name, term, count``: captions mentioning that name.
    per_concept : DataFrame
        ``concept, count``: captions mentioning *any* name of the concept (a caption
        that uses two synonyms counts once), every concept present (0 if unseen).

    Raises
    ------
    FileNotFoundError
        If nothing matches ``source``.
    ValueError
        If ``caption_column`` is not a column of the files, or a name is empty.
    """
    import duckdb

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", caption_column or ""):
        raise ValueError(f"caption_column must be a plain column name, got {caption_column!r}")
    files = _parquet_source(source)
    terms = terms_table(names)
    max_n = int(terms["n_words"].max())
    con = duckdb.connect()
    try:
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        con.register("terms", terms)
        src = "read_parquet($files, union_by_name = true, filename = true, file_row_number = true)"
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}", {"files": files}).fetchall()]
        if caption_column not in cols:
            raise ValueError(f"caption column {caption_column!r} is not in {files}; columns: {cols}")
        sql = _mentions_sql(src, caption_column, max_n)
        res = con.execute(sql, {"files": files}).df()
    finally:
        con.close()
    return _mention_tables(res, terms)


def _mentions_sql(src: str, caption_column: str, max_n: int) -> str:
    """The DuckDB query of :func:`count_concept_mentions`: one row per (caption, word
    n-gram), n = 1..``max_n``, joined to the ``terms`` table on equality, counted per name
    and per concept."""
    return f"""
        WITH caps AS (
            SELECT filename || ':' || file_row_number AS doc,
                   list_filter(regexp_split_to_array(lower(coalesce("{caption_column}", '')),
                                                     '{_TOKEN_SPLIT}'), lambda x: x <> '') AS w
            FROM {src}
        ),
        grams AS (
            SELECT DISTINCT doc, g AS term FROM (
                SELECT doc, unnest(list_concat(
                    {", ".join(
                        f"list_transform(range(1, len(w) + {2 - n}), lambda i: array_to_string(w[i:i + {n - 1}], ' '))"
                        for n in range(1, max_n + 1))}
                )) AS g FROM caps
            )
        ),
        hits AS (
            SELECT t.concept, t.term, g.doc FROM grams g JOIN terms t ON g.term = t.term
        )
        SELECT 'name' AS level, concept, term, count(DISTINCT doc) AS count FROM hits GROUP BY concept, term
        UNION ALL
        SELECT 'concept', concept, NULL, count(DISTINCT doc) FROM hits GROUP BY concept
        """


def _mention_tables(res: pd.DataFrame, terms: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``per_name`` and ``per_concept`` of :func:`count_concept_mentions` from the query's
    rows, every name and concept present (0 if never mentioned)."""
    by_name = res[res["level"] == "name"][["concept", "term", "count"]]
    per_name = terms.drop(columns="n_words").merge(by_name, on=["concept", "term"], how="left")
    per_name["count"] = per_name["count"].fillna(0).astype(np.int64)
    concepts = np.sort(terms["concept"].unique())
    by_c = res[res["level"] == "concept"].set_index("concept")["count"]
    per_concept = pd.DataFrame({"concept": concepts,
                                "count": by_c.reindex(concepts).fillna(0).astype(np.int64).to_numpy()})
    return per_name.reset_index(drop=True), per_concept


def most_frequent_names(per_name: pd.DataFrame, fallback: Sequence[str] | None = None) -> list[str]:
    """REAL-Prompt names: for each concept, the name mentioned in most captions.

    Ties go to the name listed first (the canonical name when it is tied).

    Parameters
    ----------
    per_name : DataFrame
        The first output of :func:`count_concept_mentions` (columns ``concept, name,
        count``), or any table with those columns.
    fallback : sequence of str, optional
        Names to use for concepts with no row (index = concept).
    """
    need = {"concept", "name", "count"}
    if not need <= set(per_name.columns):
        raise ValueError(f"per_name needs columns {sorted(need)}, got {list(per_name.columns)}")
    best: dict[int, str] = {}
    for c, grp in per_name.groupby("concept", sort=True):
        counts = grp["count"].to_numpy()
        best[int(c)] = str(grp["name"].to_numpy()[int(np.argmax(counts))])
    n = (max(best) + 1) if fallback is None else len(fallback)
    out = []
    for c in range(n):
        if c in best:
            out.append(best[c])
        elif fallback is not None:
            out.append(fallback[c])
        else:
            raise ValueError(f"concept {c} has no counted names and no fallback")
    return out


# --------------------------------------------------------------------- interpret
@dataclass(frozen=True)
class FrequencyFit:
    """Per-concept accuracy against log10 frequency.

    Attributes
    ----------
    slope, slope_low, slope_high : float
        Least-squares slope of accuracy per decade of frequency (per factor 10 of
        ``1 + count``) and its t interval.
    intercept : float
    spearman, spearman_p : float
        Spearman rank correlation and its two-sided p-value.
    n : int
        Number of concepts in the fit.
    controlled : bool
        Whether slope and correlation hold a per-concept difficulty fixed (partial
        slope, partial Spearman); see :func:`frequency_accuracy_fit`.
    """

    slope: float
    slope_low: float
    slope_high: float
    intercept: float
    spearman: float
    spearman_p: float
    n: int
    controlled: bool = False


def _residual(v: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Residual of ``v`` after a least-squares line on ``z``."""
    design = np.column_stack([np.ones_like(z), z])
    return v - design @ np.linalg.lstsq(design, v, rcond=None)[0]


def frequency_accuracy_fit(freq: np.ndarray, acc: np.ndarray, confidence: float = 0.95,
                           difficulty: np.ndarray | None = None) -> FrequencyFit:
    """Fit ``acc = a + b log10(1 + freq)`` (``scipy.stats.linregress``) and rank-correlate.

    The ``1 +`` keeps concepts never seen in pre-training (count 0) in the fit.

    With ``difficulty`` (how hard each concept is *whatever its frequency*, e.g. its
    accuracy under a model pre-trained on a uniform corpus of the same world and tested
    on the same images), the fit holds difficulty fixed: ``slope`` is the coefficient of
    log frequency in ``acc = a + b log10(1 + freq) + c difficulty`` (t interval on
    ``n - 3`` degrees of freedom), and ``spearman`` is the partial Spearman correlation:
    the Pearson correlation of the ranks of log frequency and of accuracy after a line
    on the ranks of difficulty is removed from each (p from a t test, ``n - 3`` degrees
    of freedom). This removes from the comparison the concept-to-concept variation that
    has nothing to do with frequency, so the frequency effect is measured with less noise.
    (SciPy has no partial correlation; ``pingouin.partial_corr(method="spearman")``
    computes the same number but would add a dependency for three lines.)

    Parameters
    ----------
    freq : array (K,)
        Pre-training frequency of each concept (caption counts, >= 0).
    acc : array (K,)
        Zero-shot accuracy of each concept; NaNs are dropped with their frequency.
    confidence : float
        Level of the slope's interval.
    difficulty : array (K,), optional
        A per-concept covariate to hold fixed; concepts where it is NaN are dropped.

    Returns
    -------
    FrequencyFit
        ``controlled`` says whether ``difficulty`` was held fixed; ``intercept`` is then
        the fit's value at zero frequency *and* zero difficulty.
    """
    x, y, z = _fit_inputs(freq, acc, confidence, difficulty)
    if z is None:
        lr = stats.linregress(x, y)
        t = stats.t.ppf(0.5 + confidence / 2, len(x) - 2)
        rho, p = stats.spearmanr(x, y)
        return FrequencyFit(float(lr.slope), float(lr.slope - t * lr.stderr), float(lr.slope + t * lr.stderr),
                            float(lr.intercept), float(rho), float(p), int(len(x)))
    return _controlled_fit(x, y, z, confidence)


def _fit_inputs(freq: np.ndarray, acc: np.ndarray, confidence: float,
                difficulty: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Checked inputs of :func:`frequency_accuracy_fit`: log10(1 + freq), accuracy and
    difficulty (``None`` if not given) of the concepts where none is NaN."""
    freq, acc = np.asarray(freq, dtype=float), np.asarray(acc, dtype=float)
    if freq.shape != acc.shape or freq.ndim != 1:
        raise ValueError(f"freq {freq.shape} and acc {acc.shape} must be equal 1-D shapes")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    ok = ~np.isnan(acc)
    if difficulty is not None:
        difficulty = np.asarray(difficulty, dtype=float)
        if difficulty.shape != acc.shape:
            raise ValueError(f"difficulty {difficulty.shape} must have the shape of acc {acc.shape}")
        ok &= ~np.isnan(difficulty)
    if (freq[ok] < 0).any() or not np.isfinite(freq[ok]).all():
        raise ValueError(f"frequencies must be finite counts >= 0, got min {freq[ok].min()!r}")
    x, y = np.log10(1.0 + freq[ok]), acc[ok]
    n_min = 3 if difficulty is None else 4
    if len(x) < n_min:
        raise ValueError(f"need at least {n_min} concepts, got {len(x)}")
    if np.ptp(x) == 0:
        raise ValueError("all frequencies are equal: the fit is undefined")
    return x, y, None if difficulty is None else difficulty[ok]


def _controlled_fit(x: np.ndarray, y: np.ndarray, z: np.ndarray, confidence: float) -> FrequencyFit:
    """The partial slope and partial Spearman of :func:`frequency_accuracy_fit` with
    difficulty ``z`` held fixed."""
    dof = len(x) - 3
    design = np.column_stack([np.ones_like(x), x, z])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    cov = resid @ resid / dof * np.linalg.pinv(design.T @ design)
    half = stats.t.ppf(0.5 + confidence / 2, dof) * np.sqrt(cov[1, 1])
    rx, ry = (_residual(stats.rankdata(v), stats.rankdata(z)) for v in (x, y))
    if not (rx.any() and ry.any()):
        raise ValueError("difficulty explains the ranks of frequency or accuracy entirely: "
                         "the partial correlation is undefined")
    rho = float(np.clip(np.corrcoef(rx, ry)[0, 1], -1.0, 1.0))
    p = float(2 * stats.t.sf(abs(rho) * np.sqrt(dof / max(1e-300, 1 - rho * rho)), dof))
    return FrequencyFit(float(coef[1]), float(coef[1] - half), float(coef[1] + half), float(coef[0]),
                        rho, p, int(len(x)), controlled=True)


def head_tail_masks(freq: np.ndarray, n_group: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the ``n_group`` most and least frequent concepts.

    Ties are broken by concept index (stable sort), so the split is deterministic.
    """
    freq = np.asarray(freq)
    if not 1 <= n_group <= len(freq) // 2:
        raise ValueError(f"n_group must be in [1, {len(freq) // 2}], got {n_group!r}")
    order = np.argsort(-freq, kind="stable")
    head = np.zeros(len(freq), bool)
    tail = np.zeros(len(freq), bool)
    head[order[:n_group]] = True
    tail[order[-n_group:]] = True
    return head, tail


def group_correct(y: np.ndarray, pred: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """0/1 correctness of the test examples whose true class is in ``mask``."""
    y, pred = np.asarray(y), np.asarray(pred)
    sel = np.asarray(mask)[y]
    return (y[sel] == pred[sel]).astype(float)


def gain_by_subset(y: np.ndarray, pred_before: np.ndarray, pred_after: np.ndarray, group: np.ndarray,
                   subsets: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Accuracy before and after a change, on subsets of a group of concepts.

    Used to take a mitigation's tail gain apart: e.g. REAL-Prompt changes the prompt of
    some tail concepts (``renamed``) and leaves others alone (``unchanged``), yet both
    can move, because every class competes with every other in the zero-shot head.

    Parameters
    ----------
    y, pred_before, pred_after : ndarray of int
        True labels and predictions before and after the change.
    group : ndarray of bool, shape (n_classes,)
        The concepts considered (e.g. the tail mask).
    subsets : mapping of str to ndarray of bool, shape (n_classes,)
        Named concept masks; each is intersected with ``group``.

    Returns
    -------
    DataFrame
        Indexed by subset name, columns ``concepts`` (how many), ``before``, ``after``
        and ``gain`` (accuracy on those concepts' test examples; NaN if none).
    """
    group = np.asarray(group, dtype=bool)
    if not len(y) == len(pred_before) == len(pred_after):
        raise ValueError(f"y, pred_before and pred_after differ in length: "
                         f"{len(y)}, {len(pred_before)}, {len(pred_after)}")
    rows = {}
    for name, mask in subsets.items():
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != group.shape:
            raise ValueError(f"subset {name!r} has shape {mask.shape}, expected {group.shape}")
        sel = group & mask
        b, a = group_correct(y, pred_before, sel), group_correct(y, pred_after, sel)
        before = float(b.mean()) if len(b) else float("nan")
        after = float(a.mean()) if len(a) else float("nan")
        rows[name] = {"concepts": int(sel.sum()), "before": before, "after": after, "gain": after - before}
    return pd.DataFrame.from_dict(rows, orient="index")


# ---------------------------------------------------------------------- mitigate
def _check_logits(logits: np.ndarray) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2 or logits.shape[0] < 1 or logits.shape[1] < 2:
        raise ValueError(f"logits must have shape (N >= 1, K >= 2), got {logits.shape}")
    if not np.isfinite(logits).all():
        raise ValueError("logits contain NaN or infinite values")
    return logits


def estimate_prior_unlabelled(logits: np.ndarray, n_iter: int = 1) -> np.ndarray:
    """The label prior a classifier prefers, from its predictions on unlabelled data.

    With ``n_iter = 1`` this is the mean predicted probability
    ``q = mean_x softmax(f(x))``: on data whose classes are balanced, a classifier
    without a prior would average to uniform, so ``q`` measures the prior it carries.
    Each further iteration re-estimates ``q`` from the adjusted logits ``f - log q``
    and multiplies it in (a fixed-point refinement that drives the mean prediction of
    the adjusted classifier to uniform).

    Parameters
    ----------
    logits : array (N, K)
        Calibrated-scale logits (e.g. ``logit_scale * cos``) on *class-balanced*,
        unlabelled images.
    n_iter : int
        Refinement steps, at least 1.

    Returns
    -------
    array (K,), positive, summing to 1.
    """
    logits = _check_logits(logits)
    check_int("n_iter", n_iter, 1)
    log_q = np.zeros(logits.shape[1])
    for _ in range(int(n_iter)):
        p = special.softmax(logits - log_q, axis=1).mean(axis=0)
        log_q = log_q + np.log(np.clip(p * logits.shape[1], 1e-12, None))
    q = special.softmax(log_q)
    return q


def estimate_prior_gla(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """GLA's prior: ``q* = argmin_q CE(softmax(f(x) - log q), y)`` over the simplex.

    Zhu et al. (2023) estimate the inherited prior on labelled *balanced* data; we
    parameterise ``q = softmax(z)`` and minimise with L-BFGS (``scipy.optimize``).
    """
    logits = _check_logits(logits)
    labels = np.asarray(labels)
    if labels.shape != (logits.shape[0],):
        raise ValueError(f"labels shape {labels.shape} does not match logits {logits.shape}")
    k = logits.shape[1]
    if labels.min() < 0 or labels.max() >= k:
        raise ValueError(f"labels must be in [0, {k - 1}], got range [{labels.min()}, {labels.max()}]")
    onehot = np.eye(k)[labels]

    def loss(z: np.ndarray) -> tuple[float, np.ndarray]:
        log_q = z - special.logsumexp(z)
        adj = logits - log_q
        lse = special.logsumexp(adj, axis=1)
        val = float((lse - adj[np.arange(len(labels)), labels]).mean())
        p = special.softmax(adj, axis=1)
        g_logq = -(p - onehot).mean(axis=0)  # d loss / d log q
        q = np.exp(log_q)
        g = g_logq - q * g_logq.sum()  # chain rule through log-softmax
        return val, g

    res = optimize.minimize(loss, np.zeros(k), jac=True, method="L-BFGS-B")
    return special.softmax(res.x)


def frequency_prior(prior: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """The part of an estimated prior that pre-training frequency explains.

    Fits ``log prior = a + b * log10(1 + freq)`` by least squares and returns the fitted
    prior, normalised to sum to 1. Subtracting its log removes the head's preference for
    frequent classes (the long-tail prior it inherited) and leaves alone the class-by-class
    preferences that have nothing to do with frequency, which a per-class estimate from
    few images also carries, with its noise.

    Parameters
    ----------
    prior : ndarray, shape (n_classes,)
        An estimated prior (e.g. :func:`estimate_prior_unlabelled`), all entries > 0.
    freq : ndarray, shape (n_classes,)
        Pre-training caption counts of the classes, all >= 0.
    """
    prior = np.asarray(prior, dtype=float)
    freq = np.asarray(freq, dtype=float)
    if prior.ndim != 1 or prior.shape != freq.shape or len(prior) < 2:
        raise ValueError(f"prior and freq must be 1-D of the same length >= 2, got {prior.shape} and {freq.shape}")
    if not np.all(np.isfinite(prior)) or np.any(prior <= 0):
        raise ValueError(f"prior must be finite and > 0, got min {prior.min()!r}")
    if not np.all(np.isfinite(freq)) or np.any(freq < 0):
        raise ValueError(f"freq must be finite and >= 0, got min {freq.min()!r}")
    x = np.log10(1 + freq)
    if np.ptp(x) == 0:
        return np.full_like(prior, 1 / len(prior))    # all classes equally frequent: nothing to remove
    slope, intercept = np.polyfit(x, np.log(prior), 1)
    fitted = np.exp(intercept + slope * x)
    return fitted / fitted.sum()


def adjust_logits(logits: np.ndarray, prior: np.ndarray, tau: float = 1.0) -> np.ndarray:
    """Logit adjustment: ``f(x) - tau * log(prior)`` (Menon et al. 2021; GLA)."""
    logits = _check_logits(logits)
    prior = np.asarray(prior, dtype=np.float64)
    if prior.shape != (logits.shape[1],):
        raise ValueError(f"prior shape {prior.shape} does not match {logits.shape[1]} classes")
    if (prior <= 0).any() or not np.isclose(prior.sum(), 1.0, atol=1e-6):
        raise ValueError(f"prior must be positive and sum to 1, got sum {prior.sum()!r}, min {prior.min()!r}")
    check_nonnegative("tau", tau)
    return logits - tau * np.log(prior)


# -------------------------------------------------------------------------- wild
def load_laion_metrics(source: str | os.PathLike[str] | Mapping) -> pd.DataFrame:
    """Parse a Neglected-Tails per-class frequency file into a table.

    The file is a JSON object keyed by class index; each value has ``name``,
    ``alternates`` (``{synonym: caption count}``), ``most_common_name`` and
    ``actual_freq`` (captions mentioning the class by any of its names).

    Parameters
    ----------
    source : path, or the already-parsed dict

    Returns
    -------
    DataFrame
        One row per class, sorted by class index: ``class_idx, name,
        most_common_name, actual_freq, alternates`` (a dict), ``n_alternates``.
    """
    if isinstance(source, Mapping):
        raw = source
        where = "metrics dict"
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"no metrics file at {path}")
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc})") from None
        where = str(path)
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(f"{where}: expected a non-empty JSON object keyed by class index")
    rows = []
    for key, v in raw.items():
        try:
            idx = int(key)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: key {key!r} is not a class index") from None
        if not isinstance(v, Mapping):
            raise ValueError(f"{where}: entry {key!r} is not an object")
        missing = {"name", "alternates", "most_common_name", "actual_freq"} - set(v)
        if missing:
            raise ValueError(f"{where}: entry {key!r} lacks {sorted(missing)}")
        alts = v["alternates"]
        if not isinstance(alts, Mapping):
            raise ValueError(f"{where}: alternates of entry {key!r} must be an object, got {alts!r}")
        try:
            alts = {str(a): int(c) for a, c in alts.items()}
            freq = int(v["actual_freq"])
        except (TypeError, ValueError):
            raise ValueError(f"{where}: entry {key!r} has a non-integer count") from None
        rows.append({"class_idx": idx, "name": str(v["name"]), "most_common_name": str(v["most_common_name"]),
                     "actual_freq": freq, "alternates": alts, "n_alternates": len(alts)})
    df = pd.DataFrame(rows).sort_values("class_idx").reset_index(drop=True)
    if df["class_idx"].duplicated().any() or not np.array_equal(df["class_idx"], np.arange(len(df))):
        raise ValueError(f"{where}: class indices must be 0..{len(df) - 1}, got {df['class_idx'].tolist()[:10]}...")
    return df


def metrics_per_name(metrics: pd.DataFrame) -> pd.DataFrame:
    """Long table ``concept, name, count`` from parsed metrics (input of :func:`most_frequent_names`).

    The class's own name comes first (so it wins ties), then its alternates.
    """
    rows = []
    for r in metrics.itertuples():
        alts = dict(r.alternates)
        rows.append((r.class_idx, r.name, int(alts.get(r.name, 0))))
        rows += [(r.class_idx, a, c) for a, c in alts.items() if a != r.name]
    return pd.DataFrame(rows, columns=["concept", "name", "count"])


def fetch_laion_metrics(dataset: str, dest: str | os.PathLike[str], url: str | None = None,
                        timeout: float = 10.0) -> Path:
    """Download the LAION-400M metrics file of ``dataset`` (e.g. ``"flowers102"``).

    Returns the local path (reused if already downloaded).

    Raises
    ------
    uim_utils.offline.OfflineError
        If the download fails (no internet, or offline mode): one sentence, at once.
    """
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", dataset or ""):
        raise ValueError(f"dataset must be a plain name like 'flowers102', got {dataset!r}")
    dest = Path(dest)
    path = dest / f"{dataset}-metrics-LAION400M.json"
    if path.is_file():
        return path
    url = url or METRICS_URL.format(dataset=dataset)
    require_internet(f"Downloading {url}", url, timeout)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data = resp.read()
    except (urllib.error.URLError, OSError) as exc:
        raise OfflineError(f"Downloading {url} needs the internet, but it failed ({exc}).") from None
    load_laion_metrics(json.loads(data))  # validate before keeping it
    from .cache import atomic_write_bytes

    return atomic_write_bytes(path, data)


@dataclass
class WildResult:
    """What :func:`wild_pipeline` measured on one dataset.

    Attributes
    ----------
    per_class : DataFrame
        ``class_idx, name, real_name, freq, acc_zero_shot, acc_real, acc_adjusted``.
    summary : DataFrame
        Overall, head and tail accuracy per method.
    fit : FrequencyFit
        Zero-shot accuracy against log10(1 + LAION frequency).
    prior : ndarray
        The prior estimated from unlabelled images.
    """

    per_class: pd.DataFrame
    summary: pd.DataFrame
    fit: FrequencyFit
    prior: np.ndarray


def wild_pipeline(
    lm: LoadedModel,
    metrics: pd.DataFrame,
    test_images: np.ndarray | Iterable[Any],
    test_labels: np.ndarray,
    unlabelled_images: np.ndarray | Iterable[Any],
    n_group: int = 20,
    templates: Sequence[str] | None = None,
    batch_size: int = 256,
) -> WildResult:
    """Frequency-accuracy fit, REAL-Prompt and logit adjustment for any CLIP and dataset.

    The same steps as the lab part of the chapter, with the class names and caption
    counts taken from a parsed metrics table (:func:`load_laion_metrics`).

    Parameters
    ----------
    lm : LoadedModel
        A lab or wild CLIP.
    metrics : DataFrame
        Parsed per-class frequencies; row ``i`` describes label ``i``.
    test_images, unlabelled_images
        uint8 arrays (lab), preprocessed tensors, or DataLoaders (wild).
    test_labels : int array
        Labels of ``test_images``.
    n_group : int
        Concepts in the head and in the tail.
    """
    from .evaluate import accuracy, encode_images, per_class_accuracy, zero_shot_classify

    k = len(metrics)
    test_labels = np.asarray(test_labels)
    if test_labels.size == 0 or test_labels.min() < 0 or test_labels.max() >= k:
        raise ValueError(f"test labels must be in [0, {k - 1}] for a metrics table of {k} classes")
    names = metrics["name"].tolist()
    real = most_frequent_names(metrics_per_name(metrics), fallback=names)
    freq = metrics["actual_freq"].to_numpy()
    f_test = encode_images(lm, test_images, batch_size=batch_size)
    f_unl = encode_images(lm, unlabelled_images, batch_size=batch_size)
    base, unl = zero_shot_classify(lm, names, [f_test, f_unl], templates, learned_scale=True)
    real_logits = zero_shot_classify(lm, real, f_test, templates, learned_scale=True)
    prior = estimate_prior_unlabelled(unl, n_iter=5)
    methods = {"zero-shot": base, "REAL-Prompt": real_logits, "logit adj. (unlabelled)": adjust_logits(base, prior)}
    head, tail = head_tail_masks(freq, n_group)
    rows, per_class = [], metrics[["class_idx", "name"]].copy()
    per_class["real_name"] = real
    per_class["freq"] = freq
    for key, col in zip(methods, ("acc_zero_shot", "acc_real", "acc_adjusted")):
        pred = methods[key].argmax(axis=1)
        per_class[col] = per_class_accuracy(test_labels, pred, k)
        rows.append({"method": key, "overall": accuracy(test_labels, pred),
                     "head": float(group_correct(test_labels, pred, head).mean()),
                     "tail": float(group_correct(test_labels, pred, tail).mean())})
    fit = frequency_accuracy_fit(freq, per_class["acc_zero_shot"].to_numpy())
    return WildResult(per_class, pd.DataFrame(rows).set_index("method"), fit, prior)


_TORCHVISION = {"flowers102": ("Flowers102", "test", "val"), "dtd": ("DTD", "test", "val")}
"""Dataset name -> (torchvision class, test split, split used as unlabelled images)."""


def run_wild(dataset: str, model_name: str, pretrained: str, root: str | os.PathLike[str],
             n_group: int = 20, templates: Sequence[str] | None = None,
             device: str | None = None, batch_size: int = 128) -> WildResult:
    """Download a LAION CLIP, a torchvision dataset and its LAION counts; run :func:`wild_pipeline`.

    The metrics file is fetched first, so without internet this fails within seconds
    with :class:`~uim_utils.offline.OfflineError`. The class order of the metrics
    file is assumed to be torchvision's label order (true for Flowers102 and DTD).
    """
    import torch
    import torchvision

    from .models import load_model

    if dataset not in _TORCHVISION:
        raise ValueError(f"unknown wild dataset {dataset!r}; choose one of {', '.join(_TORCHVISION)}")
    root = Path(root)
    metrics = load_laion_metrics(fetch_laion_metrics(dataset, root))
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    lm = load_model(model_name, pretrained, device=device)
    cls_name, test_split, unl_split = _TORCHVISION[dataset]
    cls = getattr(torchvision.datasets, cls_name)
    try:
        test = cls(root, split=test_split, download=True, transform=lm.preprocess)
        unl = cls(root, split=unl_split, download=True, transform=lm.preprocess)
    except (urllib.error.URLError, OSError, RuntimeError) as exc:
        raise OfflineError(f"Downloading {cls_name} needs the internet, but it failed ({exc}).") from None
    labels = np.asarray(test._labels)  # torchvision keeps the labels without loading images
    if len(metrics) != len(test.classes):
        raise ValueError(f"metrics has {len(metrics)} classes but {cls_name} has {len(test.classes)}")
    loader = torch.utils.data.DataLoader
    return wild_pipeline(lm, metrics, loader(test, batch_size=batch_size, num_workers=2),
                         labels, loader(unl, batch_size=batch_size, num_workers=2),
                         n_group=n_group, templates=templates, batch_size=batch_size)
