"""The modules torch.onnx.export traces into a model package's graphs (docs/model-format.md):
what each graph takes and returns, in one place for export.py and export_generator.py."""
from pathlib import Path

import torch
import torch.nn as nn

OPSET = 17  # the newest opset torch 1.13's exporter writes; onnxruntime-node runs it


def export_tokenizer_graphs(encoder: nn.Module, decoder: nn.Module, image, indices, scale_mask, out: Path):
    """encoder.onnx and decoder.onnx with the names and batch axes the runtime reads them by, for
    export.py (the built-in model) and convert/package.py (converted ones) alike. The example
    inputs are the caller's: their shapes are what the tracer sees."""
    torch.onnx.export(encoder, (image,), str(out / "encoder.onnx"), opset_version=OPSET,
                      input_names=["image"], output_names=["indices"],
                      dynamic_axes={"image": {0: "batch"}, "indices": {0: "batch"}})
    # indices has its own batch axis: a batch of 1 is shared by every scale_mask row
    torch.onnx.export(decoder, (indices, scale_mask), str(out / "decoder.onnx"), opset_version=OPSET,
                      input_names=["indices", "scale_mask"], output_names=["image"],
                      dynamic_axes={"indices": {0: "indices_batch"}, "scale_mask": {0: "batch"}, "image": {0: "batch"}})


class EncoderGraph(nn.Module):
    """image [B,3,S,S] -> indices [B,P,L]"""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, image):
        fs = self.m.encoder(image)
        return torch.stack([q(f)[1] for q, f in zip(self.m.quantizers, fs)], 1)


class DecoderGraph(nn.Module):
    """indices [B,P,L] (or [1,P,L], shared), scale_mask [B,P,N] -> image [B,3,S,S]"""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, indices, scale_mask):
        return self.m.decode(indices, scale_mask)


class StepGraph(nn.Module):
    """One KV-cache step of the generator: the host samples between steps."""

    def __init__(self, g):
        super().__init__()
        self.g = g

    def forward(self, class_id, x_in, positions, past_keys, past_values):
        return self.g.step(class_id, x_in, positions, past_keys, past_values)


class NextInputGraph(nn.Module):
    """indices + scale mask (the scales sampled so far) -> every scale's next input [B, L-1, 64];
    the host takes the rows of the scale it samples next."""

    def __init__(self, tok, g):
        super().__init__()
        self.tok, self.g = tok, g

    def forward(self, indices, scale_mask):
        f_hat = torch.cat(self.tok.f_hat_from_indices(indices, scale_mask), 1)
        return self.g.next_scale_inputs([f_hat] * len(self.g.cfg.scales))
