// The slm command's subcommands. Each lives in its own cmd_NAME.cpp and registers itself:
//
//   static int run_inspect(const InspectArgs&);
//   SLM_COMMAND(inspect) {            // body gets `CLI::App& app`, returns the runner
//     auto* sub = app.add_subcommand("inspect", "Print a model file's metadata and tensors");
//     auto args = std::make_shared<InspectArgs>();
//     sub->add_option("MODEL", args->model)->required();
//     return {sub, [args] { return run_inspect(*args); }};
//   }
//
// main() parses, then calls the runner of the chosen subcommand. A runner returns the process exit
// status; slm::Error escaping it is printed as "slm: error: ..." with status 1.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <utility>
#include <vector>

namespace slm::cli {

struct Registered {
  CLI::App* sub;
  std::function<int()> run;
};
using CommandFactory = Registered (*)(CLI::App& app);

inline std::vector<std::pair<const char*, CommandFactory>>& command_registry() {
  static std::vector<std::pair<const char*, CommandFactory>> r;
  return r;
}

struct CommandRegistrar {
  CommandRegistrar(const char* name, CommandFactory f) { command_registry().emplace_back(name, f); }
};

}  // namespace slm::cli

#define SLM_COMMAND(name)                                                                \
  static ::slm::cli::Registered slm_command_##name(CLI::App& app);                       \
  static ::slm::cli::CommandRegistrar slm_command_registrar_##name(#name, &slm_command_##name); \
  static ::slm::cli::Registered slm_command_##name(CLI::App& app)
