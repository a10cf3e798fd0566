"""Evaluate a class-conditional generator: samples per class, decoded by its tokenizer, judged in
the feature space of the tokenizer's frozen semantic teacher. Adds a "generator" section to
<out>/eval.json (the tokenizer's sections stay), a "Generator" section to <out>/eval.md and
generator-sheet.png.

    python3 training/evaluate_generator.py --gen <cache>/gen/gen-ckpt.pt \\
        --tokenizer training/checkpoints/imagefolder-mini.pt --out models/imagefolder-mini

Per guidance setting (--cfgs; "default" is the package default; 0 is no guidance): accuracy per
class of a classifier (a linear head on the frozen teacher's pooled features, fitted here to the
training images of the generator's classes) on the samples, and the Frechet distance between the
samples and the validation images of those classes in the teacher's pooled feature space. Two
references on real images: the classifier's accuracy on the validation images (the ceiling of the
accuracy) and the Frechet distance of as many class-balanced training images (the floor of the
distance at this sample size and class mix). evaluate.py keeps these sections when it reruns.

Sampling follows the host (imagefolder/sampling.py): sample i of class c with seed s is the
extension's sample i of that class and seed. With the defaults (3 settings x 9 classes x 32
samples) it costs about 4 minutes of CPU time on one thread (228 s measured); use --threads 1
on a shared machine.
"""
import argparse
import json
import re
import time
from pathlib import Path

import numpy as np
import torch

from imagefolder.checkpoint import load_generator, load_tokenizer
from imagefolder.data import load_split, smoke_split
from imagefolder.judge import fit_judge, of_classes, per_class_accuracy, sample_images, teacher_features, teacher_labels
from imagefolder.metrics import frechet
from imagefolder.sampling import DEFAULTS


def class_balanced(target, n_classes, n, seed):
    """Indices of up to n images of each class."""
    rng = np.random.default_rng(seed)
    pick = [rng.permutation(np.flatnonzero(target == c))[:n] for c in range(n_classes)]
    return np.concatenate(pick)


def write_sheet(images_by_setting, n_classes, n_per_class, n_cols, out_png: Path):
    """A row per class; for each setting, its first n_cols samples, settings separated by a gap."""
    from PIL import Image
    S, pad, gap = images_by_setting[0].shape[1], 2, 12
    n_cols = min(n_cols, n_per_class)
    width = len(images_by_setting) * n_cols * (S + pad) + (len(images_by_setting) - 1) * gap
    grid = np.full((n_classes * (S + pad), width, 3), 255, np.uint8)
    for s, imgs in enumerate(images_by_setting):
        x0 = s * (n_cols * (S + pad) + gap)
        for c in range(n_classes):
            for j in range(n_cols):
                x = x0 + j * (S + pad)
                grid[c * (S + pad):c * (S + pad) + S, x:x + S] = imgs[c * n_per_class + j]
    Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST).save(out_png)


def tuning_markdown(tuning):
    """tune_generator.py's table: how the default sampling settings were chosen."""
    lines = ["", f"Default settings chosen by `training/tune_generator.py` on seed {tuning['seed']} "
             f"({tuning['samplesPerClass']} samples per class, generator at step {tuning['checkpointSteps']}), "
             "apart from the report's seed: mean accuracy over classes per setting.", "",
             "| cfg | top-k | top-p | temperature | mean accuracy |", "|---|---|---|---|---|"]
    for r in tuning["settings"]:
        mark = "**" if all(r[k] == tuning["best"][k] for k in tuning["best"]) else ""
        lines.append(f"| {r['cfg']:g} | {r['topK']} | {r['topP']:g} | {r['temperature']:g} | {mark}{r['mean']:.3f}{mark} |")
    return lines


def markdown(ev, sheet_name, tuning=None):
    settings = ev["settings"]
    head = ["class", "real (validation)"] + [f"cfg {s['cfg']:g}" for s in settings]
    lines = ["## Generator", "",
             f"Generator: {ev['checkpoint']['steps']} steps, {ev['checkpoint']['hours']:.2f} h "
             f"(width {ev['checkpoint']['config']['width']}, depth {ev['checkpoint']['config']['depth']}). "
             f"{ev['samplesPerClass']} samples per class and setting (seed {ev['seed']}, top-k {ev['sampling']['topK']}, "
             f"top-p {ev['sampling']['topP']}, temperature {ev['sampling']['temperature']}; guidance ramps linearly "
             f"to cfg at the last scale, cfg 0 = none). Judge: {ev['classifier']}.", "",
             "Accuracy per class of that classifier on the samples; the validation column is its "
             "accuracy on real images (number of images), the ceiling.", "",
             "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    real = ev["validation"]["accuracy"]
    for c in ev["classes"]:
        cells = [c, f"{real['perClass'][c]:.2f} ({real['images'][c]})" if c in real["perClass"] else "-"]
        cells += [f"{s['accuracy']['perClass'][c]:.2f}" for s in settings]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("| **mean over classes** | " + " | ".join([f"**{real['mean']:.3f}**"] + [f"**{s['accuracy']['mean']:.3f}**" for s in settings]) + " |")
    lines.append("| Frechet distance to validation | " + " | ".join(
        [f"{ev['validation']['frechetTrainImages']:.3g} (training images)"] + [f"{s['frechet']:.3g}" for s in settings]) + " |")
    lines += ["", f"Frechet distance: teacher pooled features ({ev['featureDim']}-d) of the samples of all classes "
              f"versus the {ev['validation']['images']} validation images of these classes; the validation column "
              "is as many class-balanced training images, the floor at this sample size and class mix. "
              "Sampling and decoding took " + ", ".join(f"{s['cpuSeconds']:.0f} s" for s in settings) + " of CPU time; "
              f"the whole evaluation {ev['seconds']:.0f} s ({ev['cpuSeconds']:.0f} s of CPU time).", "",
              f"![generated samples]({sheet_name})", "",
              f"Rows: {', '.join(ev['classes'])}. Column groups: " +
              ", ".join(f"cfg {s['cfg']:g}" for s in settings) + f" (first {ev['sheetColumns']} samples each)."]
    if tuning:
        lines += tuning_markdown(tuning)
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", type=Path, required=True, help="generator checkpoint (train_generator.py) or compact weights")
    ap.add_argument("--tokenizer", type=Path, required=True, help="the tokenizer checkpoint or weights it was trained on")
    ap.add_argument("--out", type=Path, required=True, help="model folder: eval.json, eval.md, generator-sheet.png")
    ap.add_argument("--data", type=Path, default=None, help="prepared data (default: <cache>/data)")
    ap.add_argument("--per-class", type=int, default=32, help="samples per class and guidance setting")
    ap.add_argument("--cfgs", default="0,1,default", help="guidance settings; 0 = no guidance")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=24, help="samples generated together")
    ap.add_argument("--sheet", type=int, default=8, help="samples per class and setting on the contact sheet")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="generated shapes instead of the prepared data (CI)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t_start, cpu_start = time.time(), time.process_time()
    tok, tok_ck = load_tokenizer(a.tokenizer)
    gen, gen_ck = load_generator(a.gen)
    classes = gen_ck["classes"]

    if a.smoke:
        val, train = smoke_split(24, tok.cfg.image_size, seed=2), smoke_split(48, tok.cfg.image_size, seed=3)
    else:
        data_dir = a.data or Path.home() / ".cache" / "imagefolder-inspector" / "data"
        val, _ = load_split(data_dir, "val")
        train, _ = load_split(data_dir, "train")

    teacher, judge, train_feats, train_target = fit_judge(tok_ck, classes, train)
    val_images, val_target = of_classes(val, teacher_labels(classes, tok_ck["labels"]))
    val_feats, val_judged = teacher_features(teacher, val_images)
    floor_feats = train_feats[class_balanced(train_target, len(classes), a.per_class, a.seed)]

    settings, sheets = [], []
    for spec in a.cfgs.split(","):
        cfg = DEFAULTS["cfg"] if spec.strip() == "default" else float(spec)
        images, target, cpu = sample_images(gen, tok, a.per_class, a.seed, cfg, a.batch)
        feats, judged = teacher_features(teacher, images)
        pred = judge(judged)
        settings.append({"cfg": cfg, "accuracy": per_class_accuracy(pred, target, classes),
                         "frechet": frechet(feats, val_feats), "cpuSeconds": round(cpu, 1)})
        sheets.append(images)
        print(f"cfg {cfg:g}: mean class accuracy {settings[-1]['accuracy']['mean']:.3f}, "
              f"Frechet {settings[-1]['frechet']:.2f}, {cpu:.0f} s CPU", flush=True)

    ev = {
        "checkpoint": {"file": a.gen.name, "steps": gen_ck["step"], "hours": round(gen_ck["elapsed"] / 3600, 3),
                       "config": gen_ck["config"]},
        "classes": classes, "samplesPerClass": a.per_class, "seed": a.seed,
        "sampling": {k: DEFAULTS[k] for k in ("topK", "topP", "temperature")},
        "classifier": f"linear classifier of the {len(classes)} classes on the frozen teacher's pooled features of all stages "
                      f"({val_judged.shape[1]} values), fitted to {len(train_target)} training images with class-balanced weights",
        "featureDim": int(val_feats.shape[1]),
        "validation": {"images": int(len(val_images)), "accuracy": per_class_accuracy(judge(val_judged), val_target, classes),
                       "frechetTrainImages": frechet(floor_feats, val_feats)},
        "settings": settings,
        "sheetColumns": min(a.sheet, a.per_class),
    }
    a.out.mkdir(parents=True, exist_ok=True)
    sheet_name = "generator-sheet.png"
    write_sheet(sheets, len(classes), a.per_class, a.sheet, a.out / sheet_name)
    ev["seconds"], ev["cpuSeconds"] = round(time.time() - t_start, 1), round(time.process_time() - cpu_start, 1)

    eval_json = a.out / "eval.json"
    report = json.loads(eval_json.read_text()) if eval_json.exists() else {}
    report["generator"] = ev
    eval_json.write_text(json.dumps(report, indent=1) + "\n")
    eval_md = a.out / "eval.md"
    md = eval_md.read_text() if eval_md.exists() else f"# Evaluation of {a.out.name}\n"
    md = re.split(r"\n## Generator\n", md)[0].rstrip("\n") + "\n\n"  # a rerun replaces its own section
    eval_md.write_text(md + markdown(ev, sheet_name, report.get("generatorTuning")))
    print(f"wrote the generator section of {eval_json} and {eval_md} in {ev['seconds']:.0f} s ({ev['cpuSeconds']:.0f} s CPU)")


if __name__ == "__main__":
    main()
