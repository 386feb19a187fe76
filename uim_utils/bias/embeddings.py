"""Word vectors from a text encoder: bare words or words averaged over SEAT templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .encoder import TextEncoder, normalize_rows
from .words import AssociationTest, fill_templates, validate_words


def check_vocabulary(encoder: TextEncoder, words: Sequence[str], where: str = "") -> None:
    """Raise ``ValueError`` naming the first word the encoder's tokenizer cannot represent."""
    bad = encoder.unknown_words(list(words))
    if bad:
        raise ValueError(
            f"word {bad[0]!r}{' in ' + where if where else ''} is out of the encoder's "
            f"vocabulary (its tokenizer maps it to the unknown token)"
            + (f"; {len(bad) - 1} more" if len(bad) > 1 else "")
        )


def embed_words(
    encoder: TextEncoder,
    words: Sequence[str],
    templates: Sequence[str] | None = None,
    where: str = "",
) -> dict[str, np.ndarray]:
    """One unit vector per word: the word alone, or the mean over its template sentences.

    Averaging the templates per word (rather than treating every sentence as its own
    test item, as SEAT does) keeps the permutation test's unit the word, so that eight
    sentences about one word do not count as eight independent pieces of evidence.

    Raises
    ------
    ValueError
        If a word is empty, repeated or out of the tokenizer's vocabulary.
    """
    words = validate_words(words, where or "words")
    check_vocabulary(encoder, words, where)
    tpl = list(templates) if templates else ["{w}"]
    E = encoder.encode(fill_templates(words, tpl))
    E = normalize_rows(E.reshape(len(words), len(tpl), -1).mean(axis=1))
    return dict(zip(words, E))


def embed_tests(
    encoder: TextEncoder,
    tests: Sequence[AssociationTest],
    templates: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, np.ndarray]:
    """Vectors for every word of ``tests``; ``templates`` maps a set kind to its templates.

    With ``templates=None`` the words are embedded bare (a one-word "sentence").
    """
    by_kind: dict[str, list[str]] = {}
    for t in tests:
        for s in t.sets().values():
            if templates is not None and s.kind not in templates:
                raise ValueError(f"no templates for kind {s.kind!r} (set {s.name!r} of test {t.key!r})")
            for w in s.words:
                check_vocabulary(encoder, [w], f"set {s.name!r} of test {t.key!r}")
                by_kind.setdefault(s.kind, [])
                if w not in by_kind[s.kind]:
                    by_kind[s.kind].append(w)
    out: dict[str, np.ndarray] = {}
    clash: dict[str, np.ndarray] = {}
    for kind, ws in by_kind.items():
        tpl = None if templates is None else templates[kind]
        vecs = embed_words(encoder, ws, tpl, where=f"{kind} of the tests")
        for w, v in vecs.items():
            (clash if w in out else out)[w] = v
    if clash:
        raise ValueError(f"word {next(iter(clash))!r} is used both as a name and as a term")
    return out
