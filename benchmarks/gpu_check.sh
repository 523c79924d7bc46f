#!/usr/bin/env bash
# The GPU runbook: every check that needs CUDA, unattended, in one folder.
#
#   bash benchmarks/gpu_check.sh [--dry-run] [OUTPUT_DIR]
#
# On a machine with one or more CUDA GPUs, from the repository root, it runs
#   1. environment  the Python, torch, CUDA and GPU names;
#   2. gpu-tests    the tests marked ``gpu`` (tests/test_cuda_recipes.py and
#                   the gpu-marked tests elsewhere; with two GPUs or more,
#                   the parity test of a fit over two GPUs with NCCL);
#   3. host-syncs   benchmarks/bench_host_syncs.py: the lines of Python that
#                   make the host wait for the GPU, counted against the
#                   number of batches;
#   4. epoch-time   benchmarks/bench_epoch_time.py on 50,000 CIFAR-shaped
#                   images for the CE and SLN recipes (WRN-28-2) and the
#                   Flywheel recipe (two PreAct ResNet-18), in bfloat16 with
#                   channels-last, beside the papers' seconds per epoch;
#   5. epoch-time-compiled  the same for CE and SLN compiled into CUDA
#                   graphs (compile=True with compile__mode="reduce-overhead")
#                   and with the fused SGD step;
#   6. epoch-time-2-gpus    with two GPUs or more, CE and SLN with each fit
#                   spread over two GPUs.
# Each step writes OUTPUT_DIR/<step>.log; OUTPUT_DIR/summary.txt holds one line
# per step (status and seconds), and the script exits non-zero if a step
# failed. A step that runs past its time limit is stopped and marked so; the
# whole run takes under 10 minutes on one H100 or H200. --dry-run prints the
# steps without running them (no GPU needed). PYTHON picks the interpreter
# (default python3); the package is imported from this checkout.
set -u

dry_run=0
if [ "${1:-}" = "--dry-run" ]; then
    dry_run=1
    shift
fi
case "${1:-}" in
    -*) echo "usage: bash benchmarks/gpu_check.sh [--dry-run] [OUTPUT_DIR]" >&2; exit 2 ;;
esac
out=${1:-gpu-check-$(date +%Y%m%d-%H%M%S)}
python=${PYTHON:-python3}
repo=$(cd "$(dirname "$0")/.." && pwd)
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

mkdir -p "$out"
summary="$out/summary.txt"
: > "$summary"
failed=0

# step NAME SECONDS COMMAND...: run COMMAND with a time limit, log it, record it.
step() {
    local name=$1 limit=$2
    shift 2
    if [ "$dry_run" = 1 ]; then
        echo "$name (limit ${limit}s): $*" | tee -a "$summary"
        return
    fi
    echo "== $name: $*"
    local start=$SECONDS status
    (cd "$repo" && timeout --kill-after=10 "$limit" "$@") > "$out/$name.log" 2>&1
    status=$?
    local seconds=$((SECONDS - start)) result=ok
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
        result="stopped at its ${limit}s limit"
        failed=1
    elif [ "$status" != 0 ]; then
        result="failed (exit status $status)"
        failed=1
    fi
    echo "$name: $result, ${seconds}s" | tee -a "$summary"
    tail -n 25 "$out/$name.log"
}

step environment 30 "$python" -c "
import sys, torch
print('python', sys.version.split()[0], '| torch', torch.__version__, '| CUDA', torch.version.cuda)
count = torch.cuda.device_count()
print('GPUs:', count, [torch.cuda.get_device_name(i) for i in range(count)])
sys.exit(0 if count else 'no CUDA device: the other steps would only skip')
"
step gpu-tests 150 "$python" -m pytest -m gpu -q -p no:cacheprovider \
    $(cd "$repo" && grep -l "mark\.gpu" tests/*.py)
step host-syncs 60 "$python" benchmarks/bench_host_syncs.py --methods ce sln flywheel
step epoch-time 150 "$python" benchmarks/bench_epoch_time.py --device cuda \
    --precision bfloat16 --channels-last true --methods ce sln flywheel
step epoch-time-compiled 120 "$python" benchmarks/bench_epoch_time.py --device cuda \
    --precision bfloat16 --channels-last true --compile --compile-mode reduce-overhead \
    --fused-optimizer --methods ce sln
gpus=$("$python" -c "import torch; print(torch.cuda.device_count())" 2>/dev/null)
if [ "$dry_run" = 1 ] || [ "${gpus:-0}" -ge 2 ]; then
    step epoch-time-2-gpus 90 "$python" benchmarks/bench_epoch_time.py --device cuda \
        --precision bfloat16 --channels-last true --nproc 2 --methods ce sln
fi

if [ "$dry_run" = 0 ]; then
    echo "summary ($summary):"
    cat "$summary"
fi
exit "$failed"
