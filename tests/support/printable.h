// Printing texts and token ids on one line, for the mismatch reports of the standalone tokenizer
// runners (tests/conformance/tokenizer_conformance, tests/text/hf_diff/hf_diff_check).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace slm::test {

// `s` with newlines, tabs and other control bytes (and DEL) written as escapes, so a mismatch report stays
// one line per text and shows whitespace differences. Bytes >= 0x80 pass unchanged: the terminal
// shows UTF-8 as text.
inline std::string escaped(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else
      out.push_back(static_cast<char>(c));
  }
  return out;
}

// Token ids separated by single spaces: the format of llama.cpp's .out files, so an expected line
// can be compared with the file by eye.
inline std::string joined(const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) {
    // Appended in two steps: GCC 12 misreports `" " + std::to_string(id)` under -Wrestrict.
    if (!out.empty()) out += ' ';
    out += std::to_string(id);
  }
  return out;
}

}  // namespace slm::test
