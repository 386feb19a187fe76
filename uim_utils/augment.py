"""Image augmentation the lab needs beyond what ``torchvision`` does in one call.

:class:`GroupedRandAugment` is ``torchvision``'s RandAugment with a policy of its own for
every image of a batch (NMTune's strong view, :mod:`uim_utils.nmtune`), applied with
``torchvision``'s own operation code.
"""

from __future__ import annotations

import torch


class GroupedRandAugment:
    """``torchvision``'s RandAugment with an independent policy per image, run in groups.

    A batched call of ``v2.RandAugment`` draws one policy for the whole batch. This draws,
    for every image and each of ``num_ops`` rounds, an operation uniformly from
    RandAugment's own augmentation space and a sign for signed operations (negative with
    probability 1/2), exactly as ``v2.RandAugment.forward`` does per call, then applies each
    (operation, sign) to all images that drew it at once with ``v2.RandAugment``'s own
    operation code. The result is what a per-image loop gives, several times faster.

    Parameters
    ----------
    num_ops, magnitude : int
        As ``v2.RandAugment(num_ops, magnitude)`` (31 magnitude bins, nearest
        interpolation, zero fill: its defaults).
    """

    def __init__(self, num_ops: int, magnitude: int) -> None:
        from torchvision.transforms import v2

        self.ra = v2.RandAugment(num_ops=num_ops, magnitude=magnitude)
        self.space = list(self.ra._AUGMENTATION_SPACE.items())

    def policy(self, n: int, height: int, width: int) -> list[list[tuple[str, float]]]:
        """Per round, each of ``n`` images' (operation, signed magnitude), drawn from torch's RNG."""
        rounds = []
        for _ in range(self.ra.num_ops):
            ops = torch.randint(len(self.space), (n,)).tolist()
            negative = (torch.rand(n) <= 0.5).tolist()
            row = []
            for k, neg in zip(ops, negative):
                name, (magnitudes_fn, signed) = self.space[k]
                mags = magnitudes_fn(self.ra.num_magnitude_bins, height, width)
                m = 0.0 if mags is None else float(mags[self.ra.magnitude])
                row.append((name, -m if (signed and mags is not None and neg) else m))
            rounds.append(row)
        return rounds

    def apply(self, images: torch.Tensor, policy: list[list[tuple[str, float]]]) -> torch.Tensor:
        """``images`` (uint8, ``(B, C, H, W)``) with ``policy`` applied, grouped by operation."""
        out = images.clone()
        for row in policy:
            groups: dict[tuple[str, float], list[int]] = {}
            for i, op in enumerate(row):
                groups.setdefault(op, []).append(i)
            for (name, m), idx in groups.items():
                sel = torch.tensor(idx)
                out[sel] = self.ra._apply_image_or_video_transform(
                    out[sel], name, m, interpolation=self.ra.interpolation, fill=self.ra._fill)
        return out

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Augment a uint8 batch ``(B, C, H, W)``, a fresh policy per image."""
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"expected a uint8 batch (B, C, H, W), got {images.dtype} {tuple(images.shape)}")
        return self.apply(images, self.policy(len(images), images.shape[-2], images.shape[-1]))


__all__ = ["GroupedRandAugment"]
