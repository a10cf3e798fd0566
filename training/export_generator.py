"""Add the generator to a model package: a KV-cache step graph and the next-scale-input graph.

    python3 training/export_generator.py --gen <cache>/gen/gen-ckpt.pt --tokenizer <tok ckpt> --out models/imagefolder-mini

Sampling (guidance, top-k, top-p, temperature, seeds) stays out of the graphs: the host does it.
"""
import argparse
import json
from pathlib import Path

import torch

from imagefolder.checkpoint import load_generator, load_tokenizer
from imagefolder.data import smoke_split, to_tensor
from imagefolder.graphs import OPSET, NextInputGraph, StepGraph
from imagefolder.sampling import DEFAULTS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", type=Path, required=True)
    ap.add_argument("--tokenizer", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--weights", type=Path, default=None, help="also write compact fp16 generator weights")
    ap.add_argument("--fixtures", type=Path, default=None, help="write teacher-forced logits for the KV-cache parity test")
    a = ap.parse_args()
    tok, _ = load_tokenizer(a.tokenizer)
    g, ck = load_generator(a.gen)
    c = g.cfg
    L, N, P = sum(pn * pn for pn in c.scales), len(c.scales), 2
    hd = c.width // c.heads
    B, T, Tp = 2, 4, 5
    args = (torch.zeros(B, dtype=torch.long), torch.zeros(B, T, c.in_dim), torch.arange(Tp, Tp + T),
            torch.zeros(c.depth, B, c.heads, Tp, hd), torch.zeros(c.depth, B, c.heads, Tp, hd))
    torch.onnx.export(StepGraph(g), args, str(a.out / "generator.onnx"), opset_version=OPSET,
                      input_names=["class_id", "x_in", "positions", "past_keys", "past_values"],
                      output_names=["logits", "present_keys", "present_values"],
                      dynamic_axes={"class_id": {0: "batch"}, "x_in": {0: "batch", 1: "tokens"}, "positions": {0: "tokens"},
                                    "past_keys": {1: "batch", 3: "past"}, "past_values": {1: "batch", 3: "past"},
                                    "logits": {0: "batch", 1: "tokens"}, "present_keys": {1: "batch", 3: "total"},
                                    "present_values": {1: "batch", 3: "total"}})
    torch.onnx.export(NextInputGraph(tok, g), (torch.zeros(B, P, L, dtype=torch.long), torch.ones(B, P, N)),
                      str(a.out / "next_input.onnx"), opset_version=OPSET, input_names=["indices", "scale_mask"],
                      output_names=["next_input"],
                      dynamic_axes={"indices": {0: "batch"}, "scale_mask": {0: "batch"}, "next_input": {0: "batch"}})
    m = json.loads((a.out / "manifest.json").read_text())
    m["classes"] = ck["classes"]
    m["graphs"]["generator"] = {
        "file": "generator.onnx",
        "inputs": {"class_id": [-1], "x_in": [-1, -1, c.in_dim], "positions": [-1],
                   "past_keys": [c.depth, -1, c.heads, -1, hd], "past_values": [c.depth, -1, c.heads, -1, hd]},
        "outputs": {"logits": [-1, -1, 2 * c.vocab], "present_keys": [c.depth, -1, c.heads, -1, hd],
                    "present_values": [c.depth, -1, c.heads, -1, hd]}}
    m["graphs"]["nextInput"] = {"file": "next_input.onnx", "inputs": {"indices": [-1, P, L], "scale_mask": [-1, P, N]},
                                "outputs": {"next_input": [-1, L - 1, c.in_dim]}}
    m["generator"] = {"nullClass": c.num_classes, "depth": c.depth, "heads": c.heads, "width": c.width,
                      "steps": ck["step"], "hours": round(ck["elapsed"] / 3600, 3),
                      "hardware": ck.get("device_name") or ck.get("device", "cpu"),
                      "defaults": dict(DEFAULTS)}
    (a.out / "manifest.json").write_text(json.dumps(m, indent=2) + "\n")
    if a.weights:
        torch.save({"ema": {k: v.half() for k, v in ck["ema"].items()}, "config": ck["config"], "classes": ck["classes"],
                    "step": ck["step"], "elapsed": ck["elapsed"],
                    "device": ck.get("device", "cpu"), "device_name": ck.get("device_name")}, a.weights)
    if a.fixtures:
        write_fixtures(tok, g, a.fixtures)
    print(f"exported generator to {a.out}")


@torch.no_grad()
def write_fixtures(tok, g, out: Path):
    """Teacher-forced logits of one token sequence, summarised per position (top 5 of each branch's
    half and the row sum), so the host's step-by-step KV-cache run can be checked cheaply."""
    out.mkdir(parents=True, exist_ok=True)
    N, V = len(g.cfg.scales), g.cfg.vocab
    x = to_tensor(smoke_split(1, tok.cfg.image_size, seed=5)["images"])
    idx = tok.encode(x)
    f_hats = []
    for k in range(N):
        m = torch.zeros(1, 2, N)
        m[:, :, :k + 1] = 1
        f_hats.append(torch.cat(tok.f_hat_from_indices(idx, m), 1))
    cls = torch.tensor([min(1, g.cfg.num_classes - 1)])
    logits = g(cls, g.next_scale_inputs(f_hats))[0]
    top = [[torch.topk(logits[:, p * V:(p + 1) * V], 5, dim=-1)[i].tolist() for i in (1, 0)] for p in range(2)]
    (out / "golden.json").write_text(json.dumps({
        "classId": int(cls[0]), "indices": idx[0].tolist(),
        "top5": {"detail": {"indices": top[0][0], "values": top[0][1]}, "semantic": {"indices": top[1][0], "values": top[1][1]}},
        "rowSum": logits.sum(-1).tolist()}))


if __name__ == "__main__":
    main()
