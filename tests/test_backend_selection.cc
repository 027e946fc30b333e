// The backend registry: names, supported targets, set_backend, backend_info and ScopedBackend.
// (SIMDIFF_BACKEND is read once per process: test_backend_environment.cc runs in processes of its
// own.)
#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.h"

namespace simdiff_test {
namespace {

constexpr simdiff::Backend kAllBackends[] = {simdiff::Backend::highway, simdiff::Backend::xsimd,
                                             simdiff::Backend::scalar};

// Calls `call`, which must throw std::invalid_argument with every one of `parts` in its message.
template <class F>
void expect_invalid_argument(const std::string& what, const F& call,
                             const std::vector<std::string>& parts) {
  try {
    call();
    BOOST_ERROR(what << ": no exception");
  } catch (const std::invalid_argument& error) {
    const std::string_view message = error.what();
    for (const std::string& part : parts) {
      BOOST_TEST(message.find(part) != std::string_view::npos,
                 what << ": the message \"" << message << "\" does not contain \"" << part << "\"");
    }
  }
}

bool same_selection(const simdiff::BackendInfo& a, const simdiff::BackendInfo& b) {
  return a.backend == b.backend && a.target == b.target;
}

std::string describe(const simdiff::BackendInfo& info) {
  return std::string(simdiff::to_string(info.backend)) + ":" + info.target;
}

BOOST_AUTO_TEST_SUITE(backend_selection)

BOOST_AUTO_TEST_CASE(names_round_trip_and_unknown_names_throw) {
  BOOST_TEST(simdiff::to_string(simdiff::Backend::highway) == "highway");
  BOOST_TEST(simdiff::to_string(simdiff::Backend::xsimd) == "xsimd");
  BOOST_TEST(simdiff::to_string(simdiff::Backend::scalar) == "scalar");
  for (const simdiff::Backend backend : kAllBackends) {
    BOOST_TEST((simdiff::parse_backend(simdiff::to_string(backend)) == backend));
  }
  for (const std::string name : {"foo", "", "Highway", " scalar", "scalar ", "highway:AVX2"}) {
    expect_invalid_argument("parse_backend(\"" + name + "\")",
                            [&] { (void)simdiff::parse_backend(name); },
                            {"'" + name + "'", "highway", "xsimd", "scalar"});
  }
}

// Known target names, best first; the targets a backend lists must keep this order.
const std::vector<std::string> kBestFirst = {
    "AVX3_DL", "AVX3", "AVX2",   "SSE4",   "SSSE3",    "SVE2_128", "SVE_256", "SVE2",
    "SVE",     "NEON", "EMU128", "SCALAR", "avx512bw", "avx2+fma", "sse4.2",  "neon64"};

BOOST_AUTO_TEST_CASE(supported_targets_are_listed_best_first) {
  BOOST_TEST_MESSAGE("targets: " << describe_targets_under_test());
  const auto scalar = simdiff::supported_targets(simdiff::Backend::scalar);
  BOOST_TEST(scalar == std::vector<std::string>{"scalar"}, boost::test_tools::per_element());
  const auto highway = simdiff::supported_targets(simdiff::Backend::highway);
  BOOST_TEST_REQUIRE(!highway.empty(), "Highway always has at least its emulated target");
  BOOST_TEST((highway.back() == "EMU128" || highway.back() == "SCALAR"),
             "the last Highway target is " << highway.back() << ", not the emulated one");
#if defined(__x86_64__)
  // Every x86-64 CPU this project supports runs SSSE3 and SSE4.
  for (const std::string target : {"SSSE3", "SSE4"}) {
    BOOST_TEST((std::find(highway.begin(), highway.end(), target) != highway.end()),
               "Highway target " << target << " missing from " << describe_targets_under_test());
  }
#elif defined(__aarch64__)
  BOOST_TEST((std::find(highway.begin(), highway.end(), "NEON") != highway.end()),
             "Highway target NEON missing from " << describe_targets_under_test());
#endif
  for (const simdiff::Backend backend : kAllBackends) {
    const auto targets = simdiff::supported_targets(backend);
    BOOST_TEST(std::set<std::string>(targets.begin(), targets.end()).size() == targets.size(),
               simdiff::to_string(backend) << " lists a target twice");
    std::ptrdiff_t previous_rank = -1;
    for (const std::string& target : targets) {
      const auto known = std::find(kBestFirst.begin(), kBestFirst.end(), target);
      if (known == kBestFirst.end()) continue;
      const std::ptrdiff_t rank = known - kBestFirst.begin();
      BOOST_TEST(rank > previous_rank, simdiff::to_string(backend)
                                           << " lists " << target << " after a worse target");
      previous_rank = rank;
    }
  }
}

BOOST_AUTO_TEST_CASE(set_backend_selects_every_supported_target) {
  const simdiff::ScopedBackend restore(simdiff::Backend::highway);
  for (const simdiff::Backend backend : kAllBackends) {
    const auto targets = simdiff::supported_targets(backend);
    if (targets.empty()) {
      BOOST_TEST_MESSAGE(simdiff::to_string(backend) << " has no targets in this build");
      expect_invalid_argument(std::string(simdiff::to_string(backend)) + " without targets",
                              [&] { simdiff::set_backend(backend); },
                              {std::string(simdiff::to_string(backend))});
      continue;
    }
    simdiff::set_backend(backend);
    BOOST_TEST(same_selection(simdiff::backend_info(), {backend, targets.front()}),
               "set_backend(" << simdiff::to_string(backend) << ") selected "
                              << describe(simdiff::backend_info()) << ", not the best target");
    for (const std::string& target : targets) {
      simdiff::set_backend(backend, target);
      BOOST_TEST(same_selection(simdiff::backend_info(), {backend, target}),
                 "selected " << describe(simdiff::backend_info()) << " instead of "
                             << simdiff::to_string(backend) << ":" << target);
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_targets_throw_listing_the_supported_ones) {
  const simdiff::ScopedBackend restore(simdiff::Backend::scalar);
  const simdiff::BackendInfo before = simdiff::backend_info();
  std::vector<std::string> parts = {"'NOPE'", "highway"};
  for (const std::string& target : simdiff::supported_targets(simdiff::Backend::highway)) {
    parts.push_back(target);
  }
  expect_invalid_argument(
      "set_backend(highway, \"NOPE\")",
      [] { simdiff::set_backend(simdiff::Backend::highway, "NOPE"); }, parts);
  expect_invalid_argument("set_backend(scalar, \"AVX2\")",
                          [] { simdiff::set_backend(simdiff::Backend::scalar, "AVX2"); },
                          {"'AVX2'", "scalar"});
  // Target names are exact: no case folding.
  const std::string best = simdiff::supported_targets(simdiff::Backend::highway).front();
  std::string lower = best;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower != best) {
    expect_invalid_argument("set_backend(highway, \"" + lower + "\")",
                            [&] { simdiff::set_backend(simdiff::Backend::highway, lower); },
                            {"'" + lower + "'"});
  }
  BOOST_TEST(same_selection(simdiff::backend_info(), before),
             "a failed set_backend changed the selection to " << describe(simdiff::backend_info()));
  expect_invalid_argument("ScopedBackend(highway, \"NOPE\")",
                          [] { const simdiff::ScopedBackend s(simdiff::Backend::highway, "NOPE"); },
                          {"'NOPE'"});
  BOOST_TEST(
      same_selection(simdiff::backend_info(), before),
      "a failed ScopedBackend changed the selection to " << describe(simdiff::backend_info()));
}

BOOST_AUTO_TEST_CASE(scoped_backend_restores_the_previous_selection) {
  const simdiff::ScopedBackend outer(simdiff::Backend::highway);
  const simdiff::BackendInfo highway_best = simdiff::backend_info();
  const std::string last_highway = simdiff::supported_targets(simdiff::Backend::highway).back();
  {
    const simdiff::ScopedBackend scalar(simdiff::Backend::scalar);
    BOOST_TEST(describe(simdiff::backend_info()) == "scalar:scalar");
    {
      const simdiff::ScopedBackend inner(simdiff::Backend::highway, last_highway);
      BOOST_TEST(describe(simdiff::backend_info()) == "highway:" + last_highway);
    }
    BOOST_TEST(describe(simdiff::backend_info()) == "scalar:scalar");
  }
  BOOST_TEST(describe(simdiff::backend_info()) == describe(highway_best));
}

// The kernels run on the selected target: scalar and Highway compute exp differently (the C
// library's versus a polynomial), so some results differ in the last bit, and each selection must
// reproduce its own.
BOOST_AUTO_TEST_CASE(kernels_follow_the_selection) {
  const auto x = random_uniform<float>(-80, 80, 4096, seed_of("selection", 0));
  auto run = [&] {
    std::vector<float> y(x.size());
    simdiff::exp(std::span<const float>(x), std::span<float>(y));
    return y;
  };
  const simdiff::ScopedBackend restore(simdiff::Backend::highway);
  const auto highway = run();
  std::vector<float> scalar;
  {
    const simdiff::ScopedBackend selected(simdiff::Backend::scalar);
    scalar = run();
  }
  const auto highway_again = run();
  BOOST_TEST(highway_again == highway, boost::test_tools::per_element());
  if (highway == scalar) {
    BOOST_TEST_MESSAGE("Highway and scalar exp agree on every input: the selection is not seen");
  } else {
    const simdiff::ScopedBackend selected(simdiff::Backend::scalar);
    BOOST_TEST(run() == scalar, boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
