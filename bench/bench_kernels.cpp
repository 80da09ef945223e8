// Kernel benchmarks: matrix-vector (generation) and matrix-matrix (prompt) products per weight type
// and per instruction-set level this machine runs, with 1 and 2 threads splitting the rows exactly
// as src/graph/matmul.cpp does (slm's own ThreadPool, the same grain), beside this machine's
// streaming read bandwidth measured with the same pool and thread counts, so every kernel is seen
// against the physical limit.
//
// Shapes are rows x cols = output features x K (the shared dimension):
//   2048x2048   attention projection of a 2048-wide model (Llama 3.2 1B)
//   2048x8192   its FFN down projection (K = FFN width)
//   4096x14336  FFN down projection of an 8B model (Llama 3 8B)
// Counters are rates: GB=x/s is weight bytes streamed per second (each weight byte is read once per
// call), GFLOP=y/s is 2 * rows * cols * tokens per second. Matrix-vector uses the whole matrix, and
// iterations rotate over enough copies of it (>= 512 MiB in all, advised for 2 MiB pages as the
// model's weights are) that the weights come from DRAM, not a cache, as they do when a whole model
// is streamed per token. Matrix-matrix (128 tokens) is
// compute-bound and runs on a 256-row slice (per thread: the 2-thread run gives each thread its own
// 256 rows), to keep the scalar runs short. Times are wall-clock (run on an idle machine); names end
// in /threads:N. The bandwidth probes read a 1 GiB buffer in slm bench's read patterns (one stream,
// or 4 or 16 prefetched streams per thread: src/engine/bandwidth.h), the fastest being the limit; the
// int8 probe (AVX-512 VNNI machines) issues independent 512-bit vpdpbusd, the instruction the
// matrix-matrix kernels are built on, so matmul128's GFLOP/s can be read against it. Matrix-matrix
// runs take the panel path (kernels.h, "token panels") where the level has one, packing included.
//
// matmul_tokens/TYPE/2048x8192/tokens:N/threads:2: the whole matrix from DRAM for N = 1 .. 32 tokens
// (N sequences decoding together), with the graph's choice of kernel at each N.
//
// Defaults keep a full run short (--benchmark_min_time=0.05 unless given). Filter with e.g.
//   bench_kernels --benchmark_filter='matvec/.*/Q4_K/'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <atomic>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "kernels/types.h"
#include "src/engine/bandwidth.h"
#include "src/engine/thread_pool.h"
#include "src/graph/attention.h"

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
  slm::HugePageBuffer bytes;   // [copies][rows][row_bytes], on huge pages as the model's weights are
  const uint8_t* copy(size_t i) const { return bytes.data() + (i % copies) * row_bytes * rows; }
};
// One pool per thread count, kept for the whole run (as a Session keeps its pool).
slm::ThreadPool& pool_of(int threads) {
  static std::unique_ptr<slm::ThreadPool> pools[3];
  if (!pools[threads]) pools[threads] = std::make_unique<slm::ThreadPool>(threads);
  return *pools[threads];
}

constexpr size_t kRotationBytes = size_t{512} << 20;  // well past any L3

const Weights& weights_for(DType type, int64_t rows, int64_t cols) {
  static Weights cache;  // benchmarks are registered grouped by (type, shape): one build per group
  if (cache.type == type && cache.rows == rows && cache.cols == cols && cache.bytes.size() > 0) return cache;
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
  cache.bytes = slm::HugePageBuffer(matrix_bytes * cache.copies);
  uint8_t* const dst = cache.bytes.data();
  for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + r * rb, &seed_rows[(r % distinct) * rb], rb);
  for (size_t c = 1; c < cache.copies; ++c) std::memcpy(dst + c * matrix_bytes, dst, matrix_bytes);
  cache.type = type;
  cache.rows = rows;
  cache.cols = cols;
  cache.row_bytes = rb;
  return cache;
}

// Which matrix-matrix path run_matmul takes: the tiles, the graph's choice, or the panels at any size.
enum class PanelMode { never, automatic, always };

void run_matmul(benchmark::State& state, const kn::KernelTable* table, DType type, Shape shape, int64_t n_tokens,
                int64_t rows_used, int threads, PanelMode mode) {
  const Weights& w = weights_for(type, shape.rows, shape.cols);
  const DType act = kn::activation_type(type);
  const size_t xrb = static_cast<size_t>(*slm::row_bytes(act, static_cast<uint64_t>(shape.cols)));
  std::vector<uint8_t> x(xrb * n_tokens);
  const auto xf = random_floats(static_cast<size_t>(n_tokens * shape.cols), 7);
  for (int64_t t = 0; t < n_tokens; ++t) table->quantize_act[kn::slot(act)](&xf[t * shape.cols], &x[t * xrb], shape.cols);
  std::vector<float> y(static_cast<size_t>(shape.rows * n_tokens));
  kn::MatmulArgs args{type, w.bytes.data(), w.row_bytes, shape.rows, shape.cols, x.data(), xrb, n_tokens,
                      y.data(), shape.rows};
  kn::MatmulFn fn = table->matmul[kn::slot(type)];
  // Prompt-sized products take the panel path where the level has one, as src/graph/matmul.cpp does;
  // the packing (in parallel over panels) is part of the timed work.
  const bool panels = mode != PanelMode::never && (mode == PanelMode::always || n_tokens >= kn::kPanelMinTokens) &&
                      table->matmul_panels[kn::slot(type)] != nullptr;
  kn::PanelBuffer packed;
  if (panels) {
    fn = table->matmul_panels[kn::slot(type)];
    packed.bytes.resize(kn::panel_bytes(shape.cols) * static_cast<size_t>(kn::panel_count(n_tokens)) + 64);
    args.xp = packed.data();  // filled in the timed loop
  }
  slm::ThreadPool& pool = pool_of(threads);
  // src/graph/matmul.cpp's grain: ~8 chunks per thread, whole 16-row tiles.
  int64_t grain = rows_used / (pool.size() * 8);
  grain = std::max<int64_t>(16, (grain + 15) / 16 * 16);
  size_t iteration = 0;
  for (auto _ : state) {
    args.w = w.copy(iteration++);
    if (panels) {
      pool.parallel_for(kn::panel_count(n_tokens), 1, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p)
          table->pack_panel(act, x.data(), xrb, shape.cols, n_tokens, p,
                            packed.data() + kn::panel_bytes(shape.cols) * static_cast<size_t>(p));
      });
    }
    pool.parallel_for(rows_used, grain, [&](int64_t r0, int64_t r1) { fn(args, r0, r1); });
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double rows = static_cast<double>(rows_used);
  const double bytes = static_cast<double>(w.row_bytes) * rows;
  const double flops = 2.0 * rows * static_cast<double>(shape.cols) * n_tokens;
  state.counters["GB"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(table->isa) + (panels ? " panels" : "") + ", " + std::to_string(rows_used) + " rows x " +
                 std::to_string(n_tokens) + " tokens, " + std::to_string(threads) + " thread(s)");
}

// Streaming read bandwidth: a 1 GiB buffer (pages touched beforehand) read in chunks over the pool's
// threads in one of the patterns of slm bench's probe (src/engine/bandwidth.h); the fastest is the
// limit.
void run_bandwidth_probe(benchmark::State& state, int threads, int pattern) {
  const size_t total_words = (size_t{1} << 30) / sizeof(uint64_t);
  static const slm::HugePageBuffer mem = [&] {  // huge pages, as the weights (bandwidth.h)
    slm::HugePageBuffer b(total_words * sizeof(uint64_t));
    uint64_t* w = reinterpret_cast<uint64_t*>(b.data());
    for (size_t i = 0; i < total_words; ++i) w[i] = i;
    return b;
  }();
  const uint8_t* const buf = mem.data();
  slm::ThreadPool& pool = pool_of(threads);
  for (auto _ : state) {
    std::atomic<uint64_t> sink{0};
    pool.parallel_for(
        static_cast<int64_t>(mem.size() / slm::kProbeChunkBytes), 1, [&](int64_t c0, int64_t c1) {
          uint64_t s = 0;
          for (int64_t c = c0; c < c1; ++c)
            s += slm::read_pattern_chunk(pattern, buf + static_cast<size_t>(c) * slm::kProbeChunkBytes);
          sink.fetch_add(s, std::memory_order_relaxed);
        });
    benchmark::DoNotOptimize(sink.load());
  }
  state.counters["GB"] = benchmark::Counter(static_cast<double>(total_words * sizeof(uint64_t)) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string("streaming read, ") + slm::read_pattern_name(pattern) + ", " +
                 std::to_string(threads) + " thread(s): the matrix-vector limit is the fastest pattern");
}

#if defined(__x86_64__)
// 2 x 64 int8 operations per vpdpbusd over 12 independent accumulator chains (more than latency x
// throughput on any AVX-512 VNNI core), 2^20 instructions per chain and task.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) uint64_t vnni_chains(int64_t iters) {
  // Inline assembly: with the intrinsic, GCC 12 copied every accumulator to a temporary and back
  // around each vpdpbusd, and those 24 moves per step halved the measured rate.
  __m512i a0 = _mm512_set1_epi32(0), a1 = _mm512_set1_epi32(1), a2 = _mm512_set1_epi32(2), a3 = _mm512_set1_epi32(3),
          a4 = _mm512_set1_epi32(4), a5 = _mm512_set1_epi32(5), a6 = _mm512_set1_epi32(6), a7 = _mm512_set1_epi32(7),
          a8 = _mm512_set1_epi32(8), a9 = _mm512_set1_epi32(9), a10 = _mm512_set1_epi32(10), a11 = _mm512_set1_epi32(11);
  const __m512i u = _mm512_set1_epi8(3), v = _mm512_set1_epi8(5);
  for (int64_t i = 0; i < iters; ++i) {
    __asm__ volatile(
        "vpdpbusd %[v], %[u], %[a0]\n\tvpdpbusd %[v], %[u], %[a1]\n\tvpdpbusd %[v], %[u], %[a2]\n\t"
        "vpdpbusd %[v], %[u], %[a3]\n\tvpdpbusd %[v], %[u], %[a4]\n\tvpdpbusd %[v], %[u], %[a5]\n\t"
        "vpdpbusd %[v], %[u], %[a6]\n\tvpdpbusd %[v], %[u], %[a7]\n\tvpdpbusd %[v], %[u], %[a8]\n\t"
        "vpdpbusd %[v], %[u], %[a9]\n\tvpdpbusd %[v], %[u], %[a10]\n\tvpdpbusd %[v], %[u], %[a11]"
        : [a0] "+v"(a0), [a1] "+v"(a1), [a2] "+v"(a2), [a3] "+v"(a3), [a4] "+v"(a4), [a5] "+v"(a5), [a6] "+v"(a6),
          [a7] "+v"(a7), [a8] "+v"(a8), [a9] "+v"(a9), [a10] "+v"(a10), [a11] "+v"(a11)
        : [u] "v"(u), [v] "v"(v));
  }
  uint64_t sum = 0;
  for (const __m512i& a : {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11})
    sum += static_cast<uint32_t>(_mm512_reduce_add_epi32(a));
  return sum;
}

// The int8 limit of the matrix-matrix kernels: vpdpbusd (512-bit) throughput on the pool's threads.
// GFLOP=x/s counts 2 operations per multiply-add, like the matmul counters.
void run_vnni_probe(benchmark::State& state, int threads) {
  constexpr int64_t kIters = int64_t{1} << 20;
  slm::ThreadPool& pool = pool_of(threads);
  for (auto _ : state) {
    std::atomic<uint64_t> sink{0};
    pool.parallel_for(threads, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) sink.fetch_add(vnni_chains(kIters), std::memory_order_relaxed);
    });
    benchmark::DoNotOptimize(sink.load());
  }
  const double ops = 2.0 * 64 * 12 * static_cast<double>(kIters) * threads;
  state.counters["GFLOP"] = benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("vpdpbusd zmm throughput, " + std::to_string(threads) + " thread(s): the int8 matrix-matrix limit");
}
#endif

// F16 attention (src/graph/attention.cpp, the active kernel level) on one thread: a Llama 3.2 1B
// KV head (head_dim 64, 8 KV heads in the cache) read by `tokens` tokens x its 4 query heads,
// positions depth .. depth + tokens - 1 (a prompt's task after a cached prefix: 8 tokens; generation:
// 1). Counts 4 flops per head dimension and query per cache row (the q.k product and the V sum).
void run_attention(benchmark::State& state, int32_t depth, int32_t tokens) {
  constexpr int32_t kHd = 64, kKvHeads = 8, kGroup = 4, kBlock = 32;
  const int32_t positions = depth + tokens;
  const int32_t n_blocks = (positions + kBlock - 1) / kBlock;
  const size_t kv_dim = static_cast<size_t>(kHd) * kKvHeads;
  std::vector<uint16_t> k_pool(static_cast<size_t>(n_blocks) * kBlock * kv_dim),
      v_pool(k_pool.size());  // as KvCache lays them out
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (size_t i = 0; i < k_pool.size(); ++i) {
    k_pool[i] = kn::f32_to_fp16(nd(rng));
    v_pool[i] = kn::f32_to_fp16(nd(rng));
  }
  std::vector<int32_t> blocks(static_cast<size_t>(n_blocks));
  for (int32_t b = 0; b < n_blocks; ++b) blocks[static_cast<size_t>(b)] = b;
  std::vector<float> q(static_cast<size_t>(tokens) * kGroup * kHd), out(q.size());
  for (auto& x : q) x = nd(rng) * 0.3f;
  std::vector<slm::AttentionQuery> queries;
  for (int32_t t = 0; t < tokens; ++t)
    for (int32_t h = 0; h < kGroup; ++h) {
      const size_t off = (static_cast<size_t>(t) * kGroup + static_cast<size_t>(h)) * kHd;
      queries.push_back({q.data() + off, out.data() + off, 0, depth + t});
    }
  slm::AttentionGroupArgs a;
  a.kv = slm::KvSeqView{k_pool.data(), v_pool.data(), blocks.data(), kBlock, kKvHeads, kHd};
  a.kv_head = 3;
  a.scale = 0.125f;
  a.softcap = 0.0f;
  a.queries = queries.data();
  a.n_queries = queries.size();
  slm::AttentionScratch scratch;
  for (auto _ : state) {
    slm::attend_group(a, slm::AttentionPrecision::f16_accumulate, scratch);
    benchmark::DoNotOptimize(out.data());
  }
  double row_queries = 0;
  for (const auto& qq : queries) row_queries += qq.last_pos - qq.first_pos + 1;
  state.counters["GFLOP"] = benchmark::Counter(4.0 * kHd * row_queries * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ns_per_row_query"] = benchmark::Counter(row_queries * 1e-9, benchmark::Counter::kIsIterationInvariantRate |
                                                                          benchmark::Counter::kInvert);
  state.SetLabel(std::string(kn::active().isa) + ", " + std::to_string(queries.size()) + " queries, 1 thread");
}

bool has_flag(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], flag, std::strlen(flag)) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const bool default_min_time = !has_flag(argc, argv, "--benchmark_min_time");  // before Initialize eats it
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  auto configure = [&](benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kMillisecond)->UseRealTime();
    if (default_min_time) b->MinTime(0.05);
  };

  for (int pattern = 0; pattern < slm::kReadPatterns; ++pattern) {
    for (int threads : {1, 2})
      configure(benchmark::RegisterBenchmark(
          ("bandwidth/read_1GiB/" + std::string(slm::read_pattern_name(pattern)) +
           "/threads:" + std::to_string(threads))
              .c_str(),
          run_bandwidth_probe, threads, pattern));
  }
#if defined(__x86_64__)
  if (kn::cpu_features().avx512vnni)
    for (int threads : {1, 2})
      configure(benchmark::RegisterBenchmark(("int8_peak/vnni512/threads:" + std::to_string(threads)).c_str(),
                                             run_vnni_probe, threads));
#endif
  for (const Shape& shape : kShapes) {
    for (DType type : kWeightTypes) {
      for (std::string_view isa : kn::available_isas()) {
        const kn::KernelTable* table = kn::table_for(isa);
        if (!table || !table->matmul[kn::slot(type)]) continue;
        const std::string suffix = std::string(isa) + "/" + std::string(slm::dtype_name(type)) + "/" +
                                   std::to_string(shape.rows) + "x" + std::to_string(shape.cols);
        for (int threads : {1, 2}) {
          const std::string t = "/threads:" + std::to_string(threads);
          configure(benchmark::RegisterBenchmark(("matvec/" + suffix + t).c_str(), run_matmul, table, type, shape,
                                                 int64_t{1}, shape.rows, threads, PanelMode::never));
          const int64_t rows = std::min(shape.rows, kMatmulRows * threads);
          configure(benchmark::RegisterBenchmark(("matmul" + std::to_string(kMatmulTokens) + "/" + suffix + t).c_str(),
                                                 run_matmul, table, type, shape, kMatmulTokens, rows, threads, PanelMode::automatic));
          // The tile kernels the panel path replaced (still used below kPanelMinTokens), for comparison.
          if (table->matmul_panels[kn::slot(type)] && shape.cols == 2048)
            configure(benchmark::RegisterBenchmark(
                ("matmul" + std::to_string(kMatmulTokens) + "_tiles/" + suffix + t).c_str(), run_matmul, table, type,
                shape, kMatmulTokens, rows, threads, PanelMode::never));
        }
      }
    }
  }
  // Expert-sized products (a MoE layer's 512 x 1024 expert over the few tokens routed to it), panels
  // against tiles at each token count: where kPanelMinTokens should sit, and what a ragged last
  // panel costs.
  for (DType type : {DType::Q4_0, DType::Q4_K, DType::Q6_K, DType::Q8_0}) {
    for (std::string_view isa : kn::available_isas()) {
      const kn::KernelTable* table = kn::table_for(isa);
      if (!table || !table->matmul_panels[kn::slot(type)]) continue;
      const Shape shape{512, 1024};
      for (int64_t n : {4, 6, 8, 12, 16, 20, 24, 32})
        for (PanelMode mode : {PanelMode::never, PanelMode::always})
          configure(benchmark::RegisterBenchmark(
              ("matmul_expert/" + std::string(isa) + "/" + std::string(slm::dtype_name(type)) + "/512x1024/" +
               (mode == PanelMode::always ? "panels" : "tiles") + "/tokens:" + std::to_string(n))
                  .c_str(),
              run_matmul, table, type, shape, n, shape.rows, 1, mode));
    }
  }
  // Whole matrices from DRAM at the token counts of several sequences decoding together (one token
  // each per step), on the active level and 2 threads, with the graph's choice of path: where a step
  // of N sequences stops costing one weight stream and becomes compute.
  for (DType type : {DType::Q4_0, DType::Q4_K, DType::Q6_K})
    for (int64_t n : {1, 4, 8, 16, 32}) {
      const Shape shape{2048, 8192};
      configure(benchmark::RegisterBenchmark(("matmul_tokens/" + std::string(slm::dtype_name(type)) + "/2048x8192/tokens:" +
                                              std::to_string(n) + "/threads:2")
                                                 .c_str(),
                                             run_matmul, &kn::active(), type, shape, n, shape.rows, 2, PanelMode::automatic));
    }
  for (int32_t tokens : {8, 1})
    configure(benchmark::RegisterBenchmark(("attention/f16/depth:2000/tokens:" + std::to_string(tokens)).c_str(),
                                           run_attention, 2000, tokens));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
