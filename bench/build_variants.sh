#!/usr/bin/env bash
# The build-speed remedies measured (docs/benchmarks.md "Build"): builds the program `tension` from an empty folder,
# ccache off, one job, with neither, each and both of unity builds and the precompiled <torch/torch.h>, and prints
# each variant's wall and CPU time (user + system) and its CPU time against the variant with neither.
# Usage: bench/build_variants.sh [WORKDIR]   (about an hour on 2 cores; WORKDIR defaults to /tmp/tension-build-variants)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-/tmp/tension-build-variants}"
mkdir -p "$work"
base=""
for v in "neither OFF OFF" "unity ON OFF" "pch OFF ON" "both ON ON"; do
  set -- $v
  dir="$work/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_UNITY_BUILD="$2" -DTENSION_PCH="$3" > "$dir/configure.log"
  CCACHE_DISABLE=1 /usr/bin/time -f "%e %U %S" -o "$dir/time" cmake --build "$dir" --target tension_cli -j1 \
    > "$dir/build.log"
  read -r wall user sys < "$dir/time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
  [ -z "$base" ] && base=$cpu
  awk -v n="$1" -v w="$wall" -v c="$cpu" -v b="$base" \
    'BEGIN { printf "%-8s wall %8.1f s  cpu %8.1f s  cpu vs neither %.2fx less\n", n, w, c, b / c }' 
done
