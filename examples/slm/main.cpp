// slm: command-line front end. Subcommands register themselves (see command.h).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "examples/slm/command.h"
#include "slm/error.h"

int main(int argc, char** argv) {
  CLI::App app{"slm: fast inference for small language models"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  auto& reg = slm::cli::command_registry();
  std::sort(reg.begin(), reg.end(), [](const auto& a, const auto& b) { return std::strcmp(a.first, b.first) < 0; });
  std::vector<slm::cli::Registered> commands;
  for (auto& [name, factory] : reg) commands.push_back(factory(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& c : commands)
      if (c.sub->parsed()) return c.run();
  } catch (const slm::Error& e) {
    std::fprintf(stderr, "slm: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slm: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
