// A user's own checks: ordinary googletest, plus deploycheck's fixture for environment access.
#include <gtest/gtest.h>

#include "runner/check.hpp"

// Default labels from deploycheck_add_suite(MyChecks ... PHASE post SEVERITY high).
TEST(MyChecks, PlainTestJoinsEveryEnvironment) {
  EXPECT_EQ(2 + 2, 4);
}

class MyEnvironmentChecks : public deploycheck::Check {};

TEST_F(MyEnvironmentChecks, SeesItsOwnEnvironment) {
  const auto& name = deploycheck::environment().name;
  EXPECT_TRUE(name == "consumer" || name == "consumer_staging") << name;
}
// Labels for one test, overriding the suite's defaults.
DEPLOYCHECK_LABELS(MyEnvironmentChecks, SeesItsOwnEnvironment, "pre", "critical",
                   "004 Verification: critical workflows work");
