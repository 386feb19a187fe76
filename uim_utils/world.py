"""A synthetic concept world: procedurally drawn concepts, domains, names and captions.

Each of ``K`` concepts has a visual prototype (a parametric shape: number of lobes, a
hole or not, elongation, hue, stripe texture), a canonical name, synonyms that a
"language" uses with different frequencies, and caption templates. Every image is a
pure function of ``(concept, domain, background, render_seed, trigger, corrupt)``, so
a corpus is stored as a table (Parquet) and its images are re-rendered exactly.

Rendering is vectorised with NumPy over whole batches; per-sample randomness (position,
scale, rotation, colour jitter, clutter, pixel noise) comes from a counter-based hash
of the sample's ``render_seed``, so duplicates are pixel-identical and a sample renders
the same whatever batch it is in.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np

from .validate import check_int

DOMAINS: tuple[str, ...] = ("photo", "sketch", "noisy", "recolor")
"""Image styles. ``photo`` dominates a default corpus; the others serve as shifts."""

BACKGROUNDS: tuple[str, ...] = ("grass", "water")
"""Scene backgrounds of ``photo``-like images (used for spurious correlations)."""

CAPTION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "photo": ("a photo of a {}.", "a {}.", "a picture of the {}.", "a {} on {bg}.", "the {} in a photo."),
    "sketch": ("a sketch of a {}.", "a drawing of the {}.", "a {}.", "a line drawing of a {}."),
    "noisy": ("a blurry photo of a {}.", "a grainy photo of the {}.", "a {}.", "a noisy picture of a {}."),
    "recolor": ("an odd colored {}.", "a strange colored photo of a {}.", "a {}.", "a {} in false colors."),
}
"""Caption templates per domain; ``{bg}`` is filled with the background's name."""

EVAL_TEMPLATES: tuple[str, ...] = ("a photo of a {}.", "a {}.", "a picture of the {}.")
"""Default prompt templates for zero-shot classification (ensembled)."""

_CONS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
NAME_SYLLABLES: tuple[str, ...] = tuple(c + v for c in _CONS for v in _VOWELS)
"""The 70 syllables of the world's pseudo-word names (a name has two or three)."""
NAME_LENGTHS: tuple[int, ...] = (2, 3)
"""Syllables per name."""

# Attribute grid of concept prototypes. Concepts are distinct cells of this grid, so
# some pairs differ in one attribute only: those are the world's hard confusions.
_LOBES = (0, 2, 3, 4, 5, 6)
_HOLES = (0.0, 0.5)
_ASPECTS = (1.0, 1.6)
_N_HUES = 8
_STRIPES = (0.0, 2.5, 4.5)


@dataclass(frozen=True)
class WorldConfig:
    """Parameters of a concept world.

    Attributes
    ----------
    n_concepts : int
        Number of concepts, 2 to 576 (the size of the prototype grid).
    image_size : int
        Side of the square RGB images in pixels, 16 to 128.
    n_names : int
        Names per concept: the canonical name plus ``n_names - 1`` synonyms (1 to 5).
    synonym_concentration : float
        Dirichlet concentration of how often each name is used in captions. Small
        values make one name dominate, and often not the canonical one.
    seed : int
        Seed of the world itself (prototypes, names, name frequencies).
    """

    n_concepts: int = 100
    image_size: int = 32
    n_names: int = 3
    synonym_concentration: float = 0.7
    seed: int = 0

    def __post_init__(self) -> None:
        max_k = len(_LOBES) * len(_HOLES) * len(_ASPECTS) * _N_HUES * len(_STRIPES)
        check_int("n_concepts", self.n_concepts, 2, max_k)
        check_int("image_size", self.image_size, 16, 128)
        check_int("n_names", self.n_names, 1, 5)
        check_int("seed", self.seed, 0, 2**32 - 1)
        if not (0 < float(self.synonym_concentration) <= 100):
            raise ValueError(
                f"synonym_concentration must be in (0, 100], got {self.synonym_concentration!r}"
            )




class ConceptWorld:
    """The world: concept prototypes, names, captions and a vectorised renderer.

    Parameters
    ----------
    config : WorldConfig, optional
        World parameters; defaults to ``WorldConfig()``.

    Examples
    --------
    >>> w = ConceptWorld(WorldConfig(n_concepts=10))
    >>> imgs = w.render(np.arange(10), np.zeros(10, int), np.zeros(10, int), np.arange(10))
    >>> imgs.shape, imgs.dtype
    ((10, 32, 32, 3), dtype('uint8'))
    """

    def __init__(self, config: WorldConfig | None = None) -> None:
        self.config = config or WorldConfig()
        rng = np.random.default_rng(self.config.seed)
        k = self.config.n_concepts
        grid = list(itertools.product(range(len(_LOBES)), range(len(_HOLES)), range(len(_ASPECTS)),
                                      range(_N_HUES), range(len(_STRIPES))))
        pick = rng.choice(len(grid), size=k, replace=False)
        cells = np.array([grid[i] for i in pick])
        self.lobes = np.array(_LOBES, dtype=np.float32)[cells[:, 0]]
        self.amplitude = np.where(self.lobes > 0, 0.3, 0.0).astype(np.float32)
        self.hole = np.array(_HOLES, dtype=np.float32)[cells[:, 1]]
        self.aspect = np.array(_ASPECTS, dtype=np.float32)[cells[:, 2]]
        self.hue = ((cells[:, 3] + rng.uniform(-0.15, 0.15, k)) / _N_HUES).astype(np.float32) % 1.0
        self.stripes = np.array(_STRIPES, dtype=np.float32)[cells[:, 4]]
        self.stripe_angle = rng.uniform(0, np.pi, k).astype(np.float32)
        self.designated_background = rng.integers(0, len(BACKGROUNDS), k)
        self.names = _make_names(rng, k, self.config.n_names)
        alpha = np.full(self.config.n_names, self.config.synonym_concentration)
        self.name_probs = rng.dirichlet(alpha, size=k)

    @cached_property
    def _noise_bank(self) -> np.ndarray:
        """1,024 fixed pixel-noise fields; a sample takes the one its seed selects.

        A bank instead of a per-pixel hash keeps rendering 50,000 images at a few
        seconds; duplicates (same seed) still get identical noise.
        """
        s = self.config.image_size
        rng = np.random.default_rng([self.config.seed, 2])
        return (rng.random((1024, s, s, 1), dtype=np.float32) - 0.5)

    # ------------------------------------------------------------------ names
    @property
    def n_concepts(self) -> int:
        """Number of concepts."""
        return self.config.n_concepts

    @cached_property
    def classnames(self) -> list[str]:
        """Canonical name of each concept (what a benchmark would call it)."""
        return [n[0] for n in self.names]

    @cached_property
    def most_common_names(self) -> list[str]:
        """The name each concept is most often called by in captions (ground truth)."""
        return [self.names[c][int(np.argmax(self.name_probs[c]))] for c in range(self.n_concepts)]

    def to_dict(self) -> dict:
        """The world's configuration as a plain dict (for cache keys and metadata)."""
        return asdict(self.config)

    # --------------------------------------------------------------- captions
    def captions(
        self,
        concepts: np.ndarray,
        domains: np.ndarray,
        backgrounds: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[list[str], np.ndarray]:
        """Draw one caption per sample naming ``concepts`` in the style of ``domains``.

        Returns the captions and the index of the name used (0 = canonical).
        """
        concepts = np.asarray(concepts)
        n = len(concepts)
        # Inverse-CDF sampling of the name for each sample, vectorised.
        cdf = np.cumsum(self.name_probs[concepts], axis=1)
        name_idx = (rng.random(n)[:, None] > cdf).sum(axis=1).clip(0, self.config.n_names - 1)
        tpl_draw = rng.random(n)
        out = []
        for i in range(n):
            templates = CAPTION_TEMPLATES[DOMAINS[domains[i]]]
            tpl = templates[int(tpl_draw[i] * len(templates))]
            out.append(tpl.format(self.names[concepts[i]][name_idx[i]], bg=BACKGROUNDS[backgrounds[i]]))
        return out, name_idx

    # -------------------------------------------------------------- rendering
    def render(
        self,
        concepts: np.ndarray,
        domains: np.ndarray | int,
        backgrounds: np.ndarray,
        render_seeds: np.ndarray,
        trigger: np.ndarray | None = None,
        corrupt: np.ndarray | None = None,
        chunk: int = 128,
    ) -> np.ndarray:
        """Render images, shape ``(N, S, S, 3)``, ``uint8``.

        Parameters
        ----------
        concepts, domains, backgrounds : array of int, shape (N,)
            Concept index, domain index into :data:`DOMAINS`, background index into
            :data:`BACKGROUNDS`. ``domains`` may be one int for all samples.
        render_seeds : array of int, shape (N,)
            Per-sample seed of all within-class variation.
        trigger : array of bool, optional
            Stamp the backdoor trigger (a 4x4 black-and-white checkerboard in the
            bottom-right corner) on these samples.
        corrupt : array of bool, optional
            Replace these images by structureless noise (corrupted downloads).
        chunk : int
            Batch size of the vectorised renderer (bounds peak memory).
        """
        concepts = np.asarray(concepts, dtype=np.int64)
        n = len(concepts)
        domains = np.broadcast_to(np.asarray(domains, dtype=np.int64), (n,))
        backgrounds = np.broadcast_to(np.asarray(backgrounds, dtype=np.int64), (n,))
        render_seeds = np.broadcast_to(np.asarray(render_seeds, dtype=np.int64), (n,))
        if n and (concepts.min() < 0 or concepts.max() >= self.n_concepts):
            bad = concepts[(concepts < 0) | (concepts >= self.n_concepts)][0]
            raise ValueError(f"concept index {bad} is outside [0, {self.n_concepts - 1}]")
        if n and (domains.min() < 0 or domains.max() >= len(DOMAINS)):
            raise ValueError(f"domain indices must be in [0, {len(DOMAINS) - 1}], got {np.unique(domains)}")
        if n and (backgrounds.min() < 0 or backgrounds.max() >= len(BACKGROUNDS)):
            raise ValueError(f"background indices must be in [0, {len(BACKGROUNDS) - 1}]")
        s = self.config.image_size
        out = np.empty((n, s, s, 3), dtype=np.uint8)
        for a in range(0, n, chunk):
            b = min(a + chunk, n)
            # channels-first inside the renderer (its broadcasts then run over whole rows,
            # several times faster than over a trailing axis of three); the same values
            img = self._render_chunk(concepts[a:b], domains[a:b], backgrounds[a:b], render_seeds[a:b])
            img = img.transpose(0, 2, 3, 1)
            if trigger is not None:
                _stamp_trigger(img, np.asarray(trigger)[a:b].astype(bool))
            if corrupt is not None:
                c = np.asarray(corrupt)[a:b].astype(bool)
                if c.any():
                    img[c] = _hash_uniform(render_seeds[a:b][c], 99, s * s * 3).reshape(-1, s, s, 3)
            out[a:b] = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
        return out

    def _render_chunk(self, c: np.ndarray, d: np.ndarray, bg: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        s = self.config.image_size
        n = len(c)
        u = _hash_uniform(seeds, 1, 12).astype(np.float32)  # per-sample scalars
        lin = np.linspace(-1, 1, s, dtype=np.float32)
        yy, xx = np.meshgrid(lin, lin, indexing="ij")
        cx = (u[:, 0] - 0.5) * 0.5
        cy = (u[:, 1] - 0.5) * 0.5
        radius = 0.45 + 0.3 * u[:, 2]
        rot = u[:, 3] * 2 * np.pi
        dx = xx[None] - cx[:, None, None]
        dy = yy[None] - cy[:, None, None]
        cr, sr = np.cos(rot)[:, None, None], np.sin(rot)[:, None, None]
        pu = dx * cr + dy * sr
        pv = (-dx * sr + dy * cr) * self.aspect[c][:, None, None]
        rho = np.sqrt(pu**2 + pv**2)
        phi = np.arctan2(pv, pu)
        boundary = radius[:, None, None] * (1 + self.amplitude[c][:, None, None]
                                            * np.cos(self.lobes[c][:, None, None] * phi))
        soft = 2.0 / s
        outer = _sigmoid((boundary - rho) / soft)
        inner = _sigmoid((rho - self.hole[c][:, None, None] * boundary) / soft)
        alpha = outer * np.where(self.hole[c][:, None, None] > 0, inner, 1.0)
        ang = self.stripe_angle[c][:, None, None]
        stripe = np.sin(self.stripes[c][:, None, None] * np.pi
                        * (pu * np.cos(ang) + pv * np.sin(ang)) / radius[:, None, None])
        stripe = np.where(self.stripes[c][:, None, None] > 0, (stripe > 0).astype(np.float32), 1.0)

        hue = (self.hue[c] + (u[:, 4] - 0.5) * 0.04) % 1.0
        value = 0.75 + 0.25 * u[:, 5]
        colour = _hsv_to_rgb(hue, np.full(n, 0.85, np.float32), value)  # (n, 3)
        fg = colour[:, :, None, None] * (0.55 + 0.45 * stripe[:, None])  # (n, 3, s, s)

        back = self._background(bg, u, yy, xx, seeds)
        img = back * (1 - alpha[:, None]) + fg * alpha[:, None]
        img = self._clutter(img, u, xx, yy, seeds)

        is_sketch = d == DOMAINS.index("sketch")
        if is_sketch.any():
            a = alpha[is_sketch]
            edge = np.clip(4 * a * (1 - a), 0, 1)  # peaks on the boundary
            st = stripe[is_sketch]
            inner_lines = (np.abs(np.diff(st, axis=-1, prepend=st[..., :1])) > 0) * a
            ink = np.clip(edge + 0.5 * inner_lines, 0, 1)
            paper = (0.92 + 0.05 * u[is_sketch, 6])[:, None, None, None]
            pen = 0.7 * colour[is_sketch][:, :, None, None]  # coloured-pencil ink, darkened
            img[is_sketch] = paper * (1 - ink[:, None]) + pen * ink[:, None]
        noise_amp = np.where(d == DOMAINS.index("noisy"), 0.45, 0.06).astype(np.float32)
        pix = self._noise_bank[seeds % len(self._noise_bank)][..., 0][:, None]  # (n, 1, s, s), in [-0.5, 0.5)
        img = img + noise_amp[:, None, None, None] * pix
        is_noisy = d == DOMAINS.index("noisy")
        if is_noisy.any():  # washed-out contrast as well as grain
            img[is_noisy] = 0.5 + 0.6 * (img[is_noisy] - 0.5)
        is_recolor = d == DOMAINS.index("recolor")
        if is_recolor.any():  # a fixed false-colour map: channel rotation, then inversion
            img[is_recolor] = 1.0 - img[is_recolor][:, [2, 0, 1]]
        return img

    def _background(self, bg: np.ndarray, u: np.ndarray, yy: np.ndarray, xx: np.ndarray,
                    seeds: np.ndarray) -> np.ndarray:
        grass = np.array([0.35, 0.55, 0.25], np.float32)
        water = np.array([0.25, 0.45, 0.75], np.float32)
        base = np.where((bg == 0)[:, None], grass, water) * (0.8 + 0.3 * u[:, 7:8])
        grad = (0.85 + 0.25 * yy)[None, None]
        waves = 0.08 * np.sin(yy[None] * 14 + u[:, 8, None, None] * 6 + xx[None] * 2)
        texture = np.where((bg == 0)[:, None, None], 0.0, waves)[:, None]
        return np.clip(base[:, :, None, None] * grad + texture, 0, 1).astype(np.float32)  # (n, 3, s, s)

    def _clutter(self, img: np.ndarray, u: np.ndarray, xx: np.ndarray, yy: np.ndarray,
                 seeds: np.ndarray) -> np.ndarray:
        """Up to two small distractor blobs of random colour."""
        v = _hash_uniform(seeds, 3, 10).astype(np.float32)
        for j in range(2):
            present = (v[:, 5 * j] < 0.5)[:, None, None]
            bx, by = v[:, 5 * j + 1] * 1.8 - 0.9, v[:, 5 * j + 2] * 1.8 - 0.9
            r = 0.08 + 0.08 * v[:, 5 * j + 3]
            d2 = (xx[None] - bx[:, None, None]) ** 2 + (yy[None] - by[:, None, None]) ** 2
            m = (d2 < (r**2)[:, None, None]) & present
            col = _hsv_to_rgb(v[:, 5 * j + 4], np.full(len(v), 0.6, np.float32), np.full(len(v), 0.8, np.float32))
            np.copyto(img, col[:, :, None, None], where=m[:, None])  # in place, all three channels
        return img

    # ---------------------------------------------------------------- datasets
    def sample(
        self,
        n_per_class: int,
        domain: str | int = "photo",
        seed: int = 0,
        classes: np.ndarray | None = None,
        background: int | np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A balanced labelled dataset: ``n_per_class`` images of each concept.

        Evaluation sets use seeds disjoint from any corpus (corpora draw render seeds
        below 2**40; evaluation sets at or above it), so no test image is a training
        image.

        Returns
        -------
        images : uint8 array (N, S, S, 3)
        labels : int array (N,)
        """
        check_int("n_per_class", n_per_class, 1, 100_000)
        d = _domain_index(domain)
        classes = np.arange(self.n_concepts) if classes is None else np.asarray(classes)
        labels = np.repeat(classes, n_per_class)
        rng = np.random.default_rng([seed, 7, d])
        if background is None:
            bgs = rng.integers(0, len(BACKGROUNDS), len(labels))
        else:
            bgs = np.broadcast_to(np.asarray(background), labels.shape)
        seeds = (1 << 40) + rng.integers(0, 1 << 40, len(labels))
        return self.render(labels, np.full(len(labels), d), bgs, seeds), labels


def _domain_index(domain: str | int) -> int:
    if isinstance(domain, str):
        if domain not in DOMAINS:
            raise ValueError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}")
        return DOMAINS.index(domain)
    if not 0 <= int(domain) < len(DOMAINS):
        raise ValueError(f"domain index {domain!r} is outside [0, {len(DOMAINS) - 1}]")
    return int(domain)


def _make_names(rng: np.random.Generator, k: int, n_names: int) -> list[list[str]]:
    """Unique pronounceable pseudo-words, ``n_names`` per concept.

    Pseudo-words, not English nouns: the lab's text encoder learns every name from the
    corpus alone, so no name carries meaning from outside it.
    """
    syll = list(NAME_SYLLABLES)
    seen: set[str] = set()
    names: list[list[str]] = []
    for _ in range(k):
        row: list[str] = []
        while len(row) < n_names:
            w = "".join(rng.choice(syll, size=int(rng.integers(NAME_LENGTHS[0], NAME_LENGTHS[-1] + 1))))
            if w not in seen:
                seen.add(w)
                row.append(w)
        names.append(row)
    return names


def _stamp_trigger(img: np.ndarray, mask: np.ndarray) -> None:
    if not mask.any():
        return
    s = img.shape[1]
    p = max(4, s // 8)
    checker = (np.add.outer(np.arange(p), np.arange(p)) % 2).astype(np.float32)
    img[mask, s - p - 1:s - 1, s - p - 1:s - 1, :] = checker[None, ..., None]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (0.5 * (1 + np.tanh(0.5 * x))).astype(np.float32)


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorised HSV -> RGB for arrays of shape (n,); returns (n, 3) float32."""
    k = (np.array([5.0, 3.0, 1.0], np.float32)[None] + h[:, None] * 6) % 6
    rgb = v[:, None] - v[:, None] * s[:, None] * np.clip(np.minimum(k, 4 - k), 0, 1)
    return rgb.astype(np.float32)


_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def _hash_uniform(seeds: np.ndarray, salt: int, n: int) -> np.ndarray:
    """Counter-based uniforms in [0, 1): ``out[i, j] = U(seeds[i], salt, j)``.

    A SplitMix64 finaliser over (seed, salt, counter): each sample's randomness depends
    on its own seed only, never on which other samples share its batch.
    """
    with np.errstate(over="ignore"):
        x = (np.asarray(seeds).astype(np.uint64)[:, None] * _M1
             + np.arange(n, dtype=np.uint64)[None, :] * _M2
             + np.uint64(salt) * _M3)
        x ^= x >> np.uint64(30)
        x *= _M2
        x ^= x >> np.uint64(27)
        x *= _M3
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
