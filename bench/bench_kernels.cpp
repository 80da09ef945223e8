// Kernel benchmarks: matrix-vector (generation) and matrix-matrix (prompt) products per weight type
// and per instruction-set level this machine runs, with 1 thread and with 2 threads splitting the
// rows as src/graph/matmul.cpp does (names ending /threads:2), beside this machine's streaming read
// bandwidth with the same thread counts, so every kernel is seen against the physical limit.
//
// Shapes are rows x cols = output features x K (the shared dimension):
//   2048x2048   attention projection of a 2048-wide model (Llama 3.2 1B)
//   2048x8192   its FFN down projection (K = FFN width)
//   4096x14336  FFN down projection of an 8B model (Llama 3 8B)
// Counters are rates: GB=x/s is weight bytes streamed per second (each weight byte is read once per
// call), GFLOP=y/s is 2 * rows * cols * tokens per second. Matrix-vector uses the whole matrix, and
// iterations rotate over enough copies of it (>= 512 MiB in all) that the weights come from DRAM,
// not a cache, as they do when a whole model is streamed per token. Matrix-matrix (128 tokens) is compute-bound and runs
// on a 256-row slice (what one thread of a split gets), to keep the scalar runs short; its GB is the
// slice's bytes (the 2-thread runs split that slice). Single-thread times are CPU time (robust to a
// busy machine); 2-thread runs report wall time (counters are summed over the threads, so GB=x/s is
// the combined rate). The bandwidth probe sums a 1 GiB buffer in 64-bit words.
//
// Defaults keep a full run short (--benchmark_min_time=0.05 unless given). Filter with e.g.
//   bench_kernels --benchmark_filter='matvec/.*/Q4_K/'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "kernels/types.h"

namespace {

using slm::DType;
namespace kn = slm::kernels;

struct Shape {
  int64_t rows, cols;
};
constexpr Shape kShapes[] = {{2048, 2048}, {2048, 8192}, {4096, 14336}};
constexpr int64_t kMatmulTokens = 128;
constexpr int64_t kMatmulRows = 256;

const DType kWeightTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                              DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                              DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL};

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Weights of a real-looking distribution: 64 distinct rows quantized by the reference quantizer
// (IQ4_NL, which has none: random levels with sane scales), tiled to the full height. Quantizing
// 58M values with the reference K-quant search would take minutes; the kernels' speed does not
// depend on rows repeating.
struct Weights {
  DType type{};
  int64_t rows = 0, cols = 0;
  size_t row_bytes = 0;
  size_t copies = 0;           // identical copies of the matrix, back to back
  std::vector<uint8_t> bytes;  // [copies][rows][row_bytes]
  const uint8_t* copy(size_t i) const { return bytes.data() + (i % copies) * row_bytes * rows; }
};
constexpr size_t kRotationBytes = size_t{512} << 20;  // well past any L3

const Weights& weights_for(DType type, int64_t rows, int64_t cols) {
  static Weights cache;  // benchmarks are registered grouped by (type, shape): one build per group
  if (cache.type == type && cache.rows == rows && cache.cols == cols && !cache.bytes.empty()) return cache;
  cache = Weights{};
  const size_t rb = static_cast<size_t>(*slm::row_bytes(type, static_cast<uint64_t>(cols)));
  const int64_t distinct = std::min<int64_t>(rows, 64);
  std::vector<uint8_t> seed_rows(rb * distinct);
  if (kn::can_quantize(type)) {
    const auto x = random_floats(static_cast<size_t>(distinct * cols), 42);
    for (int64_t r = 0; r < distinct; ++r) kn::quantize_row(type, &x[r * cols], &seed_rows[r * rb], cols);
  } else {  // IQ4_NL: 18-byte blocks, fp16 scale first
    std::mt19937 rng(42);
    for (auto& b : seed_rows) b = static_cast<uint8_t>(rng());
    for (size_t off = 0; off < seed_rows.size(); off += slm::block_bytes(type)) {
      const uint16_t d = kn::f32_to_fp16(0.01f);
      std::memcpy(&seed_rows[off], &d, sizeof(d));
    }
  }
  const size_t matrix_bytes = rb * static_cast<size_t>(rows);
  cache.copies = std::max<size_t>(1, (kRotationBytes + matrix_bytes - 1) / matrix_bytes);
  cache.bytes.resize(matrix_bytes * cache.copies);
  for (int64_t r = 0; r < rows; ++r) std::memcpy(&cache.bytes[r * rb], &seed_rows[(r % distinct) * rb], rb);
  for (size_t c = 1; c < cache.copies; ++c) std::memcpy(&cache.bytes[c * matrix_bytes], cache.bytes.data(), matrix_bytes);
  cache.type = type;
  cache.rows = rows;
  cache.cols = cols;
  cache.row_bytes = rb;
  return cache;
}

void run_matmul(benchmark::State& state, const kn::KernelTable* table, DType type, Shape shape, int64_t n_tokens,
                int64_t rows_used) {
  static std::mutex build_mutex;  // the threads of a 2-thread run share one weights build
  const Weights& w = [&]() -> const Weights& {
    std::lock_guard<std::mutex> lock(build_mutex);
    return weights_for(type, shape.rows, shape.cols);
  }();
  // this thread's rows: an even split at multiples of 16, as the graph's row split makes them
  const int64_t threads = state.threads(), index = state.thread_index();
  const int64_t row_begin = rows_used * index / threads / 16 * 16;
  const int64_t row_end = index + 1 == threads ? rows_used : rows_used * (index + 1) / threads / 16 * 16;
  const DType act = kn::activation_type(type);
  const size_t xrb = static_cast<size_t>(*slm::row_bytes(act, static_cast<uint64_t>(shape.cols)));
  std::vector<uint8_t> x(xrb * n_tokens);
  const auto xf = random_floats(static_cast<size_t>(n_tokens * shape.cols), 7);
  for (int64_t t = 0; t < n_tokens; ++t) table->quantize_act[kn::slot(act)](&xf[t * shape.cols], &x[t * xrb], shape.cols);
  std::vector<float> y(static_cast<size_t>(shape.rows * n_tokens));
  kn::MatmulArgs args{type, w.bytes.data(), w.row_bytes, shape.rows, shape.cols, x.data(), xrb, n_tokens,
                            y.data(), shape.rows};
  const kn::MatmulFn fn = table->matmul[kn::slot(type)];
  size_t iteration = 0;
  for (auto _ : state) {
    args.w = w.copy(iteration++);
    fn(args, row_begin, row_end);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double my_rows = static_cast<double>(row_end - row_begin);
  const double bytes = static_cast<double>(w.row_bytes) * my_rows;
  const double flops = 2.0 * my_rows * static_cast<double>(shape.cols) * n_tokens;
  state.counters["GB"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(table->isa) + ", " + std::to_string(rows_used) + " rows x " +
                 std::to_string(n_tokens) + " tokens, " + std::to_string(threads) + " thread(s)");
}

// Streaming read bandwidth: sum a 1 GiB buffer (pages touched beforehand); with 2 threads each sums
// its half.
void run_bandwidth_probe(benchmark::State& state) {
  const size_t total_words = (size_t{1} << 30) / sizeof(uint64_t);
  static const std::unique_ptr<uint64_t[]> shared_buf = [&] {  // built once, by the first thread
    std::unique_ptr<uint64_t[]> b(new uint64_t[total_words]);
    for (size_t i = 0; i < total_words; ++i) b[i] = i;
    return b;
  }();
  const size_t words = total_words / static_cast<size_t>(state.threads()) / 4 * 4;
  const uint64_t* buf = shared_buf.get() + words * static_cast<size_t>(state.thread_index());
  const size_t bytes = words * sizeof(uint64_t);
  for (auto _ : state) {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // independent chains: the adds keep up with memory
    for (size_t i = 0; i < words; i += 4) {
      s0 += buf[i];
      s1 += buf[i + 1];
      s2 += buf[i + 2];
      s3 += buf[i + 3];
    }
    benchmark::DoNotOptimize(s0 + s1 + s2 + s3);
  }
  state.counters["GB"] = benchmark::Counter(static_cast<double>(bytes) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("streaming read, " + std::to_string(state.threads()) + " thread(s): the matrix-vector limit");
}

bool has_flag(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], flag, std::strlen(flag)) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const bool default_min_time = !has_flag(argc, argv, "--benchmark_min_time");
  auto configure = [&](benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kMillisecond);  // CPU time: single-threaded, robust to a busy machine
    if (default_min_time) b->MinTime(0.05);
  };

  configure(benchmark::RegisterBenchmark("bandwidth/read_1GiB", run_bandwidth_probe));
  configure(benchmark::RegisterBenchmark("bandwidth/read_1GiB", run_bandwidth_probe)->Threads(2)->UseRealTime());
  for (const Shape& shape : kShapes) {
    for (DType type : kWeightTypes) {
      for (std::string_view isa : kn::available_isas()) {
        const kn::KernelTable* table = kn::table_for(isa);
        if (!table || !table->matmul[kn::slot(type)]) continue;
        const std::string suffix = std::string(isa) + "/" + std::string(slm::dtype_name(type)) + "/" +
                                   std::to_string(shape.rows) + "x" + std::to_string(shape.cols);
        for (int threads : {1, 2}) {
          auto* mv = benchmark::RegisterBenchmark(("matvec/" + suffix).c_str(), run_matmul, table, type, shape,
                                                  int64_t{1}, shape.rows);
          auto* mm = benchmark::RegisterBenchmark(("matmul" + std::to_string(kMatmulTokens) + "/" + suffix).c_str(),
                                                  run_matmul, table, type, shape, kMatmulTokens,
                                                  std::min(shape.rows, kMatmulRows));
          if (threads > 1) {
            mv->Threads(threads)->UseRealTime();
            mm->Threads(threads)->UseRealTime();
          }
          configure(mv);
          configure(mm);
        }
      }
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
