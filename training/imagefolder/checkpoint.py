"""Checkpoint files: reading them, atomic writes, the training behind a file, compact copies, and
the tokenizer and generator they hold."""
import os
from pathlib import Path

import torch

from imagefolder.generator import FoldedGenerator, GeneratorConfig
from imagefolder.model import ImageFolderTokenizer, TokenizerConfig

RAW_STATE = ("model", "opt")  # what only a resumed run needs: the raw weights and the optimiser


def load_checkpoint(path: Path):
    """One of this project's own files, on the CPU. They hold configs, labels and provenance
    besides tensors, which PyTorch >= 2.6's default weights-only loading refuses."""
    return torch.load(path, map_location="cpu", weights_only=False)


def atomic_save(obj, path: Path):
    tmp = Path(path).with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def totals(ck):
    """(steps, images, seconds) of training behind a tokenizer checkpoint's weights: a run started
    with --init (a continuation or a decoder-only fine-tune) adds to the run it started from (base)."""
    b = ck.get("base") or {"step": 0, "images_seen": 0, "elapsed": 0.0}
    return b["step"] + ck["step"], b["images_seen"] + ck["images_seen"], b["elapsed"] + ck["elapsed"]


def runs(ck):
    """Each training run behind a tokenizer checkpoint's weights, oldest first:
    [{hardware, steps, images, seconds}]. A run started with --init records the run it continued as
    `base` (for the shipped model: the CPU run, then its continuation on an H200)."""
    def hw(c):
        return c.get("device_name") or c.get("device") or "cpu"
    here = {"hardware": hw(ck), "steps": ck["step"], "images": ck["images_seen"], "seconds": round(ck["elapsed"], 1)}
    b = ck.get("base")
    if not b:
        return [here]
    return [{"hardware": hw(b), "steps": b["step"], "images": b["images_seen"], "seconds": round(b["elapsed"], 1)}, here]


def training_note(ck) -> str:
    """A sentence for the manifest and eval.md on how the weights were trained, when more than one run."""
    if not ck.get("base"):
        return ""
    before, here = runs(ck)
    if ck.get("decoder_only"):
        return (f" The decoder was then fine-tuned alone for {ck['step']} steps ({ck['elapsed'] / 3600:.2f} h) with the "
                f"encoder, quantizers and codebooks frozen, so the tokens are those of the {before['steps']}-step tokenizer.")
    return (f" Continued from a {before['steps']}-step run ({before['images']} images, {before['seconds'] / 3600:.2f} h on "
            f"{before['hardware']}) for {here['steps']} steps ({here['images']} images, {here['seconds']:.0f} s on {here['hardware']}).")


def compact(ck, dtype=torch.float32):
    """A training checkpoint (train.py or train_generator.py) without its raw weights and optimiser:
    the EMA weights in dtype plus everything else it records (config, teacher, labels or classes,
    steps, provenance). Loads wherever the full checkpoint does, except to resume its own run."""
    out = {k: v for k, v in ck.items() if k not in RAW_STATE}
    out["ema"] = {k: v.to(dtype) for k, v in ck["ema"].items()}
    return out


def load_tokenizer(path: Path):
    """A tokenizer checkpoint or shipped weights -> (the EMA tokenizer in float32, eval mode; the file's dict)."""
    ck = load_checkpoint(path)
    model = ImageFolderTokenizer(TokenizerConfig(**{**ck["model_config"], "scales": tuple(ck["model_config"]["scales"])}))
    model.load_state_dict({k: v.float() for k, v in ck["ema"].items()})
    return model.eval(), ck


def load_generator(path: Path):
    """A generator checkpoint or shipped weights -> (the EMA generator in float32, eval mode; the file's dict)."""
    ck = load_checkpoint(path)
    g = FoldedGenerator(GeneratorConfig(**{**ck["config"], "scales": tuple(ck["config"]["scales"])}))
    g.load_state_dict({k: v.float() for k, v in ck["ema"].items()})
    return g.eval(), ck
