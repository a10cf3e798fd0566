"""Shrink a training checkpoint (train.py's ckpt.pt or train_generator.py's gen-ckpt.pt) to the
weights worth keeping: EMA weights (float32 by default), config, teacher, labels or classes, steps
and provenance; no raw weights, no optimiser (a third of the size). The result loads wherever the
checkpoint does (export.py, evaluate.py, train_generator.py --tokenizer, train.py --init, ...).

    python3 training/compact.py --ckpt <out>/work/tok/ckpt.pt --out <out>/imagefolder-mini-gpu.pt

export.py --weights writes the shipped float16 files; keep float32 when a generator is trained on
this tokenizer's tokens (float16 rounding can move a few tokens).
"""
import argparse
from pathlib import Path

import torch

from imagefolder.checkpoint import atomic_save, compact


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--fp16", action="store_true", help="EMA weights in float16 (half the size)")
    a = ap.parse_args()
    ck = torch.load(a.ckpt, map_location="cpu")
    small = compact(ck, torch.float16 if a.fp16 else torch.float32)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(small, a.out)
    n = sum(v.numel() for v in small["ema"].values())
    print(f"{a.out}: {n} parameters, step {small['step']}, {a.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
