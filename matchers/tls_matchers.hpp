#pragma once
// gMock matchers over the facts probes/tls gathers, and the two HTTP-side checks a TLS policy
// needs (HSTS and the HTTP -> HTTPS redirect).
//
//   EXPECT_THAT(facts, CertValidFor(std::chrono::days{30}));
//   EXPECT_THAT(facts, CoversHost("api.example.com"));
//   EXPECT_THAT(facts, RejectsProtocol("TLSv1.1"));
//   EXPECT_THAT(http_response, HstsAtLeast(std::chrono::days{180}));
//
// As googletest's own matchers do, the value is printed once: gMock's "Actual:" line is
// PrintTo's one-line summary ("localhost:8443: TLSv1.3 TLS_AES_256_GCM_SHA384, leaf
// CN=localhost (EC 256) valid 2026-11-23T00:00:00Z to 2027-02-21T00:00:00Z, chain verified"),
// and the explanation says only why that passes or fails, in words an operator can act on
// ("leaf certificate for api.example.com expires in 9 days (2026-12-01T12:00:00Z), 21 days
// short of the policy"). Every matcher explains on success too, so Not() reads right. Times are
// UTC in ISO 8601 with Z.
//
// The matchers judge facts only: they never call into the probe's implementation, so facts read
// back from JSON can be judged without OpenSSL linked in.
#include <gmock/gmock.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include "matchers/http_matchers.hpp"
#include "probes/tls/tls_probe.hpp"

namespace deploycheck {

namespace tls {
// "api.example.com:443 via 10.0.0.5: TLSv1.3 TLS_AES_256_GCM_SHA384, leaf CN=api.example.com
// (EC 256) valid 2026-11-23T00:00:00Z to 2027-02-21T00:00:00Z, chain verified"
void PrintTo(const Facts& facts, std::ostream* os);
}  // namespace tls

using TlsMatcher = ::testing::Matcher<const tls::Facts&>;

// Seconds since the epoch, UTC. Injectable so that self-tests judge expiry at a fixed instant;
// read when the matcher judges, not when it is built.
using EpochClock = std::function<std::int64_t()>;
std::int64_t system_now_seconds();

// Which certificate CertValidFor measures: the leaf, or whichever certificate of the presented
// chain expires first (an intermediate that expires before the leaf breaks the site just the
// same; blackbox_exporter users keep asking for the distinction).
enum class Which { kLeaf, kEarliestInChain };

// At least `min` whole days left: days left = floor((notAfter - now) / 24 h). Fails an expired
// certificate ("expired 3 days ago (...Z)") and one whose notBefore is in the future ("not valid
// until ...Z"); judges the dates even when verification failed, and says so.
TlsMatcher CertValidFor(std::chrono::days min, Which which = Which::kLeaf,
                        EpochClock now = system_now_seconds);

// The leaf's subjectAltName covers `name` per RFC 6125: DNS names compared without case or
// trailing dot; a wildcard only as the whole left-most label, matching exactly one label
// ("*.example.com" covers "a.example.com", not "example.com" or "a.b.example.com"). An IP
// address is matched against IP SANs only. The subject CN is never consulted (browsers don't).
TlsMatcher CoversHost(std::string name);

// OpenSSL verified the chain against the configured trust store; the explanation carries
// OpenSSL's reason when it did not.
TlsMatcher ChainVerifies();

// No missing intermediate: the presented chain reaches a certificate issued by a trust anchor
// (or presents the anchor). Names the missing intermediate (the issuer of the last certificate
// presented). A self-signed leaf is its own chain and passes, explained: whether it is trusted
// is ChainVerifies' question, so a self-signed endpoint fails that check and not this one.
TlsMatcher ChainComplete();

// The leaf's key: RSA (and DSA/DH) at least `rsa_bits`, EC at least `ec_bits`; Ed25519 and
// Ed448 always pass; an unknown key type fails.
TlsMatcher KeyAtLeast(int rsa_bits = 2048, int ec_bits = 256);

// No presented certificate is signed with SHA-1 (or MD5/MD4/MD2). Self-signed certificates are
// skipped: a trust anchor's signature on itself is never verified by clients.
TlsMatcher SignatureNotSha1();

// Protocols are named as OpenSSL does ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");
// "TLSv1.0", "TLS 1.2" and "tls1_3" are accepted spellings.
//
// AcceptsProtocol: the server completed a handshake with it (or, when protocols were not
// enumerated, negotiated it in the default handshake). A protocol reported "not checked" fails:
// acceptance was not proven.
TlsMatcher AcceptsProtocol(std::string protocol);
// RejectsProtocol: the server refused it. A protocol reported "not checked" passes only when its
// detail says this libssl cannot offer it (the probe's detail contains "cannot offer"): then no
// client built on this libssl, deploycheck included, can have negotiated it, and the check
// reports that limit instead of failing on something it cannot test. Any other "not checked"
// (e.g. a timeout) fails: a rejection was not proven.
TlsMatcher RejectsProtocol(std::string protocol);

// Every accepted cipher suite is strong (AEAD with forward secrecy). Names each weak or insecure
// suite with the protocol it was accepted under and why; reports the suites this libssl could
// not check. Fails when suites were not enumerated.
TlsMatcher OnlyStrongCiphers();

// At least one Signed Certificate Timestamp: embedded in the leaf or sent in the TLS extension.
TlsMatcher HasScts();

// An OCSP response was stapled; with `require_good`, its status is "good".
TlsMatcher OcspStapled(bool require_good = true);

// ---- HTTP side ---------------------------------------------------------------------------

enum class Subdomains { kOptional, kRequired };

// A valid Strict-Transport-Security header (RFC 6797 §6.1: the first one counts; max-age
// exactly once; no directive twice; values may be quoted) sent over HTTPS (browsers ignore one
// sent over plain HTTP, §8.1) with max-age at least `max_age`, and includeSubDomains when
// required.
HttpMatcher HstsAtLeast(std::chrono::seconds max_age,
                        Subdomains subdomains = Subdomains::kOptional);

// A redirect (301, 302, 303, 307 or 308) whose Location is an absolute https:// URL starting
// with `expected_location_prefix` when one is given (scheme and host compared without case).
HttpMatcher RedirectsToHttps(std::string expected_location_prefix = "");

}  // namespace deploycheck
