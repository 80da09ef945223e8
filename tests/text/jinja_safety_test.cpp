// Hostile templates: every limit ends the render with slm::Error(template_runtime,
// "template line N", "... limit ...") in well under a second, and no template reaches the
// outside world.
#include <atomic>
#include <thread>
#include <vector>

#include "tests/text/jinja_test_util.h"

using slm::ErrorKind;
using slm::jinja::test::contains;
using slm::jinja::test::render_failure;
using slm::jinja::test::seconds;

namespace {

void check_limited(std::string_view source, std::string_view limit_word, const slm::jinja::RenderOptions& options = {}) {
  slm::jinja::test::Failure f;
  const double took = seconds([&] { f = render_failure(source, "{}", options); });
  CHECK_MESSAGE(f.thrown, source);
  CHECK_MESSAGE(f.kind == ErrorKind::template_runtime, source << " -> " << f.what);
  CHECK_MESSAGE(contains(f.where, "template line "), f.where);
  CHECK_MESSAGE(contains(f.detail, "limit"), source << " -> " << f.detail);
  CHECK_MESSAGE(contains(f.detail, limit_word), source << " -> " << f.detail);
  CHECK_MESSAGE(took < slm::jinja::test::kQuickSeconds, source << " took " << took << " s");
}

}  // namespace

TEST_CASE("jinja safety: a loop over range(10**9) ends at once") {
  check_limited("{% for i in range(10**9) %}x{% endfor %}", "range");
}

TEST_CASE("jinja safety: nested loops stop at the iteration limit") {
  // 10^10 iterations asked for; the limit (lowered here to keep the sanitizer build fast) ends it.
  slm::jinja::RenderOptions options;
  options.limits.max_loop_iterations = 100'000;
  check_limited("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loop iteration",
                options);
}

TEST_CASE("jinja safety: endless recursion in a macro stops at the call depth limit") {
  check_limited("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "macro call depth");
  check_limited("{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}", "macro call depth");
}

TEST_CASE("jinja safety: exponential string growth stops at the string size limit") {
  // As in Jinja2, a plain `set` inside a loop body does not outlive the iteration, so this one
  // does not grow at all...
  CHECK_RENDERS(R"J({% set s = 'x' %}{% for i in range(100) %}{% set s = s ~ s %}{% endfor %}{{ s|length }})J", R"J({})J",
                R"J(1)J");
  // ...but through a namespace, or through recursion, the string doubles every step.
  check_limited("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "string size");
  check_limited("{% set ns = namespace(s='xy') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", "string size");
  check_limited("{% macro d(s, n) %}{{ d(s ~ s, n - 1) if n else s|length }}{% endmacro %}{{ d('x', 90) }}", "string size");
  check_limited("{{ 'x' * 10**12 }}", "string size");
  check_limited("{{ ('ab' * 100)|replace('', 'x' * 1000000) }}", "string size");
  check_limited("{{ '%9999999999d' % 1 }}", "string size");
  check_limited("{{ 'a'.center(10**11) }}", "string size");
}

TEST_CASE("jinja safety: list growth stops at the item limit") {
  check_limited("{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
                "list/dict size");
  check_limited("{{ [1] * 10**10 }}", "list/dict size");
  check_limited("{% set l = [0] %}{% for i in range(40) %}{% do l.extend(l) %}{% endfor %}", "list/dict size");
}

TEST_CASE("jinja safety: output and step limits") {
  slm::jinja::RenderOptions small;
  small.limits.max_output_bytes = 1000;
  check_limited("{% for i in range(10000) %}0123456789{% endfor %}", "output size", small);

  slm::jinja::RenderOptions few_steps;
  few_steps.limits.max_steps = 10000;
  check_limited("{% for i in range(100000) %}{{ i }}{% endfor %}", "evaluation step", few_steps);

}

TEST_CASE("jinja safety: the work budget bounds repeated copying of big strings") {
  slm::jinja::RenderOptions options;
  options.limits.max_work_bytes = 50u << 20;
  check_limited("{% set big = 'x' * 1000000 %}{% for i in range(100000) %}{% set c = big ~ '' %}{% endfor %}", "work",
                options);
}

TEST_CASE("jinja safety: work that grows with operand size is metered, not counted as one step") {
  slm::jinja::RenderOptions options;
  options.limits.max_work_bytes = 100u << 20;
  // Membership in a long list, comparison of long lists, scans of a long string, lookups by a long
  // key, inserts at the front of a long list: each one step, each proportional to its operands.
  check_limited("{% set l = range(100000)|list %}{% for i in range(100000) %}{{ -1 in l }}{% endfor %}", "work", options);
  check_limited("{% set a = range(100000)|list %}{% set b = range(100000)|list %}{% for i in range(100000) %}{{ a == b }}{% endfor %}",
                "work", options);
  check_limited("{% set s = 'x' * 10000000 %}{% for i in range(100000) %}{{ 'y' in s }}{{ s.find('y') }}{% endfor %}", "work",
                options);
  check_limited("{% set t = (range(100000)|list|join(',')).split(',') %}{% set d = {} %}{% for i in range(100000) %}{{ d.get(t|join) }}{% endfor %}",
                "work", options);
  check_limited("{% set l = range(100000)|list %}{% for i in range(100000) %}{% do l.insert(0, i) %}{% endfor %}", "work",
                options);
}

TEST_CASE("jinja safety: self-containing values fail to print instead of overflowing the stack") {
  const auto f = render_failure("{% set l = [] %}{% do l.append(l) %}{{ l }}");
  CHECK(f.kind == ErrorKind::template_runtime);
  CHECK(contains(f.detail, "nested too deeply"));
  CHECK(render_failure("{% set l = [] %}{% do l.append(l) %}{{ l|tojson }}").kind == ErrorKind::template_runtime);
  CHECK(render_failure("{% set a = [] %}{% do a.append(a) %}{% set b = [] %}{% do b.append(b) %}{{ a == b }}").kind ==
        ErrorKind::template_runtime);
  CHECK_RENDERS(R"J({% set l = [] %}{% do l.append(l) %}{{ l == l[0] }})J", R"J({})J", R"J(True)J");  // identity, as Python
  // A namespace that holds itself renders fine as long as it is not printed.
  CHECK_RENDERS(R"J({% set ns = namespace() %}{% set ns.me = ns %}{{ ns.me.me is defined }})J", R"J({})J", R"J(True)J");
}

TEST_CASE("jinja safety: deep evaluation stops at the depth limit") {
  slm::jinja::RenderOptions options;
  options.limits.max_depth = 50;
  check_limited("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "nesting depth", options);
}

TEST_CASE("jinja safety: oversized sources and contexts are refused") {
  slm::jinja::ParseOptions options;
  options.max_source_bytes = 100;
  try {
    slm::jinja::Template::parse(std::string(200, 'x'), options);
    FAIL("no error");
  } catch (const slm::Error& e) {
    CHECK(e.kind() == ErrorKind::template_syntax);
    CHECK(contains(e.detail(), "source size limit"));
  }
  std::string deep_json = std::string(300, '[') + std::string(300, ']');
  try {
    slm::jinja::Template::parse("x").render(nlohmann::ordered_json::parse("{\"a\": " + deep_json + "}"));
    FAIL("no error");
  } catch (const slm::Error& e) {
    CHECK(e.kind() == ErrorKind::template_runtime);
    CHECK(e.where() == "context");
  }
}

TEST_CASE("jinja safety: no file, import or attribute escape hatches") {
  // Python-object tricks of template injection resolve to nothing here.
  CHECK_RENDERS(R"J({{ ''.__class__ }}|{{ [].__class__ }}|{{ {}.__init__ }}|{{ config }})J", R"J({})J", R"J(|||)J");
  CHECK(render_failure("{{ ''.__class__.__mro__[1] }}").kind == ErrorKind::template_runtime);
  CHECK(render_failure("{% include '/etc/passwd' %}").kind == ErrorKind::template_syntax);
  CHECK(render_failure("{% import 'x' as y %}").kind == ErrorKind::template_syntax);
  CHECK(render_failure("{% extends 'x' %}").kind == ErrorKind::template_syntax);
}

TEST_CASE("jinja safety: a template may be rendered from many threads") {
  const auto t = slm::jinja::Template::parse(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + m.k %}{% endfor %}{{ ns.n }}");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&t, &wrong, i] {
      nlohmann::ordered_json ctx = {{"messages", nlohmann::ordered_json::array()}};
      for (int j = 0; j <= i; ++j) ctx["messages"].push_back({{"k", 10}});
      for (int r = 0; r < 200; ++r)
        if (t.render(ctx) != std::to_string(10 * (i + 1))) ++wrong;
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);
}
