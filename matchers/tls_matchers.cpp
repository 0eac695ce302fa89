#include "matchers/tls_matchers.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace deploycheck {
namespace {

using ::testing::MatchResultListener;
using tls::Certificate;
using tls::Facts;
using tls::ProtocolSupport;
using tls::Strength;

constexpr std::int64_t kDay = 24 * 60 * 60;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == lower(prefix);
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

// The host a certificate is "for" in explanations: the name the operator configured.
std::string host_of(const Facts& f) {
  return f.endpoint.name.empty() ? f.endpoint.display() : f.endpoint.name;
}

// "2026-12-01T12:00:00Z". Calendar arithmetic from <chrono>, so no time zone database or
// gmtime's range limits are involved.
std::string iso8601(std::int64_t epoch_seconds) {
  using namespace std::chrono;
  const sys_seconds t{seconds{epoch_seconds}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(
      buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", int(ymd.year()),
      unsigned(ymd.month()), unsigned(ymd.day()), static_cast<long long>(hms.hours().count()),
      static_cast<long long>(hms.minutes().count()), static_cast<long long>(hms.seconds().count()));
  return buf;
}

// floor(a / b) for b > 0; C++ division truncates toward zero, which would turn an hour past
// expiry into "0 days left".
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

std::string days_text(std::int64_t n) {
  return std::to_string(n) + (n == 1 ? " day" : " days");
}

// "CN=api.example.com" out of an RFC 2253 subject (most specific RDN first), or the whole
// subject when it has no CN: short enough for one line, precise enough to find the file.
std::string short_name(const std::string& subject) {
  std::size_t start = 0;
  while (start < subject.size()) {
    std::size_t end = start;
    while (end < subject.size() && subject[end] != ',') end += (subject[end] == '\\') ? 2 : 1;
    end = std::min(end, subject.size());
    if (starts_with_nocase(std::string_view(subject).substr(start), "CN=")) {
      return subject.substr(start, end - start);
    }
    start = end + 1;
  }
  return subject.empty() ? "(empty subject)" : subject;
}

// Same certificate: by fingerprint when both have one, else by subject and issuer.
bool same_cert(const Certificate& a, const Certificate& b) {
  if (!a.sha256_fingerprint.empty() && !b.sha256_fingerprint.empty()) {
    return lower(a.sha256_fingerprint) == lower(b.sha256_fingerprint);
  }
  return a.subject == b.subject && a.issuer == b.issuer;
}

// ---- CertValidFor ---------------------------------------------------------------------------

class CertValidForMatcher : public ::testing::MatcherInterface<const Facts&> {
 public:
  CertValidForMatcher(std::chrono::days min, Which which, EpochClock now)
      : min_(min.count()), which_(which), now_(std::move(now)) {}

  bool MatchAndExplain(const Facts& f, MatchResultListener* l) const override {
    const auto& chain = f.handshake.presented;
    if (chain.empty()) {
      *l << "which presented no certificate";
      return false;
    }
    std::size_t index = 0;
    if (which_ == Which::kEarliestInChain) {
      for (std::size_t i = 1; i < chain.size(); ++i) {
        if (chain[i].not_after < chain[index].not_after) index = i;
      }
    }
    const Certificate& cert = chain[index];
    if (which_ == Which::kLeaf) {
      *l << "leaf certificate for " << host_of(f);
    } else {
      *l << "earliest-expiring certificate presented by " << host_of(f) << ", "
         << short_name(cert.subject) << " ("
         << (index == 0 ? std::string("the leaf")
                        : "#" + std::to_string(index + 1) + " of " + std::to_string(chain.size()))
         << "),";
    }
    const std::int64_t now = now_();
    bool ok = false;
    if (now < cert.not_before) {
      *l << " is not valid until " << iso8601(cert.not_before) << " (in "
         << days_text(floor_div(cert.not_before - now + kDay - 1, kDay)) << ")";
    } else if (now >= cert.not_after) {
      const std::int64_t ago = floor_div(now - cert.not_after, kDay);
      *l << " expired " << (ago == 0 ? std::string("less than a day") : days_text(ago)) << " ago ("
         << iso8601(cert.not_after) << ")";
    } else {
      const std::int64_t left = floor_div(cert.not_after - now, kDay);
      *l << " expires in " << days_text(left) << " (" << iso8601(cert.not_after) << "), ";
      ok = left >= min_;
      if (ok) {
        *l << days_text(left - min_) << " more than the policy's " << min_;
      } else {
        *l << days_text(min_ - left) << " short of the policy";
      }
    }
    // The dates are judged either way; the operator still needs to know the chain is broken.
    if (!f.handshake.verified_ok) {
      *l << "; the chain did not verify"
         << (f.handshake.verify_error.empty() ? "" : ": " + f.handshake.verify_error);
    }
    return ok;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "has " << what() << " valid for at least " << days_text(min_);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has " << what() << " valid for less than " << days_text(min_);
  }

 private:
  const char* what() const {
    return which_ == Which::kLeaf ? "a leaf certificate"
                                  : "a presented chain whose every certificate is";
  }
  std::int64_t min_;
  Which which_;
  EpochClock now_;
};

// ---- CoversHost -----------------------------------------------------------------------------

// An IP address in canonical binary form, or nullopt for a name.
std::optional<std::vector<unsigned char>> parse_ip(const std::string& text) {
  std::array<unsigned char, 16> buf{};
  if (inet_pton(AF_INET, text.c_str(), buf.data()) == 1) {
    return std::vector<unsigned char>(buf.begin(), buf.begin() + 4);
  }
  std::string bare = text;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
    bare = bare.substr(1, bare.size() - 2);
  if (inet_pton(AF_INET6, bare.c_str(), buf.data()) == 1) {
    return std::vector<unsigned char>(buf.begin(), buf.end());
  }
  return std::nullopt;
}

std::string normal_dns(std::string name) {
  name = lower(name);
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

// RFC 6125 §6.4.3 as today's browsers apply it: "*" only as the entire left-most label, covering
// exactly one non-empty label, and at least two labels after it (no "*.com").
bool dns_covers(const std::string& pattern_in, const std::string& host) {
  const std::string pattern = normal_dns(pattern_in);
  if (pattern.rfind("*.", 0) != 0) return pattern == host;
  const std::string rest = pattern.substr(1);  // ".example.com"
  if (rest.find('*') != std::string::npos || std::count(rest.begin(), rest.end(), '.') < 2) {
    return false;
  }
  if (host.size() <= rest.size() || host.compare(host.size() - rest.size(), rest.size(), rest)) {
    return false;
  }
  const std::string label = host.substr(0, host.size() - rest.size());
  return !label.empty() && label.find('.') == std::string::npos;
}

class CoversHostMatcher : public ::testing::MatcherInterface<const Facts&> {
 public:
  explicit CoversHostMatcher(std::string name) : name_(std::move(name)) {}

  bool MatchAndExplain(const Facts& f, MatchResultListener* l) const override {
    if (f.handshake.presented.empty()) {
      *l << "which presented no certificate";
      return false;
    }
    const Certificate& leaf = f.handshake.presented.front();
    if (const auto ip = parse_ip(name_)) {
      for (const auto& san : leaf.ip_addresses) {
        if (parse_ip(san) == ip) {
          *l << "whose leaf certificate covers " << name_ << " by its IP SAN " << san;
          return true;
        }
      }
      *l << "whose leaf certificate does not cover the address " << name_ << ": " << sans(leaf)
         << " (an IP address is matched against IP SANs only)";
      return false;
    }
    const std::string host = normal_dns(name_);
    for (const auto& san : leaf.dns_names) {
      if (dns_covers(san, host)) {
        *l << "whose leaf certificate covers " << name_ << " by its SAN " << san;
        return true;
      }
    }
    *l << "whose leaf certificate does not cover " << name_ << ": " << sans(leaf);
    if (leaf.dns_names.empty() && leaf.ip_addresses.empty()) {
      *l << " (its subject " << short_name(leaf.subject)
         << " is not consulted: browsers require a subjectAltName)";
    } else if (std::any_of(leaf.dns_names.begin(), leaf.dns_names.end(), [&](const auto& san) {
                 return san.rfind("*.", 0) == 0 && host.size() > san.size() - 1 &&
                        host.compare(host.size() - (san.size() - 1), san.size() - 1,
                                     normal_dns(san.substr(1))) == 0;
               })) {
      *l << " (a wildcard covers exactly one label)";
    }
    return false;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "has a leaf certificate that covers " << name_;
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has a leaf certificate that does not cover " << name_;
  }

 private:
  static std::string sans(const Certificate& c) {
    if (c.dns_names.empty() && c.ip_addresses.empty()) return "it has no subjectAltName";
    std::string out = "its SANs are";
    if (!c.dns_names.empty()) out += " DNS " + join(c.dns_names);
    if (!c.dns_names.empty() && !c.ip_addresses.empty()) out += ";";
    if (!c.ip_addresses.empty()) out += " IP " + join(c.ip_addresses);
    return out;
  }
  std::string name_;
};

// ---- ChainVerifies / ChainComplete ----------------------------------------------------------

class ChainVerifiesMatcher : public ::testing::MatcherInterface<const Facts&> {
 public:
  bool MatchAndExplain(const Facts& f, MatchResultListener* l) const override {
    const auto& h = f.handshake;
    if (h.verified_ok) {
      *l << "whose chain verified";
      if (!h.verified.empty()) *l << " up to " << short_name(h.verified.back().subject);
      return true;
    }
    *l << "whose chain did not verify: "
       << (h.verify_error.empty() ? std::string("no reason was recorded") : h.verify_error);
    return false;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "presents a chain that verifies against the trust store";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "presents a chain that does not verify against the trust store";
  }
};

// OpenSSL's reasons that mean "the next issuer was neither presented nor in the trust store"
// (X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT{,_LOCALLY}, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE).
bool issuer_not_found(const std::string& verify_error) {
  const std::string e = lower(verify_error);
  return e.find("unable to get local issuer") != std::string::npos ||
         e.find("unable to get issuer") != std::string::npos ||
         e.find("unable to verify the first certificate") != std::string::npos;
}

class ChainCompleteMatcher : public ::testing::MatcherInterface<const Facts&> {
 public:
  bool MatchAndExplain(const Facts& f, MatchResultListener* l) const override {
    const auto& h = f.handshake;
    const auto& presented = h.presented;
    if (presented.empty()) {
      *l << "which presented no certificate";
      return false;
    }
    const Certificate& leaf = presented.front();
    if (leaf.self_signed) {
      *l << "whose leaf " << short_name(leaf.subject)
         << " is self-signed: it is its own chain, with nothing to complete (whether it is "
            "trusted is ChainVerifies' question)";
      return true;
    }
    const std::string n = count(presented.size());
    if (!h.verified.empty()) {
      // The built chain is leaf .. anchor; every certificate before the anchor must have been
      // presented, or some client without it in its store cannot build the chain.
      const Certificate& anchor = h.verified.back();
      for (std::size_t i = 1; i + 1 < h.verified.size(); ++i) {
        const Certificate& needed = h.verified[i];
        const bool sent = std::any_of(presented.begin(), presented.end(),
                                      [&](const auto& p) { return same_cert(p, needed); });
        if (!sent) {
          *l << "whose presented chain (" << n << ") is missing the intermediate " << needed.subject
             << " (issuer of " << short_name(h.verified[i - 1].subject)
             << "): it verified only because the local trust store holds it; add it to the "
                "server's certificate file after the leaf";
          return false;
        }
      }
      *l << "whose presented chain (" << n << ") reaches the trust anchor "
         << short_name(anchor.subject);
      return true;
    }
    // No built chain: judge from what was presented. A chain that ends in a self-signed
    // certificate holds its own root; otherwise the last certificate's issuer is what a client
    // must find, and OpenSSL's reason says whether it could.
    const Certificate& last = presented.back();
    if (last.self_signed) {
      *l << "whose presented chain (" << n << ") ends at the root " << short_name(last.subject);
      if (!h.verify_error.empty()) *l << " (verification failed: " << h.verify_error << ")";
      return true;
    }
    if (issuer_not_found(h.verify_error)) {
      *l << "whose presented chain (" << n << ") ends at " << short_name(last.subject)
         << ", whose issuer " << last.issuer
         << " was neither presented nor found among the trust anchors (" << h.verify_error
         << "): the missing intermediate is " << last.issuer << " (or that CA is not trusted here)";
      return false;
    }
    *l << "whose presented chain (" << n << ") ends at " << short_name(last.subject)
       << ", issued by " << short_name(last.issuer);
    if (h.verified_ok) return true;
    // OpenSSL builds the chain before it checks dates or purposes: another reason means the
    // issuer was found.
    *l << ", which OpenSSL found (verification failed for another reason: "
       << (h.verify_error.empty() ? std::string("none recorded") : h.verify_error) << ")";
    return true;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "presents a complete chain (no missing intermediate)";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "presents an incomplete chain (a missing intermediate)";
  }

 private:
  static std::string count(std::size_t n) {
    return std::to_string(n) + (n == 1 ? " certificate" : " certificates");
  }
};

// ---- KeyAtLeast / SignatureNotSha1 ----------------------------------------------------------

class KeyAtLeastMatcher : public ::testing::MatcherInterface<const Facts&> {
 public:
  KeyAtLeastMatcher(int rsa_bits, int ec_bits) : rsa_bits_(rsa_bits), ec_bits_(ec_bits) {}

  bool MatchAndExplain(const Facts& f, MatchResultListener* l) const override {
    if (f.handshake.presented.empty()) {
      *l << "which presented no certificate";
      return false;
    }
    const Certificate& leaf = f.handshake.presented.front();
    const std::string type = leaf.key_type;
    *l << "whose leaf key is " << type << " " << leaf.key_bits << " bits";
    const std::string t = lower(type);
    if (t == "ed25519" || t == "ed448") {
      *l << " (EdDSA: fixed strength, always enough)";
      return true;
    }
    int policy = 0;
    if (t == "rsa" || t == "rsa-pss" || t == "dsa" || t == "dh") {
      policy = rsa_bits_;
    } else if (t == "ec") {
      policy = ec_bits_;
    } else {
      *l << ", a key type the policy does not know";
      return false;
    }
    if (leaf.key_bits >= policy) {
      *l << ", at least the policy's " << policy;
      return true;
    }
    *l << ", " << (policy - leaf.key_bits) << " short of the policy's " << policy;
    return false;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "has a leaf key of at least " << rsa_bits_ << " bits (RSA) or " << ec_bits_
        << " bits (EC)";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has a leaf key under " << rsa_bits_ << " bits (RSA) or " << ec_bits_ << " bits (EC)";
  }

 private:
  int rsa_bits_, ec_bits_;
};

// SHA-1 and the broken hashes before it, in OpenSSL's long and short names
// ("sha1WithRSAEncryption", "ecdsa-with-SHA1", "dsaWithSHA1", "md5WithRSAEncryption").
bool weak_signature(const std::string& algorithm) {
  const std::string a = lower(algorithm);
  for (const char* bad : {"sha1", "md5", "md4", "md2", "shawithrsa"}) {
    if (a.find(bad) != std::string::npos) return true;
  }
  return false;
}

class SignatureNotSha1Matcher : public ::testing::MatcherInterface<const Facts&> {
 public:
  bool MatchAndExplain(const Facts& f, MatchResultListener* l) const override {
    const auto& chain = f.handshake.presented;
    if (chain.empty()) {
      *l << "which presented no certificate";
      return false;
    }
    std::vector<std::string> bad, good;
    for (std::size_t i = 0; i < chain.size(); ++i) {
      const Certificate& c = chain[i];
      if (c.self_signed) continue;  // a trust anchor's self-signature is never checked
      const std::string entry = std::string(i == 0 ? "leaf " : "intermediate ") +
                                short_name(c.subject) + " by " + c.signature_algorithm;
      (weak_signature(c.signature_algorithm) ? bad : good).push_back(entry);
    }
    if (!bad.empty()) {
      *l << "which presents certificates signed with a broken hash: " << join(bad)
         << "; reissue them with SHA-256";
      return false;
    }
    if (good.empty()) {
      *l << "which presents only self-signed certificates, whose signatures no client checks";
      return true;
    }
    *l << "whose signatures are " << join(good);
    return true;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "presents no certificate signed with SHA-1";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "presents a certificate signed with SHA-1";
  }
};

// ---- protocols ------------------------------------------------------------------------------

// "TLSv1.0", "TLS 1.2", "tls1_3", "SSL3" -> OpenSSL's spelling.
std::string canonical_protocol(const std::string& p) {
  std::string s;
  for (char c : lower(p)) {
    if (c == ' ' || c == '-') continue;
    s += c == '_' ? '.' : c;
  }
  for (const char* prefix : {"tls", "ssl"}) {
    if (s.rfind(prefix, 0) == 0 && s.size() > 3 && s[3] != 'v') s.insert(3, "v");
  }
  if (s == "tlsv1.0") s = "tlsv1";
  if (s == "sslv3.0") s = "sslv3";
  if (s.rfind("tlsv", 0) == 0) return "TLSv" + s.substr(4);
  if (s.rfind("sslv", 0) == 0) return "SSLv" + s.substr(4);
  return p;
}

const ProtocolSupport* find_protocol(const Facts& f, const std::string& canonical) {
  for (const auto& p : f.protocols) {
    if (canonical_protocol(p.protocol) == canonical) return &p;
  }
  return nullptr;
}

bool cannot_offer(const std::string& detail) {
  const std::string d = lower(detail);
  return d.find("cannot offer") != std::string::npos || d.find("can't offer") != std::string::npos;
}

std::string with_detail(const std::string& detail) {
  return detail.empty() ? std::string() : " (" + detail + ")";
}

class AcceptsProtocolMatcher : public ::testing::MatcherInterface<const Facts&> {
 public:
  explicit AcceptsProtocolMatcher(std::string protocol) : protocol_(canonical_protocol(protocol)) {}

  bool MatchAndExplain(const Facts& f, MatchResultListener* l) const override {
    using R = ProtocolSupport::Result;
    const ProtocolSupport* p = find_protocol(f, protocol_);
    if (p == nullptr) {
      if (canonical_protocol(f.handshake.protocol) == protocol_) {
        *l << "which negotiated " << protocol_ << " in the default handshake";
        return true;
      }
      *l << "whose protocols were not enumerated, and whose default handshake negotiated "
         << (f.handshake.protocol.empty() ? std::string("nothing") : f.handshake.protocol);
      return false;
    }
    switch (p->result) {
      case R::kAccepted:
        *l << "which accepts " << protocol_;
        return true;
      case R::kRejected:
        *l << "which rejects " << protocol_ << with_detail(p->detail);
        return false;
      case R::kNotChecked:
        *l << "whose " << protocol_ << " support was not checked: " << p->detail;
        return false;
    }
    return false;
  }
  void DescribeTo(std::ostream* os) const override { *os << "accepts " << protocol_; }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not accept " << protocol_;
  }

 private:
  std::string protocol_;
};

class RejectsProtocolMatcher : public ::testing::MatcherInterface<const Facts&> {
 public:
  explicit RejectsProtocolMatcher(std::string protocol) : protocol_(canonical_protocol(protocol)) {}

  bool MatchAndExplain(const Facts& f, MatchResultListener* l) const override {
    using R = ProtocolSupport::Result;
    const ProtocolSupport* p = find_protocol(f, protocol_);
    if (p == nullptr) {
      if (canonical_protocol(f.handshake.protocol) == protocol_) {
        *l << "which negotiated " << protocol_ << " in the default handshake";
      } else {
        *l << "whose protocols were not enumerated, so a rejection of " << protocol_
           << " was not proven";
      }
      return false;
    }
    switch (p->result) {
      case R::kAccepted:
        *l << "which accepts " << protocol_ << "; disable it in the server's TLS configuration";
        return false;
      case R::kRejected:
        *l << "which rejects " << protocol_ << with_detail(p->detail);
        return true;
      case R::kNotChecked:
        *l << "whose " << protocol_ << " support was not checked: " << p->detail;
        if (cannot_offer(p->detail)) {
          *l << "; no client built on this libssl can have negotiated it";
          return true;
        }
        *l << "; a rejection was not proven";
        return false;
    }
    return false;
  }
  void DescribeTo(std::ostream* os) const override { *os << "rejects " << protocol_; }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not reject " << protocol_;
  }

 private:
  std::string protocol_;
};

// ---- ciphers, SCTs, OCSP --------------------------------------------------------------------

class OnlyStrongCiphersMatcher : public ::testing::MatcherInterface<const Facts&> {
 public:
  bool MatchAndExplain(const Facts& f, MatchResultListener* l) const override {
    const auto& suites = f.accepted_ciphers;
    if (suites.empty()) {
      *l << "whose cipher suites were not enumerated";
      return false;
    }
    std::vector<std::string> bad;
    for (const auto& s : suites) {
      if (s.strength == Strength::kStrong) continue;
      bad.push_back(s.name + " (" + s.protocol + ", " + tls::to_string(s.strength) +
                    (s.why.empty() ? "" : ": " + s.why) + ")");
    }
    if (bad.empty()) {
      *l << "which accepts " << suites.size() << (suites.size() == 1 ? " suite" : " suites")
         << ", all strong";
    } else {
      *l << "which accepts " << bad.size() << " weak or insecure "
         << (bad.size() == 1 ? "suite" : "suites") << " of " << suites.size() << ": " << join(bad);
    }
    // What could not be tested stays visible even on a pass.
    if (!f.not_checked.empty()) *l << "; not checked: " << join(f.not_checked, "; ");
    return bad.empty();
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "accepts only strong cipher suites (AEAD with forward secrecy)";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "accepts a weak or insecure cipher suite";
  }
};

class HasSctsMatcher : public ::testing::MatcherInterface<const Facts&> {
 public:
  bool MatchAndExplain(const Facts& f, MatchResultListener* l) const override {
    const int embedded = f.handshake.presented.empty() ? 0 : f.handshake.presented[0].embedded_scts;
    const int extension = f.handshake.tls_extension_scts;
    if (embedded + extension == 0) {
      *l << "with no SCT: none embedded in the leaf certificate, none sent in the TLS "
            "extension";
      return false;
    }
    *l << "with " << embedded << " SCT" << (embedded == 1 ? "" : "s")
       << " embedded in the leaf certificate and " << extension << " sent in the TLS extension";
    return true;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "presents Signed Certificate Timestamps";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "presents no Signed Certificate Timestamp";
  }
};

class OcspStapledMatcher : public ::testing::MatcherInterface<const Facts&> {
 public:
  explicit OcspStapledMatcher(bool require_good) : require_good_(require_good) {}

  bool MatchAndExplain(const Facts& f, MatchResultListener* l) const override {
    const auto& h = f.handshake;
    if (!h.ocsp_stapled) {
      *l << "which stapled no OCSP response";
      return false;
    }
    const std::string status = h.ocsp_status.empty() ? "no status" : h.ocsp_status;
    *l << "which stapled an OCSP response saying " << status;
    return !require_good_ || h.ocsp_status == "good";
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "staples an OCSP response" << (require_good_ ? " saying good" : "");
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not staple an OCSP response" << (require_good_ ? " saying good" : "");
  }

 private:
  bool require_good_;
};

// ---- HSTS -----------------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct Hsts {
  std::int64_t max_age = 0;
  bool include_subdomains = false;
  bool preload = false;
};

// RFC 6797 §6.1: directives separated by ';', names without case, values token or
// quoted-string; max-age required, delta-seconds; a directive given twice makes the header
// invalid; unknown directives are ignored. Returns the reason on error.
std::variant<Hsts, std::string> parse_hsts(std::string_view value) {
  Hsts out;
  bool have_max_age = false;
  std::vector<std::string> seen;
  while (true) {
    const std::size_t semi = value.find(';');
    const std::string_view item = trim(value.substr(0, semi));
    if (!item.empty()) {
      const std::size_t eq = item.find('=');
      const std::string name = lower(trim(item.substr(0, eq)));
      std::string_view arg = eq == std::string_view::npos ? "" : trim(item.substr(eq + 1));
      if (arg.size() >= 2 && arg.front() == '"' && arg.back() == '"') {
        arg = arg.substr(1, arg.size() - 2);
      }
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
        return "the directive " + name + " appears twice";
      }
      seen.push_back(name);
      if (name == "max-age") {
        const char* end = arg.data() + arg.size();
        const auto [ptr, ec] = std::from_chars(arg.data(), end, out.max_age);
        if (arg.empty() || ec != std::errc() || ptr != end || out.max_age < 0) {
          return "max-age \"" + std::string(arg) + "\" is not a number of seconds";
        }
        have_max_age = true;
      } else if (name == "includesubdomains") {
        out.include_subdomains = true;
      } else if (name == "preload") {
        out.preload = true;
      }
    }
    if (semi == std::string_view::npos) break;
    value.remove_prefix(semi + 1);
  }
  if (!have_max_age) return std::string("it has no max-age");
  return out;
}

class HstsAtLeastMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  HstsAtLeastMatcher(std::chrono::seconds max_age, Subdomains subdomains)
      : min_(max_age.count()), subdomains_(subdomains) {}

  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const auto it = r.headers.find("strict-transport-security");  // the first one counts
    if (it == r.headers.end()) {
      *l << "which sends no Strict-Transport-Security header";
      return false;
    }
    *l << "whose Strict-Transport-Security is \"" << it->second << "\"";
    if (!starts_with_nocase(r.url, "https://")) {
      *l << ", sent over plain HTTP, where browsers ignore it";
      return false;
    }
    const auto parsed = parse_hsts(it->second);
    if (const auto* error = std::get_if<std::string>(&parsed)) {
      *l << ", which browsers ignore: " << *error;
      return false;
    }
    const Hsts& h = std::get<Hsts>(parsed);
    bool ok = true;
    if (h.max_age < min_) {
      *l << ": max-age " << age(h.max_age) << " is short of the policy's " << age(min_);
      ok = false;
    } else {
      *l << ": max-age " << age(h.max_age) << " meets the policy's " << age(min_);
    }
    if (subdomains_ == Subdomains::kRequired && !h.include_subdomains) {
      *l << ", and includeSubDomains is missing";
      ok = false;
    }
    return ok;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "sends Strict-Transport-Security with max-age at least " << age(min_)
        << (subdomains_ == Subdomains::kRequired ? " and includeSubDomains" : "");
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not send Strict-Transport-Security with max-age at least " << age(min_)
        << (subdomains_ == Subdomains::kRequired ? " and includeSubDomains" : "");
  }

 private:
  // "15552000 s (180d)": the header's own unit, and the one the policy was written in.
  static std::string age(std::int64_t seconds) {
    std::string out = std::to_string(seconds) + " s";
    if (seconds > 0 && seconds <= std::int64_t{1} << 40) {
      out += " (" + format_duration(std::chrono::seconds{seconds}) + ")";
    }
    return out;
  }
  std::int64_t min_;
  Subdomains subdomains_;
};

// ---- RedirectsToHttps -----------------------------------------------------------------------

// Scheme and host lower-cased, path as is: "HTTPS://Example.COM/A" -> "https://example.com/A".
std::string normal_url(const std::string& url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const std::size_t path = url.find('/', scheme_end + 3);
  return lower(url.substr(0, path)) + (path == std::string::npos ? "" : url.substr(path));
}

class RedirectsToHttpsMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit RedirectsToHttpsMatcher(std::string prefix) : prefix_(std::move(prefix)) {}

  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    static constexpr std::array<long, 5> kRedirects{301, 302, 303, 307, 308};
    *l << "whose status is " << r.status;
    if (std::find(kRedirects.begin(), kRedirects.end(), r.status) == kRedirects.end()) {
      *l << ", not a redirect";
      return false;
    }
    const auto it = r.headers.find("location");
    if (it == r.headers.end()) {
      *l << " with no Location header";
      return false;
    }
    const std::string& location = it->second;
    *l << " with Location " << location;
    if (!starts_with_nocase(location, "https://")) {
      *l << (location.find("://") == std::string::npos
                 ? ", a relative URL that stays on " + r.url.substr(0, r.url.find("://") + 3)
                 : ", not https://");
      return false;
    }
    if (!prefix_.empty() && normal_url(location).rfind(normal_url(prefix_), 0) != 0) {
      *l << ", which does not start with " << prefix_;
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "redirects to " << (prefix_.empty() ? "https://" : prefix_);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not redirect to " << (prefix_.empty() ? "https://" : prefix_);
  }

 private:
  std::string prefix_;
};

}  // namespace

namespace tls {
void PrintTo(const Facts& f, std::ostream* os) {
  const auto& h = f.handshake;
  *os << f.endpoint.display() << ": ";
  if (h.protocol.empty()) {
    *os << "no handshake";
    return;
  }
  *os << h.protocol << " " << h.cipher;
  if (h.presented.empty()) {
    *os << ", no certificate";
  } else {
    const Certificate& leaf = h.presented.front();
    *os << ", leaf " << short_name(leaf.subject) << " (" << leaf.key_type << " " << leaf.key_bits
        << ") valid " << iso8601(leaf.not_before) << " to " << iso8601(leaf.not_after);
  }
  *os << ", chain " << (h.verified_ok ? "verified" : "not verified");
}
}  // namespace tls

std::int64_t system_now_seconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

TlsMatcher CertValidFor(std::chrono::days min, Which which, EpochClock now) {
  return TlsMatcher(new CertValidForMatcher(min, which, std::move(now)));
}
TlsMatcher CoversHost(std::string name) {
  return TlsMatcher(new CoversHostMatcher(std::move(name)));
}
TlsMatcher ChainVerifies() {
  return TlsMatcher(new ChainVerifiesMatcher());
}
TlsMatcher ChainComplete() {
  return TlsMatcher(new ChainCompleteMatcher());
}
TlsMatcher KeyAtLeast(int rsa_bits, int ec_bits) {
  return TlsMatcher(new KeyAtLeastMatcher(rsa_bits, ec_bits));
}
TlsMatcher SignatureNotSha1() {
  return TlsMatcher(new SignatureNotSha1Matcher());
}
TlsMatcher AcceptsProtocol(std::string protocol) {
  return TlsMatcher(new AcceptsProtocolMatcher(std::move(protocol)));
}
TlsMatcher RejectsProtocol(std::string protocol) {
  return TlsMatcher(new RejectsProtocolMatcher(std::move(protocol)));
}
TlsMatcher OnlyStrongCiphers() {
  return TlsMatcher(new OnlyStrongCiphersMatcher());
}
TlsMatcher HasScts() {
  return TlsMatcher(new HasSctsMatcher());
}
TlsMatcher OcspStapled(bool require_good) {
  return TlsMatcher(new OcspStapledMatcher(require_good));
}
HttpMatcher HstsAtLeast(std::chrono::seconds max_age, Subdomains subdomains) {
  return HttpMatcher(new HstsAtLeastMatcher(max_age, subdomains));
}
HttpMatcher RedirectsToHttps(std::string expected_location_prefix) {
  return HttpMatcher(new RedirectsToHttpsMatcher(std::move(expected_location_prefix)));
}

}  // namespace deploycheck
