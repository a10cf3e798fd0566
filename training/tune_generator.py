"""Choose the generator's default sampling settings (imagefolder/sampling.py DEFAULTS, the
package's generator.defaults) on a tuning seed, so that the report (evaluate_generator.py, seed 0)
is measured on samples the choice never saw.

    python3 training/tune_generator.py --gen <cache>/gen/gen-ckpt.pt \\
        --tokenizer training/checkpoints/imagefolder-mini.pt --out models/imagefolder-mini \\
        --settings "5,600,0.95,1;7,600,0.95,1;7,200,0.95,1"

Each setting is "cfg,topK,topP,temperature". For each: --per-class samples of every class with
seed --seed (default 1000), judged by imagefolder/judge.py's classifier (the report's); prints the mean accuracy
over classes and per class, and records the table in <out>/eval.json under "generatorTuning"
(evaluate.py and evaluate_generator.py keep it). The best setting is printed; copying it into
DEFAULTS and re-exporting is left to the person, who also sees the per-class spread.
About 40 s of CPU per setting at 16 samples x 9 classes.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from imagefolder.checkpoint import load_generator, load_tokenizer
from imagefolder.data import load_split, smoke_split
from imagefolder.judge import fit_judge, per_class_accuracy, sample_images, teacher_features


def parse_settings(text):
    out = []
    for spec in text.split(";"):
        cfg, k, p, t = (float(v) for v in spec.split(","))
        out.append({"cfg": cfg, "topK": int(k), "topP": p, "temperature": t})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", type=Path, required=True)
    ap.add_argument("--tokenizer", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True, help="model folder whose eval.json gets the table")
    ap.add_argument("--data", type=Path, default=Path.home() / ".cache" / "imagefolder-inspector" / "data")
    ap.add_argument("--settings", required=True, help='"cfg,topK,topP,temperature;..."')
    ap.add_argument("--per-class", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1000, help="tuning seed; keep it apart from the report's (0)")
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--smoke", action="store_true", help="generated shapes instead of the prepared data (CI)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tok, tok_ck = load_tokenizer(a.tokenizer)
    gen, gen_ck = load_generator(a.gen)
    classes = gen_ck["classes"]
    train = smoke_split(48, tok.cfg.image_size, seed=3) if a.smoke else load_split(a.data, "train")[0]
    teacher, judge, _, _ = fit_judge(tok_ck, classes, train)

    rows = []
    for s in parse_settings(a.settings):
        t0 = time.process_time()
        images, target, _ = sample_images(gen, tok, a.per_class, a.seed, s["cfg"], a.batch,
                                            top_k=s["topK"], top_p=s["topP"], temperature=s["temperature"])
        acc = per_class_accuracy(judge(teacher_features(teacher, images)[1]), target, classes)
        rows.append({**s, "mean": round(acc["mean"], 4), "perClass": {c: round(v, 3) for c, v in acc["perClass"].items()}})
        print(f"cfg {s['cfg']:g} top-k {s['topK']} top-p {s['topP']:g} temperature {s['temperature']:g}: "
              f"mean {acc['mean']:.3f}  " + " ".join(f"{c[:8]} {v:.2f}" for c, v in acc["perClass"].items()) +
              f"  ({time.process_time() - t0:.0f} s CPU)", flush=True)
    best = max(rows, key=lambda r: r["mean"])
    print(f"best on seed {a.seed}: cfg {best['cfg']:g}, top-k {best['topK']}, top-p {best['topP']:g}, "
          f"temperature {best['temperature']:g} (mean {best['mean']:.3f})")

    eval_json = a.out / "eval.json"
    report = json.loads(eval_json.read_text()) if eval_json.exists() else {}
    report["generatorTuning"] = {"checkpointSteps": gen_ck["step"], "seed": a.seed, "samplesPerClass": a.per_class,
                                 "settings": rows, "best": {k: best[k] for k in ("cfg", "topK", "topP", "temperature")}}
    eval_json.write_text(json.dumps(report, indent=1) + "\n")
    print(f"recorded under generatorTuning in {eval_json}")


if __name__ == "__main__":
    main()
