"""Writing a converted tokenizer as a model package (docs/model-format.md) and checking it.

A model here is any module with `encode(img) -> [B, P, L]`, `decode(indices, scale_mask) -> image`,
`num_tokens`, `cfg.image_size`, `cfg.scales`, `cfg.codebook_size`, `cfg.code_dim` and one quantizer
per branch (`quantizers()`), such as imagefolder_vit.ImageFolderViT and var_vqvae.VARVQVAE.
"""
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from imagefolder.graphs import DecoderGraph, export_tokenizer_graphs  # one graph interface (and opset) for every package


class _Encoder(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, image):
        return self.m.encode(image)


def export_graphs(model, quantizers, out: Path):
    s, P, L, N = model.cfg.image_size, len(quantizers), model.num_tokens, len(model.cfg.scales)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes fixed at export: the graphs are checked by parity
        export_tokenizer_graphs(_Encoder(model), DecoderGraph(model), torch.zeros(1, 3, s, s),
                                torch.zeros(1, P, L, dtype=torch.long), torch.ones(2, P, N), out)
    cb = torch.stack([q.embedding.weight.detach().float() for q in quantizers]).numpy().astype("<f4")
    (out / "codebooks.bin").write_bytes(cb.tobytes())
    return list(cb.shape)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest(model, branches, cb_shape, *, name, license, architecture, converter, source, weights, notes):
    """branches: [{name, role, lookup}] in index order."""
    c, L, N, P = model.cfg, model.num_tokens, len(model.cfg.scales), len(branches)
    s = c.image_size
    prov = {"source": source.name if source else None, "sourceSha256": sha256(source) if source else None,
            "weights": weights, "randomInit": source is None, "converter": converter, "architecture": architecture,
            "date": datetime.date.today().isoformat(), "notes": notes, "modelConfig": c.to_dict()}
    return {
        "format": "imagefolder-model",
        "formatVersion": 1,
        "name": name,
        "license": license,
        "provenance": prov,
        "image": {"size": s, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
        "scales": list(c.scales),
        "tokensPerBranch": L,
        "branches": [{"name": b["name"], "role": b["role"], "codebookSize": c.codebook_size, "codeDim": c.code_dim,
                      "lookup": b["lookup"]} for b in branches],
        "graphs": {
            "encoder": {"file": "encoder.onnx", "inputs": {"image": [-1, 3, s, s]}, "outputs": {"indices": [-1, P, L]}},
            "decoder": {"file": "decoder.onnx", "inputs": {"indices": [-1, P, L], "scale_mask": [-1, P, N]},
                        "outputs": {"image": [-1, 3, s, s]},
                        # decode_indices multiplies each scale's code map by its mask column, so
                        # indices of batch 1 are shared by every mask row
                        "sharedIndices": True},
        },
        "codebooks": {"file": "codebooks.bin", "dtype": "float32", "shape": cb_shape},
        "evaluation": {},
    }


def write_package(model, quantizers, out: Path, **manifest_fields):
    """Export into a fresh folder next to `out`, then move it into place, so a failed conversion
    never leaves a half-written package (and never mixes with files of an older one)."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        t0 = time.time()
        cb_shape = export_graphs(model, quantizers, tmp)
        m = manifest(model, manifest_fields.pop("branches"), cb_shape, **manifest_fields)
        (tmp / "manifest.json").write_text(json.dumps(m, indent=2) + "\n")
        if out.exists():
            if not (out / "manifest.json").exists() and any(out.iterdir()):
                raise FileExistsError(f"{out} exists and is not a model package: refusing to replace it")
            shutil.rmtree(out)
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp made it private; a package folder gets the usual mode
        os.replace(tmp, out)
        return time.time() - t0
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


# ---------------------------------------------------------------- parity: PyTorch vs onnxruntime

def test_images(size: int, n: int = 2, seed: int = 0) -> torch.Tensor:
    """Smooth colour gradients plus noise in [-1, 1]: deterministic inputs that exercise every scale."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    imgs = []
    for i in range(n):
        base = torch.stack([x * (0.8 - 0.3 * i), y * 0.7, (x * y) * 0.9])
        imgs.append((base + 0.25 * torch.randn(3, size, size, generator=g)).clamp(-1, 1))
    return torch.stack(imgs)


def parity_masks(P: int, N: int) -> torch.Tensor:
    full = torch.ones(P, N)
    first3 = torch.zeros(P, N); first3[:, :3] = 1
    one = torch.zeros(P, N); one[:, N // 2] = 1
    rows = [full, first3, one]
    if P > 1:
        drop0 = torch.ones(P, N); drop0[0] = 0
        rows.append(drop0)
    return torch.stack(rows)


def run_onnxruntime(pkg: Path, images: np.ndarray, indices: np.ndarray, masks: np.ndarray):
    """Run the package's graphs in onnxruntime: Python's if installed, else onnxruntime-node (the
    runtime the inspector uses) through parity.js. Returns (indices [B,P,L], images [M,3,S,S])."""
    try:
        import onnxruntime as ort  # noqa: F401
    except ImportError:
        ort = None
    if ort is not None:
        enc = ort.InferenceSession(str(pkg / "encoder.onnx"), providers=["CPUExecutionProvider"])
        dec = ort.InferenceSession(str(pkg / "decoder.onnx"), providers=["CPUExecutionProvider"])
        idx = enc.run(None, {"image": images})[0]
        img = dec.run(None, {"indices": indices, "scale_mask": masks})[0]
        return idx, img, "onnxruntime (Python)"
    with tempfile.TemporaryDirectory() as td:
        td = Path(td)
        (td / "images.f32").write_bytes(images.astype("<f4").tobytes())
        (td / "indices.i64").write_bytes(indices.astype("<i8").tobytes())
        (td / "masks.f32").write_bytes(masks.astype("<f4").tobytes())
        (td / "shapes.json").write_text(json.dumps({"images": list(images.shape), "indices": list(indices.shape), "masks": list(masks.shape)}))
        node = shutil.which("node")
        if node is None:
            return None, None, "no onnxruntime: neither Python onnxruntime nor node is installed"
        r = subprocess.run([node, str(Path(__file__).with_name("parity.js")), str(pkg), str(td)], capture_output=True, text=True)
        if r.returncode != 0:
            msg = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
            return None, None, f"onnxruntime-node failed: {msg}"
        idx = np.frombuffer((td / "out-indices.i64").read_bytes(), "<i8").reshape(images.shape[0], *indices.shape[1:])
        img = np.frombuffer((td / "out-images.f32").read_bytes(), "<f4").reshape(masks.shape[0], *images.shape[1:])
        return idx, img, "onnxruntime-node"


def explain_index_differences(ref, got, scores, scales, tie: float = 1e-4):
    """Indices may differ only where PyTorch's best two codes score within float noise (a tie), and
    after such a tie, at later scales of that branch (their residual differs). Returns (identical
    count, total, the differences a tie does not explain)."""
    B, P, L = ref.shape
    unexplained, same = [], int((ref == got).sum())
    for b in range(B):
        for p in range(P):
            start, tied = 0, False
            for k, pn in enumerate(scales):
                r, g = ref[b, p, start:start + pn * pn], got[b, p, start:start + pn * pn]
                diff = np.flatnonzero(r != g)
                if len(diff) and not tied:
                    s = scores[p][k][b]  # [pn*pn, V]
                    for t in diff:
                        top2 = torch.topk(s[t], 2).values
                        gap = float(top2[0] - top2[1])
                        if gap > tie * max(1.0, float(top2[0].abs())):
                            unexplained.append(f"image {b} branch {p} scale {k} token {t}: {r[t]} vs {g[t]} (score gap {gap:.2e})")
                    tied = True
                start += pn * pn
    return same, B * P * L, unexplained


def parity(model, pkg: Path, max_image_diff: float = 1e-3):
    """PyTorch vs onnxruntime on two test images; returns (ok, one line to print)."""
    c = model.cfg
    x = test_images(c.image_size)
    with torch.no_grad():
        ref_idx, scores = model.encode(x, with_scores=True)
        P, N = ref_idx.shape[1], len(c.scales)
        masks = parity_masks(P, N)
        ref_img = model.decode(ref_idx[:1], masks)  # one image's indices shared by every mask row
    got_idx, got_img, runtime = run_onnxruntime(pkg, x.numpy(), ref_idx[:1].numpy(), masks.numpy())
    if got_idx is None:
        return False, f"parity: not checked ({runtime})"
    same, total, unexplained = explain_index_differences(ref_idx.numpy(), got_idx, scores, c.scales)
    diff = float(np.abs(ref_img.numpy() - got_img).max())
    ok = not unexplained and diff <= max_image_diff
    line = (f"parity (PyTorch vs {runtime}, {x.shape[0]} images, {masks.shape[0]} masks): indices identical "
            f"{same}/{total}" + (f" (the {total - same} others after float ties)" if same < total and not unexplained else "")
            + f", image max abs diff {diff:.2e}" + ("" if ok else " FAILED"))
    if unexplained:
        line += f"; not ties: {'; '.join(unexplained[:3])}"
    return ok, line
