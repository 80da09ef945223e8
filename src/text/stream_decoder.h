// StreamDecoder: detokenizes one token at a time for streaming output.
//
// Byte-fallback and byte-level tokens can end in the middle of a UTF-8 character (an emoji is
// often four <0xXX> tokens). push() returns only text that ends on a character boundary and holds
// back the unfinished tail until the bytes that complete it arrive; flush() returns whatever is
// left at the end. The pieces, concatenated, are exactly what Tokenizer::decode() gives for all
// the ids pushed (bytes that can never form a character are passed on as they are, not held).
//
//   StreamDecoder out(tok, {.at_text_start = false});  // continuing after a prompt
//   for (int32_t id : generated) std::fputs(out.push(id).c_str(), stdout);
//   std::fputs(out.flush().c_str(), stdout);
#pragma once

#include <cstdint>
#include <string>

#include "src/text/tokenizer.h"

namespace slm {

struct StreamDecoderOptions {
  bool show_special = false;  // write control tokens' texts (as decode(ids, true) does)
  // The first token pushed starts the text, so the space a SentencePiece vocabulary put in front
  // of it is dropped, as decode() drops it. false when the tokens continue a text (generation
  // after a prompt): then every space is kept.
  bool at_text_start = true;
};

class StreamDecoder {
 public:
  explicit StreamDecoder(Tokenizer tokenizer, StreamDecoderOptions options = {});

  // The text that token `id` completes (possibly empty). Throws slm::Error(out_of_range) for an id
  // outside the vocabulary (the decoder is unchanged then).
  std::string push(int32_t id);
  // The bytes still held back (an unfinished character at the end of the stream), and a reset:
  // the next push() starts a new text.
  std::string flush();
  // Bytes held back right now.
  size_t pending() const noexcept { return held_.size(); }

 private:
  Tokenizer tokenizer_;
  StreamDecoderOptions options_;
  std::string held_;
  bool strip_next_space_;
};

}  // namespace slm
