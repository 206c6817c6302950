#!/usr/bin/env bash
# GPU check, one shot: builds bench_attribution (scripts/gpu-check/CMakeLists.txt) against the LibTorch inside
# the Python torch, then runs bench/attribution.py (Python loops A and B against tension, equal E checked) on
# each device in DEVICES. Every step's output goes to OUTDIR/*.log as well as to stdout.
#
# Usage: scripts/gpu-check/run.sh OUTDIR
# Environment: PYTHON (python3), DEVICES ("cuda cpu"), K (20), REPS (5), JOBS (nproc), BUILD (/tmp/gpucheck-build),
#              TORCH_DIR (the TorchConfig.cmake folder; default: the Python torch's), STEP_TIMEOUT (240 s per bench)
# Needs .gpu/ (see scripts/gpu-check/README.md). Build strategy: find_package(Torch) with C++17; if that
# configure fails, LibTorch by hand (GPUCHECK_MANUAL_TORCH); if the compile fails on a C++20 requirement, C++20.
set -u
OUTDIR=${1:?usage: run.sh OUTDIR}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python3}
DEVICES=${DEVICES:-cuda cpu}
K=${K:-20}
REPS=${REPS:-5}
JOBS=${JOBS:-$(nproc)}
BUILD=${BUILD:-/tmp/gpucheck-build}
STEP_TIMEOUT=${STEP_TIMEOUT:-240}
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 PYTHONUNBUFFERED=1 TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
T0=$(date +%s)
stamp() { echo "== [$(($(date +%s) - T0)) s] $*"; }

{
  stamp "environment"
  uname -a
  nvidia-smi || echo "(no nvidia-smi)"
  "$PY" - <<'EOF'
import sys, torch
print("python", sys.version.split()[0], sys.executable)
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(),
      "cuda available", torch.cuda.is_available())
if torch.cuda.is_available():
    print("device", torch.cuda.get_device_name(0))
print("cmake_prefix_path", torch.utils.cmake_prefix_path, "cxx11 abi", torch._C._GLIBCXX_USE_CXX11_ABI)
try:
    import torchvision
    print("torchvision", torchvision.__version__)
except Exception as e:
    print("torchvision missing:", e)
EOF
  cmake --version | head -1
  ninja --version 2>/dev/null | sed 's/^/ninja /'
  c++ --version | head -1
  if command -v nvcc >/dev/null; then nvcc --version | tail -2; else echo "(no nvcc)"; fi
  ls -l /usr/lib/x86_64-linux-gnu/libcrypto.so* 2>/dev/null || echo "(no system libcrypto)"
} 2>&1 | tee "$OUTDIR/env.log"

TORCH_PREFIX=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')
TORCH_PKG=$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
ABI=$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
TORCH_DIR=${TORCH_DIR:-$TORCH_PREFIX/Torch}
GEN=(); command -v ninja >/dev/null && GEN=(-G Ninja)
CUDA_ARGS=()
if command -v nvcc >/dev/null; then
  CUDA_ROOT=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
  CUDA_ARGS=(-DCUDAToolkit_ROOT="$CUDA_ROOT" -DCMAKE_CUDA_COMPILER="$(readlink -f "$(command -v nvcc)")")
fi

# attempt MODE STD: 0 built, 1 compile or link failed, 2 configure failed.
attempt() {
  local mode=$1 std=$2 dir="$BUILD-$1-$2"
  local args=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD="$std")
  if [ "$mode" = config ]; then
    args+=(-DTorch_DIR="$TORCH_DIR" "${CUDA_ARGS[@]}")
  else
    args+=(-DGPUCHECK_MANUAL_TORCH=ON -DTORCH_ROOT="$TORCH_PKG" -DGPUCHECK_CXX11_ABI="$ABI")
  fi
  stamp "configure ($mode, C++$std) in $dir"
  cmake -S scripts/gpu-check -B "$dir" "${GEN[@]}" "${args[@]}" 2>&1 | tee "$OUTDIR/configure-$mode-$std.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || return 2
  stamp "build ($mode, C++$std), $JOBS jobs"
  local keep=(); [ ${#GEN[@]} -gt 0 ] && keep=(-- -k 0)
  cmake --build "$dir" -j "$JOBS" "${keep[@]}" 2>&1 | tee "$OUTDIR/build-$mode-$std.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
  BUILT="$dir"
  return 0
}

BUILT=
mode=config
attempt config 17; r=$?
if [ $r -eq 2 ]; then
  mode=manual
  attempt manual 17; r=$?
fi
if [ $r -eq 1 ] && grep -qiE 'c\+\+ ?20|c\+\+2a|requires.*C\+\+' "$OUTDIR/build-$mode-17.log"; then
  attempt "$mode" 20; r=$?
fi
# A CUDA torch whose TorchConfig.cmake found no CUDA toolkit links no libtorch_cuda: build by hand then.
CUDA_OK=$("$PY" -c 'import torch; print(int(torch.cuda.is_available()))')
if [ -n "$BUILT" ] && [ "$mode" = config ] && [ "$CUDA_OK" = 1 ] &&
   ! ldd "$BUILT/bench/bench_attribution" | grep -q libtorch_cuda; then
  stamp "no libtorch_cuda linked by find_package(Torch): building by hand"
  std=${BUILT##*-}
  BUILT=
  mode=manual
  attempt manual "$std"; r=$?
fi
if [ -z "$BUILT" ]; then
  stamp "BUILD FAILED (see build-*.log / configure-*.log)"
  exit 1
fi
{
  stamp "built in $BUILT"
  ldd "$BUILT/bench/bench_attribution" | grep -E 'torch|c10|crypto|cuda|not found'
} 2>&1 | tee "$OUTDIR/built.log"

status=0
for dev in $DEVICES; do
  stamp "bench/attribution.py $BUILT $K $REPS $dev" | tee "$OUTDIR/bench-$dev.log"
  timeout "$STEP_TIMEOUT" "$PY" bench/attribution.py "$BUILT" "$K" "$REPS" "$dev" 2>&1 | tee -a "$OUTDIR/bench-$dev.log"
  rc=${PIPESTATUS[0]}
  stamp "bench on $dev: exit $rc" | tee -a "$OUTDIR/bench-$dev.log"
  [ "$rc" -eq 0 ] || status=1
done
exit $status
