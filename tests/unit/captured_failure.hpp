#pragma once
// Test helper: the message of a gtest failure, captured without failing the calling test.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace deploycheck::testing {

// Runs `body`, which must record exactly one failure, and returns that failure's message.
inline std::string captured_failure(const std::function<void()>& body) {
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    body();
  }
  EXPECT_EQ(results.size(), 1) << "expected exactly one captured failure";
  std::string messages;
  for (int i = 0; i < results.size(); ++i) messages += results.GetTestPartResult(i).message();
  return messages;
}

}  // namespace deploycheck::testing
