// Writes the seed corpora for the fuzz targets: make_seed_corpus DIR writes DIR/NAME/ for each
// fuzz_NAME target, using slm's own writers. One function per format; each seed is small (a few KB)
// so the fuzzer mutates headers rather than spending its time on tensor data.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "formats/gguf_writer.h"
#include "tests/fuzz/seed_safetensors.h"
#include "kernels/types.h"

namespace fs = std::filesystem;
using slm::DType;
using slm::gguf::EncodedValue;
using slm::gguf::GgufWriter;

namespace {

void write_seed(const fs::path& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

// Bytes of a tensor of `type` with one block per row and `rows` rows, filled with a pattern.
std::vector<uint8_t> tensor_bytes(DType type, uint64_t ne0, uint64_t rows) {
  std::vector<uint8_t> v(static_cast<size_t>(*slm::row_bytes(type, ne0) * rows));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 37 + 11);
  return v;
}

// GGUF seeds: an empty file, a llama-shaped model with a small vocabulary, every metadata type with
// nested arrays at a wider alignment, and one tensor of every ggml type the reader knows.
int write_gguf_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  int n = 0;

  write_seed(dir, "empty.gguf", GgufWriter().write_memory());
  ++n;

  {
    GgufWriter w;
    w.set_string("general.architecture", "llama");
    w.set_string("general.name", "seed");
    w.set_u32("llama.block_count", 1);
    w.set_u32("llama.context_length", 128);
    w.set_u32("llama.embedding_length", 32);
    w.set_u32("llama.feed_forward_length", 64);
    w.set_u32("llama.attention.head_count", 2);
    w.set_u32("llama.attention.head_count_kv", 1);
    w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.set_f32("llama.rope.freq_base", 10000.0f);
    w.set_string("tokenizer.ggml.model", "llama");
    const std::vector<std::string> tokens{"<unk>", "<s>", "</s>", "\xE2\x96\x81the", "a", "b"};
    w.set_array_string("tokenizer.ggml.tokens", tokens);
    w.set_array_f32("tokenizer.ggml.scores", std::vector<float>{0, 0, 0, -1, -2, -3});
    w.set_array_i32("tokenizer.ggml.token_type", std::vector<int32_t>{2, 3, 3, 1, 1, 1});
    w.set_array_string("tokenizer.ggml.merges", std::vector<std::string>{"a b"});
    w.set_u32("tokenizer.ggml.bos_token_id", 1);
    w.set_bool("tokenizer.ggml.add_bos_token", true);
    w.add_tensor("token_embd.weight", DType::Q8_0, {32, 6}, tensor_bytes(DType::Q8_0, 32, 6));
    w.add_tensor("output_norm.weight", DType::F32, {32}, tensor_bytes(DType::F32, 32, 1));
    w.add_tensor("blk.0.attn_q.weight", DType::F16, {32, 2}, tensor_bytes(DType::F16, 32, 2));
    w.add_tensor("blk.0.ffn_up.weight", DType::Q4_K, {256, 1}, tensor_bytes(DType::Q4_K, 256, 1));
    write_seed(dir, "llama.gguf", w.write_memory());
    ++n;
  }

  {
    GgufWriter w;
    w.set_alignment(64);
    w.set_u8("t.u8", 1);
    w.set_i8("t.i8", -1);
    w.set_u16("t.u16", 2);
    w.set_i16("t.i16", -2);
    w.set_u32("t.u32", 3);
    w.set_i32("t.i32", -3);
    w.set_u64("t.u64", 4);
    w.set_i64("t.i64", -4);
    w.set_f32("t.f32", 0.5f);
    w.set_f64("t.f64", 0.25);
    w.set_bool("t.bool", false);
    w.set_string("t.string", "text");
    const bool bools[] = {true, false};
    w.set_array_bool("t.bools", bools);
    w.set_array_u64("t.u64s", std::vector<uint64_t>{1, 2});
    w.set_array_f64("t.f64s", std::vector<double>{1.5});
    const std::vector<EncodedValue> inner{EncodedValue::array<int16_t>(std::vector<int16_t>{1, -1}),
                                          EncodedValue::string_array(std::vector<std::string>{"x", ""})};
    const std::vector<EncodedValue> outer{EncodedValue::array_of_arrays(inner),
                                          EncodedValue::array<uint8_t>(std::vector<uint8_t>{})};
    w.set("t.nested", EncodedValue::array_of_arrays(outer));
    w.add_tensor("i8", DType::I8, {3, 1, 1, 2}, tensor_bytes(DType::I8, 3, 2));
    write_seed(dir, "all_types.gguf", w.write_memory());
    ++n;
  }

  {
    GgufWriter w;
    w.set_alignment(1);
    for (uint32_t id = 0; id < 64; ++id) {
      const auto traits = slm::dtype_traits(id);
      if (!traits) continue;
      w.add_tensor(std::string("t.") + std::string(traits->name), traits->type, {traits->block_size},
                   tensor_bytes(traits->type, traits->block_size, 1));
    }
    write_seed(dir, "every_dtype.gguf", w.write_memory());
    ++n;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seed_corpus DIR   (writes DIR/NAME/ for each fuzz_NAME)\n");
    return 2;
  }
  try {
    const fs::path root = argv[1];
    const int gguf = write_gguf_seeds(root / "gguf");
    std::printf("make_seed_corpus: %d gguf seeds in %s\n", gguf, (root / "gguf").c_str());
    const int st = slm::test::write_safetensors_seeds(root / "safetensors");
    const int hf = slm::test::write_hf_config_seeds(root / "hf_config");
    std::printf("make_seed_corpus: %d safetensors and %d config.json seeds\n", st, hf);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_seed_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
