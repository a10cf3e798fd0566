"""Folded next-scale generator (VAR style): one sequence position carries a detail and a semantic
token, both predicted from the same hidden state, so 2 x 286 tokens cost 286 positions.

Input at scale k > 0 is the cumulative f_hat of both branches after scales < k, area-downsampled
to scale k's side, through one linear layer; scale 0's single token is the class embedding. The
class embedding is also the AdaLN condition of every block and of the head.
"""
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .quantizer import SCALES, area_matrix


@dataclass
class GeneratorConfig:
    num_classes: int = 9
    width: int = 192
    depth: int = 4
    heads: int = 3
    in_dim: int = 64  # 2 branches x code dim
    vocab: int = 1024
    side: int = 11
    scales: tuple = SCALES
    label_dropout: float = 0.1

    def to_dict(self):
        d = asdict(self)
        d["scales"] = list(self.scales)
        return d


def scale_of_position(scales=SCALES) -> torch.Tensor:
    return torch.cat([torch.full((pn * pn,), k, dtype=torch.long) for k, pn in enumerate(scales)])


def block_causal_mask(scales=SCALES) -> torch.Tensor:
    """[L, L] additive mask: a token sees every token of its own and earlier scales."""
    s = scale_of_position(scales)
    return torch.where(s[None, :] <= s[:, None], 0.0, float("-inf"))


def norm(x, eps: float = 1e-6):
    """LayerNorm without affine parameters (AdaLN supplies them); torch 1.13 exports the
    parameter-free nn.LayerNorm as an invalid ONNX node, so write it out."""
    mu = x.mean(-1, keepdim=True)
    return (x - mu) * torch.rsqrt((x - mu).pow(2).mean(-1, keepdim=True) + eps)


class AdaLNBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        self.ada = nn.Linear(width, 6 * width)  # shift/scale/gate for attention and MLP
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, cond, mask=None, past_k=None, past_v=None):
        """x [B,T,W]; cond [B,W]; past_k/v [B,H,Tp,hd] or None. Returns x, k_all, v_all."""
        b, t, w = x.shape
        hd = w // self.heads
        s1, c1, g1, s2, c2, g2 = self.ada(F.silu(cond)).unsqueeze(1).chunk(6, dim=-1)
        h = norm(x) * (1 + c1) + s1
        q, k, v = self.qkv(h).view(b, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        att = torch.matmul(q, k.transpose(-1, -2)) * hd ** -0.5
        if mask is not None:
            att = att + mask
        y = torch.matmul(torch.softmax(att, dim=-1), v).transpose(1, 2).reshape(b, t, w)
        x = x + g1 * self.proj(y)
        x = x + g2 * self.mlp(norm(x) * (1 + c2) + s2)
        return x, k, v


class FoldedGenerator(nn.Module):
    def __init__(self, cfg: GeneratorConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        L = sum(pn * pn for pn in cfg.scales)
        self.class_emb = nn.Embedding(cfg.num_classes + 1, w)  # last = null class (guidance)
        self.in_proj = nn.Linear(cfg.in_dim, w)
        self.pos = nn.Parameter(torch.randn(1, L, w) * 0.02)
        self.level = nn.Parameter(torch.randn(len(cfg.scales), w) * 0.02)
        self.blocks = nn.ModuleList([AdaLNBlock(w, cfg.heads) for _ in range(cfg.depth)])
        self.head_ada = nn.Linear(w, 2 * w)
        self.head = nn.Linear(w, 2 * cfg.vocab)  # first half detail, second half semantic
        self.register_buffer("levels", scale_of_position(cfg.scales), persistent=False)
        self.register_buffer("mask", block_causal_mask(cfg.scales), persistent=False)
        for k, pn in enumerate(cfg.scales):
            self.register_buffer(f"down{k}", area_matrix(cfg.side, pn), persistent=False)

    @property
    def null_class(self):
        return self.cfg.num_classes

    def next_scale_inputs(self, f_hats):
        """f_hats[k] = cumulative f_hat [B,64,11,11] after scales 0..k -> inputs of scales 1..N-1 [B, L-1, 64]."""
        xs = []
        for k in range(1, len(self.cfg.scales)):
            d = getattr(self, f"down{k}")
            z = torch.matmul(torch.matmul(d, f_hats[k - 1]), d.t())
            xs.append(z.flatten(2).transpose(1, 2))
        return torch.cat(xs, 1)

    def embed(self, class_id, x_in, positions):
        """x_in [B,T,64] holds the inputs of `positions`; position 0's row is ignored (class token).

        A select rather than an `if`, so the exported step graph serves every scale.
        """
        cond = self.class_emb(class_id)
        first = (positions == 0).to(x_in.dtype).view(1, -1, 1)
        h = self.in_proj(x_in) * (1 - first) + cond.unsqueeze(1) * first
        return h + self.pos[0, positions].unsqueeze(0) + self.level[self.levels[positions]].unsqueeze(0), cond

    def logits(self, h, cond):
        shift, scale = self.head_ada(F.silu(cond)).unsqueeze(1).chunk(2, dim=-1)
        return self.head(norm(h) * (1 + scale) + shift)

    def forward(self, class_id, x_in):
        """Teacher-forced training pass: x_in [B, L-1, 64] (inputs of scales 1..N-1) -> logits [B, L, 2V]."""
        L = self.pos.shape[1]
        x_in = torch.cat([x_in.new_zeros(x_in.shape[0], 1, x_in.shape[2]), x_in], 1)
        h, cond = self.embed(class_id, x_in, torch.arange(L, device=x_in.device))
        for blk in self.blocks:
            h, _, _ = blk(h, cond, self.mask)
        return self.logits(h, cond)

    def step(self, class_id, x_in, positions, past_k, past_v):
        """One scale with a KV cache: past_k/v [depth, B, H, Tp, hd] -> logits, present_k/v."""
        h, cond = self.embed(class_id, x_in, positions)
        ks, vs = [], []
        for i, blk in enumerate(self.blocks):
            h, k, v = blk(h, cond, None, past_k[i], past_v[i])
            ks.append(k)
            vs.append(v)
        return self.logits(h, cond), torch.stack(ks), torch.stack(vs)
