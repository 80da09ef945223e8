#include "src/engine/thread_pool.h"

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace slm {

namespace {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// How long the threads wait for a call, outside any SpinScope, before they sleep: longer than the
// sampling and bookkeeping between two generated tokens (~0.1 ms), short enough that a program
// that stops generating gets its cores back at once.
constexpr std::chrono::microseconds kLinger{500};

// Spinning that gives the core away once a wait grows long: pause instructions for the first
// kYieldAfter, then a yield per check, so threads that outnumber the free cores (another session
// generating in the same process, a busy machine) take turns instead of spinning through each
// other's time slices. The steps between a pass's calls take well under kYieldAfter.
constexpr std::chrono::microseconds kYieldAfter{50};

class Backoff {
 public:
  // One step of a wait: a pause, or a yield once the wait has lasted kYieldAfter.
  void pause() {
    if (spins_++ % 64 == 0) {  // the clock every 64 steps
      const auto now = std::chrono::steady_clock::now();
      if (spins_ == 1) since_ = now;
      waited_ = now - since_;
    }
    if (waited_ > kYieldAfter)
      std::this_thread::yield();
    else
      cpu_relax();
  }
  // How long this wait has lasted (as of the last clock reading).
  std::chrono::steady_clock::duration waited() const noexcept { return waited_; }
  void reset() noexcept {
    spins_ = 0;
    waited_ = {};
  }

 private:
  uint32_t spins_ = 0;
  std::chrono::steady_clock::time_point since_;
  std::chrono::steady_clock::duration waited_{};
};

// Set while this thread runs a chunk of a team call: a parallel_for from inside runs inline.
thread_local bool t_in_team_call = false;

// A thread's slice of [0, n): [lo, hi) packed as lo | hi << 32, claimed from the front by its
// owner and from the back by the others.
struct alignas(64) Slice {
  std::atomic<uint64_t> lohi{0};
};

constexpr uint64_t pack(uint64_t lo, uint64_t hi) noexcept { return lo | (hi << 32); }
constexpr uint64_t lo_of(uint64_t v) noexcept { return v & 0xffffffffu; }
constexpr uint64_t hi_of(uint64_t v) noexcept { return v >> 32; }

}  // namespace

struct ThreadPool::Team {
  // A call's state: its number's low 32 bits, a closed bit, and how many threads are inside it.
  static constexpr uint64_t kClosed = uint64_t{1} << 31;
  static constexpr uint64_t kCountMask = kClosed - 1;

  explicit Team(int n) : n_threads(n), slices(static_cast<size_t>(n)) {
    for (int t = 1; t < n; ++t) threads.emplace_back([this, t] { worker(t); });
  }
  ~Team() {
    stop.store(true);
    wake.fetch_add(1);
    wake.notify_all();
    for (auto& th : threads) th.join();
  }

  void enter_scope() {
    if (scopes.fetch_add(1) == 0) {
      wake.fetch_add(1);
      if (sleepers.load() > 0) wake.notify_all();
    }
  }
  void exit_scope() { scopes.fetch_sub(1); }
  bool active() const noexcept { return scopes.load(std::memory_order_relaxed) > 0; }

  void run(int64_t n, int64_t g, const std::function<void(int64_t, int64_t)>& f) {
    fn = &f;
    grain = static_cast<uint64_t>(g);
    // Slice t is [bound(t), bound(t + 1)): n * t / threads at the nearest multiple of the grain.
    const auto bound = [&](int k) {
      return static_cast<uint64_t>(k == n_threads ? n : std::min(n, (n * k / n_threads + g / 2) / g * g));
    };
    for (int t = 0; t < n_threads; ++t)
      slices[static_cast<size_t>(t)].lohi.store(pack(bound(t), bound(t + 1)), std::memory_order_relaxed);
    error = nullptr;
    const uint64_t number = ++calls;
    state.store((number & 0xffffffffu) << 32, std::memory_order_release);
    gen.store(number, std::memory_order_release);
    run_share(0);
    // Close the call (a thread that has not entered it yet stays out), then wait for those inside.
    state.fetch_or(kClosed, std::memory_order_acq_rel);
    Backoff backoff;
    while ((state.load(std::memory_order_acquire) & kCountMask) != 0) backoff.pause();
    if (error) std::rethrow_exception(error);
  }

 private:
  void run_share(int t) {
    t_in_team_call = true;
    try {
      work(t);
    } catch (...) {
      {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
      }
      // Nobody starts another chunk of a failed call.
      for (auto& s : slices) {
        uint64_t v = s.lohi.load(std::memory_order_relaxed);
        while (!s.lohi.compare_exchange_weak(v, pack(hi_of(v), hi_of(v)), std::memory_order_acq_rel)) {
        }
      }
    }
    t_in_team_call = false;
  }

  void work(int t) {
    // Own slice, front to back.
    Slice& own = slices[static_cast<size_t>(t)];
    uint64_t v = own.lohi.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t lo = lo_of(v), hi = hi_of(v);
      if (lo >= hi) break;
      const uint64_t end = std::min(hi, lo + grain);
      if (!own.lohi.compare_exchange_weak(v, pack(end, hi), std::memory_order_acq_rel,
                                          std::memory_order_relaxed))
        continue;
      (*fn)(static_cast<int64_t>(lo), static_cast<int64_t>(end));
      v = own.lohi.load(std::memory_order_relaxed);
    }
    // The others' slices, one grain at a time from their far ends (a slice's last grain may be
    // short: the one ending at n).
    for (int k = 1; k < n_threads; ++k) {
      Slice& other = slices[static_cast<size_t>((t + k) % n_threads)];
      v = other.lohi.load(std::memory_order_relaxed);
      for (;;) {
        const uint64_t lo = lo_of(v), hi = hi_of(v);
        if (lo >= hi) break;
        const uint64_t begin = std::max(lo, (hi - 1) / grain * grain);
        if (!other.lohi.compare_exchange_weak(v, pack(lo, begin), std::memory_order_acq_rel,
                                              std::memory_order_relaxed))
          continue;
        (*fn)(static_cast<int64_t>(begin), static_cast<int64_t>(hi));
        v = other.lohi.load(std::memory_order_relaxed);
      }
    }
  }

  void worker(int t) {
    uint64_t seen = 0;
    Backoff backoff;  // the wait since this thread's last call (or wake-up)
    for (;;) {
      const uint64_t g = gen.load(std::memory_order_acquire);
      if (g != seen) {
        seen = g;
        // Enter the call unless it has closed (the caller finished it alone) or a newer one began.
        uint64_t s = state.load(std::memory_order_acquire);
        while ((s >> 32) == (g & 0xffffffffu) && !(s & kClosed)) {
          if (state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
            run_share(t);
            state.fetch_sub(1, std::memory_order_release);
            break;
          }
        }
        backoff.reset();
        continue;
      }
      if (stop.load(std::memory_order_relaxed)) return;
      if (active() || backoff.waited() < kLinger) {
        backoff.pause();
        continue;
      }
      // No scope and no call for kLinger: sleep until a scope begins (enter_scope bumps `wake`
      // and, seeing a sleeper, notifies).
      sleepers.fetch_add(1);
      const uint32_t w = wake.load();
      if (!active() && !stop.load() && gen.load() == seen) wake.wait(w);
      sleepers.fetch_sub(1);
      backoff.reset();
    }
  }

 public:
  const int n_threads;

 private:
  std::vector<Slice> slices;
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  uint64_t grain = 1;
  uint64_t calls = 0;                          // the caller's count of calls
  alignas(64) std::atomic<uint64_t> gen{0};    // the latest call's number: workers watch it
  alignas(64) std::atomic<uint64_t> state{0};  // the latest call's state (kClosed, kCountMask)
  alignas(64) std::atomic<int> scopes{0};
  std::atomic<uint32_t> wake{0};
  std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  std::mutex error_mutex;
  std::exception_ptr error;
  std::vector<std::thread> threads;
};

struct ThreadPool::Impl {
  explicit Impl(int n) : arena(n) {}
  tbb::task_arena arena;
  std::unique_ptr<Team> team;  // started by the first SpinScope
};

ThreadPool::ThreadPool(int n_threads, bool spin_beyond_cores) : spin_beyond_cores_(spin_beyond_cores) {
  if (n_threads <= 0) n_threads = tbb::info::default_concurrency();
  n_threads_ = n_threads;
  impl_ = std::make_unique<Impl>(n_threads);
}

ThreadPool::~ThreadPool() = default;

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (n_threads_ == 1 || n <= grain || t_in_team_call) {
    fn(0, n);
    return;
  }
  Team* team = impl_->team.get();
  if (team && team->active() && n < (int64_t{1} << 31)) {
    team->run(n, grain, fn);
    return;
  }
  // One task per grain (blocked_range would split at midpoints, not at multiples of the grain).
  const int64_t chunks = (n + grain - 1) / grain;
  impl_->arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, chunks, 1),
        [&](const tbb::blocked_range<int64_t>& r) {
          for (int64_t c = r.begin(); c < r.end(); ++c) fn(c * grain, std::min(n, (c + 1) * grain));
        },
        tbb::simple_partitioner());
  });
}

// More threads than the machine has cores would spin against each other (a preempted thread holds
// up every call it is inside): such pools stay on oneTBB.
bool ThreadPool::spins() const noexcept {
  static const unsigned cores = std::thread::hardware_concurrency();
  return n_threads_ > 1 && (spin_beyond_cores_ || cores == 0 || static_cast<unsigned>(n_threads_) <= cores);
}

ThreadPool::SpinScope::SpinScope(ThreadPool& pool) : pool_(pool) {
  if (!pool_.spins()) return;
  if (!pool_.impl_->team) pool_.impl_->team = std::make_unique<Team>(pool_.n_threads_);
  pool_.impl_->team->enter_scope();
}

ThreadPool::SpinScope::~SpinScope() {
  if (pool_.spins()) pool_.impl_->team->exit_scope();
}

}  // namespace slm
