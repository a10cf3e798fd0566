"""Convert VAR's multi-scale VQ-VAE checkpoint (FoundationVision/VAR, `vae_ch160v4096z32.pth`) into a
one-branch model package (branch role "single").

    python3 training/convert/convert_var.py vae_ch160v4096z32.pth --out ~/models/var --license "MIT (FoundationVision/VAR)"
    python3 training/convert/convert_var.py --random-init --out /tmp/var256                   # official shape
    python3 training/convert/convert_var.py --random-init --width 32 --depth 1 --out /tmp/var-small

The checkpoint's channel width, res-block count and codebook are read from its tensors.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from convert.checkpoint import ConvertError  # noqa: E402
from convert.cli import parser, run  # noqa: E402
from convert.var_vqvae import VARVQVAE, VQVAEConfig  # noqa: E402


def from_state_dict(sd, path):
    """The shape, read from the tensors that fix it; one that is missing keeps VAR's value (load_strict
    then names it as missing)."""
    c = VQVAEConfig()
    if "encoder.conv_in.weight" in sd:
        c.ch = sd["encoder.conv_in.weight"].shape[0]
    blocks = [int(k.split(".")[4]) for k in sd if k.startswith("encoder.down.0.block.")]
    c.num_res_blocks = 1 + max(blocks) if blocks else c.num_res_blocks
    if "quantize.embedding.weight" in sd:
        c.codebook_size, c.code_dim = sd["quantize.embedding.weight"].shape
    n_scales = sd["quantize.ema_vocab_hit_SV"].shape[0] if "quantize.ema_vocab_hit_SV" in sd else len(c.scales)
    if n_scales != len(c.scales):
        raise ConvertError(f"{path} has {n_scales} scales; VAR's VQ-VAE has {len(c.scales)} (1,2,3,4,5,6,8,10,13,16)")
    return VARVQVAE(c)


def random_model(a):
    c = VQVAEConfig()
    if a.width:
        if a.width % 32:
            raise ConvertError(f"--width {a.width} must be a multiple of 32 (group normalisation uses 32 groups)")
        c.ch = a.width
    if a.depth:
        c.num_res_blocks = a.depth
    return VARVQVAE(c).random_init(a.seed)


if __name__ == "__main__":
    ap = parser("Convert VAR's multi-scale VQ-VAE checkpoint into a one-branch model package.", "var-vqvae-random",
                "base channel width (default 160, a multiple of 32)", "res blocks per resolution (default 2)")
    run(ap, what="VAR VQ-VAE", architecture="var-vqvae", converter="training/convert/convert_var.py", marker="quantize.",
        branches=lambda m: [{"name": "single", "role": "single", "lookup": "euclidean"}],
        from_state_dict=from_state_dict, random_model=random_model,
        notes="VAR's multi-scale VQ-VAE (FoundationVision/VAR, MIT), re-implemented in training/convert/var_vqvae.py.")
