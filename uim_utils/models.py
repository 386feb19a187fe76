"""Real ``open_clip`` models: tiny lab CLIPs and pretrained wild checkpoints, one loader.

The lab configurations (``uim-tiny``, ``uim-small``) are ordinary ``open_clip`` model
configs (JSON files in ``uim_utils/data/model_configs``) registered with
:func:`open_clip.add_model_config`, so a lab model is the same ``open_clip.CLIP`` class,
tokenizer and loss as a LAION checkpoint, only smaller.

:func:`load_model` takes a model name and, optionally, a pretrained tag (downloaded from
the Hugging Face hub; wild profile) or a local checkpoint path. Offline, a tag fails
fast with one sentence instead of a long retry and a traceback.
"""

from __future__ import annotations

import difflib
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import open_clip
import torch

_CONFIG_DIR = Path(__file__).parent / "data" / "model_configs"
LAB_MODELS: tuple[str, ...] = tuple(sorted(p.stem for p in _CONFIG_DIR.glob("*.json")))
"""Names of the tiny lab CLIP configurations shipped with uim_utils."""

LAB_MEAN = (0.5, 0.5, 0.5)
LAB_STD = (0.25, 0.25, 0.25)
_registered = False


class WildModeUnavailable(RuntimeError):
    """Raised when a wild-profile download is needed but the network is unreachable."""


def register_lab_models() -> None:
    """Register the lab configs with ``open_clip`` (idempotent)."""
    global _registered
    if not _registered:
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

    model: torch.nn.Module
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
    return LoadedModel(model, open_clip.get_tokenizer(name), None, name, "")


class _quiet_open_clip:
    """Silence open_clip's INFO/WARNING logging inside a ``with`` block."""

    def __enter__(self) -> None:
        import logging

        self._root = logging.getLogger()
        self._level = self._root.level
        self._root.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        self._root.setLevel(self._level)


def network_available(host: str = "huggingface.co", port: int = 443, timeout: float = 3.0) -> bool:
    """True if a TCP connection to ``host`` succeeds within ``timeout`` seconds."""
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


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
    WildModeUnavailable
        A tag needs a download and the hub cannot be reached.
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
        if not _in_hf_cache(name, pre) and not network_available():
            raise WildModeUnavailable(
                f"cannot download {name}/{pre}: the Hugging Face hub is unreachable; the wild "
                "profile needs internet (run it on Colab) or a local checkpoint path."
            )
    register_lab_models()
    model, _, preprocess = open_clip.create_model_and_transforms(
        name, pretrained=pre or None, device=device, weights_only=True
    )
    model.eval()
    lab = name in LAB_MODELS
    return LoadedModel(model, open_clip.get_tokenizer(name), None if lab else preprocess, name, pre)


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
    except Exception:  # any doubt: treat as not cached, the network check decides
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


def count_parameters(model: torch.nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
