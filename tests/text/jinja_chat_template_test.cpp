// The chat-template layer (context building, clock, bos/eos, tools as None) and the real
// templates of ../shared/templates rendered through it.
#include <fstream>
#include <sstream>

#include "tests/support/shared_data.h"
#include "tests/text/jinja_test_util.h"

#include "src/text/chat_template.h"

using slm::ErrorKind;
using slm::jinja::test::contains;

namespace {

nlohmann::ordered_json conversation() {
  return nlohmann::ordered_json::parse(
      R"J([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}])J");
}

std::tm july_26_2026() { return slm::parse_datetime("2026-07-26T09:30:00"); }

}  // namespace

TEST_CASE("chat template: the context holds messages, tools, tokens and extra variables") {
  slm::ChatRequest request;
  request.messages = conversation();
  request.bos_token = "<s>";
  request.eos_token = "</s>";
  request.add_generation_prompt = false;
  request.extra_vars = {{"enable_thinking", false}};
  const auto ctx = slm::chat_template_context(request);
  CHECK(ctx.at("messages").size() == 4);
  CHECK(ctx.at("tools").is_null());
  CHECK(ctx.at("bos_token") == "<s>");
  CHECK(ctx.at("eos_token") == "</s>");
  CHECK(ctx.at("add_generation_prompt") == false);
  CHECK(ctx.at("enable_thinking") == false);

  const auto t = slm::ChatTemplate::parse(
      "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}"
      "{% if add_generation_prompt %}<assistant>{% endif %}|{{ tools is none }}|{{ enable_thinking }}");
  CHECK(t.render(request) == "<s><system>Be brief.</s><user>Hi</s><assistant>Hello!</s><user>Bye</s>|True|False");
  request.add_generation_prompt = true;
  request.tools = nlohmann::ordered_json::parse(R"J([{"type": "function"}])J");
  CHECK(contains(t.render(request), "<user>Bye</s><assistant>|False|False"));
}

TEST_CASE("chat template: strftime_now reads the request's clock") {
  const std::string text = slm::render_chat("{{ strftime_now('%d %b %Y, %A %H:%M') }}", conversation(), nullptr, "", "", true,
                                            nullptr, july_26_2026());
  CHECK(text == "26 Jul 2026, Sunday 09:30");
}

TEST_CASE("chat template: parse_datetime") {
  const std::tm tm = slm::parse_datetime("2024-02-29T23:59:58");
  CHECK(tm.tm_year == 124);
  CHECK(tm.tm_mon == 1);
  CHECK(tm.tm_mday == 29);
  CHECK(tm.tm_hour == 23);
  CHECK(tm.tm_min == 59);
  CHECK(tm.tm_sec == 58);
  CHECK(tm.tm_wday == 4);  // a Thursday
  CHECK(slm::parse_datetime("2026-07-26").tm_yday == 206);
  for (const char* bad : {"", "2026-7-26", "2026-02-30T00:00:00", "2026-07-26T25:00:00", "yesterday", "2026-07-26T09:30:00Z"}) {
    try {
      slm::parse_datetime(bad);
      FAIL("accepted " << bad);
    } catch (const slm::Error& e) {
      CHECK(e.kind() == ErrorKind::invalid_argument);
    }
  }
}

TEST_CASE("chat template: raise_exception surfaces as template_raise with the template's message") {
  try {
    slm::render_chat("{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}",
                     conversation(), nullptr, "", "", true);
    FAIL("no error");
  } catch (const slm::Error& e) {
    CHECK(e.kind() == ErrorKind::template_raise);
    CHECK(std::string(e.what()) == "System role not supported");
  }
}

TEST_CASE("chat template: the real templates render a conversation") {
  auto dir = SLM_REQUIRE_SHARED("templates");
  if (!dir) return;
  auto read = [&](const char* name) { return slm::test::read_text_file(*dir / name); };
  slm::ChatRequest request;
  request.messages = conversation();
  request.now = july_26_2026();

  request.eos_token = "<|im_end|>";
  const std::string qwen = slm::ChatTemplate::parse(read("Qwen-Qwen2.5-7B-Instruct.jinja")).render(request);
  CHECK(qwen ==
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
        "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");

  request.bos_token = "<|begin_of_text|>";
  request.eos_token = "<|eot_id|>";
  const std::string llama = slm::ChatTemplate::parse(read("meta-llama-Llama-3.2-3B-Instruct.jinja")).render(request);
  CHECK(llama.starts_with("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                          "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2026\n\nBe brief.<|eot_id|>"));
  CHECK(llama.ends_with("<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));

  request.bos_token = "<bos>";
  try {
    slm::ChatTemplate::parse(read("google-gemma-2-2b-it.jinja")).render(request);
    FAIL("gemma accepted a system message");
  } catch (const slm::Error& e) {
    CHECK(e.kind() == ErrorKind::template_raise);
    CHECK(std::string(e.what()) == "System role not supported");
  }
}

TEST_CASE("chat template: every case of cases.jsonl matches Jinja2's rendering") {
  auto dir = SLM_REQUIRE_SHARED("templates/cases.jsonl");
  if (!dir) return;
  std::ifstream in(*dir);
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::ordered_json::parse(line);
    const std::string name = c.at("template").get<std::string>();
    CAPTURE(name);
    CAPTURE(c.at("case").get<std::string>());
    nlohmann::ordered_json context = nlohmann::ordered_json::object();
    for (const auto& [key, value] : c.items())
      if (key != "template" && key != "case" && key != "now" && key != "text" && key != "error") context[key] = value;
    slm::jinja::RenderOptions options;
    const std::tm now = slm::parse_datetime(c.at("now").get<std::string>());
    options.clock = [now] { return now; };
    const auto t = slm::jinja::Template::parse(slm::test::read_text_file(dir->parent_path() / name));
    if (c.contains("error")) {
      try {
        t.render(context, options);
        FAIL("no raise_exception");
      } catch (const slm::Error& e) {
        CHECK(e.kind() == ErrorKind::template_raise);
        CHECK(std::string(e.what()) == c.at("error").get<std::string>());
      }
    } else {
      CHECK(t.render(context, options) == c.at("text").get<std::string>());
    }
    ++cases;
  }
  CHECK(cases == 60);
}
