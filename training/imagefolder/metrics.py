"""Image quality and code statistics with the extension's definitions (src/extension/core/metrics.ts),
so eval.md and the panel report the same numbers for the same image: reconstructions are first
rounded to the 8-bit pixels the panel shows (image.ts fromTensor), then compared with the 8-bit
input, in float64."""
import math

import numpy as np
import torch
import torch.nn.functional as F

PSNR_CAP = 100.0  # metrics.ts PSNR_CAP: identical images (JSON has no Infinity)
K1, K2, PEAK = 0.01, 0.03, 255.0


def to_bytes(x: torch.Tensor) -> torch.Tensor:
    """Model-range images [B,3,H,W] (mean 0.5, std 0.5) -> uint8 [B,H,W,3] as image.ts fromTensor:
    (x * 0.5 + 0.5) * 255 in float64, clamped, rounded half up."""
    v = (x.double() * 0.5 + 0.5) * 255
    return torch.floor(v + 0.5).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


def gaussian(size: int, sigma: float = 1.5) -> torch.Tensor:
    c = (size - 1) / 2
    g = torch.tensor([math.exp(-((i - c) ** 2) / (2 * sigma * sigma)) for i in range(size)], dtype=torch.float64)
    return g / g.sum()


def psnr_ssim(ref: torch.Tensor, imgs: torch.Tensor, dtype=torch.float64, with_ssim: bool = True):
    """ref [H,W,C] or [K,H,W,C] uint8 (broadcast against imgs), imgs [K,H,W,C] uint8 -> per-image
    PSNR and SSIM [K] as metrics.ts: PSNR over all bytes, capped at 100; SSIM (Wang et al. 2004)
    with an 11x11 Gaussian window (sigma 1.5; as large as the image when it is smaller), K1 0.01,
    K2 0.03, L 255, over the valid region, per channel, averaged over channels. with_ssim=False
    returns NaN for SSIM (quick experiment evaluations: SSIM is most of the cost)."""
    y = imgs.permute(0, 3, 1, 2).to(dtype)
    x = (ref if ref.dim() == 4 else ref[None]).permute(0, 3, 1, 2).to(dtype).expand_as(y)
    n = x[0].numel()
    se = (x - y).pow(2).sum(dim=(1, 2, 3))
    psnr = torch.where(se == 0, torch.full_like(se, PSNR_CAP),
                       (10 * torch.log10(PEAK ** 2 * n / se.clamp_min(1e-300))).clamp(max=PSNR_CAP))
    if not with_ssim:
        return psnr, torch.full_like(psnr, float("nan"))
    C, H, W = y.shape[1:]
    win = min(11, H, W)
    g = gaussian(win).to(dtype)
    gh, gv = g.view(1, 1, 1, win).repeat(C, 1, 1, 1), g.view(1, 1, win, 1).repeat(C, 1, 1, 1)

    def filt(t):  # separable, valid region, one filter per channel
        return F.conv2d(F.conv2d(t, gh, groups=C), gv, groups=C)

    mx, my = filt(x), filt(y)
    vx, vy, cxy = filt(x * x) - mx * mx, filt(y * y) - my * my, filt(x * y) - mx * my
    c1, c2 = (K1 * PEAK) ** 2, (K2 * PEAK) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return psnr, s.mean(dim=(2, 3)).mean(dim=1)


def perplexity(hist) -> float:
    """exp(entropy) in nats of a count histogram: the effective number of codes in use (0 when empty)."""
    hist = np.asarray(hist, np.float64)
    if hist.sum() == 0:
        return 0.0
    p = hist[hist > 0] / hist.sum()
    return float(math.exp(-(p * np.log(p)).sum()))


def frechet(a, b):
    """Frechet distance of Gaussians fitted to feature sets a [N, D], b [M, D] (float64).
    tr sqrt(Sa Sb) = tr sqrt(Sa^1/2 Sb Sa^1/2), a symmetric PSD matrix: two eigendecompositions."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    sa, sb = torch.cov(a.T), torch.cov(b.T)
    w, v = torch.linalg.eigh(sa)
    root_a = (v * w.clamp_min(0).sqrt()) @ v.T
    cross = torch.linalg.eigvalsh(root_a @ sb @ root_a).clamp_min(0).sqrt().sum()
    return float((mu_a - mu_b).pow(2).sum() + sa.trace() + sb.trace() - 2 * cross)
