// Running the built `slm` command from a test, as a user runs it. The binary's path comes from the
// build (SLM_CLI_BINARY, defined for every test suite when the slm command is built); without it,
// have_slm_cli() says why and the test returns early.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support/shared_data.h"
#include "tests/support/temp_dir.h"

namespace slm::test {

struct CliRun {
  int status = -1;  // exit status (-1: killed by a signal)
  std::string out;  // stdout
  std::string err;  // stderr
};

// Single-quotes an argument for /bin/sh.
inline std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out.push_back(c);
  }
  return out + "'";
}

inline bool have_slm_cli() {
#ifdef SLM_CLI_BINARY
  if (std::filesystem::exists(SLM_CLI_BINARY)) return true;
  MESSAGE("skipped: " << SLM_CLI_BINARY << " has not been built");
#else
  MESSAGE("skipped: the slm command is not part of this build (SLM_BUILD_EXAMPLES=OFF)");
#endif
  return false;
}

// `slm ARGS` (ARGS already quoted for the shell), with `input` on stdin.
inline CliRun run_slm(const std::string& args, const std::string& input = "") {
  CliRun r;
#ifdef SLM_CLI_BINARY
  const TempDir dir("cli");  // removed once the outputs are read
  const auto in_path = dir / "stdin", out_path = dir / "stdout", err_path = dir / "stderr";
  dir.write("stdin", input);
  const std::string cmd = sh_quote(SLM_CLI_BINARY) + " " + args + " <" + sh_quote(in_path.string()) + " >" +
                          sh_quote(out_path.string()) + " 2>" + sh_quote(err_path.string());
  const int status = std::system(cmd.c_str());
  r.status = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  r.out = read_text_file(out_path);
  r.err = read_text_file(err_path);
#else
  (void)args;
  (void)input;
#endif
  return r;
}

}  // namespace slm::test
