// JSON (the render context: messages, tools, ...) -> template values. Objects keep their key
// order; integers beyond 64 bits become floats, as nothing else can hold them.
#pragma once

#include <nlohmann/json.hpp>

#include "src/text/jinja/render_options.h"
#include "src/text/jinja/value.h"

namespace slm::jinja {

// Fails (slm::Error template_runtime, "context") for nesting deeper than 256 levels or more
// items than limits.max_items in one array or object.
Value value_from_json(const nlohmann::ordered_json& json, const RenderLimits& limits);

}  // namespace slm::jinja
