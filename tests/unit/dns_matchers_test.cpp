// Every DNS and email-authentication matcher: what it accepts, what it refuses, how it
// describes itself, and the exact words of its explanation. Facts are plain structs built here;
// the probe that gathers them is tested against real DNS servers by the sandbox.
#include "matchers/dns_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/unit/matcher_testing.hpp"

namespace deploycheck {
namespace {

using dns::RecordType;
using dns::Status;
using ::testing::DescribeMatcher;
using ::testing::Not;
using std::chrono_literals::operator""s;

constexpr char kResolver[] = "127.0.0.1:5353";

ResolvedAnswer answer(const std::string& name, RecordType type, std::vector<std::string> data,
                      std::uint32_t ttl = 300, const std::string& resolver = kResolver) {
  ResolvedAnswer a{resolver, {}};
  a.answer.query = {name, type};
  a.answer.status = Status::kAnswer;
  a.answer.attempts = 1;
  for (auto& d : data) a.answer.records.push_back({name, type, ttl, std::move(d)});
  return a;
}

ResolvedAnswer failed(const std::string& name, RecordType type, Status status,
                      const std::string& resolver = kResolver) {
  ResolvedAnswer a{resolver, {}};
  a.answer.query = {name, type};
  a.answer.status = status;
  a.answer.attempts = 2;
  a.answer.elapsed_ms = 4000.4;
  if (status == Status::kError) a.answer.error = "malformed reply (FORMERR)";
  return a;
}

using deploycheck::testing::describe;
using deploycheck::testing::judge;
using deploycheck::testing::Verdict;

using deploycheck::testing::captured_failure;

// ---- printing ------------------------------------------------------------------------------

TEST(DnsPrinting, NamesRecordResolverStatusDataAndTtl) {
  EXPECT_EQ(::testing::PrintToString(answer("www.example.com", RecordType::kA, {"127.0.0.1"})),
            "www.example.com A from 127.0.0.1:5353: NOERROR 127.0.0.1 (ttl 300)");
  EXPECT_EQ(
      ::testing::PrintToString(answer("www.example.com", RecordType::kA, {"127.0.0.1"}).answer),
      "www.example.com A: NOERROR 127.0.0.1 (ttl 300)");
}

TEST(DnsPrinting, SeveralRecordsShareOneTtlOrShowEach) {
  auto a = answer("www.example.com", RecordType::kAAAA, {"2001:db8::1", "2001:db8::2"});
  EXPECT_EQ(::testing::PrintToString(a),
            "www.example.com AAAA from 127.0.0.1:5353: NOERROR 2001:db8::1, 2001:db8::2 (ttl 300)");
  a.answer.records[1].ttl = 60;
  EXPECT_EQ(::testing::PrintToString(a),
            "www.example.com AAAA from 127.0.0.1:5353: NOERROR 2001:db8::1 (ttl 300), 2001:db8::2 "
            "(ttl 60)");
}

TEST(DnsPrinting, TxtIsQuotedAndFailuresShowTheirStatus) {
  EXPECT_EQ(::testing::PrintToString(answer("example.com", RecordType::kTXT, {"v=spf1 -all"})),
            "example.com TXT from 127.0.0.1:5353: NOERROR \"v=spf1 -all\" (ttl 300)");
  EXPECT_EQ(::testing::PrintToString(failed("gone.example.com", RecordType::kA, Status::kNxDomain)),
            "gone.example.com A from 127.0.0.1:5353: NXDOMAIN");
}

// ---- answers that are not answers ------------------------------------------------------------

TEST(DnsStatus, EveryStatusOtherThanAnAnswerFailsExplained) {
  const auto m = ResolvesTo({"192.0.2.1"});
  const auto q = [&](Status s) { return judge(m, failed("www.example.com", RecordType::kA, s)); };
  EXPECT_EQ(q(Status::kNxDomain),
            (Verdict{false, "which answered NXDOMAIN (the name does not exist)"}));
  EXPECT_EQ(q(Status::kNoData),
            (Verdict{false, "which answered NODATA (the name exists but has no A records)"}));
  EXPECT_EQ(q(Status::kServFail),
            (Verdict{false, "which answered SERVFAIL (the resolver could not get an answer)"}));
  EXPECT_EQ(
      q(Status::kRefused),
      (Verdict{false, "which answered REFUSED (the resolver will not answer this question)"}));
  EXPECT_EQ(q(Status::kTimeout),
            (Verdict{false, "which did not answer within 4000 ms (2 attempts)"}));
  EXPECT_EQ(q(Status::kError), (Verdict{false, "which failed: malformed reply (FORMERR)"}));
}

TEST(DnsStatus, NotOfARecordMatcherHoldsForAMissingName) {
  EXPECT_THAT(failed("old.example.com", RecordType::kA, Status::kNxDomain),
              Not(ResolvesTo({"192.0.2.1"})));
}

// ---- ResolvesTo ----------------------------------------------------------------------------

TEST(ResolvesTo, ExactlyPassesInAnyOrderAndCanonicalForm) {
  const auto a = answer("www.example.com", RecordType::kAAAA, {"2001:db8::2", "2001:db8::1"});
  EXPECT_EQ(judge(ResolvesTo({"2001:DB8:0::1", "2001:db8::2"}), a),
            (Verdict{true, "which holds exactly these"}));
}

TEST(ResolvesTo, ExactlyFailsNamingMissingAndUnexpected) {
  const auto a = answer("www.sandbox.deploycheck.test", RecordType::kA, {"127.0.0.99"});
  EXPECT_EQ(judge(ResolvesTo({"127.0.0.11"}), a),
            (Verdict{false, "which is missing 127.0.0.11 and has unexpected 127.0.0.99"}));
  const auto two = answer("www.example.com", RecordType::kA, {"192.0.2.1", "192.0.2.2"});
  EXPECT_EQ(judge(ResolvesTo({"192.0.2.1"}), two),
            (Verdict{false, "which has unexpected 192.0.2.2"}));
}

TEST(ResolvesTo, IncludesAllowsOthers) {
  const auto a = answer("www.example.com", RecordType::kA, {"192.0.2.1", "192.0.2.2"});
  EXPECT_EQ(judge(ResolvesTo({"192.0.2.2"}, AddressMatch::kIncludes), a),
            (Verdict{true, "which holds all of them"}));
  EXPECT_EQ(judge(ResolvesTo({"192.0.2.2", "192.0.2.3"}, AddressMatch::kIncludes), a),
            (Verdict{false, "which is missing 192.0.2.3"}));
}

TEST(ResolvesTo, RefusesOtherRecordTypes) {
  EXPECT_EQ(judge(ResolvesTo({"192.0.2.1"}),
                  answer("example.com", RecordType::kMX, {"10 mx.example.com"})),
            (Verdict{false, "which is an MX answer, not A or AAAA"}));
}

TEST(ResolvesTo, Describes) {
  EXPECT_EQ(describe(ResolvesTo({"192.0.2.1", "192.0.2.2"})),
            "resolves to exactly 192.0.2.1, 192.0.2.2");
  EXPECT_EQ(describe(ResolvesTo({"192.0.2.1"}), true), "does not resolve to exactly 192.0.2.1");
  EXPECT_EQ(describe(ResolvesTo({"192.0.2.1"}, AddressMatch::kIncludes)),
            "resolves to addresses including 192.0.2.1");
  EXPECT_EQ(describe(ResolvesTo({"192.0.2.1"}, AddressMatch::kIncludes), true),
            "does not resolve to all of 192.0.2.1");
}

// The whole failure as a reader sees it: resolver, record and what was seen printed once (gMock
// adds the type), then why it fails.
TEST(ResolvesTo, FailureMessageNamesResolverRecordAndWhatWasSeenOnce) {
  const auto answer_seen = answer("www.sandbox.deploycheck.test", RecordType::kA, {"127.0.0.99"});
  const auto message =
      captured_failure([&] { EXPECT_THAT(answer_seen, ResolvesTo({"127.0.0.11"})); });
  EXPECT_EQ(message,
            "Value of: answer_seen\n"
            "Expected: resolves to exactly 127.0.0.11\n"
            "  Actual: www.sandbox.deploycheck.test A from 127.0.0.1:5353: NOERROR 127.0.0.99 "
            "(ttl 300) (of type deploycheck::ResolvedAnswer), which is missing 127.0.0.11 and has "
            "unexpected 127.0.0.99");
}

TEST(ResolvesTo, TimeoutMessageSaysHowLongItWaited) {
  const auto silent =
      failed("www.sandbox.deploycheck.test", RecordType::kA, Status::kTimeout, "127.0.0.1:5399");
  EXPECT_EQ(captured_failure([&] { EXPECT_THAT(silent, ResolvesTo({"127.0.0.11"})); }),
            "Value of: silent\n"
            "Expected: resolves to exactly 127.0.0.11\n"
            "  Actual: www.sandbox.deploycheck.test A from 127.0.0.1:5399: TIMEOUT (of type "
            "deploycheck::ResolvedAnswer), which did not answer within 4000 ms (2 attempts)");
}

// ---- IsAliasFor ----------------------------------------------------------------------------

TEST(IsAliasFor, PassesFailsAndNeedsACnameQuestion) {
  const auto a = answer("www.example.com", RecordType::kCNAME, {"lb.example.net"});
  EXPECT_EQ(judge(IsAliasFor("LB.example.net."), a), (Verdict{true, "which points there"}));
  EXPECT_EQ(judge(IsAliasFor("cdn.example.net"), a), (Verdict{false, "which points elsewhere"}));
  EXPECT_EQ(
      judge(IsAliasFor("lb.example.net"), answer("www.example.com", RecordType::kA, {"192.0.2.1"})),
      (Verdict{false, "which is an A answer; ask for CNAME"}));
  EXPECT_EQ(describe(IsAliasFor("lb.example.net")), "is an alias (CNAME) for lb.example.net");
  EXPECT_EQ(describe(IsAliasFor("lb.example.net"), true),
            "is not an alias (CNAME) for lb.example.net");
}

// ---- HasTxt ---------------------------------------------------------------------------------

TEST(HasTxt, SearchesEveryRecord) {
  const auto a = answer("example.com", RecordType::kTXT,
                        {"google-site-verification=abc", "v=spf1 include:sendgrid.net -all"});
  EXPECT_EQ(judge(HasTxt("^v=spf1 .*-all$"), a),
            (Verdict{true, "whose TXT record 2 of 2 matches"}));
  EXPECT_EQ(judge(HasTxt("^v=DMARC1"), a), (Verdict{false, "none of whose 2 TXT records matches"}));
  const auto one = answer("_dmarc.example.com", RecordType::kTXT, {"v=DMARC1; p=none"});
  EXPECT_EQ(judge(HasTxt("p=reject"), one), (Verdict{false, "whose TXT record does not match"}));
  EXPECT_EQ(judge(HasTxt("p=none"), one), (Verdict{true, "whose TXT record matches"}));
  EXPECT_EQ(describe(HasTxt("^v=DMARC1;")), "has a TXT record matching /^v=DMARC1;/");
  EXPECT_EQ(describe(HasTxt("^v=DMARC1;"), true), "has no TXT record matching /^v=DMARC1;/");
}

TEST(HasTxt, InvalidPatternThrowsAtConstruction) {
  EXPECT_THROW(HasTxt("(unclosed"), std::regex_error);
}

// ---- HasMx ----------------------------------------------------------------------------------

TEST(HasMx, HostAndPreference) {
  const auto a =
      answer("example.com", RecordType::kMX, {"10 mx1.example.com", "20 mx2.example.com"});
  EXPECT_EQ(judge(HasMx("MX2.example.com."), a), (Verdict{true, "whose MX record 2 of 2 matches"}));
  EXPECT_EQ(judge(HasMx("mx1.example.com", 10), a),
            (Verdict{true, "whose MX record 1 of 2 matches"}));
  EXPECT_EQ(judge(HasMx("mx1.example.com", 20), a),
            (Verdict{false, "whose MX for mx1.example.com has preference 10"}));
  EXPECT_EQ(judge(HasMx("mail.example.com"), a),
            (Verdict{false, "none of whose 2 MX records names mail.example.com"}));
  EXPECT_EQ(describe(HasMx("mx1.example.com", 10)),
            "has an MX record for mx1.example.com with preference 10");
  EXPECT_EQ(describe(HasMx("mx1.example.com"), true), "has no MX record for mx1.example.com");
}

// ---- HasCaa ---------------------------------------------------------------------------------

TEST(HasCaa, IssueTagNamesTheIssuer) {
  const auto a = answer("example.com", RecordType::kCAA,
                        {"0 iodef \"mailto:security@example.com\"",
                         "0 issue \"letsencrypt.org; validationmethods=dns-01\""});
  EXPECT_EQ(judge(HasCaa("letsencrypt.org"), a),
            (Verdict{true, "whose CAA record 2 of 2 names it"}));
  EXPECT_EQ(judge(HasCaa("sectigo.com"), a),
            (Verdict{false, "none of whose 1 CAA issue record names sectigo.com"}));
  const auto iodef_only =
      answer("example.com", RecordType::kCAA, {"0 iodef \"mailto:security@example.com\""});
  EXPECT_EQ(judge(HasCaa("letsencrypt.org"), iodef_only),
            (Verdict{false, "which has no CAA issue record"}));
  EXPECT_EQ(describe(HasCaa("letsencrypt.org")),
            "has a CAA record letting letsencrypt.org issue certificates");
  EXPECT_EQ(describe(HasCaa("letsencrypt.org"), true),
            "has no CAA record letting letsencrypt.org issue certificates");
}

// ---- TTL ------------------------------------------------------------------------------------

TEST(Ttl, AtMostAndAtLeast) {
  const auto a = answer("www.example.com", RecordType::kA, {"192.0.2.1"}, 3600);
  EXPECT_EQ(judge(TtlAtMost(300s), a), (Verdict{false, "whose TTL is 3600 s"}));
  EXPECT_EQ(judge(TtlAtMost(3600s), a), (Verdict{true, "whose TTL is 3600 s"}));
  EXPECT_EQ(judge(TtlAtLeast(300s), a), (Verdict{true, "whose TTL is 3600 s"}));
  EXPECT_EQ(judge(TtlAtLeast(7200s), a), (Verdict{false, "whose TTL is 3600 s"}));
  EXPECT_EQ(describe(TtlAtMost(300s)), "has a TTL of at most 300 s");
  EXPECT_EQ(describe(TtlAtMost(300s), true), "has a TTL above 300 s");
  EXPECT_EQ(describe(TtlAtLeast(300s)), "has a TTL of at least 300 s");
  EXPECT_EQ(describe(TtlAtLeast(300s), true), "has a TTL below 300 s");
}

TEST(Ttl, MixedTtlsAreJudgedByTheWorstRecord) {
  auto a = answer("www.example.com", RecordType::kA, {"192.0.2.1", "192.0.2.2"}, 60);
  a.answer.records[1].ttl = 900;
  EXPECT_EQ(judge(TtlAtMost(300s), a), (Verdict{false, "whose highest TTL is 900 s"}));
  EXPECT_EQ(judge(TtlAtLeast(300s), a), (Verdict{false, "whose lowest TTL is 60 s"}));
}

// ---- ConsistentAcross -------------------------------------------------------------------------

using Answers = std::vector<ResolvedAnswer>;

TEST(ConsistentAcross, SameRecordsInAnyOrderAndWithAnyTtlAgree) {
  Answers answers{
      answer("www.example.com", RecordType::kA, {"192.0.2.1", "192.0.2.2"}, 300, "127.0.0.1:5353"),
      answer("WWW.example.com.", RecordType::kA, {"192.0.2.2", "192.0.2.1"}, 17, "127.0.0.1:5354")};
  EXPECT_EQ(judge(ConsistentAcross(), answers),
            (Verdict{true, "where all 2 resolvers answered 192.0.2.1, 192.0.2.2"}));
}

TEST(ConsistentAcross, NamesTheResolverThatDisagreesAndWhatEachSaid) {
  Answers answers{answer("www.example.com", RecordType::kA, {"127.0.0.11"}, 300, "127.0.0.1:5353"),
                  answer("www.example.com", RecordType::kA, {"127.0.0.11"}, 300, "127.0.0.1:5354"),
                  answer("www.example.com", RecordType::kA, {"127.0.0.99"}, 300, "127.0.0.1:5355"),
                  failed("www.example.com", RecordType::kA, Status::kTimeout, "127.0.0.1:5356")};
  EXPECT_EQ(judge(ConsistentAcross(), answers),
            (Verdict{false,
                     "where 127.0.0.1:5355 answered 127.0.0.99 and 127.0.0.1:5356 did not answer "
                     "within 4000 ms, but 127.0.0.1:5353 answered 127.0.0.11"}));
}

TEST(ConsistentAcross, StatusesCompareToo) {
  Answers answers{failed("new.example.com", RecordType::kA, Status::kNxDomain, "127.0.0.1:5353"),
                  answer("new.example.com", RecordType::kA, {"192.0.2.1"}, 300, "127.0.0.1:5354")};
  EXPECT_EQ(judge(ConsistentAcross(), answers),
            (Verdict{false,
                     "where 127.0.0.1:5354 answered 192.0.2.1, but 127.0.0.1:5353 answered "
                     "NXDOMAIN"}));
}

TEST(ConsistentAcross, NothingOrMixedQuestionsCannotAgree) {
  EXPECT_EQ(judge(ConsistentAcross(), Answers{}),
            (Verdict{false, "which holds no answers to compare"}));
  Answers mixed{answer("a.example.com", RecordType::kA, {"192.0.2.1"}),
                answer("b.example.com", RecordType::kA, {"192.0.2.1"})};
  EXPECT_EQ(judge(ConsistentAcross(), mixed),
            (Verdict{false, "which mixes questions: a.example.com A and b.example.com A"}));
  EXPECT_EQ(
      judge(ConsistentAcross(), Answers{answer("a.example.com", RecordType::kA, {"192.0.2.1"})}),
      (Verdict{true, "where only 127.0.0.1:5353 was asked"}));
}

TEST(ConsistentAcross, FullMessageShowsEveryAnswerThenWhoDisagrees) {
  const Answers propagation{
      answer("www.example.com", RecordType::kA, {"127.0.0.11"}, 300, "127.0.0.1:5353"),
      answer("www.example.com", RecordType::kA, {"127.0.0.99"}, 300, "127.0.0.1:5354")};
  EXPECT_EQ(captured_failure([&] { EXPECT_THAT(propagation, ConsistentAcross()); }),
            "Value of: propagation\n"
            "Expected: is answered the same by every resolver\n"
            "  Actual: { www.example.com A from 127.0.0.1:5353: NOERROR 127.0.0.11 (ttl 300), "
            "www.example.com A from 127.0.0.1:5354: NOERROR 127.0.0.99 (ttl 300) }, where "
            "127.0.0.1:5354 answered 127.0.0.99, but 127.0.0.1:5353 answered 127.0.0.11");
}

TEST(ConsistentAcross, Describes) {
  EXPECT_EQ(describe(ConsistentAcross()), "is answered the same by every resolver");
  EXPECT_EQ(describe(ConsistentAcross(), true), "is answered differently by some resolver");
}

// ---- SpfValid -------------------------------------------------------------------------------

email::SpfResult spf(std::string all, std::vector<std::string> includes, int lookups = 4) {
  email::SpfResult r;
  r.domain = "example.test";
  r.records = {"v=spf1 include:_spf.example.test " + all};
  r.lookups = lookups;
  r.all_qualifier = std::move(all);
  r.includes = std::move(includes);
  return r;
}

TEST(SpfValid, PassesWithTheCountsItFound) {
  EXPECT_EQ(judge(SpfValid({.require_all = "-all", .required_includes = {"SendGrid.net"}}),
                  spf("-all", {"_spf.example.test", "sendgrid.net"})),
            (Verdict{true,
                     "which is valid: 4 of 10 DNS-querying terms, 0 of 2 void lookups, ends "
                     "in -all"}));
  EXPECT_TRUE(judge(SpfValid({.require_all = "~all"}), spf("-all", {})).matched);
  EXPECT_TRUE(judge(SpfValid({.require_all = ""}), spf("?all", {})).matched);
}

TEST(SpfValid, FailsOnTheAllQualifierAndMissingSenders) {
  EXPECT_EQ(judge(SpfValid({.require_all = "-all", .required_includes = {"sendgrid.net"}}),
                  spf("~all", {"_spf.example.test"})),
            (Verdict{false, "where it ends in ~all, not -all; it does not include sendgrid.net"}));
  EXPECT_EQ(judge(SpfValid({.require_all = "~all"}), spf("+all", {})),
            (Verdict{false, "where it ends in +all, not -all or ~all"}));
  EXPECT_EQ(judge(SpfValid({}), spf("", {})),
            (Verdict{false, "where it has no 'all' (mail from unlisted hosts gets neutral)"}));
}

TEST(SpfValid, RecordErrorsComeAloneInTheFullMessage) {
  email::SpfResult two;
  two.domain = "twospf.broken.deploycheck.test";
  two.records = {"v=spf1 a -all", "v=spf1 mx -all"};
  two.errors = {"2 v=spf1 records (RFC 7208 §4.5: permerror)"};
  EXPECT_EQ(captured_failure([&] { EXPECT_THAT(two, SpfValid({.require_all = "-all"})); }),
            "Value of: two\n"
            "Expected: is a valid SPF policy (one v=spf1 record, at most 10 DNS-querying terms and "
            "2 void lookups) ending in -all\n"
            "  Actual: SPF for twospf.broken.deploycheck.test: \"v=spf1 a -all\" and \"v=spf1 mx "
            "-all\" (of type deploycheck::email::SpfResult), which fails: 2 v=spf1 records (RFC "
            "7208 §4.5: permerror)");
}

TEST(SpfValid, DescribesAndRefusesAnUnknownRequirement) {
  EXPECT_EQ(
      describe(SpfValid({.require_all = "~all", .required_includes = {"sendgrid.net"}}), true),
      "is not a valid SPF policy (one v=spf1 record, at most 10 DNS-querying terms and 2 "
      "void lookups) ending in -all or ~all that includes sendgrid.net");
  EXPECT_THROW(SpfValid({.require_all = "-ALL"}), std::invalid_argument);
}

// ---- DmarcAtLeast ---------------------------------------------------------------------------

email::DmarcResult dmarc(std::string record) {
  return email::parse_dmarc({std::move(record)}, "example.test");
}

TEST(DmarcAtLeast, PassesAndSaysWhatItFound) {
  EXPECT_EQ(judge(DmarcAtLeast("quarantine", true),
                  dmarc("v=DMARC1; p=reject; rua=mailto:d@example.test")),
            (Verdict{true, "which has p=reject, pct=100, rua=mailto:d@example.test"}));
  // pct=50 of reject: the rest is quarantined, still at least quarantine.
  EXPECT_EQ(judge(DmarcAtLeast("quarantine"), dmarc("v=DMARC1; p=reject; pct=50")),
            (Verdict{true, "which has p=reject, pct=50"}));
}

TEST(DmarcAtLeast, WeakerPolicyFails) {
  EXPECT_EQ(judge(DmarcAtLeast("quarantine"), dmarc("v=DMARC1; p=none")),
            (Verdict{false, "where it has p=none, weaker than quarantine"}));
}

TEST(DmarcAtLeast, PctBelowHundredLetsTheRestThrough) {
  EXPECT_EQ(judge(DmarcAtLeast("quarantine"), dmarc("v=DMARC1; p=quarantine; pct=25")),
            (Verdict{false,
                     "where it applies p=quarantine to only 25% of mail (pct=25); the rest "
                     "gets none, weaker than quarantine"}));
}

TEST(DmarcAtLeast, SubdomainPolicyCounts) {
  EXPECT_EQ(judge(DmarcAtLeast("quarantine"), dmarc("v=DMARC1; p=reject; sp=none")),
            (Verdict{false, "where it has sp=none for subdomains, weaker than quarantine"}));
  EXPECT_EQ(judge(DmarcAtLeast("quarantine"), dmarc("v=DMARC1; p=reject; sp=quarantine")),
            (Verdict{true, "which has p=reject, sp=quarantine, pct=100"}));
}

TEST(DmarcAtLeast, RuaRequired) {
  EXPECT_EQ(judge(DmarcAtLeast("none", true), dmarc("v=DMARC1; p=none")),
            (Verdict{false, "where it has no rua= (aggregate reports are required)"}));
}

TEST(DmarcAtLeast, RecordErrorsFail) {
  const auto two = email::parse_dmarc({"v=DMARC1; p=reject", "v=DMARC1; p=none"}, "example.test");
  EXPECT_EQ(judge(DmarcAtLeast("quarantine"), two),
            (Verdict{false,
                     "which fails: 2 v=DMARC1 records (RFC 7489 §6.6.3: no DMARC policy "
                     "applies)"}));
}

TEST(DmarcAtLeast, DescribesAndRefusesAnUnknownPolicy) {
  EXPECT_EQ(describe(DmarcAtLeast("quarantine", true)),
            "is a valid DMARC policy of at least quarantine for all mail, subdomains included, "
            "with aggregate reports (rua=)");
  EXPECT_EQ(describe(DmarcAtLeast("reject"), true),
            "is not a valid DMARC policy of at least reject for all mail, subdomains included");
  EXPECT_THROW(DmarcAtLeast("strict"), std::invalid_argument);
}

// ---- DkimKeyValid ---------------------------------------------------------------------------

email::DkimKey key(std::string type, int bits) {
  email::DkimKey k;
  k.name = "s1._domainkey.example.test";
  k.found = true;
  k.record = "v=DKIM1; k=" + type + "; p=...";
  k.key_type = std::move(type);
  k.bits = bits;
  return k;
}

TEST(DkimKeyValid, BitsAgainstTheMinimum) {
  EXPECT_EQ(judge(DkimKeyValid(), key("rsa", 2048)),
            (Verdict{true, "which is a 2048-bit RSA key"}));
  EXPECT_EQ(judge(DkimKeyValid(2048), key("rsa", 1024)),
            (Verdict{false, "which is a 1024-bit RSA key, fewer than 2048"}));
  EXPECT_EQ(judge(DkimKeyValid(4096), key("ed25519", 256)),
            (Verdict{true, "which is an Ed25519 key"}));
}

TEST(DkimKeyValid, MissingRevokedAndBrokenKeysFail) {
  const auto missing = email::parse_dkim_records("s1._domainkey.example.test", {});
  EXPECT_EQ(judge(DkimKeyValid(), missing),
            (Verdict{false, "which fails: no TXT record (the selector's key is not published)"}));
  auto revoked = key("rsa", 0);
  revoked.revoked = true;
  EXPECT_EQ(judge(DkimKeyValid(), revoked), (Verdict{false, "which is revoked (empty p=)"}));
  auto broken = key("rsa", 0);
  broken.errors = {"p= is not valid base64: its length 5 is not a multiple of 4"};
  EXPECT_EQ(judge(DkimKeyValid(), broken),
            (Verdict{false,
                     "which fails: p= is not valid base64: its length 5 is not a multiple "
                     "of 4"}));
}

TEST(DkimKeyValid, FullMessageForAMissingKey) {
  const auto missing = email::parse_dkim_records("s1._domainkey.example.test", {});
  EXPECT_EQ(
      captured_failure([&] { EXPECT_THAT(missing, DkimKeyValid()); }),
      "Value of: missing\n"
      "Expected: is a published, parseable DKIM key (RSA of at least 1024 bits, or Ed25519)\n"
      "  Actual: DKIM key at s1._domainkey.example.test (of type deploycheck::email::DkimKey), "
      "which fails: no TXT record (the selector's key is not published)");
  EXPECT_EQ(describe(DkimKeyValid(2048), true),
            "is not a published, parseable DKIM key (RSA of at least 2048 bits, or Ed25519)");
}

}  // namespace
}  // namespace deploycheck

namespace deploycheck {
namespace {

ResolvedAnswer mx_answer(std::vector<std::string> data) {
  dns::Answer a;
  a.query = {"example.com", dns::RecordType::kMX};
  a.status = dns::Status::kAnswer;
  for (auto& d : data) a.records.push_back({"example.com", dns::RecordType::kMX, 300, d});
  return {"127.0.0.1:5353", a};
}

TEST(AnswersWith, ComparesAnyRecordTypeAsDigPrintsIt) {
  ::testing::StringMatchResultListener l;
  EXPECT_TRUE(ExplainMatchResult(AnswersWith({"10 MAIL.example.com."}),
                                 mx_answer({"10 mail.example.com"}), &l));
  EXPECT_EQ(l.str(), "which holds exactly these");
}

TEST(AnswersWith, NamesWhatIsMissingAndWhatIsUnexpected) {
  ::testing::StringMatchResultListener l;
  EXPECT_FALSE(ExplainMatchResult(AnswersWith({"10 mail.example.com"}),
                                  mx_answer({"20 backup.example.com"}), &l));
  EXPECT_EQ(l.str(),
            "which is missing 10 mail.example.com and has unexpected 20 backup.example.com");
  ::testing::StringMatchResultListener includes;
  EXPECT_TRUE(ExplainMatchResult(AnswersWith({"10 mail.example.com"}, AddressMatch::kIncludes),
                                 mx_answer({"20 backup.example.com", "10 mail.example.com"}),
                                 &includes));
}

}  // namespace
}  // namespace deploycheck
