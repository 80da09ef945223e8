// Weight layouts a kernel level reads faster than the file's (kernels.h, "repacked layouts"):
// the in-place conversion between Q4_0 rows and Q4_0_R4 groups of 4 rows.
#include <cassert>
#include <cstring>

#include "kernels/kernels.h"

namespace slm::kernels {
namespace {

constexpr size_t kPiece = kR4StepBytes / kR4Rows;  // 4 blocks of one row: 72 bytes

// One group of 4 rows at g (4 * row_bytes bytes): row-major -> interleaved when `to_r4`, else back.
void convert_group(uint8_t* g, size_t row_bytes, uint8_t* scratch, bool to_r4) {
  const size_t group_bytes = kR4Rows * row_bytes;
  std::memcpy(scratch, g, group_bytes);
  const size_t steps = row_bytes / kPiece;
  for (size_t q = 0; q < steps; ++q)
    for (size_t j = 0; j < kR4Rows; ++j) {
      const size_t row_major = j * row_bytes + q * kPiece, interleaved = q * kR4StepBytes + j * kPiece;
      if (to_r4)
        std::memcpy(g + interleaved, scratch + row_major, kPiece);
      else
        std::memcpy(g + row_major, scratch + interleaved, kPiece);
    }
}

void convert(uint8_t* data, int64_t rows, size_t row_bytes, uint8_t* scratch, bool to_r4) {
  assert(rows % kR4Rows == 0 && row_bytes % kPiece == 0);
  for (int64_t r = 0; r < rows; r += kR4Rows)
    convert_group(data + static_cast<size_t>(r) * row_bytes, row_bytes, scratch, to_r4);
}

}  // namespace

void repack_q4_0_r4(uint8_t* data, int64_t rows, size_t row_bytes, uint8_t* scratch) noexcept {
  convert(data, rows, row_bytes, scratch, true);
}

void unpack_q4_0_r4(uint8_t* data, int64_t rows, size_t row_bytes, uint8_t* scratch) noexcept {
  convert(data, rows, row_bytes, scratch, false);
}

}  // namespace slm::kernels
