// The fused loss kernels of lib/kernel_table.h (sparse and dense softmax cross-entropy, sigmoid
// cross-entropy, top-k count) on every backend and target, against long double references written
// here from the contracts: random rows of every scale, row lengths around the lane counts and
// long rows, strided and misaligned buffers whose gaps must stay untouched, label smoothing 0, 0.1
// and 1, in-place gradients, special values, and gradients against central finite differences.
//
// Tolerances (LossBounds): a loss within `relative` |loss| + `absolute` max(1, sum of targets), the
// absolute part for losses near 0, where the logarithm of a sum close to 1 can only be absolute
// accurate; a gradient element within `relative` |grad| + `absolute` |scale| max(1, sum of
// targets) (divided by cols for the sigmoid loss, whose gradient carries that factor). The sigmoid
// loss is a mean of terms that are never negative: relative only.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "lib/kernel_table.h"
#include "test_support.h"

namespace simdiff_test {
namespace {

using simdiff::MatrixShape;

template <class T>
const simdiff::detail::TypedKernels<T>& kernels() {
  return simdiff::detail::active_kernels().of<T>();
}

template <class T>
struct LossBounds;

template <>
struct LossBounds<float> {
  static constexpr double relative = 1e-6;
  static constexpr double absolute = 1e-6;
};

template <>
struct LossBounds<double> {
  static constexpr double relative = 1e-13;
  static constexpr double absolute = 1e-13;
};

// ---------------------------------------------------------------------------------------------
// References (long double), from the contracts in lib/kernel_table.h

/// t x, but 0 for t = 0 and any x other than NaN: a zero-weight term contributes nothing.
Real weighted(Real t, Real x) { return t == 0 && !std::isnan(x) ? 0 : t * x; }

struct RowReference {
  Real loss = 0;
  std::vector<Real> grad;
  Real target_sum = 1;  // sum of the smoothed targets (1 for the sparse loss)
};

struct RowSummary {
  bool has_nan = false;
  bool has_positive_infinity = false;
  Real max = -kInf;
};

template <class T>
RowSummary summarize(std::span<const T> x) {
  RowSummary s;
  for (const T v : x) {
    s.has_nan = s.has_nan || std::isnan(v);
    s.has_positive_infinity = s.has_positive_infinity || v == std::numeric_limits<T>::infinity();
    if (v > s.max) s.max = v;
  }
  return s;
}

/// softmax(x) - target = p - target. Rows with a NaN, a +inf, or only -inf have NaN gradients
/// (softmax of such rows is NaN, as in PyTorch).
template <class T>
bool softmax_defined(const RowSummary& s) {
  return !s.has_nan && !s.has_positive_infinity && s.max != -kInf;
}

template <class T>
RowReference reference_sparse(std::span<const T> x, std::int64_t label, Real scale, Real s) {
  const std::size_t n = x.size();
  RowReference ref;
  if (label < 0) {
    ref.grad.assign(n, 0);
    return ref;
  }
  const auto l = static_cast<std::size_t>(label);
  const Real keep = 1 - s;
  const Real uniform = s / Real(n);
  const RowSummary summary = summarize(x);
  ref.grad.assign(n, kNaN);
  if (!softmax_defined<T>(summary)) {
    // loss = lse - keep x_l - uniform sum x with lse NaN (NaN, all -inf) or +inf.
    const Real lse = summary.has_nan || !summary.has_positive_infinity ? kNaN : kInf;
    Real target_term = weighted(keep, x[l]);
    for (const T v : x) target_term += weighted(uniform, v);
    ref.loss = lse - target_term;
    return ref;
  }
  const Real m = summary.max;
  Real sum = 0;
  for (const T v : x) sum += exp_or_zero(Real(v) - m);
  // lse - x_c = log(sum) + (max - x_c): exact in long double even for huge logits.
  ref.loss = std::log(sum) + weighted(keep, m - Real(x[l]));
  for (const T v : x) ref.loss += weighted(uniform, m - Real(v));
  for (std::size_t c = 0; c < n; ++c) {
    const Real p = exp_or_zero(Real(x[c]) - m) / sum;
    ref.grad[c] = scale * (p - (c == l ? keep : 0) - uniform);
  }
  return ref;
}

template <class T>
RowReference reference_dense(std::span<const T> x, std::span<const T> t, Real scale, Real s) {
  const std::size_t n = x.size();
  RowReference ref;
  const Real uniform = s / Real(n);
  std::vector<Real> smoothed(n);
  Real target_sum = 0;
  for (std::size_t c = 0; c < n; ++c) {
    smoothed[c] = (1 - s) * Real(t[c]) + uniform;
    target_sum += smoothed[c];
  }
  ref.target_sum = target_sum;
  const RowSummary summary = summarize(x);
  ref.grad.assign(n, kNaN);
  if (!softmax_defined<T>(summary)) {
    const Real lse = summary.has_nan || !summary.has_positive_infinity ? kNaN : kInf;
    ref.loss = weighted(target_sum, lse);
    for (std::size_t c = 0; c < n; ++c) ref.loss -= weighted(smoothed[c], x[c]);
    return ref;
  }
  const Real m = summary.max;
  Real sum = 0;
  for (const T v : x) sum += exp_or_zero(Real(v) - m);
  ref.loss = weighted(target_sum, std::log(sum));
  for (std::size_t c = 0; c < n; ++c) ref.loss += weighted(smoothed[c], m - Real(x[c]));
  for (std::size_t c = 0; c < n; ++c) {
    const Real p = exp_or_zero(Real(x[c]) - m) / sum;
    ref.grad[c] = scale * (p * target_sum - smoothed[c]);
  }
  return ref;
}

template <class T>
RowReference reference_binary(std::span<const T> x, std::span<const T> t, Real scale, Real s) {
  const std::size_t n = x.size();
  RowReference ref;
  ref.grad.resize(n);
  Real sum = 0;
  for (std::size_t c = 0; c < n; ++c) {
    const Real v = x[c];
    const Real target = (1 - s) * Real(t[c]) + s / 2;
    if (std::isnan(v)) {
      sum = kNaN;
      ref.grad[c] = kNaN;
      continue;
    }
    // max(v, 0) - v t: v (1 - t) above 0, -v t below; zero weights give 0 at infinite v.
    const Real linear = v >= 0 ? weighted(1 - target, v) : weighted(target, -v);
    sum += linear + std::log1p(exp_or_zero(-std::fabs(v)));
    ref.grad[c] = scale / Real(n) * (reference_sigmoid(v) - target);
  }
  ref.loss = sum / Real(n);
  return ref;
}

// ---------------------------------------------------------------------------------------------
// Cases: inputs, and the expected results computed once for every target

enum class Loss { sparse, dense, binary };

const char* name_of(Loss loss) {
  switch (loss) {
    case Loss::sparse:
      return "sparse_softmax_cross_entropy";
    case Loss::dense:
      return "softmax_cross_entropy";
    case Loss::binary:
      return "sigmoid_cross_entropy";
  }
  return "";
}

template <class T>
struct LossCase {
  Loss loss = Loss::sparse;
  MatrixShape shape;
  std::size_t misalign = 0;
  T smoothing = 0;
  std::vector<T> x;                     // rows x cols, row-major
  std::vector<T> targets;               // rows x cols (dense, binary)
  std::vector<std::int64_t> labels;     // rows (sparse)
  std::vector<T> scale;                 // rows
  std::vector<Expected> loss_expected;  // rows
  std::vector<Expected> grad_expected;  // rows x cols

  std::span<const T> row(std::size_t r) const {
    return std::span<const T>(x).subspan(r * shape.cols, shape.cols);
  }
  std::span<const T> target_row(std::size_t r) const {
    return std::span<const T>(targets).subspan(r * shape.cols, shape.cols);
  }
};

template <class T>
void compute_expectations(LossCase<T>& c) {
  const std::size_t cols = c.shape.cols;
  c.loss_expected.clear();
  c.grad_expected.clear();
  for (std::size_t r = 0; r < c.shape.rows; ++r) {
    RowReference ref;
    Real loss_absolute = LossBounds<T>::absolute;
    switch (c.loss) {
      case Loss::sparse:
        ref = reference_sparse(c.row(r), c.labels[r], c.scale[r], c.smoothing);
        break;
      case Loss::dense:
        ref = reference_dense(c.row(r), c.target_row(r), c.scale[r], c.smoothing);
        loss_absolute *= std::max(Real(1), std::fabs(ref.target_sum));
        break;
      case Loss::binary:
        ref = reference_binary(c.row(r), c.target_row(r), c.scale[r], c.smoothing);
        loss_absolute = 0;
        break;
    }
    const double loss_tolerance =
        static_cast<double>(loss_absolute + LossBounds<T>::relative * std::fabs(ref.loss));
    // A result that underflows in T may come out as 0.
    const double loss_floor = static_cast<double>(std::numeric_limits<T>::min());
    c.loss_expected.push_back(expect<T>(ref.loss, std::max(loss_tolerance, loss_floor)));
    Real grad_absolute = LossBounds<T>::absolute * std::fabs(Real(c.scale[r])) *
                         std::max(Real(1), std::fabs(ref.target_sum));
    if (c.loss == Loss::binary) grad_absolute /= Real(cols);
    for (std::size_t col = 0; col < cols; ++col) {
      const Real g = ref.grad[col];
      c.grad_expected.push_back(expect<T>(
          g, static_cast<double>(grad_absolute + LossBounds<T>::relative * std::fabs(g))));
    }
  }
}

/// Random logits from `dataset`, labels (some ignored), soft targets and per-row scales.
template <class T>
LossCase<T> make_random_case(Loss loss, const Dataset& dataset, MatrixShape shape,
                             std::size_t misalign, T smoothing, std::uint64_t seed) {
  LossCase<T> c;
  c.loss = loss;
  c.shape = shape;
  c.misalign = misalign;
  c.smoothing = smoothing;
  const std::size_t rows = shape.rows;
  const std::size_t cols = shape.cols;
  c.x = random_rows<T>(dataset, rows, cols, seed);
  std::mt19937_64 engine(seed ^ 0x5eed);
  std::uniform_real_distribution<double> unit(0, 1);
  for (std::size_t r = 0; r < rows; ++r) {
    // Every fifth row ignored (sparse), the others a random class.
    c.labels.push_back(r % 5 == 3 ? -1 : static_cast<std::int64_t>(engine() % cols));
    c.scale.push_back(static_cast<T>(0.25 + 2 * unit(engine)));
  }
  c.targets.resize(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) {
    const std::span<T> t(c.targets.data() + r * cols, cols);
    if (loss == Loss::binary) {
      // Hard 0/1 targets on even rows, probabilities on odd ones.
      for (T& v : t) v = r % 2 == 0 ? static_cast<T>(engine() % 2) : static_cast<T>(unit(engine));
      continue;
    }
    // Dense: a one-hot row, a distribution with zeros, or a full distribution.
    std::fill(t.begin(), t.end(), T(0));
    if (r % 3 == 0) {
      t[engine() % cols] = 1;
    } else {
      double total = 0;
      std::vector<double> weights(cols);
      for (std::size_t col = 0; col < cols; ++col) {
        weights[col] = r % 3 == 1 && col % 2 == 1 ? 0.0 : unit(engine);
        total += weights[col];
      }
      for (std::size_t col = 0; col < cols; ++col) {
        t[col] = static_cast<T>(total > 0 ? weights[col] / total : 0.0);
      }
    }
  }
  compute_expectations(c);
  return c;
}

// ---------------------------------------------------------------------------------------------
// Running a case on the selected target

enum class GradMode { none, separate, in_place };

template <class T>
std::string describe_case(const LossCase<T>& c) {
  std::ostringstream out;
  out << name_of(c.loss) << ' ' << type_name<T>() << ", shape " << describe(c.shape)
      << ", misaligned by " << c.misalign << ", smoothing " << c.smoothing;
  return out.str();
}

template <class T>
void run_case(const LossCase<T>& c, GradMode mode) {
  const MatrixShape shape = c.shape;
  const std::size_t rows = shape.rows;
  const std::size_t cols = shape.cols;
  const GuardedMatrix<T> x(shape, c.misalign, c.x);
  const GuardedMatrix<T> targets(shape, c.misalign + 1, c.loss == Loss::sparse ? c.x : c.targets);
  GuardedMatrix<T> x_work(x);
  const GuardedMatrix<T> targets_work(targets);
  // The gradient buffer starts as NaN-free garbage (1.5): a kernel must write every element.
  GuardedMatrix<T> grad(shape, c.misalign + 2, std::vector<T>(rows * cols, T(1.5)));
  const GuardedMatrix<T> grad_before(grad);
  GuardedMatrix<T> loss({1, rows, 0}, 3, std::vector<T>(rows, T(1.5)));
  const GuardedMatrix<T> scale({1, rows, 0}, 0, c.scale);
  T* grad_data = nullptr;
  if (mode == GradMode::separate) grad_data = grad.span().data();
  if (mode == GradMode::in_place) grad_data = x_work.span().data();
  const T* scale_data = mode == GradMode::none ? nullptr : scale.cspan().data();
  const T* x_data = x_work.span().data();
  const auto& k = kernels<T>();
  switch (c.loss) {
    case Loss::sparse:
      k.sparse_softmax_cross_entropy(x_data, c.labels.data(), scale_data, c.smoothing,
                                     loss.span().data(), grad_data, rows, cols, shape.row_stride());
      break;
    case Loss::dense:
      k.softmax_cross_entropy(x_data, targets_work.cspan().data(), scale_data, c.smoothing,
                              loss.span().data(), grad_data, rows, cols, shape.row_stride());
      break;
    case Loss::binary:
      k.sigmoid_cross_entropy(x_data, targets_work.cspan().data(), scale_data, c.smoothing,
                              loss.span().data(), grad_data, rows, cols, shape.row_stride());
      break;
  }
  const char* mode_name = mode == GradMode::none       ? " forward"
                          : mode == GradMode::separate ? " forward+backward"
                                                       : " forward+backward in place";
  const std::string what = std::string(name_of(c.loss)) + ' ' + type_name<T>();
  {
    Comparison comparison(what + " loss");
    for (std::size_t r = 0; r < rows; ++r) {
      comparison.check(c.loss_expected[r], loss.at(0, r), [&] {
        std::ostringstream out;
        out << describe_case(c) << mode_name << ", row " << r << " loss, "
            << (c.loss == Loss::sparse ? "label " + std::to_string(c.labels[r]) + ", " : "")
            << describe_row(c.row(r));
        return out.str();
      });
    }
  }
  if (mode != GradMode::none) {
    const GuardedMatrix<T>& out = mode == GradMode::separate ? grad : x_work;
    Comparison comparison(what + " gradient");
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t col = 0; col < cols; ++col) {
        comparison.check(c.grad_expected[r * cols + col], out.at(r, col), [&] {
          std::ostringstream out_text;
          out_text << describe_case(c) << mode_name << ", row " << r << " column " << col
                   << " gradient, scale " << c.scale[r] << ", "
                   << (c.loss == Loss::sparse ? "label " + std::to_string(c.labels[r]) + ", " : "")
                   << describe_row(c.row(r), col);
          return out_text.str();
        });
      }
    }
  }
  // Inputs unchanged (but for the in-place gradient), every gap and guard intact.
  if (mode != GradMode::in_place) {
    SIMDIFF_CHECK(x_work.bitwise_equal(x), describe_case(c) << mode_name << ": x was modified");
  }
  SIMDIFF_CHECK(targets_work.bitwise_equal(targets), describe_case(c)
                                                         << mode_name << ": targets were modified");
  check_sentinels(x_work, describe_case(c) + mode_name + ": x");
  check_sentinels(grad, describe_case(c) + mode_name + ": grad");
  check_sentinels(loss, describe_case(c) + mode_name + ": loss");
  if (mode != GradMode::separate) {
    // The gradient buffer was not passed: untouched.
    SIMDIFF_CHECK(grad.bitwise_equal(grad_before),
                  describe_case(c) << mode_name << ": grad written without being passed");
  }
}

template <class T>
void run_case_all_modes(const LossCase<T>& c) {
  for (const GradMode mode : {GradMode::none, GradMode::separate, GradMode::in_place}) {
    run_case(c, mode);
  }
}

constexpr Loss kLosses[] = {Loss::sparse, Loss::dense, Loss::binary};

template <class T>
std::vector<T> smoothings() {
  return {T(0), T(0.1), T(1)};
}

// Row lengths: 1..40, the lane counts +-1 of every target (2 to 16 lanes), two long rows.
std::vector<std::size_t> loss_lengths() {
  std::vector<std::size_t> lengths;
  for (std::size_t n = 1; n <= 40; ++n) lengths.push_back(n);
  for (const std::size_t n : {47, 48, 49, 63, 64, 65}) lengths.push_back(n);
  return lengths;
}

// Shapes for one row length: one dense aligned row, a strided misaligned batch, a larger batch.
struct BatchLayout {
  std::size_t rows;
  std::size_t extra_stride;
  std::size_t misalign;
};

const std::vector<BatchLayout> kBatchLayouts = {{1, 0, 0}, {5, 3, 1}, {33, 1, 3}};

BOOST_FIXTURE_TEST_SUITE(loss_kernels, ChecksResults)

BOOST_AUTO_TEST_CASE(random_rows_match_reference) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    const auto datasets = RowDatasets<T>().all();
    for (const Loss loss : kLosses) {
      for (const std::size_t cols : loss_lengths()) {
        for (std::size_t l = 0; l < kBatchLayouts.size(); ++l) {
          const BatchLayout& layout = kBatchLayouts[l];
          const MatrixShape shape{layout.rows, cols,
                                  layout.extra_stride == 0 ? 0 : cols + layout.extra_stride};
          // Every dataset on single rows; a rotating one on the batches (to bound the run time).
          for (std::size_t k = 0; k < datasets.size(); ++k) {
            if (layout.rows > 1 && k != (cols + l) % datasets.size()) continue;
            const Dataset& dataset = datasets[k];
            for (const T smoothing : smoothings<T>()) {
              const auto c = make_random_case<T>(loss, dataset, shape, layout.misalign, smoothing,
                                                 seed_of(dataset.name, cols, l));
              BOOST_TEST_CONTEXT(describe_case(c) << ", " << dataset.name) {
                for_each_target([&](const TargetUnderTest&) { run_case_all_modes(c); });
              }
            }
          }
        }
      }
    }
  });
}

BOOST_AUTO_TEST_CASE(long_rows_match_reference) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    const RowDatasets<T> all;
    // Scale 1, the whole exp range, [90, 100] (float exp overflows), and a huge spread.
    const std::vector<Dataset> datasets = {all.normal_1, all.exp_range, all.near_100,
                                           all.huge_spread};
    for (const Loss loss : kLosses) {
      for (const std::size_t cols : {std::size_t{1000}, std::size_t{4099}}) {
        for (const Dataset& dataset : datasets) {
          for (const T smoothing : smoothings<T>()) {
            const MatrixShape shape{3, cols, cols + 5};
            const auto c = make_random_case<T>(loss, dataset, shape, 1, smoothing,
                                               seed_of(dataset.name, cols, 7));
            BOOST_TEST_CONTEXT(describe_case(c) << ", " << dataset.name) {
              for_each_target([&](const TargetUnderTest&) { run_case_all_modes(c); });
            }
          }
        }
      }
    }
  });
}

// Batches of every size 1..33 with short and long rows: the row groups of the SIMD kernels.
BOOST_AUTO_TEST_CASE(every_batch_size_matches_reference) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    const Dataset dataset = RowDatasets<T>().normal_1;
    for (const Loss loss : kLosses) {
      for (const std::size_t cols : {std::size_t{10}, std::size_t{17}, std::size_t{300}}) {
        for (std::size_t rows = 1; rows <= 33; ++rows) {
          const auto c = make_random_case<T>(loss, dataset, {rows, cols, cols + 2}, 2, T(0.1),
                                             seed_of("batch", cols, rows));
          BOOST_TEST_CONTEXT(describe_case(c)) {
            for_each_target([&](const TargetUnderTest&) { run_case_all_modes(c); });
          }
        }
      }
    }
  });
}

// Dense (stride = cols) batches of many rows: the sigmoid loss computes the rows of a batch as one
// flat run of elements in groups of rows, whose gradient scale is applied in the run when every
// row of a group has the same scale and per row otherwise. Scales: all equal, and for the sigmoid
// loss also equal in runs that straddle the groups, and all different.
BOOST_AUTO_TEST_CASE(dense_batches_match_reference) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    const Dataset dataset = RowDatasets<T>().normal_1;
    for (const Loss loss : kLosses) {
      for (const std::size_t cols : {1, 2, 3, 7, 8, 9, 16, 17, 33, 255, 256, 257}) {
        // At least two groups of the widest vectors (2048 elements for SVE at 2048 bits).
        const std::size_t rows = std::max<std::size_t>(5, 4500 / cols + 3);
        for (const std::size_t run : {rows, std::size_t{37}, std::size_t{1}}) {
          // Only the sigmoid loss treats equal scales differently.
          if (loss != Loss::binary && run != rows) continue;
          auto c = make_random_case<T>(loss, dataset, {rows, cols, 0}, 1, T(0.1),
                                       seed_of("dense batch", cols, run));
          for (std::size_t r = 0; r < rows; ++r) c.scale[r] = c.scale[r - r % run];
          compute_expectations(c);
          BOOST_TEST_CONTEXT(describe_case(c) << ", scales equal in runs of " << run << " rows") {
            for_each_target([&](const TargetUnderTest&) { run_case_all_modes(c); });
          }
        }
      }
    }
  });
}

// Rows with NaN, +-inf and huge logits, the special entry at the label or elsewhere, in short and
// long rows; the results must follow the contract's special values exactly.
template <class T>
std::vector<std::vector<T>> special_rows(std::size_t cols) {
  constexpr T inf = std::numeric_limits<T>::infinity();
  constexpr T nan = std::numeric_limits<T>::quiet_NaN();
  const T big = T(1e30);
  std::vector<std::vector<T>> out;
  const auto base = [&] {
    std::vector<T> row(cols);
    for (std::size_t c = 0; c < cols; ++c) row[c] = T(0.25) * T(c % 7) - T(0.5);
    return row;
  };
  const std::vector<std::size_t> positions = {0, cols / 2, cols - 1};
  for (const T special : {nan, inf, -inf, big, -big}) {
    for (const std::size_t p : positions) {
      auto row = base();
      row[p] = special;
      out.push_back(row);
    }
  }
  // Several specials in one row, and rows made of them.
  auto mixed = base();
  mixed[0] = -inf;
  mixed[cols - 1] = big;
  out.push_back(mixed);
  auto huge_spread = base();
  huge_spread[0] = big;
  huge_spread[cols - 1] = -big;
  out.push_back(huge_spread);
  out.push_back(std::vector<T>(cols, -inf));
  out.push_back(std::vector<T>(cols, inf));
  out.push_back(std::vector<T>(cols, big));
  out.push_back(std::vector<T>(cols, -big));
  auto inf_and_minus_inf = std::vector<T>(cols, -inf);
  inf_and_minus_inf[cols / 2] = inf;
  out.push_back(inf_and_minus_inf);
  auto nan_and_inf = base();
  nan_and_inf[0] = inf;
  nan_and_inf[cols - 1] = nan;
  out.push_back(nan_and_inf);
  // A spread beyond the largest finite number: x - max overflows unless formed with care. (Not
  // +-max itself: losses of about max would sit on the overflow threshold, where a relative
  // error decides between max and inf.)
  auto extreme = base();
  extreme[0] = T(0.75) * std::numeric_limits<T>::max();
  extreme[cols - 1] = T(0.75) * std::numeric_limits<T>::lowest();
  out.push_back(extreme);
  return out;
}

BOOST_AUTO_TEST_CASE(special_values_follow_the_contract) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    for (const std::size_t cols : {std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{11},
                                   std::size_t{40}, std::size_t{1000}}) {
      const auto rows = special_rows<T>(cols);
      for (const Loss loss : kLosses) {
        for (const T smoothing : smoothings<T>()) {
          LossCase<T> c;
          c.loss = loss;
          c.shape = {rows.size(), cols, cols + 1};
          c.misalign = 1;
          c.smoothing = smoothing;
          for (std::size_t r = 0; r < rows.size(); ++r) {
            c.x.insert(c.x.end(), rows[r].begin(), rows[r].end());
            // The label on the special entry or beside it; targets one-hot there or spread.
            const std::size_t label = (r * 5) % cols;
            c.labels.push_back(static_cast<std::int64_t>(label));
            c.scale.push_back(T(1));
            for (std::size_t col = 0; col < cols; ++col) {
              const T hot = col == label ? T(1) : T(0);
              c.targets.push_back(r % 2 == 0 ? hot : T(1) / T(cols));
            }
          }
          compute_expectations(c);
          BOOST_TEST_CONTEXT(describe_case(c)) {
            for_each_target([&](const TargetUnderTest&) { run_case_all_modes(c); });
          }
        }
      }
    }
  });
}

// Every weight of a dense or binary row 0 (no smoothing): 0 * inf terms must vanish.
BOOST_AUTO_TEST_CASE(zero_targets_give_zero_terms_at_infinite_logits) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    constexpr T inf = std::numeric_limits<T>::infinity();
    for (const std::size_t cols : {std::size_t{5}, std::size_t{40}}) {
      for (const Loss loss : {Loss::dense, Loss::binary}) {
        LossCase<T> c;
        c.loss = loss;
        c.shape = {2, cols, 0};
        c.smoothing = 0;
        for (std::size_t r = 0; r < 2; ++r) {
          for (std::size_t col = 0; col < cols; ++col) {
            // Row 0: -inf where the (dense) target is 0; row 1: +-inf where the binary weight
            // of the infinite side is 0 (x = +inf with t = 1, x = -inf with t = 0).
            const bool hot = col == 1;
            if (loss == Loss::dense) {
              c.x.push_back(hot ? T(2) : (col % 2 == 0 ? -inf : T(col)));
              c.targets.push_back(hot ? T(1) : T(0));
            } else {
              c.x.push_back(col % 2 == 0 ? inf : -inf);
              c.targets.push_back(col % 2 == 0 ? T(1) : T(0));
            }
          }
          c.labels.push_back(1);
          c.scale.push_back(T(0.5));
        }
        compute_expectations(c);
        BOOST_TEST_CONTEXT(describe_case(c)) {
          for_each_target([&](const TargetUnderTest&) { run_case_all_modes(c); });
        }
      }
    }
  });
}

// The gradient is the derivative of sum_r scale[r] loss[r]: central differences in double.
BOOST_AUTO_TEST_CASE(gradients_match_finite_differences) {
  for (const Loss loss : kLosses) {
    for (const MatrixShape shape : {MatrixShape{1, 1, 0}, MatrixShape{3, 5, 0},
                                    MatrixShape{2, 17, 19}, MatrixShape{1, 40, 0}}) {
      const auto c = make_random_case<double>(loss, RowDatasets<double>().normal_1, shape, 0, 0.1,
                                              seed_of("finite differences", shape.cols));
      BOOST_TEST_CONTEXT(describe_case(c)) {
        for_each_target([&](const TargetUnderTest&) {
          const std::size_t rows = shape.rows;
          const std::size_t cols = shape.cols;
          const std::size_t stride = shape.row_stride();
          std::vector<double> x((rows - 1) * stride + cols, 0.0);
          for (std::size_t r = 0; r < rows; ++r) {
            std::copy_n(c.x.data() + r * cols, cols, x.data() + r * stride);
          }
          std::vector<double> targets(x.size(), 0.0);
          for (std::size_t r = 0; r < rows; ++r) {
            std::copy_n(c.targets.data() + r * cols, cols, targets.data() + r * stride);
          }
          std::vector<double> loss_values(rows);
          const auto& k = kernels<double>();
          const auto run = [&](double* grad) {
            switch (loss) {
              case Loss::sparse:
                k.sparse_softmax_cross_entropy(x.data(), c.labels.data(), c.scale.data(), 0.1,
                                               loss_values.data(), grad, rows, cols, stride);
                break;
              case Loss::dense:
                k.softmax_cross_entropy(x.data(), targets.data(), c.scale.data(), 0.1,
                                        loss_values.data(), grad, rows, cols, stride);
                break;
              case Loss::binary:
                k.sigmoid_cross_entropy(x.data(), targets.data(), c.scale.data(), 0.1,
                                        loss_values.data(), grad, rows, cols, stride);
                break;
            }
            double total = 0;
            for (std::size_t r = 0; r < rows; ++r) total += c.scale[r] * loss_values[r];
            return total;
          };
          std::vector<double> grad(x.size(), 0.0);
          run(grad.data());
          Comparison comparison(std::string(name_of(loss)) + " double gradient vs differences");
          for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t col = 0; col < cols; ++col) {
              double& v = x[r * stride + col];
              const double saved = v;
              const double h = 1e-5;
              v = saved + h;
              const double up = run(nullptr);
              v = saved - h;
              const double down = run(nullptr);
              v = saved;
              const double difference = (up - down) / (2 * h);
              // O(h^2) truncation and (loss rounding) / h: about 1e-10 here.
              comparison.check(expect<double>(difference, 1e-7 + 1e-7 * std::fabs(difference)),
                               grad[r * stride + col], [&] {
                                 return describe_case(c) + ", row " + std::to_string(r) +
                                        " column " + std::to_string(col);
                               });
            }
          }
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// count_greater

template <class T>
void check_count_greater(const std::vector<T>& values, const std::vector<T>& thresholds,
                         MatrixShape shape, std::size_t misalign, const std::string& what) {
  const std::size_t rows = shape.rows;
  const std::size_t cols = shape.cols;
  const GuardedMatrix<T> x(shape, misalign, values);
  std::vector<std::size_t> counts(rows + 2, 0xa5a5);
  kernels<T>().count_greater(x.cspan().data(), thresholds.data(), counts.data() + 1, rows, cols,
                             shape.row_stride());
  Comparison comparison(std::string("count_greater ") + type_name<T>());
  for (std::size_t r = 0; r < rows; ++r) {
    std::size_t expected = cols;
    if (!std::isnan(thresholds[r])) {
      expected = 0;
      for (std::size_t c = 0; c < cols; ++c) expected += values[r * cols + c] > thresholds[r];
    }
    comparison.check_equal(expected, counts[r + 1], [&] {
      return what + ", row " + std::to_string(r) + ", threshold " + describe_value(thresholds[r]) +
             ", " + describe_row(std::span<const T>(values).subspan(r * cols, cols));
    });
  }
  SIMDIFF_CHECK(counts.front() == 0xa5a5 && counts.back() == 0xa5a5,
                what << ": counts written outside the rows");
  check_sentinels(x, what + ": x");
}

BOOST_AUTO_TEST_CASE(count_greater_counts_entries_above_the_threshold) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    constexpr T inf = std::numeric_limits<T>::infinity();
    constexpr T nan = std::numeric_limits<T>::quiet_NaN();
    std::vector<std::size_t> lengths = loss_lengths();
    lengths.push_back(1000);
    lengths.push_back(4099);
    for (const std::size_t cols : lengths) {
      const MatrixShape shape{7, cols, cols + 2};
      // Few distinct values, so that thresholds equal to entries (ties) are common.
      auto values = random_uniform<T>(T(-3), T(3), shape.rows * cols, seed_of("count", cols));
      for (T& v : values) v = std::round(v);
      values[0] = nan;
      values[values.size() / 2] = inf;
      values.back() = -inf;
      std::vector<T> thresholds;
      for (std::size_t r = 0; r < shape.rows; ++r) {
        thresholds.push_back(values[r * cols + (r * 3) % cols]);  // an entry of the row
      }
      thresholds[1] = nan;
      thresholds[2] = -inf;
      thresholds[3] = inf;
      for_each_target([&](const TargetUnderTest&) {
        check_count_greater(values, thresholds, shape, cols % 3, "cols " + std::to_string(cols));
      });
    }
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
