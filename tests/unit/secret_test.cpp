// Secret never shows its value through any channel gtest or a log uses, and redact() removes
// its text, URL-encoded and base64 forms from text we do not control.
#include "fixtures/secret.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/captured_failure.hpp"

namespace deploycheck {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCanary[] = "CANARY-7f3a9c-SECRET-VALUE-0042";

using deploycheck::testing::captured_failure;

TEST(Secret, RevealsItsValueOnlyThroughReveal) {
  const Secret s{kCanary};
  EXPECT_EQ(s.reveal(), kCanary);
  EXPECT_EQ(s.size(), std::string(kCanary).size());
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(Secret{}.empty());
}

TEST(Secret, ComparesByValue) {
  EXPECT_TRUE(Secret{"a-value"} == Secret{"a-value"});
  EXPECT_FALSE(Secret{"a-value"} == Secret{"b-value"});
}

TEST(Secret, StreamsAsStars) {
  std::ostringstream out;
  out << "password=" << Secret{kCanary} << ";";
  EXPECT_EQ(out.str(), "password=***;");
}

TEST(Secret, ConvertsToStringAsStars) {
  EXPECT_EQ(to_string(Secret{kCanary}), "***");
}

TEST(Secret, PrintsAsStarsThroughGtestsPrinter) {
  EXPECT_EQ(::testing::PrintToString(Secret{kCanary}), "***");
}

TEST(Secret, PrintsAsStarsInsideContainersAndOptionals) {
  EXPECT_EQ(::testing::PrintToString(std::vector<Secret>{Secret{kCanary}, Secret{"other-1"}}),
            "{ ***, *** }");
  EXPECT_EQ(::testing::PrintToString(std::optional<Secret>{Secret{kCanary}}), "(***)");
}

TEST(Secret, EmptySecretAlsoPrintsAsStars) {
  // Printing nothing would reveal that the value is empty.
  EXPECT_EQ(::testing::PrintToString(Secret{}), "***");
}

TEST(Secret, ExpectEqFailureDoesNotShowEitherValue) {
  const Secret actual{kCanary};
  const Secret expected{"EXPECTED-4b1d-SECRET"};
  const auto message = captured_failure([&] { EXPECT_EQ(actual, expected); });
  EXPECT_THAT(message, HasSubstr("***"));
  EXPECT_THAT(message, Not(HasSubstr(kCanary)));
  EXPECT_THAT(message, Not(HasSubstr("EXPECTED-4b1d-SECRET")));
}

TEST(Secret, ExpectThatFailureDoesNotShowTheValue) {
  const Secret actual{kCanary};
  const auto message =
      captured_failure([&] { EXPECT_THAT(actual, ::testing::Eq(Secret{"something-else"})); });
  EXPECT_THAT(message, HasSubstr("Actual: ***"));
  EXPECT_THAT(message, Not(HasSubstr(kCanary)));
}

TEST(Secret, CapturingHelperSeesAValueThatIsNotSecret) {
  // The capture above would pass vacuously if it lost the message: show it keeps a plain one.
  const std::string plain{kCanary};
  const auto message = captured_failure([&] { EXPECT_EQ(plain, "x"); });
  EXPECT_THAT(message, HasSubstr(kCanary));
}

TEST(Redact, ReplacesEveryRawOccurrence) {
  EXPECT_EQ(redact("user=app password=hunter2-x host=db; again: hunter2-x", "hunter2-x"),
            "user=app password=*** host=db; again: ***");
}

TEST(Redact, ReplacesTheUrlEncodedForm) {
  // "p@ss w/rd:42!" in a URL: p%40ss%20w%2Frd%3A42%21
  EXPECT_EQ(
      redact("could not connect to postgres://app:p%40ss%20w%2Frd%3A42%21@db/app", "p@ss w/rd:42!"),
      "could not connect to postgres://app:***@db/app");
}

TEST(Redact, ReplacesTheBase64Form) {
  EXPECT_EQ(redact("Authorization: Bearer Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==",
                   "correct horse battery staple"),
            "Authorization: Bearer ***");
}

TEST(Redact, ReplacesAllFormsInOneText) {
  const std::string text = std::string("raw ") + kCanary + ", base64 " +
                           "Q0FOQVJZLTdmM2E5Yy1TRUNSRVQtVkFMVUUtMDA0Mg==" + ", raw again " +
                           kCanary;
  EXPECT_EQ(redact(text, kCanary), "raw ***, base64 ***, raw again ***");
}

TEST(Redact, LeavesTextWithoutTheSecretUnchanged) {
  EXPECT_EQ(redact("connection refused (db:5432)", kCanary), "connection refused (db:5432)");
}

TEST(Redact, LeavesTextAloneForSecretsShorterThanFourCharacters) {
  // "abc" would redact ordinary words; such secrets are reported as weak instead.
  EXPECT_EQ(redact("abc in abcdef", "abc"), "abc in abcdef");
  EXPECT_EQ(redact("anything", ""), "anything");
  EXPECT_EQ(redact("abcd in abcdef", "abcd"), "*** in ***ef");
}

TEST(Redact, TerminatesWhenTheSecretContainsTheReplacement) {
  EXPECT_EQ(redact("a****b****c", "****"), "a***b***c");
}

}  // namespace
}  // namespace deploycheck
