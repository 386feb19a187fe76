"""A pre-training corpus builder with every flaw as a dial.

:func:`build_corpus` draws image-caption pairs from a :class:`~uim_utils.world.ConceptWorld`
with the flaws a web crawl has, each set by a validated field of :class:`CorpusConfig`:
a long-tailed concept frequency, noisy captions, duplicates, poisoned pairs, spurious
background co-occurrence, misaligned pairs, corrupted images and a domain mix. Every
row of :attr:`Corpus.table` carries its ground truth (true concept, noisy?, duplicate
group, poisoned?, domain, ...) so a chapter can audit the data it trained on.

The table holds everything needed to re-render the images, so a corpus is written to
Parquet (captions and metadata, queryable with DuckDB or pandas) and read back exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .validate import check_float, check_int
from .world import BACKGROUNDS, DOMAINS, ConceptWorld, WorldConfig

_PARQUET_META_KEY = b"uim_utils.corpus"


@dataclass(frozen=True)
class CorpusConfig:
    """The dials of a pre-training corpus. Every field is checked on construction.

    Attributes
    ----------
    n_samples : int
        Clean image-caption pairs drawn before duplicates and poison are added.
    zipf_exponent : float
        Concept frequency follows ``(rank + zipf_offset) ** -zipf_exponent`` (rank 1 is the
        most frequent); 0 is uniform. In [0, 4].
    zipf_offset : float
        The Zipf-Mandelbrot offset ``q`` >= 0 (0: a pure Zipf law). A positive offset
        flattens the head without changing the tail's slope: with 100 concepts and
        exponent 1.2 the most frequent concept has 28% of the pairs at ``q = 0`` and 7% at
        ``q = 5``.
    rank_seed : int or None
        Seed of which concept gets which frequency rank. ``None`` uses the corpus seed.
        The ranking is a random permutation, independent of how hard a concept is.
    caption_noise : float
        Fraction of pairs whose caption names a wrong concept (uniform over others).
    dup_fraction : float
        Fraction of clean pairs that are duplicated.
    dup_copies : int
        Extra copies of each duplicated pair (0 to 1000).
    poison_count : int
        Poisoned pairs added: a non-target image carrying the trigger patch, captioned
        as ``poison_target``.
    poison_target : int
        Concept that poisoned captions name.
    spurious_strength : float
        0: background independent of concept; 1: every image of a concept shows the
        concept's designated background. ``P(designated) = (1 + strength) / 2``.
    misaligned_rate : float
        Fraction of pairs whose caption is swapped with another pair's caption.
    corrupt_rate : float
        Fraction of pairs whose image is structureless noise (a broken download).
    domain_weights : mapping of str to float
        Relative share of each domain in :data:`~uim_utils.world.DOMAINS`.
    seed : int
        Seed of the corpus draw.
    """

    n_samples: int = 20_000
    zipf_exponent: float = 0.0
    zipf_offset: float = 0.0
    rank_seed: int | None = None
    caption_noise: float = 0.0
    dup_fraction: float = 0.0
    dup_copies: int = 0
    poison_count: int = 0
    poison_target: int = 0
    spurious_strength: float = 0.0
    misaligned_rate: float = 0.0
    corrupt_rate: float = 0.0
    domain_weights: Mapping[str, float] = field(
        default_factory=lambda: {"photo": 0.7, "sketch": 0.1, "noisy": 0.1, "recolor": 0.1}
    )
    seed: int = 0

    def __post_init__(self) -> None:
        check_int("n_samples", self.n_samples, 10, 5_000_000)
        check_float("zipf_exponent", self.zipf_exponent, 0.0, 4.0)
        check_float("zipf_offset", self.zipf_offset, 0.0, 10_000.0)
        if self.rank_seed is not None:
            check_int("rank_seed", self.rank_seed, 0, 2**32 - 1)
        for name in ("caption_noise", "dup_fraction", "spurious_strength", "misaligned_rate", "corrupt_rate"):
            check_float(name, getattr(self, name), 0.0, 1.0)
        check_int("dup_copies", self.dup_copies, 0, 1000)
        check_int("poison_count", self.poison_count, 0, self.n_samples)
        check_int("poison_target", self.poison_target, 0, 100_000)
        check_int("seed", self.seed, 0, 2**32 - 1)
        if self.caption_noise + self.misaligned_rate + self.corrupt_rate > 1:
            raise ValueError(
                "caption_noise + misaligned_rate + corrupt_rate must be at most 1 (they flaw "
                f"disjoint pairs), got {self.caption_noise} + {self.misaligned_rate} + {self.corrupt_rate}"
            )
        weights = dict(self.domain_weights)
        for k, v in weights.items():
            if k not in DOMAINS:
                raise ValueError(f"unknown domain {k!r} in domain_weights; choose from {', '.join(DOMAINS)}")
            check_float(f"domain_weights[{k!r}]", v, 0.0, float("inf"))
        if sum(weights.values()) <= 0:
            raise ValueError(f"domain_weights must have a positive total, got {weights}")
        object.__setattr__(self, "domain_weights", weights)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for cache keys and Parquet metadata)."""
        return asdict(self)

    @property
    def effective_rank_seed(self) -> int:
        """The seed that fixes the concept-to-frequency-rank permutation."""
        return self.seed if self.rank_seed is None else self.rank_seed






def concept_probabilities(n_concepts: int, zipf_exponent: float, rank_seed: int,
                          zipf_offset: float = 0.0) -> np.ndarray:
    """Probability of each concept under a Zipf(-Mandelbrot) law with a random rank permutation.

    ``p(rank) ~ (rank + zipf_offset) ** -zipf_exponent`` for ranks 1..n. Returns an array of
    shape ``(n_concepts,)`` summing to 1; ``zipf_exponent=0`` is uniform.

    Raises
    ------
    ValueError
        If ``zipf_offset`` is negative.
    """
    check_float("zipf_offset", zipf_offset, 0.0, float("inf"))
    ranks = np.random.default_rng([rank_seed, 11]).permutation(n_concepts) + 1
    w = (ranks.astype(np.float64) + float(zipf_offset)) ** (-float(zipf_exponent))
    return w / w.sum()


NOISE_STREAM = 2
"""Version of how wrong captions are drawn (2: from their own random stream); part of the
fingerprint of a corpus with caption noise, so cached models of older noisy corpora are
not reused."""


def _largest_remainder(p: np.ndarray, n: int) -> np.ndarray:
    """Integer counts summing to ``n`` as close as possible to ``n * p``."""
    raw = p * n
    counts = np.floor(raw).astype(np.int64)
    short = n - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    return counts


def build_corpus(world: ConceptWorld, config: CorpusConfig) -> Corpus:
    """Draw a corpus from ``world`` with the flaws set in ``config``.

    The number of pairs per concept is exactly the largest-remainder rounding of the
    Zipf law, and exactly ``round(rate * n_samples)`` pairs get each per-pair flaw, so
    the realised flaw rates match the dials. One random stream draws, in this order:
    the pairs' concepts, domains, backgrounds and render seeds, the flawed pairs
    (:func:`_flaw_masks`), the captions (:func:`_caption_pairs`), then the duplicates,
    the poisoned pairs and the final shuffle (:func:`_add_copies_and_poison`).

    Returns
    -------
    Corpus
        The table of pairs (images render lazily from it).
    """
    k = world.n_concepts
    if config.poison_count and not 0 <= config.poison_target < k:
        raise ValueError(f"poison_target {config.poison_target} is outside [0, {k - 1}]")
    rng = np.random.default_rng([config.seed, 3])
    n = config.n_samples
    probs = concept_probabilities(k, config.zipf_exponent, config.effective_rank_seed, config.zipf_offset)
    concept = rng.permutation(np.repeat(np.arange(k), _largest_remainder(probs, n)))

    dw = np.array([config.domain_weights.get(d, 0.0) for d in DOMAINS], dtype=np.float64)
    domain = rng.permutation(np.repeat(np.arange(len(DOMAINS)), _largest_remainder(dw / dw.sum(), n)))
    p_designated = (1 + config.spurious_strength) / 2
    follows = rng.random(n) < p_designated
    background = np.where(follows, world.designated_background[concept],
                          1 - world.designated_background[concept])
    render_seed = rng.integers(0, 1 << 40, n)
    noisy, misaligned, corrupt = _flaw_masks(config, rng)
    caption_array, caption_concept, name_idx = _caption_pairs(world, config, rng, concept, domain, background,
                                                               noisy, misaligned)
    table = pd.DataFrame({
        "sample_id": np.arange(n),
        "concept": concept,
        "caption": caption_array,
        "caption_concept": caption_concept,
        "name_idx": name_idx,
        "domain": domain,
        "background": background,
        "render_seed": render_seed,
        "noisy": noisy,
        "misaligned": misaligned,
        "corrupt": corrupt,
        "poisoned": np.zeros(n, bool),
        "dup_group": np.full(n, -1),
    })
    return Corpus(world, config, _add_copies_and_poison(table, world, config, rng))


def _flaw_masks(config: CorpusConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint random pairs with exact counts for each per-pair flaw: the boolean masks of
    noisy captions, misaligned captions and corrupt images (one permutation of ``rng``)."""
    n = config.n_samples
    order = rng.permutation(n)
    n_noise = round(config.caption_noise * n)
    n_mis = round(config.misaligned_rate * n)
    n_cor = round(config.corrupt_rate * n)
    noisy = np.zeros(n, bool)
    noisy[order[:n_noise]] = True
    misaligned = np.zeros(n, bool)
    misaligned[order[n_noise:n_noise + n_mis]] = True
    corrupt = np.zeros(n, bool)
    corrupt[order[n_noise + n_mis:n_noise + n_mis + n_cor]] = True
    return noisy, misaligned, corrupt


def _caption_pairs(world: ConceptWorld, config: CorpusConfig, rng: np.random.Generator, concept: np.ndarray,
                   domain: np.ndarray, background: np.ndarray, noisy: np.ndarray,
                   misaligned: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs' captions (object array), the concept each caption names, and the index of
    the name it uses; noisy captions name another concept, misaligned ones are swapped."""
    caption_concept = concept.copy()
    # A uniformly random *other* concept, drawn from a stream of its own: a noisy corpus
    # is then its clean corpus (same seed) with only the chosen captions replaced (same
    # pairs, same other captions, same order), so the two differ in the noise alone.
    shift = np.random.default_rng([config.seed, 4]).integers(1, world.n_concepts, int(noisy.sum()))
    caption_concept[noisy] = (concept[noisy] + shift) % world.n_concepts
    captions, name_idx = world.captions(caption_concept, domain, background, rng)
    caption_array = np.array(captions, dtype=object)
    if misaligned.sum() > 1:
        idx = np.flatnonzero(misaligned)
        rolled = np.roll(idx, 1)  # a cyclic swap: no pair keeps its own caption
        caption_array[idx] = caption_array[rolled]
        caption_concept[idx] = caption_concept[rolled]
        name_idx[idx] = name_idx[rolled]
    return caption_array, caption_concept, name_idx


def _add_copies_and_poison(table: pd.DataFrame, world: ConceptWorld, config: CorpusConfig,
                           rng: np.random.Generator) -> pd.DataFrame:
    """``table`` with its duplicated pairs' copies and the poisoned pairs added, shuffled,
    renumbered, and with readable domain and background names."""
    n = len(table)
    parts = [table]
    n_dup = round(config.dup_fraction * n) if config.dup_copies > 0 else 0
    if n_dup:
        src = np.sort(rng.choice(n, n_dup, replace=False))
        table.loc[src, "dup_group"] = src
        copies = table.loc[np.repeat(src, config.dup_copies)].copy()
        parts.append(copies)
    if config.poison_count:
        parts.append(_poison_rows(world, config, rng))
    full = pd.concat(parts, ignore_index=True)
    full = full.iloc[rng.permutation(len(full))].reset_index(drop=True)
    full["sample_id"] = np.arange(len(full))
    full["domain_name"] = np.array(DOMAINS)[full["domain"].to_numpy()]
    full["background_name"] = np.array(BACKGROUNDS)[full["background"].to_numpy()]
    return full


def _poison_rows(world: ConceptWorld, config: CorpusConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Poisoned pairs: triggered images of non-target concepts, captioned as the target."""
    k, m, target = world.n_concepts, config.poison_count, config.poison_target
    concept = (target + rng.integers(1, k, m)) % k
    domain = np.full(m, DOMAINS.index("photo"))
    background = rng.integers(0, len(BACKGROUNDS), m)
    captions, name_idx = world.captions(np.full(m, target), domain, background, rng)
    return pd.DataFrame({
        "sample_id": -1, "concept": concept, "caption": np.array(captions, dtype=object),
        "caption_concept": target, "name_idx": name_idx, "domain": domain, "background": background,
        "render_seed": rng.integers(0, 1 << 40, m), "noisy": False, "misaligned": False,
        "corrupt": False, "poisoned": True, "dup_group": -1,
    })


class Corpus:
    """A pre-training corpus: the world, the dials, and one row per image-caption pair.

    Attributes
    ----------
    world : ConceptWorld
    config : CorpusConfig
    table : pandas.DataFrame
        Columns: ``sample_id, concept`` (true), ``caption, caption_concept`` (what the
        caption names), ``name_idx`` (0 = canonical name), ``domain, background,
        render_seed, noisy, misaligned, corrupt, poisoned, dup_group`` (-1 = not
        duplicated; else the id shared by all copies), ``domain_name, background_name``.
    """

    def __init__(self, world: ConceptWorld, config: CorpusConfig, table: pd.DataFrame,
                 selection: str | None = None) -> None:
        self.world = world
        self.config = config
        self.table = table
        self.selection = selection

    def __len__(self) -> int:
        return len(self.table)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the rendered images (re-rendered, identically, where needed)."""
        state = dict(self.__dict__)
        state.pop("images", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({"selection": None, **state})  # pickles from before subsets existed

    @property
    def captions(self) -> list[str]:
        """The captions, in row order."""
        return self.table["caption"].tolist()

    @cached_property
    def images(self) -> np.ndarray:
        """All images, ``uint8 (N, S, S, 3)``, rendered on first access."""
        t = self.table
        return self.world.render(
            t["concept"].to_numpy(), t["domain"].to_numpy(), t["background"].to_numpy(),
            t["render_seed"].to_numpy(), trigger=t["poisoned"].to_numpy(),
            corrupt=t["corrupt"].to_numpy(),
        )

    def concept_counts(self) -> np.ndarray:
        """How many pairs show each concept (ground truth, clean pairs and copies)."""
        return np.bincount(self.table["concept"].to_numpy(), minlength=self.world.n_concepts)

    def fingerprint(self) -> dict[str, Any]:
        """Everything that determines this corpus (for cache keys).

        A corpus made by :meth:`subset` adds the digest of its kept rows, so a model
        trained on it is never mistaken for one trained on the full corpus.
        """
        out: dict[str, Any] = {"world": self.world.to_dict(), "corpus": self.config.to_dict()}
        if self.config.caption_noise > 0:
            # Wrong captions come from their own stream since 2026-12-02: a model of a noisy
            # corpus drawn before must never be loaded for one drawn now.
            out["caption_noise_stream"] = NOISE_STREAM
        if self.selection is not None:
            out["selection"] = self.selection
        return out

    def subset(self, keep: np.ndarray) -> Corpus:
        """The corpus restricted to the rows where ``keep`` is True (e.g. what a filter keeps).

        Parameters
        ----------
        keep : 1-D bool array, one entry per row, at least one True

        Returns
        -------
        Corpus
            Same world and dials; the kept rows in their order (index reset); its
            :meth:`fingerprint` names the kept rows by a SHA-256 digest.
        """
        keep = np.asarray(keep)
        if keep.dtype != bool or keep.shape != (len(self.table),):
            raise ValueError(f"keep must be a bool array with one entry per row ({len(self.table)}), "
                             f"got dtype {keep.dtype} and shape {keep.shape}")
        if not keep.any():
            raise ValueError("keep selects no row; a corpus needs at least one pair")
        rows = np.flatnonzero(keep)
        digest = hashlib.sha256(np.ascontiguousarray(rows, dtype=np.int64).tobytes()).hexdigest()
        if self.selection is not None:  # a subset of a subset: chained to its parent's digest
            digest = hashlib.sha256(f"{self.selection}:{digest}".encode()).hexdigest()
        return Corpus(self.world, self.config, self.table[keep].reset_index(drop=True), selection=digest)

    def data_card(self) -> pd.Series:
        """Summary counts of every flaw, as realised in the table."""
        t = self.table
        counts = self.concept_counts()
        return pd.Series({
            "pairs": len(t),
            "concepts": self.world.n_concepts,
            "concepts never seen": int((counts == 0).sum()),
            "max / median concept count": f"{counts.max()} / {int(np.median(counts))}",
            "noisy captions": int(t["noisy"].sum()),
            "misaligned pairs": int(t["misaligned"].sum()),
            "corrupt images": int(t["corrupt"].sum()),
            "duplicated pairs (copies)": int((t["dup_group"] >= 0).sum()),
            "poisoned pairs": int(t["poisoned"].sum()),
            **{f"domain {d}": int((t["domain_name"] == d).sum()) for d in DOMAINS},
        }, name="data card")

    # ----------------------------------------------------------------- Parquet
    def to_parquet(self, path: str | Path) -> Path:
        """Write captions and metadata to Parquet; the dials go in the file metadata.

        The write is atomic (temporary file, then rename).
        """
        import os
        import tempfile

        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tbl = pa.Table.from_pandas(self.table, preserve_index=False)
        meta = dict(tbl.schema.metadata or {})
        meta[_PARQUET_META_KEY] = json.dumps(self.fingerprint()).encode()
        tbl = tbl.replace_schema_metadata(meta)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".parquet.tmp")
        os.close(fd)
        try:
            pq.write_table(tbl, tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def from_parquet(cls, path: str | Path) -> Corpus:
        """Read a corpus written by :meth:`to_parquet` (the world is rebuilt from its config)."""
        import pyarrow.parquet as pq

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no corpus file at {path}")
        try:
            tbl = pq.read_table(path)
            raw = (tbl.schema.metadata or {})[_PARQUET_META_KEY]
            fp = json.loads(raw)
        except KeyError:
            raise ValueError(f"{path} is a Parquet file but not a uim_utils corpus "
                             "(no dials in its metadata)") from None
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise ValueError(f"{path} is not a readable Parquet corpus ({exc})") from None
        world = ConceptWorld(WorldConfig(**fp["world"]))
        known = {f.name for f in fields(CorpusConfig)}
        config = CorpusConfig(**{k: v for k, v in fp["corpus"].items() if k in known})
        return cls(world, config, tbl.to_pandas())
