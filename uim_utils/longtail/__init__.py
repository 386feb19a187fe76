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


The package's modules are these four steps: :mod:`~uim_utils.longtail.counting`,
:mod:`~uim_utils.longtail.fit`, :mod:`~uim_utils.longtail.priors` and
:mod:`~uim_utils.longtail.wild`; every public name is importable from
``uim_utils.longtail`` itself.
"""

from .counting import (
    count_concept_mentions,
    most_frequent_names,
    normalize_term,
    terms_table,
)
from .fit import (
    FrequencyFit,
    frequency_accuracy_fit,
    group_correct,
    head_tail_masks,
)
from .priors import (
    adjust_logits,
    estimate_prior_gla,
    estimate_prior_unlabelled,
)
from .wild import (
    METRICS_URL,
    WildResult,
    fetch_laion_metrics,
    load_laion_metrics,
    metrics_per_name,
    run_wild,
    wild_pipeline,
)

__all__ = [
    "count_concept_mentions",
    "most_frequent_names",
    "normalize_term",
    "terms_table",
    "FrequencyFit",
    "frequency_accuracy_fit",
    "group_correct",
    "head_tail_masks",
    "adjust_logits",
    "estimate_prior_gla",
    "estimate_prior_unlabelled",
    "METRICS_URL",
    "WildResult",
    "fetch_laion_metrics",
    "load_laion_metrics",
    "metrics_per_name",
    "run_wild",
    "wild_pipeline",
]
