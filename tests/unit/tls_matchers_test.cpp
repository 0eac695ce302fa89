// Every TLS matcher and the HTTP-side HSTS and redirect matchers: what they accept, what they
// refuse, how they describe themselves, and the exact words of their explanations. Facts are
// plain structs built here, judged at a fixed instant; the probe that gathers them is tested
// against real servers by the sandbox.
#include "matchers/tls_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/unit/matcher_testing.hpp"

namespace deploycheck {
namespace {

using ::testing::DescribeMatcher;
using ::testing::Not;
using tls::Certificate;
using tls::CipherSuite;
using tls::Facts;
using tls::ProtocolSupport;
using tls::Strength;
using namespace std::chrono_literals;
using std::chrono::days;

using Result = ProtocolSupport::Result;

std::int64_t at(std::chrono::sys_days day, std::chrono::seconds time = 0s) {
  return (day.time_since_epoch() + time) / 1s;
}

// Every check is judged at 2026-11-22T12:00:00Z.
const std::int64_t kNow = at(2026y / 11 / 22, 12h);
const EpochClock kClock = [] { return kNow; };

Certificate leaf() {
  Certificate c;
  c.subject = "CN=api.example.com,O=Example";
  c.issuer = "CN=Example Intermediate CA,O=Example";
  c.dns_names = {"api.example.com", "*.api.example.com"};
  c.ip_addresses = {"192.0.2.10", "2001:db8::10"};
  c.not_after = at(2027y / 2 / 21);
  c.not_before = at(2026y / 11 / 1);
  c.key_type = "EC";
  c.key_bits = 256;
  c.signature_algorithm = "sha256WithRSAEncryption";
  c.sha256_fingerprint = "aa01";
  c.embedded_scts = 2;
  return c;
}

Certificate intermediate() {
  Certificate c;
  c.subject = "CN=Example Intermediate CA,O=Example";
  c.issuer = "CN=Example Root CA,O=Example";
  c.not_before = at(2025y / 1 / 1);
  c.not_after = at(2030y / 1 / 1);
  c.key_type = "RSA";
  c.key_bits = 4096;
  c.signature_algorithm = "sha384WithRSAEncryption";
  c.is_ca = true;
  c.sha256_fingerprint = "bb02";
  return c;
}

Certificate root() {
  Certificate c;
  c.subject = c.issuer = "CN=Example Root CA,O=Example";
  c.not_before = at(2020y / 1 / 1);
  c.not_after = at(2040y / 1 / 1);
  c.key_type = "RSA";
  c.key_bits = 4096;
  c.signature_algorithm = "sha1WithRSAEncryption";  // a root's self-signature is never checked
  c.self_signed = c.is_ca = true;
  c.sha256_fingerprint = "cc03";
  return c;
}

// An endpoint that passes every check.
Facts healthy() {
  Facts f;
  f.endpoint.id = "api";
  f.endpoint.name = "api.example.com";
  f.endpoint.port = 443;
  auto& h = f.handshake;
  h.protocol = "TLSv1.3";
  h.cipher = "TLS_AES_256_GCM_SHA384";
  h.presented = {leaf(), intermediate()};
  h.verified = {leaf(), intermediate(), root()};
  h.verified_ok = true;
  h.hostname_matches = true;
  h.ocsp_stapled = true;
  h.ocsp_status = "good";
  f.protocols = {
      {"SSLv3", Result::kNotChecked, "this libssl cannot offer SSLv3 (built without it)"},
      {"TLSv1", Result::kRejected, "alert protocol version"},
      {"TLSv1.1", Result::kRejected, "alert protocol version"},
      {"TLSv1.2", Result::kAccepted, ""},
      {"TLSv1.3", Result::kAccepted, ""},
  };
  f.accepted_ciphers = {
      {"TLS_AES_256_GCM_SHA384", "TLSv1.3", Strength::kStrong, ""},
      {"ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2", Strength::kStrong, ""},
  };
  f.not_checked = {"RC4, 3DES, DES and export suites: this libssl cannot offer them"};
  return f;
}

// A facts value whose presented chain lacks its intermediate and therefore did not verify.
Facts missing_intermediate() {
  Facts f = healthy();
  f.handshake.presented = {leaf()};
  f.handshake.verified.clear();
  f.handshake.verified_ok = false;
  f.handshake.verify_error = "unable to get local issuer certificate";
  return f;
}

HttpResponse response(std::string url, long status,
                      std::multimap<std::string, std::string> headers = {}) {
  HttpResponse r;
  r.url = std::move(url);
  r.status = status;
  r.headers = std::move(headers);
  return r;
}

using deploycheck::testing::describe;
using deploycheck::testing::judge;
using deploycheck::testing::Verdict;

using deploycheck::testing::captured_failure;

// ---- printing ------------------------------------------------------------------------------

TEST(TlsPrinting, OneLineWithEndpointHandshakeLeafAndVerification) {
  EXPECT_EQ(::testing::PrintToString(healthy()),
            "api.example.com:443: TLSv1.3 TLS_AES_256_GCM_SHA384, leaf CN=api.example.com (EC "
            "256) valid 2026-11-01T00:00:00Z to 2027-02-21T00:00:00Z, chain verified");
  Facts f = missing_intermediate();
  f.endpoint.connect = "10.0.0.5";
  EXPECT_EQ(::testing::PrintToString(f),
            "api.example.com:443 via 10.0.0.5: TLSv1.3 TLS_AES_256_GCM_SHA384, leaf "
            "CN=api.example.com (EC 256) valid 2026-11-01T00:00:00Z to 2027-02-21T00:00:00Z, "
            "chain not verified");
}

TEST(TlsPrinting, NoHandshakeAndNoCertificate) {
  Facts f = healthy();
  f.handshake.presented.clear();
  EXPECT_EQ(::testing::PrintToString(f),
            "api.example.com:443: TLSv1.3 TLS_AES_256_GCM_SHA384, no certificate, chain verified");
  f.handshake.protocol.clear();
  EXPECT_EQ(::testing::PrintToString(f), "api.example.com:443: no handshake");
}

TEST(TlsPrinting, FailureMessagePrintsTheValueOnceAndExplainsOnce) {
  Facts f = healthy();
  f.handshake.presented[0].not_after = at(2026y / 12 / 1, 12h);
  const std::string message =
      captured_failure([&] { EXPECT_THAT(f, CertValidFor(days{30}, Which::kLeaf, kClock)); });
  EXPECT_THAT(message,
              ::testing::HasSubstr(
                  "Expected: has a leaf certificate valid for at least 30 days\n"
                  "  Actual: api.example.com:443: TLSv1.3 TLS_AES_256_GCM_SHA384, leaf "
                  "CN=api.example.com (EC 256) valid 2026-11-01T00:00:00Z to "
                  "2026-12-01T12:00:00Z, chain verified (of type deploycheck::tls::Facts), leaf "
                  "certificate for api.example.com "
                  "expires in 9 days (2026-12-01T12:00:00Z), 21 days short of the policy"));
}

// ---- CertValidFor ----------------------------------------------------------------------------

TEST(CertValidFor, PassesWithDaysToSpare) {
  EXPECT_EQ(judge(CertValidFor(days{30}, Which::kLeaf, kClock), healthy()),
            (Verdict{true,
                     "leaf certificate for api.example.com expires in 90 days "
                     "(2027-02-21T00:00:00Z), 60 days more than the policy's 30"}));
}

TEST(CertValidFor, FailsShortOfThePolicy) {
  Facts f = healthy();
  f.handshake.presented[0].not_after = at(2026y / 12 / 1, 12h);
  EXPECT_EQ(judge(CertValidFor(days{30}, Which::kLeaf, kClock), f),
            (Verdict{false,
                     "leaf certificate for api.example.com expires in 9 days "
                     "(2026-12-01T12:00:00Z), 21 days short of the policy"}));
}

TEST(CertValidFor, DaysLeftIsTheFloorOfWholeDays) {
  Facts f = healthy();
  f.handshake.presented[0].not_after = kNow + 30 * 86400 - 1;  // 29 days 23:59:59
  EXPECT_EQ(judge(CertValidFor(days{30}, Which::kLeaf, kClock), f),
            (Verdict{false,
                     "leaf certificate for api.example.com expires in 29 days "
                     "(2026-12-22T11:59:59Z), 1 day short of the policy"}));
  f.handshake.presented[0].not_after = kNow + 30 * 86400;
  EXPECT_TRUE(judge(CertValidFor(days{30}, Which::kLeaf, kClock), f).matched);
}

TEST(CertValidFor, ExpiredCertificateStillExplainedWithFailedVerification) {
  Facts f = healthy();
  f.handshake.presented[0].not_after = kNow - 3 * 86400 - 3600;
  f.handshake.verified.clear();
  f.handshake.verified_ok = false;
  f.handshake.verify_error = "certificate has expired";
  EXPECT_EQ(judge(CertValidFor(days{30}, Which::kLeaf, kClock), f),
            (Verdict{false,
                     "leaf certificate for api.example.com expired 3 days ago "
                     "(2026-11-19T11:00:00Z); the chain did not verify: certificate has expired"}));
  f.handshake.presented[0].not_after = kNow - 3600;
  EXPECT_EQ(judge(CertValidFor(days{1}, Which::kLeaf, kClock), f).explanation,
            "leaf certificate for api.example.com expired less than a day ago "
            "(2026-11-22T11:00:00Z); the chain did not verify: certificate has expired");
  // Expiring exactly now counts as expired: the certificate is no longer valid.
  f.handshake.presented[0].not_after = kNow;
  EXPECT_FALSE(judge(CertValidFor(days{0}, Which::kLeaf, kClock), f).matched);
}

TEST(CertValidFor, NotYetValidFails) {
  Facts f = healthy();
  f.handshake.presented[0].not_before = at(2026y / 12 / 1);
  EXPECT_EQ(judge(CertValidFor(days{30}, Which::kLeaf, kClock), f),
            (Verdict{false,
                     "leaf certificate for api.example.com is not valid until "
                     "2026-12-01T00:00:00Z (in 9 days)"}));
}

TEST(CertValidFor, EarliestInChainNamesTheCertificateItMeasured) {
  Facts f = healthy();
  f.handshake.presented[1].not_after = at(2026y / 12 / 10);
  EXPECT_EQ(judge(CertValidFor(days{30}, Which::kEarliestInChain, kClock), f),
            (Verdict{false,
                     "earliest-expiring certificate presented by api.example.com, CN=Example "
                     "Intermediate CA (#2 of 2), expires in 17 days (2026-12-10T00:00:00Z), 13 "
                     "days short of the policy"}));
  // The leaf alone is fine: only the chain-wide view catches the intermediate.
  EXPECT_TRUE(judge(CertValidFor(days{30}, Which::kLeaf, kClock), f).matched);
  EXPECT_EQ(judge(CertValidFor(days{30}, Which::kEarliestInChain, kClock), healthy()),
            (Verdict{true,
                     "earliest-expiring certificate presented by api.example.com, "
                     "CN=api.example.com (the leaf), expires in 90 days (2027-02-21T00:00:00Z), 60 "
                     "days more than the policy's 30"}));
}

TEST(CertValidFor, ReadsTheClockWhenItJudges) {
  std::int64_t now = kNow;
  const auto m = CertValidFor(days{30}, Which::kLeaf, [&] { return now; });
  EXPECT_TRUE(judge(m, healthy()).matched);
  now = at(2027y / 2 / 1);
  EXPECT_EQ(judge(m, healthy()).explanation,
            "leaf certificate for api.example.com expires in 20 days (2027-02-21T00:00:00Z), 10 "
            "days short of the policy");
}

TEST(CertValidFor, NoCertificateAndDescriptions) {
  Facts f = healthy();
  f.handshake.presented.clear();
  EXPECT_EQ(judge(CertValidFor(days{30}, Which::kLeaf, kClock), f),
            (Verdict{false, "which presented no certificate"}));
  EXPECT_EQ(describe(CertValidFor(days{30})), "has a leaf certificate valid for at least 30 days");
  EXPECT_EQ(describe(CertValidFor(days{1}), true),
            "has a leaf certificate valid for less than 1 day");
  EXPECT_EQ(describe(CertValidFor(days{30}, Which::kEarliestInChain)),
            "has a presented chain whose every certificate is valid for at least 30 days");
}

TEST(CertValidFor, SystemClockIsTheDefault) {
  // healthy() expires in 2027; by the real clock it is either valid or expired, never judged
  // at the fixed instant. Only the shape is asserted.
  EXPECT_THAT(judge(CertValidFor(days{0}), healthy()).explanation,
              ::testing::StartsWith("leaf certificate for api.example.com "));
  EXPECT_GT(system_now_seconds(), at(2025y / 1 / 1));
}

// ---- CoversHost ------------------------------------------------------------------------------

TEST(CoversHost, ExactNameWithoutCaseOrTrailingDot) {
  EXPECT_EQ(judge(CoversHost("API.Example.com."), healthy()),
            (Verdict{true,
                     "whose leaf certificate covers API.Example.com. by its SAN "
                     "api.example.com"}));
}

TEST(CoversHost, WildcardCoversExactlyOneLeftMostLabel) {
  EXPECT_EQ(judge(CoversHost("v2.api.example.com"), healthy()),
            (Verdict{true,
                     "whose leaf certificate covers v2.api.example.com by its SAN "
                     "*.api.example.com"}));
  EXPECT_EQ(judge(CoversHost("a.b.api.example.com"), healthy()),
            (Verdict{false,
                     "whose leaf certificate does not cover a.b.api.example.com: its SANs are DNS "
                     "api.example.com, *.api.example.com; IP 192.0.2.10, 2001:db8::10 (a wildcard "
                     "covers exactly one label)"}));
  EXPECT_EQ(judge(CoversHost("www.example.com"), healthy()),
            (Verdict{false,
                     "whose leaf certificate does not cover www.example.com: its SANs are DNS "
                     "api.example.com, *.api.example.com; IP 192.0.2.10, 2001:db8::10"}));
}

TEST(CoversHost, WildcardRulesFromRfc6125) {
  Facts f = healthy();
  f.handshake.presented[0].ip_addresses.clear();
  f.handshake.presented[0].dns_names = {"*.com", "f*.example.org", "*.*.example.net"};
  for (const char* host : {"example.com", "foo.example.org", "a.b.example.net"}) {
    EXPECT_FALSE(judge(CoversHost(host), f).matched) << host;
  }
  f.handshake.presented[0].dns_names = {"*.example.com"};
  EXPECT_FALSE(judge(CoversHost("example.com"), f).matched);
  EXPECT_FALSE(judge(CoversHost(".example.com"), f).matched);
  EXPECT_TRUE(judge(CoversHost("WWW.example.com"), f).matched);
}

TEST(CoversHost, IpAddressesMatchIpSansOnlyInCanonicalForm) {
  EXPECT_EQ(judge(CoversHost("2001:DB8:0::10"), healthy()),
            (Verdict{true,
                     "whose leaf certificate covers 2001:DB8:0::10 by its IP SAN "
                     "2001:db8::10"}));
  EXPECT_TRUE(judge(CoversHost("192.0.2.10"), healthy()).matched);
  Facts f = healthy();
  f.handshake.presented[0].dns_names = {"192.0.2.20"};  // a DNS SAN does not cover an address
  f.handshake.presented[0].ip_addresses.clear();
  EXPECT_EQ(judge(CoversHost("192.0.2.20"), f),
            (Verdict{false,
                     "whose leaf certificate does not cover the address 192.0.2.20: its SANs are "
                     "DNS 192.0.2.20 (an IP address is matched against IP SANs only)"}));
}

TEST(CoversHost, SubjectCnIsNotConsulted) {
  Facts f = healthy();
  f.handshake.presented[0].dns_names.clear();
  f.handshake.presented[0].ip_addresses.clear();
  EXPECT_EQ(judge(CoversHost("api.example.com"), f),
            (Verdict{false,
                     "whose leaf certificate does not cover api.example.com: it has no "
                     "subjectAltName (its subject CN=api.example.com is not consulted: browsers "
                     "require a subjectAltName)"}));
}

TEST(CoversHost, Describes) {
  EXPECT_EQ(describe(CoversHost("api.example.com")),
            "has a leaf certificate that covers api.example.com");
  EXPECT_EQ(describe(CoversHost("api.example.com"), true),
            "has a leaf certificate that does not cover api.example.com");
  EXPECT_THAT(healthy(), Not(CoversHost("other.example.org")));
}

// ---- ChainVerifies ---------------------------------------------------------------------------

TEST(ChainVerifies, PassesNamingTheAnchorAndFailsWithOpenSslsReason) {
  EXPECT_EQ(judge(ChainVerifies(), healthy()),
            (Verdict{true, "whose chain verified up to CN=Example Root CA"}));
  EXPECT_EQ(judge(ChainVerifies(), missing_intermediate()),
            (Verdict{false, "whose chain did not verify: unable to get local issuer certificate"}));
  Facts f = missing_intermediate();
  f.handshake.verify_error.clear();
  EXPECT_EQ(judge(ChainVerifies(), f),
            (Verdict{false, "whose chain did not verify: no reason was recorded"}));
  EXPECT_EQ(describe(ChainVerifies()), "presents a chain that verifies against the trust store");
  EXPECT_EQ(describe(ChainVerifies(), true),
            "presents a chain that does not verify against the trust store");
}

// ---- ChainComplete ---------------------------------------------------------------------------

TEST(ChainComplete, PassesWhenTheChainReachesTheAnchor) {
  EXPECT_EQ(judge(ChainComplete(), healthy()),
            (Verdict{true,
                     "whose presented chain (2 certificates) reaches the trust anchor CN=Example "
                     "Root CA"}));
  Facts with_root = healthy();
  with_root.handshake.presented.push_back(root());
  EXPECT_TRUE(judge(ChainComplete(), with_root).matched);
}

TEST(ChainComplete, NamesTheMissingIntermediateWhenVerificationFailed) {
  EXPECT_EQ(judge(ChainComplete(), missing_intermediate()),
            (Verdict{false,
                     "whose presented chain (1 certificate) ends at CN=api.example.com, whose "
                     "issuer CN=Example Intermediate CA,O=Example was neither presented nor found "
                     "among the trust anchors (unable to get local issuer certificate): the "
                     "missing intermediate is CN=Example Intermediate CA,O=Example (or that CA is "
                     "not trusted here)"}));
}

TEST(ChainComplete, NamesTheMissingIntermediateThatTheLocalStoreSupplied) {
  Facts f = healthy();
  f.handshake.presented = {leaf()};  // verified anyway: the trust store holds the intermediate
  EXPECT_EQ(judge(ChainComplete(), f),
            (Verdict{false,
                     "whose presented chain (1 certificate) is missing the intermediate "
                     "CN=Example Intermediate CA,O=Example (issuer of CN=api.example.com): it "
                     "verified only because the local trust store holds it; add it to the "
                     "server's certificate file after the leaf"}));
}

TEST(ChainComplete, SelfSignedLeafIsItsOwnCase) {
  Facts f = healthy();
  Certificate self = leaf();
  self.issuer = self.subject;
  self.self_signed = true;
  f.handshake.presented = {self};
  f.handshake.verified.clear();
  f.handshake.verified_ok = false;
  f.handshake.verify_error = "self-signed certificate";
  EXPECT_EQ(judge(ChainComplete(), f),
            (Verdict{true,
                     "whose leaf CN=api.example.com is self-signed: it is its own chain, with "
                     "nothing to complete (whether it is trusted is ChainVerifies' question)"}));
  EXPECT_FALSE(judge(ChainVerifies(), f).matched);
}

TEST(ChainComplete, OtherVerificationFailuresMeanTheIssuerWasFound) {
  Facts f = healthy();
  f.handshake.verified.clear();
  f.handshake.verified_ok = false;
  f.handshake.verify_error = "certificate has expired";
  EXPECT_EQ(judge(ChainComplete(), f),
            (Verdict{true,
                     "whose presented chain (2 certificates) ends at CN=Example Intermediate CA, "
                     "issued by CN=Example Root CA, which OpenSSL found (verification failed for "
                     "another reason: certificate has expired)"}));
  f.handshake.presented.push_back(root());
  f.handshake.verify_error = "self-signed certificate in certificate chain";
  EXPECT_EQ(judge(ChainComplete(), f),
            (Verdict{true,
                     "whose presented chain (3 certificates) ends at the root CN=Example Root CA "
                     "(verification failed: self-signed certificate in certificate chain)"}));
}

TEST(ChainComplete, Describes) {
  EXPECT_EQ(describe(ChainComplete()), "presents a complete chain (no missing intermediate)");
  EXPECT_EQ(describe(ChainComplete(), true),
            "presents an incomplete chain (a missing intermediate)");
  Facts f = healthy();
  f.handshake.presented.clear();
  EXPECT_EQ(judge(ChainComplete(), f), (Verdict{false, "which presented no certificate"}));
}

// ---- KeyAtLeast ------------------------------------------------------------------------------

TEST(KeyAtLeast, EcAndRsaAgainstTheirOwnThresholds) {
  EXPECT_EQ(judge(KeyAtLeast(), healthy()),
            (Verdict{true, "whose leaf key is EC 256 bits, at least the policy's 256"}));
  EXPECT_EQ(judge(KeyAtLeast(2048, 384), healthy()),
            (Verdict{false, "whose leaf key is EC 256 bits, 128 short of the policy's 384"}));
  Facts f = healthy();
  f.handshake.presented[0].key_type = "RSA";
  f.handshake.presented[0].key_bits = 1024;
  EXPECT_EQ(judge(KeyAtLeast(), f),
            (Verdict{false, "whose leaf key is RSA 1024 bits, 1024 short of the policy's 2048"}));
  f.handshake.presented[0].key_bits = 2048;
  EXPECT_TRUE(judge(KeyAtLeast(), f).matched);
}

TEST(KeyAtLeast, EdDsaPassesAndUnknownTypesFail) {
  Facts f = healthy();
  f.handshake.presented[0].key_type = "Ed25519";
  f.handshake.presented[0].key_bits = 253;
  EXPECT_EQ(judge(KeyAtLeast(), f),
            (Verdict{true,
                     "whose leaf key is Ed25519 253 bits (EdDSA: fixed strength, always "
                     "enough)"}));
  f.handshake.presented[0].key_type = "GOST";
  EXPECT_EQ(judge(KeyAtLeast(), f),
            (Verdict{false,
                     "whose leaf key is GOST 253 bits, a key type the policy does not "
                     "know"}));
  EXPECT_EQ(describe(KeyAtLeast()), "has a leaf key of at least 2048 bits (RSA) or 256 bits (EC)");
  EXPECT_EQ(describe(KeyAtLeast(), true), "has a leaf key under 2048 bits (RSA) or 256 bits (EC)");
}

// ---- SignatureNotSha1 ------------------------------------------------------------------------

TEST(SignatureNotSha1, IgnoresTheRootsSelfSignature) {
  Facts f = healthy();
  f.handshake.presented.push_back(root());  // signed sha1WithRSAEncryption, but self-signed
  EXPECT_EQ(judge(SignatureNotSha1(), f),
            (Verdict{true,
                     "whose signatures are leaf CN=api.example.com by sha256WithRSAEncryption, "
                     "intermediate CN=Example Intermediate CA by sha384WithRSAEncryption"}));
}

TEST(SignatureNotSha1, NamesEachSha1SignedCertificate) {
  Facts f = healthy();
  f.handshake.presented[0].signature_algorithm = "ecdsa-with-SHA1";
  f.handshake.presented[1].signature_algorithm = "sha1WithRSAEncryption";
  EXPECT_EQ(judge(SignatureNotSha1(), f),
            (Verdict{false,
                     "which presents certificates signed with a broken hash: leaf "
                     "CN=api.example.com by ecdsa-with-SHA1, intermediate CN=Example Intermediate "
                     "CA by sha1WithRSAEncryption; reissue them with SHA-256"}));
  f.handshake.presented[0].signature_algorithm = "md5WithRSAEncryption";
  f.handshake.presented[1].signature_algorithm = "sha256WithRSAEncryption";
  EXPECT_FALSE(judge(SignatureNotSha1(), f).matched);
}

TEST(SignatureNotSha1, SelfSignedOnlyAndDescriptions) {
  Facts f = healthy();
  f.handshake.presented = {root()};
  EXPECT_EQ(judge(SignatureNotSha1(), f),
            (Verdict{true,
                     "which presents only self-signed certificates, whose signatures no "
                     "client checks"}));
  EXPECT_EQ(describe(SignatureNotSha1()), "presents no certificate signed with SHA-1");
  EXPECT_EQ(describe(SignatureNotSha1(), true), "presents a certificate signed with SHA-1");
}

// ---- AcceptsProtocol / RejectsProtocol -------------------------------------------------------

TEST(AcceptsProtocol, AcceptedRejectedAndNotChecked) {
  EXPECT_EQ(judge(AcceptsProtocol("TLSv1.3"), healthy()), (Verdict{true, "which accepts TLSv1.3"}));
  EXPECT_EQ(judge(AcceptsProtocol("TLS 1.0"), healthy()),
            (Verdict{false, "which rejects TLSv1 (alert protocol version)"}));
  EXPECT_EQ(judge(AcceptsProtocol("sslv3"), healthy()),
            (Verdict{false,
                     "whose SSLv3 support was not checked: this libssl cannot offer SSLv3 (built "
                     "without it)"}));
  EXPECT_EQ(describe(AcceptsProtocol("tls1_3")), "accepts TLSv1.3");
  EXPECT_EQ(describe(AcceptsProtocol("TLSv1.3"), true), "does not accept TLSv1.3");
}

TEST(AcceptsProtocol, WithoutEnumerationOnlyTheDefaultHandshakeCounts) {
  Facts f = healthy();
  f.protocols.clear();
  EXPECT_EQ(judge(AcceptsProtocol("TLSv1.3"), f),
            (Verdict{true, "which negotiated TLSv1.3 in the default handshake"}));
  EXPECT_EQ(judge(AcceptsProtocol("TLSv1.2"), f),
            (Verdict{false,
                     "whose protocols were not enumerated, and whose default handshake negotiated "
                     "TLSv1.3"}));
}

TEST(RejectsProtocol, RejectedPassesAcceptedFails) {
  EXPECT_EQ(judge(RejectsProtocol("TLSv1.1"), healthy()),
            (Verdict{true, "which rejects TLSv1.1 (alert protocol version)"}));
  EXPECT_EQ(
      judge(RejectsProtocol("TLSv1.2"), healthy()),
      (Verdict{false, "which accepts TLSv1.2; disable it in the server's TLS configuration"}));
  EXPECT_THAT(healthy(), Not(RejectsProtocol("TLSv1.3")));
  EXPECT_EQ(describe(RejectsProtocol("TLSv1")), "rejects TLSv1");
  EXPECT_EQ(describe(RejectsProtocol("TLSv1"), true), "does not reject TLSv1");
}

TEST(RejectsProtocol, NotCheckedPassesOnlyWhenThisLibsslCannotOfferIt) {
  EXPECT_EQ(judge(RejectsProtocol("SSLv3"), healthy()),
            (Verdict{true,
                     "whose SSLv3 support was not checked: this libssl cannot offer SSLv3 (built "
                     "without it); no client built on this libssl can have negotiated it"}));
  Facts f = healthy();
  f.protocols[1] = {"TLSv1", Result::kNotChecked, "handshake timed out after 5s"};
  EXPECT_EQ(judge(RejectsProtocol("TLSv1.0"), f),
            (Verdict{false,
                     "whose TLSv1 support was not checked: handshake timed out after 5s; a "
                     "rejection was not proven"}));
}

TEST(RejectsProtocol, WithoutEnumerationNothingIsProven) {
  Facts f = healthy();
  f.protocols.clear();
  EXPECT_EQ(judge(RejectsProtocol("TLSv1"), f),
            (Verdict{false,
                     "whose protocols were not enumerated, so a rejection of TLSv1 was "
                     "not proven"}));
  EXPECT_EQ(judge(RejectsProtocol("TLSv1.3"), f),
            (Verdict{false, "which negotiated TLSv1.3 in the default handshake"}));
}

// ---- OnlyStrongCiphers -----------------------------------------------------------------------

TEST(OnlyStrongCiphers, PassesAndStillReportsWhatWasNotChecked) {
  EXPECT_EQ(judge(OnlyStrongCiphers(), healthy()),
            (Verdict{true,
                     "which accepts 2 suites, all strong; not checked: RC4, 3DES, DES and export "
                     "suites: this libssl cannot offer them"}));
}

TEST(OnlyStrongCiphers, NamesEachWeakSuiteWithProtocolAndReason) {
  Facts f = healthy();
  f.not_checked.clear();
  f.accepted_ciphers.push_back({"ECDHE-RSA-AES128-SHA", "TLSv1.2", Strength::kWeak, "CBC mode"});
  f.accepted_ciphers.push_back({"NULL-SHA256", "TLSv1.2", Strength::kInsecure, "NULL encryption"});
  f.accepted_ciphers.push_back({"AES256-SHA", "TLSv1", Strength::kWeak, ""});
  EXPECT_EQ(judge(OnlyStrongCiphers(), f),
            (Verdict{false,
                     "which accepts 3 weak or insecure suites of 5: ECDHE-RSA-AES128-SHA "
                     "(TLSv1.2, weak: CBC mode), NULL-SHA256 (TLSv1.2, insecure: NULL "
                     "encryption), AES256-SHA (TLSv1, weak)"}));
}

TEST(OnlyStrongCiphers, NotEnumeratedFailsAndDescribes) {
  Facts f = healthy();
  f.accepted_ciphers.clear();
  f.not_checked.clear();
  EXPECT_EQ(judge(OnlyStrongCiphers(), f),
            (Verdict{false, "whose cipher suites were not enumerated"}));
  EXPECT_EQ(describe(OnlyStrongCiphers()),
            "accepts only strong cipher suites (AEAD with forward secrecy)");
  EXPECT_EQ(describe(OnlyStrongCiphers(), true), "accepts a weak or insecure cipher suite");
}

// ---- HasScts ---------------------------------------------------------------------------------

TEST(HasScts, EmbeddedOrExtension) {
  EXPECT_EQ(judge(HasScts(), healthy()),
            (Verdict{true,
                     "with 2 SCTs embedded in the leaf certificate and 0 sent in the TLS "
                     "extension"}));
  Facts f = healthy();
  f.handshake.presented[0].embedded_scts = 0;
  f.handshake.tls_extension_scts = 1;
  EXPECT_EQ(judge(HasScts(), f),
            (Verdict{true,
                     "with 0 SCTs embedded in the leaf certificate and 1 sent in the TLS "
                     "extension"}));
  f.handshake.tls_extension_scts = 0;
  EXPECT_EQ(judge(HasScts(), f),
            (Verdict{false,
                     "with no SCT: none embedded in the leaf certificate, none sent in the TLS "
                     "extension"}));
  EXPECT_EQ(describe(HasScts()), "presents Signed Certificate Timestamps");
  EXPECT_EQ(describe(HasScts(), true), "presents no Signed Certificate Timestamp");
}

// ---- OcspStapled -----------------------------------------------------------------------------

TEST(OcspStapled, StapledGoodRevokedAndNone) {
  EXPECT_EQ(judge(OcspStapled(), healthy()),
            (Verdict{true, "which stapled an OCSP response saying good"}));
  Facts f = healthy();
  f.handshake.ocsp_status = "revoked";
  EXPECT_EQ(judge(OcspStapled(), f),
            (Verdict{false, "which stapled an OCSP response saying revoked"}));
  EXPECT_TRUE(judge(OcspStapled(false), f).matched);
  f.handshake.ocsp_stapled = false;
  f.handshake.ocsp_status.clear();
  EXPECT_EQ(judge(OcspStapled(false), f), (Verdict{false, "which stapled no OCSP response"}));
  EXPECT_EQ(describe(OcspStapled()), "staples an OCSP response saying good");
  EXPECT_EQ(describe(OcspStapled(false), true), "does not staple an OCSP response");
}

// ---- HstsAtLeast -----------------------------------------------------------------------------

TEST(HstsAtLeast, PassesAndFailsOnMaxAge) {
  const auto ok = response("https://api.example.com/", 200,
                           {{"strict-transport-security", "max-age=31536000; includeSubDomains"}});
  EXPECT_EQ(judge(HstsAtLeast(days{180}), ok),
            (Verdict{true,
                     "whose Strict-Transport-Security is \"max-age=31536000; includeSubDomains\": "
                     "max-age 31536000 s (365d) meets the policy's 15552000 s (180d)"}));
  const auto short_age =
      response("https://api.example.com/", 200, {{"strict-transport-security", "max-age=300"}});
  EXPECT_EQ(judge(HstsAtLeast(days{180}), short_age),
            (Verdict{false,
                     "whose Strict-Transport-Security is \"max-age=300\": max-age 300 s (5m) is "
                     "short of the policy's 15552000 s (180d)"}));
  const auto zero =
      response("https://api.example.com/", 200, {{"strict-transport-security", "max-age=0"}});
  EXPECT_EQ(judge(HstsAtLeast(1s), zero).explanation,
            "whose Strict-Transport-Security is \"max-age=0\": max-age 0 s is short of the "
            "policy's 1 s (1s)");
}

TEST(HstsAtLeast, ParsesPerRfc6797) {
  // Directive names without case, quoted values, unknown directives ignored, spaces around ';'.
  const auto quoted = response(
      "https://api.example.com/", 200,
      {{"strict-transport-security", " Max-Age=\"15552000\" ;preload; ext=1 ;INCLUDESUBDOMAINS"}});
  EXPECT_TRUE(judge(HstsAtLeast(days{180}, Subdomains::kRequired), quoted).matched);
  const auto twice = response("https://api.example.com/", 200,
                              {{"strict-transport-security", "max-age=100; max-age=31536000"}});
  EXPECT_EQ(judge(HstsAtLeast(60s), twice),
            (Verdict{false,
                     "whose Strict-Transport-Security is \"max-age=100; max-age=31536000\", which "
                     "browsers ignore: the directive max-age appears twice"}));
  const auto no_age = response("https://api.example.com/", 200,
                               {{"strict-transport-security", "includeSubDomains"}});
  EXPECT_EQ(judge(HstsAtLeast(60s), no_age).explanation,
            "whose Strict-Transport-Security is \"includeSubDomains\", which browsers ignore: it "
            "has no max-age");
  const auto bad =
      response("https://api.example.com/", 200, {{"strict-transport-security", "max-age=1y"}});
  EXPECT_EQ(judge(HstsAtLeast(60s), bad).explanation,
            "whose Strict-Transport-Security is \"max-age=1y\", which browsers ignore: max-age "
            "\"1y\" is not a number of seconds");
}

TEST(HstsAtLeast, IncludeSubDomainsWhenRequired) {
  const auto r = response("https://api.example.com/", 200,
                          {{"strict-transport-security", "max-age=31536000"}});
  EXPECT_TRUE(judge(HstsAtLeast(days{180}), r).matched);
  EXPECT_EQ(judge(HstsAtLeast(days{180}, Subdomains::kRequired), r),
            (Verdict{false,
                     "whose Strict-Transport-Security is \"max-age=31536000\": max-age 31536000 s "
                     "(365d) meets the policy's 15552000 s (180d), and includeSubDomains is "
                     "missing"}));
  EXPECT_EQ(describe(HstsAtLeast(days{180}, Subdomains::kRequired)),
            "sends Strict-Transport-Security with max-age at least 15552000 s (180d) and "
            "includeSubDomains");
  EXPECT_EQ(describe(HstsAtLeast(days{180}), true),
            "does not send Strict-Transport-Security with max-age at least 15552000 s (180d)");
}

TEST(HstsAtLeast, MissingHeaderAndPlainHttp) {
  EXPECT_EQ(judge(HstsAtLeast(days{180}), response("https://api.example.com/", 200)),
            (Verdict{false, "which sends no Strict-Transport-Security header"}));
  const auto plain =
      response("http://api.example.com/", 200, {{"strict-transport-security", "max-age=31536000"}});
  EXPECT_EQ(judge(HstsAtLeast(days{180}), plain),
            (Verdict{false,
                     "whose Strict-Transport-Security is \"max-age=31536000\", sent over plain "
                     "HTTP, where browsers ignore it"}));
}

TEST(HstsAtLeast, OnlyTheFirstHeaderCounts) {
  const auto r = response("https://api.example.com/", 200,
                          {{"strict-transport-security", "max-age=60"},
                           {"strict-transport-security", "max-age=31536000"}});
  EXPECT_FALSE(judge(HstsAtLeast(days{180}), r).matched);
}

// ---- RedirectsToHttps ------------------------------------------------------------------------

TEST(RedirectsToHttps, PassesForAnHttpsLocation) {
  const auto r =
      response("http://api.example.com/", 301, {{"location", "https://api.example.com/"}});
  EXPECT_EQ(judge(RedirectsToHttps(), r),
            (Verdict{true, "whose status is 301 with Location https://api.example.com/"}));
  EXPECT_TRUE(judge(RedirectsToHttps("HTTPS://API.example.com/"), r).matched);
  EXPECT_EQ(describe(RedirectsToHttps()), "redirects to https://");
  EXPECT_EQ(describe(RedirectsToHttps("https://api.example.com/"), true),
            "does not redirect to https://api.example.com/");
}

TEST(RedirectsToHttps, FailsExplainingStatusAndLocation) {
  EXPECT_EQ(judge(RedirectsToHttps(), response("http://api.example.com/", 200)),
            (Verdict{false, "whose status is 200, not a redirect"}));
  EXPECT_EQ(judge(RedirectsToHttps(), response("http://api.example.com/", 302)),
            (Verdict{false, "whose status is 302 with no Location header"}));
  EXPECT_EQ(judge(RedirectsToHttps(), response("http://api.example.com/", 302,
                                               {{"location", "http://api.example.com/login"}})),
            (Verdict{false,
                     "whose status is 302 with Location http://api.example.com/login, not "
                     "https://"}));
  EXPECT_EQ(
      judge(RedirectsToHttps(), response("http://api.example.com/", 308, {{"location", "/login"}})),
      (Verdict{false,
               "whose status is 308 with Location /login, a relative URL that stays on "
               "http://"}));
  EXPECT_EQ(
      judge(RedirectsToHttps("https://api.example.com/"),
            response("http://api.example.com/", 301, {{"location", "https://www.example.com/"}})),
      (Verdict{false,
               "whose status is 301 with Location https://www.example.com/, which does not "
               "start with https://api.example.com/"}));
}

}  // namespace
}  // namespace deploycheck
