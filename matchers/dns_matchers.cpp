#include "matchers/dns_matchers.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>
#include <stdexcept>

namespace deploycheck {
namespace {

using dns::RecordType;
using dns::Status;
using ::testing::MatchResultListener;

// Local spellings: dns::to_string() lives with the probe's implementation, and the matchers
// must not need the probe linked in to judge facts read back from JSON.
const char* type_name(RecordType t) {
  switch (t) {
    case RecordType::kA:
      return "A";
    case RecordType::kAAAA:
      return "AAAA";
    case RecordType::kCNAME:
      return "CNAME";
    case RecordType::kMX:
      return "MX";
    case RecordType::kTXT:
      return "TXT";
    case RecordType::kNS:
      return "NS";
    case RecordType::kCAA:
      return "CAA";
    case RecordType::kSRV:
      return "SRV";
  }
  return "?";
}

const char* status_name(Status s) {
  switch (s) {
    case Status::kAnswer:
      return "NOERROR";
    case Status::kNoData:
      return "NODATA";
    case Status::kNxDomain:
      return "NXDOMAIN";
    case Status::kServFail:
      return "SERVFAIL";
    case Status::kRefused:
      return "REFUSED";
    case Status::kTimeout:
      return "TIMEOUT";
    case Status::kError:
      return "ERROR";
  }
  return "?";
}

// "an A answer", "a TXT answer".
std::string a_type(RecordType t) {
  const std::string name = type_name(t);
  return (std::string("AMNS").find(name[0]) != std::string::npos ? "an " : "a ") + name;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// Names compare case-insensitively, with or without the root's trailing dot.
std::string normal_name(std::string_view name) {
  auto n = lower(name);
  if (!n.empty() && n.back() == '.') n.pop_back();
  return n;
}

// 2001:DB8:0::1 and 2001:db8::1 are the same address.
std::string canonical_address(const std::string& text) {
  unsigned char bytes[16];
  char out[INET6_ADDRSTRLEN];
  for (int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, text.c_str(), bytes) == 1 &&
        inet_ntop(family, bytes, out, sizeof out) != nullptr) {
      return out;
    }
  }
  return lower(text);
}

std::string plural(std::size_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string data_text(const dns::Record& r) {
  return r.type == RecordType::kTXT ? "\"" + r.data + "\"" : r.data;
}

// "192.0.2.1, 192.0.2.2 (ttl 300)", or a TTL per record when they differ.
std::string records_text(const std::vector<dns::Record>& records) {
  const bool one_ttl = std::all_of(records.begin(), records.end(),
                                   [&](const auto& r) { return r.ttl == records.front().ttl; });
  std::vector<std::string> items;
  for (const auto& r : records) {
    items.push_back(data_text(r) + (one_ttl ? "" : " (ttl " + std::to_string(r.ttl) + ")"));
  }
  std::string out = join(items);
  if (one_ttl && !records.empty()) out += " (ttl " + std::to_string(records.front().ttl) + ")";
  return out;
}

void print_answer(const dns::Answer& a, const std::string& from, std::ostream* os) {
  *os << a.query.name << " " << type_name(a.query.type) << from << ": " << status_name(a.status);
  if (a.status == Status::kAnswer) *os << " " << records_text(a.records);
}

// What a resolver did when it gave no records, e.g. "answered NXDOMAIN (the name does not
// exist)" or "did not answer within 4000 ms (2 attempts)".
std::string no_records_reason(const dns::Answer& a) {
  switch (a.status) {
    case Status::kAnswer:
      return "answered with no records";
    case Status::kNoData:
      return std::string("answered NODATA (the name exists but has no ") + type_name(a.query.type) +
             " records)";
    case Status::kNxDomain:
      return "answered NXDOMAIN (the name does not exist)";
    case Status::kServFail:
      return "answered SERVFAIL (the resolver could not get an answer)";
    case Status::kRefused:
      return "answered REFUSED (the resolver will not answer this question)";
    case Status::kTimeout:
      return "did not answer within " + std::to_string(std::lround(a.elapsed_ms)) + " ms (" +
             plural(static_cast<std::size_t>(a.attempts), "attempt") + ")";
    case Status::kError:
      return "failed: " + a.error;
  }
  return "?";
}

// Every record matcher needs records of the asked type; anything else fails, explained.
class AnswerMatcher : public ::testing::MatcherInterface<const ResolvedAnswer&> {
 public:
  bool MatchAndExplain(const ResolvedAnswer& ra, MatchResultListener* l) const final {
    const auto& a = ra.answer;
    if (a.status != Status::kAnswer || a.records.empty()) {
      *l << "which " << no_records_reason(a);
      return false;
    }
    return Judge(a, l);
  }

 protected:
  virtual bool Judge(const dns::Answer& a, MatchResultListener* l) const = 0;

  // For matchers that make sense for one record type only.
  static bool IsType(const dns::Answer& a, RecordType want, MatchResultListener* l) {
    if (a.query.type == want) return true;
    *l << "which is " << a_type(a.query.type) << " answer; ask for " << type_name(want);
    return false;
  }
};

// Compares answers with expectations as sets and explains the difference: what is missing and,
// for kExactly, what is there unexpectedly. Shared by ResolvesTo and AnswersWith.
bool judge_sets(const std::vector<std::string>& got, const std::vector<std::string>& expected,
                AddressMatch mode, MatchResultListener* l) {
  std::vector<std::string> missing, unexpected;
  for (const auto& e : expected) {
    if (!contains(got, e)) missing.push_back(e);
  }
  if (mode == AddressMatch::kExactly) {
    for (const auto& g : got) {
      if (!contains(expected, g) && !contains(unexpected, g)) unexpected.push_back(g);
    }
  }
  if (missing.empty() && unexpected.empty()) {
    *l << (mode == AddressMatch::kExactly ? "which holds exactly these"
                                          : "which holds all of them");
    return true;
  }
  *l << "which";
  if (!missing.empty()) *l << " is missing " << join(missing);
  if (!missing.empty() && !unexpected.empty()) *l << " and";
  if (!unexpected.empty()) *l << " has unexpected " << join(unexpected);
  return false;
}

class ResolvesToMatcher final : public AnswerMatcher {
 public:
  ResolvesToMatcher(std::vector<std::string> addresses, AddressMatch mode) : mode_(mode) {
    for (const auto& a : addresses) {
      if (!contains(expected_, canonical_address(a))) expected_.push_back(canonical_address(a));
    }
  }
  void DescribeTo(std::ostream* os) const override {
    *os << (mode_ == AddressMatch::kExactly ? "resolves to exactly "
                                            : "resolves to addresses including ")
        << join(expected_);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << (mode_ == AddressMatch::kExactly ? "does not resolve to exactly "
                                            : "does not resolve to all of ")
        << join(expected_);
  }

 protected:
  bool Judge(const dns::Answer& a, MatchResultListener* l) const override {
    if (a.query.type != RecordType::kA && a.query.type != RecordType::kAAAA) {
      *l << "which is " << a_type(a.query.type) << " answer, not A or AAAA";
      return false;
    }
    std::vector<std::string> got;
    for (const auto& r : a.records) got.push_back(canonical_address(r.data));
    return judge_sets(got, expected_, mode_, l);
  }

 private:
  std::vector<std::string> expected_;  // canonical, without duplicates
  AddressMatch mode_;
};

class IsAliasForMatcher final : public AnswerMatcher {
 public:
  explicit IsAliasForMatcher(std::string target) : target_(normal_name(target)) {}
  void DescribeTo(std::ostream* os) const override { *os << "is an alias (CNAME) for " << target_; }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is not an alias (CNAME) for " << target_;
  }

 protected:
  bool Judge(const dns::Answer& a, MatchResultListener* l) const override {
    if (!IsType(a, RecordType::kCNAME, l)) return false;
    const bool match = std::any_of(a.records.begin(), a.records.end(),
                                   [&](const auto& r) { return normal_name(r.data) == target_; });
    *l << (match ? "which points there" : "which points elsewhere");
    return match;
  }

 private:
  std::string target_;
};

class HasTxtMatcher final : public AnswerMatcher {
 public:
  explicit HasTxtMatcher(std::string pattern) : pattern_(std::move(pattern)), regex_(pattern_) {}
  void DescribeTo(std::ostream* os) const override {
    *os << "has a TXT record matching /" << pattern_ << "/";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has no TXT record matching /" << pattern_ << "/";
  }

 protected:
  bool Judge(const dns::Answer& a, MatchResultListener* l) const override {
    if (!IsType(a, RecordType::kTXT, l)) return false;
    const auto n = a.records.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (std::regex_search(a.records[i].data, regex_)) {
        *l << "whose TXT record "
           << (n == 1 ? "" : std::to_string(i + 1) + " of " + std::to_string(n) + " ") << "matches";
        return true;
      }
    }
    *l << (n == 1 ? "whose TXT record does not match"
                  : "none of whose " + plural(n, "TXT record") + " matches");
    return false;
  }

 private:
  std::string pattern_;
  std::regex regex_;
};

// Splits "10 mail.example.com" into preference and host.
std::optional<std::pair<int, std::string>> parse_mx(const std::string& data) {
  int preference = 0;
  const auto [end, ec] = std::from_chars(data.data(), data.data() + data.size(), preference);
  if (ec != std::errc{} || end == data.data() + data.size() || *end != ' ') return std::nullopt;
  return std::make_pair(preference, normal_name(std::string_view(end + 1)));
}

class HasMxMatcher final : public AnswerMatcher {
 public:
  HasMxMatcher(std::string host, std::optional<int> preference)
      : host_(normal_name(host)), preference_(preference) {}
  void DescribeTo(std::ostream* os) const override {
    *os << "has an MX record for " << host_ << Preference();
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has no MX record for " << host_ << Preference();
  }

 protected:
  bool Judge(const dns::Answer& a, MatchResultListener* l) const override {
    if (!IsType(a, RecordType::kMX, l)) return false;
    std::vector<int> preferences;  // of the records naming host_
    const auto n = a.records.size();
    for (std::size_t i = 0; i < n; ++i) {
      const auto mx = parse_mx(a.records[i].data);
      if (!mx || mx->second != host_) continue;
      if (!preference_ || mx->first == *preference_) {
        *l << "whose MX record "
           << (n == 1 ? "" : std::to_string(i + 1) + " of " + std::to_string(n) + " ") << "matches";
        return true;
      }
      preferences.push_back(mx->first);
    }
    if (preferences.empty()) {
      *l << (n == 1 ? "whose MX record names another host"
                    : "none of whose " + plural(n, "MX record") + " names " + host_);
      return false;
    }
    std::vector<std::string> texts;
    for (int p : preferences) texts.push_back(std::to_string(p));
    *l << "whose MX for " << host_ << " has preference " << join(texts, " and ");
    return false;
  }

 private:
  std::string Preference() const {
    return preference_ ? " with preference " + std::to_string(*preference_) : "";
  }
  std::string host_;
  std::optional<int> preference_;
};

// Splits `0 issue "letsencrypt.org; validationmethods=dns-01"` into tag and issuer domain.
std::optional<std::pair<std::string, std::string>> parse_caa(const std::string& data) {
  static const std::regex kCaa(R"caa(^\d+\s+([A-Za-z0-9]+)\s+"(.*)"$)caa");
  std::smatch m;
  if (!std::regex_match(data, m, kCaa)) return std::nullopt;
  std::string value = m[2].str();
  value = value.substr(0, value.find(';'));
  value.erase(
      std::remove_if(value.begin(), value.end(), [](char c) { return c == ' ' || c == '\t'; }),
      value.end());
  return std::make_pair(lower(m[1].str()), normal_name(value));
}

class HasCaaMatcher final : public AnswerMatcher {
 public:
  explicit HasCaaMatcher(std::string issuer) : issuer_(normal_name(issuer)) {}
  void DescribeTo(std::ostream* os) const override {
    *os << "has a CAA record letting " << issuer_ << " issue certificates";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has no CAA record letting " << issuer_ << " issue certificates";
  }

 protected:
  bool Judge(const dns::Answer& a, MatchResultListener* l) const override {
    if (!IsType(a, RecordType::kCAA, l)) return false;
    std::size_t issue_records = 0;
    const auto n = a.records.size();
    for (std::size_t i = 0; i < n; ++i) {
      const auto caa = parse_caa(a.records[i].data);
      if (!caa || caa->first != "issue") continue;
      ++issue_records;
      if (caa->second == issuer_) {
        *l << "whose CAA record "
           << (n == 1 ? "" : std::to_string(i + 1) + " of " + std::to_string(n) + " ")
           << "names it";
        return true;
      }
    }
    *l << (issue_records == 0 ? "which has no CAA issue record"
                              : "none of whose " + plural(issue_records, "CAA issue record") +
                                    " names " + issuer_);
    return false;
  }

 private:
  std::string issuer_;
};

class TtlMatcher final : public AnswerMatcher {
 public:
  TtlMatcher(std::chrono::seconds bound, bool at_most) : bound_(bound.count()), at_most_(at_most) {}
  void DescribeTo(std::ostream* os) const override {
    *os << "has a TTL of at " << (at_most_ ? "most " : "least ") << bound_ << " s";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has a TTL " << (at_most_ ? "above " : "below ") << bound_ << " s";
  }

 protected:
  bool Judge(const dns::Answer& a, MatchResultListener* l) const override {
    const auto [low, high] =
        std::minmax_element(a.records.begin(), a.records.end(),
                            [](const auto& x, const auto& y) { return x.ttl < y.ttl; });
    const bool one = low->ttl == high->ttl;
    const auto ttl = at_most_ ? high->ttl : low->ttl;
    *l << "whose " << (one ? "" : at_most_ ? "highest " : "lowest ") << "TTL is " << ttl << " s";
    return at_most_ ? ttl <= bound_ : ttl >= bound_;
  }

 private:
  long long bound_;
  bool at_most_;
};

// What one resolver said, comparable across resolvers: records sorted and canonical, TTLs and
// timings left out.
std::string reply_key(const dns::Answer& a) {
  if (a.status != Status::kAnswer) return status_name(a.status);
  std::vector<std::string> data;
  for (const auto& r : a.records) {
    data.push_back(r.type == RecordType::kTXT ? data_text(r)
                                              : canonical_address(normal_name(r.data)));
  }
  std::sort(data.begin(), data.end());
  return join(data);
}

// "answered 192.0.2.1", "answered NXDOMAIN", "did not answer within 4000 ms".
std::string reply_text(const dns::Answer& a) {
  if (a.status == Status::kAnswer) {
    std::vector<std::string> data;
    for (const auto& r : a.records) data.push_back(data_text(r));
    return "answered " + join(data);
  }
  if (a.status == Status::kTimeout) {
    return "did not answer within " + std::to_string(std::lround(a.elapsed_ms)) + " ms";
  }
  if (a.status == Status::kError) return "failed (" + a.error + ")";
  return std::string("answered ") + status_name(a.status);
}

class ConsistentAcrossMatcher final
    : public ::testing::MatcherInterface<const std::vector<ResolvedAnswer>&> {
 public:
  bool MatchAndExplain(const std::vector<ResolvedAnswer>& answers,
                       MatchResultListener* l) const override {
    if (answers.empty()) {
      *l << "which holds no answers to compare";
      return false;
    }
    const auto& first = answers.front();
    const auto& q = first.answer.query;
    for (const auto& other : answers) {
      const auto& oq = other.answer.query;
      if (normal_name(oq.name) != normal_name(q.name) || oq.type != q.type) {
        *l << "which mixes questions: " << q.name << " " << type_name(q.type) << " and " << oq.name
           << " " << type_name(oq.type);
        return false;
      }
    }
    std::vector<std::string> disagree;
    for (const auto& other : answers) {
      if (reply_key(other.answer) != reply_key(first.answer)) {
        disagree.push_back(other.resolver + " " + reply_text(other.answer));
      }
    }
    if (!disagree.empty()) {
      *l << "where " << join(disagree, " and ") << ", but " << first.resolver << " "
         << reply_text(first.answer);
      return false;
    }
    if (answers.size() == 1) {
      *l << "where only " << first.resolver << " was asked";
    } else {
      *l << "where all " << answers.size() << " resolvers " << reply_text(first.answer);
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "is answered the same by every resolver";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is answered differently by some resolver";
  }
};

// ---- email authentication -----------------------------------------------------------------

class SpfValidMatcher final : public ::testing::MatcherInterface<const email::SpfResult&> {
 public:
  explicit SpfValidMatcher(SpfPolicy policy) : policy_(std::move(policy)) {
    const auto& all = policy_.require_all;
    if (all != "-all" && all != "~all" && !all.empty()) {
      throw std::invalid_argument("SpfPolicy.require_all is \"" + all +
                                  "\": expected \"-all\", \"~all\" or \"\"");
    }
    for (auto& include : policy_.required_includes) include = normal_name(include);
  }
  bool MatchAndExplain(const email::SpfResult& r, MatchResultListener* l) const override {
    // Record errors first and alone: a broken record has no meaningful "all" or includes.
    if (!r.errors.empty()) {
      *l << "which fails: " << join(r.errors, "; ");
      return false;
    }
    std::vector<std::string> problems;
    const auto& all = r.all_qualifier;
    const auto& want = policy_.require_all;
    if (!want.empty() && all != "-all" && !(want == "~all" && all == "~all")) {
      problems.push_back(all.empty() ? "it has no 'all' (mail from unlisted hosts gets neutral)"
                                     : "it ends in " + all + ", not " +
                                           (want == "-all" ? "-all" : "-all or ~all"));
    }
    for (const auto& include : policy_.required_includes) {
      if (!contains(r.includes, include)) problems.push_back("it does not include " + include);
    }
    if (!problems.empty()) {
      *l << "where " << join(problems, "; ");
      return false;
    }
    *l << "which is valid: " << r.lookups << " of 10 DNS-querying terms, " << r.void_lookups
       << " of 2 void lookups, " << (all.empty() ? "no 'all'" : "ends in " + all);
    return true;
  }
  void DescribeTo(std::ostream* os) const override { *os << "is " << Requirement(); }
  void DescribeNegationTo(std::ostream* os) const override { *os << "is not " << Requirement(); }

 private:
  std::string Requirement() const {
    std::string out =
        "a valid SPF policy (one v=spf1 record, at most 10 DNS-querying terms and 2 void lookups)";
    if (policy_.require_all == "-all") out += " ending in -all";
    if (policy_.require_all == "~all") out += " ending in -all or ~all";
    if (!policy_.required_includes.empty()) {
      out += " that includes " + join(policy_.required_includes, " and ");
    }
    return out;
  }
  SpfPolicy policy_;
};

class DmarcAtLeastMatcher final : public ::testing::MatcherInterface<const email::DmarcResult&> {
 public:
  DmarcAtLeastMatcher(std::string policy, bool require_rua)
      : policy_(std::move(policy)), require_rua_(require_rua) {
    const auto strength = email::dmarc_policy_strength(policy_);
    if (!strength) {
      throw std::invalid_argument("DMARC policy \"" + policy_ +
                                  "\": expected none, quarantine or reject");
    }
    strength_ = *strength;
  }
  bool MatchAndExplain(const email::DmarcResult& r, MatchResultListener* l) const override {
    if (!r.errors.empty()) {
      *l << "which fails: " << join(r.errors, "; ");
      return false;
    }
    std::vector<std::string> problems;
    Check("p", r.policy, r.pct, "", problems);
    if (r.subdomain_policy != r.policy) {
      Check("sp", r.subdomain_policy, r.pct, " for subdomains", problems);
    }
    if (require_rua_ && r.rua.empty()) {
      problems.push_back("it has no rua= (aggregate reports are required)");
    }
    if (!problems.empty()) {
      *l << "where " << join(problems, "; ");
      return false;
    }
    *l << "which has p=" << r.policy;
    if (r.subdomain_policy != r.policy) *l << ", sp=" << r.subdomain_policy;
    *l << ", pct=" << r.pct;
    if (!r.rua.empty()) *l << ", rua=" << join(r.rua, ",");
    return true;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "is a valid DMARC policy of at least " << policy_
        << " for all mail, subdomains included";
    if (require_rua_) *os << ", with aggregate reports (rua=)";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is not a valid DMARC policy of at least " << policy_
        << " for all mail, subdomains included";
    if (require_rua_) *os << ", with aggregate reports (rua=)";
  }

 private:
  static const char* Name(int strength) {
    return strength == 2 ? "reject" : strength == 1 ? "quarantine" : "none";
  }
  // pct < 100: the mail not sampled gets the next weaker policy (RFC 7489 §6.6.4).
  void Check(const char* tag, const std::string& policy, int pct, const char* scope,
             std::vector<std::string>& problems) const {
    const int strength = *email::dmarc_policy_strength(policy);
    if (strength < strength_) {
      problems.push_back(std::string("it has ") + tag + "=" + policy + scope + ", weaker than " +
                         policy_);
      return;
    }
    const int rest = pct == 100 ? strength : std::max(strength - 1, 0);
    if (rest < strength_) {
      problems.push_back(std::string("it applies ") + tag + "=" + policy + scope + " to only " +
                         std::to_string(pct) + "% of mail (pct=" + std::to_string(pct) +
                         "); the rest gets " + Name(rest) + ", weaker than " + policy_);
    }
  }
  std::string policy_;
  int strength_ = 0;
  bool require_rua_;
};

class DkimKeyValidMatcher final : public ::testing::MatcherInterface<const email::DkimKey&> {
 public:
  explicit DkimKeyValidMatcher(int min_rsa_bits) : min_rsa_bits_(min_rsa_bits) {}
  bool MatchAndExplain(const email::DkimKey& k, MatchResultListener* l) const override {
    if (!k.errors.empty()) {
      *l << "which fails: " << join(k.errors, "; ");
      return false;
    }
    if (k.revoked) {
      *l << "which is revoked (empty p=)";
      return false;
    }
    if (k.key_type == "ed25519") {
      *l << "which is an Ed25519 key";
      return true;
    }
    *l << "which is a " << k.bits << "-bit RSA key";
    if (k.bits < min_rsa_bits_) *l << ", fewer than " << min_rsa_bits_;
    return k.bits >= min_rsa_bits_;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "is a published, parseable DKIM key (RSA of at least " << min_rsa_bits_
        << " bits, or Ed25519)";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is not a published, parseable DKIM key (RSA of at least " << min_rsa_bits_
        << " bits, or Ed25519)";
  }

 private:
  int min_rsa_bits_;
};

}  // namespace

void PrintTo(const ResolvedAnswer& a, std::ostream* os) {
  print_answer(a.answer, " from " + a.resolver, os);
}

void dns::PrintTo(const Answer& a, std::ostream* os) {
  print_answer(a, "", os);
}

namespace {

// Record data compared as text: names without case or trailing dot, TXT exactly.
class AnswersWithMatcher final : public AnswerMatcher {
 public:
  AnswersWithMatcher(std::vector<std::string> expected, AddressMatch mode)
      : expected_(std::move(expected)), mode_(mode) {}
  void DescribeTo(std::ostream* os) const override {
    *os << (mode_ == AddressMatch::kExactly ? "answers exactly " : "answers including ")
        << join(expected_);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << (mode_ == AddressMatch::kExactly ? "does not answer exactly "
                                            : "does not answer all of ")
        << join(expected_);
  }

 protected:
  bool Judge(const dns::Answer& a, MatchResultListener* l) const override {
    const bool text = a.query.type == RecordType::kTXT;
    auto norm = [&](const std::string& d) { return text ? d : normal_name(d); };
    std::vector<std::string> got, want;
    for (const auto& r : a.records) got.push_back(norm(r.data));
    for (const auto& e : expected_) want.push_back(norm(e));
    return judge_sets(got, want, mode_, l);
  }

 private:
  std::vector<std::string> expected_;
  AddressMatch mode_;
};

}  // namespace

DnsMatcher AnswersWith(std::vector<std::string> expected, AddressMatch mode) {
  return DnsMatcher(new AnswersWithMatcher(std::move(expected), mode));
}

DnsMatcher ResolvesTo(std::vector<std::string> addresses, AddressMatch mode) {
  return DnsMatcher(new ResolvesToMatcher(std::move(addresses), mode));
}
DnsMatcher IsAliasFor(std::string target) {
  return DnsMatcher(new IsAliasForMatcher(std::move(target)));
}
DnsMatcher HasTxt(std::string pattern) {
  return DnsMatcher(new HasTxtMatcher(std::move(pattern)));
}
DnsMatcher HasMx(std::string host, std::optional<int> preference) {
  return DnsMatcher(new HasMxMatcher(std::move(host), preference));
}
DnsMatcher HasCaa(std::string issuer) {
  return DnsMatcher(new HasCaaMatcher(std::move(issuer)));
}
DnsMatcher TtlAtMost(std::chrono::seconds bound) {
  return DnsMatcher(new TtlMatcher(bound, true));
}
DnsMatcher TtlAtLeast(std::chrono::seconds bound) {
  return DnsMatcher(new TtlMatcher(bound, false));
}

::testing::Matcher<const std::vector<ResolvedAnswer>&> ConsistentAcross() {
  return ::testing::Matcher<const std::vector<ResolvedAnswer>&>(new ConsistentAcrossMatcher());
}

::testing::Matcher<const email::SpfResult&> SpfValid(SpfPolicy policy) {
  return ::testing::Matcher<const email::SpfResult&>(new SpfValidMatcher(std::move(policy)));
}
::testing::Matcher<const email::DmarcResult&> DmarcAtLeast(std::string policy, bool require_rua) {
  return ::testing::Matcher<const email::DmarcResult&>(
      new DmarcAtLeastMatcher(std::move(policy), require_rua));
}
::testing::Matcher<const email::DkimKey&> DkimKeyValid(int min_rsa_bits) {
  return ::testing::Matcher<const email::DkimKey&>(new DkimKeyValidMatcher(min_rsa_bits));
}

}  // namespace deploycheck
