// SPF, DMARC and DKIM understood as their RFCs define them. SPF evaluation is a pure function
// of the DNS answers it asks for, so an in-memory table stands in for DNS here; the real DNS
// side is proven by the sandbox self-test. DKIM keys are real, generated with OpenSSL.
#include "matchers/email_auth.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace deploycheck::email {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// ---- a DNS table ---------------------------------------------------------------------------

// Answers from a table; a name/type it does not hold is NXDOMAIN (an empty answer).
class FakeDns {
 public:
  FakeDns& set(const std::string& name, const std::string& type, std::vector<std::string> data) {
    table_[{name, type}] = std::move(data);
    return *this;
  }
  FakeDns& fail(const std::string& name, const std::string& type) {
    table_[{name, type}] = std::nullopt;
    return *this;
  }
  FakeDns& txt(const std::string& name, std::vector<std::string> data) {
    return set(name, "TXT", std::move(data));
  }

  SpfLookup lookup() {
    return [this](const std::string& name, const char* type) {
      asked.push_back(name + " " + type);
      const auto it = table_.find({name, type});
      return it == table_.end()
                 ? std::optional<std::vector<std::string>>(std::vector<std::string>{})
                 : it->second;
    };
  }

  std::vector<std::string> asked;  // "name TYPE", in order

 private:
  std::map<std::pair<std::string, std::string>, std::optional<std::vector<std::string>>> table_;
};

// ---- parse_spf -----------------------------------------------------------------------------

TEST(SpfParse, ReadsEveryMechanismAndModifier) {
  const auto r = parse_spf(
      "v=spf1 +a -mx:mail.example.test/24 ~ip4:192.0.2.0/24 ?ip6:2001:db8::/32 a/24//64 ptr "
      "exists:%{i}.x.example.test include:_spf.example.test redirect=_spf2.example.test "
      "exp=explain.example.test  -all");
  ASSERT_THAT(r.errors, IsEmpty());
  ASSERT_EQ(r.terms.size(), 11u);
  EXPECT_EQ(r.terms[0].name, "a");
  EXPECT_EQ(r.terms[0].qualifier, '+');
  EXPECT_EQ(r.terms[1].name, "mx");
  EXPECT_EQ(r.terms[1].qualifier, '-');
  EXPECT_EQ(r.terms[1].domain, "mail.example.test");
  EXPECT_EQ(r.terms[1].cidr4, 24);
  EXPECT_EQ(r.terms[2].network, "192.0.2.0");
  EXPECT_EQ(r.terms[2].qualifier, '~');
  EXPECT_EQ(r.terms[3].network, "2001:db8::");
  EXPECT_EQ(r.terms[3].cidr6, 32);
  EXPECT_EQ(r.terms[3].qualifier, '?');
  EXPECT_EQ(r.terms[4].cidr4, 24);
  EXPECT_EQ(r.terms[4].cidr6, 64);
  EXPECT_EQ(r.terms[4].domain, "");
  EXPECT_EQ(r.terms[5].name, "ptr");
  EXPECT_EQ(r.terms[6].domain, "%{i}.x.example.test");
  EXPECT_EQ(r.terms[7].name, "include");
  EXPECT_EQ(r.terms[7].text, "include:_spf.example.test");
  EXPECT_EQ(r.terms[8].kind, SpfTerm::Kind::kModifier);
  EXPECT_EQ(r.terms[8].name, "redirect");
  EXPECT_EQ(r.terms[8].domain, "_spf2.example.test");
  EXPECT_EQ(r.terms[9].name, "exp");
  EXPECT_EQ(r.terms[9].value, "explain.example.test");
  EXPECT_EQ(r.terms[10].name, "all");
  EXPECT_EQ(r.terms[10].qualifier, '-');
}

TEST(SpfParse, MechanismNamesAreCaseInsensitive) {
  const auto r = parse_spf("V=SPF1 Include:_spf.example.test -ALL");
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.terms[0].name, "include");
  EXPECT_EQ(r.terms[1].name, "all");
}

TEST(SpfParse, UnknownModifiersAreAllowed) {
  EXPECT_THAT(parse_spf("v=spf1 moo=cow.example.test -all").errors, IsEmpty());
}

TEST(SpfParse, OnlyVSpf1FollowedBySpaceIsSpf) {
  EXPECT_TRUE(is_spf_record("v=spf1"));
  EXPECT_TRUE(is_spf_record("v=spf1 -all"));
  EXPECT_FALSE(is_spf_record("v=spf10 -all"));
  EXPECT_FALSE(is_spf_record("spf2.0/pra -all"));
  EXPECT_THAT(parse_spf("v=spf10 -all").errors,
              ElementsAre("the record does not start with \"v=spf1 \" (RFC 7208 §4.5)"));
}

struct BadSpf {
  const char* record;
  const char* error;
};

class SpfSyntaxErrors : public ::testing::TestWithParam<BadSpf> {};

TEST_P(SpfSyntaxErrors, AreNamedWithTheTerm) {
  EXPECT_THAT(parse_spf(GetParam().record).errors, ElementsAre(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Records, SpfSyntaxErrors,
    ::testing::Values(
        BadSpf{"v=spf1 foo -all", "an unknown mechanism in 'foo' (RFC 7208 §4.6: permerror)"},
        BadSpf{"v=spf1 include -all",
               "a missing domain (include:<domain>) in 'include' (RFC 7208 §4.6: permerror)"},
        BadSpf{"v=spf1 ip4:192.0.2 -all",
               "an invalid IPv4 address in 'ip4:192.0.2' (RFC 7208 §4.6: permerror)"},
        BadSpf{"v=spf1 ip4:192.0.2.0/33",
               "an invalid IPv4 prefix length in 'ip4:192.0.2.0/33' (RFC 7208 §4.6: permerror)"},
        BadSpf{"v=spf1 ip6:2001:db8::/129",
               "an invalid IPv6 prefix length in 'ip6:2001:db8::/129' (RFC 7208 §4.6: permerror)"},
        BadSpf{"v=spf1 mx/024",
               "an invalid IPv4 prefix length in 'mx/024' (RFC 7208 §4.6: permerror)"},
        BadSpf{"v=spf1 include:localhost",
               "a domain that is not fully qualified in 'include:localhost' (RFC 7208 §4.6: "
               "permerror)"},
        BadSpf{"v=spf1 a:mail.example.123",
               "a domain whose last label is not a valid top-level label in "
               "'a:mail.example.123' (RFC 7208 §4.6: permerror)"},
        BadSpf{"v=spf1 exists:%{x}.example.test",
               "an unknown macro '%{x}' in 'exists:%{x}.example.test' (RFC 7208 §4.6: permerror)"},
        BadSpf{"v=spf1 exists:%{c}.example.test",
               "the macro '%{c}', which only exp= may use in 'exists:%{c}.example.test' (RFC "
               "7208 §4.6: permerror)"},
        BadSpf{"v=spf1 a:50%.example.test",
               "an invalid '%.' (write %% for a literal %) in 'a:50%.example.test' (RFC 7208 "
               "§4.6: permerror)"},
        BadSpf{"v=spf1 all:example.test",
               "an argument to 'all' in 'all:example.test' (RFC 7208 §4.6: permerror)"},
        BadSpf{"v=spf1 redirect=a.example.test redirect=b.example.test",
               "redirect= appears 2 times (RFC 7208 §6: permerror)"}));

// ---- evaluate_spf: the lookup limits (RFC 7208 §4.6.4) ---------------------------------------

TEST(SpfEvaluate, CountsQueryingTermsAcrossIncludes) {
  FakeDns dns;
  dns.txt("example.test", {"google-site-verification=abc",
                           "v=spf1 ip4:192.0.2.0/24 a mx include:_spf.example.test -all"})
      .set("example.test", "A", {"192.0.2.1"})
      .set("example.test", "MX", {"10 mail.example.test"})
      .txt("_spf.example.test", {"v=spf1 include:sendgrid.net ~all"})
      .txt("sendgrid.net", {"v=spf1 ip4:167.89.0.0/17 -all"});
  const auto r = evaluate_spf("Example.Test.", dns.lookup());
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.domain, "example.test");
  EXPECT_EQ(r.records_found(), 1);
  EXPECT_EQ(r.lookups, 4);
  EXPECT_EQ(r.void_lookups, 0);
  EXPECT_EQ(r.all_qualifier, "-all");
  EXPECT_THAT(r.includes, ElementsAre("_spf.example.test", "sendgrid.net"));
  ASSERT_EQ(r.tree.size(), 3u);
  EXPECT_EQ(r.tree[0].lookups, 3);
  EXPECT_EQ(r.tree[1].domain, "_spf.example.test");
  EXPECT_EQ(r.tree[1].via, "include");
  EXPECT_EQ(r.tree[1].depth, 1);
  EXPECT_EQ(r.tree[1].lookups, 1);
  EXPECT_EQ(r.tree[2].depth, 2);
  EXPECT_EQ(r.tree[2].lookups, 0);
  EXPECT_THAT(dns.asked, ElementsAre("example.test TXT", "example.test A", "example.test MX",
                                     "_spf.example.test TXT", "sendgrid.net TXT"));
}

// Ten hosts that resolve, for filling records with "a:" terms that cost one lookup each.
FakeDns& with_hosts(FakeDns& dns, int n) {
  for (int i = 1; i <= n; ++i) dns.set("h" + std::to_string(i) + ".test", "A", {"192.0.2.1"});
  return dns;
}

TEST(SpfEvaluate, TenLookupsAreAllowed) {
  FakeDns dns;
  with_hosts(dns, 10)
      .txt("ten.test", {"v=spf1 a:h1.test a:h2.test a:h3.test include:more.test -all"})
      .txt("more.test",
           {"v=spf1 a:h4.test a:h5.test a:h6.test a:h7.test a:h8.test a:h9.test ~all"});
  const auto r = evaluate_spf("ten.test", dns.lookup());
  EXPECT_EQ(r.lookups, 10);
  EXPECT_THAT(r.errors, IsEmpty());
}

TEST(SpfEvaluate, ElevenLookupsAreAPermerrorWithWhatEachTermCost) {
  FakeDns dns;
  with_hosts(dns, 10)
      .txt("over.test", {"v=spf1 include:a.test include:b.test mx -all"})
      .set("over.test", "MX", {"10 h1.test"})
      .txt("a.test", {"v=spf1 a:h1.test mx:h2.test exists:h3.test ~all"})
      .set("h2.test", "MX", {"10 h2.test"})
      .txt("b.test", {"v=spf1 a:h4.test a:h5.test a:h6.test a:h7.test include:c.test -all"})
      .txt("c.test", {"v=spf1 ip4:192.0.2.0/24 -all"});
  const auto r = evaluate_spf("over.test", dns.lookup());
  EXPECT_EQ(r.lookups, 11);
  EXPECT_EQ(r.void_lookups, 0);
  EXPECT_THAT(r.errors, ElementsAre("11 DNS-querying terms (RFC 7208 §4.6.4: limit 10, "
                                    "permerror): include:a.test 4, include:b.test 6, mx 1"));
}

TEST(SpfEvaluate, RedirectCountsAndItsTargetSetsTheAllQualifier) {
  FakeDns dns;
  dns.txt("r.test", {"v=spf1 mx redirect=_spf.r.test"})
      .set("r.test", "MX", {"10 mail.r.test"})
      .txt("_spf.r.test", {"v=spf1 a -all"})
      .set("_spf.r.test", "A", {"192.0.2.7"});
  const auto r = evaluate_spf("r.test", dns.lookup());
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.lookups, 3);
  EXPECT_EQ(r.all_qualifier, "-all");
  ASSERT_EQ(r.tree.size(), 2u);
  EXPECT_EQ(r.tree[1].via, "redirect");
  EXPECT_THAT(r.includes, IsEmpty());
}

TEST(SpfEvaluate, RedirectIsIgnoredWhenTheRecordHasAll) {
  FakeDns dns;
  dns.txt("r.test", {"v=spf1 redirect=elsewhere.test ~all"});
  const auto r = evaluate_spf("r.test", dns.lookup());
  EXPECT_EQ(r.lookups, 0);
  EXPECT_EQ(r.all_qualifier, "~all");
  EXPECT_THAT(r.warnings, ElementsAre("redirect=elsewhere.test is ignored because the record has "
                                      "'all' (RFC 7208 §6.1)"));
  EXPECT_THAT(dns.asked, ElementsAre("r.test TXT"));
}

TEST(SpfEvaluate, ThreeVoidLookupsAreAPermerrorNamingThem) {
  FakeDns dns;
  dns.txt("void.test", {"v=spf1 a:v1.test mx:v2.test exists:v3.test -all"});
  const auto r = evaluate_spf("void.test", dns.lookup());
  EXPECT_EQ(r.lookups, 3);
  EXPECT_EQ(r.void_lookups, 3);
  EXPECT_THAT(r.errors, ElementsAre("3 void lookups (RFC 7208 §4.6.4: limit 2, permerror): "
                                    "a:v1.test, mx:v2.test, exists:v3.test"));
  // "a" looks for an address of either family before calling the lookup void.
  EXPECT_THAT(dns.asked,
              ElementsAre("void.test TXT", "v1.test A", "v1.test AAAA", "v2.test MX", "v3.test A"));
}

TEST(SpfEvaluate, TwoVoidLookupsAreAllowedAndAnIpv6OnlyHostIsNotVoid) {
  FakeDns dns;
  dns.txt("void.test", {"v=spf1 a:v1.test a:v2.test a:six.test -all"})
      .set("six.test", "AAAA", {"2001:db8::1"});
  const auto r = evaluate_spf("void.test", dns.lookup());
  EXPECT_EQ(r.void_lookups, 2);
  EXPECT_THAT(r.errors, IsEmpty());
}

TEST(SpfEvaluate, IncludeLoopIsDetected) {
  FakeDns dns;
  dns.txt("a.test", {"v=spf1 include:b.test -all"}).txt("b.test", {"v=spf1 include:A.test. -all"});
  const auto r = evaluate_spf("a.test", dns.lookup());
  EXPECT_EQ(r.lookups, 2);
  EXPECT_THAT(r.errors, ElementsAre("loop: a.test → b.test → a.test (RFC 7208 §4.6.4: the lookup "
                                    "limit makes it a permerror)"));
}

TEST(SpfEvaluate, RedirectToItselfIsALoop) {
  FakeDns dns;
  dns.txt("self.test", {"v=spf1 redirect=self.test"});
  const auto r = evaluate_spf("self.test", dns.lookup());
  EXPECT_THAT(r.errors, ElementsAre("loop: self.test → self.test (RFC 7208 §4.6.4: the lookup "
                                    "limit makes it a permerror)"));
}

TEST(SpfEvaluate, TheSameIncludeTwiceIsNotALoopButCountsTwice) {
  FakeDns dns;
  dns.txt("d.test", {"v=spf1 include:x.test include:y.test -all"})
      .txt("x.test", {"v=spf1 include:z.test -all"})
      .txt("y.test", {"v=spf1 include:z.test -all"})
      .txt("z.test", {"v=spf1 ip4:192.0.2.1 -all"});
  const auto r = evaluate_spf("d.test", dns.lookup());
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.lookups, 4);
}

TEST(SpfEvaluate, NoSpfRecord) {
  FakeDns dns;
  dns.txt("none.test", {"hello"});
  const auto r = evaluate_spf("none.test", dns.lookup());
  EXPECT_EQ(r.records_found(), 0);
  EXPECT_THAT(r.errors, ElementsAre("no v=spf1 record (RFC 7208 §4.5: none)"));
  EXPECT_THAT(evaluate_spf("nxdomain.test", dns.lookup()).errors,
              ElementsAre("no v=spf1 record (RFC 7208 §4.5: none)"));
}

TEST(SpfEvaluate, TwoSpfRecordsAreAPermerror) {
  FakeDns dns;
  dns.txt("twospf.test", {"v=spf1 a -all", "v=spf1 mx -all"});
  const auto r = evaluate_spf("twospf.test", dns.lookup());
  EXPECT_EQ(r.records_found(), 2);
  EXPECT_THAT(r.errors, ElementsAre("2 v=spf1 records (RFC 7208 §4.5: permerror)"));
  EXPECT_EQ(r.lookups, 0);
}

TEST(SpfEvaluate, IncludeTargetWithoutSpfIsAPermerror) {
  FakeDns dns;
  dns.txt("d.test", {"v=spf1 include:nospf.test include:gone.test -all"})
      .txt("nospf.test", {"some verification token"});
  const auto r = evaluate_spf("d.test", dns.lookup());
  EXPECT_EQ(r.lookups, 2);
  EXPECT_EQ(r.void_lookups, 1);  // gone.test is NXDOMAIN: void; nospf.test answered
  EXPECT_THAT(r.errors,
              ElementsAre("include:nospf.test has no SPF record (RFC 7208 §5.2: permerror)",
                          "include:gone.test has no SPF record (RFC 7208 §5.2: permerror)"));
}

TEST(SpfEvaluate, IncludeTargetWithTwoSpfRecordsIsAPermerror) {
  FakeDns dns;
  dns.txt("d.test", {"v=spf1 include:x.test -all"}).txt("x.test", {"v=spf1 -all", "v=spf1 a -all"});
  EXPECT_THAT(evaluate_spf("d.test", dns.lookup()).errors,
              ElementsAre("include:x.test has 2 v=spf1 records (RFC 7208 §4.5: permerror)"));
}

TEST(SpfEvaluate, RedirectTargetWithoutSpfIsAPermerror) {
  FakeDns dns;
  dns.txt("d.test", {"v=spf1 redirect=gone.test"});
  EXPECT_THAT(evaluate_spf("d.test", dns.lookup()).errors,
              ElementsAre("redirect=gone.test has no SPF record (RFC 7208 §6.1: permerror)"));
}

TEST(SpfEvaluate, FailedLookupsAreTemperrors) {
  FakeDns dns;
  dns.fail("down.test", "TXT");
  EXPECT_THAT(evaluate_spf("down.test", dns.lookup()).errors,
              ElementsAre("the TXT lookup failed (RFC 7208 §4.4: temperror)"));
  dns.txt("d.test", {"v=spf1 a:slow.test include:inc.test -all"})
      .fail("slow.test", "A")
      .txt("inc.test", {"v=spf1 mx:slow.test -all"})
      .fail("slow.test", "MX");
  EXPECT_THAT(
      evaluate_spf("d.test", dns.lookup()).errors,
      ElementsAre("'a:slow.test': the A lookup for slow.test failed (RFC 7208 §4.4: temperror)",
                  "inc.test: 'mx:slow.test': the MX lookup for slow.test failed (RFC 7208 §4.4: "
                  "temperror)"));
}

TEST(SpfEvaluate, SyntaxErrorsInIncludedRecordsNameTheirDomain) {
  FakeDns dns;
  dns.txt("d.test", {"v=spf1 include:bad.test -all"}).txt("bad.test", {"v=spf1 foo -all"});
  EXPECT_THAT(evaluate_spf("d.test", dns.lookup()).errors,
              ElementsAre("bad.test: an unknown mechanism in 'foo' (RFC 7208 §4.6: permerror)"));
}

TEST(SpfEvaluate, TermsAfterAllCostNothing) {
  FakeDns dns;
  dns.txt("d.test", {"v=spf1 -all include:never.test"});
  const auto r = evaluate_spf("d.test", dns.lookup());
  EXPECT_EQ(r.lookups, 0);
  EXPECT_THAT(r.includes, IsEmpty());
  EXPECT_THAT(r.warnings, ElementsAre("terms after 'all' are never evaluated: include:never.test "
                                      "(RFC 7208 §5.1)"));
}

TEST(SpfEvaluate, MacrosOfTheDomainExpandAndMacrosOfTheMessageAreOnlyCounted) {
  FakeDns dns;
  dns.txt("mail.m.test", {"v=spf1 a:%{d2} exists:%{i}._spf.%{d} a:%{dr}.rev.test -all"})
      .set("m.test", "A", {"192.0.2.1"})
      .set("test.m.mail.rev.test", "A", {"192.0.2.2"});
  const auto r = evaluate_spf("mail.m.test", dns.lookup());
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.lookups, 3);
  EXPECT_THAT(dns.asked, ElementsAre("mail.m.test TXT", "m.test A", "test.m.mail.rev.test A"));
}

TEST(SpfEvaluate, MoreThanTenMailServersIsAPermerror) {
  FakeDns dns;
  std::vector<std::string> mx;
  for (int i = 0; i < 11; ++i) mx.push_back("10 mx" + std::to_string(i) + ".test");
  dns.txt("d.test", {"v=spf1 mx -all"}).set("d.test", "MX", mx);
  EXPECT_THAT(evaluate_spf("d.test", dns.lookup()).errors,
              ElementsAre("'mx' names 11 mail servers (RFC 7208 §4.6.4: limit 10, permerror)"));
}

TEST(SpfEvaluate, PtrIsCountedAndDiscouraged) {
  FakeDns dns;
  dns.txt("d.test", {"v=spf1 ptr -all"});
  const auto r = evaluate_spf("d.test", dns.lookup());
  EXPECT_EQ(r.lookups, 1);
  EXPECT_THAT(r.warnings, ElementsAre("'ptr' is slow and unreliable: RFC 7208 §5.5 says SHOULD "
                                      "NOT use ptr"));
}

TEST(SpfEvaluate, IncludesListsTargetsThroughTheWholeTree) {
  FakeDns dns;
  dns.txt("d.test", {"v=spf1 include:_spf.d.test -all"})
      .txt("_spf.d.test", {"v=spf1 include:sendgrid.net include:mailgun.org ~all"})
      .txt("sendgrid.net", {"v=spf1 -all"})
      .txt("mailgun.org", {"v=spf1 -all"});
  EXPECT_THAT(evaluate_spf("d.test", dns.lookup()).includes,
              ElementsAre("_spf.d.test", "sendgrid.net", "mailgun.org"));
}

TEST(SpfEvaluate, ResultRoundTripsThroughJson) {
  FakeDns dns;
  dns.txt("d.test", {"v=spf1 include:x.test ptr -all"}).txt("x.test", {"v=spf1 a:v.test ~all"});
  const auto r = evaluate_spf("d.test", dns.lookup());
  const auto j = to_json(r);
  const auto back = spf_result_from_json(j);
  EXPECT_EQ(to_json(back), j);
  EXPECT_EQ(back.lookups, 3);
  EXPECT_EQ(back.void_lookups, 1);
  EXPECT_EQ(back.tree.size(), 2u);
  EXPECT_EQ(back.warnings, r.warnings);
  EXPECT_THROW(spf_result_from_json(nlohmann::json::object()), nlohmann::json::exception);
}

// ---- DMARC (RFC 7489) ---------------------------------------------------------------------------

TEST(Dmarc, ReadsEveryTag) {
  const auto r =
      parse_dmarc({"unrelated",
                   "v=DMARC1; p=reject; sp=quarantine; pct=50; rua=mailto:agg@example.test, "
                   "mailto:x@y.test; ruf=mailto:f@example.test; adkim=s; aspf=r; fo=1;"},
                  "example.test");
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.policy, "reject");
  EXPECT_EQ(r.subdomain_policy, "quarantine");
  EXPECT_EQ(r.pct, 50);
  EXPECT_THAT(r.rua, ElementsAre("mailto:agg@example.test", "mailto:x@y.test"));
  EXPECT_THAT(r.ruf, ElementsAre("mailto:f@example.test"));
  EXPECT_EQ(r.adkim, 's');
  EXPECT_EQ(r.aspf, 'r');
}

TEST(Dmarc, DefaultsFollowTheRfc) {
  const auto r = parse_dmarc({"v=DMARC1; p=none"});
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.subdomain_policy, "none");  // sp defaults to p
  EXPECT_EQ(r.pct, 100);
  EXPECT_EQ(r.adkim, 'r');
  EXPECT_THAT(r.rua, IsEmpty());
}

TEST(Dmarc, TagNamesAndPolicyValuesIgnoreCaseAndSpaces) {
  const auto r = parse_dmarc({" v = DMARC1 ; P = Reject ;"});
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.policy, "reject");
}

struct BadDmarc {
  std::vector<std::string> records;
  const char* error;
};

class DmarcErrors : public ::testing::TestWithParam<BadDmarc> {};

TEST_P(DmarcErrors, AreExplained) {
  EXPECT_THAT(parse_dmarc(GetParam().records).errors, ElementsAre(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Records, DmarcErrors,
    ::testing::Values(
        BadDmarc{{}, "no v=DMARC1 record (RFC 7489 §6.6.3: no DMARC policy applies)"},
        BadDmarc{{"v=spf1 -all"}, "no v=DMARC1 record (RFC 7489 §6.6.3: no DMARC policy applies)"},
        BadDmarc{{"v=DMARC1; p=none", "v=DMARC1; p=reject"},
                 "2 v=DMARC1 records (RFC 7489 §6.6.3: no DMARC policy applies)"},
        BadDmarc{{"p=reject; v=DMARC1"},
                 "the record \"p=reject; v=DMARC1\" does not start with v=DMARC1 (RFC 7489 "
                 "§6.6.3: it is discarded)"},
        BadDmarc{{"v=dmarc1; p=reject"},
                 "the record \"v=dmarc1; p=reject\" does not start with v=DMARC1 (RFC 7489 "
                 "§6.6.3: it is discarded)"},
        BadDmarc{{"v=DMARC1; rua=mailto:d@example.test"},
                 "no p= tag (RFC 7489 §6.3: p is required)"},
        BadDmarc{{"v=DMARC1; p=block"},
                 "p=block is not none, quarantine or reject (RFC 7489 §6.3)"},
        BadDmarc{{"v=DMARC1; p=none; sp=maybe"},
                 "sp=maybe is not none, quarantine or reject (RFC 7489 §6.3)"},
        BadDmarc{{"v=DMARC1; p=none; pct=150"},
                 "pct=150 is not an integer from 0 to 100 (RFC 7489 §6.3)"},
        BadDmarc{{"v=DMARC1; p=none; pct=-1"},
                 "pct=-1 is not an integer from 0 to 100 (RFC 7489 §6.3)"},
        BadDmarc{{"v=DMARC1; p=none; p=reject"},
                 "tag p= appears more than once (RFC 7489 §6.4: the record is invalid)"},
        BadDmarc{{"v=DMARC1; p=none; adkim=x"}, "adkim=x is not r or s (RFC 7489 §6.3)"},
        BadDmarc{{"v=DMARC1; p=none; rua=dmarc@example.test"},
                 "rua= entry 'dmarc@example.test' is not a URI such as mailto:dmarc@example.com "
                 "(RFC 7489 §6.4)"},
        BadDmarc{{"v=DMARC1; p=none; garbage"},
                 "'garbage' is not a tag=value pair (RFC 7489 §6.4)"}));

TEST(Dmarc, PolicyStrengthOrdersThePolicies) {
  EXPECT_EQ(dmarc_policy_strength("none"), 0);
  EXPECT_EQ(dmarc_policy_strength("quarantine"), 1);
  EXPECT_EQ(dmarc_policy_strength("reject"), 2);
  EXPECT_EQ(dmarc_policy_strength("block"), std::nullopt);
}

// ---- DKIM (RFC 6376 §3.6.1, RFC 8463) ------------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string base64(const std::vector<unsigned char>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// DER from an i2d_* function.
template <class I2d>
std::vector<unsigned char> der(EVP_PKEY* key, I2d i2d) {
  unsigned char* buffer = nullptr;
  const int n = i2d(key, &buffer);
  std::vector<unsigned char> out(buffer, buffer + (n > 0 ? n : 0));
  OPENSSL_free(buffer);
  return out;
}

// Keys are slow to make: one of each per test program.
EVP_PKEY* rsa_key(unsigned bits) {
  static std::map<unsigned, Pkey> keys;
  auto& key = keys[bits];
  if (!key) key.reset(EVP_RSA_gen(bits));
  return key.get();
}

std::string spki_of_rsa(unsigned bits) {
  return base64(
      der(rsa_key(bits), [](EVP_PKEY* k, unsigned char** out) { return i2d_PUBKEY(k, out); }));
}

std::vector<unsigned char> ed25519_raw() {
  static Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  std::vector<unsigned char> raw(32);
  std::size_t len = raw.size();
  EVP_PKEY_get_raw_public_key(key.get(), raw.data(), &len);
  return raw;
}

TEST(Dkim, Rsa2048KeyIsParsed) {
  const auto k = parse_dkim("v=DKIM1; k=rsa; p=" + spki_of_rsa(2048));
  EXPECT_THAT(k.errors, IsEmpty());
  EXPECT_TRUE(k.found);
  EXPECT_EQ(k.key_type, "rsa");
  EXPECT_EQ(k.bits, 2048);
  EXPECT_FALSE(k.revoked);
}

TEST(Dkim, Rsa1024KeyWithDefaultTypeAndFoldedBase64) {
  std::string p = spki_of_rsa(1024);
  p.insert(64, " \t");  // DNS tools split long keys; FWS is allowed inside p= (RFC 6376 §3.6.1)
  p.insert(20, " ");
  const auto k = parse_dkim("p=" + p);
  EXPECT_THAT(k.errors, IsEmpty());
  EXPECT_EQ(k.key_type, "rsa");
  EXPECT_EQ(k.bits, 1024);
}

TEST(Dkim, Ed25519KeyIsParsed) {
  const auto k = parse_dkim("v=DKIM1; k=ed25519; p=" + base64(ed25519_raw()));
  EXPECT_THAT(k.errors, IsEmpty());
  EXPECT_EQ(k.key_type, "ed25519");
  EXPECT_EQ(k.bits, 256);
}

TEST(Dkim, EmptyPIsARevokedKey) {
  const auto k = parse_dkim("v=DKIM1; k=rsa; p=");
  EXPECT_THAT(k.errors, IsEmpty());
  EXPECT_TRUE(k.revoked);
}

TEST(Dkim, BadBase64IsNamed) {
  EXPECT_THAT(parse_dkim("p=MIIB!AAA").errors,
              ElementsAre("p= is not valid base64: the character '!' at position 5 is not base64"));
  EXPECT_THAT(parse_dkim("p=MIIBA").errors,
              ElementsAre("p= is not valid base64: its length 5 is not a multiple of 4"));
  EXPECT_THAT(parse_dkim("p=MI=BAAAA").errors,
              ElementsAre("p= is not valid base64: '=' padding in the middle (at character 3)"));
}

TEST(Dkim, BytesThatAreNoKeyAreNamedWithOpenSslsReason) {
  const std::string junk = "this is not a key at all";
  const auto k = parse_dkim("p=" + base64({junk.begin(), junk.end()}));
  ASSERT_EQ(k.errors.size(), 1u);
  EXPECT_THAT(k.errors[0], StartsWith("p= does not decode to an RSA public key (OpenSSL: error:"));
  EXPECT_EQ(k.bits, 0);
}

TEST(Dkim, BarePkcs1KeyIsNamedForWhatItIs) {
  const auto pkcs1 =
      der(rsa_key(2048), [](EVP_PKEY* k, unsigned char** out) { return i2d_PublicKey(k, out); });
  const auto k = parse_dkim("v=DKIM1; p=" + base64(pkcs1));
  EXPECT_THAT(k.errors, ElementsAre("p= is a bare PKCS#1 RSAPublicKey, not the "
                                    "SubjectPublicKeyInfo RFC 6376 §3.6.1 requires (verifiers "
                                    "reject it)"));
  EXPECT_EQ(k.bits, 2048);
}

TEST(Dkim, KeyOfTheWrongTypeIsAnError) {
  EXPECT_THAT(parse_dkim("k=ed25519; p=" + spki_of_rsa(2048)).errors,
              ElementsAre("p= holds 294 bytes, but an Ed25519 key is 32 (RFC 8463 §4.2)"));
  static Pkey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  const auto spki =
      der(ed.get(), [](EVP_PKEY* k, unsigned char** out) { return i2d_PUBKEY(k, out); });
  EXPECT_THAT(parse_dkim("k=rsa; p=" + base64(spki)).errors,
              ElementsAre("p= holds a key of type ED25519, but k=rsa (RFC 6376 §3.6.1)"));
}

TEST(Dkim, TagErrors) {
  const auto p = spki_of_rsa(1024);
  EXPECT_THAT(parse_dkim("v=DKIM2; p=" + p).errors,
              ElementsAre("v=DKIM2 is not DKIM1 (RFC 6376 §3.6.1: the record is discarded)"));
  EXPECT_THAT(parse_dkim("k=rsa; v=DKIM1; p=" + p).errors,
              ElementsAre("v=DKIM1 is not the first tag (RFC 6376 §3.6.1)"));
  EXPECT_THAT(parse_dkim("v=DKIM1; k=rsa").errors,
              ElementsAre("no p= tag (RFC 6376 §3.6.1: p is required)"));
  EXPECT_THAT(parse_dkim("v=DKIM1; k=dsa; p=" + p).errors,
              ElementsAre("k=dsa is not a key type verifiers know (rsa, ed25519)"));
  EXPECT_THAT(parse_dkim("v=DKIM1; p=" + p + "; p=" + p).errors,
              ElementsAre("tag p= appears more than once (RFC 6376 §3.2: the record is invalid)"));
}

TEST(Dkim, RecordsAtTheSelector) {
  const auto missing = parse_dkim_records("S1._domainkey.Example.Test.", {});
  EXPECT_FALSE(missing.found);
  EXPECT_EQ(missing.name, "s1._domainkey.example.test");
  EXPECT_THAT(missing.errors, ElementsAre("no TXT record (the selector's key is not published)"));

  const std::string record = "v=DKIM1; p=" + spki_of_rsa(1024);
  const auto one = parse_dkim_records("s1._domainkey.example.test", {record});
  EXPECT_TRUE(one.found);
  EXPECT_THAT(one.errors, IsEmpty());
  EXPECT_EQ(one.bits, 1024);

  EXPECT_THAT(parse_dkim_records("s1._domainkey.example.test", {record, record}).errors,
              ElementsAre("2 TXT records: verifiers may pick any one (RFC 6376 §3.6.2.2)"));
}

// ---- printing ------------------------------------------------------------------------------

TEST(EmailAuthPrinting, ShowsTheRecordsOnce) {
  SpfResult spf;
  spf.domain = "twospf.example.test";
  spf.records = {"v=spf1 a -all", "v=spf1 mx -all"};
  EXPECT_EQ(::testing::PrintToString(spf),
            "SPF for twospf.example.test: \"v=spf1 a -all\" and \"v=spf1 mx -all\"");
  spf.records.clear();
  EXPECT_EQ(::testing::PrintToString(spf), "SPF for twospf.example.test");

  EXPECT_EQ(::testing::PrintToString(parse_dmarc({"v=DMARC1; p=none"}, "example.test")),
            "DMARC for example.test: \"v=DMARC1; p=none\"");

  const auto dkim =
      parse_dkim_records("s1._domainkey.example.test", {"v=DKIM1; k=rsa; p=" + spki_of_rsa(2048)});
  EXPECT_EQ(::testing::PrintToString(dkim),
            "DKIM key at s1._domainkey.example.test: \"v=DKIM1; k=rsa; p=MIIBIjANBgkq…\"");
  EXPECT_EQ(::testing::PrintToString(parse_dkim_records("s1._domainkey.example.test", {})),
            "DKIM key at s1._domainkey.example.test");
}

}  // namespace
}  // namespace deploycheck::email
