#!/usr/bin/env bash
# Converter tests (CI): unit tests at small sizes, then the full-shape official ImageFolder
# conversion with its parity check (random weights; ~3 min on 2 cores). CONVERT_FULL=0 skips that one.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
$PY -m unittest training/tests/test_convert.py
if [ "${CONVERT_FULL:-1}" != 0 ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  start=$(date +%s)
  $PY training/convert/convert_imagefolder.py --random-init --out "$tmp/if256" > "$tmp/out.txt"
  cat "$tmp/out.txt"
  grep -q "256 px, 2 branches of 4096 x 32 codes, scales 1,1,2,3,3,4,5,6,8,11 (286 tokens per branch)" "$tmp/out.txt"
  grep -q "^parity (PyTorch vs onnxruntime.*indices identical" "$tmp/out.txt"
  ! grep -q FAILED "$tmp/out.txt"
  $PY -c "import json,sys; m=json.load(open('$tmp/if256/manifest.json')); assert m['codebooks']['shape']==[2,4096,32] and m['provenance']['modelConfig']['width']==768 and m['provenance']['modelConfig']['depth']==12, m"
  echo "full-shape ImageFolder conversion: $(( $(date +%s) - start )) s"
fi
echo "converter tests: passed"
