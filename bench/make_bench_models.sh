#!/usr/bin/env bash
# Makes the 1.1B-parameter bench models (TinyLlama-1.1B shape, random weights, the
# llama-spm vocabulary) with shared/tools/make_test_model.py, in build/bench-models/:
#   bench-f16.gguf  (2.2 GB)   bench-q8_0.gguf  (1.2 GB)   bench-q4_0.gguf  (0.64 GB)
# We have no llama-quantize: make_test_model.py writes Q8_0 and Q4_0 itself (--type), from
# the same seeded F32 values, giving every 2-D matrix that type. llama-quantize's mixes keep
# some tensors (output.weight for Q4_0) at a finer type, so tensor sizes differ a little from
# the "bench preset" rows of perf.json; bench marks those reference figures with "~".
# The K-quants have no quantizer here: bench/make_kquant_bench_model.py fills bench-q8_0.gguf's
# matrices with random blocks, good for speed only: Q4_K (every matrix Q4_K, 0.62 GB) or
# Q4_K_M (llama-quantize's mix of Q4_K and Q6_K).
# Usage: bench/make_bench_models.sh [TYPE ...]   (default: Q4_0 Q8_0; F16, Q4_K, Q4_K_M also possible)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${MMOJO_SHARED_DIR:-$ROOT/../shared}
OUT=$ROOT/build/bench-models
PY=$ROOT/.venv/bin/python
TOOL=$SHARED/tools/make_test_model.py
[ -x "$PY" ] || { echo "make_bench_models: $PY missing (run scripts/setup.sh)" >&2; exit 1; }
[ -f "$TOOL" ] || { echo "make_bench_models: $TOOL missing" >&2; exit 1; }
"$PY" -c 'import gguf, numpy' || { echo "make_bench_models: the venv lacks gguf or numpy" >&2; exit 1; }
mkdir -p "$OUT"
types=("$@")
[ ${#types[@]} -gt 0 ] || types=(Q4_0 Q8_0)
for type in "${types[@]}"; do
    lower=$(echo "$type" | tr 'A-Z' 'a-z')
    file=$OUT/bench-$lower.gguf
    if [ -s "$file" ]; then
        echo "exists: $file"
        continue
    fi
    echo "making $file ..."
    # Write to a temporary name so that an interrupted run leaves no half file behind.
    if [ "$type" = Q4_K ] || [ "$type" = Q4_K_M ]; then
        [ -s "$OUT/bench-q8_0.gguf" ] || "$0" Q8_0
        "$PY" "$ROOT/bench/make_kquant_bench_model.py" "$OUT/bench-q8_0.gguf" "$file.tmp" "$type"
    else
        "$PY" "$TOOL" --preset bench --type "$type" --seed 1 "$file.tmp"
    fi
    mv "$file.tmp" "$file"
    ls -l "$file"
done
