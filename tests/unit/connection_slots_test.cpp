// The run-wide connection cap: slots are flock(2)s on files in the run directory, so they are
// shared with every other gatherer of the run and freed when a holder exits.
#include "runner/connection_slots.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>

namespace deploycheck {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class ConnectionSlotsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/connection-slots-test.XXXXXX";
    run_dir_ = mkdtemp(dir);
  }
  void TearDown() override { fs::remove_all(run_dir_); }
  fs::path run_dir_;
};

TEST_F(ConnectionSlotsTest, HoldersShareTheRunsCap) {
  const auto first = ConnectionSlots::take(run_dir_, 10, 12, 0ms);
  EXPECT_EQ(first.count(), 10);
  const auto second = ConnectionSlots::take(run_dir_, 10, 12, 0ms);
  EXPECT_EQ(second.count(), 2);  // what is left of 12
}

TEST_F(ConnectionSlotsTest, AFullRunWaitsThenGoesOnWithOne) {
  const auto all = ConnectionSlots::take(run_dir_, 4, 4, 0ms);
  ASSERT_EQ(all.count(), 4);
  const auto start = std::chrono::steady_clock::now();
  const auto late = ConnectionSlots::take(run_dir_, 4, 4, 100ms);
  EXPECT_EQ(late.count(), 1);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
}

TEST_F(ConnectionSlotsTest, ReleasedSlotsAreFreeAgain) {
  { const auto held = ConnectionSlots::take(run_dir_, 8, 8, 0ms); }
  EXPECT_EQ(ConnectionSlots::take(run_dir_, 8, 8, 0ms).count(), 8);
}

TEST_F(ConnectionSlotsTest, WithoutARunDirectoryTheCapStillBounds) {
  EXPECT_EQ(ConnectionSlots::take(std::nullopt, 100, 64, 0ms).count(), 64);
  EXPECT_EQ(ConnectionSlots::take(std::nullopt, 0, 64, 0ms).count(), 1);
}

}  // namespace
}  // namespace deploycheck
