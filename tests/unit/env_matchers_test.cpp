// Every environment variable matcher: what it accepts, what it refuses, how it describes itself
// and explains its verdict — and that no channel ever shows a secret's value.
#include "matchers/env_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <string>
#include <vector>

#include "tests/unit/captured_failure.hpp"

namespace deploycheck {
namespace {

using ::testing::DescribeMatcher;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCanary[] = "CANARY-7f3a9c-SECRET-VALUE-0042";

EnvVar plain(std::string key, std::string value, std::string origin = "process environment") {
  return EnvVar{std::move(key), std::move(value), std::move(origin), false};
}
EnvVar secret(std::string key, std::string value, std::string origin = "process environment") {
  return EnvVar{std::move(key), std::move(value), std::move(origin), true};
}
EnvVar unset(std::string key) {
  return EnvVar{std::move(key), std::nullopt, "", false};
}

struct Verdict {
  bool matched;
  std::string explanation;
};

Verdict judge(const EnvVarMatcher& matcher, const EnvVar& var) {
  ::testing::StringMatchResultListener listener;
  const bool matched = ::testing::ExplainMatchResult(matcher, var, &listener);
  return {matched, listener.str()};
}

std::string describe(const EnvVarMatcher& m) {
  return DescribeMatcher<const EnvVar&>(m);
}
std::string describe_negation(const EnvVarMatcher& m) {
  return DescribeMatcher<const EnvVar&>(m, /*negation=*/true);
}

using deploycheck::testing::captured_failure;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Neither the canary nor a fragment of it, in any case.
::testing::AssertionResult ShowsNoCanary(const std::string& text) {
  for (const std::string fragment : {"canary-7f3a9c", "7f3a9c", "secret-value-0042"}) {
    if (lower(text).find(fragment) != std::string::npos) {
      return ::testing::AssertionFailure() << "'" << fragment << "' leaked in: " << text;
    }
  }
  return ::testing::AssertionSuccess();
}

// --- EnvVar printing ------------------------------------------------------------------------

TEST(EnvVarPrinting, ShowsAPlainValueAndItsOrigin) {
  EXPECT_EQ(::testing::PrintToString(plain("DEBUG", "True", ".env:3")),
            "DEBUG = \"True\" (from .env:3)");
}

TEST(EnvVarPrinting, ShowsOnlyTheLengthOfASecret) {
  EXPECT_EQ(::testing::PrintToString(secret("API_KEY", kCanary)),
            "API_KEY = *** (secret, 31 characters, from process environment)");
}

TEST(EnvVarPrinting, SaysWhenNotSet) {
  EXPECT_EQ(::testing::PrintToString(unset("REDIS_URL")), "REDIS_URL (not set)");
}

TEST(EnvVarPrinting, StreamsLikeItPrints) {
  std::ostringstream out;
  out << secret("API_KEY", kCanary);
  EXPECT_EQ(out.str(), ::testing::PrintToString(secret("API_KEY", kCanary)));
}

// --- Every matcher refuses a variable that is not set -----------------------------------------

TEST(EnvMatchers, EveryMatcherRefusesAnUnsetVariableAndSaysSo) {
  const std::vector<EnvVarMatcher> all = {
      IsSet(),         EqualsText("x"), IsOneOf({"x"}),     IsBoolean("any"),
      IsIntegerIn({}), IsUrl({}),       IsListWhere({}),    MatchesPattern(".*"),
      HasMinLength(0), IsNotExample(),  IsStrongSecret({}),
  };
  for (const auto& m : all) {
    const auto v = judge(m, unset("X"));
    EXPECT_FALSE(v.matched) << describe(m);
    EXPECT_EQ(v.explanation, "which is not set in any source") << describe(m);
  }
}

// --- IsSet --------------------------------------------------------------------------------------

TEST(IsSet, AcceptsANonEmptyValueAndNamesItsOrigin) {
  const auto v = judge(IsSet(), plain("DEBUG", "False", "/srv/app/.env:12"));
  EXPECT_TRUE(v.matched);
  EXPECT_EQ(v.explanation, "which is set (in /srv/app/.env:12)");
}

TEST(IsSet, RefusesAnEmptyValue) {
  const auto v = judge(IsSet(), plain("EMAIL_HOST_USER", "", "/srv/app/.env:7"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "which is set but empty (in /srv/app/.env:7)");
}

TEST(IsSet, Describes) {
  EXPECT_EQ(describe(IsSet()), "is set and not empty");
  EXPECT_EQ(describe_negation(IsSet()), "is not set, or empty");
}

// --- EqualsText ---------------------------------------------------------------------------------

TEST(EqualsText, AcceptsExactlyTheText) {
  const auto v = judge(EqualsText("False"), plain("DEBUG", "False"));
  EXPECT_TRUE(v.matched);
  EXPECT_EQ(v.explanation, "");
}

// gMock's "Actual:" line shows the value (or *** for a secret): the explanation adds nothing.
TEST(EqualsText, RefusesOtherTextWithoutRepeatingIt) {
  const auto v = judge(EqualsText("False"), plain("DEBUG", "false"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "");
}

TEST(EqualsText, WithholdsASecretsValue) {
  const auto v = judge(EqualsText("expected"), secret("TOKEN", kCanary));
  EXPECT_FALSE(v.matched);
  EXPECT_TRUE(ShowsNoCanary(::testing::PrintToString(secret("TOKEN", kCanary))));
}

TEST(EqualsText, Describes) {
  EXPECT_EQ(describe(EqualsText("False")), "equals \"False\"");
  EXPECT_EQ(describe_negation(EqualsText("False")), "does not equal \"False\"");
}

// --- IsOneOf ------------------------------------------------------------------------------------

TEST(IsOneOf, AcceptsAListedValue) {
  const auto v = judge(IsOneOf({"INFO", "WARNING"}), plain("LOG_LEVEL", "WARNING"));
  EXPECT_TRUE(v.matched);
  EXPECT_EQ(v.explanation, "");
}

TEST(IsOneOf, RefusesAnUnlistedValueCaseSensitively) {
  const auto v = judge(IsOneOf({"INFO", "WARNING"}), plain("LOG_LEVEL", "info"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "");  // the "Actual:" line shows the value
}

TEST(IsOneOf, WithholdsASecretsValue) {
  const auto v = judge(IsOneOf({"a", "b"}), secret("TOKEN", kCanary));
  EXPECT_FALSE(v.matched);
  EXPECT_TRUE(ShowsNoCanary(v.explanation));
}

TEST(IsOneOf, Describes) {
  EXPECT_EQ(describe(IsOneOf({"25", "465", "587"})), "is one of 25, 465, 587");
  EXPECT_EQ(describe_negation(IsOneOf({"25", "465", "587"})), "is none of 25, 465, 587");
}

// --- IsBoolean ----------------------------------------------------------------------------------

TEST(IsBoolean, AcceptsAnySpellingOfTheExpectedValue) {
  for (const char* text : {"false", "False", "FALSE", "0", "no", "off", "f", "N"}) {
    const auto v = judge(IsBoolean("false"), plain("DEBUG", text));
    EXPECT_TRUE(v.matched) << text;
    EXPECT_EQ(v.explanation, "which is false") << text;
  }
}

TEST(IsBoolean, RefusesTheOppositeValue) {
  const auto v = judge(IsBoolean("false"), plain("DEBUG", "True"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "which is true");
}

TEST(IsBoolean, RefusesSomethingThatIsNotABoolean) {
  const auto v = judge(IsBoolean("true"), plain("SESSION_COOKIE_SECURE", "maybe"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "which is \"maybe\", not a boolean");
}

TEST(IsBoolean, AnyAcceptsBothValuesButNothingElse) {
  EXPECT_TRUE(judge(IsBoolean("any"), plain("X", "yes")).matched);
  EXPECT_TRUE(judge(IsBoolean("any"), plain("X", "off")).matched);
  EXPECT_FALSE(judge(IsBoolean("any"), plain("X", "enabled")).matched);
}

TEST(IsBoolean, WithholdsASecretsValueWhenItIsNotABoolean) {
  const auto v = judge(IsBoolean("true"), secret("FLAG", kCanary));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "which is (value withheld: secret), not a boolean");
}

TEST(IsBoolean, Describes) {
  EXPECT_EQ(describe(IsBoolean("false")),
            "is a boolean that is false (true/false, 1/0, yes/no, on/off)");
  EXPECT_EQ(describe_negation(IsBoolean("false")), "is not a boolean that is false");
  EXPECT_EQ(describe(IsBoolean("any")), "is a boolean (true/false, 1/0, yes/no, on/off)");
  EXPECT_EQ(describe_negation(IsBoolean("any")), "is not a boolean");
}

TEST(IsBoolean, ReadsRightUnderNot) {
  const auto v = judge(Not(IsBoolean("true")), plain("DEBUG", "true"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "which is true");
  EXPECT_EQ(describe(Not(IsBoolean("true"))), "is not a boolean that is true");
}

// --- IsIntegerIn --------------------------------------------------------------------------------

TEST(IsIntegerIn, AcceptsAValueInRangeIncludingTheBounds) {
  const IntegerRule rule{.min = 1, .max = 100};
  for (const char* text : {"1", "50", "100", "+7"}) {
    EXPECT_TRUE(judge(IsIntegerIn(rule), plain("DB_POOL_SIZE", text)).matched) << text;
  }
  EXPECT_EQ(judge(IsIntegerIn(rule), plain("DB_POOL_SIZE", "50")).explanation, "which is 50");
}

TEST(IsIntegerIn, RefusesAValueOutOfRangeShowingIt) {
  const IntegerRule rule{.min = 1, .max = 100};
  const auto low = judge(IsIntegerIn(rule), plain("DB_POOL_SIZE", "0"));
  EXPECT_FALSE(low.matched);
  EXPECT_EQ(low.explanation, "which is 0");
  const auto high = judge(IsIntegerIn(rule), plain("DB_POOL_SIZE", "101"));
  EXPECT_FALSE(high.matched);
  EXPECT_EQ(high.explanation, "which is 101");
}

TEST(IsIntegerIn, RefusesSomethingThatIsNotAnInteger) {
  for (const char* text : {"ten", "1.5", " 5", "5 ", "", "0x10"}) {
    const auto v = judge(IsIntegerIn({}), plain("WORKERS", text));
    EXPECT_FALSE(v.matched) << text;
    EXPECT_EQ(v.explanation, "which is \"" + std::string(text) + "\", not an integer");
  }
}

TEST(IsIntegerIn, WithholdsASecretsValue) {
  const auto in_range = judge(IsIntegerIn({.min = 0}), secret("PIN", "1234"));
  EXPECT_TRUE(in_range.matched);
  EXPECT_EQ(in_range.explanation, "which is (withheld)");
  const auto text = judge(IsIntegerIn({}), secret("PIN", kCanary));
  EXPECT_FALSE(text.matched);
  EXPECT_EQ(text.explanation, "which is (value withheld: secret), not an integer");
}

TEST(IsIntegerIn, Describes) {
  EXPECT_EQ(describe(IsIntegerIn({.min = 1, .max = 100})),
            "is an integer at least 1 and at most 100");
  EXPECT_EQ(describe_negation(IsIntegerIn({.min = 1, .max = 100})),
            "is not an integer at least 1 and at most 100");
  EXPECT_EQ(describe(IsIntegerIn({.min = 0})), "is an integer at least 0");
  EXPECT_EQ(describe(IsIntegerIn({.max = 64})), "is an integer at most 64");
  EXPECT_EQ(describe(IsIntegerIn({})), "is an integer");
}

// --- IsUrl --------------------------------------------------------------------------------------

const UrlRule kPostgres{.schemes = {"postgres", "postgresql"}};

TEST(IsUrl, AcceptsAUrlWithAnAllowedSchemeAndAHost) {
  const auto v = judge(IsUrl(kPostgres), plain("DATABASE_URL", "postgres://app:pw@db:5432/app"));
  EXPECT_TRUE(v.matched);
  EXPECT_EQ(v.explanation, "which is such a URL");
  EXPECT_TRUE(judge(IsUrl(kPostgres), plain("DATABASE_URL", "PostgreSQL://db/app")).matched);
}

TEST(IsUrl, RefusesAnotherScheme) {
  const auto v = judge(IsUrl(kPostgres), plain("DATABASE_URL", "mysql://db/app"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "whose scheme is mysql, not postgres or postgresql");
}

TEST(IsUrl, RefusesTextThatIsNotAUrl) {
  const auto v = judge(IsUrl({}), plain("REDIS_URL", "localhost 6379"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "which is not a URL libcurl can parse (expected scheme://host/...)");
}

TEST(IsUrl, RefusesAUrlWithoutAHostUnlessAllowed) {
  const auto v = judge(IsUrl({}), plain("DATA", "file:///var/data"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "which has no host");
  EXPECT_TRUE(judge(IsUrl({.require_host = false}), plain("DATA", "file:///var/data")).matched);
}

TEST(IsUrl, AcceptsAnySchemeWhenNoneIsListed) {
  EXPECT_TRUE(judge(IsUrl({}), plain("BROKER", "amqps://mq.internal:5671/vhost")).matched);
}

TEST(IsUrl, NeverQuotesTheUrl) {
  const auto v = judge(IsUrl(kPostgres),
                       secret("DATABASE_URL", std::string("mysql://app:") + kCanary + "@db/app"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "whose scheme is mysql, not postgres or postgresql");
}

TEST(IsUrl, Describes) {
  EXPECT_EQ(describe(IsUrl(kPostgres)), "is a URL with scheme postgres or postgresql and a host");
  EXPECT_EQ(describe(IsUrl({})), "is a URL with a host");
  EXPECT_EQ(describe(IsUrl({.require_host = false})), "is a URL");
  EXPECT_EQ(describe_negation(IsUrl(kPostgres)), "is not a URL as required");
}

// --- IsListWhere --------------------------------------------------------------------------------

TEST(IsListWhere, AcceptsAListTrimmingSpacesAroundMembers) {
  const auto v = judge(IsListWhere({.forbid = {"*"}, .min_items = 2}),
                       plain("ALLOWED_HOSTS", "api.example.com, app.example.com"));
  EXPECT_TRUE(v.matched);
  EXPECT_EQ(v.explanation, "which has 2 acceptable members");
}

TEST(IsListWhere, RefusesAForbiddenMemberNamingIt) {
  const auto v =
      judge(IsListWhere({.forbid = {"*"}}), plain("ALLOWED_HOSTS", "api.example.com, *"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "where member 2 (\"*\") is forbidden");
}

TEST(IsListWhere, RefusesEmptyMembersAndTooFewItems) {
  const auto v = judge(IsListWhere({.min_items = 3}), plain("ALLOWED_HOSTS", "a,"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "where it has 2 items; member 2 (\"\") is empty");
}

TEST(IsListWhere, AppliesTheMemberRuleToEachMember) {
  const ListRule rule{.each = MemberRule{.url = UrlRule{.schemes = {"https"}}}};
  const auto v = judge(IsListWhere(rule), plain("CORS_ALLOWED_ORIGINS",
                                                "https://app.example.com,http://x.example.com"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation,
            "where member 2 (\"http://x.example.com\") whose scheme is http, not https");
  EXPECT_TRUE(
      judge(IsListWhere(rule), plain("CORS_ALLOWED_ORIGINS", "https://a.example.com")).matched);
}

TEST(IsListWhere, AppliesTheMemberPatternToEachMember) {
  const ListRule rule{.separator = ";", .each = MemberRule{.matches = "^[a-z]+$"}};
  const auto v = judge(IsListWhere(rule), plain("QUEUES", "mail; Reports"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "where member 2 (\"Reports\") does not match /^[a-z]+$/");
  const auto ok = judge(IsListWhere(rule), plain("QUEUES", "mail;reports;audit"));
  EXPECT_TRUE(ok.matched);
  EXPECT_EQ(ok.explanation, "which has 3 acceptable members");
}

TEST(IsListWhere, WithholdsASecretListsMembers) {
  const auto v =
      judge(IsListWhere({.forbid = {kCanary}}), secret("TOKENS", std::string("ok-1,") + kCanary));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "where member 2 is forbidden");
}

TEST(IsListWhere, Describes) {
  EXPECT_EQ(describe(IsListWhere({})), "is a ','-separated list");
  EXPECT_EQ(describe(IsListWhere({.forbid = {"*", "localhost"}, .min_items = 1})),
            "is a ','-separated list of at least 1 item without * or localhost");
  EXPECT_EQ(describe(IsListWhere(
                {.separator = ";",
                 .each = MemberRule{.url = UrlRule{.schemes = {"https"}}, .matches = "example"}})),
            "is a ';'-separated list, each member is a URL with scheme https and a host, each "
            "member matching /example/");
  EXPECT_EQ(describe_negation(IsListWhere({})), "is not such a list");
}

// --- MatchesPattern -----------------------------------------------------------------------------

TEST(MatchesPattern, AcceptsAMatchAnywhereUnlessAnchored) {
  EXPECT_TRUE(judge(MatchesPattern("^/"), plain("DIR", "/var/run/prom")).matched);
  EXPECT_TRUE(judge(MatchesPattern("run"), plain("DIR", "/var/run/prom")).matched);
  EXPECT_EQ(judge(MatchesPattern("run"), plain("DIR", "/var/run/prom")).explanation, "");
}

TEST(MatchesPattern, RefusesANonMatchShowingTheValue) {
  const auto v = judge(MatchesPattern("^[a-z]{2}(-[a-z]+)+-[0-9]$"), plain("REGION", "EU-west-1"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "");  // the "Actual:" line shows the value
}

TEST(MatchesPattern, WithholdsASecretsValue) {
  const auto v =
      judge(MatchesPattern("^(AKIA|ASIA)[A-Z0-9]{16}$"), secret("AWS_ACCESS_KEY_ID", kCanary));
  EXPECT_FALSE(v.matched);
  EXPECT_TRUE(ShowsNoCanary(v.explanation));
}

TEST(MatchesPattern, Describes) {
  EXPECT_EQ(describe(MatchesPattern("^/")), "matches /^//");
  EXPECT_EQ(describe_negation(MatchesPattern("^/")), "does not match /^//");
}

// --- HasMinLength -------------------------------------------------------------------------------

TEST(HasMinLength, AcceptsExactlyTheMinimum) {
  const auto v = judge(HasMinLength(16), plain("PASSWORD", std::string(16, 'x')));
  EXPECT_TRUE(v.matched);
  EXPECT_EQ(v.explanation, "which is 16 characters long");
}

TEST(HasMinLength, RefusesOneCharacterLess) {
  const auto v = judge(HasMinLength(16), secret("PASSWORD", std::string(15, 'x')));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation, "which is 15 characters long");
}

TEST(HasMinLength, Describes) {
  EXPECT_EQ(describe(HasMinLength(40)), "is at least 40 characters long");
  EXPECT_EQ(describe_negation(HasMinLength(40)), "is shorter than 40 characters");
}

// --- IsNotExample -------------------------------------------------------------------------------

TEST(IsNotExample, AcceptsARealLookingValue) {
  const auto v = judge(IsNotExample(), secret("AWS_ACCESS_KEY_ID", "AKIA4Q7XJ2LMN5PRS3TW"));
  EXPECT_TRUE(v.matched);
  EXPECT_EQ(v.explanation, "which looks like a real value");
}

TEST(IsNotExample, RefusesADocumentationExampleSayingWhy) {
  const auto v = judge(IsNotExample(), secret("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation,
            "which is a placeholder: it is AWS's documentation example access key id; generate a "
            "real value");
}

TEST(IsNotExample, Describes) {
  EXPECT_EQ(describe(IsNotExample()), "is not a placeholder or documentation example");
  EXPECT_EQ(describe_negation(IsNotExample()), "is a placeholder or documentation example");
}

// --- IsStrongSecret -----------------------------------------------------------------------------

const std::string kStrongKey = "q8V-2mZr_T7xKp4LwN9sYb3HdJ6fGc1Ue5Ai0Ro-Qt8Vy2Xn7Mk4Bz9Ws6Pj3LhE";

TEST(IsStrongSecret, AcceptsALongVariedKey) {
  ASSERT_EQ(kStrongKey.size(), 64u);
  const auto v = judge(IsStrongSecret({}), secret("DJANGO_SECRET_KEY", kStrongKey));
  EXPECT_TRUE(v.matched);
  EXPECT_EQ(v.explanation, "which is 64 characters with 53 distinct");
}

TEST(IsStrongSecret, RefusesAShortRepetitiveKeyListingEveryProblem) {
  const auto v = judge(IsStrongSecret({}), secret("DJANGO_SECRET_KEY", "abababab"));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation,
            "where it is 8 characters long, it has 2 distinct characters; generate a new one "
            "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(64))')");
}

TEST(IsStrongSecret, RefusesDjangosInsecureDevelopmentKey) {
  const auto v =
      judge(IsStrongSecret({}), secret("DJANGO_SECRET_KEY", "django-insecure-" + kStrongKey));
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation,
            "where it starts with 'django-insecure-' (a generated development key); generate a "
            "new one (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(64))')");
}

TEST(IsStrongSecret, UsesTheRulesThresholds) {
  const StrengthRule rule{.min_length = 8, .min_unique = 3, .forbid_prefixes = {}};
  EXPECT_TRUE(judge(IsStrongSecret(rule), secret("K", "abcabcab")).matched);
  EXPECT_FALSE(judge(IsStrongSecret(rule), secret("K", "abcabca")).matched);
  EXPECT_FALSE(judge(IsStrongSecret(rule), secret("K", "abababab")).matched);
}

TEST(IsStrongSecret, Describes) {
  EXPECT_EQ(describe(IsStrongSecret({})),
            "is a strong secret (at least 50 characters, at least 5 distinct characters, no "
            "prefix django-insecure-)");
  EXPECT_EQ(describe(IsStrongSecret({.min_length = 8, .min_unique = 3, .forbid_prefixes = {}})),
            "is a strong secret (at least 8 characters, at least 3 distinct characters)");
  EXPECT_EQ(describe_negation(IsStrongSecret({})), "is a weak secret");
}

// --- A secret's value never shows --------------------------------------------------------------

// Every matcher, each once where the canary passes and once where it fails (or as near as the
// matcher allows), configured the way a careless environment file might.
std::vector<EnvVarMatcher> every_matcher_against_the_canary() {
  return {
      IsSet(),
      EqualsText("expected-value"),
      EqualsText(kCanary),
      IsOneOf({"a", "b"}),
      IsBoolean("true"),
      IsIntegerIn({.min = 1}),
      IsUrl({.schemes = {"https"}}),
      IsListWhere({.forbid = {"*"}, .min_items = 2}),
      IsListWhere({.separator = "-", .each = MemberRule{.url = UrlRule{}, .matches = "^[0-9]+$"}}),
      IsListWhere({.separator = "-", .forbid = {"7f3a9c"}}),
      MatchesPattern("^x$"),
      MatchesPattern("CANARY"),
      HasMinLength(64),
      HasMinLength(4),
      IsNotExample(),
      IsStrongSecret({}),
      IsStrongSecret({.min_length = 8, .min_unique = 3, .forbid_prefixes = {"CANARY-"}}),
  };
}

TEST(SecretEnvVar, PrintsNoValue) {
  const auto var = secret("API_KEY", kCanary);
  EXPECT_TRUE(ShowsNoCanary(::testing::PrintToString(var)));
  EXPECT_THAT(::testing::PrintToString(var), HasSubstr("***"));
}

TEST(SecretEnvVar, NoMatcherExplanationShowsTheValue) {
  const auto var = secret("API_KEY", kCanary);
  for (const auto& m : every_matcher_against_the_canary()) {
    const auto v = judge(m, var);
    EXPECT_TRUE(ShowsNoCanary(v.explanation)) << describe(m);
    EXPECT_TRUE(ShowsNoCanary(judge(Not(m), var).explanation)) << "Not(" << describe(m) << ")";
  }
}

TEST(SecretEnvVar, TheSameMatchersDoShowAPlainValue) {
  // Proves the canary check above can fail: for a plain variable the value is quoted.
  const auto var = plain("API_KEY", kCanary);
  EXPECT_FALSE(ShowsNoCanary(judge(IsBoolean("true"), var).explanation));
  EXPECT_FALSE(
      ShowsNoCanary(judge(IsListWhere({.separator = "-", .forbid = {"7f3a9c"}}), var).explanation));
  EXPECT_FALSE(ShowsNoCanary(::testing::PrintToString(var)));
}

// The "Expected:" line quotes the rule as the environment file wrote it (a few rules above
// quote the canary on purpose); everything else in the message must not show the value.
std::string without(std::string message, const std::string& rule_text) {
  for (auto pos = message.find(rule_text); pos != std::string::npos;
       pos = message.find(rule_text)) {
    message.erase(pos, rule_text.size());
  }
  return message;
}

TEST(SecretEnvVar, FailedExpectThatShowsNoValue) {
  const auto var = secret("API_KEY", kCanary);
  int failures = 0;
  for (const auto& m : every_matcher_against_the_canary()) {
    if (judge(m, var).matched) continue;
    ++failures;
    const auto message = captured_failure([&] { EXPECT_THAT(var, m); });
    EXPECT_THAT(message, HasSubstr("Actual: API_KEY = *** (secret, 31 characters"));
    EXPECT_TRUE(ShowsNoCanary(without(message, describe(m)))) << describe(m);
  }
  EXPECT_GE(failures, 10);
}

TEST(SecretEnvVar, FailedExpectThatUnderNotShowsNoValue) {
  const auto var = secret("API_KEY", kCanary);
  int passes = 0;
  for (const auto& m : every_matcher_against_the_canary()) {
    if (!judge(m, var).matched) continue;
    ++passes;
    const auto message = captured_failure([&] { EXPECT_THAT(var, Not(m)); });
    EXPECT_TRUE(ShowsNoCanary(without(message, describe_negation(m)))) << describe(m);
  }
  EXPECT_GE(passes, 3);
}

TEST(SecretEnvVar, FailedExpectThatShowsTheExplanation) {
  // gtest quotes the expression, so the value comes from a variable, as in a real suite.
  const auto var = secret("DJANGO_SECRET_KEY", "abababab");
  const auto message = captured_failure([&] { EXPECT_THAT(var, IsStrongSecret({})); });
  EXPECT_THAT(message, HasSubstr("Expected: is a strong secret (at least 50 characters"));
  EXPECT_THAT(message, HasSubstr("Actual: DJANGO_SECRET_KEY = *** (secret, 8 characters, from "
                                 "process environment) (of type deploycheck::EnvVar), where it is "
                                 "8 characters long"));
  EXPECT_THAT(message, Not(HasSubstr("abababab")));
}

// --- parse_boolean ------------------------------------------------------------------------------

TEST(ParseBoolean, ReadsWhatDjangoSettingsParsersRead) {
  for (const char* t : {"true", "True", "TRUE", "1", "yes", "Yes", "on", "ON", "t", "y", "Y"}) {
    EXPECT_EQ(parse_boolean(t), true) << t;
  }
  for (const char* f : {"false", "False", "FALSE", "0", "no", "NO", "off", "Off", "f", "n"}) {
    EXPECT_EQ(parse_boolean(f), false) << f;
  }
}

TEST(ParseBoolean, RefusesEverythingElse) {
  for (const char* text :
       {"", "maybe", "2", "-1", " true", "true ", "truee", "enabled", "nope", "yes please", "10"}) {
    EXPECT_EQ(parse_boolean(text), std::nullopt) << "'" << text << "'";
  }
}

// --- example_reason -----------------------------------------------------------------------------

TEST(ExampleReason, RecognisesDocumentationAndTemplateValues) {
  const std::string kYour =
      "it starts with 'your', as template placeholders do (your-secret-key, YourSecurePassword)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"AKIAIOSFODNN7EXAMPLE", "it is AWS's documentation example access key id"},
      {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "it is AWS's documentation example secret key"},
      {"my-example-token-123", "it contains EXAMPLE, the marker of documentation examples"},
      {"https://api.example.com", "it contains EXAMPLE, the marker of documentation examples"},
      {"SG.xxxxxxxxxxxxxxxx", "it is the SendGrid placeholder SG.xxxx"},
      {"https://xxxx@o0.ingest.sentry.io/0", "it is a placeholder DSN (xxx@...)"},
      {"xxx@sentry.io/1", "it is a placeholder DSN (xxx@...)"},
      {"your-secret-key-here", kYour},
      {"YOUR_API_KEY", kYour},
      {"YourSecurePassword", kYour},
      {"your_token", kYour},
      {"changeme", "it is a well-known placeholder or default"},
      {"Change-Me", "it is a well-known placeholder or default"},
      {"change_me", "it is a well-known placeholder or default"},
      {"replace-me", "it is a well-known placeholder or default"},
      {"secret", "it is a well-known placeholder or default"},
      {"PASSWORD", "it is a well-known placeholder or default"},
      {"passw0rd", "it is a well-known placeholder or default"},
      {"TODO", "it is a well-known placeholder or default"},
      {"xxxx", "it is a well-known placeholder or default"},
      {"********", "it is a well-known placeholder or default"},
      {"<your key here>", "it is a template placeholder in angle brackets"},
      {"${SECRET_KEY}", "it is an unexpanded ${...} reference"},
  };
  for (const auto& [value, why] : cases) EXPECT_EQ(example_reason(value), why) << value;
}

TEST(ExampleReason, AcceptsRealLookingValues) {
  for (const char* value :
       {"AKIA4Q7XJ2LMN5PRS3TW", "q8V-2mZr_T7xKp4LwN9sYb3HdJ6fGc1Ue5Ai0Ro",
        "postgres://app:Zk3q9@db.internal:5432/app", "testing-1f9a", "secret-rotated-2024-7Qz",
        "SG.Zk3q9vP", "https://sentry.io/1", "xx", "your9Qz2f", "kCanary", kCanary}) {
    EXPECT_EQ(example_reason(value), std::nullopt) << value;
  }
}

}  // namespace
}  // namespace deploycheck
