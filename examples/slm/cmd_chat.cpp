// slm chat MODEL: a conversation on stdin/stdout with the model's chat template. Each line read is a
// user turn (a line ending in a backslash continues on the next); the reply streams to stdout,
// followed by an empty line. "/reset" forgets the conversation, "/exit" (or end of input) ends it.
// The prompt of each turn is the whole conversation rendered again; the session keeps the KV cache
// of the prefix it shares with the previous turn, so only the new part is processed.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "examples/slm/command.h"
#include "examples/slm/generation_args.h"
#include "examples/slm/model_arg.h"
#include "slm/slm.h"

namespace {

struct ChatArgs {
  std::string model;
  std::string system;
  std::string template_file;
  std::vector<std::string> vars;  // KEY=JSON
  int32_t n_predict = 512;
  bool verbose = false;
  slm::cli::GenerationArgs gen;
};

// Reads one user turn; false at end of input.
bool read_turn(std::string& turn) {
  turn.clear();
  std::string line;
  bool any = false;
  while (std::getline(std::cin, line)) {
    any = true;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line.back() == '\\') {
      line.pop_back();
      turn += line + "\n";
      continue;
    }
    turn += line;
    return true;
  }
  return any;
}

std::string extra_vars_json(const std::vector<std::string>& vars) {
  if (vars.empty()) return {};
  std::string out = "{";
  for (const std::string& kv : vars) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw slm::Error(slm::ErrorKind::invalid_argument, "--var " + kv, "must be KEY=JSON (enable_thinking=false)");
    if (out.size() > 1) out += ",";
    std::string key;
    for (char c : kv.substr(0, eq)) {
      if (c == '"' || c == '\\') key += '\\';
      key += c;
    }
    out += "\"" + key + "\":" + kv.substr(eq + 1);
  }
  return out + "}";
}

int chat(const ChatArgs& a) {
  slm::Model model = slm::Model::load(slm::cli::resolve_model(a.model), a.gen.load());
  slm::ChatOptions co;
  if (!a.template_file.empty()) co.chat_template = slm::cli::read_file(a.template_file);
  if (co.chat_template.empty() && model.info().chat_template.empty())
    throw slm::Error(slm::ErrorKind::unsupported, model.info().path,
                     "the model has no chat template (tokenizer.chat_template); give one with --template FILE.jinja");
  co.extra_vars_json = extra_vars_json(a.vars);
  std::vector<slm::ChatMessage> messages;
  if (!a.system.empty()) messages.push_back({"system", a.system});
  const size_t first_turn = messages.size();
  // (Not rendered yet: a valid template may reject an empty conversation, e.g. one that reads
  // messages[0]; a broken one fails at the first turn with the template's own error.)

  slm::Session session(model, a.gen.session());

  slm::GenerateOptions g;
  g.max_tokens = a.n_predict;
  g.sampling = a.gen.sampling();

  const bool interactive = ::isatty(STDIN_FILENO);
  std::string turn;
  for (;;) {
    if (interactive) std::fputs("> ", stderr);
    if (!read_turn(turn) || turn == "/exit") break;
    if (turn == "/reset") {
      messages.resize(first_turn);
      continue;
    }
    if (turn.empty()) continue;
    messages.push_back({"user", turn});
    try {
      session.prompt(model.tokenize_chat(messages, co));
    } catch (const slm::Error& e) {
      if (e.kind() != slm::ErrorKind::out_of_range) throw;
      messages.pop_back();
      std::fprintf(stderr, "slm: %s; /reset starts a new conversation\n", e.what());
      continue;
    }
    const slm::GenerateResult r = session.generate(g, [](std::string_view piece, int32_t) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::fputs("\n\n", stdout);
    std::fflush(stdout);
    messages.push_back({"assistant", r.text});
    if (a.verbose) {
      const auto& tm = r.timings;
      std::fprintf(stderr, "slm: prompt %d new tokens (%.1f tok/s), generated %d tokens (%.1f tok/s)%s\n",
                   session.last_prompt_timings().prompt_tokens,
                   session.last_prompt_timings().prompt_seconds > 0
                       ? session.last_prompt_timings().prompt_tokens / session.last_prompt_timings().prompt_seconds
                       : 0.0,
                   tm.generated_tokens, tm.generate_seconds > 0 ? tm.generated_tokens / tm.generate_seconds : 0.0,
                   r.stop_reason == slm::StopReason::max_tokens ? " (cut at -n)" : "");
    }
  }
  return 0;
}

}  // namespace

SLM_COMMAND(chat) {
  auto* sub = app.add_subcommand("chat", "Chat with a model through its chat template (turns on stdin)");
  auto a = std::make_shared<ChatArgs>();
  sub->add_option("MODEL", a->model, "GGUF file, or a model name of a local Ollama store (qwen3:4b)")->required();
  sub->add_option("-s,--system", a->system, "System message");
  sub->add_option("--template", a->template_file, "Jinja chat template file to use instead of the model's own");
  sub->add_option("--var", a->vars, "Template variable KEY=JSON, e.g. enable_thinking=false (repeatable)");
  sub->add_option("-n,--n-predict", a->n_predict, "Most tokens per reply (default 512)")->check(CLI::NonNegativeNumber);
  a->gen.add_to(sub);
  sub->add_flag("-v,--verbose", a->verbose, "Per-turn statistics on stderr");
  return {sub, [a] { return chat(*a); }};
}
