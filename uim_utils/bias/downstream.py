"""The downstream task: a work-vs-home topic classifier and its counterfactual gender swap.

:func:`build_task` writes the template sentences, :func:`evaluate_downstream` trains a
linear probe on (possibly debiased) embeddings and measures accuracy, counterfactual
and placebo flips, the P(work) gap and how much gender a probe can still recover;
:func:`summarise_downstream` and :func:`share_by_gender` turn a result into table rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..stats import bootstrap_interval, crossed_bootstrap
from .words import validate_words


def sentence(subject: str, activity: str) -> str:
    """``"<Subject> <activity>."``"""
    return f"{subject} {activity}."


@dataclass
class TaskData:
    """Sentences of the downstream task.

    ``train``: text, label (1 = work, 0 = home), gender ("m"/"f"), subject, activity.
    ``test`` and ``ambiguous``: one row per counterfactual pair, with ``text_m`` and
    ``text_f`` that differ only in the subject; ``label`` is -1 for ambiguous rows.
    """

    train: pd.DataFrame
    test: pd.DataFrame
    ambiguous: pd.DataFrame
    train_subjects: dict[str, list[str]]
    test_pairs: list[tuple[str, str]]


def build_task(
    task: Mapping[str, Any],
    *,
    seed: int,
    subjects_per_activity: int = 8,
    n_test_name_pairs: int = 12,
    test_fraction: float = 0.3,
) -> TaskData:
    """Template sentences for the work-vs-home task, gender-balanced in every label.

    Names are split at random into training and test names (half each); activities of
    each label are split into training and test activities. Each training activity
    gets ``subjects_per_activity`` subjects, half male and half female, so gender
    carries no information about the label. Test and ambiguous rows are counterfactual
    pairs: the same activity with a male and the matching female subject (held-out
    names and kinship nouns that are not among the debiasing defining pairs).
    """
    if subjects_per_activity < 2 or subjects_per_activity % 2:
        raise ValueError(f"subjects_per_activity must be an even number >= 2, got {subjects_per_activity!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    rng = np.random.default_rng(seed)
    lists = _task_word_lists(task)
    tr_m, tr_f, test_pairs = _split_subjects(task, lists, rng, n_test_name_pairs)
    train, test_rows = _training_sentences(lists, tr_m, tr_f, rng, subjects_per_activity, test_fraction)
    return TaskData(
        train=train,
        test=_pairs_frame(test_rows, test_pairs),
        ambiguous=_pairs_frame([(a, -1) for a in lists["ambiguous"]], test_pairs),
        train_subjects={"m": tr_m, "f": tr_f},
        test_pairs=test_pairs,
    )


def _task_word_lists(task: Mapping[str, Any]) -> dict[str, list[str]]:
    """The validated activity and name lists of the task's specification.

    Parameters
    ----------
    task : mapping
        The ``"task"`` entry of the word-list file.

    Returns
    -------
    dict of str to list of str
        ``"career"``, ``"family"``, ``"ambiguous"``, ``"male_names"``, ``"female_names"``.

    Raises
    ------
    ValueError
        On a bad entry (see :func:`~uim_utils.bias.words.validate_words`) or when there
        are not as many male as female names.
    """
    lists = {}
    for k in ("career", "family", "ambiguous", "male_names", "female_names"):
        lists[k] = list(validate_words(task[k], k, "task"))
    if len(lists["male_names"]) != len(lists["female_names"]):
        raise ValueError(
            f"unbalanced name lists: {len(lists['male_names'])} male vs "
            f"{len(lists['female_names'])} female names"
        )
    return lists


def _split_subjects(
    task: Mapping[str, Any],
    lists: Mapping[str, list[str]],
    rng: np.random.Generator,
    n_test_name_pairs: int,
) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Shuffle the names and split them into training subjects and held-out test pairs.

    Parameters
    ----------
    task : mapping
        The task's specification (for its ``train_noun_pairs`` and ``test_noun_pairs``).
    lists : mapping
        The validated lists from :func:`_task_word_lists`.
    rng : numpy.random.Generator
        Draws the two name permutations (male first).
    n_test_name_pairs : int
        How many held-out (male, female) name pairs the test pairs use.

    Returns
    -------
    tr_m, tr_f : list of str
        Male and female training subjects: half of the names, then the training nouns.
    test_pairs : list of (str, str)
        Held-out (male, female) name pairs, then the test noun pairs.

    Raises
    ------
    ValueError
        If ``n_test_name_pairs`` exceeds the number of held-out name pairs.
    """
    m_names = list(rng.permutation(lists["male_names"]))
    f_names = list(rng.permutation(lists["female_names"]))
    half = len(m_names) // 2
    if n_test_name_pairs > len(m_names) - half:
        raise ValueError(f"n_test_name_pairs={n_test_name_pairs} exceeds the {len(m_names) - half} held-out name pairs")
    tr_m = m_names[:half] + [p[0] for p in task["train_noun_pairs"]]
    tr_f = f_names[:half] + [p[1] for p in task["train_noun_pairs"]]
    test_pairs = list(zip(m_names[half : half + n_test_name_pairs], f_names[half : half + n_test_name_pairs]))
    test_pairs += [tuple(p) for p in task["test_noun_pairs"]]
    return tr_m, tr_f, test_pairs


def _training_sentences(
    lists: Mapping[str, list[str]],
    tr_m: Sequence[str],
    tr_f: Sequence[str],
    rng: np.random.Generator,
    subjects_per_activity: int,
    test_fraction: float,
) -> tuple[pd.DataFrame, list[tuple[str, int]]]:
    """Split each label's activities and write the shuffled training sentences.

    Parameters
    ----------
    lists : mapping
        The validated lists from :func:`_task_word_lists`.
    tr_m, tr_f : sequence of str
        Male and female training subjects.
    rng : numpy.random.Generator
        Draws, in this order: per label (work, then home) the activity permutation and
        the subjects of each training activity; then the seed of the final shuffle.
    subjects_per_activity : int
        Subjects per training activity, half of them male.
    test_fraction : float
        Share of each label's activities held out for testing (at least one).

    Returns
    -------
    train : pandas.DataFrame
        Columns ``text``, ``label``, ``gender``, ``subject``, ``activity``; shuffled.
    test_rows : list of (str, int)
        The held-out (activity, label) pairs.
    """
    rows, test_rows = [], []
    for label, key in ((1, "career"), (0, "family")):
        acts = list(rng.permutation(lists[key]))
        n_test = max(1, round(test_fraction * len(acts)))
        for act in acts[n_test:]:
            k = subjects_per_activity // 2
            for g, pool in (("m", tr_m), ("f", tr_f)):
                for subj in rng.choice(pool, size=k, replace=False):
                    rows.append({"text": sentence(subj, act), "label": label, "gender": g,
                                 "subject": subj, "activity": act})
        for act in acts[:n_test]:
            test_rows.append((act, label))
    train = pd.DataFrame(rows).sample(frac=1.0, random_state=int(rng.integers(2**31))).reset_index(drop=True)
    return train, test_rows


def _pairs_frame(items: list[tuple[str, int]], test_pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """One counterfactual row per (activity, label) item and (male, female) subject pair.

    Parameters
    ----------
    items : list of (str, int)
        Activities with their label (-1 for ambiguous activities).
    test_pairs : sequence of (str, str)
        The held-out (male, female) subject pairs.

    Returns
    -------
    pandas.DataFrame
        Columns ``activity``, ``label``, ``subject_m``, ``subject_f``, ``text_m``, ``text_f``.
    """
    out = []
    for act, label in items:
        for sm, sf in test_pairs:
            out.append({"activity": act, "label": label, "subject_m": sm, "subject_f": sf,
                        "text_m": sentence(sm, act), "text_f": sentence(sf, act)})
    return pd.DataFrame(out)


def fit_probe(E: np.ndarray, y: np.ndarray, C: float = 1.0, seed: int = 0) -> Any:
    """A logistic-regression classifier on frozen embeddings (a linear probe)."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        raise ValueError(f"need two classes to fit a probe, got labels {np.unique(y).tolist()}")
    return LogisticRegression(C=C, max_iter=5000, random_state=seed).fit(np.asarray(E), y)


def counterfactual_flips(clf: Any, E_m: np.ndarray, E_f: np.ndarray) -> np.ndarray:
    """Per pair: does the predicted label change when only the gender is swapped?"""
    if np.shape(E_m) != np.shape(E_f):
        raise ValueError(f"paired embeddings differ in shape: {np.shape(E_m)} vs {np.shape(E_f)}")
    return clf.predict(E_m) != clf.predict(E_f)


def placebo_flips(pred_m: np.ndarray, pred_f: np.ndarray, groups: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Flips under a *same-gender* swap: the placebo for :func:`counterfactual_flips`.

    Within each group (rows that share an activity), each male subject's prediction is
    compared with the next male subject's, and likewise for female subjects. A
    classifier that reacts to *who* the subject is, not to their gender, flips here as
    often as under the gender swap.
    """
    pred_m, pred_f, groups = np.asarray(pred_m), np.asarray(pred_f), np.asarray(groups)
    if not (pred_m.shape == pred_f.shape == groups.shape):
        raise ValueError(f"shapes differ: {pred_m.shape}, {pred_f.shape}, {groups.shape}")
    out = []
    for g in dict.fromkeys(groups.tolist()):
        i = np.flatnonzero(groups == g)
        if len(i) < 2:
            raise ValueError(f"group {g!r} has a single pair; a placebo swap needs two")
        out.append(pred_m[i] != np.roll(pred_m[i], 1))
        out.append(pred_f[i] != np.roll(pred_f[i], 1))
    return np.concatenate(out)


def gender_recovery_accuracy(
    E_train: np.ndarray, g_train: Sequence[str], E_test: np.ndarray, g_test: Sequence[str], C: float = 1.0
) -> float:
    """Held-out accuracy of a linear probe that predicts the subject's gender.

    Chance is 0.5 for balanced data. A high value after debiasing means gender is
    still linearly encoded (Gonen & Goldberg 2019).
    """
    clf = fit_probe(E_train, np.asarray(g_train))
    return float(np.mean(clf.predict(E_test) == np.asarray(g_test)))


def fairness_frame(y_true: np.ndarray, y_pred: np.ndarray, gender: Sequence[str]) -> Any:
    """A fairlearn ``MetricFrame`` of accuracy and selection rate by gender."""
    from fairlearn.metrics import MetricFrame, selection_rate
    from sklearn.metrics import accuracy_score

    return MetricFrame(
        metrics={"accuracy": accuracy_score, "selection rate (work)": selection_rate},
        y_true=np.asarray(y_true), y_pred=np.asarray(y_pred), sensitive_features=pd.Series(list(gender), name="gender"),
    )


@dataclass
class DownstreamResult:
    """Everything the chapter measures about one (possibly debiased) embedding.

    Attributes
    ----------
    method : str
        E.g. ``"none"``, ``"P0"``, ``"P*"``.
    accuracy : float
        Accuracy on the labelled held-out pairs (both genders' sentences).
    flips : bool array
        Per ambiguous pair: does the gender swap change the prediction?
    placebo : bool array
        Same-gender swaps of the ambiguous sentences (see :func:`placebo_flips`).
    gap : float array
        Per ambiguous pair: P(work | male version) - P(work | female version).
    prob_m, prob_f : float arrays
        P(work) for the ambiguous pairs' male and female versions.
    pred_m, pred_f : int arrays
        Predictions on the ambiguous pairs' male and female versions.
    test_pred : int array
        Predictions on the labelled pairs, male rows then female rows.
    recovery : float
        Held-out accuracy of a probe predicting the subject's gender.
    test_prob : float array
        P(true label) on the labelled pairs, male rows then female rows (a smooth
        accuracy that is not at its ceiling when every prediction is right).
    recovery_hits : bool array
        Per held-out sentence (test_m, amb_m, test_f, amb_f rows): is the gender probe right?
    """

    method: str
    accuracy: float
    flips: np.ndarray
    placebo: np.ndarray
    gap: np.ndarray
    prob_m: np.ndarray
    prob_f: np.ndarray
    pred_m: np.ndarray
    pred_f: np.ndarray
    test_pred: np.ndarray
    recovery: float
    test_prob: np.ndarray | None = None
    recovery_hits: np.ndarray | None = None


def evaluate_downstream(
    task: TaskData,
    emb: Mapping[str, np.ndarray],
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    method: str = "none",
    C: float = 1.0,
    seed: int = 0,
) -> DownstreamResult:
    """Train the work-vs-home probe on (transformed) embeddings and measure it.

    ``emb`` maps ``"train"``, ``"test_m"``, ``"test_f"``, ``"amb_m"``, ``"amb_f"`` to
    the embeddings of ``task.train.text``, ``task.test.text_m`` / ``text_f`` and
    ``task.ambiguous.text_m`` / ``text_f``. The same ``transform`` (a debiasing
    projection) is applied to every split before training and testing.
    """
    need = {"train": len(task.train), "test_m": len(task.test), "test_f": len(task.test),
            "amb_m": len(task.ambiguous), "amb_f": len(task.ambiguous)}
    for k, n in need.items():
        if k not in emb:
            raise ValueError(f"missing embeddings {k!r}; need {', '.join(need)}")
        if len(emb[k]) != n:
            raise ValueError(f"embeddings {k!r} have {len(emb[k])} rows, the task has {n}")
    f = transform or (lambda E: np.asarray(E, dtype=np.float64))
    E = {k: f(v) for k, v in emb.items()}
    clf = fit_probe(E["train"], task.train["label"].to_numpy(), C=C, seed=seed)
    y_test = np.r_[task.test["label"].to_numpy(), task.test["label"].to_numpy()]
    test_pred = clf.predict(np.vstack([E["test_m"], E["test_f"]]))
    pm, pf = clf.predict(E["amb_m"]), clf.predict(E["amb_f"])
    qm, qf = clf.predict_proba(E["amb_m"])[:, 1], clf.predict_proba(E["amb_f"])[:, 1]
    n_t, n_a = len(task.test), len(task.ambiguous)
    g_clf = fit_probe(E["train"], task.train["gender"].to_numpy(), C=C)
    g_true = np.array(["m"] * (n_t + n_a) + ["f"] * (n_t + n_a))
    hits = g_clf.predict(np.vstack([E["test_m"], E["amb_m"], E["test_f"], E["amb_f"]])) == g_true
    recovery = float(np.mean(hits))
    p_work = clf.predict_proba(np.vstack([E["test_m"], E["test_f"]]))[:, 1]
    return DownstreamResult(
        method=method,
        accuracy=float(np.mean(test_pred == y_test)),
        flips=pm != pf,
        placebo=placebo_flips(pm, pf, task.ambiguous["activity"].to_numpy()),
        gap=qm - qf,
        prob_m=qm,
        prob_f=qf,
        pred_m=pm, pred_f=pf, test_pred=test_pred, recovery=recovery,
        test_prob=np.where(y_test == 1, p_work, 1.0 - p_work), recovery_hits=hits,
    )


def share_by_gender(res: DownstreamResult, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Share of ambiguous sentences routed to "work", by the subject's gender, with CIs."""
    rows = []
    for g, pred in (("male subject", res.pred_m), ("female subject", res.pred_f)):
        m, lo, hi = bootstrap_interval(pred, n_boot=n_boot, seed=seed, unit="pairs").as_tuple()
        rows.append({"gender": g, "share": m, "lo": lo, "hi": hi, "method": res.method})
    return pd.DataFrame(rows)


def pair_units(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The crossed units of a frame of counterfactual pairs: its activity and its subject pair, per row."""
    for col in ("activity", "subject_m", "subject_f"):
        if col not in frame:
            raise ValueError(f"a frame of counterfactual pairs needs column {col!r}; it has {list(frame.columns)}")
    return frame["activity"].to_numpy(), (frame["subject_m"] + "/" + frame["subject_f"]).to_numpy()


def placebo_units(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Activity and subject pair of every placebo swap, in the order of :func:`placebo_flips`."""
    acts, pairs = pair_units(frame)
    rows, cols = [], []
    for g in dict.fromkeys(acts.tolist()):
        i = np.flatnonzero(acts == g)
        for _ in ("m", "f"):
            rows.append(acts[i])
            cols.append(pairs[i])
    return np.concatenate(rows), np.concatenate(cols)


def summarise_downstream(res: DownstreamResult, n_boot: int = 1000, seed: int = 0,
                         pairs: pd.DataFrame | None = None) -> dict[str, Any]:
    """One row of the mitigation table: accuracy, flip rates, gap, parity, recovery.

    Means come with 95% bootstrap intervals (``lo``/``hi``): over activities x subject
    pairs as crossed units (:func:`uim_utils.stats.crossed_bootstrap`) if ``pairs`` (the
    task's ``ambiguous`` frame) is given, else over pairs as if they were independent
    (:func:`uim_utils.stats.bootstrap_interval`); ``n_boot`` >= 100. The
    demographic-parity difference of the ambiguous predictions is fairlearn's.
    """
    from fairlearn.metrics import demographic_parity_difference

    n = len(res.pred_m)
    if pairs is not None:
        if len(pairs) != n:
            raise ValueError(f"pairs has {len(pairs)} rows, the result {n} ambiguous pairs")
        r, c = pair_units(pairs)
        pr, pc = placebo_units(pairs)
        unit = "activities x subject pairs"
        flip = crossed_bootstrap(res.flips, r, c, n_boot=n_boot, seed=seed, unit=unit).as_tuple()
        plac = crossed_bootstrap(res.placebo, pr, pc, n_boot=n_boot, seed=seed, unit=unit).as_tuple()
        gap = crossed_bootstrap(res.gap, r, c, n_boot=n_boot, seed=seed, unit=unit).as_tuple()
    else:
        flip = bootstrap_interval(res.flips, n_boot=n_boot, seed=seed, unit="pairs").as_tuple()
        plac = bootstrap_interval(res.placebo, n_boot=n_boot, seed=seed, unit="pairs").as_tuple()
        gap = bootstrap_interval(res.gap, n_boot=n_boot, seed=seed, unit="pairs").as_tuple()
    dpd = demographic_parity_difference(
        np.zeros(2 * n), np.r_[res.pred_m, res.pred_f],
        sensitive_features=pd.Series(["m"] * n + ["f"] * n, name="gender"),
    )
    return {"method": res.method, "accuracy": res.accuracy,
            "flip rate": flip[0], "flip lo": flip[1], "flip hi": flip[2],
            "placebo flip rate": plac[0], "placebo lo": plac[1], "placebo hi": plac[2],
            "P(work) gap": gap[0], "gap lo": gap[1], "gap hi": gap[2],
            "demographic parity diff.": float(dpd), "gender recovery": res.recovery}
