#!/usr/bin/env bash
# Sets up, builds and runs every test suite: release, then AddressSanitizer + UBSan, then a bounded
# fuzzing run of each parser. Usage: scripts/test.sh [--quick]   (--quick: release suites only)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
rm -f build/*/ctest.log
quick=0; [[ "${1:-}" == "--quick" ]] && quick=1

echo "== release build and tests"
bash scripts/build.sh release
ctest --preset release -j "$(nproc)" 2>&1 | tee build/release/ctest.log | tail -n 40
grep -q "tests passed" build/release/ctest.log
grep -q " 0 tests failed" build/release/ctest.log

if ((quick == 0)); then
  echo "== asan+ubsan build and tests"
  bash scripts/build.sh asan
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --preset asan -j "$(nproc)" 2>&1 | tee build/asan/ctest.log | tail -n 40
  grep -q " 0 tests failed" build/asan/ctest.log

  echo "== fuzzing (bounded)"
  bash scripts/fuzz.sh "${SLM_FUZZ_SECONDS:-60}"

  echo "== aarch64 cross build, NEON kernel tests under qemu-user"
  bash scripts/test_aarch64.sh 2>&1 | tee build/aarch64-test.log | tail -n 5
fi

# One closing line for the whole run, counted over every ctest run above.
python3 - <<'PY'
import re, glob
passed = failed = skipped = 0
for log in sorted(glob.glob("build/*/ctest.log")):
    text = open(log).read()
    m = re.search(r"tests passed, (\d+) tests failed out of (\d+)", text)
    if m:
        f, total = int(m.group(1)), int(m.group(2))
        s = len(re.findall(r"\*\*\*Skipped|Not Run|\(Disabled\)", text))
        failed += f; skipped += s; passed += total - f - s
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
