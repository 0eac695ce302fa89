// A small gtest program standing in for deploycheck-sandbox_broken in the tests of
// `deploycheck-results selftest`. Suite Fake plants two defects (Fake.Broken/one,
// Fake.Broken/two, listed in fake_checks.expected); the mode, from the environment
// variable FAKE_CHECKS or the argument --fake-mode=MODE, changes what happens:
//   exact    (default) exactly the planted defects fail
//   missing  Fake.Broken/two passes: a defect goes unnoticed
//   extra    Fake.Fine/one fails as well
//   wrong    Fake.Broken/one fails with a different message
//   skip     Fake.Fine/two skips
//   crash    Fake.Fine/one aborts: no XML
//   exit3    every test behaves, then main returns 3
// Suite FakeOther always fails: the self-test's filter must leave it out.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace {

std::string& mode() {
  static std::string value = [] {
    const char* env = std::getenv("FAKE_CHECKS");
    return std::string(env != nullptr ? env : "exact");
  }();
  return value;
}

class Fake : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(Fake, Broken) {
  if (GetParam() == "one") {
    if (mode() == "wrong") FAIL() << "Expected: certificate valid\n  Actual: it is, mostly";
    FAIL() << "defect one: certificate expires in 3 days";
  }
  if (mode() == "missing") return;
  FAIL() << "defect two: TLSv1.0 accepted by 127.0.0.1:44301";
}

TEST_P(Fake, Fine) {
  if (GetParam() == "one" && mode() == "extra") FAIL() << "unexpected: DNS answer differs";
  if (GetParam() == "one" && mode() == "crash") std::abort();
  if (GetParam() == "two" && mode() == "skip") GTEST_SKIP() << "not configured: smoke.base_url";
}

INSTANTIATE_TEST_SUITE_P(, Fake, ::testing::Values("one", "two"),
                         [](const auto& info) { return info.param; });

TEST(FakeOther, AlwaysFails) {
  FAIL() << "outside the selected suite";
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--fake-mode=")) mode() = arg.substr(12);
  }
  int status = RUN_ALL_TESTS();
  return mode() == "exit3" ? 3 : status;
}
