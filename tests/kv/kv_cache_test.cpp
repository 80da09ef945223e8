#include <doctest/doctest.h>

#include <set>

#include "slm/error.h"
#include "src/kv/kv_cache.h"

using slm::KvCache;
using slm::KvCacheOptions;

TEST_CASE("blocks are handed out on reserve and returned on truncate") {
  KvCache kv(KvCacheOptions{2, 2, 4, 4, 32, 2});  // 8 blocks of 4 positions
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

TEST_CASE("positions, heads, sequences and layers never share storage") {
  constexpr int kHeads = 2, kHeadDim = 3;
  KvCache kv(KvCacheOptions{2, kHeads, kHeadDim, 4, 32, 2});
  kv.reserve(0, 9);
  kv.reserve(1, 9);
  const auto mark = [](int layer, int seq, int p, int h) {
    return static_cast<uint16_t>(layer * 1000 + seq * 100 + p * 10 + h);
  };
  std::set<const uint16_t*> seen;
  for (int layer = 0; layer < 2; ++layer)
    for (int seq = 0; seq < 2; ++seq) {
      auto v = kv.view(layer, seq);
      for (int p = 0; p < 9; ++p)
        for (int h = 0; h < kHeads; ++h)
          for (int i = 0; i < kHeadDim; ++i) {
            CHECK(seen.insert(v.k(p, h) + i).second);
            CHECK(seen.insert(v.v(p, h) + i).second);
            v.k(p, h)[i] = mark(layer, seq, p, h);
          }
    }
  for (int layer = 0; layer < 2; ++layer)
    for (int seq = 0; seq < 2; ++seq)
      for (int p = 0; p < 9; ++p)
        for (int h = 0; h < kHeads; ++h)
          CHECK(kv.view(layer, seq).k(p, h)[kHeadDim - 1] == mark(layer, seq, p, h));
}

TEST_CASE("inside a block, each KV head's positions are consecutive rows") {
  // what attention's walk over one KV head relies on: a block's rows of that head, row_stride() apart
  KvCache kv(KvCacheOptions{1, 3, 8, 4, 16, 1});
  kv.reserve(0, 16);
  const auto v = kv.view(0, 0);
  CHECK(v.row_stride() == 8);
  for (int h = 0; h < 3; ++h)
    for (int p = 0; p < 16; ++p) {
      const int first = p / 4 * 4;  // the block's first position
      CHECK(v.k(p, h) == v.k(first, h) + (p - first) * v.row_stride());
      CHECK(v.v(p, h) == v.v(first, h) + (p - first) * v.row_stride());
    }
}

TEST_CASE("exhausting the pool or naming a bad sequence is an error") {
  KvCache kv(KvCacheOptions{1, 1, 4, 4, 8, 1});
  CHECK_THROWS_AS(kv.reserve(0, 9), slm::Error);
  CHECK_NOTHROW(kv.reserve(0, 8));
  CHECK_THROWS_AS(kv.reserve(1, 1), slm::Error);
  CHECK_THROWS_AS(KvCache(KvCacheOptions{0, 1, 4, 4, 8, 1}), slm::Error);
  CHECK_THROWS_AS(KvCache(KvCacheOptions{1, 0, 4, 4, 8, 1}), slm::Error);
  CHECK_THROWS_AS(KvCache(KvCacheOptions{1, 1, 0, 4, 8, 1}), slm::Error);
  // more halfs than memory can address: an error, not a wrapped size
  CHECK_THROWS_AS(KvCache(KvCacheOptions{1 << 20, 1 << 10, 1 << 12, 32, 1 << 30, 1}), slm::Error);
}
