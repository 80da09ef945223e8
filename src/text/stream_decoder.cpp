#include "src/text/stream_decoder.h"

#include "src/text/unicode.h"

namespace slm {

StreamDecoder::StreamDecoder(Tokenizer tokenizer, StreamDecoderOptions options)
    : tokenizer_(std::move(tokenizer)),
      options_(options),
      strip_next_space_(options.at_text_start && tokenizer_.strips_leading_space()) {}

std::string StreamDecoder::push(int32_t id) {
  std::string_view piece = tokenizer_.token_piece(id, options_.show_special);
  if (piece.empty()) return {};
  // decode() drops one space at the very start of its output: the first byte this stream writes.
  if (strip_next_space_) {
    strip_next_space_ = false;
    if (piece.front() == ' ') piece.remove_prefix(1);
  }
  held_.append(piece);
  const size_t keep = text::utf8_incomplete_tail(held_);
  std::string ready = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return ready;
}

std::string StreamDecoder::flush() {
  std::string rest;
  rest.swap(held_);
  strip_next_space_ = options_.at_text_start && tokenizer_.strips_leading_space();
  return rest;
}

}  // namespace slm
