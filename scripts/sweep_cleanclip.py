"""Sweep the clean fine-tuning budget of chapter 4 (CleanCLIP vs CLIP-only fine-tuning).

The chapter's mitigation claim failed with its first fine-tuning budget (3,000 clean
pairs, 2 epochs). This script measures, for a few development seeds, how the zero-shot
attack success rate (ASR) and clean accuracy of the poisoned ``ci`` model change with
the fine-tuning set size, epochs, learning rate and CleanCLIP weight ``w``. The chapter
picks its budget from this sweep on the *development* seeds and then checks the claim on
other seeds; see the chapter's "Mitigate" section.

Usage::

    python scripts/sweep_cleanclip.py --seeds 0 1 --out sweep.csv
"""

from __future__ import annotations

import argparse
import itertools
import time

import pandas as pd

from uim_utils import poisoning as PZ
from uim_utils.corpus import CorpusConfig, build_corpus
from uim_utils.pretrain import TrainConfig, pretrain
from uim_utils.world import ConceptWorld, WorldConfig


def run_seed(seed: int, grid: list[dict], n_pairs: int, epochs: int, n_test: int) -> list[dict]:
    """Pre-train the poisoned model for ``seed`` and fine-tune it with every grid entry."""
    world = ConceptWorld(WorldConfig(n_concepts=100, seed=seed))
    target = PZ.pick_target(seed, 100)
    chosen = n_pairs // 100
    poisoned = pretrain(build_corpus(world, CorpusConfig(n_samples=n_pairs, poison_count=chosen,
                                                         poison_target=target, seed=seed)),
                        TrainConfig(model="uim-tiny", epochs=epochs, seed=seed), progress=False)
    test = PZ.trigger_test_set(world, n_test, target, seed=seed)

    def measure(lm) -> dict:
        clean, trig = PZ.zero_shot_predict(lm, world.classnames, [test.clean, test.triggered])
        return {"acc": float((clean == test.labels).mean()),
                "asr": float(PZ.attack_success(trig, target).mean())}

    rows = [{"seed": seed, "method": "none", **measure(poisoned.model)}]
    clean_sets: dict[int, object] = {}
    for g in grid:
        n_ft = g["n_ft"]
        if n_ft not in clean_sets:
            clean_sets[n_ft] = build_corpus(world, CorpusConfig(n_samples=n_ft, seed=seed + 1000))
        cfg = PZ.FinetuneConfig(method=g["method"], epochs=g["epochs"], lr=g["lr"],
                                weight=g.get("weight", 1.0), seed=seed)
        t0 = time.perf_counter()
        lm = PZ.finetune(poisoned.model, poisoned.key, clean_sets[n_ft], cfg, progress=False)
        rows.append({"seed": seed, **g, **measure(lm), "seconds": time.perf_counter() - t0})
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--n-ft", type=int, nargs="+", default=[3000, 10000])
    ap.add_argument("--epochs", type=int, nargs="+", default=[2, 5])
    ap.add_argument("--lr", type=float, nargs="+", default=[5e-4])
    ap.add_argument("--weight", type=float, nargs="+", default=[1.0])
    ap.add_argument("--n-test", type=int, default=5)
    ap.add_argument("--out", default="sweep_cleanclip.csv")
    a = ap.parse_args()
    grid = []
    for n_ft, ep, lr in itertools.product(a.n_ft, a.epochs, a.lr):
        grid.append({"method": "clip", "n_ft": n_ft, "epochs": ep, "lr": lr})
        grid += [{"method": "cleanclip", "n_ft": n_ft, "epochs": ep, "lr": lr, "weight": w} for w in a.weight]
    rows = [r for s in a.seeds for r in run_seed(s, grid, 10_000, 4, a.n_test)]
    df = pd.DataFrame(rows)
    df.to_csv(a.out, index=False)
    print(df.round(3).to_string())


if __name__ == "__main__":
    main()
