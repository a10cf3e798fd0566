"""Train the built-in ImageFolder tokenizer: first the frozen teacher, then the tokenizer.

    python3 training/train.py                       # full run (config.py), resumes from <out>/ckpt.pt
    python3 training/train.py --init training/checkpoints/imagefolder-mini.pt   # continue the shipped weights
    python3 training/train.py --smoke --out /tmp/s  # a few steps on generated images (CI)
    python3 training/train.py --device cuda --tf32 --init training/checkpoints/imagefolder-mini.pt \
        --batch 512 --lr 1e-3 --hours 0.08   # the H200 continuation (training/gpu_run.sh runs it all)
    python3 training/train.py --decoder-only --init <ckpt or shipped weights> --out <cache>/run-decoder --hours 1
        # better reconstructions from the same tokens: encoder, quantizers and codebooks stay frozen,
        # so every token (and a generator trained on them) keeps its meaning

Runs in the background happily: progress goes to <out>/train.log, checkpoints every few minutes.
"""
import argparse
import copy
import dataclasses
import json
import math
import os
import signal
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from config import TrainConfig
from imagefolder.checkpoint import atomic_save, load_checkpoint, totals
from imagefolder.data import Batches, load_split, smoke_split
from imagefolder.device import pick_device
from imagefolder.model import ImageFolderTokenizer, Teacher, TokenizerConfig
from imagefolder.runlog import log
from imagefolder import semantic


def train_teacher(cfg: TrainConfig, data, num_classes: int, out: Path, device) -> Teacher:
    teacher = Teacher(num_classes, feat_dim=cfg.model.width).to(device)
    opt = torch.optim.AdamW(teacher.parameters(), lr=cfg.teacher_lr, weight_decay=0.05)
    batches = Batches(data, cfg.teacher_batch, device, seed=cfg.seed + 1)
    for step in range(1, cfg.teacher_steps + 1):
        x, y, _ = batches.next()
        for g in opt.param_groups:
            g["lr"] = cfg.teacher_lr * 0.5 * (1 + math.cos(math.pi * step / cfg.teacher_steps))
        loss = F.cross_entropy(teacher(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 50 == 0:
            acc = (teacher(x).argmax(1) == y).float().mean().item()
            log(out, f"teacher step {step} loss {loss.item():.3f} batch-acc {acc:.2f}")
    teacher.eval()
    return teacher


def perceptual(teacher, recon, target_feats):
    """LPIPS-like: unit-normalise each position's channel vector, compare, average over stages."""
    feats, _ = teacher.features(recon)
    loss = 0.0
    for a, b in zip(feats[:3], target_feats[:3]):
        loss = loss + (F.normalize(a, dim=1) - F.normalize(b, dim=1)).pow(2).sum(1).mean()
    return loss / 3


def lr_at(cfg: TrainConfig, step: int, progress: float) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    cos = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * cos)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("IMAGEFOLDER_CACHE", Path.home() / ".cache" / "imagefolder-inspector")) / "run")
    ap.add_argument("--data", type=Path, default=None, help="folder with train.npz (default <cache>/data)")
    ap.add_argument("--init", type=Path, default=None, help="start from shipped weights (training/checkpoints/*.pt)")
    ap.add_argument("--teacher", type=Path, default=None, help="reuse the frozen teacher of this checkpoint")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    ap.add_argument("--tf32", action="store_true", help="TF32 matmuls and convolutions (CUDA only; an error elsewhere)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hours", type=float, default=None)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--semantic-weight", type=float, default=None, help="weight of the semantic branch's InfoNCE loss (config.py: 0.1); like --lr, give it again on resume")
    ap.add_argument("--semantic-target", choices=("shared", "detached", "head"), default=None,
                    help="how the teacher's feature is projected for the InfoNCE (config.py)")
    ap.add_argument("--semantic-grad", choices=("straight-through", "codebook"), default=None,
                    help="what the InfoNCE's gradient reaches: the encoder (straight-through, the authors') or only the codebook (config.py)")
    ap.add_argument("--semantic-logit-scale", type=float, default=None)
    ap.add_argument("--semantic-scales", type=int, default=None, help="pool the semantic prediction over the first k scales only (config.py: 0 = all)")
    ap.add_argument("--semantic-teacher-feature", choices=("last", "all-stages"), default=None,
                    help="the teacher's feature the InfoNCE targets (config.py); all-stages needs --semantic-target head")
    ap.add_argument("--semantic-warmup", type=int, default=None, help="steps over which the semantic weight ramps up")
    ap.add_argument("--detail-dropout", type=float, default=None,
                    help="fraction of samples decoded without the detail branch (a deviation from the paper)")
    ap.add_argument("--seed", type=int, default=None, help="initialisation and batch order (config.py: 0); another seed measures a recipe's run-to-run spread")
    ap.add_argument("--smoke", action="store_true", help="tiny run on generated images")
    ap.add_argument("--decoder-only", action="store_true", help="fine-tune the decoder of --init's EMA weights; tokens stay as they are")
    a = ap.parse_args()
    device = pick_device(a.device, a.tf32)

    cfg = TrainConfig()
    if a.hours is not None:
        cfg.hours = a.hours
    if a.batch is not None:
        cfg.batch = a.batch
    if a.lr is not None:
        cfg.lr = a.lr
    for name in ("semantic_weight", "semantic_target", "semantic_grad", "semantic_logit_scale", "semantic_scales", "semantic_teacher_feature", "detail_dropout"):
        if getattr(a, name) is not None:
            setattr(cfg, name, getattr(a, name))
    if cfg.semantic_teacher_feature != "last" and cfg.semantic_target != "head":
        raise SystemExit(f"--semantic-teacher-feature {cfg.semantic_teacher_feature} needs --semantic-target head "
                         "(the shared projection takes the teacher's last-stage width)")
    if a.seed is not None:
        cfg.seed = a.seed
    if a.semantic_warmup is not None:
        cfg.semantic_warmup_steps = a.semantic_warmup
    if a.smoke:
        cfg.hours, cfg.teacher_steps, cfg.batch, cfg.warmup_steps, cfg.checkpoint_minutes = 0.5 / 60, 5, 8, 2, 0.2
        cfg.model = TokenizerConfig(width=64, enc_depth=1, dec_depth=1, heads=2, spatial_prior=True)  # tiny: fast, small fixture
    torch.set_num_threads(a.threads)
    torch.manual_seed(cfg.seed)
    out = a.out
    out.mkdir(parents=True, exist_ok=True)

    if a.smoke:
        data, labels = smoke_split(64, cfg.model.image_size), ["a", "b", "c"]
    else:
        data_dir = a.data or out.parent / "data"
        data, labels = load_split(data_dir, "train")
    log(out, f"data: {len(data['images'])} images, {len(labels)} classes, device {device}{' (TF32 matmuls)' if a.tf32 else ''}")

    ckpt_path = out / "ckpt.pt"
    ckpt = load_checkpoint(ckpt_path) if ckpt_path.exists() else None
    init = load_checkpoint(a.init) if (ckpt is None and a.init) else None
    src = ckpt or init
    decoder_only = a.decoder_only or bool(ckpt and ckpt.get("decoder_only"))
    if decoder_only and not src:
        raise SystemExit("--decoder-only needs --init (the tokenizer whose tokens stay fixed)")

    mcfg = TokenizerConfig(**{**src["model_config"], "scales": tuple(src["model_config"]["scales"])}) if src else cfg.model
    cfg.model = mcfg
    teacher = Teacher(len(labels), feat_dim=mcfg.width).to(device)
    teacher_src = src if (src and "teacher" in src) else (load_checkpoint(a.teacher) if a.teacher else None)
    if teacher_src:
        teacher.load_state_dict(teacher_src["teacher"])
        teacher.eval()
    else:
        teacher = train_teacher(cfg, data, len(labels), out, device)
    for p in teacher.parameters():
        p.requires_grad_(False)

    model = ImageFolderTokenizer(mcfg).to(device)
    ema = copy.deepcopy(model)
    # decoder-only: the tokenizer's EMA weights everywhere, and only the decoder learns (and averages)
    trained, trained_ema = (model.decoder, ema.decoder) if decoder_only else (model, ema)
    # a separate projection of the teacher's feature (semantic_target "head"); trained, not exported
    sem_head = (torch.nn.Linear(semantic.teacher_dim(teacher, cfg.semantic_teacher_feature), mcfg.code_dim).to(device)
                if cfg.semantic_target == "head" else None)
    params = list(trained.parameters()) + (list(sem_head.parameters()) if sem_head is not None and not decoder_only else [])
    opt = torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    step, elapsed, images_seen = 0, 0.0, 0
    base = ckpt.get("base") if ckpt else None  # the run an --init run continued (provenance: export.totals adds it)
    if ckpt:
        model.load_state_dict(ckpt["model"])
        ema.load_state_dict(ckpt["ema"])
        if sem_head is not None and ckpt.get("sem_head"):
            sem_head.load_state_dict(ckpt["sem_head"])
        opt.load_state_dict(ckpt["opt"])
        for q, u in zip(model.quantizers, ckpt["usage"]):
            q.usage.copy_(u)
        step, elapsed, images_seen = ckpt["step"], ckpt["elapsed"], ckpt["images_seen"]
        log(out, f"resumed at step {step}, {elapsed / 3600:.2f} h trained")
    elif init:
        model.load_state_dict({k: v.float() for k, v in init["ema"].items()})
        ema.load_state_dict(model.state_dict())
        for q in model.quantizers:
            q.usage.fill_(1.0)  # trust the shipped codebook: no restarts until usage says otherwise
        # this run counts its own steps from 0 (fresh warmup and schedule); base keeps what came before
        b_steps, b_images, b_seconds = totals(init)
        base = {"step": b_steps, "images_seen": b_images, "elapsed": b_seconds, "from": str(a.init), "device": init.get("device", "cpu")}
        log(out, f"initialised from {a.init} ({init.get('step', '?')} steps){'; decoder only' if decoder_only else ''}")
    for p in ema.parameters():
        p.requires_grad_(False)
    if decoder_only:
        for p in [*model.encoder.parameters(), *model.quantizers.parameters()]:
            p.requires_grad_(False)

    def save():
        atomic_save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                     "usage": [q.usage.clone() for q in model.quantizers], "teacher": teacher.state_dict(),
                     "labels": labels, "model_config": mcfg.to_dict(), "train_config": dataclasses.asdict(cfg),
                     "step": step, "elapsed": elapsed, "images_seen": images_seen, "device": str(device),
                     "device_name": f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else None,
                     "decoder_only": decoder_only, "base": base,
                     "sem_head": sem_head.state_dict() if sem_head is not None else None}, ckpt_path)

    stop = []  # SIGTERM/SIGINT: finish the step, save, exit (a resumed run loses nothing)
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    batches = Batches(data, cfg.batch, device, seed=cfg.seed + step)
    budget = cfg.hours * 3600
    last_ckpt, t_last, n_last = time.time(), time.time(), 0
    nscales = len(mcfg.scales)
    model.train()
    while elapsed < budget and not stop:
        t_step = time.time()
        progress = elapsed / budget
        lr = lr_at(cfg, step, progress)
        for g in opt.param_groups:
            g["lr"] = lr
        x, _, _ = batches.next()
        b = x.shape[0]
        # quantizer dropout: the same n for both branches of a sample
        drop = torch.rand(b, device=device) < cfg.quantizer_dropout
        n = torch.randint(cfg.dropout_min_scales, nscales + 1, (b,), device=device)
        keep = torch.where(drop, n, torch.full_like(n, nscales))

        with torch.no_grad():
            t_feats, t_pooled = teacher.features(x)
        zero = torch.zeros((), device=device)
        if decoder_only:  # tokens fixed: no quantizer or semantic loss can change anything
            with torch.no_grad():
                f_hats = [q(f, keep)[0] for q, f in zip(model.quantizers, model.encoder(x))]
                if cfg.detail_dropout > 0:  # keep a semantic-only decode in distribution, as the tokenizer run did
                    f_hats[0] = f_hats[0] * (torch.rand(b, device=device) >= cfg.detail_dropout).float()[:, None, None, None]
            recon = model.decoder(*f_hats)
            lq = ls = zero
        else:
            branch_keep = None
            if cfg.detail_dropout > 0:
                branch_keep = torch.ones(b, 2, device=device)
                branch_keep[:, 0] = (torch.rand(b, device=device) >= cfg.detail_dropout).float()
            recon, fs, f_hats, idxs, rsm = model(x, keep, branch_keep)
            lq = sum(F.mse_loss(fh, f.detach()) + cfg.commit_weight * F.mse_loss(fh.detach(), f) for f, fh in zip(fs, f_hats))
            keep_sem = ~drop
            ls = zero
            if keep_sem.sum() >= 2:
                f_hat_sem = semantic.coarse_f_hat(model.quantizers[1], idxs[1], cfg.semantic_scales) if cfg.semantic_scales else f_hats[1]
                pred = semantic.prediction(fs[1][keep_sem], f_hat_sem[keep_sem], cfg.semantic_grad)
                t_sem = semantic.teacher_feature(t_feats, t_pooled, cfg.semantic_teacher_feature)
                target = semantic.target(t_sem[keep_sem], cfg.semantic_target, model.encoder.proj, sem_head)
                ls = semantic.info_nce(pred, target, cfg.semantic_logit_scale)
        l2 = F.mse_loss(recon, x)
        l1 = F.l1_loss(recon, x)
        lp = perceptual(teacher, recon, t_feats)
        w_sem = cfg.semantic_weight * min(1.0, (step + 1) / cfg.semantic_warmup_steps) if cfg.semantic_warmup_steps else cfg.semantic_weight
        loss = l2 + cfg.l1_weight * l1 + cfg.perceptual_weight * lp + lq + w_sem * ls
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

        restarted = 0
        if not decoder_only:  # codebooks are frozen in a decoder-only run: no usage, no restarts
            for q, idx, r in zip(model.quantizers, idxs, rsm):
                q.track_usage(idx)
                if progress < cfg.restart_until and step % cfg.restart_every == 0:
                    restarted += q.restart_dead_codes(r)
        with torch.no_grad():
            d = min(cfg.ema, (1 + step) / (10 + step))
            for pe, pm in zip(trained_ema.parameters(), trained.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
            if restarted:
                for qe, qm in zip(ema.quantizers, model.quantizers):  # restarted codes: EMA follows at once
                    dead = (qe.codebook.weight - qm.codebook.weight).abs().sum(1) > 0
                    qe.codebook.weight[dead] = qm.codebook.weight[dead]

        step += 1
        images_seen += b
        elapsed += time.time() - t_step
        if step % cfg.log_every == 0 or elapsed >= budget:
            rate = (images_seen - n_last) / max(1e-6, time.time() - t_last)
            t_last, n_last = time.time(), images_seen
            used = [int((q.usage > 0.05).sum()) for q in model.quantizers]
            psnr = -10 * math.log10(max(1e-10, l2.item() / 4))  # [-1,1] range: peak-to-peak 2
            log(out, f"step {step} loss {loss.item():.4f} l2 {l2.item():.4f} psnr {psnr:.2f} perc {lp.item():.3f} "
                     f"q {lq.item():.4f} sem {ls.item():.3f} lr {lr:.2e} used {used} restarted {restarted} "
                     f"{rate:.1f} img/s elapsed {elapsed / 3600:.2f} h eta {(budget - elapsed) / 60:.0f} min")
        if time.time() - last_ckpt > cfg.checkpoint_minutes * 60:
            save()
            last_ckpt = time.time()
    save()
    log(out, f"{'stopped' if stop else 'done'}: {step} steps, {images_seen} images, {elapsed / 3600:.2f} h")


if __name__ == "__main__":
    main()
