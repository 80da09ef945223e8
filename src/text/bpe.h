// BPE with a merge list (tokenizer.ggml.model "gpt2", Hugging Face "BPE"): one pre-tokenized
// piece is split into characters, then the adjacent pair with the lowest merge rank merges,
// repeatedly (ties: leftmost), until no listed pair is left.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "src/text/vocab.h"

namespace slm::text {

// Appends the tokens of one piece. For byte-level vocabularies the piece is already written in
// the byte alphabet. A character outside the vocabulary becomes its <0xXX> byte tokens
// (byte_fallback), else the unknown token (consecutive ones fused when fuse_unk), else nothing.
void bpe_encode_piece(const Vocab& v, std::string_view piece, std::vector<int32_t>& out);

}  // namespace slm::text
