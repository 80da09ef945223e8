#include "src/text/jinja/template.h"

#include <fmt/format.h>

#include "slm/error.h"
#include "src/text/jinja/ast.h"
#include "src/text/jinja/interpreter.h"
#include "src/text/jinja/json_value.h"
#include "src/text/jinja/lexer.h"
#include "src/text/jinja/parser.h"

namespace slm::jinja {

struct Template::Parsed {
  Body body;
};

Template::Template(std::unique_ptr<Parsed> parsed) : parsed_(std::move(parsed)) {}
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

Template Template::parse(std::string_view source, const ParseOptions& options) {
  if (source.size() > options.max_source_bytes)
    throw Error(ErrorKind::template_syntax, "template line 1, column 1",
                fmt::format("template of {} bytes exceeds the source size limit ({} bytes)", source.size(),
                            options.max_source_bytes));
  LexerOptions lexer_options;
  lexer_options.trim_blocks = options.trim_blocks;
  lexer_options.lstrip_blocks = options.lstrip_blocks;
  lexer_options.keep_trailing_newline = options.keep_trailing_newline;
  const std::vector<Token> tokens = tokenize(source, lexer_options);
  ParserOptions parser_options;
  parser_options.max_nesting = options.max_nesting;
  auto parsed = std::make_unique<Parsed>();
  parsed->body = parse_tokens(tokens, parser_options);
  return Template(std::move(parsed));
}

std::string Template::render(const nlohmann::ordered_json& context, const RenderOptions& options) const {
  if (!context.is_object() && !context.is_null())
    throw Error(ErrorKind::invalid_argument, "context", "the render context must be a JSON object");
  const Value variables = value_from_json(context.is_null() ? nlohmann::ordered_json::object() : context, options.limits);
  Interpreter interpreter(options);
  return interpreter.render(parsed_->body, variables);
}

}  // namespace slm::jinja
