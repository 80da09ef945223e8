#include "src/text/chat_template.h"

#include <charconv>
#include <fmt/format.h>

#include "slm/error.h"

namespace slm {

nlohmann::ordered_json chat_template_context(const ChatRequest& request) {
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  context["messages"] = request.messages;
  context["tools"] = request.tools;
  context["bos_token"] = request.bos_token;
  context["eos_token"] = request.eos_token;
  context["add_generation_prompt"] = request.add_generation_prompt;
  if (request.extra_vars.is_object()) {
    for (const auto& [key, value] : request.extra_vars.items()) context[key] = value;
  } else if (!request.extra_vars.is_null()) {
    throw Error(ErrorKind::invalid_argument, "extra_vars", "must be a JSON object");
  }
  return context;
}

ChatTemplate ChatTemplate::parse(std::string_view source) { return ChatTemplate(jinja::Template::parse(source)); }

std::string ChatTemplate::render(const ChatRequest& request, const jinja::RenderOptions& options) const {
  jinja::RenderOptions effective = options;
  if (request.now) {
    const std::tm now = *request.now;
    effective.clock = [now] { return now; };
  }
  return template_.render(chat_template_context(request), effective);
}

std::string render_chat(std::string_view template_source, const nlohmann::ordered_json& messages,
                        const nlohmann::ordered_json& tools, std::string_view bos_token, std::string_view eos_token,
                        bool add_generation_prompt, const nlohmann::ordered_json& extra_vars,
                        std::optional<std::tm> now) {
  ChatRequest request;
  request.messages = messages;
  request.tools = tools;
  request.bos_token = std::string(bos_token);
  request.eos_token = std::string(eos_token);
  request.add_generation_prompt = add_generation_prompt;
  request.extra_vars = extra_vars;
  request.now = now;
  return ChatTemplate::parse(template_source).render(request);
}

std::tm parse_datetime(std::string_view text) {
  auto bad = [&]() -> Error {
    return Error(ErrorKind::invalid_argument, "time",
                 fmt::format("'{}' is not a date-time like 2026-07-26T09:30:00", text));
  };
  auto number = [&](std::size_t pos, std::size_t len) {
    int value = 0;
    if (pos + len > text.size()) throw bad();
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, value);
    if (ec != std::errc() || end != text.data() + pos + len) throw bad();
    return value;
  };
  std::tm tm{};
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') throw bad();
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(5, 2) - 1;
  tm.tm_mday = number(8, 2);
  if (text.size() > 10) {
    if ((text[10] != 'T' && text[10] != ' ') || text.size() < 16 || text[13] != ':') throw bad();
    tm.tm_hour = number(11, 2);
    tm.tm_min = number(14, 2);
    if (text.size() > 16) {
      if (text.size() != 19 || text[16] != ':') throw bad();
      tm.tm_sec = number(17, 2);
    }
  }
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    throw bad();
  // Normalize in UTC (no time zone is involved: this only fills in weekday and day of year).
  std::tm copy = tm;
  const std::time_t t = timegm(&copy);
  std::tm out{};
  gmtime_r(&t, &out);
  if (out.tm_mday != tm.tm_mday) throw bad();  // 2026-02-30 and the like
  return out;
}

}  // namespace slm
