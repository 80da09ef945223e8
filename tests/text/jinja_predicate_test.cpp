// `is` tests and the methods templates call on strings, dicts and lists.
#include "tests/text/jinja_test_util.h"

using slm::ErrorKind;
using slm::jinja::test::contains;
using slm::jinja::test::render_failure;

TEST_CASE("jinja test: types") {
  CHECK_RENDERS(R"J({{ x is defined }} {{ y is undefined }} {{ none is none }} {{ 0 is none }} {{ x is not none }})J",
                R"J({"x": 1})J", R"J(True True True False True)J");
  CHECK_RENDERS(R"J({{ "a" is string }} {{ 1 is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ "1" is number }})J",
                R"J({})J", R"J(True False True True True False)J");
  CHECK_RENDERS(R"J({{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ 1 is float }} {{ true is boolean }} {{ 1 is boolean }})J",
                R"J({})J", R"J(True False True False True False)J");
  CHECK_RENDERS(R"J({{ {} is mapping }} {{ [] is mapping }} {{ [] is sequence }} {{ "" is sequence }} {{ {} is sequence }} {{ 1 is sequence }})J",
                R"J({})J", R"J(True False True True True False)J");
  CHECK_RENDERS(R"J({{ [] is iterable }} {{ "" is iterable }} {{ {} is iterable }} {{ 1 is iterable }} {{ nothing is iterable }})J",
                R"J({})J", R"J(True True True False True)J");
  CHECK_RENDERS(R"J({{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ range is callable }} {{ 1 is callable }})J",
                R"J({})J", R"J(True False True False True False)J");
  CHECK_RENDERS(R"J({{ nothing is callable }} {{ {}.items() }} {{ {"a": 1}.keys() }})J", R"J({})J",
                R"J(True dict_items([]) dict_keys(['a']))J");
  // Llama 3.2's test on tool results.
  CHECK_RENDERS(R"J({{ c is mapping or c is iterable }})J", R"J({"c": "{\"temp\": 21}"})J", R"J(True)J");
}

TEST_CASE("jinja test: numbers and comparisons") {
  CHECK_RENDERS(R"J({{ 3 is odd }} {{ 3 is even }} {{ -2 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }})J", R"J({})J",
                R"J(True False True True False)J");
  CHECK_RENDERS(R"J({{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 1 is ne 2 }} {{ 1 is lt 2 }} {{ 2 is le 2 }} {{ 3 is gt 2 }} {{ 3 is greaterthan 4 }} {{ 2 is ge 3 }})J",
                R"J({})J", R"J(True False True True True True False False)J");
  CHECK_RENDERS(R"J({{ 2 is in [1, 2] }} {{ "x" is in "abc" }} {{ none is sameas none }} {{ x is sameas x }} {{ [] is sameas [] }})J",
                R"J({"x": [1]})J", R"J(True False True True False)J");
  CHECK_RENDERS(R"J({{ "abc" is lower }} {{ "aBc" is lower }} {{ "ABC" is upper }} {{ "upper" is filter }} {{ "odd" is test }} {{ "nope" is test }})J",
                R"J({})J", R"J(True False True True True False)J");
  CHECK(contains(render_failure("{{ 'a' is odd }}").detail, "not all arguments converted"));  // 'a' % 2, as Python
  CHECK(contains(render_failure("{{ 1 is no_such_test }}").detail, "no test named 'no_such_test'"));
}

TEST_CASE("jinja methods: strings") {
  CHECK_RENDERS(R"J([{{ "  a  ".strip() }}] [{{ "xxaxx".strip("x") }}] [{{ "\n\na\n".lstrip("\n") }}] [{{ "a  ".rstrip() }}])J",
                R"J({})J", "[a] [a] [a\n] [a]");
  CHECK_RENDERS(R"J({{ "a,b,,c".split(",") }} {{ " a  b ".split() }} {{ "a b c".split(" ", 1) }} {{ "a b c".rsplit(" ", 1) }} {{ "a\nb\r\nc".splitlines() }})J",
                R"J({})J", R"J(['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c'] ['a b', 'c'] ['a', 'b', 'c'])J");
  CHECK_RENDERS(R"J({{ "<think>x</think>rest".split("</think>")[-1] }} {{ "hello".startswith("he") }} {{ "hello".endswith(("x", "lo")) }} {{ "hello".startswith("l", 2) }})J",
                R"J({})J", R"J(rest True True True)J");
  CHECK_RENDERS(R"J({{ "hello".find("l") }} {{ "hello".rfind("l") }} {{ "hello".find("z") }} {{ "héllo".find("l") }} {{ "banana".count("an") }} {{ "hello".index("e") }})J",
                R"J({})J", R"J(2 3 -1 2 2 1)J");
  CHECK_RENDERS(R"J({{ "Hello".upper() }} {{ "Hello".lower() }} {{ "they're here".title() }} {{ "hELLO".capitalize() }} {{ "aB".swapcase() }})J",
                R"J({})J", R"J(HELLO hello They'Re Here Hello Ab)J");
  CHECK_RENDERS(R"J({{ "a-b".replace("-", "+") }} {{ ", ".join(["x", "y"]) }} {{ "7".zfill(3) }} {{ "-7".zfill(3) }} [{{ "ab".ljust(4, "*") }}] [{{ "ab".rjust(4) }}] [{{ "ab".center(5, ".") }}])J",
                R"J({})J", R"J(a+b x, y 007 -07 [ab**] [  ab] [..ab.])J");
  CHECK_RENDERS(R"J({{ "a=b=c".partition("=") }} {{ "a=b=c".rpartition("=") }} {{ "pre_x".removeprefix("pre_") }} {{ "12".isdigit() }} {{ "ab".isalpha() }} {{ " ".isspace() }})J",
                R"J({})J", R"J(('a', '=', 'b=c') ('a=b', '=', 'c') x True True True)J");
  CHECK_RENDERS(R"J({{ "{} and {}".format(1, "two") }} {{ "{0}{1}{0}".format("a", "b") }} {{ "{name}: {n:>5}|{f:.2f}|{n:05d}|{s!r}".format(name="x", n=42, f=3.14159, s="q") }})J",
                R"J({})J", R"J(1 and two aba x:    42|3.14|00042|'q')J");
  CHECK_RENDERS(R"J({{ "{:,}".format(1234567) }} {{ "{:<4}|".format("a") }} {{ "{:^7.3}".format("abcdef") }} {{ "{{}}".format() }} {{ "{0[k]}".format({"k": "v"}) }})J",
                R"J({})J", R"J(1,234,567 a   |   abc   {} v)J");
  CHECK(contains(render_failure("{{ ', '.join([1]) }}").detail, "expected str instance, int found"));
  CHECK(contains(render_failure("{{ 'a'.split('') }}").detail, "empty separator"));
}

TEST_CASE("jinja methods: dicts and lists") {
  const char* ctx = R"J({"d": {"a": 1, "b": 2}})J";
  CHECK_RENDERS(R"J({{ d.get("a") }} {{ d.get("z") }} {{ d.get("z", 0) }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }})J", ctx,
                R"J(1 None 0 ['a', 'b'] [1, 2] [('a', 1), ('b', 2)])J");
  CHECK_RENDERS(R"J({% set e = d.copy() %}{% do e.update({"c": 3}) %}{% do e.update(a=0) %}{{ e }} {{ d }} {{ e.pop("b") }} {{ e.setdefault("z", 9) }} {{ e }})J",
                ctx, R"J({'a': 0, 'b': 2, 'c': 3} {'a': 1, 'b': 2} 2 9 {'a': 0, 'c': 3, 'z': 9})J");
  CHECK_RENDERS(R"J({% set l = [3, 1] %}{% do l.append(2) %}{% do l.insert(0, 0) %}{{ l }} {{ l.pop() }} {{ l.pop(0) }} {{ l }} {{ l.index(1) }} {{ l.count(3) }} {% do l.reverse() %}{{ l }})J",
                R"J({})J", R"J([0, 3, 1, 2] 2 0 [3, 1] 1 1 [1, 3])J");
  CHECK_RENDERS(R"J({{ (1, 2, 1).count(1) }} {{ (1, 2).index(2) }} {{ (1, 2).append is defined }})J", R"J({})J", R"J(2 1 False)J");
  CHECK(contains(render_failure("{{ [].pop() }}").detail, "pop from empty list"));
  CHECK(contains(render_failure("{{ {}.pop('k') }}").detail, "KeyError"));
}

TEST_CASE("jinja methods: a dict key named like a method") {
  // Attribute access finds the method first (as Python's getattr does); subscript finds the key.
  CHECK_RENDERS(R"J({{ d["items"] }} {{ d.items is callable }} {{ d.other }})J", R"J({"d": {"items": "key", "other": 1}})J",
                R"J(key True 1)J");
}
