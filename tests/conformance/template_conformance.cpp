// template_conformance DIR: renders every case of DIR/cases.jsonl with slm's Jinja interpreter
// and compares it byte for byte with the rendering of Python's Jinja2 (configured as Hugging
// Face's apply_chat_template) recorded in the case, or expects the template's own
// raise_exception message. Exit 0: all pass; 1: a mismatch; 77: DIR absent (CTest: skipped).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "slm/error.h"
#include "src/text/chat_template.h"
#include "src/text/jinja/template.h"

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Escapes control characters so a diff excerpt stays on one line.
std::string visible(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

std::string diff_excerpt(const std::string& expected, const std::string& actual) {
  std::size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  const std::size_t from = i > 30 ? i - 30 : 0;
  std::ostringstream ss;
  ss << "first difference at byte " << i << " (expected " << expected.size() << " bytes, got " << actual.size()
     << ")\n      expected: ..." << visible(expected.substr(from, 80)) << "\n      actual:   ..."
     << visible(actual.substr(from, 80));
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: template_conformance DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const std::filesystem::path cases_path = dir / "cases.jsonl";
  if (!std::filesystem::exists(cases_path)) {
    std::printf("skipped: %s not found\n", cases_path.string().c_str());
    return 77;
  }
  std::ifstream cases(cases_path);
  std::map<std::string, slm::jinja::Template> templates;
  int passed = 0, failed = 0;
  std::string line;
  for (int line_number = 1; std::getline(cases, line); ++line_number) {
    if (line.empty()) continue;
    std::string label = "line " + std::to_string(line_number);
    try {
      const auto c = nlohmann::ordered_json::parse(line);
      const std::string template_name = c.at("template").get<std::string>();
      label = template_name + " / " + c.value("case", "?");
      auto it = templates.find(template_name);
      if (it == templates.end())
        it = templates.emplace(template_name, slm::jinja::Template::parse(read_file(dir / template_name))).first;

      nlohmann::ordered_json context = nlohmann::ordered_json::object();
      for (const auto& [key, value] : c.items())
        if (key != "template" && key != "case" && key != "now" && key != "text" && key != "error") context[key] = value;
      slm::jinja::RenderOptions options;
      if (c.contains("now")) {
        const std::tm now = slm::parse_datetime(c.at("now").get<std::string>());
        options.clock = [now] { return now; };
      }

      std::string actual;
      std::string raised;
      bool did_raise = false;
      try {
        actual = it->second.render(context, options);
      } catch (const slm::Error& e) {
        if (e.kind() != slm::ErrorKind::template_raise) throw;
        did_raise = true;
        raised = e.what();
      }

      if (c.contains("error")) {
        const std::string expected = c.at("error").get<std::string>();
        if (did_raise && raised == expected) {
          std::printf("PASS %s (raises)\n", label.c_str());
          ++passed;
        } else {
          std::printf("FAIL %s\n      expected raise_exception: %s\n      got: %s\n", label.c_str(), expected.c_str(),
                      did_raise ? ("raise_exception: " + raised).c_str() : visible(actual.substr(0, 120)).c_str());
          ++failed;
        }
        continue;
      }
      const std::string expected = c.at("text").get<std::string>();
      if (did_raise) {
        std::printf("FAIL %s\n      unexpected raise_exception: %s\n", label.c_str(), raised.c_str());
        ++failed;
      } else if (actual == expected) {
        std::printf("PASS %s\n", label.c_str());
        ++passed;
      } else {
        std::printf("FAIL %s\n      %s\n", label.c_str(), diff_excerpt(expected, actual).c_str());
        ++failed;
      }
    } catch (const std::exception& e) {
      std::printf("FAIL %s\n      error: %s\n", label.c_str(), e.what());
      ++failed;
    }
  }
  std::printf("template_conformance: %d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
