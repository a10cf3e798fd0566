"""Tests of training/convert/: both architectures at small sizes, checkpoints in the authors' layouts,
strict loading errors, bad files (exit 2, one line), safe reading, parity. Run by training/tests/convert.sh.

    /usr/bin/python3 -m unittest training/tests/test_convert.py
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "training"))
from convert.checkpoint import ConvertError, read_checkpoint  # noqa: E402
from convert.imagefolder_vit import ImageFolderViT, ViTTokenizerConfig, antialiased_bicubic_matrix  # noqa: E402
from convert.msvq import phi_of_scale  # noqa: E402
from convert.var_vqvae import VARVQVAE, VQVAEConfig  # noqa: E402
from imagefolder.quantizer import PHI_OF_SCALE  # noqa: E402

PY = os.environ.get("PYTHON", "/usr/bin/python3")
IF = str(REPO / "training/convert/convert_imagefolder.py")
VAR = str(REPO / "training/convert/convert_var.py")
SMALL_IF = ViTTokenizerConfig(image_size=64, patch=8, width=64, depth=1, heads=1)
SMALL_VAR = VQVAEConfig(image_size=64, ch=32, ch_mult=(1, 2, 2), num_res_blocks=1, codebook_size=512,
                        scales=(1, 2, 3, 4, 6, 8, 10, 13, 16))


def convert(script, *args):
    return subprocess.run([PY, script, *map(str, args)], capture_output=True, text=True, cwd=REPO)


class Tmp(unittest.TestCase):
    def setUp(self):
        self._td = tempfile.TemporaryDirectory()
        self.tmp = Path(self._td.name)

    def tearDown(self):
        self._td.cleanup()

    def assertBadInput(self, r, *fragments):
        """Exit 2, exactly one line on stderr containing every fragment, nothing written."""
        self.assertEqual(r.returncode, 2, r.stderr + r.stdout)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        for f in fragments:
            self.assertIn(f, lines[0])
        self.assertFalse((self.tmp / "pkg").exists())
        return lines[0]


class Pieces(unittest.TestCase):
    def test_phi_rule_gives_the_reference_table(self):
        self.assertEqual(phi_of_scale(10, 4), PHI_OF_SCALE)
        self.assertEqual(phi_of_scale(1, 4), (0,))

    def test_position_embedding_resampling_matrix_is_antialiased_bicubic(self):
        grid = torch.randn(1, 8, 16, 16)
        m = antialiased_bicubic_matrix(16, 11)
        want = F.interpolate(grid, size=(11, 11), mode="bicubic", align_corners=False, antialias=True)
        self.assertLess((m @ grid @ m.t() - want).abs().max().item(), 1e-5)
        self.assertTrue(torch.allclose(antialiased_bicubic_matrix(11, 11), torch.eye(11), atol=1e-6))

    def test_shared_indices_decode_like_repeated_indices(self):
        for model in (ImageFolderViT(SMALL_IF).random_init(1), VARVQVAE(SMALL_VAR).random_init(1)):
            model.eval()
            P, N = model.encode(torch.zeros(1, 3, 64, 64)).shape[1], len(model.cfg.scales)
            with torch.no_grad():
                idx = model.encode(torch.rand(1, 3, 64, 64) * 2 - 1)
                masks = torch.ones(3, P, N)
                masks[1, :, 4:] = 0
                masks[2, 0] = 0
                shared = model.decode(idx, masks)
                each = model.decode(idx.expand(3, -1, -1), masks)
            self.assertLess((shared - each).abs().max().item(), 1e-5)
            self.assertGreater((shared[0] - shared[1]).abs().max().item(), 1e-3, "the mask changes the image")

    def test_random_init_tokens_are_diverse(self):
        model = ImageFolderViT(SMALL_IF).random_init(0).eval()
        with torch.no_grad():
            idx = model.encode(torch.rand(2, 3, 64, 64) * 2 - 1)
        self.assertGreater(idx.unique().numel(), 100)


def authors_checkpoint(model, path: Path, teacher=True, wrap=True):
    """A checkpoint laid out like the ImageFolder authors' training script saves it: a dict with
    model / ema state dicts (here with DDP's `module.` prefix and the DINOv2 teacher's tensors),
    the argparse namespace of the run, optimizer state and steps."""
    sd = OrderedDict(model.state_dict())
    if teacher:
        sd["semantic_model.cls_token"] = torch.zeros(1, 1, 16)
        sd["semantic_model.blocks.0.attn.qkv.weight"] = torch.zeros(48, 16)
    if not wrap:
        torch.save(sd, path)
        return
    ema = OrderedDict((f"module.{k}", v) for k, v in sd.items())
    torch.save({"model": OrderedDict((k, torch.zeros_like(v)) for k, v in sd.items()), "ema": ema,
                "optimizer": {"state": {}, "param_groups": []}, "steps": 10,
                "args": argparse.Namespace(v_patch_nums=[1, 1, 2, 3, 3, 4, 5, 6, 8, 11], product_quant=2)}, path)


class ImageFolderConverter(Tmp):
    def test_authors_checkpoint_converts_with_parity(self):
        model = ImageFolderViT(SMALL_IF).random_init(7).eval()
        authors_checkpoint(model, self.tmp / "best_ckpt.pt")
        r = convert(IF, self.tmp / "best_ckpt.pt", "--out", self.tmp / "pkg", "--license", "CC-BY-NC test")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("dropped 2 training-only tensors (semantic_model", r.stdout)
        self.assertRegex(r.stdout, r"parity \(PyTorch vs onnxruntime[-a-z ()A-Z]*, 2 images, 4 masks\): indices identical \d+/\d+")
        self.assertNotIn("FAILED", r.stdout)
        m = json.loads((self.tmp / "pkg/manifest.json").read_text())
        self.assertEqual((m["license"], m["provenance"]["weights"], m["provenance"]["source"]), ("CC-BY-NC test", "ema", "best_ckpt.pt"))
        self.assertEqual([b["role"] for b in m["branches"]], ["detail", "semantic"])
        self.assertEqual((m["image"]["size"], m["tokensPerBranch"], m["codebooks"]["shape"]), (64, 286, [2, 4096, 32]))
        self.assertEqual(m["graphs"]["decoder"]["inputs"], {"indices": [-1, 2, 286], "scale_mask": [-1, 2, 10]})
        self.assertEqual(m["provenance"]["modelConfig"]["width"], 64, "the shape was read from the tensors")
        # the codebooks are the checkpoint's EMA weights (the "model" entry is zeros)
        cb = np.frombuffer((self.tmp / "pkg/codebooks.bin").read_bytes(), "<f4").reshape(2, 4096, 32)
        self.assertTrue(np.array_equal(cb[1], model.quantizes[1].embedding.weight.detach().numpy()))
        self.assertEqual(sorted(p.name for p in (self.tmp / "pkg").iterdir()), ["codebooks.bin", "decoder.onnx", "encoder.onnx", "manifest.json"])

    def test_strict_loading_names_missing_unexpected_and_misshaped_keys(self):
        sd = ImageFolderViT(SMALL_IF).state_dict()
        del sd["encoder.latent_tokens"]
        sd["encoder.extra_head.weight"] = torch.zeros(3)
        sd["quant_conv.weight"] = torch.zeros(12, 64, 1, 1)
        torch.save(sd, self.tmp / "c.pt")
        line = self.assertBadInput(convert(IF, self.tmp / "c.pt", "--out", self.tmp / "pkg"), "does not match the ImageFolder tokenizer")
        self.assertIn("1 missing (encoder.latent_tokens)", line)
        self.assertIn("1 unexpected (encoder.extra_head.weight)", line)
        self.assertIn("1 mis-shaped, checkpoint vs model (quant_conv.weight [12, 64, 1, 1] vs [32, 64, 1, 1])", line)

    def test_bad_files_exit_2_with_one_line(self):
        (self.tmp / "notes.txt").write_text("not a checkpoint\n" * 10)
        self.assertBadInput(convert(IF, self.tmp / "notes.txt", "--out", self.tmp / "pkg"), "is not a PyTorch checkpoint")
        self.assertBadInput(convert(IF, REPO / "samples/cat-face.png", "--out", self.tmp / "pkg"), "is not a PyTorch checkpoint")
        (self.tmp / "empty.pt").write_bytes(b"")
        self.assertBadInput(convert(IF, self.tmp / "empty.pt", "--out", self.tmp / "pkg"), "is empty")
        self.assertBadInput(convert(IF, self.tmp / "nowhere.pt", "--out", self.tmp / "pkg"), "no such file")
        authors_checkpoint(ImageFolderViT(SMALL_IF), self.tmp / "full.pt")
        data = (self.tmp / "full.pt").read_bytes()
        (self.tmp / "cut.pt").write_bytes(data[:len(data) // 2])
        self.assertBadInput(convert(IF, self.tmp / "cut.pt", "--out", self.tmp / "pkg"), "is truncated or damaged")
        # this project's own generator checkpoint, and a VAR-style transformer state dict
        gen = REPO / "training/checkpoints/imagefolder-mini-generator.pt"
        self.assertBadInput(convert(IF, gen, "--out", self.tmp / "pkg"), "is a generator (transformer) checkpoint, not a")
        torch.save({"class_emb.weight": torch.zeros(11, 8), "blocks.0.attn.mat_qkv.weight": torch.zeros(24, 8)}, self.tmp / "var_d16.pth")
        self.assertBadInput(convert(IF, self.tmp / "var_d16.pth", "--out", self.tmp / "pkg"), "is a generator (transformer) checkpoint")
        # a VAR tokenizer is not an ImageFolder one
        torch.save(VARVQVAE(SMALL_VAR).state_dict(), self.tmp / "vae.pth")
        self.assertBadInput(convert(IF, self.tmp / "vae.pth", "--out", self.tmp / "pkg"), "is not a checkpoint of the ImageFolder tokenizer")
        self.assertBadInput(convert(IF, self.tmp / "vae.pth", "--random-init", "--out", self.tmp / "pkg"), "not both")

    def test_reading_a_checkpoint_runs_none_of_its_code(self):
        marker = self.tmp / "ran"

        class Evil:
            def __reduce__(self):
                return (os.system, (f"touch {marker}",))
        for zipped in (True, False):  # today's format and PyTorch's legacy one
            torch.save({"ema": {"quantizes.0.embedding.weight": torch.zeros(2, 2)}, "args": Evil()}, self.tmp / "evil.pt",
                       _use_new_zipfile_serialization=zipped)
            ck = read_checkpoint(self.tmp / "evil.pt")
            self.assertFalse(marker.exists())
            self.assertEqual(ck["ema"]["quantizes.0.embedding.weight"].shape, (2, 2))
        with self.assertRaises(ConvertError):
            read_checkpoint(self.tmp)


class VARConverter(Tmp):
    def test_state_dict_converts_with_parity(self):
        model = VARVQVAE(VQVAEConfig(ch=32, num_res_blocks=1)).random_init(3)
        torch.save(model.state_dict(), self.tmp / "vae_ch32.pth")  # VAR ships a bare state dict
        r = convert(VAR, self.tmp / "vae_ch32.pth", "--out", self.tmp / "pkg", "--license", "MIT (FoundationVision/VAR)")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 branch of 4096 x 32 codes, scales 1,2,3,4,5,6,8,10,13,16 (680 tokens per branch)", r.stdout)
        self.assertIn("indices identical", r.stdout)
        self.assertNotIn("FAILED", r.stdout)
        m = json.loads((self.tmp / "pkg/manifest.json").read_text())
        self.assertEqual(m["branches"], [{"name": "single", "role": "single", "codebookSize": 4096, "codeDim": 32, "lookup": "euclidean"}])
        self.assertEqual((m["tokensPerBranch"], m["graphs"]["decoder"]["inputs"]["scale_mask"]), (680, [-1, 1, 10]))

    def test_bad_inputs(self):
        sd = VARVQVAE(VQVAEConfig(ch=32, num_res_blocks=1)).state_dict()
        sd["quantize.quant_resi.qresi_ls.2.weight"] = torch.zeros(32, 32, 1, 1)
        torch.save(sd, self.tmp / "v.pth")
        self.assertBadInput(convert(VAR, self.tmp / "v.pth", "--out", self.tmp / "pkg"),
                            "1 mis-shaped, checkpoint vs model (quantize.quant_resi.qresi_ls.2.weight [32, 32, 1, 1] vs [32, 32, 3, 3])")
        authors_checkpoint(ImageFolderViT(SMALL_IF), self.tmp / "if.pt")
        self.assertBadInput(convert(VAR, self.tmp / "if.pt", "--out", self.tmp / "pkg"), "is not a checkpoint of the VAR VQ-VAE")
        self.assertBadInput(convert(VAR, "--random-init", "--width", 40, "--out", self.tmp / "pkg"), "multiple of 32")
        torch.save({"class_emb.weight": torch.zeros(11, 8), "blocks.0.attn.mat_qkv.weight": torch.zeros(24, 8)}, self.tmp / "var_d16.pth")
        self.assertBadInput(convert(VAR, self.tmp / "var_d16.pth", "--out", self.tmp / "pkg"), "is a generator (transformer) checkpoint")


if __name__ == "__main__":
    unittest.main()
