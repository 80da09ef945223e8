// llama.cpp's SentencePiece tokenizer (tokenizer.ggml.model "llama"): the text, spaces already
// written as U+2581, is split into UTF-8 characters; adjacent symbols whose concatenation is a
// token merge, highest score first (ties: leftmost); symbols left that are not tokens are written
// as their <0xXX> byte tokens.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "src/text/vocab.h"

namespace slm::text {

// Appends the tokens of `text` (any bytes: ill-formed UTF-8 falls back to byte tokens).
// Control, unknown and byte tokens never result from merging, so user text cannot produce them.
void spm_encode(const Vocab& v, std::string_view text, std::vector<int32_t>& out);

}  // namespace slm::text
