// The main file of every test executable built on simdiff_test_support: a global fixture names
// the backends and targets that run and, at the end, the largest errors seen.
#define BOOST_TEST_MODULE simdiff
#include <boost/test/unit_test.hpp>

#include "test_support.h"

namespace {

struct SuiteSetup {
  SuiteSetup() {
    // The tests select every target explicitly; choosing one now keeps SIMDIFF_BACKEND from the
    // environment (tested in its own executable) out of this suite.
    simdiff::set_backend(simdiff::Backend::highway);
    BOOST_TEST_MESSAGE(
        "backends and targets under test: " << simdiff_test::describe_targets_under_test());
    if (!simdiff_test::large_tests_enabled()) {
      BOOST_TEST_MESSAGE("SIMDIFF_TEST_LARGE=0: the 2^20-column cases are skipped");
    }
  }
  ~SuiteSetup() { BOOST_TEST_MESSAGE(simdiff_test::worst_error_summary()); }
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(SuiteSetup);
