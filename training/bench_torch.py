"""PyTorch-eager reference timings for `npm run bench`: the training code's model on the shipped
weights, doing the same work as the TypeScript pipeline. Prints one JSON line per batch size.

    python3 training/bench_torch.py [--weights training/checkpoints/imagefolder-mini.pt] [--threads 2]
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export import load_model  # noqa: E402


def timed(fn, repeat):
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", type=Path, default=Path(__file__).resolve().parent / "checkpoints" / "imagefolder-mini.pt")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--batches", default="1,8")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, _ = load_model(a.weights)
    s, N, P = model.cfg.image_size, len(model.cfg.scales), 2
    for b in [int(v) for v in a.batches.split(",")]:
        x = torch.rand(b, 3, s, s) * 2 - 1
        with torch.no_grad():
            idx = model.encode(x)
            prog = torch.zeros(N, P, N)
            for k in range(N):
                prog[k, :, :k + 1] = 1
            contrib = torch.zeros(N, P, N)
            for k in range(N):
                contrib[k, :, k] = 1
            abl = torch.zeros(2, P, N); abl[0, 1] = 1; abl[1, 0] = 1
            prog_b = prog.repeat(b, 1, 1)
            all_b = torch.cat([prog, contrib, abl]).repeat(b, 1, 1)

            def encode():
                model.encode(x)

            def decode():
                model.decode(idx.repeat_interleave(N, 0), prog_b)

            def inspect():
                i = model.encode(x)
                model.decode(i.repeat_interleave(2 * N + 2, 0), all_b)
            r = {"batch": b, "encode_ms": timed(encode, a.repeat) / b, "decode_ms": timed(decode, a.repeat) / b,
                 "inspect_ms": timed(inspect, a.repeat) / b, "threads": a.threads, "torch": torch.__version__}
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
