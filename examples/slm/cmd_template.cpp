// slm template [MODEL] [--template FILE.jinja] --context FILE.json [--now 2026-07-26T09:30:00]
//
// Renders a chat template over a conversation and prints exactly the rendering (no newline
// added). The template comes from --template, or from MODEL: a GGUF file's
// tokenizer.chat_template, an Ollama model name, or a Hugging Face folder's tokenizer_config.json
// (or chat_template.jinja). The context file is a JSON object: messages, tools, bos_token,
// eos_token, add_generation_prompt (default false, as in transformers) and any other variables;
// bos/eos tokens missing from it are taken from the model when there is one. When the template
// calls raise_exception(msg), msg goes to stderr and the exit status is 1.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "examples/slm/command.h"
#include "examples/slm/model_arg.h"
#include "formats/gguf.h"
#include "formats/untrusted_json.h"
#include "slm/error.h"
#include "src/text/chat_template.h"

namespace {

struct TemplateArgs {
  std::string model;
  std::string template_file;
  std::string context_file;
  std::string now;
};

struct ModelTemplate {
  std::string source;
  std::optional<std::string> bos_token, eos_token;
};

std::optional<std::string> gguf_token(const slm::gguf::GgufFile& file, std::string_view id_key) {
  const auto id = file.get_optional<uint32_t>(id_key);
  if (!id || !file.has("tokenizer.ggml.tokens")) return std::nullopt;
  const auto tokens = file.get_array<std::string_view>("tokenizer.ggml.tokens");
  if (*id >= tokens.size()) return std::nullopt;
  return std::string(tokens[*id]);
}

// tokenizer_config.json stores a special token as "text" or as {"content": "text", ...}.
std::optional<std::string> config_token(const nlohmann::ordered_json& config, const char* key) {
  if (!config.contains(key)) return std::nullopt;
  const auto& v = config.at(key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v.at("content").is_string()) return v.at("content").get<std::string>();
  return std::nullopt;
}

ModelTemplate template_of_model(const std::string& model_arg) {
  const std::filesystem::path path = slm::cli::resolve_model(model_arg);
  ModelTemplate out;
  if (std::filesystem::is_directory(path)) {
    const auto config_path = path / "tokenizer_config.json";
    nlohmann::ordered_json config = nlohmann::ordered_json::object();
    if (std::filesystem::exists(config_path)) {
      slm::UntrustedJsonOptions options;
      options.file = config_path.string();
      config = slm::parse_untrusted_json(slm::cli::read_file(config_path.string()), options);
    }
    if (std::filesystem::exists(path / "chat_template.jinja")) {
      out.source = slm::cli::read_file((path / "chat_template.jinja").string());
    } else if (config.contains("chat_template") && config.at("chat_template").is_string()) {
      out.source = config.at("chat_template").get<std::string>();
    } else if (config.contains("chat_template") && config.at("chat_template").is_array()) {
      // A list of named templates: the one named "default".
      for (const auto& entry : config.at("chat_template"))
        if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
            entry.at("template").is_string())
          out.source = entry.at("template").get<std::string>();
    }
    if (out.source.empty())
      throw slm::Error(slm::ErrorKind::unsupported, path.string(), "the folder has no chat template");
    out.bos_token = config_token(config, "bos_token");
    out.eos_token = config_token(config, "eos_token");
    return out;
  }
  const auto file = slm::gguf::GgufFile::open(path);
  const auto source = file.get_optional<std::string_view>("tokenizer.chat_template");
  if (!source)
    throw slm::Error(slm::ErrorKind::unsupported, path.string(), "the model has no tokenizer.chat_template");
  out.source = std::string(*source);
  out.bos_token = gguf_token(file, "tokenizer.ggml.bos_token_id");
  out.eos_token = gguf_token(file, "tokenizer.ggml.eos_token_id");
  return out;
}

int run_template(const TemplateArgs& args) {
  if (args.model.empty() == args.template_file.empty())
    throw slm::Error(slm::ErrorKind::invalid_argument, "slm template", "give either MODEL or --template FILE");
  ModelTemplate model;
  if (!args.template_file.empty()) model.source = slm::cli::read_file(args.template_file);
  else model = template_of_model(args.model);

  slm::UntrustedJsonOptions json_options;
  json_options.file = args.context_file;
  json_options.max_depth = 128;
  const auto context = slm::parse_untrusted_json(slm::cli::read_file(args.context_file), json_options);
  if (!context.is_object())
    throw slm::Error(slm::ErrorKind::invalid_argument, args.context_file, "the context must be a JSON object");

  slm::ChatRequest request;
  request.add_generation_prompt = false;
  request.bos_token = model.bos_token.value_or("");
  request.eos_token = model.eos_token.value_or("");
  request.extra_vars = nlohmann::ordered_json::object();
  for (const auto& [key, value] : context.items()) {
    if (key == "messages") request.messages = value;
    else if (key == "tools") request.tools = value;
    else if (key == "bos_token" && value.is_string()) request.bos_token = value.get<std::string>();
    else if (key == "eos_token" && value.is_string()) request.eos_token = value.get<std::string>();
    else if (key == "add_generation_prompt" && value.is_boolean()) request.add_generation_prompt = value.get<bool>();
    else request.extra_vars[key] = value;
  }
  if (!args.now.empty()) request.now = slm::parse_datetime(args.now);

  std::string text;
  try {
    text = slm::ChatTemplate::parse(model.source).render(request);
  } catch (const slm::Error& e) {
    if (e.kind() != slm::ErrorKind::template_raise) throw;
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace

SLM_COMMAND(template) {
  auto* sub = app.add_subcommand("template", "Render a chat template over a conversation (JSON context)");
  auto args = std::make_shared<TemplateArgs>();
  sub->add_option("MODEL", args->model, "GGUF file, Ollama model name or Hugging Face folder holding the template");
  sub->add_option("--template", args->template_file, "Jinja template file (instead of MODEL)");
  sub->add_option("--context", args->context_file, "JSON object: messages, tools, bos_token, eos_token, ...")->required();
  sub->add_option("--now", args->now, "Time strftime_now() sees, e.g. 2026-07-26T09:30:00 (default: now)");
  return {sub, [args] { return run_template(*args); }};
}
