#pragma once
// gMock matchers that judge an environment variable and explain why, in the spirit of
// googletest's own: each describes itself, explains on success and failure (so Not() reads
// right), and never repeats — or, for a secret, ever shows — the value.
//
//   EXPECT_THAT(var("DEBUG"), IsBoolean("false"));
//   EXPECT_THAT(var("DATABASE_URL"), IsUrl({.schemes = {"postgres", "postgresql"}}));
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "fixtures/env_var.hpp"
#include "fixtures/environment.hpp"

namespace deploycheck {

using EnvVarMatcher = ::testing::Matcher<const EnvVar&>;

EnvVarMatcher IsSet();  // present and non-empty
EnvVarMatcher EqualsText(std::string expected);
EnvVarMatcher IsOneOf(std::vector<std::string> allowed);
EnvVarMatcher IsBoolean(std::string expected);  // "true", "false" or "any"
EnvVarMatcher IsIntegerIn(IntegerRule rule);
EnvVarMatcher IsUrl(UrlRule rule);
EnvVarMatcher IsListWhere(ListRule rule);
EnvVarMatcher MatchesPattern(std::string ecmascript_regex);
EnvVarMatcher HasMinLength(int length);
EnvVarMatcher IsNotExample();                     // no placeholder or doc example
EnvVarMatcher IsStrongSecret(StrengthRule rule);  // Django check --deploy W009

// Text helpers the matchers share, exposed for unit tests.
std::optional<bool> parse_boolean(std::string_view text);
// Why `value` is a placeholder or documentation example, or nullopt if it is not.
std::optional<std::string> example_reason(std::string_view value);

}  // namespace deploycheck
