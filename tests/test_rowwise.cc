// The forward row kernels (row_max, row_argmax, logsumexp, softmax, log_softmax and the in-place
// variants) against the long double reference, on random rows of every length and scale, dense
// and strided, aligned and misaligned, on every backend and target.
#include <string>
#include <vector>

#include "forward_case.h"
#include "test_support.h"

namespace simdiff_test {
namespace {

template <class T>
void sweep(const std::vector<Dataset>& datasets, const std::vector<std::size_t>& lengths,
           const std::vector<Layout>& layouts, Kernels kernels) {
  for (const Dataset& dataset : datasets) {
    for (const std::size_t cols : lengths) {
      for (std::size_t l = 0; l < layouts.size(); ++l) {
        const Layout& layout = layouts[l];
        const simdiff::MatrixShape shape = shape_of(layout, cols);
        BOOST_TEST_CONTEXT(dataset.name << ", shape " << describe(shape) << ", " << layout.name) {
          const auto c = make_forward_case(
              shape, layout.misalign,
              random_rows<T>(dataset, shape.rows, cols, seed_of(dataset.name, cols, l)));
          for_each_target([&](const TargetUnderTest&) { check_forward_kernels(c, kernels); });
        }
      }
    }
  }
}

BOOST_FIXTURE_TEST_SUITE(rowwise, ChecksResults)

BOOST_AUTO_TEST_CASE(short_rows_match_reference) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    sweep<T>(RowDatasets<T>().all(), short_lengths(), sweep_layouts(), Kernels::all);
  });
}

// Batches of rows, which the kernels may process in groups (the Highway kernels group up to 16
// rows): 37 rows leave a partial last group for every group size.
BOOST_AUTO_TEST_CASE(many_rows_match_reference) {
  const std::vector<Layout> layouts = {{"37 rows, stride cols + 2, misaligned by 1", 37, 2, 1}};
  for_each_type([&](auto tag) {
    using T = decltype(tag);
    const RowDatasets<T> d;
    sweep<T>({d.normal_1, d.exp_range, d.huge_spread}, {1, 3, 8, 17, 64, 257}, layouts,
             Kernels::all);
  });
}

// Datasets for the long rows: scale 1 (every exponential counts in the sum), the whole exp range
// (many binades) and [90, 100] (float exp(x) overflows).
template <class T>
std::vector<Dataset> long_row_datasets() {
  const RowDatasets<T> datasets;
  return {datasets.normal_1, datasets.exp_range, datasets.near_100};
}

BOOST_AUTO_TEST_CASE(long_rows_match_reference) {
  const std::vector<Layout> layouts = {{"1 row misaligned by 1", 1, 0, 1}};
  for_each_type([&](auto tag) {
    using T = decltype(tag);
    const auto datasets = long_row_datasets<T>();
    sweep<T>(datasets, long_lengths(), layouts, Kernels::all);
    sweep<T>({datasets[0]}, {kVeryLongLength}, layouts, Kernels::all);
  });
}

BOOST_AUTO_TEST_CASE(rows_of_2_pow_20_match_reference,
                     *boost::unit_test::precondition(large_tests_requested)) {
  const std::vector<Layout> layouts = {{"1 row misaligned by 1", 1, 0, 1}};
  for_each_type([&](auto tag) {
    using T = decltype(tag);
    // Scale 1: every exponential contributes to the sum, whose error must not grow with length.
    sweep<T>({RowDatasets<T>().normal_1}, {kHugeLength}, layouts, Kernels::logsumexp_and_softmax);
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
