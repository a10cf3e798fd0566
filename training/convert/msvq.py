"""Multi-scale residual vector quantizer (one branch), laid out like the `VectorQuantizer2` of
VAR (FoundationVision/VAR, MIT) and of the ImageFolder authors' code, so that their state dicts load
strictly: `embedding.weight` [V, D], `quant_resi.qresi_ls.{k}.weight/bias` (the shared Phi convs) and
the training statistic `ema_vocab_hit_SV` [N, V]. Written for this project from the VAR paper and
those parameter names; the lookup and resampling follow their published behaviour.

Resampling is a fixed matrix (as in training/imagefolder/quantizer.py) so the exported graph matches
PyTorch exactly: area downsampling to every scale but the last, bicubic upsampling back.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from imagefolder.quantizer import area_matrix, bicubic_matrix


def phi_of_scale(num_scales: int, num_phi: int) -> tuple:
    """Which shared Phi conv each scale uses. Scale k sits at k / (N - 1) on [0, 1]; the Phi convs sit
    at evenly spaced ticks (inset by 1/(3K) when K = 4, else by 1/(2K)); the nearest tick wins, the
    first on a tie. This is VAR's rule; for N = 10, K = 4 it gives 0,0,1,1,1,2,2,3,3,3."""
    k = num_phi
    inset = 1 / 3 / k if k == 4 else 1 / 2 / k
    ticks = np.linspace(inset, 1 - inset, k)
    at = [s / (num_scales - 1) if num_scales > 1 else 0.0 for s in range(num_scales)]
    return tuple(int(np.argmin(np.abs(ticks - a))) for a in at)


class Phi(nn.Conv2d):
    """Phi(h) = (1 - r) h + r conv3x3(h), r = 0.5. A Conv2d itself, so its keys are `weight` and `bias`."""

    def __init__(self, dim: int, ratio: float = 0.5):
        super().__init__(dim, dim, 3, padding=1)
        self.ratio = ratio

    def forward(self, h):
        return h * (1 - self.ratio) + super().forward(h) * self.ratio


class SharedPhis(nn.Module):
    def __init__(self, dim: int, count: int):
        super().__init__()
        self.qresi_ls = nn.ModuleList([Phi(dim) for _ in range(count)])


class MultiScaleVQ(nn.Module):
    """lookup: "cosine" (ImageFolder: argmax of normalised dot products) or "euclidean" (VAR: argmin
    of squared distances). side: the latent grid side, = scales[-1]."""

    def __init__(self, codebook_size: int, dim: int, scales, lookup: str, num_phi: int = 4):
        super().__init__()
        assert lookup in ("cosine", "euclidean"), lookup
        self.scales, self.side, self.dim, self.lookup_kind = tuple(scales), scales[-1], dim, lookup
        self.embedding = nn.Embedding(codebook_size, dim)
        self.quant_resi = SharedPhis(dim, num_phi)
        self.phi_index = phi_of_scale(len(self.scales), num_phi)
        # a training statistic of the authors' code: kept only so that their state dict loads strictly
        self.register_buffer("ema_vocab_hit_SV", torch.zeros(len(self.scales), codebook_size))
        for k, pn in enumerate(self.scales):
            self.register_buffer(f"down{k}", area_matrix(self.side, pn), persistent=False)
            self.register_buffer(f"up{k}", bicubic_matrix(pn, self.side), persistent=False)

    @property
    def num_tokens(self) -> int:
        return sum(pn * pn for pn in self.scales)

    def scores(self, r_small):
        """r_small [B, D, pn, pn] -> [B, pn*pn, V], larger = nearer (row-major positions)."""
        b, d, h, w = r_small.shape
        z = r_small.permute(0, 2, 3, 1).reshape(b, h * w, d)
        e = self.embedding.weight
        if self.lookup_kind == "cosine":
            return torch.matmul(F.normalize(z, dim=-1), F.normalize(e, dim=-1).t())
        # -(|z|^2 + |e|^2 - 2 z.e); |z|^2 is the same for every code, so it is left out
        return 2 * torch.matmul(z, e.t()) - (e * e).sum(-1)

    def code_map(self, idx, k: int):
        """indices [B, pn*pn] of scale k -> that scale's contribution [B, D, side, side]."""
        pn, b = self.scales[k], idx.shape[0]
        z = self.embedding(idx).view(b, pn, pn, self.dim).permute(0, 3, 1, 2)
        if pn != self.side:
            up = getattr(self, f"up{k}")
            z = torch.matmul(torch.matmul(up, z), up.t())
        return self.quant_resi.qresi_ls[self.phi_index[k]](z)

    def encode(self, f, with_scores: bool = False):
        """f [B, D, side, side] -> indices [B, L] (and, for parity checks, each scale's scores)."""
        r, idx_all, score_all = f, [], []
        for k, pn in enumerate(self.scales):
            down = getattr(self, f"down{k}")
            r_small = r if pn == self.side else torch.matmul(torch.matmul(down, r), down.t())
            s = self.scores(r_small)
            idx = s.argmax(dim=-1)
            r = r - self.code_map(idx, k)
            idx_all.append(idx)
            score_all.append(s)
        idx = torch.cat(idx_all, dim=1)
        return (idx, score_all) if with_scores else idx

    def decode_indices(self, indices, scale_mask):
        """indices [B or 1, L], scale_mask [B, N] -> f_hat [B, D, side, side]. Indices of batch 1 are
        shared by all mask rows: each scale's code map is computed once and scaled by its mask column."""
        f_hat, start = 0, 0
        for k, pn in enumerate(self.scales):
            f_hat = f_hat + self.code_map(indices[:, start:start + pn * pn], k) * scale_mask[:, k].view(-1, 1, 1, 1)
            start += pn * pn
        return f_hat
