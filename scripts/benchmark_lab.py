"""Benchmark the lab's standard clean model on this machine: step time, FLOPs, throughput, accuracy.

Not a test (timings depend on the machine and its load): run it by hand,
``.venv/bin/python scripts/benchmark_lab.py [--compare]``, and quote what it prints.

By default it benchmarks the standard clean model of :mod:`uim_utils.lab`: model
``lab.MODEL``, ``lab.N_PAIRS`` clean pairs of the standard world of seed 0, ``lab.EPOCHS``
epochs, the training settings ``lab.clean_train_config(0)`` (``--model``, ``--pairs`` and
``--epochs`` override the first three). It reports

- fp32 matmul throughput of this machine (GFLOP/s, the ceiling for the training loop),
- the time of one training step (a batch of ``batch_size`` pairs) split into preparing
  the batch (indexing, conversion, layout), forward (model + loss), backward and optimizer
  (AdamW step + temperature clamp), the median of 10 timed steps on fresh batches with
  the loss and optimizer settings of :mod:`uim_utils.pretrain`, with the threads and
  memory format training uses (``cfg.threads``, ``cfg.channels_last``),
- the FLOPs of one training pair (forward + backward, counted by torch's
  FlopCounterMode, on captions tokenised by the model's own tokenizer),
- pre-training throughput of a cold run (pairs/s) and the fraction of the matmul
  ceiling it reaches, for one model alone and, for one-thread training, two models side
  by side (:func:`uim_utils.pretrain.pretrain_many`, one worker process per core: how
  chapters train several models; their throughput is set against as many cores'
  one-thread ceilings),
- zero-shot accuracy on every domain, 20 test images per concept,
- the time to build and render a 50,000-pair corpus, and
- peak resident memory of the whole run.

``--threads``, ``--channels-last`` and ``--pooled-text`` override the training run's threads,
the image tower's memory format and whether the text tower runs on the pooled token only
(:attr:`uim_utils.pretrain.TrainConfig.pooled_text`), ``--lr`` its learning rate.
``--compare`` prints the same figures for ``uim-tiny`` with its old settings (20,000 pairs,
6 epochs, ``TrainConfig`` defaults: lr 2e-3) and a side-by-side summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import resource
import tempfile
import time
from typing import Any

import numpy as np
import open_clip
import torch
from torch.utils.flop_counter import FlopCounterMode

from uim_utils import evaluate as ev
from uim_utils import lab, parallel
from uim_utils.corpus import Corpus, CorpusConfig, build_corpus
from uim_utils.models import count_parameters, create_lab_model, lab_to_tensor
from uim_utils.pretrain import (
    TrainConfig,
    batch_format,
    make_optimizer,
    pretrain,
    pretrain_many,
    training_context,
)
from uim_utils.world import DOMAINS, ConceptWorld

N_TEST = 20
"""Zero-shot test images per concept and domain."""
TIMED_STEPS, WARMUP_STEPS = 10, 2
TINY_OLD: dict[str, Any] = dict(model="uim-tiny", pairs=20_000, epochs=6)
"""``uim-tiny`` as the lab used it before ``uim-base`` (``TrainConfig`` defaults otherwise)."""


def matmul_gflops(n: int = 1024, repeats: int = 20) -> float:
    """Measured fp32 matmul GFLOP/s for n x n matrices."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - t) / 1e9


def flops_per_pair(model_name: str, captions: list[str], batch: int = 256) -> float:
    """Forward + backward FLOPs of one image-caption pair in a batch of ``batch``.

    The captions are tokenised by the model's own tokenizer (``create_lab_model(name).tokenizer``:
    the compact vocabulary of ``uim-base``, open_clip's full one of ``uim-tiny``).
    """
    lm = create_lab_model(model_name)
    lm.model.train()
    x = lab_to_tensor(np.zeros((batch, 32, 32, 3), np.uint8))
    tok = lm.tokenizer((captions * (batch // max(1, len(captions)) + 1))[:batch])
    loss_fn = open_clip.ClipLoss()
    with FlopCounterMode(display=False) as fc:
        img, txt, scale = lm.model(x, tok)[:3]
        loss_fn(img, txt, scale).backward()
    return fc.get_total_flops() / batch


def step_times(corpus: Corpus, cfg: TrainConfig, steps: int = TIMED_STEPS,
               warmup: int = WARMUP_STEPS) -> dict[str, float]:
    """Median seconds of the phases of one training step: preparing the batch, forward,
    backward and optimizer.

    ``warmup + steps`` steps on fresh batches of ``cfg.batch_size`` pairs of ``corpus``
    (sorted slices of a seeded permutation, indexed, converted and laid out as
    :func:`uim_utils.pretrain.train_contrastive` does), with its loss and optimizer
    (``open_clip.ClipLoss``; :func:`~uim_utils.pretrain.make_optimizer`, AdamW on its param
    groups, betas (0.9, 0.98), eps 1e-6; the temperature clamp counts as optimizer).
    """
    if (warmup + steps) * cfg.batch_size > len(corpus):
        raise ValueError(f"{warmup + steps} fresh batches of {cfg.batch_size} pairs need more than the "
                         f"{len(corpus):,} pairs of the corpus")
    lm = create_lab_model(cfg.model, seed=cfg.seed)
    model = lm.model
    model.train()
    loss_fn = open_clip.ClipLoss()
    opt = make_optimizer(model, cfg)
    tokens = lm.tokenizer(corpus.captions)
    perm = np.random.default_rng(cfg.seed).permutation(len(corpus))
    times: dict[str, list[float]] = {"batch": [], "forward": [], "backward": [], "optimizer": []}
    with training_context(model, cfg):  # as the training loop runs
        for i in range(warmup + steps):
            t0 = time.perf_counter()
            idx = np.sort(perm[i * cfg.batch_size:(i + 1) * cfg.batch_size])
            x, tok = batch_format(lab_to_tensor(corpus.images[idx]), cfg), tokens[idx]
            t1 = time.perf_counter()
            img_f, txt_f, scale = model(x, tok)[:3]
            loss = loss_fn(img_f, txt_f, scale)
            t2 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            t3 = time.perf_counter()
            opt.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(100))
            t4 = time.perf_counter()
            if i >= warmup:
                for k, a, b in zip(times, (t0, t1, t2, t3), (t1, t2, t3, t4)):
                    times[k].append(b - a)
    return {k: float(np.median(v)) for k, v in times.items()}


def cold_pretrain(corpus: Corpus, cfg: TrainConfig, side_by_side: int = 1) -> Any:
    """Pre-train without reading the cache (a temporary ``UIM_CACHE``, restored afterwards).

    With ``side_by_side > 1``, that many models (seeds ``cfg.seed``, ``cfg.seed + 1``, ...)
    train at once with :func:`uim_utils.pretrain.pretrain_many`; returns ``(results,
    wall seconds)``.
    """
    old = os.environ.get("UIM_CACHE")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["UIM_CACHE"] = tmp
        try:
            if side_by_side > 1:
                t = time.perf_counter()
                jobs = [(corpus, dataclasses.replace(cfg, seed=cfg.seed + i)) for i in range(side_by_side)]
                results = pretrain_many(jobs, progress=False, workers=side_by_side)
                return results, time.perf_counter() - t
            return pretrain(corpus, cfg, progress=False)
        finally:
            if old is None:
                os.environ.pop("UIM_CACHE", None)
            else:
                os.environ["UIM_CACHE"] = old


def benchmark(world: ConceptWorld, pairs: int, cfg: TrainConfig, peak: float) -> dict[str, Any]:
    """Every figure of one model and its settings; prints them as it goes."""
    corpus = build_corpus(world, CorpusConfig(n_samples=pairs, seed=0))
    n_params = count_parameters(create_lab_model(cfg.model).model)
    print(f"\n== {cfg.model}: {pairs:,} pairs x {cfg.epochs} epochs, batch {cfg.batch_size}, lr {cfg.lr:g}, "
          f"{cfg.threads} thread(s){', channels last' if cfg.channels_last else ''}"
          f"{', pooled text' if cfg.pooled_text else ''} ({n_params:,} parameters)")
    fpp = flops_per_pair(cfg.model, corpus.captions[:cfg.batch_size], cfg.batch_size)
    print(f"FLOPs per pair (forward + backward): {fpp / 1e6:.1f} MFLOP")
    st = step_times(corpus, cfg)
    total = sum(st.values())
    split = ", ".join(f"{k} {1e3 * v:.1f} ms ({100 * v / total:.0f}%)" for k, v in st.items())
    step_gflops = fpp * cfg.batch_size / total / 1e9
    print(f"one step of {cfg.batch_size} pairs: {1e3 * total:.1f} ms = {split}; "
          f"{step_gflops:.1f} GFLOP/s ({100 * step_gflops / peak:.0f}% of the matmul ceiling)")
    res = cold_pretrain(corpus, cfg)
    h = res.history
    achieved = h["pairs_per_second"] * fpp / 1e9
    per_step = h["seconds"] / max(1, h["steps"])
    print(f"pre-training: {h['seconds']:.1f} s, {h['steps']} steps of {1e3 * per_step:.1f} ms "
          f"(the timed step {1e3 * total:.1f} ms; the two differ by the loop's bookkeeping "
          f"and the machine's speed between the measurements), "
          f"{h['pairs_per_second']:,.0f} pairs/s = {achieved:.1f} GFLOP/s "
          f"({100 * achieved / peak:.0f}% of the matmul ceiling); final loss {np.mean(h['loss'][-20:]):.3f}")
    n_side = parallel.usable_cores() if cfg.threads == 1 else 1
    if n_side > 1:
        _, wall = cold_pretrain(corpus, cfg, side_by_side=n_side)
        pps = n_side * h["steps"] * cfg.batch_size / wall
        print(f"{n_side} models side by side ({n_side} worker processes of one thread): {wall:.1f} s wall "
              f"including start-up and rendering, {pps:,.0f} pairs/s in all = {pps * fpp / 1e9:.1f} GFLOP/s "
              f"({100 * pps * fpp / 1e9 / (n_side * peak):.0f}% of {n_side} cores' matmul ceiling, "
              f"{n_side} x {peak:.0f} GFLOP/s)")
    else:
        wall, pps = float("nan"), float("nan")
    tests = {d: world.sample(N_TEST, d, seed=1) for d in DOMAINS}
    feats = [ev.encode_images(res.model, x) for x, _ in tests.values()]
    logits = ev.zero_shot_classify(res.model, world.classnames, feats)
    acc = {}
    for (d, (_, y)), z in zip(tests.items(), logits):
        acc[d] = ev.accuracy(y, z.argmax(1))
        print(f"zero-shot accuracy, {d:8s}: {acc[d]:.3f} (chance {1 / world.n_concepts:.3f}, "
              f"{N_TEST} images per concept)")
    return dict(model=cfg.model, pairs=pairs, epochs=cfg.epochs, params=n_params, mflop_per_pair=fpp / 1e6,
                step_ms=1e3 * total, **{f"{k}_ms": 1e3 * v for k, v in st.items()},
                train_s=h["seconds"], pairs_per_s=h["pairs_per_second"], ceiling=achieved / peak,
                side_by_side_s=wall, side_by_side_pairs_per_s=pps,
                side_by_side_ceiling=pps * fpp / 1e9 / (n_side * peak),
                **{f"zs_{d}": a for d, a in acc.items()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Defaults are the standard clean model of uim_utils.lab.")
    ap.add_argument("--model", default=lab.MODEL, help=f"lab model (default lab.MODEL = {lab.MODEL})")
    ap.add_argument("--pairs", type=int, default=lab.N_PAIRS,
                    help=f"clean pairs (default lab.N_PAIRS = {lab.N_PAIRS:,})")
    ap.add_argument("--epochs", type=int, default=lab.EPOCHS, help=f"epochs (default lab.EPOCHS = {lab.EPOCHS})")
    ap.add_argument("--lr", type=float, default=None, help=f"peak learning rate (default lab.LR = {lab.LR:g})")
    ap.add_argument("--threads", type=int, default=None, help="training threads (default: the standard recipe's)")
    ap.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                    help="train the image tower channels-last (default: the standard recipe's)")
    ap.add_argument("--pooled-text", action=argparse.BooleanOptionalAction, default=None,
                    help="train the text tower on the pooled token only (default: the standard recipe's)")
    ap.add_argument("--compare", action="store_true",
                    help="also benchmark uim-tiny with its old settings (20,000 pairs, 6 epochs, lr 2e-3)")
    args = ap.parse_args()

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    peak = matmul_gflops()
    print(f"fp32 matmul (n=1024): {peak:.0f} GFLOP/s")

    world = lab.standard_world(0)
    t = time.perf_counter()
    big = build_corpus(world, CorpusConfig(n_samples=50_000, zipf_exponent=1.0, caption_noise=0.1,
                                           dup_fraction=0.01, dup_copies=3, poison_count=20))
    t_table = time.perf_counter() - t
    _ = big.images
    t_all = time.perf_counter() - t
    print(f"corpus of {len(big):,} pairs: table {t_table:.1f} s, table + rendered images {t_all:.1f} s")
    del big

    given = (("lr", args.lr), ("threads", args.threads), ("channels_last", args.channels_last),
             ("pooled_text", args.pooled_text))
    overrides = {k: v for k, v in given if v is not None}
    cfg = dataclasses.replace(lab.clean_train_config(0), model=args.model, epochs=args.epochs, **overrides)
    rows = [benchmark(world, args.pairs, cfg, peak)]
    if args.compare:
        old = TrainConfig(model=TINY_OLD["model"], epochs=TINY_OLD["epochs"], seed=0)
        rows.append(benchmark(world, TINY_OLD["pairs"], old, peak))
        import pandas as pd

        print("\n== summary")
        print(pd.DataFrame(rows).set_index("model").T.to_string(float_format=lambda v: f"{v:,.3g}"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
