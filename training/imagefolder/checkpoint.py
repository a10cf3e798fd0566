"""Checkpoint files: atomic writes, the training behind a file, and compact copies to ship or carry."""
import os
from pathlib import Path

import torch

RAW_STATE = ("model", "opt")  # what only a resumed run needs: the raw weights and the optimiser


def atomic_save(obj, path: Path):
    tmp = Path(path).with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def totals(ck):
    """(steps, images, seconds) of training behind a tokenizer checkpoint's weights: a run started
    with --init (a continuation or a decoder-only fine-tune) adds to the run it started from (base)."""
    b = ck.get("base") or {"step": 0, "images_seen": 0, "elapsed": 0.0}
    return b["step"] + ck["step"], b["images_seen"] + ck["images_seen"], b["elapsed"] + ck["elapsed"]


def compact(ck, dtype=torch.float32):
    """A training checkpoint (train.py or train_generator.py) without its raw weights and optimiser:
    the EMA weights in dtype plus everything else it records (config, teacher, labels or classes,
    steps, provenance). Loads wherever the full checkpoint does, except to resume its own run."""
    out = {k: v for k, v in ck.items() if k not in RAW_STATE}
    out["ema"] = {k: v.to(dtype) for k, v in ck["ema"].items()}
    return out
