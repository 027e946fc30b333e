// SIMDIFF_BACKEND, read once at the first kernel call. Each setting runs in a process of its own
// (registered by tests/CMakeLists.txt); SIMDIFF_TEST_EXPECT says what the setting must select:
// "backend:target", "backend:" for the backend's best target, or "error" for a setting that the
// first kernel call (and every later one, until set_backend) rejects with std::invalid_argument
// naming SIMDIFF_BACKEND.
#define BOOST_TEST_MODULE simdiff_backend_environment
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.h"

namespace simdiff_test {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// One kernel call, the first of the process.
void call_a_kernel() {
  const std::vector<float> x = {1, 2, 3};
  std::vector<float> y(3);
  simdiff::softmax(std::span<const float>(x), {1, 3, 0}, std::span<float>(y));
}

std::string selected() {
  const simdiff::BackendInfo info = simdiff::backend_info();
  return std::string(simdiff::to_string(info.backend)) + ":" + info.target;
}

void expect_rejection(const std::string& what, void (*call)(), const std::string& setting) {
  try {
    call();
    BOOST_ERROR(what << " accepted SIMDIFF_BACKEND='" << setting << "'");
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    BOOST_TEST(message.find("SIMDIFF_BACKEND") != std::string::npos, message);
    BOOST_TEST(message.find("'" + setting + "'") != std::string::npos, message);
  }
}

BOOST_AUTO_TEST_CASE(first_kernel_call_applies_SIMDIFF_BACKEND) {
  const char* setting_or_null = std::getenv("SIMDIFF_BACKEND");
  const std::string setting = environment("SIMDIFF_BACKEND");
  std::string expectation = environment("SIMDIFF_TEST_EXPECT");
  BOOST_TEST_REQUIRE(!expectation.empty(),
                     "SIMDIFF_TEST_EXPECT is not set (see tests/CMakeLists.txt)");
  BOOST_TEST_MESSAGE("SIMDIFF_BACKEND=" << (setting_or_null ? "'" + setting + "'" : "(unset)")
                                        << ", expecting " << expectation << "; targets "
                                        << describe_targets_under_test());
  if (expectation != "error") {
    const auto colon = expectation.find(':');
    BOOST_TEST_REQUIRE(colon != std::string::npos, "SIMDIFF_TEST_EXPECT=" << expectation);
    const simdiff::Backend backend = simdiff::parse_backend(expectation.substr(0, colon));
    const auto targets = simdiff::supported_targets(backend);
    if (targets.empty()) {
      BOOST_TEST_MESSAGE(expectation.substr(0, colon)
                         << " has no targets here: expecting an error");
      expectation = "error";
    } else if (colon + 1 == expectation.size()) {
      expectation += targets.front();
    }
  }

  if (expectation == "error") {
    expect_rejection("the first kernel call", call_a_kernel, setting);
    expect_rejection("a second kernel call", call_a_kernel, setting);
    expect_rejection(
        "backend_info", [] { (void)simdiff::backend_info(); }, setting);
  } else {
    call_a_kernel();
    BOOST_TEST(selected() == expectation);
    // Read once: changing the variable later has no effect.
    ::setenv("SIMDIFF_BACKEND", "scalar", 1);
    call_a_kernel();
    BOOST_TEST(selected() == expectation);
  }
  // set_backend overrides the environment, valid or not.
  simdiff::set_backend(simdiff::Backend::scalar);
  call_a_kernel();
  BOOST_TEST(selected() == "scalar:scalar");
}

}  // namespace
}  // namespace simdiff_test
