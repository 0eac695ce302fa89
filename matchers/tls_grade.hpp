#pragma once
// An SSL Labs-style grade computed offline from the facts probes/tls gathers: the SSL Server
// Rating Guide (version 2009q) with the grading changes SSL Labs published from 2014 to 2020.
// docs/tls-grade.md lists every rule implemented, every rule that is not and why.
//
//   EXPECT_THAT((tls::GradedFacts{facts, hsts_max_age}), GradeAtLeast("A"));
//
// fails with "graded B (total 95: protocol 95, key exchange 90, cipher 100); capped at B:
// TLSv1 accepted (SSL Labs, January 2020: TLS 1.0 or TLS 1.1 caps the grade at B)".
//
// The grade judges facts only (no OpenSSL, no network), so facts read back from JSON can be
// graded as well as live ones.
#include <gmock/gmock.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "matchers/tls_matchers.hpp"
#include "probes/tls/tls_probe.hpp"

namespace deploycheck {
namespace tls {

struct Grade {
  std::string letter;  // "A+", "A", "A-", "B", "C", "D", "E", "F", "T" (not trusted), "M" (name)
  int protocol_score = 0;
  int key_exchange_score = 0;
  int cipher_score = 0;
  int total = 0;  // 0.3 protocol + 0.3 key exchange + 0.4 cipher, rounded
  // Every rule that capped or changed the letter, in words with the rule, e.g. "capped at B:
  // TLSv1 accepted (SSL Labs, January 2020: TLS 1.0 or TLS 1.1 caps the grade at B)".
  std::vector<std::string> caps;
  // Server issues that turn an A into an A- (and so also deny A+).
  std::vector<std::string> warnings;
  // What this grade could not observe (suites this libssl cannot offer, DH parameter sizes):
  // limits of the probe, not faults of the server, so they never change the letter.
  std::vector<std::string> limits;
};

// `hsts_max_age` comes from the HTTPS response's valid Strict-Transport-Security header;
// nullopt when there was none. `now` (seconds since the epoch, UTC) judges the certificates'
// dates: the probe verifies chains without a clock (dates are CertValidFor's question), but the
// rating guide calls an expired or not-yet-valid certificate untrusted (T).
Grade grade(const Facts& facts, std::optional<std::chrono::seconds> hsts_max_age,
            std::int64_t now = system_now_seconds());

// Facts and the HSTS max-age together: what GradeAtLeast judges.
struct GradedFacts {
  Facts facts;
  std::optional<std::chrono::seconds> hsts;
};

// "api.example.com:443: graded A+ (total 93: protocol 100, key exchange 90, cipher 90), HSTS
// max-age 31536000 s", graded at the system clock.
void PrintTo(const GradedFacts& g, std::ostream* os);
void PrintTo(const Grade& g, std::ostream* os);

// Letters ranked for comparison: A+ 8, A 7, A- 6, B 5, C 4, D 3, E 2, F 1; T and M 0, below
// F, so an untrusted or mismatched endpoint fails any requirement. -1 for anything else.
int grade_rank(std::string_view letter);

}  // namespace tls

using GradeMatcher = ::testing::Matcher<const tls::GradedFacts&>;

// The grade is `letter` or better (A+ > A > A- > B > ... > F > T, M). Explains the score of each
// part, every cap that applied, the warnings and what could not be observed, on success too.
// Throws std::invalid_argument for a letter that is not a grade, or for "T"/"M" (which are not
// requirements one can meet).
GradeMatcher GradeAtLeast(std::string letter, EpochClock now = system_now_seconds);

}  // namespace deploycheck
