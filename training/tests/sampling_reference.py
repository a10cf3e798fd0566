"""PyTorch reference of the host's sampling (src/extension/core/generate/sampling.ts) on fixed logits:
guidance with the linear ramp, temperature, top-k (ties kept), top-p (most likely kept), and the
inverse-CDF draw. Writes test/fixtures/sampling-reference.json so the mocha tests need no Python.

    /usr/bin/python3 training/tests/sampling_reference.py [--out test/fixtures/sampling-reference.json]

Top-k is VAR's rule (drop logits below the k-th largest, so ties at the threshold stay); top-p
keeps token j when the mass of the tokens strictly more likely than j is < top_p, and always the
most likely token(s): VAR's cumulative-mass rule without dependence on the order of ties.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from imagefolder.sampling import draw, filtered_probs, guided  # noqa: E402

torch.set_default_dtype(torch.float64)


def f32(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "test" / "fixtures" / "sampling-reference.json")
    a = ap.parse_args()
    rng = np.random.default_rng(6)
    vectors = {
        # ties at several levels, including at top-k and top-p thresholds
        "ties16": (f32([2, 2, 1.5, 1.5, 1.5, 1, 0.5, 0.5, 0, 0, 0, -1, -1, -2, -3, -3]),
                   f32([1, 2.5, 0, 1.5, -1, 1, 0.5, 2, 0, 1, -1, -1, 0.5, -2, 0, -3])),
        "random64": (f32(rng.normal(0, 2, 64)), f32(rng.normal(0, 2, 64))),
        "peaked32": (f32(np.r_[8.0, rng.normal(0, 1, 31)]), f32(rng.normal(0, 1, 32))),
        "random1024": (f32(rng.normal(0, 3, 1024)), f32(rng.normal(0, 3, 1024))),
    }
    settings = [
        # (scale k, scales N, cfg, top_k, top_p, temperature)
        (0, 10, 0.0, 0, 1.0, 1.0),
        (0, 10, 3.0, 0, 1.0, 1.0),  # t = 0 at the first scale
        (9, 10, 3.0, 0, 1.0, 1.0),
        (4, 10, 3.0, 0, 1.0, 1.0),
        (5, 10, 1.5, 0, 1.0, 0.5),
        (3, 10, 0.0, 0, 1.0, 2.0),
        (0, 10, 0.0, 1, 1.0, 1.0),
        (0, 10, 0.0, 3, 1.0, 1.0),  # ties at the 3rd value: 5 kept in ties16
        (0, 10, 0.0, 4, 1.0, 1.0),
        (0, 10, 0.0, 6, 1.0, 1.0),
        (0, 10, 0.0, 0, 0.3, 1.0),
        (0, 10, 0.0, 0, 0.5, 1.0),
        (0, 10, 0.0, 0, 0.9, 1.0),
        (0, 10, 0.0, 0, 1e-6, 1.0),  # only the most likely (and its ties)
        (0, 10, 0.0, 5, 0.8, 1.0),
        (7, 10, 3.25, 8, 0.95, 1.0),
        (9, 10, 3.0, 600, 0.95, 1.0),
        (2, 10, 2.0, 20, 0.7, 0.8),
        (6, 10, 4.0, 0, 0.95, 1.3),
    ]
    us = [0.0, 0.05, 0.37, 0.5, 0.77, 0.999999]
    cases = []
    for name, (cond, uncond) in vectors.items():
        c, u = torch.tensor(cond), torch.tensor(uncond)
        for (k, n, cfg, top_k, top_p, temp) in settings:
            logits, t = guided(c, u, k, n, cfg, temp)
            p = filtered_probs(logits[None], top_k, top_p)[0]
            cases.append({
                "vector": name, "scale": k, "scales": n, "cfg": cfg, "topK": top_k, "topP": top_p, "temperature": temp,
                "t": t, "kept": int((p > 0).sum()), "probs": [float(x) for x in p],
                "draws": [{"u": uu, "index": int(draw(p, torch.tensor(uu)))} for uu in us],
            })
    out = {"note": "written by training/tests/sampling_reference.py (torch %s, float64)" % torch.__version__,
           "vectors": {k: {"cond": v[0], "uncond": v[1]} for k, v in vectors.items()}, "cases": cases}
    a.out.write_text(json.dumps(out) + "\n")
    print(f"wrote {len(cases)} cases to {a.out}")


if __name__ == "__main__":
    main()
