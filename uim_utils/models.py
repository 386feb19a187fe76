"""Real ``open_clip`` models: tiny lab CLIPs and pretrained wild checkpoints, one loader.

The lab configurations (:data:`LAB_MODELS`: ``uim-tiny``, ``uim-small``, ``uim-base``, the
standard until lab v3, ``uim-base2``, ``uim-base`` with one text layer of 14 tokens, the
standard of lab v3, ``uim-base3``, ``uim-base2`` with timm's ``test_byobnet`` image tower,
the standard of lab v4 and v5, and the standard ``uim-base4``, ``uim-base3`` with a narrower
stem (:mod:`uim_utils.towers`), lab v6) are ordinary
``open_clip`` model configs (JSON files in ``uim_utils/data/model_configs``) registered with
:func:`open_clip.add_model_config`, so a lab model is the same ``open_clip.CLIP`` class,
tokenizer and loss as a LAION checkpoint, only smaller.

:func:`load_model` takes a model name and, optionally, a pretrained tag (downloaded from
the Hugging Face hub; wild profile) or a local checkpoint path. Offline, a tag fails
fast with one sentence (:class:`uim_utils.offline.OfflineError`) instead of a long retry
and a traceback.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import torch

from .offline import require_internet

_CONFIG_DIR = Path(__file__).parent / "data" / "model_configs"
LAB_VOCAB_PATH = Path(__file__).parent / "data" / "lab_vocab.json"
"""The open_clip token ids that the lab's names and templates use (``scripts/make_lab_vocab.py``)."""
FULL_VOCAB_SIZE = 49408
"""Size of open_clip's BPE vocabulary (what ``uim-tiny`` and LAION checkpoints embed)."""
LAB_MODELS: tuple[str, ...] = tuple(sorted(p.stem for p in _CONFIG_DIR.glob("*.json")))
"""Names of the tiny lab CLIP configurations shipped with uim_utils."""

ClipModel = Any
"""An ``open_clip`` CLIP (``CLIP`` or ``CustomTextCLIP``). open_clip ships no type
information, so this is ``Any`` for mypy; ``torch.nn.Module`` would hide its
``encode_image``, ``encode_text`` and ``logit_scale``."""

LAB_MEAN = (0.5, 0.5, 0.5)
LAB_STD = (0.25, 0.25, 0.25)
_registered = False


def register_lab_models() -> None:
    """Register the lab configs with ``open_clip`` (idempotent)."""
    global _registered
    if not _registered:
        from .towers import register_towers  # towers reads this module's LAB_MEAN and LAB_STD

        register_towers()
        open_clip.add_model_config(_CONFIG_DIR)
        _registered = True


@dataclass
class LoadedModel:
    """A CLIP model with what is needed to use it.

    Attributes
    ----------
    model : torch.nn.Module
        An ``open_clip`` CLIP in eval mode.
    tokenizer : callable
        Turns a list of strings into a token tensor of the model's context length.
    preprocess : callable or None
        The PIL-image transform of a wild model; ``None`` for lab models, whose inputs
        are uint8 arrays converted by :func:`lab_to_tensor`.
    name, pretrained : str
        What was loaded (``pretrained`` is ``""`` for a random init).
    """

    model: ClipModel
    tokenizer: Callable[..., torch.Tensor]
    preprocess: Callable[[Any], torch.Tensor] | None
    name: str
    pretrained: str = ""


def check_model_name(name: str) -> None:
    """Raise a ValueError naming ``name`` (and close matches) if open_clip does not know it."""
    register_lab_models()
    known = open_clip.list_models()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown model {name!r}{hint} (lab models: {', '.join(LAB_MODELS)})")


def base_tokenizer(context_length: int = 77) -> Any:
    """open_clip's own BPE tokenizer (the one LAION checkpoints use)."""
    return open_clip.SimpleTokenizer(context_length=context_length)


def lab_text_token_ids(tokenizer: Any) -> list[int]:
    """Every token id that a lab name, caption template or prompt template encodes to.

    Enumerates all pseudo-word names the world can draw (two or three of its 70
    syllables: about 348,000 words) and every template of :mod:`uim_utils.world`, and
    tokenises them with ``tokenizer`` (an open_clip ``SimpleTokenizer``). About 30 s.
    """
    import itertools

    from .world import BACKGROUNDS, CAPTION_TEMPLATES, EVAL_TEMPLATES, NAME_LENGTHS, NAME_SYLLABLES

    ids: set[int] = set()
    for n in NAME_LENGTHS:
        for parts in itertools.product(NAME_SYLLABLES, repeat=n):
            ids.update(tokenizer.encode("".join(parts)))
    for group in (*CAPTION_TEMPLATES.values(), EVAL_TEMPLATES):
        for template in group:
            for bg in BACKGROUNDS:
                ids.update(tokenizer.encode(template.format("x", bg=bg)))
    return sorted(ids)


class LabTokenizer:
    """open_clip's tokenizer with its ids mapped onto the lab's compact vocabulary.

    The text is split exactly as open_clip splits it (same BPE); only the ids change:
    ``0`` padding, ``1`` any token outside the lab's vocabulary, ``2`` start of text,
    ``3 ...`` the lab's tokens in the order of :data:`LAB_VOCAB_PATH`, and the last id
    end of text (open_clip pools the text at the largest id, so end of text must be it).
    open_clip pads with id 0, which is also its token "!"; lab text has no "!", and in
    other text it is read as padding.

    Parameters
    ----------
    context_length : int
        Tokens per text (padded or truncated).
    """

    PAD, UNK, SOT = 0, 1, 2

    def __init__(self, context_length: int) -> None:
        self.base = base_tokenizer(context_length)
        self.context_length = int(context_length)
        ids = lab_vocab_ids()
        self.vocab_size = len(ids) + 4
        lut = np.full(FULL_VOCAB_SIZE, self.UNK, dtype=np.int64)
        lut[0] = self.PAD
        lut[np.asarray(ids)] = np.arange(3, 3 + len(ids))
        lut[self.base.sot_token_id] = self.SOT
        lut[self.base.eot_token_id] = self.vocab_size - 1
        self._lut = torch.from_numpy(lut)

    def __call__(self, texts: str | list[str], context_length: int | None = None) -> torch.Tensor:
        """Token tensor ``(N, context_length)`` of ``texts``, in compact ids.

        Each distinct text is tokenised once (a templated corpus of 40,000 captions has
        about 3,000 distinct ones; BPE is the slow part), then rows are gathered.
        """
        if isinstance(texts, str):
            texts = [texts]
        distinct, inverse = np.unique(np.asarray(list(texts), dtype=object), return_inverse=True)
        tokens = self._lut[self.base(list(distinct), context_length or self.context_length)]
        return tokens[torch.from_numpy(inverse.reshape(-1).astype(np.int64))]


def lab_vocab_ids() -> list[int]:
    """The shipped compact vocabulary: sorted open_clip token ids (see :class:`LabTokenizer`)."""
    import json

    ids = json.loads(LAB_VOCAB_PATH.read_text()).get("token_ids")
    if (not isinstance(ids, list) or not ids or any(type(i) is not int or not 0 < i < FULL_VOCAB_SIZE for i in ids)
            or ids != sorted(set(ids))):
        raise ValueError(f"{LAB_VOCAB_PATH} must hold sorted, unique ids in (0, {FULL_VOCAB_SIZE})")
    return ids


def lab_tokenizer(name: str) -> Callable[..., torch.Tensor]:
    """The tokenizer of lab model ``name``: open_clip's, or :class:`LabTokenizer` when its
    text tower embeds the compact vocabulary."""
    register_lab_models()
    text_cfg = open_clip.get_model_config(name)["text_cfg"]
    if text_cfg.get("vocab_size", FULL_VOCAB_SIZE) == FULL_VOCAB_SIZE:
        return open_clip.get_tokenizer(name)
    tok = LabTokenizer(text_cfg["context_length"])
    if tok.vocab_size != text_cfg["vocab_size"]:
        raise ValueError(f"lab model {name!r} embeds {text_cfg['vocab_size']} tokens but the compact "
                         f"vocabulary has {tok.vocab_size}; fix its config or rerun scripts/make_lab_vocab.py")
    return tok


def create_lab_model(name: str = "uim-tiny", seed: int = 0) -> LoadedModel:
    """A freshly initialised lab CLIP, seeded.

    Parameters
    ----------
    name : str
        One of :data:`LAB_MODELS`.
    seed : int
        Seed of the initial weights.
    """
    if name not in LAB_MODELS:
        raise ValueError(f"unknown lab model {name!r}; choose one of {', '.join(LAB_MODELS)}")
    register_lab_models()
    torch.manual_seed(seed)
    with _quiet_open_clip():  # a random init is intended here, not worth a warning
        model = open_clip.create_model(name)
    model.eval()
    return LoadedModel(model, lab_tokenizer(name), None, name, "")


def check_pooled_text(model: ClipModel) -> None:
    """Raise ``ValueError`` unless :func:`encode_text_pooled` computes what ``model.encode_text``
    does: an ``open_clip.CLIP`` whose text tower has one causal, batch-first transformer
    layer of open_clip's standard block (``torch.nn.MultiheadAttention``, no separate
    key-value norm) and pools the token at ``argmax`` of the ids.

    Parameters
    ----------
    model : open_clip.CLIP
    """
    transformer = getattr(model, "transformer", None)
    if transformer is None or not hasattr(transformer, "resblocks"):
        raise ValueError(f"pooled text needs an open_clip.CLIP with its own text transformer, "
                         f"got {type(model).__name__}")
    layers = len(transformer.resblocks)
    if layers != 1:
        raise ValueError(f"pooled text needs a text tower of one layer (later layers read every token), "
                         f"got layers={layers}")
    block = transformer.resblocks[0]
    if not isinstance(getattr(block, "attn", None), torch.nn.MultiheadAttention) or hasattr(block, "ln_1_kv"):
        raise ValueError(f"pooled text needs open_clip's standard attention block, got {type(block).__name__}")
    pool = getattr(model, "text_pool_type", None)
    if pool != "argmax":
        raise ValueError(f"pooled text needs argmax pooling, got text_pool_type={pool!r}")
    if getattr(model, "attn_mask", None) is None:
        raise ValueError("pooled text needs a causal text tower (attn_mask is None)")
    if not getattr(transformer, "batch_first", True):
        raise ValueError("pooled text needs a batch-first text transformer")


def encode_text_pooled(model: ClipModel, text: torch.Tensor, normalize: bool = False) -> torch.Tensor:
    """``model.encode_text(text, normalize)`` for a one-layer text tower, computed on the
    pooled token only.

    CLIP keeps one token of its text tower, the end-of-text token (open_clip's ``argmax``
    pooling). With one causal layer, that token's output needs the keys and values of
    every token up to it, but its query, the attention output projection, the MLP and the
    final layer norm only at that token: the same function as ``open_clip``'s
    ``encode_text`` (equal to float rounding), at about a fourteenth of the text tower's
    MLP and query work for the lab's 14-token captions. :func:`check_pooled_text` says
    which models qualify.

    Parameters
    ----------
    model : open_clip.CLIP
        A model that passes :func:`check_pooled_text`.
    text : int tensor (batch, context_length)
    normalize : bool
        Return unit vectors, as ``encode_text(..., normalize=True)`` does.
    """
    block = model.transformer.resblocks[0]
    cast = model.transformer.get_cast_dtype()
    x = model.token_embedding(text).to(cast) + model.positional_embedding.to(cast)
    rows = torch.arange(text.shape[0], device=text.device)
    pooled = text.argmax(dim=-1)  # open_clip's text_global_pool(..., "argmax")
    after = torch.arange(text.shape[1], device=text.device)[None, :] > pooled[:, None]  # hidden by the causal mask
    h = block.ln_1(x)
    attended = block.attn(h[rows, pooled][:, None], h, h, need_weights=False, key_padding_mask=after)[0][:, 0]
    y = x[rows, pooled] + block.ls_1(attended)
    y = y + block.ls_2(block.mlp(block.ln_2(y)))
    y = model.ln_final(y)
    projection = model.text_projection
    if projection is not None:
        y = projection(y) if isinstance(projection, torch.nn.Linear) else y @ projection
    return torch.nn.functional.normalize(y, dim=-1) if normalize else y


class _quiet_open_clip:  # noqa: N801 (a context manager named like the function it wraps)
    """Silence open_clip's INFO/WARNING logging inside a ``with`` block."""

    def __enter__(self) -> None:
        import logging

        self._root = logging.getLogger()
        self._level = self._root.level
        self._root.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        self._root.setLevel(self._level)


def load_model(name: str, pretrained: str | os.PathLike[str] | None = None, device: str = "cpu") -> LoadedModel:
    """Load an ``open_clip`` model by name with a pretrained tag or a local checkpoint.

    Parameters
    ----------
    name : str
        An ``open_clip`` model name (``"ViT-B-32"``) or a lab model (``"uim-tiny"``).
    pretrained : str or path, optional
        A pretrained tag (``"laion400m_e32"``; needs internet), a path to a local
        checkpoint (``.safetensors``, ``.pt``/``.bin`` loaded with ``weights_only=True``),
        or ``None`` for random weights.
    device : str
        Torch device.

    Raises
    ------
    ValueError
        Unknown model name or tag.
    FileNotFoundError
        ``pretrained`` looks like a path and no file is there.
    uim_utils.offline.OfflineError
        A tag needs a download and the hub cannot be reached (or offline mode is on).
    """
    check_model_name(name)
    pre = "" if pretrained is None else str(pretrained)
    looks_like_path = pre and (os.sep in pre or Path(pre).suffix in (".pt", ".bin", ".safetensors", ".pth"))
    if looks_like_path:
        path = Path(pre).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no checkpoint file at {path} (pretrained={pre!r})")
        pre = str(path)
    elif pre:
        tags = open_clip.list_pretrained_tags_by_model(name)
        if pre not in tags:
            raise ValueError(f"unknown pretrained tag {pre!r} for {name}; known tags: {', '.join(tags) or 'none'}")
        if not _in_hf_cache(name, pre):
            require_internet(f"Downloading the checkpoint {name}/{pre}",
                             hint="run the wild profile where there is (Colab), or pass a local checkpoint path")
    register_lab_models()
    model, _, preprocess = open_clip.create_model_and_transforms(
        name, pretrained=pre or None, device=device, weights_only=True
    )
    model.eval()
    lab = name in LAB_MODELS
    tokenizer = lab_tokenizer(name) if lab else open_clip.get_tokenizer(name)
    return LoadedModel(model, tokenizer, None if lab else preprocess, name, pre)


def _in_hf_cache(name: str, tag: str) -> bool:
    """Whether the checkpoint of ``name/tag`` is already in the local hub cache."""
    try:
        cfg = open_clip.get_pretrained_cfg(name, tag)
        hub = cfg.get("hf_hub", "")
        if not hub:
            return False
        from huggingface_hub import try_to_load_from_cache

        repo = hub.rstrip("/")
        for fname in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"):
            if isinstance(try_to_load_from_cache(repo, fname), str):
                return True
    except Exception:  # any doubt: treat as not cached, the internet check decides
        return False
    return False


def lab_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 images ``(N, H, W, 3)`` -> normalised float tensor ``(N, 3, H, W)``."""
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 images of shape (N, H, W, 3), got {images.dtype} {images.shape}")
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(LAB_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(LAB_STD).view(1, 3, 1, 1)
    return (x - mean) / std


@dataclass(frozen=True)
class ArrayPreprocess:
    """uint8 images ``(N, H, W, 3)`` -> the float tensor ``(N, 3, S, S)`` a wild CLIP expects:
    scaled to ``[0, 1]``, resized (bicubic, antialiased) to ``size`` and normalised with
    ``mean`` and ``std`` per channel; the array form of open_clip's PIL transform.

    A class (not a closure) so that a classifier holding it pickles into worker processes.
    """

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __call__(self, images: np.ndarray) -> torch.Tensor:
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"expected uint8 images of shape (N, H, W, 3), got {images.dtype} {images.shape}")
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
        if x.shape[-2:] != (self.size, self.size):
            x = torch.nn.functional.interpolate(x, size=(self.size, self.size), mode="bicubic", antialias=True,
                                                align_corners=False).clamp_(0, 1)
        return (x - torch.tensor(self.mean).view(1, 3, 1, 1)) / torch.tensor(self.std).view(1, 3, 1, 1)


def array_preprocess(lm: LoadedModel) -> Callable[[np.ndarray], torch.Tensor]:
    """How uint8 image arrays become ``lm``'s input: :func:`lab_to_tensor` for a lab model,
    an :class:`ArrayPreprocess` with open_clip's size and normalisation for a wild one."""
    if lm.preprocess is None:
        return lab_to_tensor
    from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

    size = lm.model.visual.image_size
    size = int(size[0] if isinstance(size, tuple | list) else size)
    mean = getattr(lm.model.visual, "image_mean", None) or OPENAI_DATASET_MEAN
    std = getattr(lm.model.visual, "image_std", None) or OPENAI_DATASET_STD
    return ArrayPreprocess(size, tuple(mean), tuple(std))


def count_parameters(model: torch.nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
