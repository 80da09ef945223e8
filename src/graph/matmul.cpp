#include "src/graph/matmul.h"

#include <algorithm>

#include "kernels/kernels.h"

namespace slm {

namespace {

// A distinct input of a call: one conversion, and one set of panels if any of its jobs runs them.
struct Input {
  const float* x;
  int64_t n;
  int64_t cols;
  DType act;
  size_t act_row = 0;     // bytes per converted token
  size_t act_off = 0;     // where its converted rows start in scratch.act
  bool panels = false;
  size_t panel_off = 0;   // where its panels start in scratch.panels
};

struct Plan {
  std::vector<Input> inputs;
  std::vector<size_t> input_of;  // job -> input
  std::vector<int64_t> token_begin, panel_begin, row_begin;  // prefix sums (size + 1)
};

// Enough chunks per thread to even out the tail, few enough to keep each chunk's rows streaming;
// a multiple of `group` rows (16, or a generation kernel's row group) so kernels see whole tiles.
int64_t row_grain(const ThreadPool& pool, int64_t rows, int64_t group) {
  const int64_t grain = rows / (pool.size() * 8);
  return std::max<int64_t>(group, (grain + group - 1) / group * group);
}

// Index i of the prefix array `begin` (ascending, begin[0] = 0) with begin[i] <= v < begin[i + 1].
size_t locate(const std::vector<int64_t>& begin, int64_t v) {
  return static_cast<size_t>(std::upper_bound(begin.begin(), begin.end(), v) - begin.begin()) - 1;
}

}  // namespace

void matmul(ThreadPool& pool, const MatView& w, const float* x, int64_t n, float* y, int64_t ldy,
            MatmulScratch& scratch) {
  const MatmulJob one[] = {{&w, x, n, y, ldy}};
  matmul_jobs(pool, one, scratch);
}

void matmul_jobs(ThreadPool& pool, std::span<const MatmulJob> jobs, MatmulScratch& scratch) {
  const kernels::KernelTable& k = kernels::active();
  Plan plan;
  plan.input_of.resize(jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    const MatmulJob& job = jobs[j];
    const DType act = kernels::activation_type(job.w->type);
    size_t i = 0;
    while (i < plan.inputs.size() && !(plan.inputs[i].x == job.x && plan.inputs[i].n == job.n &&
                                       plan.inputs[i].cols == job.w->cols && plan.inputs[i].act == act))
      ++i;
    if (i == plan.inputs.size()) plan.inputs.push_back(Input{job.x, job.n, job.w->cols, act});
    plan.input_of[j] = i;
    if (job.n >= k.panel_min_tokens && k.matmul_panels[kernels::slot(job.w->type)]) plan.inputs[i].panels = true;
  }

  // Layout of the converted inputs and their panels.
  size_t act_bytes = 0, panel_bytes = 0;
  plan.token_begin.assign(1, 0);
  plan.panel_begin.assign(1, 0);
  for (Input& in : plan.inputs) {
    in.act_row = static_cast<size_t>(*row_bytes(in.act, static_cast<uint64_t>(in.cols)));
    in.act_off = act_bytes;
    act_bytes += in.act_row * static_cast<size_t>(in.n);
    in.panel_off = panel_bytes;
    const int64_t panels = in.panels ? kernels::panel_count(in.n) : 0;
    panel_bytes += kernels::panel_bytes(in.cols) * static_cast<size_t>(panels);
    plan.token_begin.push_back(plan.token_begin.back() + in.n);
    plan.panel_begin.push_back(plan.panel_begin.back() + panels);
  }
  if (scratch.act.size() < act_bytes) scratch.act.resize(act_bytes);
  if (panel_bytes > 0 && scratch.panels.bytes.size() < panel_bytes + 64) scratch.panels.bytes.resize(panel_bytes + 64);

  // (1) Conversion, one task per token of any input.
  const int64_t tokens = plan.token_begin.back();
  pool.parallel_for(tokens, std::max<int64_t>(1, tokens / (pool.size() * 4)), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const size_t i = locate(plan.token_begin, t);
      const Input& in = plan.inputs[i];
      const int64_t r = t - plan.token_begin[i];
      k.quantize_act[kernels::slot(in.act)](in.x + r * in.cols,
                                            scratch.act.data() + in.act_off + in.act_row * static_cast<size_t>(r), in.cols);
    }
  });

  // (2) Panels, one task per panel of any input that needs them.
  const int64_t panels = plan.panel_begin.back();
  if (panels > 0) {
    uint8_t* out = scratch.panels.data();
    pool.parallel_for(panels, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const size_t i = locate(plan.panel_begin, p);
        const Input& in = plan.inputs[i];
        const int64_t local = p - plan.panel_begin[i];
        k.pack_panel(in.act, scratch.act.data() + in.act_off, in.act_row, in.cols, in.n, local,
                     out + in.panel_off + kernels::panel_bytes(in.cols) * static_cast<size_t>(local));
      }
    });
  }

  // (3) One dispatch over the rows of all the matrices, end to end; a chunk may span several.
  std::vector<kernels::MatmulArgs> args(jobs.size());
  std::vector<kernels::MatmulFn> fns(jobs.size());
  plan.row_begin.assign(1, 0);
  int64_t group = 16;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const MatmulJob& job = jobs[j];
    const Input& in = plan.inputs[plan.input_of[j]];
    const size_t s = kernels::slot(job.w->type);
    const bool use_panels = in.panels && k.matmul_panels[s];
    kernels::MatmulArgs& a = args[j];
    a.wtype = job.w->type;
    a.w = job.w->data;
    a.w_row_bytes = job.w->row_bytes;
    a.rows = job.w->rows;
    a.cols = job.w->cols;
    a.x = scratch.act.data() + in.act_off;
    a.x_row_bytes = in.act_row;
    a.xp = use_panels ? scratch.panels.data() + in.panel_off : nullptr;
    a.n_tokens = job.n;
    a.y = job.y;
    a.ldy = job.ldy;
    fns[j] = use_panels ? k.matmul_panels[s] : k.matmul[s];
    const int64_t rows = job.n > 0 ? job.w->rows : 0;
    if (rows > 0) scratch.weight_bytes += job.w->bytes();
    if (job.n == 1 && k.matvec_row_group) group = std::max(group, k.matvec_row_group(job.w->type, job.w->row_bytes));
    plan.row_begin.push_back(plan.row_begin.back() + rows);
  }
  const int64_t total = plan.row_begin.back();
  pool.parallel_for(total, row_grain(pool, total, group), [&](int64_t r0, int64_t r1) {
    for (size_t j = locate(plan.row_begin, r0); j < jobs.size() && plan.row_begin[j] < r1; ++j) {
      const int64_t lo = std::max(r0, plan.row_begin[j]), hi = std::min(r1, plan.row_begin[j + 1]);
      if (lo < hi) fns[j](args[j], lo - plan.row_begin[j], hi - plan.row_begin[j]);
    }
  });
}

}  // namespace slm
