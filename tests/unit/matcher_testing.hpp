#pragma once
// Test helpers for gMock matchers: what a matcher says about a value, and how it describes itself.
#include <gmock/gmock.h>

#include <ostream>
#include <string>

#include "tests/unit/captured_failure.hpp"

namespace deploycheck::testing {

// A matcher's verdict on one value: whether it matched, and its explanation.
struct Verdict {
  bool matched;
  std::string explanation;
  bool operator==(const Verdict&) const = default;
};
inline void PrintTo(const Verdict& v, std::ostream* os) {
  *os << (v.matched ? "match, " : "no match, ") << "\"" << v.explanation << "\"";
}

template <class T>
Verdict judge(const ::testing::Matcher<const T&>& matcher, const T& value) {
  ::testing::StringMatchResultListener listener;
  const bool matched = matcher.MatchAndExplain(value, &listener);
  return {matched, listener.str()};
}

template <class T>
std::string describe(const ::testing::Matcher<const T&>& m, bool negation = false) {
  return ::testing::DescribeMatcher<const T&>(m, negation);
}

}  // namespace deploycheck::testing
