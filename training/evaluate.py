"""Evaluate a checkpoint on the validation split; write eval.json, eval.md and contact-sheet.png.

    python3 training/evaluate.py --ckpt <cache>/run/ckpt.pt --out models/imagefolder-mini

PSNR and SSIM are the panel's (imagefolder/metrics.py, as src/extension/core/metrics.ts): each
reconstruction rounded to the 8-bit pixels the panel shows and compared with the 8-bit input; SSIM
with an 11x11 Gaussian window (sigma 1.5), valid region, averaged over channels.
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from imagefolder.checkpoint import load_tokenizer, totals, training_note
from imagefolder.data import SOURCES, load_split, smoke_split, to_tensor
from imagefolder.metrics import perplexity, psnr_ssim, to_bytes


def pooled_features(model, x, batch=64):
    """Spatial mean of each branch's quantized f_hat (all scales) -> [B, P, D]."""
    out = []
    for i in range(0, len(x), batch):
        xb = to_tensor(x[i:i + batch])
        with torch.no_grad():
            fs = model.encoder(xb)
            out.append(torch.stack([q(f)[0].mean(dim=(2, 3)) for q, f in zip(model.quantizers, fs)], 1))
    return torch.cat(out)


def linear_probe(ftr, ytr, fte, yte, classes, steps=300):
    mu, sd = ftr.mean(0), ftr.std(0) + 1e-6
    ftr, fte = (ftr - mu) / sd, (fte - mu) / sd
    lin = torch.nn.Linear(ftr.shape[1], classes)
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(lin(ftr), ytr) + 1e-3 * lin.weight.pow(2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return (lin(fte).argmax(1) == yte).float()  # per test image: 1 = right


def paired_gap_ci(right_a, right_b, resamples=2000):
    """95 % interval of accuracy(a) - accuracy(b), resampling the test images (both probes see the
    same images, so the pairing removes the images' shared difficulty from the spread)."""
    g = torch.Generator().manual_seed(0)
    pick = torch.randint(0, len(right_a), (resamples, len(right_a)), generator=g)
    gaps = (right_a[pick] - right_b[pick]).mean(1)
    return [float(gaps.quantile(0.025)), float(gaps.quantile(0.975))]


def contact_sheet(model, imgs, out_png: Path):
    from PIL import Image
    N = len(model.cfg.scales)
    cols = [1, 2, 4, 6, 8, 10]
    x = to_tensor(imgs)
    with torch.no_grad():
        idx = model.encode(x)
        rows = [x]
        for k in cols:
            m = torch.zeros(len(x), 2, N); m[:, :, :k] = 1
            rows.append(model.decode(idx, m))
        for keep in (1, 0):  # semantic only, detail only
            m = torch.zeros(len(x), 2, N); m[:, keep] = 1
            rows.append(model.decode(idx, m))
    s = model.cfg.image_size
    grid = np.full((len(x) * (s + 2), len(rows) * (s + 2), 3), 255, np.uint8)
    for c, r in enumerate(rows):
        arr = to_bytes(r).numpy()
        for i in range(len(x)):
            grid[i * (s + 2):i * (s + 2) + s, c * (s + 2):c * (s + 2) + s] = arr[i]
    Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST).save(out_png)
    return ["input"] + [f"{k} scales" for k in cols] + ["semantic only", "detail only"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true",
                    help="experiment rows (experiment.py): only the full, semantic-only and detail-only decodes, no SSIM; "
                         "eval.json's psnrByScale then has the full-scale entry alone")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)  # the probe's initial weights: a rerun reports the same numbers
    model, ck = load_tokenizer(a.ckpt)
    if a.smoke:
        val, tr = smoke_split(24, model.cfg.image_size, seed=2), smoke_split(48, model.cfg.image_size, seed=3)
        labels = ["a", "b", "c"]
    else:
        data_dir = a.data or a.ckpt.parent.parent / "data"
        val, labels = load_split(data_dir, "val")
        tr, _ = load_split(data_dir, "train")
    N, P, V = len(model.cfg.scales), 2, model.cfg.codebook_size
    psnr = {"progressive": [[] for _ in range(N)], "semantic": [], "detail": []}
    ssim = {"progressive": [[] for _ in range(N)], "semantic": [], "detail": []}
    hist = np.zeros((P, V), np.int64)
    for i in range(0, len(val["images"]), 64):
        x = to_tensor(val["images"][i:i + 64])
        b = len(x)
        with torch.no_grad():
            idx = model.encode(x)
            for p in range(P):
                hist[p] += np.bincount(idx[:, p].flatten().numpy(), minlength=V)
            masks = []
            for k in ([N - 1] if a.quick else range(N)):
                m = torch.zeros(b, P, N); m[:, :, :k + 1] = 1; masks.append(m)
            for keep in (1, 0):
                m = torch.zeros(b, P, N); m[:, keep] = 1; masks.append(m)
            y = model.decode(idx.repeat(len(masks), 1, 1), torch.cat(masks))
            ref = torch.from_numpy(val["images"][i:i + 64])
            ps, ss = psnr_ssim(ref.repeat(len(masks), 1, 1, 1), to_bytes(y), with_ssim=not a.quick)
        ps, ss = ps.view(len(masks), b), ss.view(len(masks), b)
        scales = [N - 1] if a.quick else range(N)
        for j, k in enumerate(scales):
            psnr["progressive"][k] += ps[j].tolist(); ssim["progressive"][k] += ss[j].tolist()
        psnr["semantic"] += ps[-2].tolist(); ssim["semantic"] += ss[-2].tolist()
        psnr["detail"] += ps[-1].tolist(); ssim["detail"] += ss[-1].tolist()
    if a.quick:  # only the full scale was decoded
        psnr["progressive"], ssim["progressive"] = psnr["progressive"][-1:], ssim["progressive"][-1:]

    src = val["sources"]
    def by_source(values):
        v = np.array(values)
        out = {"all": float(v.mean())}
        for s, name in enumerate(SOURCES):
            if (src == s).any():
                out[name] = float(v[src == s].mean())
        out["emoji+clipart"] = float(v[src <= 1].mean()) if (src <= 1).any() else out["all"]
        return out

    # linear probe on emoji categories (the paper's claim: the semantic branch carries class info)
    emoji_tr = np.flatnonzero(tr["sources"] == 0) if not a.smoke else np.arange(len(tr["images"]))
    emoji_va = np.flatnonzero(src == 0) if not a.smoke else np.arange(len(val["images"]))
    ftr, fva = pooled_features(model, tr["images"][emoji_tr]), pooled_features(model, val["images"][emoji_va])
    ytr_raw, yva_raw = tr["labels"][emoji_tr].astype(np.int64), val["labels"][emoji_va].astype(np.int64)
    classes = sorted(set(ytr_raw.tolist()))
    remap = {c: i for i, c in enumerate(classes)}
    ytr = torch.tensor([remap[c] for c in ytr_raw])
    keep_va = np.array([c in remap for c in yva_raw])
    yva = torch.tensor([remap[c] for c in yva_raw[keep_va]])
    right = {name: linear_probe(ftr[:, p], ytr, fva[keep_va][:, p], yva, len(classes)) for p, name in enumerate(("detail", "semantic"))}
    probe = {name: float(r.mean()) for name, r in right.items()}
    gap_ci = paired_gap_ci(right["semantic"], right["detail"])
    majority = float(np.bincount(yva.numpy()).max() / max(1, len(yva)))

    steps, images, seconds = totals(ck)
    ev = {
        "split": "validation", "images": int(len(val["images"])), **({"quick": True} if a.quick else {}),
        "imagesPerSource": {name: int((src == s).sum()) for s, name in enumerate(SOURCES)},
        "psnrByScale": [by_source(v) for v in psnr["progressive"]],
        "ssimByScale": [by_source(v) for v in ssim["progressive"]],
        "branchOnly": {b: {"psnr": by_source(psnr[b]), "ssim": by_source(ssim[b])} for b in ("semantic", "detail")},
        "codebook": [{"branch": name, "used": int((hist[p] > 0).sum()), "size": V,
                      "utilisation": float((hist[p] > 0).mean()), "perplexity": perplexity(hist[p])}
                     for p, name in enumerate(("detail", "semantic"))],
        "linearProbe": {"task": "emoji category", "classes": len(classes), "trainImages": int(len(ytr)),
                        "valImages": int(len(yva)), "accuracy": probe, "majorityBaseline": majority,
                        "semanticMinusDetailCI95": [round(v, 3) for v in gap_ci]},
        "training": {"steps": steps, "images": images, "hours": round(seconds / 3600, 3),
                     **({"decoderOnly": {"steps": ck["step"], "hours": round(ck["elapsed"] / 3600, 3)}} if ck.get("decoder_only") else {}),
                     # a run started with --init: its own share of the totals (experiment rows report it)
                     **({"thisRun": {"steps": ck["step"], "images": ck["images_seen"], "hours": round(ck["elapsed"] / 3600, 3)}} if ck.get("base") else {})},
    }
    a.out.mkdir(parents=True, exist_ok=True)
    # the generator's sections (eval.json "generator" and "generatorTuning", eval.md "## Generator") survive a rerun
    old_json = json.loads((a.out / "eval.json").read_text()) if (a.out / "eval.json").exists() else {}
    old_md = (a.out / "eval.md").read_text() if (a.out / "eval.md").exists() else ""
    for key in ("generator", "generatorTuning"):
        if key in old_json:
            ev[key] = old_json[key]
    (a.out / "eval.json").write_text(json.dumps(ev, indent=1) + "\n")
    pick = np.concatenate([np.flatnonzero(src == s)[:4] for s in range(3)])
    columns = contact_sheet(model, val["images"][pick], a.out / "contact-sheet.png")

    full = ev["psnrByScale"][-1]
    lines = [f"# Evaluation of {a.out.name}", "",
             f"Validation split: {ev['images']} images ({', '.join(f'{k} {v}' for k, v in ev['imagesPerSource'].items())}). "
             f"Training: {steps} steps, {images} images, {seconds / 3600:.2f} h.{training_note(ck)}", "",
             "| scales | " + " | ".join(f"{k + 1}" for k in range(N - len(ev["psnrByScale"]), N)) + " |",
             "|---|" + "---|" * len(ev["psnrByScale"])]
    for s in ("emoji", "clipart", "photo", "all"):
        if s in full:
            lines.append(f"| PSNR {s} | " + " | ".join(f"{v[s]:.2f}" for v in ev["psnrByScale"]) + " |")
    lines.append("| SSIM all | " + " | ".join(f"{v['all']:.3f}" for v in ev["ssimByScale"]) + " |")
    lines += ["", "| branch only (all scales) | PSNR all | SSIM all |", "|---|---|---|"]
    for b in ("semantic", "detail"):
        lines.append(f"| {b} | {ev['branchOnly'][b]['psnr']['all']:.2f} | {ev['branchOnly'][b]['ssim']['all']:.3f} |")
    lines += ["", "| codebook | used | utilisation | perplexity |", "|---|---|---|---|"]
    for c in ev["codebook"]:
        lines.append(f"| {c['branch']} | {c['used']}/{c['size']} | {c['utilisation']:.3f} | {c['perplexity']:.1f} |")
    lines += ["", f"Linear probe on emoji categories ({len(classes)} classes, majority baseline {majority:.3f}): "
              f"semantic branch {probe['semantic']:.3f}, detail branch {probe['detail']:.3f} "
              f"(semantic - detail, 95 % paired bootstrap interval over the test images: [{gap_ci[0]:+.3f}, {gap_ci[1]:+.3f}]).", "",
              "![contact sheet](contact-sheet.png)", "", "Columns: " + ", ".join(columns) + ". Rows: 4 emoji, 4 clipart, 4 photo crops."]
    generator_md = old_md[old_md.index("\n## Generator\n"):] if "\n## Generator\n" in old_md else ""
    (a.out / "eval.md").write_text("\n".join(lines) + "\n" + generator_md)

    manifest_path = a.out / "manifest.json"
    if manifest_path.exists():
        m = json.loads(manifest_path.read_text())
        m["evaluation"] = {"psnrFull": {k: round(v, 2) for k, v in full.items()},
                           "utilisation": {c["branch"]: round(c["utilisation"], 3) for c in ev["codebook"]},
                           "linearProbe": {k: round(v, 3) for k, v in probe.items()}}
        manifest_path.write_text(json.dumps(m, indent=2) + "\n")
    print(json.dumps({"psnrFull": full, "codebook": ev["codebook"], "probe": probe}, indent=1))


if __name__ == "__main__":
    main()
