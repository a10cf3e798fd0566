"""Where the semantic loss's gradient goes (imagefolder/semantic.py), on a tiny real tokenizer.

straight-through: the encoder gets a gradient (it picks the tokens), the codebook none;
codebook: the codebook and Phi convs get one, the encoder none. A target of "detached" leaves the
shared projection without a gradient from the teacher's side.
"""
import torch

from imagefolder import semantic
from imagefolder.model import ImageFolderTokenizer, TokenizerConfig

torch.manual_seed(0)
cfg = TokenizerConfig(width=32, enc_depth=1, dec_depth=1, heads=2, codebook_size=64, spatial_prior=True)
model = ImageFolderTokenizer(cfg)
x = torch.rand(6, 3, 64, 64) * 2 - 1
t = torch.randn(6, 32)


def grads(grad, mode):
    model.zero_grad(set_to_none=True)
    _, fs, f_hats, _, _ = model(x)
    loss = semantic.info_nce(semantic.prediction(fs[1], f_hats[1], grad), semantic.target(t, mode, model.encoder.proj), 10.0)
    loss.backward()
    norm = lambda ps: sum(float(p.grad.abs().sum()) for p in ps if p.grad is not None)
    q = model.quantizers[1]
    return {"blocks": norm(model.encoder.blocks.parameters()), "codebook": norm(q.codebook.parameters()),
            "phis": norm(q.phis.parameters()), "detail_codebook": norm(model.quantizers[0].parameters())}


st = grads("straight-through", "detached")
assert st["blocks"] > 0 and st["codebook"] == 0 and st["phis"] == 0 and st["detail_codebook"] == 0, st
cb = grads("codebook", "detached")
assert cb["blocks"] == 0 and cb["codebook"] > 0 and cb["phis"] > 0 and cb["detail_codebook"] == 0, cb
# the value is f_hat's either way: only the gradient differs
_, fs, f_hats, _, _ = model(x)
assert torch.allclose(semantic.prediction(fs[1], f_hats[1], "straight-through"), semantic.prediction(fs[1], f_hats[1], "codebook"), atol=1e-6)
try:
    semantic.prediction(fs[1], f_hats[1], "encoder")
    raise SystemExit("an unknown semantic_grad was accepted")
except ValueError as e:
    assert "straight-through or codebook" in str(e)
# coarse scales only (semantic_scales): all scales give f_hat back; fewer differ, and in codebook
# mode only the codebook rows those scales picked get a gradient
q, idx = model.quantizers[1], model(x)[3][1]
assert torch.allclose(semantic.coarse_f_hat(q, idx, len(q.scales)), f_hats[1], atol=1e-5)
assert not torch.allclose(semantic.coarse_f_hat(q, idx, 2), f_hats[1], atol=1e-3)
model.zero_grad(set_to_none=True)
pred = semantic.prediction(fs[1], semantic.coarse_f_hat(q, model(x)[3][1], 2), "codebook")
semantic.info_nce(pred, t, 10.0).backward()
rows = q.codebook.weight.grad.abs().sum(1).nonzero().flatten().tolist()
assert rows and set(rows) <= set(idx[:, :2].flatten().tolist()), (rows, idx[:, :2])
print("semantic gradient routing: ok")
