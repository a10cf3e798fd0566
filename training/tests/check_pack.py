"""prepare.py end to end on a small fake source tree (emoji, clipart, wallpapers laid out as the
npm and Debian packages lay them out), then --pack and --unpack: the rebuilt train.npz must hold
the prepared split's rows in the same order, the emoji and clipart images bit for bit, the photo
crops within JPEG re-encoding error of the prepared ones.

    /usr/bin/python3 training/tests/check_pack.py
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

PREPARE = Path(__file__).resolve().parents[1] / "data" / "prepare.py"


def fake_sources(x: Path, rng):
    emoji_dir = x / "package" / "img" / "google" / "64"
    emoji_dir.mkdir(parents=True)
    meta = []
    for i in range(12):
        rgba = np.zeros((64, 64, 4), np.uint8)
        rgba[8 + i:40 + i, 10:50] = [*rng.integers(0, 256, 3), 255]
        Image.fromarray(rgba).save(emoji_dir / f"e{i}.png")
        meta.append({"category": ("Smileys & Emotion", "Flags")[i % 2], "image": f"e{i}.png", "has_img_google": True})
    (x / "package" / "emoji.json").write_text(json.dumps(meta))
    for folder in ("animals", "shapes"):
        d = x / "deb" / "usr" / "share" / "openclipart" / "png" / folder
        d.mkdir(parents=True)
        for i in range(6):
            rgba = np.zeros((90 + 10 * i, 120, 4), np.uint8)
            rgba[20:70, 30:90] = [*rng.integers(0, 256, 3), 200]
            Image.fromarray(rgba).save(d / f"{folder}{i}.png")
    for i in range(5):  # smooth colour fields with texture, like a photograph at this scale
        d = x / "deb" / "usr" / "share" / "wallpapers" / f"Wall{i}" / "contents" / "images"
        d.mkdir(parents=True)
        yy, xx = np.mgrid[:500, :700] / 100.0
        img = np.stack([np.sin(xx + i), np.cos(yy * 1.3 - i), np.sin(xx * yy / 3)], -1) * 80 + 128
        img += rng.normal(0, 6, img.shape)
        Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(d / "700x500.jpg", quality=95)
    (x / ".complete").touch()


def run(*args):
    subprocess.run([sys.executable, str(PREPARE), *args], check=True, stdout=subprocess.DEVNULL)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cache, carry = Path(tmp) / "cache", Path(tmp) / "carry"
        fake_sources(cache / "raw" / "x", np.random.default_rng(0))
        run("--cache", str(cache))
        run("--cache", str(cache), "--pack", str(carry), "--parts", "3")   # carried in three calls
        assert not (carry / "train.npz").exists() and not (carry / "ec.npz.xz").exists()
        assert sorted(f.name for f in carry.glob("ec.npz.xz.part*")) == [f"ec.npz.xz.part{k}" for k in range(3)]
        run("--unpack", str(carry))
        want, got = np.load(cache / "data" / "train.npz"), np.load(carry / "train.npz")
        for k in ("labels", "sources", "names"):
            assert np.array_equal(want[k], got[k]), k
        photo = want["sources"] == 2
        assert photo.sum() >= 600 and (~photo).sum() > 0, np.bincount(want["sources"])
        assert np.array_equal(want["images"][~photo], got["images"][~photo]), "emoji and clipart rows differ"
        diff = np.abs(want["images"][photo].astype(np.int16) - got["images"][photo]).mean()
        assert diff < 2.0, f"photo crops differ by {diff:.2f} levels on average"
        carried = sorted(f.name for f in carry.rglob("*") if f.is_file() and f.name != "train.npz")
        print(f"pack/unpack: {len(want['labels'])} rows equal, photo crops within {diff:.2f} levels, carried {carried}")


if __name__ == "__main__":
    main()
