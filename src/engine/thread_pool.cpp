#include "src/engine/thread_pool.h"

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace slm {

struct ThreadPool::Impl {
  explicit Impl(int n) : arena(n) {}
  tbb::task_arena arena;
};

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = tbb::info::default_concurrency();
  n_threads_ = n_threads;
  impl_ = std::make_unique<Impl>(n_threads);
}

ThreadPool::~ThreadPool() = default;

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (n_threads_ == 1 || n <= grain) {
    fn(0, n);
    return;
  }
  impl_->arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, grain),
                      [&](const tbb::blocked_range<int64_t>& r) { fn(r.begin(), r.end()); },
                      tbb::simple_partitioner());
  });
}

}  // namespace slm
