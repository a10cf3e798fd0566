"""The ImageFolder authors' tokenizer architecture, written for this project so that their checkpoint
(e.g. configs/MSVR10P2-4096.yaml: DINOv2-initialised ViT-B encoder and decoder, 256 px, 16 px patches,
2 branches of 4096 x 32 codes, scales 1,1,2,3,3,4,5,6,8,11) loads strictly into it.

Only parameter names and shapes were taken from their code (noncommercial licence; no code copied);
the computation follows the paper. Checked once against the authors' modules (timm, random weights):
the same 378 keys at the official shape, identical indices and images (docs/model-format.md). Key layout:

  encoder.model.{cls_token, pos_embed, patch_embed.proj, blocks.i.*, norm}   timm-style ViT
  encoder.{latent_tokens [1, P*K*K, W], lvl_embed.weight [1+P, W], lvl1LC}  latent sets, level embedding
  quant_conv [D, W, 1, 1]       the 1x1 projection of every latent to the code dimension
  quantizes.p.*                  one multi-scale quantizer per branch (msvq.py)
  post_quant_conv [W, P*D, 1, 1] both branches' f_hat, concatenated, to the decoder width
  decoder.model.{cls_token, pos_embed, blocks.i.*, norm}, decoder.{mask_token, lvl_embed, lvl1LC}
  decoder.to_pixel.model [p*p*3, W]  token -> patch, channels fastest

Training-only parts of their checkpoints (the DINOv2 teacher `semantic_model.*`, a detail teacher
`detail_model.*`, the teacher projection `sem_linear.*`) are not part of the tokenizer:
checkpoint.py drops them by that rule and says how many it dropped.
"""
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from convert.msvq import MultiScaleVQ

BRANCH_ROLES = ("detail", "semantic")  # branch 0 = detail, 1 = semantic (the regularised one)


@dataclass
class ViTTokenizerConfig:
    image_size: int = 256
    patch: int = 16
    width: int = 768
    depth: int = 12
    heads: int = 12
    codebook_size: int = 4096
    code_dim: int = 32
    branches: int = 2
    scales: tuple = (1, 1, 2, 3, 3, 4, 5, 6, 8, 11)

    def to_dict(self):
        d = asdict(self)
        d["scales"] = list(self.scales)
        return d


def antialiased_bicubic_matrix(src: int, dst: int) -> torch.Tensor:
    """[dst, src] matrix equal to F.interpolate(mode='bicubic', antialias=True) along one axis: how a
    ViT's position-embedding grid is resampled to the latent grid. Antialiased resizing does not export
    to ONNX, and this separable matrix gives the same numbers."""
    eye = torch.eye(src).view(src, 1, src, 1)
    out = F.interpolate(eye, size=(dst, 1), mode="bicubic", align_corners=False, antialias=True)
    return out.view(src, dst).t().contiguous()


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x, rows: slice = None):
        """rows: compute the output of these query rows only (all tokens stay keys and values)."""
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        if rows is not None:
            q = q[:, :, rows]
        a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (c // self.heads) ** -0.5, dim=-1)
        return self.proj(torch.matmul(a, v).transpose(1, 2).reshape(b, q.shape[2], c))


class LayerScale(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((width,), 1e-5))  # DINOv2's init value

    def forward(self, x):
        return x * self.gamma


class Mlp(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm ViT block with layer scale (DINOv2); LayerNorm eps 1e-6."""

    def __init__(self, width, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=1e-6)
        self.attn = Attention(width, heads)
        self.ls1 = LayerScale(width)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.mlp = Mlp(width)
        self.ls2 = LayerScale(width)

    def forward(self, x, rows: slice = None):
        h = self.attn(self.norm1(x), rows)
        x = (x if rows is None else x[:, rows]) + self.ls1(h)
        return x + self.ls2(self.mlp(self.norm2(x)))


class PatchEmbed(nn.Module):
    def __init__(self, patch, width):
        super().__init__()
        self.proj = nn.Conv2d(3, width, patch, stride=patch)


class Backbone(nn.Module):
    """The ViT inside each side (`*.model.*` keys). The decoder's has no patch embedding."""

    def __init__(self, c: ViTTokenizerConfig, patch_embed: bool):
        super().__init__()
        g = c.image_size // c.patch
        self.cls_token = nn.Parameter(torch.zeros(1, 1, c.width))
        self.pos_embed = nn.Parameter(torch.randn(1, g * g + 1, c.width) * 0.02)
        if patch_embed:
            self.patch_embed = PatchEmbed(c.patch, c.width)
        self.blocks = nn.Sequential(*[Block(c.width, c.heads) for _ in range(c.depth)])
        self.norm = nn.LayerNorm(c.width, eps=1e-6)


def level_layout(image_tokens: int, counts) -> torch.Tensor:
    """[1, T] level id of every token: 0 for the image tokens (with CLS), then 1, 2, ... per set."""
    return torch.cat([torch.zeros(image_tokens, dtype=torch.long)] +
                     [torch.full((n,), i + 1, dtype=torch.long) for i, n in enumerate(counts)]).view(1, -1)


class ViTEncoder(nn.Module):
    def __init__(self, c: ViTTokenizerConfig):
        super().__init__()
        self.c, g, k = c, c.image_size // c.patch, c.scales[-1]
        self.model = Backbone(c, patch_embed=True)
        self.latent_tokens = nn.Parameter(torch.randn(1, c.branches * k * k, c.width) * 1e-6)
        self.lvl_embed = nn.Embedding(1 + c.branches, c.width)
        self.register_buffer("lvl1LC", level_layout(g * g + 1, [k * k] * c.branches))
        self.register_buffer("resample", antialiased_bicubic_matrix(g, k), persistent=False)

    def latent_pos(self, pos_embed):
        """The image position embedding (without CLS) resampled to the K x K latent grid: [1, K*K, W]."""
        g, k, w = self.c.image_size // self.c.patch, self.c.scales[-1], self.c.width
        grid = pos_embed[:, 1:].reshape(1, g, g, w).permute(0, 3, 1, 2)
        return torch.matmul(torch.matmul(self.resample, grid), self.resample.t()).flatten(2).transpose(1, 2)

    def forward(self, img):
        """img [B, 3, S, S] -> the latent outputs [B, P*K*K, W] (branch p = rows p*K*K ... )."""
        m, b = self.model, img.shape[0]
        x = m.patch_embed.proj(img).flatten(2).transpose(1, 2)
        x = torch.cat([m.cls_token.expand(b, -1, -1), x], 1) + m.pos_embed
        # every latent set gets the same spatial embedding; the level embedding tells the sets apart
        z = self.latent_tokens.expand(b, -1, -1) + self.latent_pos(m.pos_embed).repeat(1, self.c.branches, 1)
        x = torch.cat([x, z], 1) + self.lvl_embed.weight[self.lvl1LC[0]]
        x = m.norm(m.blocks(x))
        return x[:, -self.latent_tokens.shape[1]:]


class ViTDecoder(nn.Module):
    def __init__(self, c: ViTTokenizerConfig):
        super().__init__()
        self.c, g, k = c, c.image_size // c.patch, c.scales[-1]
        self.model = Backbone(c, patch_embed=False)
        self.mask_token = nn.Parameter(torch.randn(1, 1, c.width) * 1e-6)
        self.lvl_embed = nn.Embedding(2, c.width)
        self.register_buffer("lvl1LC", level_layout(g * g + 1, [k * k + 1]))
        self.to_pixel = nn.Module()
        self.to_pixel.model = nn.Linear(c.width, c.patch * c.patch * 3)
        self.register_buffer("resample", antialiased_bicubic_matrix(g, k), persistent=False)

    def forward(self, z):
        """z [B, K*K, W] (latents, row-major) -> image [B, 3, S, S] (not clamped)."""
        m, b, g, p = self.model, z.shape[0], self.c.image_size // self.c.patch, self.c.patch
        cls = m.cls_token.expand(b, -1, -1)
        x = torch.cat([cls, self.mask_token.expand(b, g * g, -1)], 1) + m.pos_embed
        grid = m.pos_embed[:, 1:].reshape(1, g, g, -1).permute(0, 3, 1, 2)
        lat_pos = torch.matmul(torch.matmul(self.resample, grid), self.resample.t()).flatten(2).transpose(1, 2)
        # the latent set carries its own CLS token (with CLS's position embedding), like the image set
        z = torch.cat([cls, z], 1) + torch.cat([m.pos_embed[:, :1], lat_pos], 1)
        x = torch.cat([x, z], 1) + self.lvl_embed.weight[self.lvl1LC[0]]
        # only the image tokens reach the output: the last block computes just their rows
        x = m.blocks[:-1](x)
        x = m.norm(m.blocks[-1](x, rows=slice(1, g * g + 1)))
        x = self.to_pixel.model(x).view(b, g, g, p, p, 3)  # per token: (row, column, channel) in the patch
        return x.permute(0, 5, 1, 3, 2, 4).reshape(b, 3, g * p, g * p)


class ImageFolderViT(nn.Module):
    def __init__(self, c: ViTTokenizerConfig):
        super().__init__()
        assert c.width % c.heads == 0 and c.image_size % c.patch == 0, c
        self.cfg = c
        self.encoder = ViTEncoder(c)
        self.quant_conv = nn.Conv2d(c.width, c.code_dim, 1)
        self.quantizes = nn.ModuleList([MultiScaleVQ(c.codebook_size, c.code_dim, c.scales, "cosine") for _ in range(c.branches)])
        self.post_quant_conv = nn.Conv2d(c.branches * c.code_dim, c.width, 1)
        self.decoder = ViTDecoder(c)

    @property
    def num_tokens(self):
        return self.quantizes[0].num_tokens

    def branch_maps(self, img):
        """img -> per branch the K x K code-dimension map [B, D, K, K] (latent t -> row t // K, column t % K)."""
        k, n = self.cfg.scales[-1], self.cfg.scales[-1] ** 2
        h = self.encoder(img)
        f = F.linear(h, self.quant_conv.weight.flatten(1), self.quant_conv.bias)  # the 1x1 conv, per token
        b = f.shape[0]
        return [f[:, i * n:(i + 1) * n].transpose(1, 2).reshape(b, self.cfg.code_dim, k, k) for i in range(self.cfg.branches)]

    def encode(self, img, with_scores: bool = False):
        """img [B, 3, S, S] in [-1, 1] -> indices [B, P, L] (and per branch the scores of every scale)."""
        out = [q.encode(f, with_scores) for q, f in zip(self.quantizes, self.branch_maps(img))]
        if with_scores:
            return torch.stack([o[0] for o in out], 1), [o[1] for o in out]
        return torch.stack(out, 1)

    def decode(self, indices, scale_mask):
        """indices [B or 1, P, L], scale_mask [B, P, N] -> image [B, 3, S, S] in [-1, 1]."""
        f_hat = torch.cat([q.decode_indices(indices[:, i], scale_mask[:, i]) for i, q in enumerate(self.quantizes)], 1)
        z = self.post_quant_conv(f_hat).flatten(2).transpose(1, 2)
        return self.decoder(z).clamp(-1, 1)

    def random_init(self, seed: int = 0):
        """Random weights of this shape, for testing the whole path without a checkpoint: ViT layers
        N(0, 0.02), unit-norm codes (their init). Layer scales are 0.5, not DINOv2's starting 1e-5:
        with 1e-5 the decoder's image barely depends on the tokens, and every view would look alike."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("gamma"):
                    p.fill_(0.5)
                elif p.dim() == 1 and ("norm" in name):
                    p.fill_(1.0 if name.endswith("weight") else 0.0)
                elif p.dim() == 1:
                    p.zero_()
                else:
                    p.copy_(torch.randn(p.shape, generator=g) * 0.02)
            for q in self.quantizes:
                q.embedding.weight.copy_(F.normalize(torch.randn(q.embedding.weight.shape, generator=g), dim=-1))
        return self
