"""Multi-scale residual quantizer of one ImageFolder branch (VAR style, cosine lookup).

Everything resampling-related is a fixed matrix (area downsampling, bicubic upsampling) so the
same code path is what torch.onnx exports: adaptive area pooling to non-divisor sizes does not
export, and a fixed matrix gives bit-identical results in PyTorch and onnxruntime.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SCALES = (1, 1, 2, 3, 3, 4, 5, 6, 8, 11)
# Which of the 4 shared Phi convs each scale uses (reference implementation's table).
PHI_OF_SCALE = (0, 0, 1, 1, 1, 2, 2, 3, 3, 3)


def area_matrix(src: int, dst: int) -> torch.Tensor:
    """[dst, src] matrix equal to F.adaptive_avg_pool1d (what 'area' interpolation does)."""
    m = torch.zeros(dst, src)
    for i in range(dst):
        a = (i * src) // dst
        b = -((-(i + 1) * src) // dst)  # ceil
        m[i, a:b] = 1.0 / (b - a)
    return m


def bicubic_matrix(src: int, dst: int) -> torch.Tensor:
    """[dst, src] matrix equal to F.interpolate(mode='bicubic', align_corners=False) along one axis."""
    eye = torch.eye(src).view(src, 1, src, 1)  # each basis vector as a src x 1 "image"
    out = F.interpolate(eye, size=(dst, 1), mode="bicubic", align_corners=False)
    return out.view(src, dst).t().contiguous()


class Phi(nn.Module):
    """Phi(x) = 0.5 x + 0.5 conv3x3(x): refines upsampled codes without losing their content."""

    def __init__(self, dim: int):
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x):
        return 0.5 * x + 0.5 * self.conv(x)


class BranchQuantizer(nn.Module):
    def __init__(self, codebook_size: int, code_dim: int, side: int = 11, scales=SCALES):
        super().__init__()
        assert scales[-1] == side
        self.scales = tuple(scales)
        self.side = side
        self.codebook_size = codebook_size
        self.code_dim = code_dim
        self.codebook = nn.Embedding(codebook_size, code_dim)
        nn.init.uniform_(self.codebook.weight, -1.0 / codebook_size, 1.0 / codebook_size)
        self.phis = nn.ModuleList([Phi(code_dim) for _ in range(4)])
        for k, pn in enumerate(self.scales):
            self.register_buffer(f"down{k}", area_matrix(side, pn), persistent=False)
            self.register_buffer(f"up{k}", bicubic_matrix(pn, side), persistent=False)
        # usage counter for dead-code restarts (not exported)
        self.register_buffer("usage", torch.zeros(codebook_size), persistent=False)

    def lookup(self, r_small: torch.Tensor) -> torch.Tensor:
        """r_small [B, D, pn, pn] -> indices [B, pn*pn] by cosine similarity (row-major)."""
        b, d, h, w = r_small.shape
        z = F.normalize(r_small.permute(0, 2, 3, 1).reshape(b, h * w, d), dim=-1)
        e = F.normalize(self.codebook.weight, dim=-1)
        return torch.matmul(z, e.t()).argmax(dim=-1)

    def code_map(self, idx: torch.Tensor, k: int) -> torch.Tensor:
        """indices [B, pn*pn] of scale k -> refined contribution h [B, D, side, side]."""
        pn = self.scales[k]
        b = idx.shape[0]
        z = self.codebook(idx).view(b, pn, pn, self.code_dim).permute(0, 3, 1, 2)
        if pn != self.side:
            up = getattr(self, f"up{k}")
            z = torch.matmul(torch.matmul(up, z), up.t())
        return self.phis[PHI_OF_SCALE[k]](z)

    def forward(self, f: torch.Tensor, keep_scales: torch.Tensor = None):
        """f [B, D, 11, 11] -> (f_hat, indices [B, L], residual inputs per scale, per-scale h).

        keep_scales [B] (long): sample b keeps only scales < keep_scales[b] in f_hat
        (quantizer dropout); the residual still subtracts every scale.
        """
        r = f
        f_hat = torch.zeros_like(f)
        idx_all, r_small_all = [], []
        for k, pn in enumerate(self.scales):
            if pn != self.side:
                down = getattr(self, f"down{k}")
                r_small = torch.matmul(torch.matmul(down, r), down.t())
            else:
                r_small = r
            idx = self.lookup(r_small)
            h = self.code_map(idx, k)
            if keep_scales is not None:
                keep = (keep_scales > k).to(h.dtype).view(-1, 1, 1, 1)
                f_hat = f_hat + h * keep
            else:
                f_hat = f_hat + h
            r = r - h
            idx_all.append(idx)
            r_small_all.append(r_small)
        return f_hat, torch.cat(idx_all, dim=1), r_small_all

    def decode_indices(self, indices: torch.Tensor, scale_mask: torch.Tensor) -> torch.Tensor:
        """indices [B, L], scale_mask [B, N] -> f_hat [B, D, side, side] (masked sum of scales)."""
        f_hat = 0
        start = 0
        for k, pn in enumerate(self.scales):
            idx = indices[:, start:start + pn * pn]
            start += pn * pn
            f_hat = f_hat + self.code_map(idx, k) * scale_mask[:, k].view(-1, 1, 1, 1)
        return f_hat

    @torch.no_grad()
    def restart_dead_codes(self, r_small_all, threshold: float = 0.05) -> int:
        """Replace rarely used codes by random residual vectors seen in this batch."""
        dead = (self.usage < threshold).nonzero().flatten()
        if dead.numel() == 0:
            return 0
        pool = torch.cat([r.permute(0, 2, 3, 1).reshape(-1, self.code_dim) for r in r_small_all], 0)
        pick = torch.randint(0, pool.shape[0], (dead.numel(),), device=pool.device)
        self.codebook.weight.data[dead] = pool[pick] + 1e-3 * torch.randn_like(pool[pick])
        self.usage[dead] = 0.5  # grace period before it can be judged dead again
        return int(dead.numel())

    @torch.no_grad()
    def track_usage(self, indices: torch.Tensor, decay: float = 0.99):
        counts = torch.bincount(indices.flatten(), minlength=self.codebook_size).float()
        self.usage.mul_(decay).add_(counts / max(1, indices.numel()) * (1 - decay) * self.codebook_size)


def token_count(scales=SCALES) -> int:
    return sum(pn * pn for pn in scales)


assert token_count() == 286 and math.isclose(sum(SCALES), 44)
