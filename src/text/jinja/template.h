// slm's Jinja2 interpreter for chat templates: parse once, render many times (from any number of
// threads). The language and environment are those Hugging Face uses for chat templates:
// trim_blocks, lstrip_blocks, loop controls, tojson without HTML escaping, raise_exception and
// strftime_now. Templates are untrusted: nothing reaches files, processes or the network, and
// RenderOptions::limits bound time and memory.
//
//   auto t = slm::jinja::Template::parse(source);             // slm::Error(template_syntax)
//   std::string text = t.render(context_json, options);       // slm::Error(template_runtime / template_raise)
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "src/text/jinja/render_options.h"

namespace slm::jinja {

struct ParseOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
  std::size_t max_nesting = 100;           // nested blocks and expressions
  std::size_t max_source_bytes = 4u << 20; // larger sources are refused
};

class Template {
 public:
  // Throws slm::Error(template_syntax, "template line N, column M", what).
  static Template parse(std::string_view source, const ParseOptions& options = {});

  // context: a JSON object whose keys become variables. Throws slm::Error: template_runtime
  // ("template line N", what; limits say "... limit ... exceeded") or template_raise (what() is
  // exactly the message given to raise_exception).
  std::string render(const nlohmann::ordered_json& context, const RenderOptions& options = {}) const;

  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  ~Template();

 private:
  struct Parsed;
  explicit Template(std::unique_ptr<Parsed> parsed);
  std::unique_ptr<Parsed> parsed_;
};

}  // namespace slm::jinja
