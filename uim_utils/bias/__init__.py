"""Social bias in a pretrained text encoder: measure it, follow it downstream, project it out.

The chapter "Social bias" (notebook 03) uses this package in three steps.

Understand
    WEAT/SEAT association tests (Caliskan et al. 2017; May et al. 2019): effect sizes,
    one-sided permutation p-values and bootstrap confidence intervals, on embeddings of
    bare words or of words wrapped in semantically bleached sentence templates.
Interpret
    A downstream topic classifier (work vs home life) trained on the encoder's
    embeddings; the counterfactual flip rate when only the subject's gender is swapped.
Mitigate
    Closed-form projection debiasing (Chuang et al. 2023): ``P0 = I - V (V^T V)^-1 V^T``
    and the calibrated ``P* = P0 (I + lambda M)^-1``; and a probe that checks how much
    gender a classifier can still recover afterwards (Gonen & Goldberg 2019).

Modules
-------
:mod:`~uim_utils.bias.words`
    Word sets and association tests, read from ``uim_utils/data/bias_word_lists.json``;
    sentence templates.
:mod:`~uim_utils.bias.encoder`
    The text encoders (packaged MiniLM, Hugging Face hub, open_clip) and the on-disk
    embedding cache (the fail-fast internet check is :mod:`uim_utils.offline`).
:mod:`~uim_utils.bias.embeddings`
    Word vectors, bare or averaged over templates, with a vocabulary check.
:mod:`~uim_utils.bias.weat`
    WEAT statistics: effect size, permutation p-value, bootstrap interval, result tables.
:mod:`~uim_utils.bias.downstream`
    The work-vs-home task, its linear probe, counterfactual and placebo flips, summaries.
:mod:`~uim_utils.bias.debias`
    Bias subspace, the projections ``P0`` and ``P*``, and the defining pairs' differences.
:mod:`~uim_utils.bias.plots`
    The chapter's effect-size figure.
:mod:`~uim_utils.bias.dial`
    The data dial: corpora with a dialed career/family x gender association and the
    continued pre-training of the real encoder on them.
:mod:`~uim_utils.bias.world`
    One world of the dial: every model's SEAT word vectors and downstream results, and
    the chapter's statistics with their standard errors (not re-exported here).

Every public name is re-exported here, so ``from uim_utils import bias as B`` and
``B.run_weat`` work as before the package was split.
"""

from __future__ import annotations

from .debias import (
    apply_projection,
    bias_subspace,
    calibrated_projection,
    calibration_matrix,
    defining_pair_differences,
    pair_differences,
    projection_matrix,
)
from .downstream import (
    DownstreamResult,
    TaskData,
    build_task,
    counterfactual_flips,
    evaluate_downstream,
    fairness_frame,
    fit_probe,
    gender_recovery_accuracy,
    pair_units,
    placebo_flips,
    placebo_units,
    sentence,
    share_by_gender,
    summarise_downstream,
)
from .embeddings import check_vocabulary, embed_tests, embed_words
from .encoder import (
    CACHE_NAMESPACE,
    HUB_MINILM,
    PACKAGED_MINILM,
    OpenClipTextEncoder,
    SentenceTransformerEncoder,
    TextEncoder,
    load_encoder,
    normalize_rows,
    packaged_minilm_path,
)
from .plots import debiasing_panels, plot_effect_sizes
from .weat import (
    WeatResult,
    association_scores,
    run_weat,
    vectors_for,
    weat_bootstrap_ci,
    weat_effect_size,
    weat_p_value,
    weat_table,
)
from .words import (
    DATA_FILE,
    SET_KEYS,
    AssociationTest,
    WordSet,
    association_tests,
    fill_templates,
    load_word_lists,
    make_test,
    validate_words,
)

__all__ = [
    # words
    "DATA_FILE", "SET_KEYS", "AssociationTest", "WordSet", "association_tests",
    "fill_templates", "load_word_lists", "make_test", "validate_words",
    # encoder
    "CACHE_NAMESPACE", "HUB_MINILM", "PACKAGED_MINILM",
    "OpenClipTextEncoder", "SentenceTransformerEncoder", "TextEncoder", "load_encoder",
    "normalize_rows", "packaged_minilm_path",
    # embeddings
    "check_vocabulary", "embed_tests", "embed_words",
    # weat
    "WeatResult", "association_scores", "run_weat", "vectors_for", "weat_bootstrap_ci",
    "weat_effect_size", "weat_p_value", "weat_table",
    # downstream
    "DownstreamResult", "TaskData", "build_task",
    "counterfactual_flips", "evaluate_downstream", "fairness_frame", "fit_probe",
    "gender_recovery_accuracy", "pair_units", "placebo_flips", "placebo_units", "sentence", "share_by_gender",
    "summarise_downstream",
    # debias
    "apply_projection", "bias_subspace", "calibrated_projection", "calibration_matrix",
    "defining_pair_differences", "pair_differences", "projection_matrix",
    # plots
    "plot_effect_sizes",
    "debiasing_panels",
]
