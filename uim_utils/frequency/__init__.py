"""Real evidence for the long tail: per-class CLIP accuracy against pre-training frequency.

The lab chapters show in synthetic worlds that a concept seen rarely in pre-training is
recognised badly. This module checks the same relation on real models and real corpora,
offline and without torch, on the per-class numbers released by Udandarao et al. (2024),
"No 'Zero-Shot' Without Exponential Data" (NeurIPS 2024, arXiv:2404.04125):

- ``zero_shot_evaluations/<dataset>_ensemble_results.json``: per-class zero-shot accuracy
  (prompt ensemble, in %) of 21 OpenCLIP checkpoints on 19 benchmarks;
- ``search_counts/<dataset>_<corpus>_..._search_counts.json``: how many image-text pairs of
  a pre-training corpus show the class (caption mentions it, image tagger agrees).

A copy of the files, unmodified, ships in :data:`DATA_DIR` with the original MIT licence
and a SHA-256 manifest; every file is verified against the manifest when it is read
(:class:`DataCorruptError` names the file otherwise).

The unit is the **class**. Every claim here is about the classes of one benchmark (or
about the change of a class between two corpora), so every interval resamples classes:
a percentile bootstrap over classes (:func:`uim_utils.stats.cluster_bootstrap` with one
class per cluster; a resample in which a statistic is undefined, e.g. all drawn classes
have the same count, is dropped). The numbers are deterministic: the data are fixed, and
so are ``n_boot`` (:data:`N_BOOT`) and ``seed`` (:data:`SEED`).

A model is named ``"<arch>/<corpus>"``, e.g. ``"ViT-B-32/laion400m"`` or ``"RN50/cc3m"``
(the file's own key ``"backboneViT-B-32_pretrainedlaion400m"`` is accepted too). By default
a model is compared with the counts of its own pre-training corpus, which are shipped for
:data:`PRETRAINING` (LAION-400M, CC-3M, CC-12M, YFCC-15M); models trained on other corpora
(LAION-2B, DataComp, ...) need an explicit ``pretraining=`` (a proxy, and the caller's
choice).

Class names are matched between the two files after replacing underscores by spaces
(ImageNet-R writes ``"bald_eagle"`` in one file and ``"bald eagle"`` in the other); classes
still missing from one side are dropped and counted (CIFAR-10's ``"plane"`` has counts
under ``"airplane"``).

:func:`real_claims`, :func:`real_verdicts` and :func:`check_real` are the chapter's
real-data claims (ids ``R1``, ``R2``, ...), decided with :meth:`uim_utils.claims.Claim.decide`
on intervals over classes.

This module does not import torch.

References
----------
Udandarao, V., Prabhu, A., Ghosh, A., Sharma, Y., Torr, P. H. S., Bibi, A., Albanie, S.
and Bethge, M. (2024). No "Zero-Shot" Without Exponential Data: Pretraining Concept
Frequency Determines Multimodal Model Performance. *NeurIPS 2024*. arXiv:2404.04125.


The package's modules: :mod:`~uim_utils.frequency.files` (the shipped data and its
manifest), :mod:`~uim_utils.frequency.tables`, :mod:`~uim_utils.frequency.statistics`,
:mod:`~uim_utils.frequency.verdicts` (the chapter's claims on the real data) and
:mod:`~uim_utils.frequency.plots`; every public name is importable from
``uim_utils.frequency`` itself.
"""

from .files import (
    DATA_DIR,
    MANIFEST,
    PRETRAINING,
    DataCorruptError,
    available,
    datasets,
    models,
    parse_model,
    pretraining_sets,
    verify,
)
from .plots import (
    DEFAULT_CURVES,
    plot_frequency_accuracy,
    plot_long_tail,
    plot_paired_change,
)
from .statistics import (
    CONFIDENCE,
    N_BOOT,
    SEED,
    SURVEY_COLUMNS,
    FrequencyAccuracy,
    binned_curve,
    frequency_accuracy,
    paired_change,
    paired_table,
    pooled_frequency_accuracy,
    spearman,
    survey,
)
from .tables import (
    joined,
    load_accuracy,
    load_counts,
)
from .verdicts import (
    REAL_CHAPTER,
    REAL_VERDICT_COLUMNS,
    check_real,
    real_claims,
    real_verdicts,
)

__all__ = [
    "DATA_DIR",
    "MANIFEST",
    "PRETRAINING",
    "N_BOOT",
    "SEED",
    "CONFIDENCE",
    "REAL_CHAPTER",
    "REAL_VERDICT_COLUMNS",
    "SURVEY_COLUMNS",
    "DEFAULT_CURVES",
    "DataCorruptError",
    "FrequencyAccuracy",
    "verify",
    "datasets",
    "models",
    "pretraining_sets",
    "parse_model",
    "available",
    "load_counts",
    "load_accuracy",
    "joined",
    "spearman",
    "frequency_accuracy",
    "pooled_frequency_accuracy",
    "paired_table",
    "paired_change",
    "binned_curve",
    "survey",
    "real_claims",
    "real_verdicts",
    "check_real",
    "plot_long_tail",
    "plot_frequency_accuracy",
    "plot_paired_change",
]
