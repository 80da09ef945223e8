// Renders a parsed template: evaluates expressions with Python/Jinja2 semantics, runs statements
// with Jinja2's scoping (a for-loop iteration, a macro call and a with block each get a new
// scope; if does not), and enforces RenderLimits. One Interpreter serves one render.
//
// Builtins (filters, tests, methods, globals) receive the Interpreter to build values within the
// limits and to call back (map('upper') applies a filter, select('odd') a test).
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "src/text/jinja/ast.h"
#include "src/text/jinja/render_options.h"
#include "src/text/jinja/value.h"

namespace slm::jinja {

struct Scope;
class MacroCallable;

class Interpreter {
 public:
  explicit Interpreter(const RenderOptions& options);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // context: a dict of variables. Throws slm::Error (template_runtime, template_raise).
  std::string render(const Body& body, const Value& context);

  // ---- services for builtins ---------------------------------------------------------------
  const RenderLimits& limits() const { return options_.limits; }
  void step();                                  // counts one unit of work against max_steps
  void check_string_size(std::size_t bytes);    // before building a string of that size
  void check_items(std::size_t count);          // before building a list or dict of that size
  Value make_string(std::string s);             // checks the size and charges the work budget
  Value make_list(std::vector<Value> items);
  Value make_tuple(std::vector<Value> items);
  void note_mutation(const Value& container);   // a list/dict/namespace changed in place
  WorkMeter& meter() { return meter_; }           // bulk work: copying, comparing, hashing, scanning
  void charge_work(std::size_t bytes) { meter_.add(bytes); }

  std::vector<Value> iterate(const Value& v);   // Python iteration: items, dict keys, characters
  std::string str(const Value& v);              // Python str(), bounded by max_string_bytes
  Value call(const Value& callee, CallArgs& args);
  Value apply_filter(std::string_view name, const Value& operand, CallArgs& args);
  bool apply_test(std::string_view name, const Value& operand, CallArgs& args);
  Value attribute(const Value& object, std::string_view name);  // Jinja's getattr: obj.name
  Value item(const Value& object, const Value& key);             // Jinja's getitem: obj[key]
  std::tm now() const;
  [[noreturn]] void raise(const std::string& message);           // raise_exception(message)

 private:
  friend class MacroCallable;
  enum class Flow { normal, break_loop, continue_loop };

  class DepthGuard;
  class OutputCapture;

  Value eval(const Expr& e);
  Value eval_binary(const BinaryExpr& e);
  Value eval_compare(const CompareExpr& e);
  Value eval_call(const CallExpr& e, const Value* caller);
  Value eval_slice(const SliceExpr& e);
  CallArgs eval_args(const ArgList& args);
  Value lookup(const std::string& name) const;

  Flow exec_body(const Body& body);
  Flow exec(const Stmt& s);
  Flow exec_for(const ForStmt& s);
  void exec_set(const Target& target, Value value);
  void assign(const Target& target, Value value);
  Value define_macro(const MacroStmt& m);
  std::string capture(const Body& body);
  Value apply_filter_chain(const std::vector<std::unique_ptr<FilterExpr>>& filters, Value value);

  void write(std::string_view text);
  [[noreturn]] void fail_limit(const char* what, std::uint64_t limit);

  RenderOptions options_;
  std::shared_ptr<Scope> globals_;   // range, namespace, ...
  std::shared_ptr<Scope> root_;      // the context and top-level assignments
  std::shared_ptr<Scope> scope_;     // innermost
  std::string* out_ = nullptr;
  std::uint64_t steps_ = 0;
  std::uint64_t loop_iterations_ = 0;
  WorkMeter meter_;
  std::size_t depth_ = 0;
  std::size_t call_depth_ = 0;
  int line_ = 0;  // line of the node being evaluated, for error messages
  // Containers changed in place: the only way a value can come to contain itself; emptied when
  // the render ends so that no reference cycle outlives it.
  std::vector<Value> mutated_;
  std::unordered_set<const void*> mutated_seen_;
};

}  // namespace slm::jinja
