"""Closed-form projection debiasing (Chuang et al. 2023).

``P0 = I - V (V^T V)^-1 V^T`` removes the span of the bias directions ``V``; the
calibrated ``P* = P0 (I + lambda M)^-1`` also pulls the two members of every defining
pair together (``M`` is the mean outer product of their differences).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .embeddings import check_vocabulary
from .encoder import TextEncoder, normalize_rows
from .words import fill_templates, validate_words


def pair_differences(E_a: np.ndarray, E_b: np.ndarray) -> np.ndarray:
    """Row-wise differences ``E_a - E_b`` of paired embeddings (e.g. "he" minus "she")."""
    E_a, E_b = np.asarray(E_a, dtype=np.float64), np.asarray(E_b, dtype=np.float64)
    if E_a.shape != E_b.shape or E_a.ndim != 2:
        raise ValueError(f"paired embeddings must be 2-D of equal shape, got {E_a.shape} and {E_b.shape}")
    return E_a - E_b


def bias_subspace(D: np.ndarray, k: int | None = None) -> np.ndarray:
    """Columns spanning the bias subspace, from pair differences ``D`` (rows).

    ``k=None`` keeps every difference (``V = D^T``); an integer keeps the top ``k``
    principal directions of the differences (Bolukbasi et al. 2016 use ``k=1``).
    """
    D = np.asarray(D, dtype=np.float64)
    if D.ndim != 2 or D.shape[0] == 0:
        raise ValueError(f"pair differences must be a non-empty 2-D array, got shape {D.shape}")
    if k is None:
        return D.T.copy()
    if not 1 <= k <= min(D.shape):
        raise ValueError(f"k must lie in 1..{min(D.shape)}, got {k!r}")
    _, _, Vt = np.linalg.svd(D, full_matrices=False)
    return Vt[:k].T


def projection_matrix(V: np.ndarray) -> np.ndarray:
    """``P0 = I - V (V^T V)^-1 V^T``: the orthogonal projection that removes span(V).

    ``V`` is d x m (columns are bias directions, need not be orthonormal).

    Raises
    ------
    ValueError
        If ``V`` is not 2-D with at least one column, has non-finite entries, or its
        columns are linearly dependent (``V^T V`` singular).
    """
    V = np.asarray(V, dtype=np.float64)
    if V.ndim != 2 or V.shape[1] == 0 or V.shape[1] > V.shape[0]:
        raise ValueError(f"V must be d x m with 1 <= m <= d, got shape {V.shape}")
    if not np.all(np.isfinite(V)):
        raise ValueError("V contains non-finite values")
    G = V.T @ V
    if np.linalg.matrix_rank(G) < V.shape[1]:
        raise ValueError(f"the {V.shape[1]} bias directions are linearly dependent (V^T V is singular)")
    return np.eye(V.shape[0]) - V @ np.linalg.solve(G, V.T)


def calibration_matrix(D: np.ndarray) -> np.ndarray:
    """``M = mean_i d_i d_i^T`` over pair differences ``d_i`` (rows of ``D``)."""
    D = np.asarray(D, dtype=np.float64)
    if D.ndim != 2 or D.shape[0] == 0:
        raise ValueError(f"pair differences must be a non-empty 2-D array, got shape {D.shape}")
    return D.T @ D / D.shape[0]


def calibrated_projection(P0: np.ndarray, D: np.ndarray, lam: float = 1000.0) -> np.ndarray:
    """Chuang et al.'s calibrated projection ``P* = P0 (I + lam M)^-1``.

    It is the minimiser of ``||P - P0||^2 + lam * mean_i ||P d_i||^2``: stay close to
    ``P0`` while mapping the two members of every pair to nearly the same point.
    """
    if lam < 0:
        raise ValueError(f"lam must be non-negative, got {lam!r}")
    M = calibration_matrix(D)
    if M.shape != P0.shape:
        raise ValueError(f"P0 is {P0.shape} but the differences have dimension {M.shape[0]}")
    return P0 @ np.linalg.inv(np.eye(M.shape[0]) + lam * M)


def apply_projection(E: np.ndarray, P: np.ndarray, renormalize: bool = True) -> np.ndarray:
    """``z -> P z`` for every row ``z`` of ``E`` (then unit norm, by default)."""
    E = np.asarray(E, dtype=np.float64)
    if E.shape[-1] != P.shape[1]:
        raise ValueError(f"embeddings have dimension {E.shape[-1]} but P is {P.shape}")
    out = E @ P.T
    return normalize_rows(out) if renormalize else out


def defining_pair_differences(
    encoder: TextEncoder, pairs: Sequence[Sequence[str]], templates: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Embed the defining pairs in ``templates``; return word- and sentence-level differences.

    Returns
    -------
    D_words : (n_pairs, d) array
        Per pair, the difference of the two words' template-averaged unit vectors: the
        columns of ``V`` for :func:`projection_matrix`.
    D_sentences : (n_pairs * n_templates, d) array
        Per pair and template, the difference of the two sentences ("This is he." minus
        "This is she."): the pairs of :func:`calibrated_projection`.
    """
    for i, p in enumerate(pairs):
        if len(p) != 2:
            raise ValueError(f"defining pair {i} must have two words, got {p!r}")
    a = validate_words([p[0] for p in pairs], "first words of the defining pairs")
    b = validate_words([p[1] for p in pairs], "second words of the defining pairs")
    check_vocabulary(encoder, a + b, "the defining pairs")
    tpl = list(templates)
    Ea = encoder.encode(fill_templates(a, tpl))
    Eb = encoder.encode(fill_templates(b, tpl))
    n, t = len(a), len(tpl)
    Wa = normalize_rows(Ea.reshape(n, t, -1).mean(axis=1))
    Wb = normalize_rows(Eb.reshape(n, t, -1).mean(axis=1))
    return pair_differences(Wa, Wb), pair_differences(Ea, Eb)
