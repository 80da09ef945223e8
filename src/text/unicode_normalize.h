// Unicode normalization forms (NFC, NFD, NFKC, NFKD), as Hugging Face normalizers apply them.
#pragma once

#include <string>
#include <string_view>

namespace slm::text {

enum class NormalForm { nfc, nfd, nfkc, nfkd };

// Normalizes UTF-8 text. Ill-formed input is repaired first (each bad byte becomes U+FFFD), since
// Hugging Face tokenizers only ever see valid strings.
std::string unicode_normalize(std::string_view text, NormalForm form);

}  // namespace slm::text
