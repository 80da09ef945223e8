// ThreadPool: one oneTBB arena per engine, so no thread is created per call and the thread count
// is a per-engine option; and, for generation, threads that spin between the calls of a pass.
//
// A one-token forward pass makes about five parallel calls per layer, each a matrix product of
// tens of microseconds. Through oneTBB each call costs a dispatch, a worker that joins 3-5 us late
// (it went to sleep during the steps between the products) and a 2-3 us join. Inside a SpinScope
// the calls run instead on the pool's own threads, which spin between calls (a start and a join
// cost a cache line's round trip) and take contiguous shares: thread t owns the t-th slice of
// [0, n) and claims it front to back, grain by grain; a thread whose slice is done takes grains
// from the far end of the others' slices, so each thread streams one run of rows and the tails
// still balance. Outside a scope parallel_for is oneTBB's, and so it is inside one for a pool with
// more threads than the machine has cores (spinning threads would take turns on a core). A pool
// is used from one thread at a time (a session's).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace slm {

class ThreadPool {
 public:
  // n_threads <= 0: all hardware threads. spin_beyond_cores: SpinScopes spin even with more threads
  // than cores (tests of the spinning path on small machines).
  explicit ThreadPool(int n_threads, bool spin_beyond_cores = false);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const noexcept { return n_threads_; }

  // Calls fn(begin, end) on disjoint chunks covering [0, n), in parallel: one call per grain,
  // fn(i * grain, min(n, (i + 1) * grain)), or one call for all of [0, n) where it runs inline (one
  // thread, n <= grain, or a call from inside a chunk of a SpinScope's call). Returns when all
  // chunks are done; an exception thrown by fn is rethrown here once the chunks that had started
  // have finished (the others are skipped).
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // While one lives (they nest), parallel_for runs on the spinning threads (see above). For the
  // passes of generation, whose products are short; the threads start at the first scope, spin
  // on for 0.5 ms after the last one ends (so the sampling between two passes does not put them
  // to sleep), then sleep until the next. A wait longer than 50 us yields the core between checks.
  class SpinScope {
   public:
    explicit SpinScope(ThreadPool& pool);
    ~SpinScope();
    SpinScope(const SpinScope&) = delete;
    SpinScope& operator=(const SpinScope&) = delete;

   private:
    ThreadPool& pool_;
  };

 private:
  bool spins() const noexcept;
  struct Impl;
  struct Team;
  std::unique_ptr<Impl> impl_;
  int n_threads_;
  bool spin_beyond_cores_;
};

}  // namespace slm
