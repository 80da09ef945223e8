// Statements: if/elif/else, for loops (loop variables, else, filtering, unpacking, break,
// continue), set (names, tuples, namespaces, blocks), macros and call blocks, filter blocks,
// with, do, generation, and Jinja2's scoping rules.
#include "tests/text/jinja_test_util.h"

using slm::ErrorKind;
using slm::jinja::test::contains;
using slm::jinja::test::render_failure;

TEST_CASE("jinja: if / elif / else") {
  const char* t = R"J({% if n > 1 %}many{% elif n == 1 %}one{% else %}none{% endif %})J";
  CHECK_RENDERS(t, R"J({"n": 5})J", R"J(many)J");
  CHECK_RENDERS(t, R"J({"n": 1})J", R"J(one)J");
  CHECK_RENDERS(t, R"J({"n": 0})J", R"J(none)J");
  CHECK_RENDERS(R"J({% if [] %}a{% elif {} %}b{% elif "" %}c{% elif none %}d{% else %}e{% endif %})J", R"J({})J", R"J(e)J");
}

TEST_CASE("jinja: for loops and the loop variable") {
  CHECK_RENDERS(R"J({% for x in xs %}{{ loop.index }}/{{ loop.length }}:{{ x }}{{ "," if not loop.last }}{% endfor %})J",
                R"J({"xs": ["a", "b", "c"]})J", R"J(1/3:a,2/3:b,3/3:c)J");
  CHECK_RENDERS(
      R"J({% for x in "abc" %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %})J",
      R"J({})J", R"J(032Trueb;121Falseac;210Falseb;)J");
  CHECK_RENDERS(R"J({% for x in [1, 2, 3] %}{{ loop.cycle("odd", "even") }} {% endfor %})J", R"J({})J", R"J(odd even odd )J");
  CHECK_RENDERS(R"J({% for x in [1, 1, 2] %}{{ loop.changed(x) }} {% endfor %})J", R"J({})J", R"J(True False True )J");
  CHECK_RENDERS(R"J({% for a in [1, 2] %}{% for b in "xy" %}{{ loop.depth }}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{% endfor %})J",
                R"J({})J", R"J(11x1 11y2 12x1 12y2 )J");  // depth counts recursive loops only
}

TEST_CASE("jinja: for over dicts, items(), strings; unpacking") {
  const char* ctx = R"J({"d": {"b": 1, "a": 2}})J";
  CHECK_RENDERS(R"J({% for k in d %}{{ k }}{% endfor %})J", ctx, R"J(ba)J");  // insertion order
  CHECK_RENDERS(R"J({% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %})J", ctx, R"J(b=1;a=2;)J");
  CHECK_RENDERS(R"J({% for (k, v) in d|items %}{{ k }}{{ v }}{% endfor %})J", ctx, R"J(b1a2)J");
  CHECK_RENDERS(R"J({% for a, (b, c) in [[1, [2, 3]]] %}{{ a }}{{ b }}{{ c }}{% endfor %})J", R"J({})J", R"J(123)J");
  CHECK(contains(render_failure("{% for a, b in [[1, 2, 3]] %}{% endfor %}").detail, "too many values to unpack"));
  CHECK(contains(render_failure("{% for a, b in [[1]] %}{% endfor %}").detail, "not enough values to unpack"));
  CHECK(contains(render_failure("{% for x in 42 %}{% endfor %}").detail, "'int' object is not iterable"));
}

TEST_CASE("jinja: for ... else, and filtered loops count only kept items") {
  CHECK_RENDERS(R"J({% for x in [] %}x{% else %}empty{% endfor %})J", R"J({})J", R"J(empty)J");
  CHECK_RENDERS(R"J({% for x in [1, 2] %}{{ x }}{% else %}empty{% endfor %})J", R"J({})J", R"J(12)J");
  CHECK_RENDERS(R"J({% for x in [1, 2, 3, 4] if x is even %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% endfor %})J",
                R"J({})J", R"J(2:1/2 4:2/2 )J");
  CHECK_RENDERS(R"J({% for x in [1, 3] if x is even %}x{% else %}none kept{% endfor %})J", R"J({})J", R"J(none kept)J");
}

TEST_CASE("jinja: break and continue") {
  CHECK_RENDERS(R"J({% for x in range(10) %}{% if x == 3 %}{% break %}{% endif %}{{ x }}{% endfor %})J", R"J({})J", R"J(012)J");
  CHECK_RENDERS(R"J({% for x in range(5) %}{% if x is odd %}{% continue %}{% endif %}{{ x }}{% endfor %})J", R"J({})J", R"J(024)J");
  CHECK_RENDERS(
      R"J({% for a in [1, 2] %}{% for b in [1, 2, 3] %}{% if b == 2 %}{% break %}{% endif %}{{ a }}{{ b }} {% endfor %}{% endfor %})J",
      R"J({})J", R"J(11 21 )J");
}

TEST_CASE("jinja: set, tuple set, and scoping of loops, ifs and macros") {
  CHECK_RENDERS(R"J({% set x = 1 %}{% set a, b = [2, 3] %}{{ x }}{{ a }}{{ b }})J", R"J({})J", R"J(123)J");
  // if does not open a scope; a loop body does, fresh for every iteration.
  CHECK_RENDERS(R"J({% if true %}{% set z = 3 %}{% endif %}{{ z }})J", R"J({})J", R"J(3)J");
  CHECK_RENDERS(R"J({% set x = 5 %}{% for i in [1, 2] %}{{ x }}{% set x = i %}{{ x }} {% endfor %}{{ x }})J", R"J({})J",
                R"J(51 52 5)J");
  CHECK_RENDERS(R"J({% for i in [1, 2] %}[{{ y }}]{% set y = i %}{% endfor %})J", R"J({})J", R"J([][])J");
  // Reassigning the loop variable inside the body (Qwen's `set tool_call = tool_call.function`).
  CHECK_RENDERS(R"J({% for t in [{"function": {"name": "f"}}] %}{% set t = t.function %}{{ t.name }}{% endfor %})J", R"J({})J",
                R"J(f)J");
  // Top-level set replaces a context variable for the rest of the template.
  CHECK_RENDERS(R"J({% set messages = messages[1:] %}{{ messages|length }})J", R"J({"messages": [1, 2, 3]})J", R"J(2)J");
}

TEST_CASE("jinja: namespace carries state out of loops") {
  CHECK_RENDERS(R"J({% set ns = namespace(count=0, found=false) %}{% for x in [1, 2, 3] %}{% set ns.count = ns.count + x %}{% endfor %}{{ ns.count }} {{ ns.found }})J",
                R"J({})J", R"J(6 False)J");
  CHECK_RENDERS(R"J({% set ns = namespace() %}{% set ns.index = 0 %}{{ ns.index }} {{ ns }})J", R"J({})J",
                R"J(0 <Namespace {'index': 0}>)J");
  CHECK_RENDERS(R"J({% set ns = namespace({"a": 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c is defined }})J", R"J({})J", R"J(12False)J");
  CHECK(contains(render_failure("{% set d = {} %}{% set d.x = 1 %}").detail, "non-namespace object"));
}

TEST_CASE("jinja: block set captures output, with filters") {
  CHECK_RENDERS("{% set x %}\n hi {{ 1 }}\n{% endset %}[{{ x }}]", "{}", "[ hi 1\n]");
  CHECK_RENDERS(R"J({% set x | upper | trim %}  shout  {% endset %}[{{ x }}])J", R"J({})J", R"J([SHOUT])J");
}

TEST_CASE("jinja: macros with defaults, keywords, varargs and kwargs") {
  const char* macro = R"J({% macro greet(name, greeting="Hello") %}{{ greeting }}, {{ name }}!{% endmacro %})J";
  CHECK_RENDERS(std::string(macro) + R"J({{ greet("Ada") }} {{ greet("Bob", greeting="Hi") }} {{ greet(greeting="Yo", name="Cy") }})J",
                R"J({})J", R"J(Hello, Ada! Hi, Bob! Yo, Cy!)J");
  CHECK_RENDERS(R"J({% macro m(a, b=2) %}[{{ a }},{{ b }},{{ varargs }},{{ kwargs }}]{% endmacro %}{{ m(1) }}{{ m(1, 3, 4, c=5) }})J",
                R"J({})J", R"J([1,2,(),{}][1,3,(4,),{'c': 5}])J");
  CHECK_RENDERS(R"J({% macro m(a) %}[{{ a }}]{% endmacro %}{{ m() }} {{ m }})J", R"J({})J", R"J([] <Macro 'm'>)J");
  CHECK_RENDERS(R"J({% macro m(n) %}{{ n }}{% if n > 0 %}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(3) }})J", R"J({})J", R"J(3210)J");
  // Defaults may use earlier parameters.
  CHECK_RENDERS(R"J({% macro m(a, b=a * 2) %}{{ b }}{% endmacro %}{{ m(4) }})J", R"J({})J", R"J(8)J");
}

TEST_CASE("jinja: macros see the scope they were defined in") {
  CHECK_RENDERS(R"J({% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }})J", R"J({})J", R"J(2)J");
  CHECK_RENDERS(R"J({% for i in [1, 2] %}{% macro m() %}{{ i }}{% endmacro %}{{ m() }}{% endfor %})J", R"J({})J", R"J(12)J");
  CHECK_RENDERS(R"J({% macro m() %}{{ y }}{% endmacro %}{% for y in [1] %}[{{ m() }}]{% endfor %})J", R"J({})J", R"J([])J");
  CHECK_RENDERS(R"J({% macro m() %}{% set x = 5 %}{{ x }}{% endmacro %}{% set x = 1 %}{{ m() }}{{ x }})J", R"J({})J", R"J(51)J");
}

TEST_CASE("jinja: call blocks pass their body as caller()") {
  CHECK_RENDERS(R"J({% macro box(title) %}[{{ title }}: {{ caller() }}]{% endmacro %}{% call box("note") %}body {{ 1 + 1 }}{% endcall %})J",
                R"J({})J", R"J([note: body 2])J");
  CHECK_RENDERS(R"J({% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}<{{ item }}>{% endcall %})J",
                R"J({})J", R"J(<1><2>)J");
}

TEST_CASE("jinja: filter blocks, with, do, generation") {
  CHECK_RENDERS(R"J({% filter upper %}hello {{ "x" }}{% endfilter %})J", R"J({})J", R"J(HELLO X)J");
  CHECK_RENDERS(R"J({% filter replace("a", "o") | title %}banana split{% endfilter %})J", R"J({})J", R"J(Bonono Split)J");
  CHECK_RENDERS(R"J({% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}])J", R"J({})J", R"J(3[])J");
  CHECK_RENDERS(R"J({% set xs = [] %}{% do xs.append(1) %}{% do xs.extend([2, 3]) %}{{ xs }})J", R"J({})J", R"J([1, 2, 3])J");
  CHECK_RENDERS(R"J(<{% generation %}kept {{ 1 }}{% endgeneration %}>)J", R"J({})J", R"J(<kept 1>)J");
}

TEST_CASE("jinja: lists are shared by reference, as in Python") {
  CHECK_RENDERS(R"J({% set a = [1] %}{% set b = a %}{{ b.append(2) or "" }}{{ a }})J", R"J({})J", R"J([1, 2])J");
  CHECK_RENDERS(R"J({% set ns = namespace(items=[]) %}{% for x in "ab" %}{% do ns.items.append(x) %}{% endfor %}{{ ns.items|join("+") }})J",
                R"J({})J", R"J(a+b)J");
  // A loop iterates over the items it started with, even if the body appends to the list.
  CHECK_RENDERS(R"J({% set l = [1, 2] %}{% for x in l %}{% do l.append(x) %}{% endfor %}{{ l }})J", R"J({})J",
                R"J([1, 2, 1, 2])J");
}

TEST_CASE("jinja: raise_exception and strftime_now") {
  const auto f = render_failure(R"J({% if true %}{{ raise_exception("Roles must alternate!") }}{% endif %})J");
  CHECK(f.kind == ErrorKind::template_raise);
  CHECK(f.what == "Roles must alternate!");
  CHECK(f.detail == "Roles must alternate!");
  CHECK(f.where == "template line 1");

  slm::jinja::RenderOptions options;
  options.clock = [] {
    std::tm tm{};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 6;
    tm.tm_mday = 26;
    tm.tm_hour = 9;
    tm.tm_min = 30;
    tm.tm_wday = 0;
    return tm;
  };
  CHECK(slm::jinja::test::render(R"J({{ strftime_now("%d %b %Y") }}|{{ strftime_now("%Y-%m-%d %H:%M") }}|{{ strftime_now("%A") }})J",
                                 "{}", options) == "26 Jul 2026|2026-07-26 09:30|Sunday");
  CHECK_RENDERS(R"J({{ strftime_now is defined }} {{ raise_exception is defined }})J", R"J({})J", R"J(True True)J");
}
