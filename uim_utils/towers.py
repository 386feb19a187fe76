"""The lab's own timm image towers, registered with timm so that an open_clip model config
(``"timm_model_name"``) can name them like any timm model.

``uim_byobnet_s16`` is timm's ``test_byobnet`` with a narrower stem: 16 stem channels
instead of 24 and 24 channels in the first stage instead of 32. At the lab's 32x32 images
the stem's 16x16 activations dominate a training step (BatchNorm, ReLU and the next
convolution's backward are memory-bound there), so the narrower stem makes a step about a
sixth cheaper. It is the image tower of ``uim-base4``, the standard lab model since lab v6
(:data:`uim_utils.lab.EPOCHS` records the study that chose it).

:func:`register_towers` is idempotent; :func:`uim_utils.models.register_lab_models` calls
it, so every process that creates a lab model (worker processes included) has the towers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .models import LAB_MEAN, LAB_STD

__all__ = ["BYOBNET_S16", "byobnet_s16_config", "register_towers", "uim_byobnet_s16"]

BYOBNET_S16 = "uim_byobnet_s16"
"""timm name of the narrow-stem ``test_byobnet``."""
_registered = False


def byobnet_s16_config() -> Any:
    """The ``ByoModelCfg`` of :data:`BYOBNET_S16`: ``test_byobnet``'s with ``stem_chs=16`` and a
    first stage of 24 channels."""
    from timm.models.byobnet import model_cfgs

    base = model_cfgs["test_byobnet"]
    first: Any = base.blocks[0]  # a ByoBlockCfg (timm types blocks as a block or a tuple of them)
    return replace(base, stem_chs=16, blocks=(replace(first, c=24), *base.blocks[1:]))


def uim_byobnet_s16(pretrained: bool = False, **kwargs: Any) -> Any:
    """timm's entry point of :data:`BYOBNET_S16` (``timm.create_model`` calls it once
    :func:`register_towers` has run)."""
    if pretrained:
        raise ValueError(f"{BYOBNET_S16} has no pretrained weights; create it with pretrained=False")
    from timm.models.byobnet import _create_byobnet

    return _create_byobnet(BYOBNET_S16, pretrained=False, **kwargs)


def register_towers() -> None:
    """Register the lab's towers with timm (idempotent)."""
    global _registered
    if _registered:
        return
    from timm.models import register_model
    from timm.models.byobnet import model_cfgs

    model_cfgs[BYOBNET_S16] = byobnet_s16_config()
    register_model(uim_byobnet_s16)
    _registered = True


default_cfgs: dict[str, dict[str, Any]] = {
    BYOBNET_S16: {"url": "", "num_classes": 0, "input_size": (3, 32, 32), "pool_size": (1, 1),
                  "crop_pct": 1.0, "interpolation": "bilinear", "mean": LAB_MEAN,
                  "std": LAB_STD, "first_conv": "stem.conv", "classifier": "head.fc",
                  "license": "apache-2.0"},
}
"""timm's pretrained-config entries of the towers (no weights: read by ``register_model``)."""
