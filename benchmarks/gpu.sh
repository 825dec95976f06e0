#!/usr/bin/env bash
# The GPU checks of issue 14, as one script for a lent GPU machine (its image has CuPy for CUDA 13,
# PyTorch CUDA, pytest, hypothesis, scikit-learn, safetensors; nothing is installed there).
# Runs from the repository root with the source tree on PYTHONPATH, within about 8 minutes:
#   1. the `device` tests (every op spec, nn layer case and optimizer, a training run) on cuda;
#   2. W3 (batch 4096) and W7 (batch 64, seq 256, d_model 512): chainrule on CuPy against
#      PyTorch CUDA eager, steps/s and ratios (benchmarks/gpu.py);
#   3. the digits CNN trained with `chainrule train --device cuda`.
# Each part is bounded by its own timeout, and a failing part does not stop the next one; the
# script's status is the first failure's. Output also goes to $OUT/gpu.log when $OUT is set.
# Without a GPU, `benchmarks/gpu.sh fake` runs the same parts on the fake device.
set -uo pipefail
cd "$(dirname "$0")/.."
DEVICE="${1:-cuda}"
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
LOG="${OUT:-/tmp}/gpu.log"
PYTHON="${PYTHON:-python3}"
status=0

part() {  # part SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2
    shift 2
    echo "== $what ($(date -u +%H:%M:%S))"
    timeout "$seconds" "$@" || { code=$?; echo "== $what failed ($code)"; [ $status = 0 ] && status=$code; }
}

{
    "$PYTHON" -c "import cupy, numpy, torch; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'torch', torch.__version__, 'cuda', torch.cuda.is_available())" || true
    part 300 "device tests on $DEVICE" env CHAINRULE_TEST_DEVICE="$DEVICE" \
        "$PYTHON" -m pytest -q -p no:cacheprovider -m device tests/test_devices.py -x
    part 150 "W3 and W7 on $DEVICE" "$PYTHON" -m benchmarks.gpu --device "$DEVICE"
    part 60 "digits CNN on $DEVICE" "$PYTHON" -m chainrule.apps.cli train --device "$DEVICE" \
        --quiet --out "$(mktemp -d)"
} 2>&1 | tee "$LOG"
exit $status
