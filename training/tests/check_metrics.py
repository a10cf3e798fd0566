"""Writes image pairs and imagefolder/metrics.py's results for them, for check_metrics.js to compare
with the panel's own code (src/extension/core/metrics.ts, image.ts): the same bytes from the same
model output, the same PSNR and SSIM.

    /usr/bin/python3 training/tests/check_metrics.py OUT.json && node training/tests/check_metrics.js OUT.json CORE_DIR
"""
import json
import sys

import numpy as np
import torch

from imagefolder.data import smoke_split, to_tensor
from imagefolder.metrics import psnr_ssim, to_bytes


def main():
    rng = np.random.default_rng(0)
    pairs = []
    # model-range outputs -> the panel's bytes: a reconstruction-like blur with noise, overshooting
    # [-1, 1] (clamping), and values at exact half steps (rounding near half steps)
    ref = smoke_split(3, 64, seed=4)["images"]
    x = to_tensor(ref)
    out = torch.nn.functional.avg_pool2d(x, 3, 1, 1) + 0.08 * torch.from_numpy(rng.standard_normal(x.shape)).float()
    out[0, 0, :4] = 1.2
    out[1, 1, :2, :16] = torch.arange(16).float().div(127.5).sub(1.0).add(0.5 / 127.5)  # near k + 0.5 levels
    out = out.float()
    got = to_bytes(out)
    ps, ss = psnr_ssim(torch.from_numpy(ref), got)
    for i in range(len(ref)):
        pairs.append({"width": 64, "height": 64, "ref": ref[i].flatten().tolist(), "model": out[i].flatten().tolist(),
                      "bytes": got[i].flatten().tolist(), "psnr": ps[i].item(), "ssim": ss[i].item()})
    # bytes only: identical images (the PSNR cap), and non-square images smaller than the window
    for h, w in ((64, 64), (9, 13), (20, 7)):
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        b = a if h == 64 else np.clip(a.astype(int) + rng.integers(-40, 41, a.shape), 0, 255).astype(np.uint8)
        p, s = psnr_ssim(torch.from_numpy(a), torch.from_numpy(b)[None])
        pairs.append({"width": w, "height": h, "ref": a.flatten().tolist(), "bytes": b.flatten().tolist(),
                      "psnr": p[0].item(), "ssim": s[0].item()})
    with open(sys.argv[1], "w") as f:
        json.dump({"pairs": pairs}, f)


if __name__ == "__main__":
    main()
