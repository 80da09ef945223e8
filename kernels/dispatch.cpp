// Choosing the kernel table: what the CPU supports (CPUID + XGETBV on x86, hwcaps on aarch64), which
// levels this build compiled, SLM_ISA, and the composition of a level's table over the ones below.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels/isa_tables.h"
#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define SLM_KERNELS_X86 1
#if defined(__GNUC__)
#include <cpuid.h>
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
#define SLM_KERNELS_ARM64 1
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#endif

namespace slm::kernels {
namespace {

// ---- levels ------------------------------------------------------------------------------------

bool runs_scalar(const CpuFeatures&) { return true; }
// What kernels/x86/*_avx2.cpp may use (cmake/SlmOptions.cmake: -mavx2 -mfma -mf16c -mbmi2; BMI2
// comes with every AVX2 CPU).
bool runs_avx2(const CpuFeatures& f) { return f.avx2 && f.fma && f.f16c; }
// What kernels/x86/*_avx512.cpp may use: F, BW, VL, VBMI, VNNI and BF16 (Zen 4, Sapphire Rapids and later).
bool runs_avx512(const CpuFeatures& f) {
  return runs_avx2(f) && f.avx512f && f.avx512bw && f.avx512vl && f.avx512vbmi && f.avx512vnni &&
         f.avx512bf16;
}
// What kernels/arm/*_neon.cpp may use: -march=armv8.2-a+dotprod+fp16.
bool runs_neon(const CpuFeatures& f) { return f.neon && f.dotprod && f.fp16; }

struct KnownLevel {
  std::string_view name;
  bool (*runnable)(const CpuFeatures&);
};
// Every level SLM_ISA may name, lowest first.
constexpr std::array<KnownLevel, 4> kKnownLevels = {{
    {"scalar", runs_scalar},
    {"avx2", runs_avx2},
    {"avx512", runs_avx512},
    {"neon", runs_neon},
}};

struct CompiledLevel {
  std::string_view name;  // one of kKnownLevels
  const KernelTable& (*table)();
};
// The levels with tables in this build, lowest first, each composed over the ones before it.
// Adding a level is one line here, e.g. {"avx2", avx2_table} under SLM_KERNELS_X86.
constexpr CompiledLevel kCompiledLevels[] = {
    {"scalar", scalar_table},
#if defined(SLM_KERNELS_X86)
    {"avx2", avx2_table},
    {"avx512", avx512_table},
#endif
#if defined(SLM_KERNELS_ARM64)
    {"neon", neon_table},
#endif
};

const KnownLevel* find_known(std::string_view name) {
  for (const auto& level : kKnownLevels)
    if (level.name == name) return &level;
  return nullptr;
}

// Entries `over` provides replace those of `base`; the rest stay. Listing every field by hand is
// deliberate; the assert below trips when a field is added without being listed here.
static_assert(sizeof(KernelTable) == sizeof(void*) * (1 + 3 * kDTypeSlots + 22),
              "KernelTable changed: update overlay()");
KernelTable overlay(const KernelTable& base, const KernelTable& over) {
  KernelTable t = base;
  t.isa = over.isa;
  for (size_t i = 0; i < kDTypeSlots; ++i) {
    if (over.matmul[i]) t.matmul[i] = over.matmul[i];
    if (over.quantize_act[i]) t.quantize_act[i] = over.quantize_act[i];
    if (over.matmul_panels[i]) t.matmul_panels[i] = over.matmul_panels[i];
  }
  if (over.pack_panel) t.pack_panel = over.pack_panel;
  if (over.panel_min_tokens) t.panel_min_tokens = over.panel_min_tokens;
  if (over.matvec_row_group) t.matvec_row_group = over.matvec_row_group;
  if (over.load_layout) t.load_layout = over.load_layout;
  if (over.rmsnorm) t.rmsnorm = over.rmsnorm;
  if (over.softmax) t.softmax = over.softmax;
  if (over.silu_mul) t.silu_mul = over.silu_mul;
  if (over.gelu_tanh_mul) t.gelu_tanh_mul = over.gelu_tanh_mul;
  if (over.rope) t.rope = over.rope;
  if (over.dot_f16_f32) t.dot_f16_f32 = over.dot_f16_f32;
  if (over.axpy_f16_f32) t.axpy_f16_f32 = over.axpy_f16_f32;
  if (over.f32_to_f16_row) t.f32_to_f16_row = over.f32_to_f16_row;
  if (over.f16_to_f32_row) t.f16_to_f32_row = over.f16_to_f32_row;
  if (over.exp_f32) t.exp_f32 = over.exp_f32;
  if (over.softmax_factors) t.softmax_factors = over.softmax_factors;
  if (over.mad_f16) t.mad_f16 = over.mad_f16;
  if (over.scale_f16) t.scale_f16 = over.scale_f16;
  if (over.dot_f16_rows) t.dot_f16_rows = over.dot_f16_rows;
  if (over.mad_f16_rows) t.mad_f16_rows = over.mad_f16_rows;
  if (over.dot_f16_rows_multi) t.dot_f16_rows_multi = over.dot_f16_rows_multi;
  if (over.mad_f16_rows_multi) t.mad_f16_rows_multi = over.mad_f16_rows_multi;
  if (over.axpy_f16_rows_multi) t.axpy_f16_rows_multi = over.axpy_f16_rows_multi;
  return t;
}

constexpr size_t kMaxLevels = std::size(kCompiledLevels);

// The composed tables of the levels this machine runs, lowest first; built once.
struct RunnableTables {
  std::array<KernelTable, kMaxLevels> tables{};
  std::array<std::string_view, kMaxLevels> names{};
  size_t count = 0;
};

const RunnableTables& runnable_tables() {
  static const RunnableTables result = [] {
    RunnableTables r;
    const CpuFeatures features = cpu_features();
    const KernelTable* below = nullptr;
    for (const auto& level : kCompiledLevels) {
      const KnownLevel* known = find_known(level.name);
      if (!known || !known->runnable(features) || r.count == kMaxLevels) continue;
      KernelTable& t = r.tables[r.count];
      t = below ? overlay(*below, level.table()) : level.table();
      r.names[r.count] = level.name;
      below = &t;
      ++r.count;
    }
    return r;
  }();
  return result;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

#if defined(SLM_KERNELS_X86) && defined(__GNUC__)
uint64_t read_xcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

}  // namespace

CpuFeatures cpu_features() {
  CpuFeatures f;
#if defined(SLM_KERNELS_X86) && defined(__GNUC__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  const bool avx = c & (1u << 28);
  const bool fma = c & (1u << 12);
  const bool f16c = c & (1u << 29);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;        // XMM and YMM state saved by the OS
  const bool os_avx512 = (xcr0 & 0xE6) == 0xE6;   // and opmask, ZMM0-15 upper, ZMM16-31
  if (!os_avx) return f;
  f.fma = fma;
  f.f16c = f16c;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = b & (1u << 5);
    if (os_avx512) {
      f.avx512f = b & (1u << 16);
      f.avx512bw = b & (1u << 30);
      f.avx512vl = b & (1u << 31);
      f.avx512vnni = c & (1u << 11);
      f.avx512vbmi = c & (1u << 1);
      unsigned a1, b1, c1, d1;
      if (a >= 1 && __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) f.avx512bf16 = a1 & (1u << 5);
    }
  }
#elif defined(SLM_KERNELS_ARM64)
#if defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP);
  f.neon = hw & (1ul << 1);      // HWCAP_ASIMD
  f.fp16 = hw & (1ul << 10);     // HWCAP_ASIMDHP
  f.dotprod = hw & (1ul << 20);  // HWCAP_ASIMDDP
#else
  // No portable runtime query elsewhere (macOS, Windows): trust what the compiler was told.
  f.neon = true;
#if defined(__ARM_FEATURE_DOTPROD)
  f.dotprod = true;
#endif
#if defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
  f.fp16 = true;
#endif
#endif
#endif
  return f;
}

std::vector<std::string_view> available_isas() {
  const auto& r = runnable_tables();
  return {r.names.begin(), r.names.begin() + static_cast<std::ptrdiff_t>(r.count)};
}

const KernelTable* table_for(std::string_view isa) {
  const auto& r = runnable_tables();
  for (size_t i = 0; i < r.count; ++i)
    if (r.names[i] == isa) return &r.tables[i];
  return nullptr;
}

IsaChoice choose_isa(const char* requested, std::span<const std::string_view> available) {
  const std::string_view best = available.empty() ? std::string_view("scalar") : available.back();
  if (requested == nullptr || *requested == '\0') return {best, {}};
  const std::string name = lowercase(requested);
  for (std::string_view isa : available)
    if (isa == name) return {isa, {}};
  std::string why;
  if (find_known(name)) {
    why = "SLM_ISA=" + std::string(requested) + " is not available on this machine (CPU or build)";
  } else {
    why = "SLM_ISA=" + std::string(requested) + " is not a known level (scalar, avx2, avx512, neon)";
  }
  return {best, why + "; using " + std::string(best)};
}

const KernelTable& active() {
  static const KernelTable* chosen = [] {
    const auto available = available_isas();
    const IsaChoice choice = choose_isa(std::getenv("SLM_ISA"), available);
    if (!choice.warning.empty()) std::fprintf(stderr, "slm: warning: %s\n", choice.warning.c_str());
    return table_for(choice.isa);
  }();
  return *chosen;
}

}  // namespace slm::kernels
