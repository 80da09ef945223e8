// Python's two string formatting languages, as templates reach them: `"%s: %d" % (a, b)` (and
// the `format` filter, which uses it) and `"{}: {name!r:>8}".format(a, name=b)`. Widths are
// checked against the string size limit before anything is padded.
#pragma once

#include <string>

#include "src/text/jinja/value.h"

namespace slm::jinja {

class Interpreter;

// format % args: args is a tuple of values, a dict (for %(key)s), or a single value.
std::string percent_format(Interpreter& rt, const std::string& format, const Value& args);

// format.format(*positional, **keyword): fields {}, {0}, {name}, {name.attr}, {name[key]},
// conversions !s !r, and the format mini-language [[fill]align][sign][#][0][width][,_][.precision][type].
std::string brace_format(Interpreter& rt, const std::string& format, const CallArgs& args);

}  // namespace slm::jinja
