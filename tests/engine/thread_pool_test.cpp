// ThreadPool: parallel_for through oneTBB and through the spinning threads of a SpinScope covers
// [0, n) once in whole grains, propagates exceptions, nests, and survives the threads' sleep.
#include "src/engine/thread_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

// Runs one parallel_for and checks that its chunks cover [0, n) exactly once, each a whole number
// of grains except one that ends at n.
void check_cover(slm::ThreadPool& pool, int64_t n, int64_t grain) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  std::atomic<int> bad_chunks{0};
  pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
    if (b < 0 || e > n || b >= e || ((e - b) % grain != 0 && e != n) || b % grain != 0)
      bad_chunks.fetch_add(1);
    for (int64_t i = std::max<int64_t>(b, 0); i < std::min(e, n); ++i)
      hits[static_cast<size_t>(i)].fetch_add(1);
  });
  CHECK(bad_chunks.load() == 0);
  int64_t wrong = 0;
  for (auto& h : hits) wrong += h.load() != 1;
  CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("parallel_for covers the range once in whole grains, with and without a SpinScope") {
  for (int threads : {1, 2, 3, 4}) {
    slm::ThreadPool pool(threads, /*spin_beyond_cores=*/true);
    CAPTURE(threads);
    for (int64_t n : {1, 7, 16, 17, 255, 256, 1000, 4099}) {
      for (int64_t grain : {1, 3, 16, 64}) {
        CAPTURE(n);
        CAPTURE(grain);
        check_cover(pool, n, grain);
        slm::ThreadPool::SpinScope spin(pool);
        check_cover(pool, n, grain);
      }
    }
  }
}

TEST_CASE("many calls in a row inside a SpinScope: every chunk runs once") {
  for (int threads : {2, 3}) {
    CAPTURE(threads);
    slm::ThreadPool pool(threads, /*spin_beyond_cores=*/true);
    slm::ThreadPool::SpinScope spin(pool);
    std::atomic<int64_t> sum{0};
    int64_t expect = 0;
    for (int call = 0; call < (threads == 2 ? 3000 : 300); ++call) {
      const int64_t n = 1 + call % 97;
      pool.parallel_for(n, 1 + call % 5, [&](int64_t b, int64_t e) {
        int64_t s = 0;
        for (int64_t i = b; i < e; ++i) s += i + 1;
        sum.fetch_add(s);
      });
      expect += n * (n + 1) / 2;
    }
    CHECK(sum.load() == expect);
  }
}

TEST_CASE("inside a SpinScope the pool's other threads take part") {
  slm::ThreadPool pool(2);
  slm::ThreadPool::SpinScope spin(pool);
  std::mutex m;
  std::set<std::thread::id> ids;
  for (int call = 0; call < 50 && ids.size() < 2; ++call)
    pool.parallel_for(8, 1, [&](int64_t, int64_t) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::lock_guard lock(m);
      ids.insert(std::this_thread::get_id());
    });
  CHECK(ids.size() == 2);
}

TEST_CASE("an exception in a chunk is rethrown by parallel_for, and the pool goes on working") {
  for (bool spinning : {false, true}) {
    CAPTURE(spinning);
    slm::ThreadPool pool(3, /*spin_beyond_cores=*/true);
    std::optional<slm::ThreadPool::SpinScope> spin;
    if (spinning) spin.emplace(pool);
    for (int round = 0; round < 20; ++round) {
      CHECK_THROWS_WITH_AS(pool.parallel_for(64, 1,
                                             [&](int64_t b, int64_t) {
                                               if (b == (round * 7) % 64)
                                                 throw std::runtime_error("chunk failed");
                                             }),
                           "chunk failed", std::runtime_error);
      check_cover(pool, 300, 4);
    }
  }
}

TEST_CASE("a parallel_for inside a chunk runs, and the threads wake after sleeping between scopes") {
  slm::ThreadPool pool(2);
  for (int round = 0; round < 3; ++round) {
    {
      slm::ThreadPool::SpinScope spin(pool);
      slm::ThreadPool::SpinScope nested_scope(pool);  // scopes nest
      std::atomic<int64_t> inner{0};
      pool.parallel_for(4, 1, [&](int64_t, int64_t) {
        pool.parallel_for(10, 1, [&](int64_t b, int64_t e) { inner.fetch_add(e - b); });
      });
      CHECK(inner.load() == 40);
      check_cover(pool, 1000, 16);
    }
    // Longer than the threads spin on after a scope: they sleep, and the next scope wakes them.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    check_cover(pool, 1000, 16);  // oneTBB again
  }
}

TEST_CASE("two pools spinning at once from two threads (more threads than cores) both finish") {
  std::atomic<int64_t> sums[2] = {0, 0};
  std::vector<std::thread> users;
  for (int u = 0; u < 2; ++u)
    users.emplace_back([&, u] {
      slm::ThreadPool pool(2, /*spin_beyond_cores=*/true);
      slm::ThreadPool::SpinScope spin(pool);
      for (int call = 0; call < 500; ++call)
        pool.parallel_for(64, 4, [&](int64_t b, int64_t e) { sums[u].fetch_add(e - b); });
    });
  for (auto& t : users) t.join();
  CHECK(sums[0].load() == 500 * 64);
  CHECK(sums[1].load() == 500 * 64);
}
