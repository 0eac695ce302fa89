// The offline SSL Labs-style grade: scores, caps, the A-/A+ adjustments, T and M, and the exact
// words GradeAtLeast explains them with. Facts are built by hand in the shape the probe gathers
// from the sandbox's endpoints (tools/sandbox/tls_endpoints.cpp).
#include "matchers/tls_grade.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace deploycheck {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using tls::Certificate;
using tls::CipherSuite;
using tls::Facts;
using tls::GradedFacts;
using tls::ProtocolSupport;
using tls::Strength;
using namespace std::chrono_literals;

using Result = ProtocolSupport::Result;

constexpr std::chrono::seconds kOneYear{31536000};

std::int64_t at(std::chrono::sys_days day) {
  return day.time_since_epoch() / 1s;
}

// Graded at 2026-11-22T00:00:00Z; the certificates are valid from 2026-01-01 to 2090-01-01, so
// PrintTo (which grades at the system clock) agrees until 2090.
const std::int64_t kNow = at(2026y / 11 / 22);
const EpochClock kClock = [] { return kNow; };

Certificate dated(Certificate c) {
  c.not_before = at(2026y / 1 / 1);
  c.not_after = at(2090y / 1 / 1);
  return c;
}

Certificate leaf() {
  Certificate c;
  c.subject = "CN=ecdsa.deploycheck.test";
  c.issuer = "CN=deploycheck sandbox intermediate";
  c.dns_names = {"ecdsa.deploycheck.test"};
  c.key_type = "EC";
  c.key_bits = 256;
  c.signature_algorithm = "ecdsa-with-SHA256";
  c.sha256_fingerprint = "aa01";
  return dated(c);
}

Certificate intermediate() {
  Certificate c;
  c.subject = "CN=deploycheck sandbox intermediate";
  c.issuer = "CN=deploycheck sandbox root";
  c.key_type = "EC";
  c.key_bits = 384;
  c.signature_algorithm = "ecdsa-with-SHA384";
  c.is_ca = true;
  c.sha256_fingerprint = "bb02";
  return dated(c);
}

Certificate root() {
  Certificate c;
  c.subject = c.issuer = "CN=deploycheck sandbox root";
  c.key_type = "EC";
  c.key_bits = 384;
  c.signature_algorithm = "ecdsa-with-SHA384";
  c.self_signed = c.is_ca = true;
  c.sha256_fingerprint = "cc03";
  return dated(c);
}

// The sandbox's healthy `ecdsa` endpoint: TLS 1.2 and 1.3, ECDHE+AESGCM:ECDHE+CHACHA20, P-256.
Facts ecdsa() {
  Facts f;
  f.endpoint.id = "ecdsa";
  f.endpoint.name = "ecdsa.deploycheck.test";
  f.endpoint.port = 8443;
  auto& h = f.handshake;
  h.protocol = "TLSv1.3";
  h.cipher = "TLS_AES_256_GCM_SHA384";
  h.presented = {leaf(), intermediate()};
  h.verified = {leaf(), intermediate(), root()};
  h.verified_ok = true;
  h.hostname_matches = true;
  f.protocols = {
      {"SSLv3", Result::kNotChecked, "this libssl cannot offer SSLv3"},
      {"TLSv1", Result::kRejected, ""},
      {"TLSv1.1", Result::kRejected, ""},
      {"TLSv1.2", Result::kAccepted, ""},
      {"TLSv1.3", Result::kAccepted, ""},
  };
  f.accepted_ciphers = {
      {"TLS_AES_256_GCM_SHA384", "TLSv1.3", Strength::kStrong, ""},
      {"TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3", Strength::kStrong, ""},
      {"TLS_AES_128_GCM_SHA256", "TLSv1.3", Strength::kStrong, ""},
      {"ECDHE-ECDSA-AES256-GCM-SHA384", "TLSv1.2", Strength::kStrong, ""},
      {"ECDHE-ECDSA-CHACHA20-POLY1305", "TLSv1.2", Strength::kStrong, ""},
      {"ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2", Strength::kStrong, ""},
  };
  f.not_checked = {"RC4, 3DES, DES and export suites: this libssl cannot offer them"};
  return f;
}

// The probe's limits as every graded ecdsa() variant reports them.
const std::string kLimits =
    "; not observed here: SSLv2 not checked: OpenSSL 3 cannot offer it; SSLv3 not checked: this "
    "libssl cannot offer SSLv3; not checked: RC4, 3DES, DES and export suites: this libssl cannot "
    "offer them";

struct Verdict {
  bool matched;
  std::string explanation;
};

Verdict judge(const std::string& letter, const Facts& f, std::optional<std::chrono::seconds> hsts) {
  ::testing::StringMatchResultListener listener;
  const bool matched =
      GradeAtLeast(letter, kClock).MatchAndExplain(GradedFacts{f, hsts}, &listener);
  return {matched, listener.str()};
}

// ---- the sandbox's endpoints ------------------------------------------------------------------

TEST(TlsGrade, HealthyEcdsaWithOneYearHstsIsAPlus) {
  const tls::Grade g = tls::grade(ecdsa(), kOneYear, kNow);
  EXPECT_EQ(g.letter, "A+");
  EXPECT_EQ(g.protocol_score, 100);
  EXPECT_EQ(g.key_exchange_score, 90);  // P-256 is RSA-3072 strength: under 4096
  EXPECT_EQ(g.cipher_score, 90);        // AES-256 100, AES-128 80
  EXPECT_EQ(g.total, 93);
  EXPECT_THAT(g.warnings, IsEmpty());
  const Verdict v = judge("A+", ecdsa(), kOneYear);
  EXPECT_TRUE(v.matched);
  EXPECT_EQ(v.explanation,
            "graded A+ (total 93: protocol 100, key exchange 90, cipher 90); raised to A+: HSTS "
            "max-age 31536000 s and no warnings (SSL Labs: A+ needs an A with no warnings and "
            "HSTS max-age of at least 15552000 s, 180 days); at least A+" +
                kLimits);
}

TEST(TlsGrade, WithoutHstsIsA) {
  const tls::Grade g = tls::grade(ecdsa(), std::nullopt, kNow);
  EXPECT_EQ(g.letter, "A");
  const Verdict v = judge("A+", ecdsa(), std::nullopt);
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation,
            "graded A (total 93: protocol 100, key exchange 90, cipher 90); not A+: no "
            "Strict-Transport-Security header (SSL Labs: A+ needs an A with no warnings and HSTS "
            "max-age of at least 15552000 s, 180 days); below A+" +
                kLimits);
  EXPECT_TRUE(judge("A", ecdsa(), std::nullopt).matched);
}

TEST(TlsGrade, ShortHstsIsA) {
  const tls::Grade g = tls::grade(ecdsa(), std::chrono::seconds{3600}, kNow);
  EXPECT_EQ(g.letter, "A");
  EXPECT_THAT(g.caps, ElementsAre("not A+: HSTS max-age 3600 s is under 15552000 s (SSL Labs: A+ "
                                  "needs an A with no warnings and HSTS max-age of at least "
                                  "15552000 s, 180 days)"));
  // Exactly 180 days is enough.
  EXPECT_EQ(tls::grade(ecdsa(), std::chrono::seconds{15552000}, kNow).letter, "A+");
}

// The sandbox's `tls10` endpoint: TLS 1.0 and 1.1 enabled with ECDHE-ECDSA-AES128-SHA.
TEST(TlsGrade, Tls10IsCappedAtB) {
  Facts f = ecdsa();
  f.protocols[1].result = Result::kAccepted;
  f.protocols[2].result = Result::kAccepted;
  for (const char* p : {"TLSv1", "TLSv1.1", "TLSv1.2"}) {
    f.accepted_ciphers.push_back({"ECDHE-ECDSA-AES128-SHA", p, Strength::kWeak, "CBC mode"});
  }
  const tls::Grade g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "B");
  EXPECT_EQ(g.protocol_score, 95);  // (100 + 90) / 2
  EXPECT_EQ(g.total, 92);           // 28.5 + 27 + 36, rounded
  const Verdict v = judge("A", f, kOneYear);
  EXPECT_FALSE(v.matched);
  EXPECT_EQ(v.explanation,
            "graded B (total 92: protocol 95, key exchange 90, cipher 90); capped at B: TLS 1.0 "
            "accepted (SSL Labs, January 2020: TLS 1.0 or TLS 1.1 caps the grade at B); capped at "
            "B: TLS 1.1 accepted (SSL Labs, January 2020: TLS 1.0 or TLS 1.1 caps the grade at "
            "B); below A" +
                kLimits);
  EXPECT_TRUE(judge("B", f, kOneYear).matched);
}

// The sandbox's `rsa1024` endpoint.
TEST(TlsGrade, Rsa1024IsCappedAtB) {
  Facts f = ecdsa();
  f.handshake.presented[0].key_type = "RSA";
  f.handshake.presented[0].key_bits = 1024;
  f.handshake.verified[0] = f.handshake.presented[0];
  const tls::Grade g = tls::grade(f, kOneYear, kNow);
  // 1024 bits is "under 2048" (B), not "under 1024" (F).
  EXPECT_EQ(g.letter, "B");
  EXPECT_EQ(g.key_exchange_score, 80);
  EXPECT_THAT(g.caps, ElementsAre("capped at B: RSA 1024-bit key (rating guide: a key under 2048 "
                                  "bits caps the grade at B)"));
}

TEST(TlsGrade, RsaUnder1024IsF) {
  Facts f = ecdsa();
  f.handshake.presented[0].key_type = "RSA";
  f.handshake.presented[0].key_bits = 768;
  f.handshake.verified[0] = f.handshake.presented[0];
  const tls::Grade g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "F");
  EXPECT_EQ(g.key_exchange_score, 40);
  EXPECT_THAT(g.caps, ElementsAre("capped at F: RSA 768-bit key (rating guide: a key under 1024 "
                                  "bits gives F)"));
  const Verdict v = judge("F", f, kOneYear);
  EXPECT_TRUE(v.matched);
  EXPECT_FALSE(judge("E", f, kOneYear).matched);
}

// The sandbox's `selfsigned` endpoint: not trusted, T whatever the scores.
TEST(TlsGrade, UntrustedIsT) {
  Facts f = ecdsa();
  Certificate self = leaf();
  self.issuer = self.subject;
  self.self_signed = true;
  f.handshake.presented = {self};
  f.handshake.verified.clear();
  f.handshake.verified_ok = false;
  f.handshake.verify_error = "self-signed certificate";
  const tls::Grade g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "T");
  const Verdict v = judge("F", f, kOneYear);
  EXPECT_FALSE(v.matched);  // T is below F: it fails any requirement
  EXPECT_EQ(v.explanation,
            "graded T (total 93: protocol 100, key exchange 90, cipher 90); raised to A+: HSTS "
            "max-age 31536000 s and no warnings (SSL Labs: A+ needs an A with no warnings and "
            "HSTS max-age of at least 15552000 s, 180 days); shown as T: the chain is not "
            "trusted: self-signed certificate (rating guide: T when the certificate is not "
            "trusted, expired included); graded A+ otherwise; below F" +
                kLimits);
}

// The sandbox's `expired` and `notyet` endpoints: the probe verifies without a clock (dates are
// CertValidFor's question), so the chain verified; the grade judges the dates itself.
TEST(TlsGrade, ExpiredOrNotYetValidIsT) {
  Facts f = ecdsa();
  f.handshake.presented[0].not_after = kNow - 86400;
  f.handshake.verified[0] = f.handshake.presented[0];
  tls::Grade g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "T");
  EXPECT_EQ(g.caps.back(),
            "shown as T: CN=ecdsa.deploycheck.test is expired (rating guide: T when the "
            "certificate is not trusted, expired included); graded A+ otherwise");
  f = ecdsa();
  f.handshake.presented[0].not_before = kNow + 86400;
  f.handshake.verified[0] = f.handshake.presented[0];
  g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "T");
  EXPECT_THAT(g.caps.back(), HasSubstr("CN=ecdsa.deploycheck.test is not yet valid"));
}

// The sandbox's `nointermediate` endpoint: incomplete (B) and so not trusted (T).
TEST(TlsGrade, MissingIntermediateIsTWithTheChainCapNamed) {
  Facts f = ecdsa();
  f.handshake.presented = {leaf()};
  f.handshake.verified.clear();
  f.handshake.verified_ok = false;
  f.handshake.verify_error = "unable to get local issuer certificate";
  const tls::Grade g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "T");
  ASSERT_EQ(g.caps.size(), 2u);
  EXPECT_THAT(g.caps[0], HasSubstr("capped at B: incomplete chain: the endpoint whose presented "
                                   "chain (1 certificate) ends at CN=ecdsa.deploycheck.test"));
  EXPECT_EQ(g.caps[1],
            "shown as T: the chain is not trusted: unable to get local issuer certificate "
            "(rating guide: T when the certificate is not trusted, expired included); graded B "
            "otherwise");
}

// The sandbox's `sha1` endpoint: OpenSSL at level 0 may verify it; browsers do not.
TEST(TlsGrade, Sha1SignedLeafIsT) {
  Facts f = ecdsa();
  f.handshake.presented[0].signature_algorithm = "ecdsa-with-SHA1";
  const tls::Grade g = tls::grade(f, std::nullopt, kNow);
  EXPECT_EQ(g.letter, "T");
  EXPECT_THAT(g.caps.back(),
              HasSubstr("shown as T: CN=ecdsa.deploycheck.test is signed with ecdsa-with-SHA1"));
}

// The sandbox's `wronghost` endpoint.
TEST(TlsGrade, NameMismatchIsM) {
  Facts f = ecdsa();
  f.handshake.hostname_matches = false;
  const tls::Grade g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "M");
  EXPECT_EQ(g.caps.back(),
            "shown as M: the certificate does not cover ecdsa.deploycheck.test (testssl.sh and "
            "SSL Labs: M for a certificate name mismatch); graded A+ otherwise");
  EXPECT_FALSE(judge("F", f, kOneYear).matched);
}

TEST(TlsGrade, CbcOnlyTls12IsCappedAtBForNoAead) {
  Facts f = ecdsa();
  f.protocols[4].result = Result::kRejected;
  f.handshake.protocol = "TLSv1.2";
  f.handshake.cipher = "ECDHE-ECDSA-AES256-SHA384";
  f.accepted_ciphers = {
      {"ECDHE-ECDSA-AES256-SHA384", "TLSv1.2", Strength::kWeak, "CBC mode"},
      {"ECDHE-ECDSA-AES128-SHA256", "TLSv1.2", Strength::kWeak, "CBC mode"},
  };
  const tls::Grade g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "B");
  EXPECT_EQ(g.total, 93);
  EXPECT_THAT(g.caps, ElementsAre("capped at B: no AEAD suite (GCM, CCM or ChaCha20-Poly1305) "
                                  "accepted (SSL Labs, March 2018: no AEAD suite caps the grade "
                                  "at B)"));
}

// The sandbox's `weakcipher` endpoint: AES128-SHA beside ECDHE+AESGCM on an RSA-2048 leaf.
TEST(TlsGrade, SomeSuiteWithoutForwardSecrecyIsAMinus) {
  Facts f = ecdsa();
  f.handshake.presented[0].key_type = "RSA";
  f.handshake.presented[0].key_bits = 2048;
  f.handshake.verified[0] = f.handshake.presented[0];
  f.accepted_ciphers.push_back({"AES128-SHA", "TLSv1.2", Strength::kWeak, "no forward secrecy"});
  const tls::Grade g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "A-");
  EXPECT_THAT(g.warnings,
              ElementsAre("forward secrecy is not used with every client: 1 suite without it "
                          "accepted (AES128-SHA (TLSv1.2)) (rating guide: A- when forward secrecy "
                          "is not used with all browsers; without client simulation, any "
                          "accepted suite without it counts)"));
  EXPECT_THAT(g.caps, ElementsAre("lowered to A-: 1 warning"));
  EXPECT_TRUE(judge("A-", f, kOneYear).matched);
  EXPECT_FALSE(judge("A", f, kOneYear).matched);
}

TEST(TlsGrade, NoForwardSecrecyAtAllIsCappedAtB) {
  Facts f = ecdsa();
  f.protocols[4].result = Result::kRejected;
  f.accepted_ciphers = {{"AES256-GCM-SHA384", "TLSv1.2", Strength::kWeak, "no forward secrecy"}};
  const tls::Grade g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "B");
  EXPECT_THAT(g.caps, ElementsAre("capped at B: no forward secrecy: no ECDHE, DHE or TLS 1.3 suite "
                                  "accepted (SSL Labs, March 2018: no forward secrecy caps the "
                                  "grade at B)"));
}

TEST(TlsGrade, NullAndAnonymousSuitesAreF) {
  Facts f = ecdsa();
  f.accepted_ciphers.push_back(
      {"ECDHE-ECDSA-NULL-SHA", "TLSv1.2", Strength::kInsecure, "NULL encryption"});
  tls::Grade g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "F");
  EXPECT_EQ(g.cipher_score, 50);  // strongest 256 bits (100), weakest 0 bits (0)

  f = ecdsa();
  f.accepted_ciphers.push_back(
      {"AECDH-AES128-SHA", "TLSv1.2", Strength::kInsecure, "anonymous key exchange"});
  g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "F");
  EXPECT_EQ(g.key_exchange_score, 0);
}

TEST(TlsGrade, BestProtocolBelowTls12IsCappedAtC) {
  Facts f = ecdsa();
  f.protocols[1].result = Result::kAccepted;
  f.protocols[3].result = Result::kRejected;
  f.protocols[4].result = Result::kRejected;
  f.accepted_ciphers = {{"ECDHE-ECDSA-AES256-SHA", "TLSv1", Strength::kWeak, "CBC mode"}};
  const tls::Grade g = tls::grade(f, kOneYear, kNow);
  EXPECT_EQ(g.letter, "C");
  EXPECT_EQ(g.protocol_score, 90);
  EXPECT_EQ(g.cipher_score, 100);
}

TEST(TlsGrade, RevokedStapleIsF) {
  Facts f = ecdsa();
  f.handshake.ocsp_stapled = true;
  f.handshake.ocsp_status = "revoked";
  EXPECT_EQ(tls::grade(f, kOneYear, kNow).letter, "F");
}

TEST(TlsGrade, EcKeysAreScoredAtTheirRsaEquivalent) {
  Facts f = ecdsa();
  f.handshake.presented[0].key_bits = 384;  // RSA-7680 strength
  f.handshake.verified[0] = f.handshake.presented[0];
  EXPECT_EQ(tls::grade(f, kOneYear, kNow).key_exchange_score, 100);
}

// ---- GradeAtLeast itself ----------------------------------------------------------------------

TEST(GradeAtLeast, LetterOrder) {
  EXPECT_GT(tls::grade_rank("A+"), tls::grade_rank("A"));
  EXPECT_GT(tls::grade_rank("A"), tls::grade_rank("A-"));
  EXPECT_GT(tls::grade_rank("A-"), tls::grade_rank("B"));
  EXPECT_GT(tls::grade_rank("E"), tls::grade_rank("F"));
  EXPECT_GT(tls::grade_rank("F"), tls::grade_rank("T"));
  EXPECT_EQ(tls::grade_rank("T"), tls::grade_rank("M"));
  EXPECT_EQ(tls::grade_rank("Z"), -1);
}

TEST(GradeAtLeast, RefusesLettersThatAreNotRequirements) {
  EXPECT_THROW(GradeAtLeast("T"), std::invalid_argument);
  EXPECT_THROW(GradeAtLeast("M"), std::invalid_argument);
  EXPECT_THROW(GradeAtLeast("a"), std::invalid_argument);
}

TEST(GradeAtLeast, DescribesItselfAndPrintsTheValueOnOneLine) {
  EXPECT_EQ(::testing::DescribeMatcher<const GradedFacts&>(GradeAtLeast("A")),
            "is graded A or better (SSL Labs rating guide)");
  EXPECT_EQ(::testing::DescribeMatcher<const GradedFacts&>(GradeAtLeast("A"), true),
            "is graded below A (SSL Labs rating guide)");
  EXPECT_EQ(::testing::PrintToString(GradedFacts{ecdsa(), kOneYear}),
            "ecdsa.deploycheck.test:8443: graded A+ (total 93: protocol 100, key exchange 90, "
            "cipher 90), HSTS max-age 31536000 s");
  EXPECT_THAT((GradedFacts{ecdsa(), std::nullopt}), Not(GradeAtLeast("A+", kClock)));
}

}  // namespace
}  // namespace deploycheck
