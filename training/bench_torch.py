"""PyTorch-eager reference timings for `npm run bench`: the training code's model on the shipped
weights, doing the same work as the TypeScript pipeline on the same image files: encode, progressive
decode, the inspection's model work (encoder + 2N+1 decoder tiles) and the full inspection
(imagefolder/inspection.py: file to PNGs, metrics, token maps, usage). Prints one JSON line per batch size, and
with --generate one more for generating one image (bench/generate.ts).

    python3 training/bench_torch.py [--weights training/checkpoints/imagefolder-mini.pt] [--threads 2]
    python3 training/bench_torch.py --batches none --generate models/imagefolder-mini \
        [--gen-weights training/checkpoints/imagefolder-mini-generator.pt] [--gen-settings JSON]
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from imagefolder.checkpoint import load_checkpoint, load_tokenizer
from imagefolder.generator import FoldedGenerator, GeneratorConfig
from imagefolder.inspection import decode_plan, load_image
from imagefolder.inspection import inspect_full as run_inspect_full
from imagefolder.model import ImageFolderTokenizer, TokenizerConfig
from imagefolder.sampling import DEFAULTS, generate


def timed(fn, repeat):
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat * 1000


def package_models(pkg: Path, weights: Path, gen_weights):
    """The package's tokenizer and generator as PyTorch modules: the given weights where their
    configuration is the package's, else random weights of the package's shapes (the time of a
    step does not depend on the weights), said in the returned note."""
    m = json.loads((pkg / "manifest.json").read_text())
    mc = {**m["provenance"]["modelConfig"], "scales": tuple(m["scales"])}
    notes = []
    tok, ck = load_tokenizer(weights) if weights and weights.exists() else (None, None)
    if tok is None or tok.cfg != TokenizerConfig(**mc):
        tok = ImageFolderTokenizer(TokenizerConfig(**mc)).eval()
        notes.append("tokenizer: random weights of the package's shapes")
    elif any(v.dtype == torch.float16 for v in ck["ema"].values()):
        notes.append(f"tokenizer: {weights.name} holds float16 weights (the graphs have float32)")
    g = m["generator"]
    cfg = GeneratorConfig(num_classes=len(m["classes"]), width=g["width"], depth=g["depth"], heads=g["heads"],
                          in_dim=m["graphs"]["generator"]["inputs"]["x_in"][2], vocab=m["branches"][0]["codebookSize"],
                          side=mc["side"], scales=tuple(m["scales"]))
    gen = FoldedGenerator(cfg).eval()
    if gen_weights and gen_weights.exists():
        gk = load_checkpoint(gen_weights)
        if GeneratorConfig(**{**gk["config"], "scales": tuple(gk["config"]["scales"])}) == cfg:
            gen.load_state_dict({k: v.float() for k, v in gk["ema"].items()})
            if any(v.dtype == torch.float16 for v in gk["ema"].values()):
                # compact weights (export_generator.py --weights): rounded, so sampled tokens may diverge from the graphs'
                notes.append(f"generator: {gen_weights.name} holds float16 weights (the graphs have float32)")
        else:
            notes.append(f"generator: {gen_weights.name} does not match the package; random weights of its shapes")
    else:
        notes.append("generator: random weights of the package's shapes (no PyTorch weights given)")
    return tok, gen, notes


def bench_generation(a):
    """One image of one class, all scales, guidance as the host (2 rows per step): tokens with the
    KV cache, tokens with the prefix recomputed, and KV cache plus the final decode."""
    tok, gen, notes = package_models(a.generate, a.weights, a.gen_weights)
    s = {"classId": 0, "seed": 1, **DEFAULTS, **json.loads(a.gen_settings or "{}")}
    cls = torch.tensor([s["classId"]])
    N = len(gen.cfg.scales)

    def run(mode, decode=False):
        idx = generate(gen, tok, cls, seed=s["seed"], cfg=s["cfg"], top_k=s["topK"], top_p=s["topP"],
                       temperature=s["temperature"], mode=mode)
        if decode:
            with torch.no_grad():
                tok.decode(idx, torch.ones(1, 2, N))
        return idx

    tokens = run("cache")
    same = bool(torch.equal(tokens, run("recompute")))
    r = {"generation": {"cache_ms": timed(lambda: run("cache"), a.repeat), "recompute_ms": timed(lambda: run("recompute"), a.repeat),
                        "cache_with_decode_ms": timed(lambda: run("cache", True), a.repeat), "sameTokens": same,
                        "settings": s, "notes": notes, "threads": a.threads, "torch": torch.__version__,
                        "tokens": tokens[0].tolist()}}
    print(json.dumps(r), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", type=Path, default=Path(__file__).resolve().parent / "checkpoints" / "imagefolder-mini.pt")
    ap.add_argument("--images", default=None, help="comma-separated image files, cycled to fill a batch (default: the golden fixtures)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--batches", default="1,8", help="batch sizes of the tokenizer timings; none: skip them")
    ap.add_argument("--generate", type=Path, default=None, help="model package: also time generating one image")
    ap.add_argument("--gen-weights", type=Path, default=None, help="PyTorch weights of the package's generator")
    ap.add_argument("--gen-settings", default=None, help="JSON: classId, seed, cfg, topK, topP, temperature")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.generate:
        bench_generation(a)
    if a.batches == "none":
        return
    model, _ = load_tokenizer(a.weights)
    s, N, P = model.cfg.image_size, len(model.cfg.scales), 2
    root = Path(__file__).resolve().parent.parent
    files = a.images.split(",") if a.images else sorted(str(f) for f in (root / "test" / "fixtures" / "golden").glob("*.png"))
    # The extension's 2N+1 tiles per image (inspect.ts decodePlan); branch 0 is detail, 1 semantic.
    plan = decode_plan(P, N, detail=0, semantic=1)
    for b in [int(v) for v in a.batches.split(",")]:
        batch_files = [files[i % len(files)] for i in range(b)]
        x = torch.from_numpy(np.stack([load_image(f, s) for f in batch_files])).permute(0, 3, 1, 2).float().div(255).sub(0.5).div(0.5)
        with torch.no_grad():
            idx = model.encode(x)

            # One decoder call per image, its indices shared by its masks (as the extension does).
            def encode():
                model.encode(x)

            def decode():
                for i in range(b):
                    model.decode(idx[i:i + 1], plan[:N])

            def inspect():
                i = model.encode(x)
                for k in range(b):
                    model.decode(i[k:k + 1], plan)

            def inspect_full():
                run_inspect_full(model, batch_files, plan)
            r = {"batch": b, "encode_ms": timed(encode, a.repeat) / b, "decode_ms": timed(decode, a.repeat) / b,
                 "inspect_ms": timed(inspect, a.repeat) / b, "inspect_full_ms": timed(inspect_full, a.repeat) / b,
                 "tiles": plan.shape[0], "threads": a.threads, "torch": torch.__version__}
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
