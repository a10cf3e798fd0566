"""Convert the ImageFolder authors' tokenizer checkpoint into a model package.

    python3 training/convert/convert_imagefolder.py best_ckpt.pt --out ~/models/imagefolder --license "..."
    python3 training/convert/convert_imagefolder.py --random-init --out /tmp/if256            # official shape
    python3 training/convert/convert_imagefolder.py --random-init --width 128 --depth 2 --out /tmp/if-small

The checkpoint's shape (width, depth, patch, image size, branches, codebook) is read from its tensors;
the scales are the paper's (1,1,2,3,3,4,5,6,8,11): a checkpoint with another latent grid is refused.
"""
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from convert.checkpoint import ConvertError  # noqa: E402
from convert.cli import parser, run  # noqa: E402
from convert.imagefolder_vit import BRANCH_ROLES, ImageFolderViT, ViTTokenizerConfig  # noqa: E402

# Training-time parts of the authors' checkpoints that are not the tokenizer: the DINOv2 semantic
# teacher, an optional detail teacher, and the teacher projection. Dropped by prefix, and counted.
TRAINING_ONLY = ("semantic_model.", "detail_model.", "sem_linear.")


def config_from_state_dict(sd, path) -> ViTTokenizerConfig:
    """The shape, read from the tensors that fix it; one that is missing keeps the official value
    (load_strict then names it as missing)."""
    c = ViTTokenizerConfig()
    shape = lambda k: tuple(sd[k].shape) if k in sd else None  # noqa: E731
    if shape("encoder.model.pos_embed"):
        c.width, g = shape("encoder.model.pos_embed")[2], math.isqrt(shape("encoder.model.pos_embed")[1] - 1)
        c.heads = max(1, c.width // 64)  # DINOv2 ViTs have 64-wide heads
        c.patch = shape("encoder.model.patch_embed.proj.weight")[-1] if shape("encoder.model.patch_embed.proj.weight") else c.patch
        c.image_size = g * c.patch
    blocks = [int(k.split(".")[3]) for k in sd if k.startswith("encoder.model.blocks.")]
    c.depth = 1 + max(blocks) if blocks else c.depth
    c.branches = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("quantizes."))
    if shape("quantizes.0.embedding.weight"):
        c.codebook_size, c.code_dim = shape("quantizes.0.embedding.weight")
    side = math.isqrt(shape("encoder.latent_tokens")[1] // c.branches) if shape("encoder.latent_tokens") else c.scales[-1]
    n_scales = shape("quantizes.0.ema_vocab_hit_SV")[0] if shape("quantizes.0.ema_vocab_hit_SV") else len(c.scales)
    if side != c.scales[-1] or n_scales != len(c.scales):
        raise ConvertError(f"{path}: a {side}x{side} latent grid with {n_scales} scales is not the paper's (1,1,2,3,3,4,5,6,8,11); "
                           "this converter knows only that scale list")
    return c


def from_state_dict(sd, path):
    dropped = [k for k in list(sd) if k.startswith(TRAINING_ONLY)]
    for k in dropped:
        del sd[k]
    if dropped:
        print(f"dropped {len(dropped)} training-only tensors ({', '.join(sorted({k.split('.')[0] for k in dropped}))}: teachers, not the tokenizer)")
    if not any(k.startswith("encoder.model.") for k in sd):
        raise ConvertError(f"{path} is not an ImageFolder ViT tokenizer checkpoint (no encoder.model.* tensors: "
                           "a CNN-encoder XQ-GAN or another model?)")
    return ImageFolderViT(config_from_state_dict(sd, path))


def random_model(a):
    c = ViTTokenizerConfig()
    c.image_size, c.patch = a.image_size or c.image_size, a.patch or c.patch
    if a.width:
        c.width, c.heads = a.width, max(1, a.width // 64)
    if a.depth:
        c.depth = a.depth
    if c.image_size % c.patch:
        raise ConvertError(f"--image-size {c.image_size} is not a multiple of --patch {c.patch}")
    return ImageFolderViT(c).random_init(a.seed)


def branches(model):
    return [{"name": r, "role": r, "lookup": "cosine"} for r in BRANCH_ROLES[:len(model.quantizes)]]


if __name__ == "__main__":
    ap = parser("Convert an ImageFolder tokenizer checkpoint (lxa9867/ImageFolder layout) into a model package.",
                "imagefolder-vit-random", "ViT width (default 768; heads = width / 64)", "ViT depth of encoder and decoder (default 12)")
    ap.add_argument("--image-size", type=int, help="with --random-init: image side (default 256; a multiple of --patch)")
    ap.add_argument("--patch", type=int, help="with --random-init: patch side (default 16)")
    run(ap, what="ImageFolder tokenizer", architecture="imagefolder-vit", converter="training/convert/convert_imagefolder.py",
        marker="quantizes.", branches=branches, from_state_dict=from_state_dict, random_model=random_model,
        notes="The ImageFolder authors' architecture (ViT encoder/decoder, 2 product-quantized branches), re-implemented "
              "in training/convert/imagefolder_vit.py; the DINOv2 teacher is not part of the package.")
