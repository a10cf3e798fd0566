"""The command line both converters share: read or build the model, write the package, check parity.
Exit status: 0 done, 1 parity failed, 2 bad input (one line on stderr)."""
import argparse
import sys
import time
from pathlib import Path

import torch

from convert.checkpoint import ConvertError, load_strict, read_checkpoint, select_state_dict
from convert.package import parity, write_package


def parser(description: str, default_name: str, width_help: str, depth_help: str):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("ckpt", nargs="?", type=Path, help="the authors' checkpoint (.pt / .pth)")
    ap.add_argument("--out", type=Path, required=True, help="package folder to write (replaced if it holds a package)")
    ap.add_argument("--random-init", action="store_true", help="random weights of the same architecture instead of a checkpoint")
    ap.add_argument("--width", type=int, help=f"with --random-init: {width_help}")
    ap.add_argument("--depth", type=int, help=f"with --random-init: {depth_help}")
    ap.add_argument("--seed", type=int, default=0, help="with --random-init: the weights' seed")
    ap.add_argument("--name", default=None, help=f"model name shown in the UI (default: the checkpoint's file name, or {default_name})")
    ap.add_argument("--license", default=None, help="licence of the weights, written into the package (yours to state)")
    ap.add_argument("--weights", choices=("ema", "model"), default="ema", help="which weights of a training checkpoint (default: ema when present)")
    ap.add_argument("--skip-parity", action="store_true", help="do not compare PyTorch with onnxruntime")
    ap.add_argument("--threads", type=int, default=0, help="PyTorch threads (0: PyTorch's default)")
    return ap


def run(ap, *, what, architecture, converter, marker, branches, from_state_dict, random_model, notes):
    """from_state_dict(sd, path) -> model with inferred shape; random_model(args) -> model."""
    a = ap.parse_args()
    prog = Path(sys.argv[0]).name
    try:
        if a.random_init == (a.ckpt is not None):
            raise ConvertError("give either a checkpoint or --random-init (not both)")
        if not a.random_init and (a.width or a.depth):
            raise ConvertError("--width and --depth only apply with --random-init (a checkpoint's shape comes from its tensors)")
        if a.threads:
            torch.set_num_threads(a.threads)
        t0 = time.time()
        if a.random_init:
            model, used = random_model(a), "random"
            license = a.license or "none: random weights for testing, no trained weights"
        else:
            ck = read_checkpoint(a.ckpt)
            sd, used = select_state_dict(ck, a.ckpt, what, marker, a.weights)
            model = from_state_dict(sd, a.ckpt)
            load_strict(model, sd, a.ckpt, f"{what} ({describe(model)})")
            license = a.license or "unknown: the converting user did not state the weights' licence (--license)"
        model.eval()
        t_load = time.time() - t0
        name = a.name or (a.ckpt.stem if a.ckpt else f"{architecture}-random")
        t_export = write_package(model, quantizers(model), a.out, branches=branches(model), name=name, license=license,
                                 architecture=architecture, converter=converter, source=a.ckpt, weights=used,
                                 notes=notes + (" Random weights (--random-init)." if a.random_init else ""))
    except ConvertError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(2)
    n_params = sum(p.numel() for p in model.parameters())
    size = sum(f.stat().st_size for f in a.out.iterdir()) / 1e6
    print(f"wrote {a.out} ({size:.1f} MB): {describe(model)}, {n_params / 1e6:.1f} M parameters; "
          f"{'built' if a.random_init else 'loaded'} in {t_load:.1f} s, exported in {t_export:.1f} s")
    if a.skip_parity:
        return
    t1 = time.time()
    ok, line = parity(model, a.out)
    print(f"{line} ({time.time() - t1:.1f} s)")
    if not ok and not line.startswith("parity: not checked"):
        sys.exit(1)


def quantizers(model):
    return list(model.quantizes) if hasattr(model, "quantizes") else [model.quantize]


def describe(model) -> str:
    c = model.cfg
    P = len(quantizers(model))
    return (f"{c.image_size} px, {P} branch{'es' if P > 1 else ''} of {c.codebook_size} x {c.code_dim} codes, "
            f"scales {','.join(map(str, c.scales))} ({model.num_tokens} tokens per branch)")
