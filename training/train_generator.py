"""Train the folded next-scale generator on the built-in tokenizer's tokens of the emoji images,
conditioned on the emoji category.

    python3 training/train_generator.py --tokenizer training/checkpoints/imagefolder-mini.pt --hours 2
    python3 training/train_generator.py --smoke --tokenizer <ckpt> --out /tmp/g    # CI
    python3 training/train_generator.py --device cuda --tf32 --tokenizer <ckpt> --batch 256 --lr 8e-4 --hours 0.033
        # the H200 run (training/gpu_run.sh): tokenizing and training both on the GPU

Resumable like train.py (<out>/gen-ckpt.pt every few minutes), logs to <out>/train-generator.log.
"""
import argparse
import copy
import hashlib
import json
import math
import os
import signal
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from imagefolder.checkpoint import atomic_save, load_checkpoint, load_tokenizer
from imagefolder.data import load_split, smoke_split, to_tensor
from imagefolder.device import pick_device
from imagefolder.generator import FoldedGenerator, GeneratorConfig
from imagefolder.runlog import log as run_log


def log(out: Path, msg: str):
    run_log(out, msg, "train-generator.log")


@torch.no_grad()
def tokenize(tok, images_uint8, batch=64, device="cpu"):
    """-> indices [N, 2, L] and teacher-forcing inputs [N, L-1, 64] (float16 to keep memory low),
    both on the CPU; computed on device (the tokenizer visits it and comes back)."""
    N = len(tok.cfg.scales)
    idx_all, x_all = [], []
    tok.to(device)
    gen_helper = FoldedGenerator(GeneratorConfig(vocab=tok.cfg.codebook_size, scales=tok.cfg.scales)).to(device)
    for i in range(0, len(images_uint8), batch):
        x = to_tensor(images_uint8[i:i + batch]).to(device)
        idx = tok.encode(x)
        f_hats = []
        for k in range(N):
            m = torch.zeros(len(x), 2, N, device=device)
            m[:, :, :k + 1] = 1
            f_hats.append(torch.cat(tok.f_hat_from_indices(idx, m), 1))
        idx_all.append(idx.cpu())
        x_all.append(gen_helper.next_scale_inputs(f_hats).half().cpu())
    tok.cpu()
    return torch.cat(idx_all), torch.cat(x_all)


def tokenizer_fingerprint(tok) -> str:
    """Short hash of the tokenizer's weights (the generator's targets and inputs depend on all of them)."""
    h = hashlib.sha256()
    for name, t in sorted(tok.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().float().contiguous().numpy().tobytes())
    return h.hexdigest()[:12]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", type=Path, required=True, help="tokenizer checkpoint or shipped weights")
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("IMAGEFOLDER_CACHE", Path.home() / ".cache" / "imagefolder-inspector")) / "gen")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--device", default="cpu", help="cpu, cuda, ...: training and tokenizing")
    ap.add_argument("--tf32", action="store_true", help="TF32 matmuls (CUDA only; an error elsewhere)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--balance", type=float, default=1.0,
                    help="class sampling weight count^(1-balance): 1 = every class equally often, 0 = every image")
    ap.add_argument("--init", type=Path, default=None,
                    help="when --out has no checkpoint: start from compact weights (export_generator.py --weights, e.g. "
                         "training/checkpoints/imagefolder-mini-generator.pt), continuing their step count and hours")
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    device = pick_device(a.device, a.tf32)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    out = a.out
    out.mkdir(parents=True, exist_ok=True)
    tok, _ = load_tokenizer(a.tokenizer)

    if a.smoke:
        d = smoke_split(24, tok.cfg.image_size)
        images, labels, classes = d["images"], d["labels"].astype(np.int64), ["a", "b", "c"]
        a.hours, a.batch = 0.4 / 60, 8
    else:
        data, names = load_split(a.data or Path(a.out).parent / "data", "train")
        keep = data["sources"] == 0
        emoji_names = [n for n in names if n.startswith("emoji:")]
        remap = {names.index(n): i for i, n in enumerate(emoji_names)}
        images = data["images"][keep]
        labels = np.array([remap[int(l)] for l in data["labels"][keep]], np.int64)
        classes = [n.split(":", 1)[1] for n in emoji_names]
        images = np.concatenate([images, images[:, :, ::-1]])  # flips double the small set
        labels = np.concatenate([labels, labels])

    # The tokens belong to one tokenizer: a resumed run on a retrained tokenizer (same architecture,
    # new weights) re-tokenizes and fine-tunes from the earlier generator instead of reusing stale codes.
    cache = out / "tokens.pt"
    tok_id = tokenizer_fingerprint(tok)
    cached = load_checkpoint(cache) if cache.exists() else None
    if cached is not None and len(cached) == 3 and cached[2] == tok_id:
        idx, x_in, _ = cached
    else:
        t0 = time.time()
        idx, x_in = tokenize(tok, images, batch=256 if device.type == "cuda" else 64, device=device)
        torch.save((idx, x_in, tok_id), cache)
        log(out, f"tokenized {len(idx)} images with tokenizer {tok_id} on {device} in {time.time() - t0:.0f} s")
    y = torch.from_numpy(labels)

    cfg = GeneratorConfig(num_classes=len(classes), vocab=tok.cfg.codebook_size, scales=tok.cfg.scales)
    if a.smoke:
        cfg.width, cfg.depth, cfg.heads = 64, 2, 2
    ckpt_path = out / "gen-ckpt.pt"
    ck = load_checkpoint(ckpt_path) if ckpt_path.exists() else None
    init = load_checkpoint(a.init) if (ck is None and a.init) else None
    src = ck or init
    if src:
        cfg = GeneratorConfig(**{**src["config"], "scales": tuple(src["config"]["scales"])})
    model = FoldedGenerator(cfg).to(device)
    ema = copy.deepcopy(model)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.05)
    step, elapsed = 0, 0.0
    if ck:
        model.load_state_dict(ck["model"]); ema.load_state_dict(ck["ema"]); opt.load_state_dict(ck["opt"])
        step, elapsed = ck["step"], ck["elapsed"]
        log(out, f"resumed at step {step}")
    elif init:
        # The shipped weights carry no optimiser state: AdamW starts afresh (its bias correction
        # keeps the first steps small); the schedule continues from the shipped step and hours.
        if init["classes"] != classes:
            raise SystemExit(f"{a.init} was trained on classes {init['classes']}, this data has {classes}")
        model.load_state_dict({k: v.float() for k, v in init["ema"].items()})
        ema.load_state_dict(model.state_dict())
        step, elapsed = init["step"], init["elapsed"]
        log(out, f"initialised from {a.init} ({step} steps, {elapsed / 3600:.2f} h)")
    budget = a.hours * 3600
    rng = np.random.default_rng(step)
    # The report averages accuracy over classes, and People & Body (skin tones) is 60 % of the emoji:
    # sampling classes evenly gives Activities (79 images) as many steps as People & Body.
    count = np.bincount(labels, minlength=len(classes)).astype(np.float64)
    p_image = count[labels] ** -a.balance
    p_image /= p_image.sum()
    V = cfg.vocab
    last_ckpt = time.time()

    def save():
        atomic_save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "config": cfg.to_dict(),
                     "classes": classes, "step": step, "elapsed": elapsed, "device": str(device),
                     "device_name": f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else None,
                     "tokenizer": str(a.tokenizer)}, ckpt_path)

    stop = []  # SIGTERM/SIGINT: finish the step, save, exit (a resumed run loses nothing)
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    while elapsed < budget and not stop:
        t_step = time.time()
        pick = torch.from_numpy(rng.choice(len(idx), a.batch, p=p_image))
        cls = y[pick].clone()
        cls[torch.rand(a.batch) < cfg.label_dropout] = model.null_class
        target = idx[pick].to(device)
        logits = model(cls.to(device), x_in[pick].float().to(device))
        loss_d = F.cross_entropy(logits[..., :V].reshape(-1, V), target[:, 0].reshape(-1))
        loss_s = F.cross_entropy(logits[..., V:].reshape(-1, V), target[:, 1].reshape(-1))
        loss = 0.5 * (loss_d + loss_s)
        progress = elapsed / budget
        lr = a.lr * min(1.0, (step + 1) / 200) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            d = min(0.999, (1 + step) / (10 + step))
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        step += 1
        elapsed += time.time() - t_step
        if step % 20 == 0 or elapsed >= budget:
            acc = (logits[..., :V].argmax(-1) == target[:, 0]).float().mean().item()
            log(out, f"step {step} loss {loss.item():.3f} detail {loss_d.item():.3f} semantic {loss_s.item():.3f} "
                     f"acc-detail {acc:.3f} lr {lr:.2e} elapsed {elapsed / 3600:.2f} h eta {(budget - elapsed) / 60:.0f} min")
        if time.time() - last_ckpt > 300:
            save()
            last_ckpt = time.time()
    save()
    (out / "classes.json").write_text(json.dumps(classes))
    log(out, f"done: {step} steps")


if __name__ == "__main__":
    main()
