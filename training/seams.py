"""Where a generator's Frechet distance comes from: the tokenizer or the generator, and patch seams.

    python3 training/seams.py --tokenizer T.pt --gen G.pt [--per-class 8] [--data DIR]

For one (tokenizer, generator) pair, on the emoji validation images and on samples at the package's
default sampling settings, prints:
- Frechet distance to the validation images (the report's feature space: the frozen teacher's last
  stage) of the tokenizer's full reconstructions (what the tokenizer alone costs) and of samples;
- the seam ratio: mean absolute difference between horizontally and vertically adjacent pixels that
  straddle a patch boundary (every `patch` px), divided by the same for pixel pairs inside patches.
  Natural images have no grid, so about 1.0; a decoder that renders patches independently raises it.
Compare two pairs (the shipped model and a candidate) to see which part moved.
"""
import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from imagefolder.checkpoint import load_generator, load_tokenizer
from imagefolder.data import load_split, to_tensor
from imagefolder.judge import load_teacher, of_classes, sample_images, teacher_features, teacher_labels
from imagefolder.metrics import frechet, to_bytes
from imagefolder.sampling import DEFAULTS


def seam_ratio(images_uint8: np.ndarray, patch: int) -> float:
    x = images_uint8.astype(np.float64)
    dx = np.abs(np.diff(x, axis=2)).mean(axis=(0, 1, 3))  # [W-1]: column j vs j+1
    dy = np.abs(np.diff(x, axis=1)).mean(axis=(0, 2, 3))  # [H-1]
    d = np.concatenate([dx, dy])
    idx = np.concatenate([np.arange(len(dx)), np.arange(len(dy))])
    boundary = (idx + 1) % patch == 0
    return float(d[boundary].mean() / d[~boundary].mean())


@torch.no_grad()
def reconstruct(tok, images_uint8, batch=64):
    N = len(tok.cfg.scales)
    out = []
    for i in range(0, len(images_uint8), batch):
        x = to_tensor(images_uint8[i:i + batch])
        idx = tok.encode(x)
        out.append(to_bytes(tok.decode(idx, torch.ones(len(x), 2, N))).numpy())
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--data", default=None)
    ap.add_argument("--per-class", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tok, tok_ck = load_tokenizer(a.tokenizer)
    gen, gen_ck = load_generator(a.gen)
    data = Path(a.data) if a.data else Path(os.environ.get("IMAGEFOLDER_CACHE", Path.home() / ".cache" / "imagefolder-inspector")) / "data"
    val, labels = load_split(data, "val")
    teacher = load_teacher(tok_ck)
    real, _ = of_classes(val, teacher_labels(gen_ck["classes"], labels))
    f_real, _ = teacher_features(teacher, real)
    recon = reconstruct(tok, real)
    f_recon, _ = teacher_features(teacher, recon)
    samples, _, _ = sample_images(gen, tok, a.per_class, a.seed, DEFAULTS["cfg"], 36)
    f_samp, _ = teacher_features(teacher, samples)
    p = tok.cfg.patch
    print(json.dumps({
        "tokenizer": str(a.tokenizer), "generator": str(a.gen), "validationImages": int(len(real)), "samples": int(len(samples)),
        "frechet": {"reconstructions": round(frechet(f_recon, f_real), 3), "samples": round(frechet(f_samp, f_real), 3)},
        "seamRatio": {"validation": round(seam_ratio(real, p), 3), "reconstructions": round(seam_ratio(recon, p), 3),
                      "samples": round(seam_ratio(samples, p), 3)},
    }))


if __name__ == "__main__":
    main()
