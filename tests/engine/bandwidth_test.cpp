// The read-bandwidth probe: each pattern reads every word of a chunk exactly once, and the limit is
// the fastest pattern.
#include "src/engine/bandwidth.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

TEST_CASE("every read pattern of the probe sums each word of a chunk once") {
  std::vector<uint64_t> words(slm::kProbeChunkBytes / sizeof(uint64_t));
  uint64_t want = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    words[i] = (i + 1) * 0x9E3779B97F4A7C15ull ^ (i << 7);
    want += words[i];
  }
  for (int p = 0; p < slm::kReadPatterns; ++p) {
    INFO(slm::read_pattern_name(p));
    CHECK(slm::read_pattern_chunk(p, reinterpret_cast<const uint8_t*>(words.data())) == want);
  }
}

TEST_CASE("the probe reports each pattern and takes the fastest as the limit") {
  const slm::BandwidthResult r = slm::probe_read_bandwidth(1, size_t{16} << 20, 1);
  CHECK(r.bytes == size_t{16} << 20);
  double best = 0;
  for (const slm::ReadPattern& p : r.patterns) {
    INFO(p.name);
    CHECK(std::string(p.name).size() > 0);
    CHECK(p.gb_per_s > 0);
    best = std::max(best, p.gb_per_s);
  }
  CHECK(r.gb_per_s == best);
}
