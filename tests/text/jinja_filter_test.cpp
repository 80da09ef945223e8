// Builtin filters, with Jinja2 3.1's semantics (and Hugging Face's tojson).
#include "tests/text/jinja_test_util.h"

using slm::ErrorKind;
using slm::jinja::test::contains;
using slm::jinja::test::render_failure;

TEST_CASE("jinja filter: tojson is Python's json.dumps without ASCII or HTML escaping") {
  CHECK_RENDERS(R"J({{ x|tojson }})J", R"J({"x": {"b": 1, "a": [true, null, 1.5, "é<>&'\n\u0001"]}})J",
                R"J({"b": 1, "a": [true, null, 1.5, "é<>&'\n\u0001"]})J");
  CHECK_RENDERS(R"J({{ x|tojson(indent=2) }})J", R"J({"x": {"a": [1, {"b": null}], "e": [], "o": {}}})J",
                "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"e\": [],\n  \"o\": {}\n}");
  CHECK_RENDERS(R"J({{ [1, [2, {"k": "v"}]]|tojson(separators=(",", ":")) }})J", R"J({})J", R"J([1,[2,{"k":"v"}]])J");
  CHECK_RENDERS(R"J({{ {"b": 1, "a": 2}|tojson(sort_keys=true) }} {{ "é🙂"|tojson(ensure_ascii=true) }})J", R"J({})J",
                R"J({"a": 2, "b": 1} "\u00e9\ud83d\ude42")J");
  CHECK_RENDERS(R"J({{ 2.0|tojson }} {{ 10|tojson }} {{ "a\"b\\c"|tojson }} {{ (1, 2)|tojson }})J", R"J({})J",
                R"J(2.0 10 "a\"b\\c" [1, 2])J");
  CHECK_RENDERS(R"J({{ {1: "a", true: "b", none: "c"}|tojson }})J", R"J({})J", R"J({"1": "b", "null": "c"})J");
  CHECK(contains(render_failure("{% macro m() %}{% endmacro %}{{ m|tojson }}").detail, "not JSON serializable"));
}

TEST_CASE("jinja filter: string filters") {
  CHECK_RENDERS(R"J([{{ "  a b  "|trim }}] [{{ "xxaxx"|trim("x") }}] [{{ " \u3000wide\u3000 "|trim }}])J", R"J({})J",
                R"J([a b] [a] [wide])J");
  CHECK_RENDERS(R"J({{ "hello World"|upper }} {{ "Hello WORLD"|lower }} {{ "hello wORLD"|capitalize }})J", R"J({})J",
                R"J(HELLO WORLD hello world Hello world)J");
  CHECK_RENDERS(R"J({{ "hello-world (foo) don't"|title }} {{ "émile zola"|title }} {{ "ÉCOLE"|lower }})J", R"J({})J",
                R"J(Hello-World (Foo) Don't Émile Zola école)J");
  CHECK_RENDERS(R"J({{ "aaa"|replace("a", "b") }} {{ "aaa"|replace("a", "b", 2) }} {{ "ab"|replace("", "-") }})J", R"J({})J",
                R"J(bbb bba -a-b-)J");
  CHECK_RENDERS(R"J([{{ "ab"|center(6) }}] [{{ "abc"|center(6) }}] [{{ 5|string }}] [{{ none|string }}])J", R"J({})J",
                R"J([  ab  ] [ abc  ] [5] [None])J");
  CHECK_RENDERS(R"J({{ "Hello big World"|wordcount }} {{ "<b>bold</b> &amp; <!-- x -->  text"|striptags }})J", R"J({})J",
                R"J(3 bold & text)J");
  CHECK_RENDERS(R"J({{ "a<b>&\"'"|escape }} {{ "x"|safe }} {{ "%s-%s"|format("a", 1) }})J", R"J({})J",
                R"J(a&lt;b&gt;&amp;&#34;&#39; x a-1)J");
  CHECK_RENDERS(R"J({{ "The quick brown fox"|truncate(9) }}|{{ "The quick brown fox"|truncate(9, true) }}|{{ "short"|truncate(9) }})J",
                R"J({})J", R"J(The...|The qu...|short)J");
}

TEST_CASE("jinja filter: indent") {
  CHECK_RENDERS(R"J({{ "a\nb\n\nc"|indent }})J", R"J({})J", "a\n    b\n\n    c");
  CHECK_RENDERS(R"J({{ "a\nb"|indent(2, true) }})J", R"J({})J", "  a\n  b");
  CHECK_RENDERS(R"J({{ "a\n\nb"|indent(width="> ", blank=true) }})J", R"J({})J", "a\n> \n> b");
}

TEST_CASE("jinja filter: length, count, first, last, list, reverse") {
  CHECK_RENDERS(R"J({{ [1, 2]|length }} {{ "héllo"|length }} {{ {"a": 1}|count }} {{ ""|length }})J", R"J({})J", R"J(2 5 1 0)J");
  CHECK_RENDERS(R"J({{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} {{ "abc"|first }}{{ "abc"|last }} [{{ []|first }}])J", R"J({})J",
                R"J(1 3 ac [])J");
  CHECK_RENDERS(R"J({{ "ab"|list }} {{ {"k": 1, "j": 2}|list }} {{ [3, 1, 2]|reverse|list }} {{ "abc"|reverse }} {{ "日本"|reverse }})J",
                R"J({})J", "['a', 'b'] ['k', 'j'] [2, 1, 3] cba \xE6\x9C\xAC\xE6\x97\xA5");
  CHECK(contains(render_failure("{{ 5|length }}").detail, "object of type 'int' has no len()"));
}

TEST_CASE("jinja filter: join, map, select, reject, selectattr, rejectattr") {
  const char* people = R"J({"people": [{"name": "Ada", "age": 36}, {"name": "Bob", "age": 7}, {"name": "Cy", "age": 51}]})J";
  CHECK_RENDERS(R"J({{ [1, 2, 3]|join(", ") }} {{ "abc"|join("-") }} {{ people|join("|", attribute="name") }})J", people,
                R"J(1, 2, 3 a-b-c Ada|Bob|Cy)J");
  CHECK_RENDERS(R"J({{ people|map(attribute="name")|list }} {{ ["a", "b"]|map("upper")|join }} {{ people|map(attribute="x", default=0)|list }})J",
                people, R"J(['Ada', 'Bob', 'Cy'] AB [0, 0, 0])J");
  CHECK_RENDERS(R"J({{ [1, 2, 3, 4]|select("odd")|list }} {{ [1, 2, 3, 4]|reject("odd")|list }} {{ [0, 1, "", "a"]|select|list }})J",
                R"J({})J", R"J([1, 3] [2, 4] [1, 'a'])J");
  CHECK_RENDERS(R"J({{ [1, 5, 10]|select("gt", 4)|list }} {{ [1, 5, 10]|select("divisibleby", 5)|list }})J", R"J({})J",
                R"J([5, 10] [5, 10])J");
  CHECK_RENDERS(R"J({{ people|selectattr("age", "gt", 18)|map(attribute="name")|join(",") }} {{ people|rejectattr("age", "gt", 18)|map(attribute="name")|first }})J",
                people, R"J(Ada,Cy Bob)J");
  CHECK_RENDERS(R"J({{ msgs|selectattr("role", "equalto", "user")|list|length }} {{ msgs|selectattr("tool_calls")|list|length }})J",
                R"J({"msgs": [{"role": "user"}, {"role": "assistant", "tool_calls": [1]}, {"role": "user"}]})J", R"J(2 1)J");
  CHECK(contains(render_failure("{{ [1]|map('nope')|list }}").detail, "no filter named 'nope'"));
  CHECK(contains(render_failure("{{ [1]|select('nope')|list }}").detail, "no test named 'nope'"));
}

TEST_CASE("jinja filter: sort, unique, dictsort, min, max, sum") {
  const char* roster = R"J({"roster": [{"name": "bob", "age": 7}, {"name": "Ada", "age": 36}, {"name": "cy", "age": 7}]})J";
  CHECK_RENDERS(R"J({{ [3, 1, 2]|sort }} {{ [3, 1, 2]|sort(reverse=true) }} {{ ["b", "A", "c"]|sort }} {{ ["b", "A", "c"]|sort(case_sensitive=true) }})J",
                R"J({})J", R"J([1, 2, 3] [3, 2, 1] ['A', 'b', 'c'] ['A', 'b', 'c'])J");
  CHECK_RENDERS(R"J({{ roster|sort(attribute="age")|map(attribute="name")|join(",") }} {{ roster|sort(attribute="name")|map(attribute="name")|join(",") }})J",
                roster, R"J(bob,cy,Ada Ada,bob,cy)J");
  CHECK_RENDERS(R"J({{ [1, 2, 1, 3]|unique|list }} {{ ["a", "A", "b"]|unique|list }} {{ ["a", "A"]|unique(case_sensitive=true)|list }})J",
                R"J({})J", R"J([1, 2, 3] ['a', 'b'] ['a', 'A'])J");
  CHECK_RENDERS(R"J({{ {"b": 1, "a": 2}|dictsort }} {{ {"b": 1, "a": 2}|dictsort(by="value", reverse=true) }})J", R"J({})J",
                R"J([('a', 2), ('b', 1)] [('a', 2), ('b', 1)])J");
  CHECK_RENDERS(R"J({{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ ["b", "A"]|min }} {{ roster|max(attribute="age")|attr("items") is defined }} [{{ []|max }}])J",
                roster, R"J(1 3 A True [])J");
  CHECK_RENDERS(R"J({{ [1, 2, 3]|sum }} {{ [0.5, 0.25]|sum }} {{ roster|sum(attribute="age") }} {{ [[1], [2]]|sum(start=[]) }})J", roster,
                R"J(6 0.75 50 [1, 2])J");
  CHECK(contains(render_failure("{{ [1, 'a']|sort }}").detail, "'<' not supported"));
}

TEST_CASE("jinja filter: default, int, float, abs, round") {
  CHECK_RENDERS(R"J({{ missing|default("d") }} {{ missing|d("x") }} {{ ""|default("e") }}|{{ ""|default("e", true) }} {{ none|default("n") }})J",
                R"J({})J", R"J(d x |e None)J");
  CHECK_RENDERS(R"J({{ "42"|int }} {{ " -7 "|int }} {{ "3.9"|int }} {{ "x"|int }} {{ "x"|int(5) }} {{ 3.9|int }} {{ "0x1A"|int(base=16) }} {{ true|int }})J",
                R"J({})J", R"J(42 -7 3 0 5 3 26 1)J");
  CHECK(render_failure("{{ nothing|int }}").detail == "'nothing' is undefined");  // int(Undefined) raises in Jinja2
  CHECK_RENDERS(R"J({{ "1.5"|float }} {{ "1e3"|float }} {{ "x"|float }} {{ 3|float }} {{ " inf "|float }})J", R"J({})J",
                R"J(1.5 1000.0 0.0 3.0 inf)J");
  CHECK_RENDERS(R"J({{ -3|abs }} {{ (-2.5)|abs }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 3|round }} {{ 2.1|round(method="ceil") }} {{ 2.9|round(method="floor") }})J",
                R"J({})J", R"J(3 2.5 2.0 4.0 2.67 3 3.0 2.0)J");
}

TEST_CASE("jinja filter: items, attr, batch, slice, pprint") {
  CHECK_RENDERS(R"J({{ {"a": 1}|items|list }} {{ missing|items|list }})J", R"J({})J", R"J([('a', 1)] [])J");
  CHECK_RENDERS(R"J({% set ns = namespace(x=5) %}{{ ns|attr("x") }} {{ {"x": 1}|attr("x") is defined }})J", R"J({})J", R"J(5 False)J");
  CHECK_RENDERS(R"J({{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ [1, 2, 3]|batch(2, "-")|list }})J", R"J({})J",
                R"J([[1, 2], [3, 4], [5]] [[1, 2], [3, '-']])J");
  CHECK_RENDERS(R"J({{ [1, 2, 3, 4, 5]|slice(2)|list }} {{ "x"|pprint }} {{ [1, "a"]|pprint }})J", R"J({})J",
                R"J([[1, 2, 3], [4, 5]] 'x' [1, 'a'])J");
}

TEST_CASE("jinja filter: unknown filters fail only when reached") {
  CHECK_RENDERS(R"J({% if false %}{{ x|no_such_filter }}{% endif %}ok)J", R"J({})J", R"J(ok)J");
  const auto f = render_failure("{{ 1|no_such_filter }}");
  CHECK(f.kind == ErrorKind::template_runtime);
  CHECK(contains(f.detail, "no filter named 'no_such_filter'"));
}
