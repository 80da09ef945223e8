// libFuzzer target: config.json -> ModelConfig (and validate) on arbitrary text. Anything but a clean
// slm::Error is a finding: a crash, a hang, an uncaught nlohmann exception, a UBSan report (a float
// to integer conversion out of range, for one).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "slm/error.h"
#include "src/model/config.h"

namespace {
volatile uint64_t g_sink;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const slm::ModelConfig c =
        slm::config_from_hf_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz/config.json");
    slm::validate(c);
    uint64_t h = c.n_layers + c.d_model + c.rope_scaling.short_factor.size();
    for (float f : slm::llama3_rope_freq_factors(c)) h += f > 1.0f;
    for (uint32_t l = 0; l < c.n_layers && l < 4096; ++l) h += slm::is_local_layer(c, l);
    g_sink = h;
  } catch (const slm::Error&) {
  }
  return 0;
}
