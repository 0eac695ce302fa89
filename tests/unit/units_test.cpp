// Durations and sizes as written in environment files: exact spellings only.
#include "fixtures/units.hpp"

#include <gtest/gtest.h>

#include <string>

namespace deploycheck {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, ReadsEveryUnit) {
  EXPECT_EQ(parse_duration("250ms"), Duration{250});
  EXPECT_EQ(parse_duration("5s"), Duration{5000});
  EXPECT_EQ(parse_duration("2m"), Duration{120'000});
  EXPECT_EQ(parse_duration("24h"), Duration{86'400'000});
  EXPECT_EQ(parse_duration("30d"), Duration{2'592'000'000});
  EXPECT_EQ(parse_duration("1w"), Duration{604'800'000});
}

TEST(ParseDuration, ReadsZeroAndLeadingZeros) {
  // Zero is a valid duration (`eventually: 0s`); the loader refuses it only for a timeout.
  EXPECT_EQ(parse_duration("0s"), Duration{0});
  EXPECT_EQ(parse_duration("0ms"), Duration{0});
  EXPECT_EQ(parse_duration("007s"), Duration{7000});
}

TEST(ParseDuration, ReadsMinutesAsMNotMonths) {
  EXPECT_EQ(parse_duration("1m"), 1min);
  EXPECT_EQ(parse_duration("1ms"), 1ms);
}

TEST(ParseDuration, RefusesABareNumber) {
  // "timeout: 5" could mean seconds or milliseconds.
  EXPECT_EQ(parse_duration("5"), std::nullopt);
  EXPECT_EQ(parse_duration("0"), std::nullopt);
}

TEST(ParseDuration, RefusesSpacesSignsAndFractions) {
  EXPECT_EQ(parse_duration("5 s"), std::nullopt);
  EXPECT_EQ(parse_duration(" 5s"), std::nullopt);
  EXPECT_EQ(parse_duration("5s "), std::nullopt);
  EXPECT_EQ(parse_duration("-5s"), std::nullopt);
  EXPECT_EQ(parse_duration("+5s"), std::nullopt);
  EXPECT_EQ(parse_duration("1.5s"), std::nullopt);
  EXPECT_EQ(parse_duration("0.5s"), std::nullopt);
}

TEST(ParseDuration, RefusesUnknownOrMisspelledUnits) {
  EXPECT_EQ(parse_duration("5S"), std::nullopt);
  EXPECT_EQ(parse_duration("5sec"), std::nullopt);
  EXPECT_EQ(parse_duration("5mss"), std::nullopt);
  EXPECT_EQ(parse_duration("5us"), std::nullopt);
  EXPECT_EQ(parse_duration("5y"), std::nullopt);
  EXPECT_EQ(parse_duration("5H"), std::nullopt);
}

TEST(ParseDuration, RefusesCompoundsAndMissingParts) {
  EXPECT_EQ(parse_duration("1h30m"), std::nullopt);
  EXPECT_EQ(parse_duration("5s5"), std::nullopt);
  EXPECT_EQ(parse_duration(""), std::nullopt);
  EXPECT_EQ(parse_duration("s"), std::nullopt);
  EXPECT_EQ(parse_duration("ms"), std::nullopt);
}

TEST(ParseDuration, RefusesANumberTooLargeToRead) {
  EXPECT_EQ(parse_duration("99999999999999999999999s"), std::nullopt);
}

// A number that fits in 64 bits but overflows once multiplied by its unit must be refused,
// not wrapped into a negative or tiny timeout.
TEST(ParseDuration, RefusesADurationThatOverflowsMilliseconds) {
  EXPECT_EQ(parse_duration("9223372036854775807s"), std::nullopt);
  EXPECT_EQ(parse_duration("18446744073709551615w"), std::nullopt);
}

TEST(ParseSize, ReadsPlainBytes) {
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("100B"), 100u);
}

TEST(ParseSize, ReadsDecimalUnits) {
  EXPECT_EQ(parse_size("10kB"), 10'000u);
  EXPECT_EQ(parse_size("10KB"), 10'000u);
  EXPECT_EQ(parse_size("10MB"), 10'000'000u);
  EXPECT_EQ(parse_size("1GB"), 1'000'000'000u);
  EXPECT_EQ(parse_size("2TB"), 2'000'000'000'000u);
}

TEST(ParseSize, ReadsBinaryUnits) {
  EXPECT_EQ(parse_size("4KiB"), 4096u);
  EXPECT_EQ(parse_size("1MiB"), 1'048'576u);
  EXPECT_EQ(parse_size("1GiB"), 1'073'741'824u);
  EXPECT_EQ(parse_size("1TiB"), 1'099'511'627'776u);
}

TEST(ParseSize, RefusesAmbiguousOrMalformedSizes) {
  EXPECT_EQ(parse_size(""), std::nullopt);
  EXPECT_EQ(parse_size("MB"), std::nullopt);
  EXPECT_EQ(parse_size("10 MB"), std::nullopt);
  EXPECT_EQ(parse_size("10mb"), std::nullopt);  // units are case-sensitive
  EXPECT_EQ(parse_size("10kb"), std::nullopt);
  EXPECT_EQ(parse_size("10M"), std::nullopt);
  EXPECT_EQ(parse_size("10Ki"), std::nullopt);
  EXPECT_EQ(parse_size("10KIB"), std::nullopt);
  EXPECT_EQ(parse_size("1.5MB"), std::nullopt);
  EXPECT_EQ(parse_size("-1"), std::nullopt);
  EXPECT_EQ(parse_size("+1"), std::nullopt);
  EXPECT_EQ(parse_size(" 1"), std::nullopt);
}

TEST(FormatDuration, UsesTheLargestUnitThatIsExact) {
  EXPECT_EQ(format_duration(Duration{5000}), "5s");
  EXPECT_EQ(format_duration(1min), "1m");
  EXPECT_EQ(format_duration(1h), "1h");
  EXPECT_EQ(format_duration(24h), "1d");
  EXPECT_EQ(format_duration(36h), "36h");
  EXPECT_EQ(format_duration(Duration{30LL * 86'400'000}), "30d");
  EXPECT_EQ(format_duration(Duration{14LL * 86'400'000}), "2w");
}

TEST(FormatDuration, FallsBackToSmallerUnitsWhenNotExact) {
  EXPECT_EQ(format_duration(Duration{1500}), "1500ms");
  EXPECT_EQ(format_duration(Duration{999}), "999ms");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(90min), "90m");
}

TEST(FormatDuration, WritesZeroAsMilliseconds) {
  EXPECT_EQ(format_duration(Duration{0}), "0ms");
}

TEST(FormatDuration, RoundTripsThroughParseDuration) {
  for (const auto d : {Duration{1}, Duration{250}, Duration{1500}, Duration{5000}, Duration{90'000},
                       Duration{3'600'000}, Duration{86'400'000}, Duration{604'800'000},
                       Duration{1'209'600'001}}) {
    const auto text = format_duration(d);
    EXPECT_EQ(parse_duration(text), d) << text;
  }
}

}  // namespace
}  // namespace deploycheck
