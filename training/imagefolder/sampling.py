"""Class-conditional sampling with the folded generator, in PyTorch, by the host's rules
(src/extension/core/generate/: sampling.ts, rng.ts, generate.ts), so a report or a timing made
here describes what the extension does:

- guidance with the linear ramp t = cfg * k / (N - 1): logits = ((1 + t) cond - t uncond) / temperature;
- top-k is VAR's rule (drop logits below the k-th largest, so ties at the threshold stay);
- top-p keeps token j when the mass of the tokens strictly more likely than j is < top_p, and
  always the most likely token(s);
- the inverse-CDF draw, with sample i of seed s using its own xoshiro128** stream, both branches
  of a position drawn in turn (detail, then semantic), positions in order.

Rows are batched ([..., V]); training/tests/sampling_reference.py writes the host's test fixture
with these same functions, one row at a time.
"""
import torch

# The package's default sampling settings (manifest "generator.defaults", the host's names).
DEFAULTS = {"cfg": 7.0, "topK": 300, "topP": 0.95, "temperature": 1.0}

MASK64 = (1 << 64) - 1
STREAM_STRIDE = 0xD1B54A32D192ED03


def guidance_weight(cfg: float, scale: int, scales: int) -> float:
    return cfg * scale / (scales - 1) if scales > 1 else 0.0


def guided(cond, uncond, scale, scales, cfg, temperature):
    """cond, uncond [..., V] -> tempered, guided logits and the guidance weight t."""
    t = guidance_weight(cfg, scale, scales)
    logits = cond.clone() if t == 0 else (1 + t) * cond - t * uncond
    return logits / temperature, t


def filtered_probs(logits, top_k: int, top_p: float):
    """logits [..., V] -> probabilities after top-k (ties kept) then top-p (most likely kept)."""
    v = logits.shape[-1]
    l = logits.clone()
    if 0 < top_k < v:
        thr = torch.topk(l, top_k, dim=-1).values[..., -1:]
        l = l.masked_fill(l < thr, float("-inf"))
    if top_p < 1:
        p = torch.softmax(l, -1)
        ps, order = torch.sort(p, dim=-1, descending=True)
        before = torch.cumsum(ps, -1) - ps  # mass ahead in sorted order
        # equal probabilities count as one group: each takes the mass ahead of the group's first
        pos = torch.arange(v, device=l.device).expand_as(ps)
        first = torch.ones_like(ps, dtype=torch.bool)
        first[..., 1:] = ps[..., 1:] != ps[..., :-1]
        start = torch.cummax(torch.where(first, pos, torch.zeros_like(pos)), -1).values
        above = torch.gather(before, -1, start)
        keep_sorted = (above < top_p) | (ps == ps[..., :1])
        keep = torch.empty_like(keep_sorted).scatter_(-1, order, keep_sorted)
        l = l.masked_fill(~keep, float("-inf"))
    return torch.softmax(l, -1)


def draw(probs, u):
    """probs [..., V], u [...] uniform in [0, 1) -> indices [...] (inverse CDF, never a dropped token)."""
    c = torch.cumsum(probs, -1)
    target = (u.to(c.dtype) * c[..., -1]).unsqueeze(-1)
    i = torch.searchsorted(c.contiguous(), target.contiguous(), right=True).squeeze(-1)
    v = probs.shape[-1]
    last_kept = v - 1 - torch.argmax((probs.flip(-1) > 0).to(torch.uint8), -1)
    return torch.minimum(i, last_kept)


class SampleStream:
    """The host's random stream of sample `sample` of seed `seed` (rng.ts): SplitMix64 seeds a
    xoshiro128** 1.1 generator; a uniform number is next() / 2^32."""

    def __init__(self, seed: int, sample: int):
        x = (seed ^ (sample * STREAM_STRIDE)) & MASK64
        words = []
        for _ in range(2):
            x = (x + 0x9E3779B97F4A7C15) & MASK64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            z ^= z >> 31
            words += [z & 0xFFFFFFFF, z >> 32]
        if not any(words):
            words[0] = 1
        self.s = words

    def next(self) -> int:
        s0, s1, s2, s3 = self.s
        r = (s1 * 5) & 0xFFFFFFFF
        result = ((((r << 7) | (r >> 25)) & 0xFFFFFFFF) * 9) & 0xFFFFFFFF
        t = (s1 << 9) & 0xFFFFFFFF
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 11) | (s3 >> 21)) & 0xFFFFFFFF
        self.s = [s0, s1, s2, s3]
        return result

    def floats(self, n: int):
        return [self.next() / 4294967296 for _ in range(n)]


def scale_offsets(scales):
    out, acc = [], 0
    for pn in scales:
        out.append(acc)
        acc += pn * pn
    return out


@torch.no_grad()
def generate(gen, tok, class_ids, seed: int = 0, sample_ids=None, cfg: float = DEFAULTS["cfg"],
             top_k: int = DEFAULTS["topK"], top_p: float = DEFAULTS["topP"],
             temperature: float = DEFAULTS["temperature"], mode: str = "cache"):
    """class_ids [B] -> indices [B, P, L] (P = 2: detail, semantic), the host's generate(). Row b
    is sample sample_ids[b] (default b) of the seed, with that sample's random stream. Per scale:
    one generator step on [cond rows; null-class rows] with the KV cache (mode "cache"), or with
    the prefix's keys and values rebuilt scale by scale (mode "recompute", same tokens); then both
    branches sampled; then the next scale's inputs from the tokens so far, as the exported
    next-input graph does."""
    c = gen.cfg
    scales, N, V = c.scales, len(c.scales), c.vocab
    offsets = scale_offsets(scales)
    L = offsets[-1] + scales[-1] ** 2
    B = len(class_ids)
    is_guided = cfg > 0
    rows = torch.cat([class_ids, torch.full_like(class_ids, gen.null_class)]) if is_guided else class_ids
    R, hd = len(rows), c.width // c.heads
    streams = [SampleStream(seed, i) for i in (range(B) if sample_ids is None else sample_ids)]
    indices = torch.zeros(B, 2, L, dtype=torch.long)
    empty = torch.zeros(c.depth, R, c.heads, 0, hd)
    past_k, past_v = empty, empty
    inputs, x_next = [], None
    for k, pn in enumerate(scales):
        T, start = pn * pn, offsets[k]
        x = torch.zeros(R, T, c.in_dim) if k == 0 else x_next[:, start - 1:start - 1 + T].repeat(R // B, 1, 1)
        if mode == "cache":
            logits, past_k, past_v = gen.step(rows, x, torch.arange(start, start + T), past_k, past_v)
        else:
            inputs.append(x)
            past_k, past_v = empty, empty
            for j in range(k + 1):
                logits, past_k, past_v = gen.step(rows, inputs[j], torch.arange(offsets[j], offsets[j] + scales[j] ** 2), past_k, past_v)
        lg = logits.double().view(R, T, 2, V)  # float64 like the host; halves: detail, semantic
        row_logits, _ = guided(lg[:B], lg[B:] if is_guided else lg[:B], k, N, cfg, temperature)
        probs = filtered_probs(row_logits, top_k, top_p)
        u = torch.tensor([s.floats(2 * T) for s in streams], dtype=torch.float64).view(B, T, 2)
        indices[:, :, start:start + T] = draw(probs, u).transpose(1, 2)
        if k < N - 1:
            mask = torch.zeros(B, 2, N)
            mask[:, :, :k + 1] = 1
            f_hat = torch.cat(tok.f_hat_from_indices(indices, mask), 1)
            x_next = gen.next_scale_inputs([f_hat] * N)
    return indices
