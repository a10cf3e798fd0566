"""In-memory data for training and evaluation (the prepared sets are small: ~25k images at 64 px)."""
import json
from pathlib import Path

import numpy as np
import torch

SOURCES = ("emoji", "clipart", "photo")


def load_split(data_dir: Path, split: str):
    z = np.load(Path(data_dir) / f"{split}.npz")
    labels = json.loads((Path(data_dir) / "labels.json").read_text())["labels"]
    return {k: z[k] for k in ("images", "labels", "sources", "names")}, labels


def smoke_split(n: int, size: int, seed: int = 0):
    """Generated shapes on white, for the smoke test: no download needed."""
    rng = np.random.default_rng(seed)
    imgs = np.full((n, size, size, 3), 255, np.uint8)
    yy, xx = np.mgrid[:size, :size]
    labels = np.zeros(n, np.int16)
    for i in range(n):
        c = rng.integers(0, 256, 3)
        cx, cy, r = rng.integers(size // 4, 3 * size // 4, 2).tolist() + [int(rng.integers(size // 8, size // 3))]
        kind = i % 3
        mask = ((xx - cx) ** 2 + (yy - cy) ** 2 < r * r) if kind == 0 else ((abs(xx - cx) < r) & (abs(yy - cy) < r)) if kind == 1 else (abs(xx - cx) + abs(yy - cy) < r)
        imgs[i][mask] = c
        labels[i] = kind
    return {"images": imgs, "labels": labels, "sources": (np.arange(n) % 3).astype(np.int8),
            "names": np.array([f"smoke{i}" for i in range(n)])}


def to_tensor(images_uint8: np.ndarray) -> torch.Tensor:
    """uint8 [B,S,S,3] -> float [B,3,S,S] in [-1, 1] (mean 0.5, std 0.5)."""
    return torch.from_numpy(images_uint8).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


class Batches:
    """Random batches, each source drawn equally often (photo crops outnumber the rest), with flips."""

    def __init__(self, data, batch: int, device, seed: int = 0):
        self.data, self.batch, self.device = data, batch, device
        self.rng = np.random.default_rng(seed)
        self.by_source = [np.flatnonzero(data["sources"] == s) for s in range(len(SOURCES))]
        self.by_source = [ix for ix in self.by_source if len(ix)]

    def next(self):
        src = self.rng.integers(0, len(self.by_source), self.batch)
        idx = np.array([self.rng.choice(self.by_source[s]) for s in src])
        x = to_tensor(self.data["images"][idx])
        flip = torch.from_numpy(self.rng.random(self.batch) < 0.5)
        x[flip] = x[flip].flip(-1)
        y = torch.from_numpy(self.data["labels"][idx].astype(np.int64))
        return x.to(self.device), y.to(self.device), torch.from_numpy(self.data["sources"][idx].astype(np.int64))
