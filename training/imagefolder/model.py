"""ImageFolder tokenizer: ViT encoder with two sets of latent tokens, two branch quantizers
(detail = branch 0, semantic = branch 1), ViT decoder. Scaled down for CPUs, every mechanism kept.
"""
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

from .quantizer import SCALES, BranchQuantizer, area_matrix, bicubic_matrix, token_count

BRANCHES = ("detail", "semantic")


@dataclass
class TokenizerConfig:
    image_size: int = 64
    patch: int = 8
    width: int = 128
    enc_depth: int = 3
    dec_depth: int = 5
    heads: int = 2
    code_dim: int = 32
    codebook_size: int = 1024
    side: int = 11  # K: latent grid side, = last scale
    scales: tuple = SCALES
    # Spatial prior: latent queries start from the resampled patch embedding and mask tokens from
    # the resampled latent map (fixed matrices). Stands in for DINOv2 initialisation; see README.
    spatial_prior: bool = False

    def to_dict(self):
        d = asdict(self)
        d["scales"] = list(self.scales)
        return d


class Attention(nn.Module):
    """Plain matmul attention: nn.MultiheadAttention's fused eval path does not export cleanly."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x, queries: int = None):
        """queries: only the first `queries` tokens attend (all tokens are still keys and values)."""
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        if queries is not None:
            q, n = q[:, :, :queries], queries
        a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (c // self.heads) ** -0.5, dim=-1)
        return self.out(torch.matmul(a, v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x, queries: int = None):
        """queries: return only the first `queries` tokens, computing nothing else that they do not need."""
        h = self.attn(self.ln1(x), queries)
        x = (x if queries is None else x[:, :queries]) + h
        return x + self.mlp(self.ln2(x))


def sincos_2d(side: int, dim: int) -> torch.Tensor:
    """Fixed 2-D sin-cos table [side*side, dim]; the learned embeddings start from it."""
    y, x = torch.meshgrid(torch.arange(side, dtype=torch.float32), torch.arange(side, dtype=torch.float32), indexing="ij")
    q = dim // 4
    omega = 1.0 / (10000 ** (torch.arange(q, dtype=torch.float32) / q))
    out = []
    for c in (y.flatten(), x.flatten()):
        a = c[:, None] * omega[None] * (11.0 / side)
        out += [torch.sin(a), torch.cos(a)]
    return torch.cat(out, 1)


class Encoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        self.cfg = cfg
        g = cfg.image_size // cfg.patch
        self.patch_embed = nn.Conv2d(3, cfg.width, cfg.patch, stride=cfg.patch)
        self.pos_image = nn.Parameter(sincos_2d(g, cfg.width).unsqueeze(0) * 0.5)
        # Both latent sets share one spatial embedding; the level embedding tells them apart.
        self.pos_latent = nn.Parameter(sincos_2d(cfg.side, cfg.width).unsqueeze(0) * 0.5)
        self.latents = nn.Parameter(torch.randn(2, cfg.side * cfg.side, cfg.width) * 0.02)
        self.level = nn.Parameter(torch.randn(3, cfg.width) * 0.02)  # 0 image, 1 detail, 2 semantic
        self.blocks = nn.Sequential(*[Block(cfg.width, cfg.heads) for _ in range(cfg.enc_depth)])
        self.norm = nn.LayerNorm(cfg.width)
        self.proj = nn.Linear(cfg.width, cfg.code_dim)  # the 1x1 projection to the code dimension

        if cfg.spatial_prior:
            self.register_buffer("up", bicubic_matrix(g, cfg.side), persistent=False)

    def forward(self, img):
        b = img.shape[0]
        n = self.cfg.side * self.cfg.side
        p = self.patch_embed(img)
        x = p.flatten(2).transpose(1, 2) + self.pos_image + self.level[0]
        prior = 0
        if self.cfg.spatial_prior:
            prior = torch.matmul(torch.matmul(self.up, p), self.up.t()).flatten(2).transpose(1, 2)
        lat = [self.latents[i].unsqueeze(0).expand(b, -1, -1) + self.pos_latent + self.level[i + 1] + prior for i in range(2)]
        x = torch.cat([x] + lat, dim=1)
        x = self.norm(self.blocks(x))[:, -2 * n:]
        z = self.proj(x)  # [B, 2n, D]
        # split on the token axis: first n tokens -> detail, next n -> semantic
        s = self.cfg.side
        return [z[:, i * n:(i + 1) * n].transpose(1, 2).reshape(b, self.cfg.code_dim, s, s) for i in range(2)]


class Decoder(nn.Module):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        self.cfg = cfg
        g = cfg.image_size // cfg.patch
        self.grid = g
        self.mask_tokens = nn.Parameter(torch.randn(1, g * g, cfg.width) * 0.02)
        self.pos_image = nn.Parameter(sincos_2d(g, cfg.width).unsqueeze(0) * 0.5)
        self.pos_latent = nn.Parameter(sincos_2d(cfg.side, cfg.width).unsqueeze(0) * 0.5)
        self.level = nn.Parameter(torch.randn(2, cfg.width) * 0.02)
        self.in_proj = nn.Conv2d(2 * cfg.code_dim, cfg.width, 1)  # both branches' f_hat, concatenated
        self.blocks = nn.Sequential(*[Block(cfg.width, cfg.heads) for _ in range(cfg.dec_depth)])
        self.norm = nn.LayerNorm(cfg.width)
        self.head = nn.Linear(cfg.width, cfg.patch * cfg.patch * 3)
        if cfg.spatial_prior:
            self.register_buffer("down", area_matrix(cfg.side, g), persistent=False)

    def forward(self, f_hat_detail, f_hat_semantic):
        b = f_hat_detail.shape[0]
        z = self.in_proj(torch.cat([f_hat_detail, f_hat_semantic], 1))
        lat = z.flatten(2).transpose(1, 2) + self.pos_latent + self.level[1]
        m = self.mask_tokens.expand(b, -1, -1) + self.pos_image + self.level[0]
        if self.cfg.spatial_prior:
            m = m + torch.matmul(torch.matmul(self.down, z), self.down.t()).flatten(2).transpose(1, 2)
        x = torch.cat([m, lat], 1)
        # Only the image tokens reach the output: the last block computes just their rows
        # (64 of 185 tokens: a tenth of the decoder's work at inspection time).
        x = self.blocks[:-1](x)
        x = self.norm(self.blocks[-1](x, queries=self.grid * self.grid))
        p, g = self.cfg.patch, self.grid
        x = self.head(x).view(b, g, g, 3, p, p).permute(0, 3, 1, 4, 2, 5).reshape(b, 3, g * p, g * p)
        return x


class ImageFolderTokenizer(nn.Module):
    def __init__(self, cfg: TokenizerConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.quantizers = nn.ModuleList([BranchQuantizer(cfg.codebook_size, cfg.code_dim, cfg.side, cfg.scales) for _ in BRANCHES])
        self.decoder = Decoder(cfg)

    @property
    def num_tokens(self):
        return token_count(self.cfg.scales)

    def forward(self, img, keep_scales=None, branch_keep=None):
        """Training forward: returns recon, per-branch f and f_hat (straight-through), indices, residuals.
        branch_keep [B, P] of 0/1 (optional) zeroes a branch's f_hat for the decoder, exactly what a
        branch's row of zeros in a decode's scale_mask does (branch dropout, train.py --detail-dropout)."""
        fs = self.encoder(img)
        f_hats, idxs, rsm = [], [], []
        for q, f in zip(self.quantizers, fs):
            f_hat, idx, r_small = q(f, keep_scales)
            f_hats.append(f_hat)
            idxs.append(idx)
            rsm.append(r_small)
        # straight-through: decoder sees f_hat's value, gradients flow to f
        st = [f + (fh - f).detach() for f, fh in zip(fs, f_hats)]
        if branch_keep is not None:
            st = [s * branch_keep[:, p, None, None, None] for p, s in enumerate(st)]
        recon = self.decoder(*st)
        return recon, fs, f_hats, idxs, rsm

    @torch.no_grad()
    def encode(self, img):
        """img [B,3,S,S] in [-1,1] -> indices [B, P, L]."""
        fs = self.encoder(img)
        return torch.stack([q(f)[1] for q, f in zip(self.quantizers, fs)], 1)

    def f_hat_from_indices(self, indices, scale_mask):
        return [q.decode_indices(indices[:, p], scale_mask[:, p]) for p, q in enumerate(self.quantizers)]

    def decode(self, indices, scale_mask):
        """indices [B,P,L] int64, scale_mask [B,P,N] float -> image [B,3,S,S] in [-1,1]."""
        return self.decoder(*self.f_hat_from_indices(indices, scale_mask)).clamp(-1, 1)


class Teacher(nn.Module):
    """Small CNN classifier standing in for DINOv2 (no weights can be downloaded here).

    Trained first on the data's category labels, then frozen. Its pooled feature is the semantic
    target; its intermediate feature maps give the perceptual loss (LPIPS weights are unavailable).
    """

    def __init__(self, num_classes: int, feat_dim: int = 192):
        super().__init__()
        chans = (32, 64, 128, feat_dim)
        layers, c_in = [], 3
        self.stages = nn.ModuleList()
        for c in chans:
            self.stages.append(nn.Sequential(
                nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                nn.AvgPool2d(2)))
            c_in = c
        self.head = nn.Linear(feat_dim, num_classes)
        self.feat_dim = feat_dim

    def features(self, img):
        feats, x = [], img
        for s in self.stages:
            x = s(x)
            feats.append(x)
        return feats, x.mean(dim=(2, 3))

    @staticmethod
    def all_stages_pooled(feats):
        """Every stage's map of features() pooled and concatenated: the judge's input and the
        semantic loss's "all-stages" target."""
        return torch.cat([f.mean(dim=(2, 3)) for f in feats], 1)

    def forward(self, img):
        return self.head(self.features(img)[1])
