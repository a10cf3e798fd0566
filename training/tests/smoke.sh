#!/usr/bin/env bash
# Training smoke test (CI): a few steps on generated images, export, evaluate, load in onnxruntime;
# the GPU recipe's plumbing (gpu_run.sh --smoke on the CPU) and its data packing.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$PY training/train.py --smoke --out "$tmp/run" > "$tmp/train.out"
grep -q "done:" "$tmp/run/train.log"
$PY training/export.py --ckpt "$tmp/run/ckpt.pt" --out "$tmp/pkg" --fixtures "$tmp/fix" --weights "$tmp/w.pt" 2> "$tmp/export.err" >/dev/null
$PY training/evaluate.py --ckpt "$tmp/run/ckpt.pt" --out "$tmp/pkg" --smoke > /dev/null
$PY -c "import json,sys; e=json.load(open('$tmp/pkg/eval.json')); assert len(e['psnrByScale'])==10, e; m=json.load(open('$tmp/pkg/manifest.json')); assert m['evaluation']['psnrFull']"
$PY -c "import onnx; [onnx.checker.check_model(onnx.load('$tmp/pkg/'+g)) for g in ('encoder.onnx','decoder.onnx')]"
$PY training/train.py --smoke --init "$tmp/w.pt" --semantic-weight 0.25 --semantic-scales 3 --out "$tmp/run2" > /dev/null   # resume from shipped weights
grep -q "initialised from" "$tmp/run2/train.log"
# an experiment row's evaluation (experiment.py): --quick decodes the full scale and each branch alone, and
# the row counts the fine-tune's own steps, not the totals behind its weights
$PY training/evaluate.py --ckpt "$tmp/run2/ckpt.pt" --out "$tmp/quick" --smoke --quick > /dev/null
$PY - "$tmp/quick/eval.json" "$tmp/run2/ckpt.pt" <<'PY'
import json, math, sys, torch
sys.path.insert(0, "training")
from experiment import row
e, ck = json.load(open(sys.argv[1])), torch.load(sys.argv[2])
assert e["quick"] and len(e["psnrByScale"]) == 1 and math.isnan(e["ssimByScale"][0]["all"]), e["psnrByScale"]
assert e["training"]["thisRun"]["steps"] == ck["step"] < e["training"]["steps"], e["training"]
r = row("smoke", e, "cmd")
assert r.startswith(f"| smoke | {ck['step']} ({ck['images_seen']}) | "), r
acc, (lo, hi) = e["linearProbe"]["accuracy"], e["linearProbe"]["semanticMinusDetailCI95"]
assert lo <= acc["semantic"] - acc["detail"] + 1e-3 and acc["semantic"] - acc["detail"] - 1e-3 <= hi, (lo, hi, acc)
assert f" [{lo:+.2f}, {hi:+.2f}] |" in r, r  # the row shows the paired interval next to the gap
PY
$PY - "$tmp/w.pt" "$tmp/run2/ckpt.pt" <<'PY'   # the flag reached the loss's config; the shipped run is counted as base
import sys, torch
w, ck = torch.load(sys.argv[1]), torch.load(sys.argv[2])
assert ck["train_config"]["semantic_weight"] == 0.25 and ck["train_config"]["semantic_scales"] == 3, ck["train_config"]
assert not ck["decoder_only"] and ck["base"]["step"] == w["step"] and ck["base"]["images_seen"] == w["images_seen"], ck["base"]
PY
if $PY training/train.py --smoke --tf32 --out "$tmp/run-tf32" > /dev/null 2> "$tmp/tf32.err"; then exit 1; fi   # TF32 is CUDA-only: refused, not ignored
grep -q "^--tf32 needs a CUDA device" "$tmp/tf32.err"
[ ! -e "$tmp/run-tf32" ]
# the all-stages teacher feature is wider than the shared projection's input: refused unless a head maps it
if $PY training/train.py --smoke --semantic-teacher-feature all-stages --out "$tmp/run-all4" > /dev/null 2> "$tmp/all4.err"; then exit 1; fi
grep -q "^--semantic-teacher-feature all-stages needs --semantic-target head" "$tmp/all4.err"
$PY training/train.py --smoke --decoder-only --detail-dropout 0.5 --init "$tmp/w.pt" --out "$tmp/run3" > /dev/null   # better decoder, same tokens (dropout: the semantic-only decode stays in distribution)
$PY - "$tmp/w.pt" "$tmp/run3/ckpt.pt" <<'PY'
import sys, torch
w, ck = torch.load(sys.argv[1]), torch.load(sys.argv[2])
assert ck["decoder_only"] and ck["base"]["step"] == w["step"], ck.get("base")
assert ck["train_config"]["detail_dropout"] == 0.5, ck["train_config"]
frozen = [k for k in w["ema"] if not k.startswith("decoder.")]
for part in ("model", "ema"):   # encoder, quantizers, codebooks: exactly the weights the tokens came from
    assert all(torch.equal(ck[part][k], w["ema"][k].float()) for k in frozen), part
assert any(not torch.equal(ck["ema"][k], w["ema"][k].float()) for k in w["ema"] if k.startswith("decoder.")), "the decoder learned"
PY
node training/tests/check_package.js "$tmp/pkg" "$tmp/fix"
$PY training/train_generator.py --smoke --device cpu --tokenizer "$tmp/run/ckpt.pt" --out "$tmp/gen" > /dev/null
grep -q "tokenized 24 images with tokenizer .* on cpu" "$tmp/gen/train-generator.log"
if ! $PY -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then   # no GPU here: one clear line
  if $PY training/train_generator.py --smoke --device cuda --tokenizer "$tmp/run/ckpt.pt" --out "$tmp/gen-cuda" > /dev/null 2> "$tmp/cuda.err"; then exit 1; fi
  grep -q "^--device cuda: this PyTorch .* sees no CUDA device" "$tmp/cuda.err"
  [ ! -e "$tmp/gen-cuda" ]
fi
$PY training/export_generator.py --gen "$tmp/gen/gen-ckpt.pt" --tokenizer "$tmp/run/ckpt.pt" --out "$tmp/pkg" --fixtures "$tmp/genfix" \
    --weights "$tmp/gen-w.pt" 2> "$tmp/export-gen.err" > /dev/null
$PY training/train_generator.py --smoke --init "$tmp/gen-w.pt" --tokenizer "$tmp/run/ckpt.pt" --out "$tmp/gen2" > /dev/null   # resume from shipped weights
grep -q "initialised from" "$tmp/gen2/train-generator.log"
node training/tests/check_generator.js "$tmp/pkg" "$tmp/genfix"
$PY training/tune_generator.py --smoke --gen "$tmp/gen/gen-ckpt.pt" --tokenizer "$tmp/run/ckpt.pt" --out "$tmp/pkg" \
    --per-class 2 --batch 6 --settings "0,600,0.95,1;3,20,0.9,0.8" > /dev/null
$PY training/evaluate_generator.py --smoke --gen "$tmp/gen/gen-ckpt.pt" --tokenizer "$tmp/run/ckpt.pt" --out "$tmp/pkg" \
    --per-class 2 --cfgs 0,default --batch 6 > /dev/null
$PY - "$tmp/pkg" <<'PY'   # the generator section sits next to the tokenizer's, with sane values
import json, math, sys, pathlib
pkg = pathlib.Path(sys.argv[1])
e, m = json.loads((pkg / "eval.json").read_text()), json.loads((pkg / "manifest.json").read_text())
g = e["generator"]
assert len(e["psnrByScale"]) == 10 and g["classes"] == m["classes"], g
assert [s["cfg"] for s in g["settings"]] == [0, m["generator"]["defaults"]["cfg"]], g["settings"]
for acc in [g["validation"]["accuracy"]] + [s["accuracy"] for s in g["settings"]]:
    assert set(acc["perClass"]) <= set(g["classes"]) and all(0 <= v <= 1 for v in acc["perClass"].values()), acc
    assert 0 <= acc["mean"] <= 1, acc
for d in [g["validation"]["frechetTrainImages"]] + [s["frechet"] for s in g["settings"]]:
    assert math.isfinite(d) and d > -1e-6, d
assert (pkg / "eval.md").read_text().count("## Generator") == 1 and (pkg / "generator-sheet.png").stat().st_size > 0
t = e["generatorTuning"]   # tune_generator.py's table, shown in the report with its best row
assert [(s["cfg"], s["topK"], s["topP"], s["temperature"]) for s in t["settings"]] == [(0, 600, 0.95, 1), (3, 20, 0.9, 0.8)], t
top = max(t["settings"], key=lambda s: s["mean"])
assert t["best"] == {k: top[k] for k in ("cfg", "topK", "topP", "temperature")}, t
assert "tune_generator.py" in (pkg / "eval.md").read_text()
PY
$PY training/evaluate.py --ckpt "$tmp/run/ckpt.pt" --out "$tmp/pkg" --smoke > /dev/null   # a rerun keeps the generator's sections
$PY -c "import json; e = json.load(open('$tmp/pkg/eval.json')); assert 'generator' in e and 'generatorTuning' in e; assert open('$tmp/pkg/eval.md').read().count('## Generator') == 1"
bash training/gpu_run.sh --help | grep -q "^usage: bash training/gpu_run.sh"
PYTHON=$PY bash training/gpu_run.sh --smoke --device cpu --threads 2 --data "$tmp/gpu-data" --out "$tmp/gpu" \
  --tok-args "--semantic-target head --semantic-teacher-feature all-stages --semantic-grad straight-through --detail-dropout 0.5 --semantic-warmup 2" \
  --dec-seconds 20 --dec-args "--detail-dropout 0.25" > /dev/null
$PY - "$tmp/gpu" <<'PY'   # both stages ran and left compact float32 weights that load like checkpoints
import sys, pathlib, torch
out = pathlib.Path(sys.argv[1])
tok, gen = torch.load(out / "imagefolder-mini-gpu.pt"), torch.load(out / "imagefolder-mini-gpu-generator.pt")
for ck in (tok, gen):
    assert "opt" not in ck and "model" not in ck and ck["step"] > 0, sorted(ck)
    assert all(v.dtype == torch.float32 for v in ck["ema"].values())
assert "teacher" in tok and "labels" in tok and gen["classes"] == ["a", "b", "c"]
assert "done:" in (out / "tokenizer.log").read_text() and "done:" in (out / "generator.log").read_text()
# the decoder stage ran on the tokenizer stage's weights and its result is what was compacted
assert tok["decoder_only"] and tok["train_config"]["detail_dropout"] == 0.25 and "done:" in (out / "decoder.log").read_text()
tok_stage = torch.load(out / "work" / "tok" / "ckpt.pt")
assert tok["base"]["step"] == tok_stage["step"], (tok["base"], tok_stage["step"])
tc = tok_stage["train_config"]  # --tok-args reached train.py: the semantic-branch recipe options
assert (tc["semantic_target"], tc["semantic_teacher_feature"], tc["semantic_grad"], tc["detail_dropout"], tc["semantic_warmup_steps"]) == ("head", "all-stages", "straight-through", 0.5, 2), tc
assert tok_stage["sem_head"] is not None  # the separate projection head is saved for a resume
PY
PYTHONPATH=training $PY training/tests/check_semantic.py > /dev/null   # where the semantic loss's gradient goes
$PY training/tests/check_pack.py > /dev/null   # the data a GPU machine gets: prepare.py --pack / --unpack
# evaluate.py's PSNR/SSIM are the panel's: the same numbers from imagefolder/metrics.py and metrics.ts
node_modules/.bin/esbuild src/extension/core/metrics.ts src/extension/core/image.ts --bundle --platform=node --format=cjs \
    --target=node20 --external:sharp --external:onnxruntime-node --outdir="$tmp/core" --log-level=error
PYTHONPATH=training $PY training/tests/check_metrics.py "$tmp/pairs.json"
node training/tests/check_metrics.js "$tmp/pairs.json" "$tmp/core" > /dev/null
$PY - <<'PY'   # scripts depend on the package (and config.py), never on each other
import ast, pathlib
scripts = {p.stem: p for p in pathlib.Path("training").glob("*.py")}
for name, p in scripts.items():
    for n in ast.walk(ast.parse(p.read_text())):
        mods = [a.name for a in n.names] if isinstance(n, ast.Import) else [n.module] if isinstance(n, ast.ImportFrom) else []
        bad = [m for m in mods if m and m.split(".")[0] in scripts and m != "config"]
        assert not bad, f"{p} imports the script(s) {bad}: move what they share into training/imagefolder/"
    assert "sys.path" not in p.read_text(), f"{p} edits sys.path (training/ is on it when a script runs)"
PY
echo "training smoke test: 1 passed, 0 failed"
