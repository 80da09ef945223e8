#!/usr/bin/env bash
# Differential test of slm's tokenizer.json support against Hugging Face tokenizers.
# Usage: run_hf_diff.sh HF_DIFF_CHECK SHARED_DIR NPM_CACHE WORK_DIR
# Exit 0: all equal; 1: mismatches or errors; 77 (skipped): no node/npm, the package cannot be
# installed (no network), or no Hugging Face folders in SHARED_DIR.
set -uo pipefail
check_bin=$1 shared=$2 cache=$3 work=$4
here=$(cd "${0%/*}" && pwd)
version=0.23

if [[ ! -d "$shared/models" ]]; then echo "skipped: $shared/models not found"; exit 77; fi
if ! command -v node >/dev/null; then echo "skipped: node is not installed"; exit 77; fi

installed=$(node -e "try{console.log(require('$cache/node_modules/tokenizers/package.json').version)}catch(e){}" 2>/dev/null)
if [[ "$installed" != "$version".* ]]; then
  if ! command -v npm >/dev/null; then echo "skipped: npm is not installed"; exit 77; fi
  mkdir -p "$cache"
  echo "installing tokenizers@$version into $cache"
  if ! (cd "$cache" && npm install --no-save --no-audit --no-fund --loglevel=error "tokenizers@$version") >"$work/npm-install.log" 2>&1; then
    echo "skipped: npm install tokenizers@$version failed:"
    tail -n 5 "$work/npm-install.log"
    exit 77
  fi
fi

texts="$work/hf_diff_texts.jsonl"
NODE_PATH="$cache/node_modules" node "$here/generate.js" "$shared" "$texts" "${SLM_HF_DIFF_COUNT:-3000}" 20260726
rc=$?
if [[ $rc -ne 0 ]]; then exit $rc; fi
exec "$check_bin" "$texts"
