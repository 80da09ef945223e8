#include "formats/untrusted_json.h"

#include <set>
#include <vector>

#include "slm/error.h"

namespace slm {
namespace {

using Json = nlohmann::ordered_json;

// First pass: a SAX handler that builds nothing, only checks depth and key uniqueness, and stops at
// the first problem. The document is built by a second, plain parse once the text is known good.
class Checker final : public nlohmann::json_sax<Json> {
 public:
  explicit Checker(size_t max_depth) : max_depth_(max_depth) {}

  enum class Problem { none, syntax, too_deep, duplicate_key };
  Problem problem = Problem::none;
  std::string message;  // syntax: nlohmann's message; duplicate_key: the dotted path
  size_t byte = 0;      // syntax: position of the error in the text

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }

  bool start_object(std::size_t) override { return open(true); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    Frame& f = frames_.back();
    f.current_key = k;
    if (!f.keys.insert(k).second) {
      problem = Problem::duplicate_key;
      message = path();
      return false;
    }
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    problem = Problem::syntax;
    byte = position;
    message = ex.what();
    // "[json.exception.parse_error.101] parse error at ...": the bracketed id says nothing to a user.
    if (const auto close_bracket = message.find("] "); message.starts_with("[json.") && close_bracket != std::string::npos)
      message.erase(0, close_bracket + 2);
    return false;
  }

 private:
  struct Frame {
    bool is_object = false;
    std::set<std::string> keys;  // object members seen so far
    std::string current_key;     // object: the member being parsed
    size_t index = 0;            // array: elements completed so far
  };

  bool value() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
    return true;
  }
  bool open(bool is_object) {
    if (frames_.size() >= max_depth_) {
      problem = Problem::too_deep;
      message = path();
      return false;
    }
    frames_.push_back(Frame{is_object, {}, {}, 0});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return value();  // the closed container is one element of its parent
  }
  std::string path() const {
    std::string p;
    for (const Frame& f : frames_) {
      if (f.is_object) {
        if (!p.empty()) p += '.';
        p += f.current_key;
      } else {
        p += '[' + std::to_string(f.index) + ']';
      }
    }
    return p;
  }

  size_t max_depth_;
  std::vector<Frame> frames_;
};

}  // namespace

Json parse_untrusted_json(std::string_view text, const UntrustedJsonOptions& opt) {
  Checker checker(opt.max_depth);
  const bool ok = Json::sax_parse(text.begin(), text.end(), &checker, Json::input_format_t::json,
                                  /*strict=*/true);
  if (!ok) {
    switch (checker.problem) {
      case Checker::Problem::duplicate_key:
        throw Error(ErrorKind::format, opt.file + ": " + opt.field_word + " " + checker.message,
                    "duplicate key (each name may appear once)");
      case Checker::Problem::too_deep:
        throw Error(ErrorKind::format, opt.file + ": " + opt.field_word + " " + checker.message,
                    "JSON nested deeper than " + std::to_string(opt.max_depth) + " levels");
      case Checker::Problem::syntax:
      case Checker::Problem::none: {
        // nlohmann counts the byte it stopped at from 1; report the 0-based offset in the file.
        const uint64_t at = opt.base_offset + (checker.byte > 0 ? checker.byte - 1 : 0);
        throw Error(ErrorKind::format, opt.file + ": offset " + std::to_string(at),
                    "malformed JSON: " + (checker.message.empty() ? std::string("parse failed") : checker.message));
      }
    }
  }
  // The checker accepted the text, so this parse cannot fail; a failure here would be a bug.
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::internal, opt.file, std::string("JSON accepted by the checker failed to parse: ") + e.what());
  }
}

std::string_view json_type_name(const Json& v) noexcept {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "number";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::binary: return "binary";
    case nlohmann::json::value_t::discarded: return "discarded";
  }
  return "unknown";
}

}  // namespace slm
