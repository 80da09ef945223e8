// A program outside the slm tree, built against the installed package only.
#include <cstdio>
#include <string>

#include <slm/error.h>

int main() {
  try {
    throw slm::Error(slm::ErrorKind::format, "x.gguf: offset 8", "bad magic");
  } catch (const slm::Error& e) {
    if (std::string(e.what()) != "x.gguf: offset 8: bad magic") return 1;
    if (slm::to_string(e.kind()) != "format") return 1;
  }
  std::puts("consumer ok");
  return 0;
}
