"""One semantic-branch experiment: a short train.py fine-tune, then evaluate.py --quick (full, semantic-only and detail-only
PSNR, the linear probe, code usage; no SSIM), then one row in
training/experiments.md with the exact command (issue: make the semantic branch semantic).

    python3 training/experiment.py NAME [--minutes 20] [--threads 1] -- <train.py arguments>
    python3 training/experiment.py NAME --eval-only --ckpt FILE    # a row for an existing checkpoint

Runs train.py and evaluate.py as separate processes (each script depends only on the package), so an
interrupted experiment resumes like any train.py run: run the same command again.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("IMAGEFOLDER_CACHE", Path.home() / ".cache" / "imagefolder-inspector"))
TABLE = HERE / "experiments.md"
HEADER = ("| experiment | steps (images) | probe semantic | probe detail | sem - det | semantic-only PSNR | detail-only PSNR "
          "| full PSNR (all / emoji / clipart) | used (det, sem) | command |\n"
          "|---|---|---|---|---|---|---|---|---|---|\n")


def row(name: str, ev: dict, command: str) -> str:
    p, full, only = ev["linearProbe"]["accuracy"], ev["psnrByScale"][-1], ev["branchOnly"]
    used = {c["branch"]: c["used"] for c in ev["codebook"]}
    ci = ev["linearProbe"].get("semanticMinusDetailCI95")  # paired bootstrap over the test images
    gap = f"{p['semantic'] - p['detail']:+.3f}" + (f" [{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else "")
    own = ev["training"].get("thisRun", ev["training"])  # a fine-tune's own steps, not the totals behind its weights
    return (f"| {name} | {own.get('steps', '?')} ({own.get('images', '?')}) | {p['semantic']:.3f} | {p['detail']:.3f} | {gap} "
            f"| {only['semantic']['psnr']['all']:.2f} | {only['detail']['psnr']['all']:.2f} "
            f"| {full['all']:.2f} / {full.get('emoji', float('nan')):.2f} / {full.get('clipart', float('nan')):.2f} "
            f"| {used.get('detail')}, {used.get('semantic')} | `{command}` |\n")


def main():
    argv = sys.argv[1:]
    train_args = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--ckpt", type=Path, default=None)
    a = ap.parse_args(own)
    out = CACHE / "experiments" / a.name
    out.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    if a.eval_only:
        ckpt = a.ckpt
        command = f"experiment.py {a.name} --eval-only --ckpt {a.ckpt}"
    else:
        ckpt = out / "ckpt.pt"
        cmd = [py, str(HERE / "train.py"), "--out", str(out), "--data", str(CACHE / "data"),
               "--hours", f"{a.minutes / 60:.4f}", "--threads", str(a.threads), *train_args]
        subprocess.run(cmd, check=True)
        command = "train.py " + " ".join(shlex.quote(x) for x in train_args) + f" --hours {a.minutes / 60:.3f}"
    subprocess.run([py, str(HERE / "evaluate.py"), "--ckpt", str(ckpt), "--out", str(out / "eval"),
                    "--data", str(CACHE / "data"), "--threads", str(a.threads), "--quick"], check=True)
    ev = json.loads((out / "eval" / "eval.json").read_text())
    if not TABLE.exists():
        TABLE.write_text("# Semantic-branch experiments\n\n" + HEADER)
    with open(TABLE, "a") as f:
        f.write(row(a.name, ev, command))
    print(row(a.name, ev, command), end="")


if __name__ == "__main__":
    main()
