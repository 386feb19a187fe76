"""Exercise helpers of the robustness chapter, for its solutions page
(``notebooks/solutions/05_lost_robustness_solutions``): fine-tuning the world's diverse
encoder from other heads (LP-FT, a random head) and with other settings.

Imports torch only inside the functions that need it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import lab
from .robustness import WorldResult, accuracy_row, labelled_photos, right_table

HEADS = ("zero_shot", "probe", "random")
"""Heads fine-tuning can start from: the zero-shot head, a linear probe's (LP-FT) or a random one."""


def start_head(result: WorldResult, head: str) -> Any:
    """A classifier of world ``result.seed``'s diverse encoder with the head fine-tuning starts from.

    ``"random"`` draws Gaussian rows with the zero-shot head's row norm (the same logit
    scale) and zero bias, seeded by the world.
    """
    from .. import finetune as ft

    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; choose one of {', '.join(HEADS)}")
    zs = result.classifiers["zero_shot"]
    if head == "zero_shot":
        return zs
    weight = zs.head.weight.detach().numpy()
    if head == "probe":
        w, b = ft.probe_head(zs, *labelled_photos(lab.standard_world(result.seed), result.seed))
        return ft.ImageClassifier(zs.encoder, w, b, zs.to_tensor)
    rows = np.random.default_rng(result.seed).normal(size=weight.shape)
    rows *= np.linalg.norm(weight, axis=1, keepdims=True) / np.linalg.norm(rows, axis=1, keepdims=True)
    return ft.ImageClassifier(zs.encoder, rows, np.zeros(len(rows)), zs.to_tensor)


def finetune_variants(result: WorldResult, variants: dict[str, tuple[str, Any]]) -> pd.DataFrame:
    """ID and OOD accuracy of the world's diverse encoder fine-tuned in several ways.

    Parameters
    ----------
    result : WorldResult
        :func:`run_world`'s result (its zero-shot classifier and test sets).
    variants : dict
        ``{name: (head, config)}``: the head to start from (one of :data:`HEADS`) and a
        :class:`uim_utils.finetune.FinetuneConfig`.

    Returns
    -------
    DataFrame
        One row per variant: ``variant, head, id, id_se, ood, ood_se``.
    """
    from .. import finetune as ft

    if not variants:
        raise ValueError("variants must name at least one (head, config) pair, got none")
    photos = labelled_photos(lab.standard_world(result.seed), result.seed)
    rows = []
    for name, (head, config) in variants.items():
        tuned = ft.finetune(start_head(result, head), *photos, config)
        rows.append({"variant": name, "head": head, **accuracy_row(right_table(tuned, result.sets), "right")})
    return pd.DataFrame(rows)
