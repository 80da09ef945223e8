// ThreadPool: one oneTBB arena per engine, so no thread is created per call and the thread count
// is a per-engine option.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace slm {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // <= 0: all hardware threads
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const noexcept { return n_threads_; }

  // Calls fn(begin, end) on disjoint chunks covering [0, n), chunks of at least `grain` items,
  // in parallel inside this pool's arena. Returns when all chunks are done.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int n_threads_;
};

}  // namespace slm
