// libFuzzer target: arbitrary bytes as a chat template, parsed and rendered over a small
// conversation with tight limits. Anything but a clean slm::Error is a finding: a crash, a hang
// (the limits must end every render quickly), a non-slm exception, a sanitizer report, a leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "slm/error.h"
#include "src/text/jinja/template.h"

namespace {

const nlohmann::ordered_json& context() {
  static const nlohmann::ordered_json ctx = nlohmann::ordered_json::parse(R"J({
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Héllo {{ not a tag }} 🙂\n"},
      {"role": "assistant", "content": "<think>hm</think>Hi", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": {"x": 1, "y": [1.5, null, true]}}}]},
      {"role": "tool", "content": "{\"ok\": true}"}
    ],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": true, "n": 3, "x": 2.5
  })J");
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  slm::jinja::RenderOptions options;
  options.clock = [] { return std::tm{}; };
  options.limits.max_steps = 200'000;
  options.limits.max_loop_iterations = 20'000;
  options.limits.max_output_bytes = 1u << 20;
  options.limits.max_string_bytes = 1u << 20;
  options.limits.max_items = 1u << 16;
  options.limits.max_work_bytes = 64u << 20;
  options.limits.max_range = 10'000;
  try {
    const auto t = slm::jinja::Template::parse(std::string_view(reinterpret_cast<const char*>(data), size));
    t.render(context(), options);
  } catch (const slm::Error&) {
  }
  return 0;
}
