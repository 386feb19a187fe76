"""Design sweep of the backdoor chapter's clean fine-tuning (CLIP loss alone vs CleanCLIP).

The chapter (``uim_utils.chapters.backdoor``) fine-tunes the poisoned model of a world on
trusted clean pairs with both losses. This script measures, on *development* worlds, how
the zero-shot attack success rate (ASR) and clean accuracy after each loss change with the
fine-tuning budget (clean pairs, epochs, learning rate, CleanCLIP weight ``w``), so the
chapter can fix its budget before its claims are confirmed on held-out worlds. The worlds,
poisoned corpora and test images are the chapter's own; only the fine-tuning differs.

Usage::

    python scripts/sweep_cleanclip.py --seeds 0-3 --n-ft 8000 --epochs 2 --lr 5e-4 1e-3 --out ft.csv

Seeds are written as for ``scripts/sweep.py`` (``0-3``, ``0,2``). The fine-tuned models are
cached (``UIM_CACHE``) like the chapter's.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep import parse_seeds

from uim_utils import lab, parallel
from uim_utils import poisoning as pz
from uim_utils.chapters import backdoor
from uim_utils.corpus import CorpusConfig, build_corpus
from uim_utils.pretrain import pretrain_many


def run_world(seed: int, grid: list[dict], n_test: int) -> list[dict]:
    """Fine-tune world ``seed``'s poisoned model with every grid entry; one row per model."""
    world, _ = lab.clean_corpus(seed)
    target = pz.pick_target(seed, lab.N_CONCEPTS)
    corpus = build_corpus(world, backdoor.poisoned_config(seed))
    (poisoned,) = pretrain_many([(corpus, lab.clean_train_config(seed))], progress=False)
    test = pz.trigger_test_set(world, n_test, target, seed=seed)

    def measure(lm) -> dict:
        with parallel.limited_threads():
            clean, trig = pz.zero_shot_predict(lm, world.classnames, [test.clean, test.triggered])
        return {"acc": float((clean == test.labels).mean()), "asr": float(pz.attack_success(trig, target).mean())}

    rows = [{"seed": seed, "method": "none", **measure(poisoned.model)}]
    for (n_ft, epochs, lr), group in itertools.groupby(grid, key=lambda g: (g["n_ft"], g["epochs"], g["lr"])):
        group = list(group)
        trusted = build_corpus(world, CorpusConfig(n_samples=n_ft, seed=seed + backdoor.CLEAN_FT_OFFSET))
        cfgs = [pz.FinetuneConfig(method=g["method"], epochs=epochs, lr=lr, weight=g["weight"], seed=seed)
                for g in group]
        for g, lm in zip(group, pz.finetune_many(poisoned.model, poisoned.key, trusted, cfgs, progress=False)):
            rows.append({"seed": seed, **g, **measure(lm)})
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-3"))
    ap.add_argument("--n-ft", type=int, nargs="+", default=[backdoor.N_CLEAN_FT])
    ap.add_argument("--epochs", type=int, nargs="+", default=[backdoor.FT_EPOCHS])
    ap.add_argument("--lr", type=float, nargs="+", default=[backdoor.FT_LR])
    ap.add_argument("--weight", type=float, nargs="+", default=[1.0])
    ap.add_argument("--n-test", type=int, default=backdoor.N_TEST["ci"])
    ap.add_argument("--out", default="sweep_cleanclip.csv")
    a = ap.parse_args()
    if any(s >= 1000 for s in a.seeds):
        ap.error("design sweeps run on development seeds (below 1000); held-out seeds are for scripts/sweep.py")
    grid = []
    for n_ft, ep, lr in itertools.product(a.n_ft, a.epochs, a.lr):
        grid.append({"method": "clip", "n_ft": n_ft, "epochs": ep, "lr": lr, "weight": 1.0})
        grid += [{"method": "cleanclip", "n_ft": n_ft, "epochs": ep, "lr": lr, "weight": w} for w in a.weight]
    df = pd.DataFrame([r for s in a.seeds for r in run_world(s, grid, a.n_test)])
    df.to_csv(a.out, index=False)
    print(df.round(3).to_string())


if __name__ == "__main__":
    main()
