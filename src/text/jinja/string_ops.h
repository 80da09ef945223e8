// Python str methods on UTF-8 text, shared by the filters and the string methods: positions and
// lengths count code points, whitespace is Unicode whitespace, as in Python. Functions that can
// grow their input take max_bytes and fail (RuntimeFailure) rather than exceed it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slm::jinja::strings {

// str.strip / lstrip / rstrip: chars nullopt strips whitespace, otherwise any of chars' code points.
std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);

// str.split / rsplit: sep nullopt splits on runs of whitespace and drops empty parts.
// maxsplit < 0: no limit. An empty sep fails ("empty separator").
std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, std::int64_t maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, std::int64_t maxsplit);

// str.splitlines(keepends).
std::vector<std::string> splitlines(std::string_view s, bool keepends);

// str.replace(old, new, count): count < 0 replaces all; an empty old inserts between code points.
std::string replace(std::string_view s, std::string_view old_text, std::string_view new_text, std::int64_t count,
                    std::size_t max_bytes);

std::string capitalize(std::string_view s);     // str.capitalize
std::string title_case(std::string_view s);     // str.title: upper after every non-letter
std::string jinja_title(std::string_view s);    // Jinja's |title: upper after spaces, -, (, {, [, <
std::string swapcase(std::string_view s);

// Code point index of sub in s[start:end] (Python indexes; end may be nullopt), or -1.
std::int64_t find(std::string_view s, std::string_view sub, std::optional<std::int64_t> start,
                  std::optional<std::int64_t> end, bool reverse);
std::int64_t count(std::string_view s, std::string_view sub, std::optional<std::int64_t> start,
                   std::optional<std::int64_t> end);

// str.center / ljust / rjust with a one-code-point fill.
std::string justify(std::string_view s, std::size_t width, char align, std::string_view fill, std::size_t max_bytes);

// HTML escaping as markupsafe does: & < > " ' -> &amp; &lt; &gt; &#34; &#39;
std::string html_escape(std::string_view s);

}  // namespace slm::jinja::strings
