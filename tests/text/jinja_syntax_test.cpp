// Template syntax: delimiters, comments, raw blocks, string literals, whitespace control with
// trim_blocks / lstrip_blocks as Hugging Face configures Jinja2, and syntax errors with positions.
#include "tests/text/jinja_test_util.h"

using slm::ErrorKind;
using slm::jinja::test::contains;
using slm::jinja::test::render_failure;

TEST_CASE("jinja: text, expressions and comments") {
  CHECK_RENDERS(R"J(Hello, world!)J", R"J({})J", R"J(Hello, world!)J");
  CHECK_RENDERS(R"J(Hello {{ name }}!)J", R"J({"name": "Ada"})J", R"J(Hello Ada!)J");
  CHECK_RENDERS(R"J(a{# a comment {{ x }} #}b)J", R"J({})J", R"J(ab)J");
  CHECK_RENDERS(R"J({{ "}}" }}|{{ '{%' }})J", R"J({})J", R"J(}}|{%)J");
  CHECK_RENDERS(R"J({{ {'a': {'b': 1}} }})J", R"J({})J", R"J({'a': {'b': 1}})J");
  CHECK_RENDERS(R"J({ not a tag } {x})J", R"J({})J", R"J({ not a tag } {x})J");
}

TEST_CASE("jinja: string literals decode Python escapes") {
  CHECK_RENDERS(R"J({{ "a\tb\\c\"d" }})J", R"J({})J", "a\tb\\c\"d");
  CHECK_RENDERS(R"J({{ 'it\'s' }})J", R"J({})J", R"J(it's)J");
  CHECK_RENDERS(R"J({{ "\x41\u00e9\U0001F642" }})J", R"J({})J", "A\xC3\xA9\xF0\x9F\x99\x82");
  CHECK_RENDERS(R"J({{ "\q" }})J", R"J({})J", R"J(\q)J");  // unknown escapes stay as written
  CHECK_RENDERS(R"J({{ "a" 'b' "c" }})J", R"J({})J", R"J(abc)J");  // adjacent literals concatenate
  CHECK_RENDERS("{{ 'two\nlines' }}", "{}", "two\nlines");            // a raw newline inside quotes
}

TEST_CASE("jinja: number literals") {
  CHECK_RENDERS(R"J({{ 42 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }})J", R"J({})J", R"J(42 1000 31 15 5)J");
  CHECK_RENDERS(R"J({{ 1.5 }} {{ 2e3 }} {{ 1.5e-7 }} {{ 10.0 }})J", R"J({})J", R"J(1.5 2000.0 1.5e-07 10.0)J");
}

TEST_CASE("jinja: raw blocks print their body as text") {
  CHECK_RENDERS(R"J({% raw %}{{ x }}{% if %}{% endraw %})J", R"J({})J", R"J({{ x }}{% if %})J");
  CHECK_RENDERS("{% raw -%}  a  {%- endraw %}\nb", "{}", "ab");
  CHECK_RENDERS("  {% raw %}a{% endraw %}\nb", "{}", "ab");
}

TEST_CASE("jinja: trim_blocks drops the newline after a block tag, not after {{ }}") {
  CHECK_RENDERS("{% if true %}\nyes\n{% endif %}\nend", "{}", "yes\nend");
  CHECK_RENDERS("{{ 'a' }}\nb", "{}", "a\nb");
  CHECK_RENDERS("{# c #}\nx", "{}", "x");
  CHECK_RENDERS("{% if true +%}\nyes{% endif %}", "{}", "\nyes");  // + keeps the newline
}

TEST_CASE("jinja: lstrip_blocks strips indentation before a block tag on its own line") {
  CHECK_RENDERS("  {% if 1 %}\n  x\n  {% endif %}\nend", "{}", "  x\nend");
  CHECK_RENDERS("a  {% if 1 %}b{% endif %}  \n", "{}", "a  b  ");  // not at line start: kept
  CHECK_RENDERS("  {{ 'v' }}", "{}", "  v");                        // not for {{ }}
  CHECK_RENDERS("  {%+ if 1 %}y{% endif %}", "{}", "  y");          // + keeps it
  CHECK_RENDERS("  {# c #}\nx", "{}", "x");
}

TEST_CASE("jinja: - strips all whitespace on its side") {
  CHECK_RENDERS("a  \n {{- 'b' -}} \n\n c", "{}", "abc");
  CHECK_RENDERS("a\n  {%- if true -%}\n  b\n  {%- endif -%}\n  c", "{}", "abc");
  CHECK_RENDERS("{{ 5 -}} 6", "{}", "56");
  CHECK_RENDERS("{{ 5 - 1 }}", "{}", "4");  // a minus followed by a space is subtraction
  CHECK_RENDERS("x\n  {#- c -#}  \ny", "{}", "xy");
}

TEST_CASE("jinja: newlines are normalized and one trailing newline is dropped") {
  CHECK_RENDERS("a\r\nb\rc", "{}", "a\nb\nc");
  CHECK_RENDERS("x\n\n", "{}", "x\n");
  CHECK_RENDERS("x\n", "{}", "x");
}

TEST_CASE("jinja: parse options can turn the Hugging Face whitespace rules off") {
  slm::jinja::ParseOptions plain;
  plain.trim_blocks = false;
  plain.lstrip_blocks = false;
  plain.keep_trailing_newline = true;
  const auto t = slm::jinja::Template::parse("  {% if 1 %}\nx\n{% endif %}\n", plain);
  CHECK(t.render(nlohmann::ordered_json::object()) == "  \nx\n\n");
}

TEST_CASE("jinja: syntax errors name line and column") {
  auto check = [](std::string_view source, std::string_view where, std::string_view what) {
    try {
      slm::jinja::Template::parse(source);
      FAIL("no error for: " << source);
    } catch (const slm::Error& e) {
      CHECK(e.kind() == ErrorKind::template_syntax);
      CHECK_MESSAGE(e.where() == where, source << " -> " << e.where() << ": " << e.detail());
      CHECK_MESSAGE(contains(e.detail(), what), source << " -> " << e.detail());
    }
  };
  check("{{ x", "template line 1, column 1", "missing '}}'");
  check("a\n{% if x %}b", "template line 2, column 12", "expected 'elif' or 'else' or 'endif'");
  check("{% for x in y %}{% endif %}", "template line 1, column 20", "unknown tag 'endif' (expected 'endfor' or 'else')");
  check("{{ 'abc }}", "template line 1, column 4", "unterminated string");
  check("{# never closed", "template line 1, column 1", "unclosed comment");
  check("{% raw %}x", "template line 1, column 1", "unclosed raw block");
  check("line1\n\n  {% frobnicate %}", "template line 3, column 6", "unknown tag 'frobnicate'");
  check("{{ (1 + 2 }}", "template line 1, column 11", "unexpected '}', expected ')'");
  check("{{ 1 + }}", "template line 1, column 8", "unexpected end of print statement");
  check("{{ a b }}", "template line 1, column 6", "expected end of print statement");
  check("{% break %}", "template line 1, column 4", "outside of a loop");
  check("{% for x in y %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}", "template line 1, column 35",
        "outside of a loop");
  check("{% include 'other.html' %}", "template line 1, column 4", "cannot load or extend");
  check("{{ 99999999999999999999 }}", "template line 1, column 4", "integer literal too large");
  check("{{ 'a' @ 'b' }}", "template line 1, column 8", "unexpected character '@'");
  check("{{ '\\xZZ' }}", "template line 1, column 5", "invalid \\x escape");
  check("{% set true = 1 %}", "template line 1, column 13", "cannot assign to 'true'");
  check("{% macro m(a=1, b) %}{% endmacro %}", "template line 1, column 18", "without a default");
  check("{{ f(a=1, 2) }}", "template line 1, column 11", "positional argument follows keyword argument");
  check("{% for x in y recursive %}{% endfor %}", "template line 1, column 15", "recursive for loops are not supported");
  check("{% raw +%}x{% endraw %}", "template line 1, column 4", "raw block opens with");  // as Jinja2
}

TEST_CASE("jinja: nesting deeper than the parser's limit is a syntax error, not a stack overflow") {
  std::string deep(5000, '(');
  deep = "{{ " + deep + "1" + std::string(5000, ')') + " }}";
  const auto f = render_failure(deep);
  CHECK(f.thrown);
  CHECK(f.kind == ErrorKind::template_syntax);
  CHECK(contains(f.detail, "nesting limit"));

  std::string nots = "{{ ";
  for (int i = 0; i < 5000; ++i) nots += "not ";
  CHECK(render_failure(nots + "x }}").kind == ErrorKind::template_syntax);

  std::string ifs;
  for (int i = 0; i < 500; ++i) ifs += "{% if true %}";
  for (int i = 0; i < 500; ++i) ifs += "{% endif %}";
  CHECK(render_failure(ifs).kind == ErrorKind::template_syntax);

  // Moderate nesting is fine.
  CHECK_RENDERS(R"J({{ ((((((((((1)))))))))) }})J", R"J({})J", R"J(1)J");
}
