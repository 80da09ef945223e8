#!/usr/bin/env bash
# Builds the `fuzz` preset (clang, libFuzzer + ASan + UBSan), writes the seed corpora with slm's own
# writers, and runs every fuzz_* target for a bounded time.
# Usage: scripts/fuzz.sh [SECONDS]   (per target; default 60). Exits non-zero on a finding; the
# crashing input is kept under build/fuzz/artifacts/, the run's log beside it.
# Each target's working corpus grows across runs in tests/fuzz/corpus-NAME/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: scripts/fuzz.sh [SECONDS]" >&2
  exit 2
fi
jobs="${SLM_JOBS:-$(nproc)}"
build=build/fuzz

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake --preset fuzz >/dev/null
fi
cmake --build --preset fuzz -j "$jobs"

seeds="$build/seeds"
rm -rf "$seeds"
"$build/tests/fuzz/make_seed_corpus" "$seeds"
artifacts="$build/artifacts"
mkdir -p "$artifacts"

# UBSan must stop at the first report, or libFuzzer would not see it as a finding.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

status=0
found=0
for target in "$build"/tests/fuzz/fuzz_*; do
  [[ -f "$target" && -x "$target" ]] || continue
  found=$((found + 1))
  name="$(basename "$target")"
  name="${name#fuzz_}"
  corpus="tests/fuzz/corpus-$name"
  mkdir -p "$corpus"
  dirs=("$corpus")
  [[ -d "$seeds/$name" ]] && dirs+=("$seeds/$name")
  log="$artifacts/fuzz_$name.log"
  echo "== fuzz_$name: ${seconds}s, corpus $corpus"
  if "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/$name-" "${dirs[@]}" >"$log" 2>&1; then
    runs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')"
    echo "   ok: $runs inputs, no findings"
  else
    echo "   FINDING in fuzz_$name (log: $log, inputs: $artifacts/$name-*)"
    tail -n 60 "$log"
    status=1
  fi
done

if ((found == 0)); then
  echo "scripts/fuzz.sh: no fuzz_* targets were built" >&2
  exit 1
fi
exit "$status"
