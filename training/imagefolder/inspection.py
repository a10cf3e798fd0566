"""The extension's full inspection (src/extension/core/inspect.ts) written the way a PyTorch user
would, for `npm run bench` (training/bench_torch.py): the same work on the same image files, so the
TypeScript pipeline is compared with PyTorch doing everything the panel shows, not only the model.

Per image: read the file, composite on white, centre-crop, Lanczos resize to the model size,
normalise; encode; decode 2N+1 tiles (N progressive reconstructions, the N-1 single-scale
contributions beyond scale 0 as contribution 0 is progressive 0, the two branch ablations); tiles to
bytes; 22 PNGs (input and 21 tiles: rows unfiltered, zlib level 6, base64, as src/extension/core/png.ts);
PSNR and SSIM (imagefolder/metrics.py: the panel's definitions) of the N progressive tiles and the
two ablations against the input; token maps; code usage per branch (histogram, per-scale counts, used
codes, perplexity). Code colours are computed once per model on both sides and are not timed.
"""
import base64
import struct
import zlib

import numpy as np
import torch
from PIL import Image, ImageOps

from imagefolder.metrics import perplexity, psnr_ssim, to_bytes


def load_image(path, size):
    """File -> [size, size, 3] uint8: EXIF orientation, white behind transparency, centre crop, Lanczos."""
    im = ImageOps.exif_transpose(Image.open(path))
    if im.mode in ("RGBA", "LA", "P", "PA"):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im)
    im = ImageOps.fit(im.convert("RGB"), (size, size), method=Image.LANCZOS, centering=(0.5, 0.5))
    return np.array(im, dtype=np.uint8)


def decode_plan(P, N, detail, semantic):
    """[2N+1, P, N] masks in inspect.ts's order: progressive, contributions 1..N-1, semantic only, detail only."""
    m = torch.zeros(2 * N + 1, P, N)
    for k in range(N):
        m[k, :, :k + 1] = 1
    for k in range(1, N):
        m[N + k - 1, :, k] = 1
    m[2 * N - 1, semantic] = 1
    m[2 * N, detail] = 1
    return m


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_base64(rgb):
    h, w, _ = rgb.shape
    raw = np.zeros((h, w * 3 + 1), np.uint8)
    raw[:, 1:] = rgb.reshape(h, w * 3)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + _chunk(b"IEND", b"")
    return base64.b64encode(png).decode("ascii")


def usage(idx, scales, V):
    """One branch's code usage: histogram, per-scale (code, count) pairs, used codes, perplexity."""
    hist = np.bincount(idx, minlength=V)
    per_scale, t = [], 0
    for pn in scales:
        codes, counts = np.unique(idx[t:t + pn * pn], return_counts=True)
        per_scale.append(list(zip(codes.tolist(), counts.tolist())))
        t += pn * pn
    return {"histogram": hist.tolist(), "perScale": per_scale, "used": int((hist > 0).sum()),
            "utilisation": float((hist > 0).mean()), "perplexity": perplexity(hist)}


def token_maps(idx, scales):
    out, t = [], 0
    for pn in scales:
        out.append(idx[t:t + pn * pn].tolist())
        t += pn * pn
    return out


@torch.no_grad()
def inspect_full(model, files, plan, tiles_per_run=None):
    """Everything the panel shows for each file: one encoder run, then per image the decoder on
    all its tiles at once (PyTorch's fastest here: its per-call overhead makes inspect.ts's runs of
    7 tiles slower for it), or tiles_per_run at a time. Like the extension, one image's tiles share
    its indices (batch 1 against the masks), so its code maps are computed once per call."""
    s = model.cfg.image_size
    scales = list(model.cfg.scales)
    N, T, V = len(scales), plan.shape[0], model.cfg.codebook_size
    rgb = [load_image(f, s) for f in files]
    x = torch.from_numpy(np.stack(rgb)).permute(0, 3, 1, 2).float().div(255).sub(0.5).div(0.5)
    idx = model.encode(x)
    step = tiles_per_run or T
    out = torch.cat([model.decode(idx[b:b + 1], plan[i:i + step]) for b in range(len(files)) for i in range(0, T, step)])
    tiles = to_bytes(out).numpy()
    results = []
    for b, f in enumerate(files):
        t = tiles[b * T:(b + 1) * T]
        pngs = [png_base64(tile) for tile in t]
        ps, ss = psnr_ssim(torch.from_numpy(rgb[b]), torch.from_numpy(np.concatenate([t[:N], t[2 * N - 1:]])))
        q = (ps.tolist(), ss.tolist())
        ib = idx[b].numpy()
        results.append({"image": str(f), "input": png_base64(rgb[b]), "tiles": pngs, "psnrSsim": q,
                        "tokenMaps": [token_maps(row, scales) for row in ib],
                        "usage": [usage(row, scales, V) for row in ib]})
    return results
