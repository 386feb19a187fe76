"""Benchmark the lab on this machine: corpus generation, pre-training throughput, memory.

Not a test (timings depend on the machine and its load): run it by hand,
``.venv/bin/python scripts/benchmark_lab.py``, and quote what it prints.

It reports
- fp32 matmul throughput of this machine (GFLOP/s, the ceiling for the training loop),
- the FLOPs of one training pair (forward + backward, counted by torch's FlopCounterMode),
- pre-training throughput (pairs/s) and the fraction of the matmul ceiling it reaches,
- the time to build and render a 50,000-pair corpus,
- zero-shot accuracy of the clean ``ci``-sized model on every domain, and
- peak resident memory of the whole run.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from uim_utils import evaluate as ev
from uim_utils.corpus import CorpusConfig, build_corpus
from uim_utils.models import create_lab_model, lab_to_tensor
from uim_utils.pretrain import TrainConfig, pretrain
from uim_utils.world import DOMAINS, ConceptWorld, WorldConfig


def matmul_gflops(n: int = 1024, repeats: int = 20) -> float:
    """Measured fp32 matmul GFLOP/s for n x n matrices."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - t) / 1e9


def flops_per_pair(model_name: str, batch: int = 256) -> float:
    """Forward + backward FLOPs of one image-caption pair in a batch of ``batch``."""
    import open_clip

    lm = create_lab_model(model_name)
    x = lab_to_tensor(np.zeros((batch, 32, 32, 3), np.uint8))
    tok = lm.tokenizer(["a photo of a sovubu on grass."] * batch)
    loss_fn = open_clip.ClipLoss()
    with FlopCounterMode(display=False) as fc:
        img, txt, scale = lm.model(x, tok)
        loss_fn(img, txt, scale).backward()
    return fc.get_total_flops() / batch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="uim-tiny")
    ap.add_argument("--concepts", type=int, default=100)
    ap.add_argument("--pairs", type=int, default=20_000)
    ap.add_argument("--epochs", type=int, default=6)
    args = ap.parse_args()

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    peak = matmul_gflops()
    print(f"fp32 matmul (n=1024): {peak:.0f} GFLOP/s")

    world = ConceptWorld(WorldConfig(n_concepts=args.concepts))
    t = time.perf_counter()
    big = build_corpus(world, CorpusConfig(n_samples=50_000, zipf_exponent=1.0, caption_noise=0.1,
                                           dup_fraction=0.01, dup_copies=3, poison_count=20))
    t_table = time.perf_counter() - t
    _ = big.images
    t_all = time.perf_counter() - t
    print(f"corpus of {len(big):,} pairs: table {t_table:.1f} s, table + rendered images {t_all:.1f} s")
    del big

    fpp = flops_per_pair(args.model)
    corpus = build_corpus(world, CorpusConfig(n_samples=args.pairs))
    cfg = TrainConfig(model=args.model, epochs=args.epochs)
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["UIM_CACHE"] = tmp  # a cold run, not a cache hit
        res = pretrain(corpus, cfg, progress=False)
    h = res.history
    achieved = h["pairs_per_second"] * fpp / 1e9
    print(f"model {args.model}: {fpp / 1e6:.1f} MFLOP per pair (forward + backward)")
    print(f"pre-training {args.pairs:,} pairs x {args.epochs} epochs: {h['seconds']:.1f} s, "
          f"{h['pairs_per_second']:,.0f} pairs/s = {achieved:.1f} GFLOP/s "
          f"({100 * achieved / peak:.0f}% of the matmul ceiling)")
    head = ev.zero_shot_head(res.model, world.classnames)
    for d in DOMAINS:
        x, y = world.sample(10, d, seed=123)
        acc = ev.accuracy(y, ev.zero_shot_logits(ev.encode_images(res.model, x), head).argmax(1))
        print(f"zero-shot accuracy, {d:8s}: {acc:.3f} (chance {1 / args.concepts:.3f})")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
