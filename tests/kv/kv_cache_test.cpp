#include <doctest/doctest.h>

#include <set>

#include "slm/error.h"
#include "src/kv/kv_cache.h"

using slm::KvCache;
using slm::KvCacheOptions;

TEST_CASE("blocks are handed out on reserve and returned on truncate") {
  KvCache kv(KvCacheOptions{2, 8, 4, 32, 2});  // 8 blocks of 4 positions
  CHECK(kv.free_blocks() == 8);
  kv.reserve(0, 5);
  CHECK(kv.capacity(0) == 8);
  CHECK(kv.free_blocks() == 6);
  kv.reserve(1, 12);
  CHECK(kv.free_blocks() == 3);
  kv.truncate(0, 4);
  CHECK(kv.capacity(0) == 4);
  CHECK(kv.free_blocks() == 4);
  kv.clear(1);
  CHECK(kv.free_blocks() == 7);
}

TEST_CASE("positions of different sequences and layers never share storage") {
  KvCache kv(KvCacheOptions{2, 3, 4, 32, 2});
  kv.reserve(0, 9);
  kv.reserve(1, 9);
  std::set<const uint16_t*> seen;
  for (int layer = 0; layer < 2; ++layer)
    for (int seq = 0; seq < 2; ++seq) {
      auto v = kv.view(layer, seq);
      for (int p = 0; p < 9; ++p) {
        CHECK(seen.insert(v.k(p)).second);
        CHECK(seen.insert(v.v(p)).second);
        v.k(p)[0] = static_cast<uint16_t>(layer * 1000 + seq * 100 + p);
      }
    }
  for (int layer = 0; layer < 2; ++layer)
    for (int seq = 0; seq < 2; ++seq)
      for (int p = 0; p < 9; ++p) CHECK(kv.view(layer, seq).k(p)[0] == layer * 1000 + seq * 100 + p);
}

TEST_CASE("exhausting the pool or naming a bad sequence is an error") {
  KvCache kv(KvCacheOptions{1, 4, 4, 8, 1});
  CHECK_THROWS_AS(kv.reserve(0, 9), slm::Error);
  CHECK_NOTHROW(kv.reserve(0, 8));
  CHECK_THROWS_AS(kv.reserve(1, 1), slm::Error);
  CHECK_THROWS_AS(KvCache(KvCacheOptions{0, 4, 4, 8, 1}), slm::Error);
}
