"""Export a checkpoint's EMA weights as a model package (docs/model-format.md) plus golden fixtures.

    python3 training/export.py --ckpt <cache>/run/ckpt.pt --out models/imagefolder-mini \
        [--fixtures test/fixtures/golden] [--weights training/checkpoints/imagefolder-mini.pt]
"""
import argparse
import datetime
import json
from pathlib import Path

import numpy as np
import torch

from imagefolder.checkpoint import load_tokenizer, runs, totals, training_note
from imagefolder.data import load_split, smoke_split, to_tensor
from imagefolder.graphs import DecoderGraph, EncoderGraph, export_tokenizer_graphs
from imagefolder.model import BRANCHES


def export_graphs(model, out: Path):
    s = model.cfg.image_size
    L, N, P = model.num_tokens, len(model.cfg.scales), len(BRANCHES)
    export_tokenizer_graphs(EncoderGraph(model), DecoderGraph(model), torch.zeros(2, 3, s, s),
                            torch.zeros(2, P, L, dtype=torch.long), torch.ones(2, P, N), out)
    cb = torch.stack([q.codebook.weight.detach() for q in model.quantizers]).numpy().astype("<f4")
    (out / "codebooks.bin").write_bytes(cb.tobytes())
    return cb.shape


def manifest(model, ck, cb_shape, name: str, evaluation=None):
    c = model.cfg
    steps, images, seconds = totals(ck)
    L, N = model.num_tokens, len(c.scales)
    return {
        "format": "imagefolder-model",
        "formatVersion": 1,
        "name": name,
        "license": "MIT (weights trained by this project on Apache-2.0, public-domain and GPL/CC-BY-SA data; see training/data/DATA.md)",
        "provenance": {
            "data": "Noto Emoji (npm emoji-datasource-google), Debian openclipart-png, crops of Debian plasma-workspace-wallpapers and mate-backgrounds photographs",
            "steps": steps, "images": images, "hours": round(seconds / 3600, 3),
            "hardware": " + ".join(r["hardware"] for r in runs(ck)),
            "runs": runs(ck),
            "date": datetime.date.today().isoformat(), "trainer": "training/train.py",
            "notes": "Semantic teacher is a small CNN trained on the data's category labels (stands in for DINOv2)." + training_note(ck),
            "modelConfig": c.to_dict(),
        },
        "image": {"size": c.image_size, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
        "scales": list(c.scales),
        "tokensPerBranch": L,
        "branches": [{"name": b, "role": b, "codebookSize": c.codebook_size, "codeDim": c.code_dim} for b in BRANCHES],
        "graphs": {
            "encoder": {"file": "encoder.onnx", "inputs": {"image": [-1, 3, c.image_size, c.image_size]},
                        "outputs": {"indices": [-1, len(BRANCHES), L]}},
            "decoder": {"file": "decoder.onnx", "inputs": {"indices": [-1, len(BRANCHES), L], "scale_mask": [-1, len(BRANCHES), N]},
                        "outputs": {"image": [-1, 3, c.image_size, c.image_size]},
                        # indices of batch 1 broadcast against scale_mask rows (decode_indices multiplies
                        # each scale's code map by its mask column), so the host can share them
                        "sharedIndices": True},
        },
        "codebooks": {"file": "codebooks.bin", "dtype": "float32", "shape": list(cb_shape)},
        "evaluation": evaluation or {},
    }


def masks_for_fixture(N: int):
    full = np.ones((2, N), np.float32)
    first3 = np.zeros((2, N), np.float32); first3[:, :3] = 1
    only5 = np.zeros((2, N), np.float32); only5[:, 5] = 1
    sem = np.ones((2, N), np.float32); sem[0] = 0
    det = np.ones((2, N), np.float32); det[1] = 0
    return {"full": full, "first3": first3, "scale5": only5, "semantic": sem, "detail": det}


def write_fixtures(model, images_uint8: np.ndarray, names, out: Path):
    """PNG inputs + PyTorch's indices and decoded images for the TypeScript parity tests."""
    from PIL import Image
    out.mkdir(parents=True, exist_ok=True)
    x = to_tensor(images_uint8)
    with torch.no_grad():
        idx = model.encode(x)
    items = []
    N = len(model.cfg.scales)
    for i in range(len(images_uint8)):
        fname = f"img{i}.png"
        Image.fromarray(images_uint8[i]).save(out / fname)
        decoded = []
        for mname, m in masks_for_fixture(N).items():
            with torch.no_grad():
                y = model.decode(idx[i:i + 1], torch.from_numpy(m)[None]).numpy().astype("<f4")
            f = f"img{i}-{mname}.f32"
            (out / f).write_bytes(y.tobytes())
            decoded.append({"mask": m.tolist(), "name": mname, "file": f})
        items.append({"image": fname, "source": str(names[i]), "indices": idx[i].tolist(), "decoded": decoded})
    (out / "golden.json").write_text(json.dumps({"imageShape": [3, model.cfg.image_size, model.cfg.image_size], "items": items}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--name", default="imagefolder-mini")
    ap.add_argument("--fixtures", type=Path, default=None)
    ap.add_argument("--data", type=Path, default=None, help="folder with val.npz for the fixtures")
    ap.add_argument("--weights", type=Path, default=None, help="also write compact weights to resume from")
    ap.add_argument("--weights-dtype", choices=("float16", "float32"), default="float16",
                    help="float32 when float16 rounding would move tokens (a generator trained on them must keep them)")
    a = ap.parse_args()
    model, ck = load_tokenizer(a.ckpt)
    a.out.mkdir(parents=True, exist_ok=True)
    cb_shape = export_graphs(model, a.out)
    old = a.out / "manifest.json"
    evaluation = json.loads(old.read_text()).get("evaluation") if old.exists() else None
    (a.out / "manifest.json").write_text(json.dumps(manifest(model, ck, cb_shape, a.name, evaluation), indent=2) + "\n")
    if a.fixtures:
        if a.data:
            val, _ = load_split(a.data, "val")
            pick = [int(np.flatnonzero(val["sources"] == s)[k]) for s in (0, 1, 2) for k in (0, 7)]
            imgs, names = val["images"][pick], val["names"][pick]
        else:
            d = smoke_split(6, model.cfg.image_size, seed=1)
            imgs, names = d["images"], d["names"]
        write_fixtures(model, imgs, names, a.fixtures)
    if a.weights:
        a.weights.parent.mkdir(parents=True, exist_ok=True)
        steps, images, seconds = totals(ck)
        dtype = getattr(torch, a.weights_dtype)
        torch.save({"ema": {k: v.to(dtype) for k, v in ck["ema"].items()}, "teacher": ck["teacher"], "labels": ck["labels"],
                    "model_config": ck["model_config"], "step": steps, "images_seen": images,
                    "elapsed": seconds, "device": ck.get("device", "cpu"), "runs": runs(ck)}, a.weights)
    print(f"exported {a.out} ({sum(f.stat().st_size for f in a.out.iterdir()) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
