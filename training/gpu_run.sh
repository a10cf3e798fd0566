#!/usr/bin/env bash
# The whole GPU training run in one command (issue 16: the H200 run of 2026-12-04). --help says how.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bash training/gpu_run.sh [options]

Continues the shipped tokenizer and trains a generator on its tokens, on a CUDA machine, from
prepared data; each stage runs for a budget of seconds of training steps:
  1. data       <data>/train.npz; rebuilt first when <data> is a folder written by
                `prepare.py --pack` (emoji+clipart xz, photographs re-cut with prepare.py's rule)
  2. tokenizer  train.py --init <init> --device <device> --tf32 for --tok-seconds
  2b. decoder   only with --dec-seconds: train.py --decoder-only on stage 2's weights (tokens fixed;
                buys back the full-scale PSNR a semantic-branch recipe costs, experiments.md session 11)
  3. compact    <out>/imagefolder-mini-gpu.pt (float32 EMA weights, teacher, provenance)
  4. generator  train_generator.py --tokenizer <that file>, tokenizing on the device, for --gen-seconds
  5. compact    <out>/imagefolder-mini-gpu-generator.pt
Logs: <out>/tokenizer.log, <out>/generator.log; full checkpoints (resumable) under <work>.
Rerun the same command to resume an interrupted stage (a finished stage is not repeated).
Then, on any machine: export.py / export_generator.py / evaluate*.py with these two files
(training/README.md, "Training on a GPU machine").

options (defaults: the H200 run):
  --data DIR           prepared or packed data (default: $IMAGEFOLDER_CACHE/data or ~/.cache/imagefolder-inspector/data)
  --out DIR            where the compact weights and logs go (default: <data>/../gpu)
  --work DIR           full checkpoints (default: <out>/work)
  --device DEV         torch device (default: cuda)
  --no-tf32            plain float32 matmuls (default on CUDA: TF32)
  --init FILE          tokenizer weights to continue (default: training/checkpoints/imagefolder-mini.pt)
  --tok-seconds S      tokenizer budget (default: 290)
  --batch N            tokenizer batch (default: 512)
  --lr X               tokenizer peak learning rate (default: 1e-3)
  --semantic-weight W  semantic InfoNCE weight (default: 0.1, config.py's; 0.5 with the shared target
                       collapsed, with --semantic-target detached and a warm-up it trains stably)
  --tok-args "ARGS"    more train.py options for the tokenizer stage, e.g. the semantic-branch recipe
                       "--semantic-grad straight-through --semantic-target detached --semantic-warmup 50
                       --detail-dropout 0.25" (training/experiments.md)
  --dec-seconds S      decoder-only stage after the tokenizer (default: 0 = none)
  --dec-args "ARGS"    more train.py options for that stage, e.g. "--detail-dropout 0.1"
  --gen-seconds S      generator budget (default: 120)
  --gen-batch N        generator batch (default: 256)
  --gen-lr X           generator peak learning rate (default: 8e-4)
  --threads N          CPU threads per trainer (default: 6)
  --grace S            wall-clock slack over a budget before a stage is stopped (saving) (default: 90)
  --smoke              CPU dry run on generated images with tiny models (CI): checks the plumbing
  -h, --help           this text
environment: PYTHON (default python3)
EOF
}

cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
cache=${IMAGEFOLDER_CACHE:-$HOME/.cache/imagefolder-inspector}
data=$cache/data out="" work="" device=cuda tf32=1 init=training/checkpoints/imagefolder-mini.pt
tok_extra=() dec_extra=()
dec_s=0 tok_s=290 batch=512 lr=1e-3 sw=0.1 gen_s=120 gen_batch=256 gen_lr=8e-4 threads=6 grace=90 smoke=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --no-tf32) tf32=0; shift ;;
    --smoke) smoke=1; shift ;;
    --data|--out|--work|--device|--init|--tok-seconds|--batch|--lr|--semantic-weight|--tok-args|--dec-seconds|--dec-args|--gen-seconds|--gen-batch|--gen-lr|--threads|--grace)
      [ $# -ge 2 ] || { echo "gpu_run.sh: $1 needs a value (--help)" >&2; exit 2; }
      v=$2
      case "$1" in
        --data) data=$v ;; --out) out=$v ;; --work) work=$v ;; --device) device=$v ;; --init) init=$v ;;
        --tok-seconds) tok_s=$v ;; --batch) batch=$v ;; --lr) lr=$v ;; --semantic-weight) sw=$v ;;
        --gen-seconds) gen_s=$v ;; --gen-batch) gen_batch=$v ;; --gen-lr) gen_lr=$v ;; --threads) threads=$v ;;
        --grace) grace=$v ;; --tok-args) read -r -a tok_extra <<< "$v" ;;
        --dec-seconds) dec_s=$v ;; --dec-args) read -r -a dec_extra <<< "$v" ;;
      esac
      shift 2 ;;
    *) echo "gpu_run.sh: unknown option $1 (--help)" >&2; exit 2 ;;
  esac
done
out=${out:-$(dirname "$data")/gpu}
work=${work:-$out/work}
mkdir -p "$out" "$work"
# our own checkpoints hold more than tensors (configs, labels): PyTorch >= 2.6 loads weights only by default
export PYTHONUNBUFFERED=1 TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1
T0=$(date +%s)
stage() { echo "[$(( $(date +%s) - T0 )) s] $*" | tee -a "$out/run.log"; }
hours() { awk "BEGIN { print $1 / 3600 }"; }
# run LIMIT LOG CMD...: a trainer under a wall-clock limit; at the limit it gets SIGINT, finishes its
# step and saves (timeout then says 124), which still counts as done
run() {
  local limit=$1 log=$2 rc=0; shift 2
  timeout -s INT "$limit" "$@" > "$log" 2>&1 || rc=$?
  [ "$rc" = 124 ] && stage "stopped at the wall-clock limit of $limit s (checkpoint saved)"
  [ "$rc" = 0 ] || [ "$rc" = 124 ] || { tail -n 20 "$log" >&2; echo "gpu_run.sh: $* failed ($rc)" >&2; exit 1; }
}

common=(--device "$device" --threads "$threads")
[ "$tf32" = 1 ] && [ "${device%%:*}" = cuda ] && common+=(--tf32)
if [ "$smoke" = 1 ]; then
  tok=(--smoke); gen=(--smoke); dec=(--smoke)   # generated images and tiny models, the trainers' own short budgets
  tok_s=30 gen_s=24
  [ "$dec_s" = 0 ] || dec_s=20
else
  if [ ! -f "$data/train.npz" ]; then
    [ -f "$data/ec.npz.xz" ] || [ -f "$data/ec.npz.xz.part0" ] || { echo "gpu_run.sh: $data has neither train.npz nor a packed split (prepare.py --pack)" >&2; exit 1; }
    stage "data: rebuilding $data/train.npz from the packed split"
    "$PY" training/data/prepare.py --unpack "$data" --workers "$(nproc)"
  fi
  tok=(--data "$data" --init "$init" --batch "$batch" --lr "$lr" --semantic-weight "$sw")
  gen=(--data "$data" --batch "$gen_batch" --lr "$gen_lr")
  dec=(--data "$data" --batch "$batch" --lr "$lr")
fi
( "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  command -v nvidia-smi > /dev/null && nvidia-smi -L || true ) | tee -a "$out/run.log"

stage "tokenizer: ${tok_s} s on $device"
run $(( tok_s + grace )) "$out/tokenizer.out" "$PY" training/train.py "${common[@]}" "${tok[@]}" "${tok_extra[@]}" \
  --out "$work/tok" --hours "$(hours "$tok_s")"
cp "$work/tok/train.log" "$out/tokenizer.log"
tok_ckpt=$work/tok/ckpt.pt
if [ "$dec_s" != 0 ]; then
  stage "decoder: ${dec_s} s on $device (tokens fixed)"
  run $(( dec_s + grace )) "$out/decoder.out" "$PY" training/train.py "${common[@]}" "${dec[@]}" "${dec_extra[@]}" \
    --decoder-only --init "$tok_ckpt" --out "$work/dec" --hours "$(hours "$dec_s")"
  cp "$work/dec/train.log" "$out/decoder.log"
  tok_ckpt=$work/dec/ckpt.pt
fi
"$PY" training/compact.py --ckpt "$tok_ckpt" --out "$out/imagefolder-mini-gpu.pt" | tee -a "$out/run.log"

stage "generator: ${gen_s} s on $device"
run $(( gen_s + grace )) "$out/generator.out" "$PY" training/train_generator.py "${common[@]}" "${gen[@]}" \
  --tokenizer "$out/imagefolder-mini-gpu.pt" --out "$work/gen" --hours "$(hours "$gen_s")"
cp "$work/gen/train-generator.log" "$out/generator.log"
"$PY" training/compact.py --ckpt "$work/gen/gen-ckpt.pt" --out "$out/imagefolder-mini-gpu-generator.pt" | tee -a "$out/run.log"
stage "done: $out"
ls -l "$out" | tee -a "$out/run.log"
