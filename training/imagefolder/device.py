"""Where a run computes: the torch device, checked up front, and its float32 matmul precision."""
import torch


def pick_device(name: str, tf32: bool = False) -> torch.device:
    """--device and --tf32 -> a device, or one clear line (SystemExit) before any work is done.

    TF32 (10-bit mantissa inputs, float32 accumulation) is an NVIDIA tensor-core mode: ~2-8x faster
    float32 matmuls on Ampere and later (the H200 run used it). It is opt-in so that a run is plain
    float32 unless asked, and refused elsewhere rather than silently ignored."""
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise SystemExit(f"--device {name}: {e}")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: this PyTorch ({torch.__version__}) sees no CUDA device")
    if tf32:
        if device.type != "cuda":
            raise SystemExit(f"--tf32 needs a CUDA device (TF32 is an NVIDIA tensor-core mode); this run is on {device}")
        if hasattr(torch.backends.cuda.matmul, "fp32_precision"):  # PyTorch >= 2.9; the flags below are deprecated there
            torch.backends.cuda.matmul.fp32_precision = "tf32"
            torch.backends.cudnn.conv.fp32_precision = "tf32"
        else:
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
    return device
