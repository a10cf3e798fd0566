"""Fetch and prepare the training data, offline, from npm and Debian packages only.

Sources (licences in training/data/DATA.md):
  emoji    npm emoji-datasource-google (Noto Emoji images, Apache-2.0), label = emoji category
  clipart  Debian openclipart-png (public domain), label = top-level clipart folder
  photo    Debian plasma-workspace-wallpapers + mate-backgrounds, random crops, label = "photo"

Writes <cache>/data/{train,val}.npz: images uint8 [N,S,S,3], labels int16, sources int8, names.
The split is decided per file by a hash of its bytes (skin-tone variants of one emoji follow their
base emoji so near-duplicates never straddle the split).

To train on another machine (a lent GPU, training/gpu_run.sh) the training split travels small:
--pack writes the emoji and clipart arrays xz-compressed and the training photographs as JPEGs with
their crop seeds (22 MiB in all; --parts cuts the arrays for separate carries), and --unpack rebuilds train.npz there with the same crop rule.

usage: python3 training/data/prepare.py [--cache DIR] [--size 64]
       python3 training/data/prepare.py [--cache DIR] --pack DIR [--photo-px 1280]   # after a prepare
       python3 training/data/prepare.py --unpack DIR                                 # on the other machine
"""
import argparse
import hashlib
import io
import json
import lzma
import math
import os
import subprocess
import tarfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = None  # some clipart is 10,500 x 16,000; we shrink it right away

SOURCES = ("emoji", "clipart", "photo")
EMOJI_PKG = "emoji-datasource-google@16.0.0"
DEBS = ("openclipart-png", "plasma-workspace-wallpapers", "mate-backgrounds")
VAL_MOD = 16  # hash % 16 == 0 -> validation (6.25 %), topped up to >= 5 % per source
PHOTO_CROPS_TRAIN, PHOTO_CROPS_VAL = 600, 150


def default_cache() -> Path:
    return Path(os.environ.get("IMAGEFOLDER_CACHE", Path.home() / ".cache" / "imagefolder-inspector"))


def fetch(raw: Path) -> Path:
    """Download the npm tarball and the .debs (once) and unpack them under raw/x."""
    raw.mkdir(parents=True, exist_ok=True)
    x = raw / "x"
    if (x / ".complete").exists():
        return x
    if not list(raw.glob("emoji-datasource-google-*.tgz")):
        subprocess.run(["npm", "pack", EMOJI_PKG], cwd=raw, check=True, stdout=subprocess.DEVNULL)
    for deb in DEBS:
        if not list(raw.glob(f"{deb}_*.deb")):
            subprocess.run(["apt-get", "download", deb], cwd=raw, check=True, stdout=subprocess.DEVNULL)
    x.mkdir(exist_ok=True)
    with tarfile.open(next(raw.glob("emoji-datasource-google-*.tgz"))) as t:
        t.extractall(x)
    for deb in raw.glob("*.deb"):
        subprocess.run(["dpkg", "-x", str(deb), str(x / "deb")], check=True)
    (x / ".complete").touch()
    return x


def on_white(im: Image.Image) -> Image.Image:
    im = im.convert("RGBA")
    bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return Image.alpha_composite(bg, im).convert("RGB")


def letterbox(im: Image.Image, size: int) -> np.ndarray:
    """Whole picture, aspect kept, centred on white (clipart is drawn on transparency)."""
    im.thumbnail((size * 4, size * 4), Image.BOX)  # cheap pre-shrink of huge files
    im = on_white(im)
    s = size / max(im.size)
    w, h = max(1, round(im.width * s)), max(1, round(im.height * s))
    im = im.resize((w, h), Image.LANCZOS)
    canvas = Image.new("RGB", (size, size), (255, 255, 255))
    canvas.paste(im, ((size - w) // 2, (size - h) // 2))
    return np.asarray(canvas)


def file_hash(path: Path) -> int:
    return int(hashlib.sha1(path.read_bytes()).hexdigest()[:12], 16)


def split_ids(keys: list, sizes: dict = None) -> set:
    """Validation = hash % VAL_MOD == 0, topped up with the smallest hashes until it holds 6 % of
    the files (a group, such as an emoji and its skin tones, counts with all its files)."""
    size = (lambda k: sizes[k]) if sizes else (lambda k: 1)
    total = sum(size(k) for k, _ in keys)
    val = {k for k, h in keys if h % VAL_MOD == 0}
    for k, _ in sorted(keys, key=lambda kh: kh[1]):
        if sum(size(v) for v in val) >= 0.06 * total:
            break
        val.add(k)
    return val


def emoji_items(x: Path):
    meta = json.loads((x / "package" / "emoji.json").read_text())
    cats = sorted({e["category"] for e in meta if e["category"] != "Component"})
    img_dir = x / "package" / "img" / "google" / "64"
    items = []
    for e in meta:
        if e["category"] == "Component" or not e.get("has_img_google"):
            continue
        base = img_dir / e["image"]
        if not base.exists():
            continue
        group = e["image"]
        files = [base] + [img_dir / v["image"] for v in (e.get("skin_variations") or {}).values() if (img_dir / v["image"]).exists()]
        for f in files:
            items.append((f, "emoji:" + e["category"], group))
    return items, ["emoji:" + c for c in cats]


def clipart_items(x: Path):
    root = x / "deb" / "usr" / "share" / "openclipart" / "png"
    items = []
    for f in sorted(root.rglob("*.png")):
        folder = f.relative_to(root).parts[0]
        items.append((f, "clipart:" + folder, str(f.relative_to(root))))
    labels = sorted({lab for _, lab, _ in items})
    return items, labels


def photo_files(x: Path):
    """One file per photograph: the largest rendition of each wallpaper, plus MATE's photos."""
    out = []
    for d in sorted((x / "deb" / "usr" / "share" / "wallpapers").glob("*/contents/images")):
        files = sorted(d.glob("*.*"), key=lambda p: p.stat().st_size)
        if files:
            out.append(files[-1])
    mate = x / "deb" / "usr" / "share" / "backgrounds" / "mate"
    out += sorted((mate / "nature").glob("*.jpg"))
    out += sorted(p for p in (mate / "desktop").glob("*.jpg"))
    return out


def load_one(args):
    path, size = args
    try:
        with Image.open(path) as im:
            im.load()
            return letterbox(im, size)
    except Exception as exc:  # a broken file in a distro package should not stop the run
        print(f"skip {path}: {exc}")
        return None


def photo_crops(path: Path, n: int, size: int, seed: int):
    rng = np.random.default_rng(seed)
    with Image.open(path) as im:
        im = on_white(im)
        im.thumbnail((2048, 2048), Image.BOX)
        out = []
        for _ in range(n):
            side = int(rng.uniform(0.08, 0.6) * min(im.size))
            side = max(side, size)
            x0 = int(rng.integers(0, im.width - side + 1))
            y0 = int(rng.integers(0, im.height - side + 1))
            crop = im.crop((x0, y0, x0 + side, y0 + side)).resize((size, size), Image.LANCZOS)
            out.append(np.asarray(crop))
        return out


def photo_plan(x: Path):
    """Every photograph with its split and crop seed: [(path, is_val, seed, name prefix)]."""
    photos = photo_files(x)
    val = split_ids([(str(p), file_hash(p)) for p in photos])
    return [(p, str(p) in val, i, f"{p.parent.parent.parent.name}/{p.name}") for i, p in enumerate(photos)]


def crops_of(args):
    path, n, size, seed = args
    return photo_crops(path, n, size, seed)


def pack(cache: Path, dest: Path, photo_px: int, quality: int, parts: int = 1):
    """The training split, small enough to carry (see the module docstring): dest/ec.npz.xz (the
    emoji and clipart rows of train.npz; with parts > 1, that stream cut into ec.npz.xz.part0, ...
    to carry in separate calls), dest/photos/NN.jpg (each training photograph shrunk to photo_px on
    its long side) with photos/manifest.json (file, crop seed, name), dest/labels.json."""
    x, data = cache / "raw" / "x", cache / "data"
    if not (x / ".complete").exists() or not (data / "train.npz").exists():
        raise SystemExit(f"--pack needs a prepared cache ({x} and {data / 'train.npz'}): run prepare.py first")
    (dest / "photos").mkdir(parents=True, exist_ok=True)
    z = np.load(data / "train.npz")
    keep = z["sources"] != SOURCES.index("photo")
    buf = io.BytesIO()
    np.savez(buf, **{k: z[k][keep] for k in ("images", "labels", "sources", "names")})
    xz = lzma.compress(buf.getvalue())
    if parts == 1:
        (dest / "ec.npz.xz").write_bytes(xz)
    else:
        step = -(-len(xz) // parts)
        for k in range(parts):
            (dest / f"ec.npz.xz.part{k}").write_bytes(xz[k * step:(k + 1) * step])
    manifest = []
    for p, is_val, seed, name in photo_plan(x):
        if is_val:
            continue
        with Image.open(p) as im:
            im = on_white(im)
            im.thumbnail((photo_px, photo_px), Image.BOX)  # photo_crops' own pre-shrink, only further
            f = f"{len(manifest):02d}.jpg"
            im.save(dest / "photos" / f, quality=quality)
        manifest.append({"file": f, "seed": seed, "name": name, "crops": PHOTO_CROPS_TRAIN})
    (dest / "photos" / "manifest.json").write_text(json.dumps(manifest, indent=1))
    (dest / "labels.json").write_bytes((data / "labels.json").read_bytes())
    mb = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file()) / 2 ** 20
    print(f"packed {int(keep.sum())} emoji+clipart images and {len(manifest)} photographs into {dest} ({mb:.1f} MiB)")


def unpack(src: Path, workers: int):
    """Rebuild src/train.npz from what pack() wrote: the same rows in the same order (emoji,
    clipart, then each photograph's crops), the crops cut from the carried JPEGs."""
    whole = src / "ec.npz.xz"
    pieces = [whole] if whole.exists() else sorted(src.glob("ec.npz.xz.part*"), key=lambda p: int(p.name[len("ec.npz.xz.part"):]))
    if not pieces:
        raise SystemExit(f"--unpack: {src} has neither ec.npz.xz nor its parts (prepare.py --pack)")
    with np.load(io.BytesIO(lzma.decompress(b"".join(p.read_bytes() for p in pieces)))) as z:
        ec = {k: z[k] for k in z.files}
    labels = json.loads((src / "labels.json").read_text())
    photo, size = labels["labels"].index("photo"), int(labels["size"])
    manifest = json.loads((src / "photos" / "manifest.json").read_text())
    with ProcessPoolExecutor(workers) as pool:
        crops = list(pool.map(crops_of, [(src / "photos" / m["file"], m["crops"], size, m["seed"]) for m in manifest]))
    names = [f"{m['name']}#{j}" for m, cs in zip(manifest, crops) for j in range(len(cs))]
    n = len(names)
    np.savez(src / "train.npz", images=np.concatenate([ec["images"], np.stack([c for cs in crops for c in cs])]),
             labels=np.concatenate([ec["labels"], np.full(n, photo, np.int16)]),
             sources=np.concatenate([ec["sources"], np.full(n, SOURCES.index("photo"), np.int8)]),
             names=np.concatenate([ec["names"], np.array(names)]))
    print(f"rebuilt {src / 'train.npz'}: {len(ec['images'])} emoji+clipart images, {n} photo crops of {len(manifest)} photographs")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=default_cache())
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pack", type=Path, default=None, help="write the training split, small, into this folder (after a prepare)")
    ap.add_argument("--photo-px", type=int, default=1280, help="--pack: long side of the carried photographs (the H200 run: 1280)")
    ap.add_argument("--jpeg-quality", type=int, default=90, help="--pack: JPEG quality of the carried photographs")
    ap.add_argument("--parts", type=int, default=1, help="--pack: cut the emoji+clipart stream into this many files")
    ap.add_argument("--unpack", type=Path, default=None, help="rebuild train.npz in this packed folder")
    a = ap.parse_args()
    if a.pack:
        return pack(a.cache, a.pack, a.photo_px, a.jpeg_quality, a.parts)
    if a.unpack:
        return unpack(a.unpack, a.workers)
    x = fetch(a.cache / "raw")
    e_items, e_labels = emoji_items(x)
    c_items, c_labels = clipart_items(x)
    labels = e_labels + c_labels + ["photo"]
    lab_id = {l: i for i, l in enumerate(labels)}

    splits = {"train": {"images": [], "labels": [], "sources": [], "names": []},
              "val": {"images": [], "labels": [], "sources": [], "names": []}}

    for src_id, items in ((0, e_items), (1, c_items)):
        group_hash = {}
        for f, _, g in items:
            group_hash.setdefault(g, file_hash(f) if src_id == 1 else int(hashlib.sha1(g.encode()).hexdigest()[:12], 16))
        sizes = {}
        for _, _, g in items:
            sizes[g] = sizes.get(g, 0) + 1
        val = split_ids(list(group_hash.items()), sizes)
        with ProcessPoolExecutor(a.workers) as pool:
            arrays = list(pool.map(load_one, [(f, a.size) for f, _, _ in items], chunksize=32))
        for (f, lab, g), arr in zip(items, arrays):
            if arr is None:
                continue
            s = splits["val" if g in val else "train"]
            s["images"].append(arr); s["labels"].append(lab_id[lab]); s["sources"].append(src_id); s["names"].append(str(f.name))
        print(f"{SOURCES[src_id]}: {len(items)} files, {len(val)} validation groups")

    plan = photo_plan(x)
    for p, is_val, seed, name in plan:
        crops = photo_crops(p, PHOTO_CROPS_VAL if is_val else PHOTO_CROPS_TRAIN, a.size, seed=seed)
        s = splits["val" if is_val else "train"]
        for j, c in enumerate(crops):
            s["images"].append(c); s["labels"].append(lab_id["photo"]); s["sources"].append(2); s["names"].append(f"{name}#{j}")
    print(f"photo: {len(plan)} photographs, {sum(v for _, v, _, _ in plan)} for validation")

    out = a.cache / "data"
    out.mkdir(parents=True, exist_ok=True)
    for name, s in splits.items():
        np.savez(out / f"{name}.npz", images=np.stack(s["images"]), labels=np.array(s["labels"], np.int16),
                 sources=np.array(s["sources"], np.int8), names=np.array(s["names"]))
        counts = np.bincount(np.array(s["sources"]), minlength=3)
        print(name, len(s["images"]), dict(zip(SOURCES, counts.tolist())))
    (out / "labels.json").write_text(json.dumps({"labels": labels, "sources": list(SOURCES), "size": a.size}, indent=1))


if __name__ == "__main__":
    main()
