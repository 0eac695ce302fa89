#pragma once
// gMock matchers over DNS answers and over SPF/DMARC/DKIM as email_auth.hpp understands them.
//
//   EXPECT_THAT(answer, ResolvesTo({"203.0.113.10"}));
//   EXPECT_THAT(answers_from_every_resolver, ConsistentAcross());
//   EXPECT_THAT(email::evaluate_spf("example.com", lookup),
//               SpfValid({.require_all = "-all", .required_includes = {"sendgrid.net"}}));
//
// A dns::Answer does not say which resolver gave it, and every explanation must; the matchers
// therefore take a ResolvedAnswer, the answer together with the resolver's display name.
//
// As googletest's own matchers do, the value is printed once: gMock's "Actual:" line is
// PrintTo's ("www.example.com A from 127.0.0.1:5353: NOERROR 192.0.2.1 (ttl 300)": resolver,
// record and what was seen), and the explanation that follows it says only why that passes or
// fails ("which is missing 192.0.2.10"). Every matcher explains on success too, so Not() reads
// right. An answer that is not NOERROR-with-records fails every record matcher, explained:
// "which answered NXDOMAIN (the name does not exist)", "which did not answer within 4000 ms
// (2 attempts)".
#include <gmock/gmock.h>

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "matchers/email_auth.hpp"
#include "probes/dns/dns_probe.hpp"

namespace deploycheck {

struct ResolvedAnswer {
  std::string resolver;  // as dns::Resolver::display() prints it: "127.0.0.1:5353"
  dns::Answer answer;
};

// "www.example.com A from 127.0.0.1:5353: NOERROR 192.0.2.1 (ttl 300)"
void PrintTo(const ResolvedAnswer& a, std::ostream* os);
namespace dns {
// The same without the resolver: "www.example.com A: NOERROR 192.0.2.1 (ttl 300)"
void PrintTo(const Answer& a, std::ostream* os);
}  // namespace dns

using DnsMatcher = ::testing::Matcher<const ResolvedAnswer&>;

enum class AddressMatch {
  kExactly,   // the answer holds these addresses and no others
  kIncludes,  // the answer holds at least these addresses
};

// A or AAAA addresses, in any order; IPv6 compared in canonical form.
DnsMatcher ResolvesTo(std::vector<std::string> addresses,
                      AddressMatch mode = AddressMatch::kExactly);
// A CNAME answer whose target is `target` (case and trailing dot ignored).
DnsMatcher IsAliasFor(std::string target);
// Any record type: the answers, as dig +short prints them (names without trailing dots,
// compared without case; TXT exactly), are exactly / include `expected`.
DnsMatcher AnswersWith(std::vector<std::string> expected, AddressMatch mode = AddressMatch::kExactly);
// Some TXT record (its strings joined) matches the ECMAScript regex (search, not full match).
// Throws std::regex_error for an invalid pattern.
DnsMatcher HasTxt(std::string pattern);
// An MX record for `host`, with `preference` if given.
DnsMatcher HasMx(std::string host, std::optional<int> preference = std::nullopt);
// A CAA "issue" record naming `issuer` (e.g. "letsencrypt.org"), parameters ignored.
DnsMatcher HasCaa(std::string issuer);
// Every record's TTL within the bound (e.g. a TTL lowered before a migration).
DnsMatcher TtlAtMost(std::chrono::seconds bound);
DnsMatcher TtlAtLeast(std::chrono::seconds bound);

// The same question answered the same by every resolver: same status and the same records
// (order, case and TTL ignored: caches count TTLs down). Propagation: names each resolver that
// disagrees with the first and what each returned. Fails for an empty list.
::testing::Matcher<const std::vector<ResolvedAnswer>&> ConsistentAcross();

// ---- email authentication -----------------------------------------------------------------

struct SpfPolicy {
  // "-all": must end in -all. "~all": -all or ~all. "": no requirement.
  std::string require_all = "~all";
  // Senders that must be include:d somewhere in the tree, e.g. "sendgrid.net".
  std::vector<std::string> required_includes{};
};

// No errors (one v=spf1 record, valid syntax, at most 10 DNS-querying terms and 2 void
// lookups, every include:/redirect= target with one SPF record, no loop) and the policy met.
::testing::Matcher<const email::SpfResult&> SpfValid(SpfPolicy policy);

// A valid DMARC record whose policy for the domain (p) and for its subdomains (sp, default p)
// is at least `policy` ("none" < "quarantine" < "reject") for all mail: with pct below 100 the
// rest gets the next weaker policy (RFC 7489 §6.6.4), which must also be at least `policy`.
// With `require_rua`, aggregate reports must go somewhere (rua=). Throws std::invalid_argument
// for an unknown policy.
::testing::Matcher<const email::DmarcResult&> DmarcAtLeast(std::string policy,
                                                           bool require_rua = false);

// A published, parseable, unrevoked DKIM key; an RSA key of at least `min_rsa_bits` (RFC 8301
// forbids verifiers to accept fewer than 1024).
::testing::Matcher<const email::DkimKey&> DkimKeyValid(int min_rsa_bits = 1024);

}  // namespace deploycheck
