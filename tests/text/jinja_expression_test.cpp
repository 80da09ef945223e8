// Expressions: literals, Python-style printing, arithmetic, comparisons, logic, membership,
// attribute and item access, slicing, calls, the inline if, and Undefined's behaviour.
#include "tests/text/jinja_test_util.h"

using slm::ErrorKind;
using slm::jinja::test::contains;
using slm::jinja::test::render_failure;

TEST_CASE("jinja: values print as Python's str() does") {
  CHECK_RENDERS(R"J({{ true }} {{ True }} {{ false }} {{ none }} {{ None }})J", R"J({})J", R"J(True True False None None)J");
  CHECK_RENDERS(R"J({{ [1, "a", 1.5, none, true] }})J", R"J({})J", R"J([1, 'a', 1.5, None, True])J");
  CHECK_RENDERS(R"J({{ {"k": "v", "n": [1, (2,)]} }})J", R"J({})J", R"J({'k': 'v', 'n': [1, (2,)]})J");
  CHECK_RENDERS(R"J({{ (1, 2) }} {{ () }} {{ ("a",) }})J", R"J({})J", R"J((1, 2) () ('a',))J");
  CHECK_RENDERS(R"J({{ ["it's", 'say "hi"', 'both \' and "', 'tab\there'] }})J", R"J({})J",
                R"J(["it's", 'say "hi"', 'both \' and "', 'tab\there'])J");
  CHECK_RENDERS(R"J({{ x }})J", R"J({"x": {"nested": [true, null, 2.0]}})J", R"J({'nested': [True, None, 2.0]})J");
}

TEST_CASE("jinja: floats print as Python's repr") {
  CHECK_RENDERS(R"J({{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ -0.0 }})J", R"J({})J",
                R"J(1.0 0.30000000000000004 1e+16 1000000000000000.0 0.0001 1e-05 -0.0)J");
  CHECK_RENDERS(R"J({{ 123456789012345678.0 }} {{ 1.5e300 * 1e10 }} {{ 2.5 }})J", R"J({})J",
                R"J(1.2345678901234568e+17 inf 2.5)J");
}

TEST_CASE("jinja: arithmetic follows Python") {
  CHECK_RENDERS(R"J({{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 10 }} {{ 2 ** 3 ** 2 }})J", R"J({})J", R"J(7 9 1024 64)J");
  CHECK_RENDERS(R"J({{ 7 / 2 }} {{ 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }})J", R"J({})J",
                R"J(3.5 2.0 3 -4 1 2 -2)J");
  CHECK_RENDERS(R"J({{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 2 ** -1 }} {{ 1 + 1.5 }} {{ true + 1 }} {{ -(3) }} {{ +4 }})J", R"J({})J",
                R"J(3.0 0.5 0.5 2.5 2 -3 4)J");
  CHECK_RENDERS(R"J({{ "ab" + "cd" }} {{ [1] + [2, 3] }} {{ "ab" * 3 }} {{ 2 * "x" }} {{ [0] * 3 }} {{ "x" * 0 }}|)J", R"J({})J",
                R"J(abcd [1, 2, 3] ababab xx [0, 0, 0] |)J");
  CHECK_RENDERS(R"J({{ "a" ~ 1 ~ none ~ [2] ~ undefined_thing }})J", R"J({})J", R"J(a1None[2])J");
  CHECK_RENDERS(R"J({{ "%s is %d years" % ("Ada", 36) }} {{ "%05.1f|%-4s|%x" % (3.14159, "ab", 255) }})J", R"J({})J",
                R"J(Ada is 36 years 003.1|ab  |ff)J");
  CHECK_RENDERS(R"J({{ "%(name)s!" % {"name": "hi"} }} {{ "100%%" % () }})J", R"J({})J", R"J(hi! 100%)J");
}

TEST_CASE("jinja: arithmetic errors are runtime errors") {
  auto check = [](std::string_view source, std::string_view what) {
    const auto f = render_failure(source);
    CHECK_MESSAGE(f.thrown, source);
    CHECK(f.kind == ErrorKind::template_runtime);
    CHECK(f.where == "template line 1");
    CHECK_MESSAGE(contains(f.detail, what), source << " -> " << f.detail);
  };
  check("{{ 1 / 0 }}", "division by zero");
  check("{{ 1 // 0 }}", "division or modulo by zero");
  check("{{ 'a' + 1 }}", "can only concatenate str (not \"int\") to str");
  check("{{ 1 + 'a' }}", "unsupported operand type(s) for +: 'int' and 'str'");
  check("{{ [1] + 'a' }}", "can only concatenate list");
  check("{{ 'a' - 'b' }}", "unsupported operand type(s) for -");
  check("{{ 'a' * 'b' }}", "can't multiply sequence by non-int of type 'str'");
  check("{{ 9223372036854775807 + 1 }}", "integer overflow");
  check("{{ 10 ** 30 }}", "integer overflow");
  check("{{ -'a' }}", "bad operand type for unary -");
  check("{{ '%d' % 'x' }}", "a number is required");
  check("{{ '%s %s' % ('a',) }}", "not enough arguments");
  check("{{ '%s' % ('a', 'b') }}", "not all arguments converted");
}

TEST_CASE("jinja: comparisons, chained as in Python") {
  CHECK_RENDERS(R"J({{ 1 == 1.0 }} {{ 1 != 2 }} {{ "a" < "b" }} {{ [1, 2] < [1, 3] }} {{ 2 >= 2 }} {{ true == 1 }})J", R"J({})J",
                R"J(True True True True True True)J");
  CHECK_RENDERS(R"J({{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 < 3 > 2 }} {{ 1 == 1 == 1.0 }})J", R"J({})J", R"J(True False True True)J");
  CHECK_RENDERS(R"J({{ {"a": 1, "b": 2} == {"b": 2, "a": 1} }} {{ [1] == (1,) }} {{ none == none }} {{ "1" == 1 }})J", R"J({})J",
                R"J(True False True False)J");
  CHECK(contains(render_failure("{{ 1 < 'a' }}").detail, "'<' not supported between instances of 'int' and 'str'"));
}

TEST_CASE("jinja: and / or / not return Python's operands") {
  CHECK_RENDERS(R"J({{ 0 or "x" }} {{ "a" and "b" }} {{ "" and "b" }}|{{ none or [] }} {{ not 0 }} {{ not "a" }})J", R"J({})J",
                R"J(x b |[] True False)J");
  CHECK_RENDERS(R"J({{ false and undefined_thing.attr }} {{ true or undefined_thing.attr }})J", R"J({})J", R"J(False True)J");
  CHECK_RENDERS(R"J({{ not 1 == 2 }} {{ not (true and false) }})J", R"J({})J", R"J(True True)J");
}

TEST_CASE("jinja: in / not in") {
  CHECK_RENDERS(R"J({{ "ell" in "hello" }} {{ 2 in [1, 2] }} {{ "k" in {"k": 1} }} {{ "v" in {"k": "v"} }} {{ 3 not in [1] }})J",
                R"J({})J", R"J(True True True False True)J");
  CHECK_RENDERS(R"J({{ 'tool_calls' in message }} {{ 'content' in message }})J", R"J({"message": {"content": "hi"}})J",
                R"J(False True)J");
  CHECK(contains(render_failure("{{ 1 in 'abc' }}").detail, "requires string as left operand"));
  CHECK(contains(render_failure("{{ 1 in 5 }}").detail, "not iterable"));
}

TEST_CASE("jinja: attribute and item access") {
  const char* ctx = R"J({"m": {"role": "user", "content": "hi", "items": 7, "list": [10, 20, 30]}})J";
  CHECK_RENDERS(R"J({{ m.role }} {{ m['content'] }} {{ m["list"][1] }} {{ m.list[-1] }} {{ m.list.0 }})J", ctx,
                R"J(user hi 20 30 10)J");
  CHECK_RENDERS(R"J({{ m['items'] }})J", ctx, R"J(7)J");  // subscript: the key first
  CHECK_RENDERS(R"J({{ x.0.1 }} {{ x[0][-1] }})J", R"J({"x": [[1, 2]]})J", R"J(2 2)J");  // digits after '.' index
  CHECK_RENDERS(R"J({{ m.missing }}|{{ m.list[9] }}|{{ m.missing is defined }}|{{ none.x }}|{{ "abc"[1] }}{{ "abc"[-1] }})J", ctx,
                R"J(||False||bc)J");
  CHECK_RENDERS(R"J({{ "héllo"[1] }}{{ "日本語"[2] }})J", R"J({})J", "\xC3\xA9\xE8\xAA\x9E");  // code points, not bytes
}

TEST_CASE("jinja: slicing") {
  CHECK_RENDERS(R"J({{ [1, 2, 3, 4][1:3] }} {{ [1, 2, 3][::-1] }} {{ [1, 2, 3, 4, 5][::2] }} {{ [1, 2, 3][-2:] }})J", R"J({})J",
                R"J([2, 3] [3, 2, 1] [1, 3, 5] [2, 3])J");
  CHECK_RENDERS(R"J({{ "hello"[1:] }} {{ "hello"[:-1] }} {{ "hello"[::-1] }} {{ "héllo"[:2] }} {{ (1, 2, 3)[1:] }})J", R"J({})J",
                "ello hell olleh h\xC3\xA9 (2, 3)");
  CHECK_RENDERS(R"J({{ [1, 2, 3][5:] }} {{ [1, 2, 3][-10:1] }} {{ [1, 2, 3][2:0:-1] }})J", R"J({})J", R"J([] [1] [3, 2])J");
  CHECK(contains(render_failure("{{ [1][::0] }}").detail, "slice step cannot be zero"));
}

TEST_CASE("jinja: the inline if") {
  CHECK_RENDERS(R"J({{ "yes" if 1 else "no" }} {{ "yes" if 0 else "no" }} [{{ "yes" if 0 }}])J", R"J({})J", R"J(yes no [])J");
  CHECK_RENDERS(R"J({{ "a" if x else "b" if y else "c" }})J", R"J({"x": false, "y": true})J", R"J(b)J");
  CHECK_RENDERS(R"J({{ ("yes" if 0) is defined }})J", R"J({})J", R"J(False)J");
}

TEST_CASE("jinja: Undefined prints nothing, iterates as empty, and fails when used further") {
  CHECK_RENDERS(R"J([{{ nothing }}] {{ nothing is defined }} {{ nothing|length }} {% for x in nothing %}x{% endfor %})J",
                R"J({})J", R"J([] False 0 )J");
  CHECK_RENDERS(R"J({{ nothing == nothing }} {{ nothing == none }} {{ not nothing }})J", R"J({})J", R"J(True False True)J");

  const auto attr = render_failure("{{ nothing.attr }}");
  CHECK(attr.kind == ErrorKind::template_runtime);
  CHECK(attr.detail == "'nothing' is undefined");
  CHECK(render_failure("{{ nothing.attr is defined }}").detail == "'nothing' is undefined");  // as Jinja2
  CHECK(render_failure("{{ nothing + 1 }}").detail == "'nothing' is undefined");
  CHECK(render_failure("{{ m.missing.deeper }}", R"J({"m": {}})J").detail == "'dict object' has no attribute 'missing'");
  CHECK(render_failure("{{ nothing() }}").detail == "'nothing' is undefined");
  CHECK(render_failure("{{ nothing|tojson }}").detail == "'nothing' is undefined");
}

TEST_CASE("jinja: calls, keyword arguments and *args / **kwargs") {
  CHECK_RENDERS(R"J({{ range(3) }} {{ range(1, 10, 3) }} {{ range(5, 0, -2) }} {{ range(0) }})J", R"J({})J",
                R"J([0, 1, 2] [1, 4, 7] [5, 3, 1] [])J");
  CHECK_RENDERS(R"J({{ dict(a=1, b="x") }} {{ dict({"k": 1}, j=2) }} {{ range(*[1, 3]) }})J", R"J({})J",
                R"J({'a': 1, 'b': 'x'} {'k': 1, 'j': 2} [1, 2])J");
  CHECK_RENDERS(R"J({{ "{a}-{b}".format(**{"a": 1, "b": 2}) }})J", R"J({})J", R"J(1-2)J");
  CHECK(contains(render_failure("{{ 5() }}").detail, "'int' object is not callable"));
  CHECK(contains(render_failure("{{ range('a') }}").detail, "cannot be interpreted as an integer"));
  CHECK(contains(render_failure("{{ 'x'.strip(foo=1) }}").detail, "unexpected keyword argument 'foo'"));
}

TEST_CASE("jinja: runtime errors name the template line") {
  const auto f = render_failure("line one\n{% set x = 1 %}\n\n{{ x + 'a' }}");
  CHECK(f.kind == ErrorKind::template_runtime);
  CHECK(f.where == "template line 4");
  CHECK(f.what == "template line 4: unsupported operand type(s) for +: 'int' and 'str'");
}
