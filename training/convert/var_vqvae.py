"""VAR's multi-scale VQ-VAE (FoundationVision/VAR, models/vqvae.py + basic_vae.py + quant.py, MIT
licence, Copyright (c) 2024 FoundationVision), re-implemented for this project with the same module
names so that `vae_ch160v4096z32.pth` loads strictly. CNN encoder/decoder of the latent-diffusion
VQ-f16 shape (ch 160, multipliers 1,1,2,2,4, 2 res blocks, self-attention at the lowest resolution),
3x3 quant_conv / post_quant_conv, one branch of 4096 x 32 codes looked up by Euclidean distance,
scales 1,2,3,4,5,6,8,10,13,16 (680 tokens), 4 Phi convs shared across scales.
"""
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from convert.msvq import MultiScaleVQ


@dataclass
class VQVAEConfig:
    image_size: int = 256
    ch: int = 160
    ch_mult: tuple = (1, 1, 2, 2, 4)
    num_res_blocks: int = 2
    codebook_size: int = 4096
    code_dim: int = 32
    scales: tuple = (1, 2, 3, 4, 5, 6, 8, 10, 13, 16)

    def to_dict(self):
        d = asdict(self)
        d["scales"], d["ch_mult"] = list(self.scales), list(self.ch_mult)
        return d


def norm(c):
    return nn.GroupNorm(32, c, eps=1e-6)


class ResnetBlock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.norm1, self.conv1 = norm(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2, self.conv2 = norm(c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.nin_shortcut = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        return self.nin_shortcut(x) + self.conv2(F.silu(self.norm2(h)))


class AttnBlock(nn.Module):
    """Single-head self-attention over the pixels of a feature map (one 1x1 conv makes q, k, v)."""

    def __init__(self, c):
        super().__init__()
        self.norm = norm(c)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        a = torch.softmax(torch.matmul(q.transpose(1, 2), k) * c ** -0.5, dim=-1)  # [B, HW(q), HW(k)]
        return x + self.proj_out(torch.matmul(v, a.transpose(1, 2)).reshape(b, c, h, w))


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # pad right and bottom only, then stride 2


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Mid(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.block_1, self.attn_1, self.block_2 = ResnetBlock(c, c), AttnBlock(c), ResnetBlock(c, c)

    def forward(self, x):
        return self.block_2(self.attn_1(self.block_1(x)))


class Level(nn.Module):
    """One resolution: res blocks (each followed by attention at the lowest resolution) and a resampler."""

    def __init__(self, blocks, attn: bool):
        super().__init__()
        self.block = nn.ModuleList(blocks)
        self.attn = nn.ModuleList([AttnBlock(b.conv2.out_channels) for b in blocks] if attn else [])

    def forward(self, h):
        for i, blk in enumerate(self.block):
            h = blk(h)
            if len(self.attn):
                h = self.attn[i](h)
        return h


class Encoder(nn.Module):
    def __init__(self, c: VQVAEConfig):
        super().__init__()
        mult, n = (1,) + tuple(c.ch_mult), len(c.ch_mult)
        self.conv_in = nn.Conv2d(3, c.ch, 3, padding=1)
        self.down = nn.ModuleList()
        for i in range(n):
            c_in, c_out = c.ch * mult[i], c.ch * mult[i + 1]
            lvl = Level([ResnetBlock(c_in if j == 0 else c_out, c_out) for j in range(c.num_res_blocks)], attn=i == n - 1)
            if i != n - 1:
                lvl.downsample = Downsample(c_out)
            self.down.append(lvl)
        top = c.ch * c.ch_mult[-1]
        self.mid = Mid(top)
        self.norm_out, self.conv_out = norm(top), nn.Conv2d(top, c.code_dim, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for lvl in self.down:
            h = lvl(h)
            if hasattr(lvl, "downsample"):
                h = lvl.downsample(h)
        return self.conv_out(F.silu(self.norm_out(self.mid(h))))


class Decoder(nn.Module):
    def __init__(self, c: VQVAEConfig):
        super().__init__()
        n, top = len(c.ch_mult), c.ch * c.ch_mult[-1]
        self.conv_in = nn.Conv2d(c.code_dim, top, 3, padding=1)
        self.mid = Mid(top)
        levels, c_in = [None] * n, top
        for i in reversed(range(n)):  # built from the lowest resolution up; stored in resolution order
            c_out = c.ch * c.ch_mult[i]
            lvl = Level([ResnetBlock(c_in if j == 0 else c_out, c_out) for j in range(c.num_res_blocks + 1)], attn=i == n - 1)
            if i != 0:
                lvl.upsample = Upsample(c_out)
            levels[i], c_in = lvl, c_out
        self.up = nn.ModuleList(levels)
        self.norm_out, self.conv_out = norm(c_in), nn.Conv2d(c_in, 3, 3, padding=1)

    def forward(self, z):
        h = self.mid(self.conv_in(z))
        for lvl in reversed(self.up):
            h = lvl(h)
            if hasattr(lvl, "upsample"):
                h = lvl.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class VARVQVAE(nn.Module):
    def __init__(self, c: VQVAEConfig):
        super().__init__()
        assert c.image_size // 2 ** (len(c.ch_mult) - 1) == c.scales[-1], "the last scale must be the latent grid side"
        self.cfg = c
        self.encoder = Encoder(c)
        self.decoder = Decoder(c)
        self.quantize = MultiScaleVQ(c.codebook_size, c.code_dim, c.scales, "euclidean")
        self.quant_conv = nn.Conv2d(c.code_dim, c.code_dim, 3, padding=1)
        self.post_quant_conv = nn.Conv2d(c.code_dim, c.code_dim, 3, padding=1)

    @property
    def num_tokens(self):
        return self.quantize.num_tokens

    def encode(self, img, with_scores: bool = False):
        """img [B, 3, S, S] in [-1, 1] -> indices [B, 1, L]."""
        out = self.quantize.encode(self.quant_conv(self.encoder(img)), with_scores)
        if with_scores:
            return out[0][:, None], [out[1]]
        return out[:, None]

    def decode(self, indices, scale_mask):
        """indices [B or 1, 1, L], scale_mask [B, 1, N] -> image [B, 3, S, S] in [-1, 1]."""
        f_hat = self.quantize.decode_indices(indices[:, 0], scale_mask[:, 0])
        return self.decoder(self.post_quant_conv(f_hat)).clamp(-1, 1)

    def random_init(self, seed: int = 0):
        """Random weights of this shape: PyTorch's default layer init (seeded), N(0, 1) codes."""
        torch.manual_seed(seed)
        for m in self.modules():
            if hasattr(m, "reset_parameters") and m is not self.quantize.embedding:
                m.reset_parameters()
        with torch.no_grad():
            self.quantize.embedding.weight.normal_()
        return self
