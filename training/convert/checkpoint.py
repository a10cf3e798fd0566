"""Reading a tokenizer checkpoint safely and loading it strictly, with one-line errors.

Checkpoints are pickles. They are read with an unpickler that builds tensors and a few plain
containers only; any other object named in the file (the training `args` namespace, optimizer
classes, anything) becomes an inert placeholder, so reading a checkpoint never runs its code.
"""
import pickle
import zipfile
from pathlib import Path

import torch


class ConvertError(Exception):
    """A problem with the user's input: the converter prints the one-line message and exits 2."""


class Opaque:
    """Stands in for any class a checkpoint names that is not a tensor or a plain container."""

    def __init__(self, *args, **kwargs):
        self.args = args

    def __setstate__(self, state):
        self.state = state

    def __call__(self, *args, **kwargs):  # a placeholder used as a rebuild function
        return Opaque(*args)


ALLOWED = {
    ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"), ("torch._utils", "_rebuild_qtensor"),
    ("torch._tensor", "_rebuild_from_type_v2"), ("torch", "Size"), ("torch", "device"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "slice"), ("builtins", "complex"),
}


class SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in ALLOWED or (module == "torch" and isinstance(getattr(torch, name, None), torch.dtype)):
            return super().find_class(module, name)
        return Opaque


class _SafePickleModule:
    Unpickler = SafeUnpickler

    @staticmethod
    def load(f, **kw):
        return SafeUnpickler(f, **kw).load()


def _safe_load(path: Path):
    """torch.load with our unpickler. torch.load itself cannot be used: PyTorch 1.13 replaces any
    `pickle_module` it is given by `pickle` unless weights_only (which refuses the authors' training
    checkpoints: they pickle an argparse namespace), so this calls the two loaders it dispatches to."""
    ts = torch.serialization
    with open(path, "rb") as f:
        if ts._is_zipfile(f):
            with ts._open_zipfile_reader(f) as z:
                if ts._is_torchscript_zip(z):
                    raise ConvertError(f"{path} is a TorchScript archive, not a checkpoint of weights")
                return ts._load(z, "cpu", _SafePickleModule, encoding="utf-8")
        return ts._legacy_load(f, "cpu", _SafePickleModule, encoding="utf-8")


def read_checkpoint(path: Path):
    """The checkpoint's top-level object, or ConvertError naming what is wrong with the file."""
    if not path.exists():
        raise ConvertError(f"{path}: no such file")
    if path.is_dir():
        raise ConvertError(f"{path} is a folder, not a checkpoint file")
    if path.stat().st_size == 0:
        raise ConvertError(f"{path} is empty, not a checkpoint")
    is_zip = zipfile.is_zipfile(path)
    with open(path, "rb") as fh:
        head = fh.read(4)
    try:
        return _safe_load(path)
    except ConvertError:
        raise
    except Exception as e:  # torch raises RuntimeError, UnpicklingError, EOFError, ... for bad files
        why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if head[:2] == b"PK" and not is_zip or "central directory" in why or isinstance(e, EOFError):
            raise ConvertError(f"{path} is truncated or damaged (cannot read it as a PyTorch checkpoint: {why})") from None
        raise ConvertError(f"{path} is not a PyTorch checkpoint ({why})") from None


def is_state_dict(obj) -> bool:
    return isinstance(obj, dict) and len(obj) > 0 and all(isinstance(k, str) for k in obj) and \
        all(torch.is_tensor(v) for v in obj.values())


def strip_prefixes(sd: dict) -> dict:
    """Drop wrappers' prefixes: `module.` (DistributedDataParallel), `_orig_mod.` (torch.compile)."""
    out = {}
    for k, v in sd.items():
        for p in ("module.", "_orig_mod."):
            while k.startswith(p):
                k = k[len(p):]
        out[k] = v
    return out


GENERATOR_HINTS = ("class_emb.", "attn.mat_qkv", "lvl_1L", "head_nm.", "word_embed.", "pos_start")


def looks_like_generator(keys) -> bool:
    return any(h in k for k in keys for h in GENERATOR_HINTS)


def select_state_dict(ck, path: Path, what: str, marker: str, prefer: str = "ema"):
    """From a checkpoint object pick the tokenizer's state dict. `marker`: a key prefix every tokenizer
    of this architecture has (e.g. "quantizes.") that a generator or other model lacks.
    Returns (state dict, which entry was used)."""
    if is_state_dict(ck):
        candidates = [("state dict", ck)]
    elif isinstance(ck, dict):
        order = [prefer] + [k for k in ("ema", "model", "state_dict", "vae", "vae_local") if k != prefer]
        candidates = [(k, ck[k]) for k in order if k in ck and is_state_dict(ck[k])]
        if not candidates and isinstance(ck.get("trainer"), dict):
            raise ConvertError(f"{path} is a generator training checkpoint (it has 'trainer'), not a tokenizer checkpoint")
        if not candidates:
            found = ", ".join(sorted(map(str, ck))[:8])
            raise ConvertError(f"{path} holds no state dict of tensors (top-level entries: {found or 'none'})")
    else:
        raise ConvertError(f"{path} holds a {type(ck).__name__}, not a state dict")
    name, sd = candidates[0]
    sd = strip_prefixes(sd)
    if not any(k.startswith(marker) for k in sd):
        if looks_like_generator(sd) or "config" in (ck if isinstance(ck, dict) else {}) and "classes" in ck:
            raise ConvertError(f"{path} is a generator (transformer) checkpoint, not a tokenizer checkpoint "
                               f"({len(sd)} tensors, none under '{marker}')")
        sample = ", ".join(list(sd)[:3])
        raise ConvertError(f"{path} is not a checkpoint of the {what}: none of its {len(sd)} tensors is under '{marker}' (first keys: {sample})")
    return sd, name


def _names(keys, n=4):
    keys = sorted(keys)
    return ", ".join(keys[:n]) + (f" and {len(keys) - n} more" if len(keys) > n else "")


def load_strict(model: torch.nn.Module, sd: dict, path: Path, what: str):
    """Load every tensor of the model from sd; any missing, unexpected or mis-shaped key is a
    ConvertError that names them (first few of each kind, with counts)."""
    own = model.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    shaped = [f"{k} {list(sd[k].shape)} vs {list(own[k].shape)}" for k in own if k in sd and sd[k].shape != own[k].shape]
    if missing or unexpected or shaped:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing ({_names(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected ({_names(unexpected)})")
        if shaped:
            parts.append(f"{len(shaped)} mis-shaped, checkpoint vs model ({_names(shaped, 3)})")
        raise ConvertError(f"{path} does not match the {what}: " + "; ".join(parts))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()}, strict=True)
