#!/usr/bin/env bash
# Cross-builds the kernel layer and its tests for aarch64 (preset `aarch64`: kernels/ + tests/kernels
# only) and runs test_kernels under qemu-user: once with the best level (NEON: qemu's default CPU,
# "max", has dotprod and fp16), once forced to the scalar table. Exits non-zero on any failure.
# Usage: scripts/test_aarch64.sh   (SLM_JOBS=N to limit build parallelism)
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  if ! command -v "$tool" >/dev/null; then
    echo "test_aarch64: $tool missing (scripts/setup.sh installs g++-aarch64-linux-gnu and qemu-user)" >&2
    exit 1
  fi
done

sysroot=/usr/aarch64-linux-gnu
jobs="${SLM_JOBS:-$(nproc)}"
cmake --preset aarch64 >/dev/null
cmake --build --preset aarch64 -j "$jobs" --target test_kernels

exe=build/aarch64/tests/kernels/test_kernels
status=0
for isa in "" scalar; do
  echo "== test_kernels on aarch64 (qemu-user), SLM_ISA=${isa:-<unset: best level>}"
  if ! SLM_ISA="$isa" qemu-aarch64 -L "$sysroot" "$exe"; then
    echo "test_aarch64: FAILED with SLM_ISA=${isa:-<unset>}" >&2
    status=1
  fi
done
exit "$status"
