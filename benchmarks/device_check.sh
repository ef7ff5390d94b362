#!/usr/bin/env bash
# GPU check for a lent GPU machine (H200: CuPy 14 / CUDA 13, PyTorch, numpy, pandas, pytest,
# hypothesis; no internet; no cuDNN in CuPy). One call of at most 8 minutes: every stage runs
# under `timeout` (60 + 180 + 150 + 90 s; the first GPU stage also compiles CuPy kernels, which
# are cached on disk for the later ones):
#   1. pip install --no-deps --no-build-isolation -e .
#   2. a CuPy preflight (fails loudly if CuPy cannot see the GPU: the gpu tests would only skip),
#      then python3 -m pytest -m gpu -q --maxfail=25
#   3. benchmarks/bench_gpu.py with TF32 off, then on (JSON rows into $OUT)
#   4. the combined benchmark table, printed LAST.
# Usage: benchmarks/device_check.sh            (on the GPU machine)
#        benchmarks/device_check.sh --dry-run  (CPU: no install, GPU tests skip, NumPy for CuPy)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1   # a stage killed by timeout keeps its output
RESULTS=${OUT:-/tmp/layergraph-device-check}
DRY=""
[ "${1:-}" = "--dry-run" ] && DRY="--dry-run"
mkdir -p "$RESULTS"
rm -f "$RESULTS"/gpu_tf32_*.json
status=0

stage() {  # stage NAME SECONDS COMMAND...: run under timeout, report exit code and duration
    local name=$1 limit=$2 start=$SECONDS rc
    shift 2
    echo "=== $name (limit ${limit}s) ==="
    timeout --kill-after=10 "$limit" "$@"
    rc=$?
    echo "=== $name: exit $rc after $((SECONDS - start))s ==="
    [ "$rc" -eq 0 ] || status=1
}

if [ -z "$DRY" ]; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    stage "install" 60 "$PY" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
    stage "cupy preflight" 60 "$PY" -c "import cupy; assert cupy.cuda.runtime.getDeviceCount() > 0; assert float(cupy.arange(4.0).sum()) == 6.0; print('cupy', cupy.__version__)"
fi
stage "pytest -m gpu" 180 "$PY" -m pytest -m gpu -q --maxfail=25 -p no:cacheprovider
stage "bench_gpu TF32 off" 150 "$PY" benchmarks/bench_gpu.py $DRY --tf32 off --json "$RESULTS/gpu_tf32_off.json"
stage "bench_gpu TF32 on" 90 "$PY" benchmarks/bench_gpu.py $DRY --tf32 on --json "$RESULTS/gpu_tf32_on.json"

echo "=== summary: ours (CuPy) vs torch (cuDNN); ratio = ours / torch, >1 means ours slower ==="
shopt -s nullglob
results=("$RESULTS"/gpu_tf32_off.json "$RESULTS"/gpu_tf32_on.json)
existing=()
for f in "${results[@]}"; do [ -f "$f" ] && existing+=("$f"); done
if [ ${#existing[@]} -gt 0 ]; then
    "$PY" benchmarks/bench_gpu.py --summary "${existing[@]}"
else
    echo "(no benchmark results)"
fi
exit $status
