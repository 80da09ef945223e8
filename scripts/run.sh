#!/usr/bin/env bash
# The main job: set up, build the slm command, and generate text with a default model:
# stories260K from ../shared when it is there, else the first model of a local Ollama store.
# Usage: scripts/run.sh [MODEL] [PROMPT]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh release slm_cli >/dev/null
slm=build/release/examples/slm

model="${1:-}"
prompt="${2:-Once upon a time}"
if [[ -z "$model" ]]; then
  shared="${SLM_SHARED_DIR:-../shared}"
  if [[ -f "$shared/models/stories260K/stories260K-f32.gguf" ]]; then
    model="$shared/models/stories260K/stories260K-f32.gguf"
  else
    for root in "${OLLAMA_MODELS:-}" "$HOME/.ollama/models" /usr/share/ollama/.ollama/models; do
      [[ -n "$root" && -d "$root/manifests/registry.ollama.ai/library" ]] || continue
      m=$(cd "$root/manifests/registry.ollama.ai/library" && find . -mindepth 2 -maxdepth 2 -type f | head -n 1)
      if [[ -n "$m" ]]; then m=${m#./}; model="${m%%/*}:${m##*/}"; break; fi
    done
  fi
fi
if [[ -z "$model" ]]; then
  echo "slm: no model found. Pass one: scripts/run.sh path/to/model.gguf [prompt]" >&2
  echo "     (looked for ../shared/models/stories260K/stories260K-f32.gguf and a local Ollama store)" >&2
  exit 1
fi
echo "slm run $model -p \"$prompt\" -n 64 --temp 0" >&2
"$slm" run "$model" -p "$prompt" -n 64 --temp 0
