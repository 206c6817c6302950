#!/usr/bin/env bash
# Installs, by package name, whatever tension needs that is missing. Idempotent; apt-get update only when needed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config ccache
  libtorch-dev libopenblas0-pthread
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libsqlite3-dev sqlite3 libhnswlib-dev libcpp-httplib-dev r-cran-uwot libssl-dev zlib1g-dev
  gnuplot-nox fonts-dejavu-core dataset-fashion-mnist time
  libgtest-dev libbenchmark-dev
  clang libfuzzer-14-dev
  libopenmpi-dev openmpi-bin openssh-client
  python3-torch python3-torchvision python3-numpy
  chromium
)
# Node.js may come from another packaging of nodejs that bundles npm: ask for Debian's only when absent.
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages ${missing[*]}; run as root (or: sudo $0)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# npm packages (pinned by the committed package-lock.json), for the interactive pages and their browser tests.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
