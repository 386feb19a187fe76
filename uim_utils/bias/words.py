"""Word lists of the association tests: the sets, their validation and the SEAT templates.

The chapter's words live in ``uim_utils/data/bias_word_lists.json`` (:data:`DATA_FILE`):
the WEAT/SEAT tests (four word sets each), the sentence templates, the defining pairs
of the debiasing step and the word lists of the downstream task.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "bias_word_lists.json"
SET_KEYS: tuple[str, ...] = ("X", "Y", "A", "B")


@dataclass(frozen=True)
class WordSet:
    """A named list of words (targets or attributes) of an association test.

    Attributes
    ----------
    name : str
        Human-readable name, e.g. ``"male names"``.
    words : tuple of str
        The words, validated (non-empty, no duplicates).
    kind : str
        ``"names"`` or ``"terms"``: which sentence templates wrap the words (SEAT).
    """

    name: str
    words: tuple[str, ...]
    kind: str = "terms"

    def __len__(self) -> int:
        return len(self.words)


@dataclass(frozen=True)
class AssociationTest:
    """A WEAT: do targets X (vs Y) associate more with attributes A (vs B)?"""

    key: str
    title: str
    X: WordSet
    Y: WordSet
    A: WordSet
    B: WordSet

    def sets(self) -> dict[str, WordSet]:
        """The four word sets by role."""
        return {"X": self.X, "Y": self.Y, "A": self.A, "B": self.B}

    def words(self) -> list[str]:
        """All distinct words of the test, in order of first appearance."""
        return list(dict.fromkeys(w for s in self.sets().values() for w in s.words))


def validate_words(words: Iterable[Any], set_name: str, test_name: str = "") -> tuple[str, ...]:
    """Check a word list and return it as a tuple of stripped strings.

    Raises
    ------
    ValueError
        If the list is empty, or an entry is not a string, is empty or blank, or
        repeats an earlier entry. The message names the entry and its set.
    """
    where = f"set {set_name!r}" + (f" of test {test_name!r}" if test_name else "")
    if isinstance(words, str):
        raise ValueError(f"{where} must be a list of words, got the single string {words!r}")
    out: list[str] = []
    for i, w in enumerate(words):
        if not isinstance(w, str):
            raise ValueError(f"entry {i} of {where} is not a string: {w!r}")
        if not w.strip():
            raise ValueError(f"entry {i} of {where} is empty ({w!r})")
        if w.strip() in out:
            raise ValueError(f"entry {i} of {where} repeats the word {w.strip()!r}")
        out.append(w.strip())
    if not out:
        raise ValueError(f"{where} has no words")
    return tuple(out)


def make_test(
    key: str,
    X: Sequence[str],
    Y: Sequence[str],
    A: Sequence[str],
    B: Sequence[str],
    *,
    title: str = "",
    names: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> AssociationTest:
    """Build and validate an :class:`AssociationTest` from four word lists.

    Raises
    ------
    ValueError
        On a bad entry (see :func:`validate_words`), when the target sets X and Y have
        different sizes (the permutation test needs equal halves), when a word is in
        both X and Y or both A and B, or when a set's kind is unknown.
    """
    names = dict(names or {})
    kinds = dict(kinds or {})
    raw = {"X": X, "Y": Y, "A": A, "B": B}
    sets: dict[str, WordSet] = {}
    for role, words in raw.items():
        name = names.get(role, role)
        kind = kinds.get(role, "terms")
        if kind not in ("names", "terms"):
            raise ValueError(f"set {name!r} of test {key!r} has unknown kind {kind!r}")
        sets[role] = WordSet(name, validate_words(words, name, key), kind)
    if len(sets["X"]) != len(sets["Y"]):
        raise ValueError(
            f"test {key!r} has unbalanced target sets: {sets['X'].name!r} has "
            f"{len(sets['X'])} words, {sets['Y'].name!r} has {len(sets['Y'])}"
        )
    for r1, r2 in (("X", "Y"), ("A", "B")):
        both = set(sets[r1].words) & set(sets[r2].words)
        if both:
            raise ValueError(
                f"test {key!r}: word {sorted(both)[0]!r} is in both {sets[r1].name!r} and "
                f"{sets[r2].name!r}"
            )
    return AssociationTest(key, title or key, sets["X"], sets["Y"], sets["A"], sets["B"])


def load_word_lists(path: str | Path | None = None) -> dict[str, Any]:
    """Read the chapter's word-list file (JSON) as a dict.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    """
    p = Path(path) if path is not None else DATA_FILE
    if not p.is_file():
        raise FileNotFoundError(f"word-list file {str(p)!r} does not exist")
    return json.loads(p.read_text(encoding="utf-8"))


def association_tests(
    keys: Sequence[str] | None = None, lists: Mapping[str, Any] | None = None
) -> list[AssociationTest]:
    """The validated association tests of the word-list file, in file order.

    Parameters
    ----------
    keys
        Which tests (e.g. ``["weat6", "weat7"]``); all when ``None``.
    lists
        A word-list dict as from :func:`load_word_lists`; the packaged file by default.
    """
    lists = lists if lists is not None else load_word_lists()
    spec = lists["tests"]
    keys = list(spec) if keys is None else list(keys)
    out = []
    for k in keys:
        if k not in spec:
            raise ValueError(f"unknown association test {k!r}; known: {', '.join(spec)}")
        t = spec[k]
        out.append(
            make_test(
                k,
                *(t[r]["words"] for r in SET_KEYS),
                title=t.get("title", k),
                names={r: t[r]["name"] for r in SET_KEYS},
                kinds={r: t[r].get("kind", "terms") for r in SET_KEYS},
            )
        )
    return out


def fill_templates(words: Sequence[str], templates: Sequence[str]) -> list[str]:
    """Every word in every template, word-major: ``[t0(w0), t1(w0), ..., t0(w1), ...]``.

    A template holds ``{w}`` exactly once; a word that starts a sentence is capitalised.
    """
    if not templates:
        raise ValueError("need at least one template, got none")
    for t in templates:
        if t.count("{w}") != 1:
            raise ValueError(f"template {t!r} must contain '{{w}}' exactly once")
    out = []
    for w in words:
        for t in templates:
            s = t.replace("{w}", w)
            out.append(s[0].upper() + s[1:] if t.startswith("{w}") else s)
    return out
