#!/usr/bin/env bash
# Installs slm's build and test dependencies from Debian packages (Debian 12).
# Idempotent: packages already present are skipped. Nothing is downloaded at build time.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config git
  libeigen3-dev libxsimd-dev libtbb-dev libfmt-dev
  libbenchmark-dev doctest-dev
  nlohmann-json3-dev libcli11-dev libcpp-httplib-dev libpcre2-dev libutf8proc-dev
  clang libclang-rt-14-dev
)
# Cross toolchain and emulator for the NEON build (tests under qemu-user).
if [[ "${SLM_WITH_CROSS:-1}" == "1" ]]; then
  PKGS+=(g++-aarch64-linux-gnu qemu-user)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "slm setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "slm setup: all packages present"
fi
