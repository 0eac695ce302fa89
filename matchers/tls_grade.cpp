#include "matchers/tls_grade.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "matchers/tls_matchers.hpp"

namespace deploycheck {
namespace tls {
namespace {

using ::testing::MatchResultListener;
using Result = ProtocolSupport::Result;

// A+ needs HSTS of at least 180 days.
constexpr std::int64_t kHstsForAPlus = 180LL * 24 * 60 * 60;  // 15552000 s

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

// ---- protocols ------------------------------------------------------------------------------

struct ProtocolInfo {
  const char* openssl;  // as the probe names it
  const char* human;    // as the rating guide does
  int score;            // the guide's protocol support table
  int order;            // oldest first
};

constexpr ProtocolInfo kProtocols[] = {
    {"SSLv2", "SSL 2.0", 0, 0},    {"SSLv3", "SSL 3.0", 80, 1},    {"TLSv1", "TLS 1.0", 90, 2},
    {"TLSv1.1", "TLS 1.1", 95, 3}, {"TLSv1.2", "TLS 1.2", 100, 4}, {"TLSv1.3", "TLS 1.3", 100, 5},
};

const ProtocolInfo* protocol_info(std::string_view name) {
  const std::string n = upper(name);
  for (const auto& p : kProtocols) {
    if (n == upper(p.openssl)) return &p;
  }
  if (n == "TLSV1.0") return &kProtocols[2];
  return nullptr;
}

// The protocols the server accepted, oldest first. From the enumeration when there was one;
// otherwise only the default handshake's protocol is known. A protocol some accepted suite
// was accepted under counts too, so facts that disagree with themselves grade the worse way.
std::vector<const ProtocolInfo*> accepted_protocols(const Facts& f) {
  std::vector<const ProtocolInfo*> out;
  auto add = [&](std::string_view name) {
    const ProtocolInfo* p = protocol_info(name);
    if (p && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  for (const auto& p : f.protocols) {
    if (p.result == Result::kAccepted) add(p.protocol);
  }
  for (const auto& c : f.accepted_ciphers) add(c.protocol);
  if (f.protocols.empty() && !f.handshake.protocol.empty()) add(f.handshake.protocol);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->order < b->order; });
  return out;
}

// ---- cipher suites --------------------------------------------------------------------------

struct SuiteInfo {
  std::optional<int> bits;  // symmetric strength; nullopt when the name is not recognised
  bool aead = false;
  bool forward_secrecy = false;
  bool anonymous = false;
  bool null_encryption = false;
  bool export_grade = false;
  bool rc4 = false;
  bool triple_des = false;
};

// What an OpenSSL (or IANA, for TLS 1.3) suite name says about the suite. The probe records
// names only, and the name is all the rating guide's cipher rules need.
SuiteInfo suite_info(std::string_view name, std::string_view protocol) {
  const std::string n = upper(name);
  SuiteInfo s;
  const bool tls13 = upper(protocol) == "TLSV1.3" || n.rfind("TLS_", 0) == 0;
  s.anonymous = n.rfind("ADH-", 0) == 0 || n.rfind("AECDH-", 0) == 0 || contains(n, "_ANON_");
  // Ephemeral (EC)DH is forward secret; anonymous suites are ephemeral too, but with no
  // authentication at all they are graded F and must not count as the good kind.
  s.forward_secrecy =
      !s.anonymous && (tls13 || n.rfind("ECDHE-", 0) == 0 || n.rfind("DHE-", 0) == 0 ||
                       n.rfind("EDH-", 0) == 0 || contains(n, "_ECDHE_") || contains(n, "_DHE_"));
  s.aead = tls13 || contains(n, "GCM") || contains(n, "CCM") || contains(n, "POLY1305");
  s.rc4 = contains(n, "RC4");
  s.triple_des = contains(n, "DES-CBC3") || contains(n, "3DES");
  s.export_grade = n.rfind("EXP-", 0) == 0 || n.rfind("EXP1024-", 0) == 0 || contains(n, "EXPORT");
  // TLS 1.3's integrity-only suites (RFC 9150: TLS_SHA256_SHA256) encrypt nothing either.
  s.null_encryption = contains(n, "NULL") || n == "TLS_SHA256_SHA256" || n == "TLS_SHA384_SHA384";
  if (s.null_encryption) {
    s.bits = 0;
  } else if (s.export_grade) {
    s.bits = 40;
  } else if (contains(n, "AES256") || contains(n, "AES_256") || contains(n, "CHACHA20") ||
             contains(n, "CAMELLIA256") || contains(n, "CAMELLIA_256") || contains(n, "ARIA256") ||
             contains(n, "ARIA_256") || contains(n, "GOST")) {
    s.bits = 256;
  } else if (contains(n, "AES128") || contains(n, "AES_128") || contains(n, "CAMELLIA128") ||
             contains(n, "CAMELLIA_128") || contains(n, "ARIA128") || contains(n, "ARIA_128") ||
             contains(n, "SEED") || contains(n, "IDEA") || s.rc4) {
    s.bits = 128;
  } else if (s.triple_des) {
    s.bits = 112;  // 168-bit key, 112-bit strength (meet in the middle), as SSL Labs prints it
  } else if (contains(n, "DES-CBC") || contains(n, "DES_CBC")) {
    s.bits = 56;
  }
  return s;
}

// The guide's cipher strength table.
int cipher_bits_score(int bits) {
  if (bits <= 0) return 0;
  if (bits < 128) return 20;
  if (bits < 256) return 80;
  return 100;
}

// ---- key exchange ---------------------------------------------------------------------------

// The RSA key size of equal strength (NIST SP 800-57 part 1, table 2), which the guide's key
// exchange table is written in. nullopt for a key type this grade does not know.
std::optional<int> rsa_equivalent_bits(const Certificate& c) {
  const std::string t = upper(c.key_type);
  if (t == "RSA" || t == "RSA-PSS" || t == "DSA" || t == "DH") return c.key_bits;
  if (t == "EC" || t == "ECDSA") {
    if (c.key_bits >= 512) return 15360;
    if (c.key_bits >= 384) return 7680;
    if (c.key_bits >= 256) return 3072;
    if (c.key_bits >= 224) return 2048;
    if (c.key_bits >= 160) return 1024;
    return 512;
  }
  if (t == "ED25519") return 3072;  // 128-bit security, like P-256
  if (t == "ED448") return 7680;    // 224-bit security; the table's top row either way
  return std::nullopt;
}

// The guide's key exchange table (the Debian weak-key row cannot be observed here).
int key_exchange_score(int rsa_bits) {
  if (rsa_bits < 512) return 20;
  if (rsa_bits < 1024) return 40;
  if (rsa_bits < 2048) return 80;
  if (rsa_bits < 4096) return 90;
  return 100;
}

std::string letter_for_total(int total) {
  if (total >= 80) return "A";
  if (total >= 65) return "B";
  if (total >= 50) return "C";
  if (total >= 35) return "D";
  if (total >= 20) return "E";
  return "F";
}

bool weak_signature(const std::string& algorithm) {
  const std::string a = upper(algorithm);
  return contains(a, "SHA1") || contains(a, "SHA-1") || contains(a, "MD5") || contains(a, "MD2") ||
         contains(a, "MD4");
}

// Collects the caps and remembers the lowest letter among them.
class Caps {
 public:
  void add(const char* letter, std::string what, std::string_view rule) {
    if (grade_rank(letter) < grade_rank(lowest_)) lowest_ = letter;
    texts_.push_back(std::string("capped at ") + letter + ": " + std::move(what) + " (" +
                     std::string(rule) + ")");
  }
  const std::string& lowest() const { return lowest_; }
  std::vector<std::string>& texts() { return texts_; }

 private:
  std::string lowest_ = "A";
  std::vector<std::string> texts_;
};

std::string first_few(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 3;
  std::vector<std::string> shown(names.begin(), names.begin() + std::min(names.size(), kShown));
  std::string out = join(shown, ", ");
  if (names.size() > kShown) out += " and " + std::to_string(names.size() - kShown) + " more";
  return out;
}

}  // namespace

int grade_rank(std::string_view letter) {
  static constexpr std::pair<std::string_view, int> kRanks[] = {
      {"A+", 8}, {"A", 7}, {"A-", 6}, {"B", 5}, {"C", 4},
      {"D", 3},  {"E", 2}, {"F", 1},  {"T", 0}, {"M", 0},
  };
  for (const auto& [l, r] : kRanks) {
    if (l == letter) return r;
  }
  return -1;
}

Grade grade(const Facts& f, std::optional<std::chrono::seconds> hsts_max_age, std::int64_t now) {
  Grade g;
  const Handshake& h = f.handshake;
  Caps caps;

  // ---- what could not be observed (reported, never graded) ----
  if (f.protocols.empty()) {
    g.limits.push_back("protocols were not enumerated: graded from the default handshake only");
  } else {
    const bool sslv2_listed = std::any_of(f.protocols.begin(), f.protocols.end(),
                                          [](const auto& p) { return p.protocol == "SSLv2"; });
    if (!sslv2_listed) g.limits.push_back("SSLv2 not checked: OpenSSL 3 cannot offer it");
    for (const auto& p : f.protocols) {
      if (p.result == Result::kNotChecked) {
        g.limits.push_back(p.protocol + " not checked" +
                           (p.detail.empty() ? std::string() : ": " + p.detail));
      }
    }
  }
  for (const auto& n : f.not_checked) g.limits.push_back("not checked: " + n);

  // ---- protocol score: (best + worst) / 2 ----
  const auto protocols = accepted_protocols(f);
  if (!protocols.empty()) {
    g.protocol_score =
        static_cast<int>(std::lround((protocols.front()->score + protocols.back()->score) / 2.0));
  }

  // ---- cipher score: (strongest + weakest) / 2, from every accepted suite ----
  std::vector<std::pair<std::string, std::string>> suites;  // name, protocol
  for (const auto& c : f.accepted_ciphers) suites.emplace_back(c.name, c.protocol);
  if (suites.empty() && !h.cipher.empty()) suites.emplace_back(h.cipher, h.protocol);
  std::optional<int> best_bits, worst_bits;
  bool any_fs = false, any_aead = false, any_dhe = false;
  std::vector<std::string> anonymous, null_enc, exported, rc4, rc4_modern, des3_modern, no_fs;
  for (const auto& [name, protocol] : suites) {
    const SuiteInfo s = suite_info(name, protocol);
    const ProtocolInfo* p = protocol_info(protocol);
    const bool modern = p && p->order >= 3;  // TLS 1.1 and newer
    if (s.bits) {
      best_bits = std::max(best_bits.value_or(*s.bits), *s.bits);
      worst_bits = std::min(worst_bits.value_or(*s.bits), *s.bits);
    } else {
      g.limits.push_back("strength of " + name + " unknown to this grade: not scored");
    }
    any_fs = any_fs || s.forward_secrecy;
    any_aead = any_aead || s.aead;
    const std::string n = upper(name);
    any_dhe = any_dhe || n.rfind("DHE-", 0) == 0 || n.rfind("EDH-", 0) == 0;
    const std::string label = name + (protocol.empty() ? "" : " (" + protocol + ")");
    if (s.anonymous) anonymous.push_back(label);
    if (s.null_encryption) null_enc.push_back(label);
    if (s.export_grade) exported.push_back(label);
    if (s.rc4) (modern ? rc4_modern : rc4).push_back(label);
    if (s.triple_des && modern) des3_modern.push_back(label);
    if (!s.forward_secrecy && !s.anonymous) no_fs.push_back(label);
  }
  if (best_bits && worst_bits) {
    g.cipher_score = static_cast<int>(
        std::lround((cipher_bits_score(*best_bits) + cipher_bits_score(*worst_bits)) / 2.0));
  }
  if (any_dhe) {
    g.limits.push_back(
        "DHE parameter size not observed: key exchange scored from the certificate key alone");
  }

  // ---- key exchange score: the certificate key's strength, 0 with anonymous suites ----
  std::optional<int> rsa_bits;
  const Certificate* leaf = h.presented.empty() ? nullptr : &h.presented.front();
  if (leaf) {
    rsa_bits = rsa_equivalent_bits(*leaf);
    if (!rsa_bits) {
      g.limits.push_back("key type " + leaf->key_type + " unknown to this grade: scored 0");
    }
  }
  g.key_exchange_score = rsa_bits ? key_exchange_score(*rsa_bits) : 0;
  if (!anonymous.empty()) g.key_exchange_score = 0;  // the guide: anonymous key exchange, 0%

  const double total = 0.3 * g.protocol_score + 0.3 * g.key_exchange_score + 0.4 * g.cipher_score;
  g.total = static_cast<int>(std::lround(total));
  const std::string score_letter = letter_for_total(g.total);

  // ---- caps, worst first ----
  auto accepted = [&](const char* name) {
    return std::any_of(protocols.begin(), protocols.end(),
                       [&](auto* p) { return std::string_view(p->openssl) == name; });
  };
  if (protocols.empty()) {
    caps.add("F", "no protocol was accepted", "nothing to grade");
  }
  if (accepted("SSLv2")) {
    caps.add("F", "SSL 2.0 accepted", "rating guide: SSL 2.0 is insecure and gives F");
  }
  if (leaf && rsa_bits && *rsa_bits < 1024) {
    caps.add("F",
             leaf->key_type + " " + std::to_string(leaf->key_bits) + "-bit key" +
                 (*rsa_bits != leaf->key_bits
                      ? " (RSA-equivalent " + std::to_string(*rsa_bits) + " bits)"
                      : ""),
             "rating guide: a key under 1024 bits gives F");
  }
  if (!anonymous.empty()) {
    caps.add("F", "anonymous suites accepted: " + first_few(anonymous),
             "rating guide: anonymous key exchange authenticates no one and gives F");
  }
  if (!null_enc.empty()) {
    caps.add("F", "suites without encryption accepted: " + first_few(null_enc),
             "rating guide: NULL ciphers give F");
  }
  if (!exported.empty()) {
    caps.add("F", "export suites accepted: " + first_few(exported),
             "SSL Labs, 2015 (FREAK): export suites give F");
  }
  if (h.ocsp_status == "revoked") {
    caps.add("F", "the stapled OCSP response says the certificate is revoked",
             "rating guide: a revoked certificate gives F");
  }
  if (!protocols.empty() && protocols.back()->order < 4) {
    caps.add("C", std::string("best protocol accepted is ") + protocols.back()->human,
             "SSL Labs, 2014: no TLS 1.2 caps the grade at C");
  }
  if (accepted("SSLv3")) {
    caps.add("C", "SSL 3.0 accepted",
             "SSL Labs, October 2014 (POODLE): SSL 3.0 caps the grade at C");
  }
  if (!rc4_modern.empty()) {
    caps.add("C", "RC4 accepted with TLS 1.1 or newer: " + first_few(rc4_modern),
             "SSL Labs, 2015: RC4 with modern protocols caps the grade at C");
  }
  if (!des3_modern.empty()) {
    caps.add("C", "3DES accepted with TLS 1.1 or newer: " + first_few(des3_modern),
             "SSL Labs, 2017 (Sweet32): 3DES with modern protocols caps the grade at C");
  }
  if (!rc4.empty()) {
    caps.add("B", "RC4 accepted: " + first_few(rc4), "SSL Labs, 2015: RC4 caps the grade at B");
  }
  for (const char* old : {"TLSv1", "TLSv1.1"}) {
    if (accepted(old)) {
      caps.add("B", std::string(protocol_info(old)->human) + " accepted",
               "SSL Labs, January 2020: TLS 1.0 or TLS 1.1 caps the grade at B");
    }
  }
  if (!h.presented.empty()) {
    ::testing::StringMatchResultListener why;
    if (!ChainComplete().MatchAndExplain(f, &why)) {
      caps.add("B", "incomplete chain: the endpoint " + why.str(),
               "rating guide: an incomplete chain caps the grade at B");
    }
  }
  if (leaf && rsa_bits && *rsa_bits >= 1024 && *rsa_bits < 2048) {
    caps.add("B",
             leaf->key_type + " " + std::to_string(leaf->key_bits) + "-bit key" +
                 (*rsa_bits != leaf->key_bits
                      ? " (RSA-equivalent " + std::to_string(*rsa_bits) + " bits)"
                      : ""),
             "rating guide: a key under 2048 bits caps the grade at B");
  }
  if (!suites.empty() && !any_fs) {
    caps.add("B", "no forward secrecy: no ECDHE, DHE or TLS 1.3 suite accepted",
             "SSL Labs, March 2018: no forward secrecy caps the grade at B");
  }
  if (!suites.empty() && !any_aead) {
    caps.add("B", "no AEAD suite (GCM, CCM or ChaCha20-Poly1305) accepted",
             "SSL Labs, March 2018: no AEAD suite caps the grade at B");
  }

  // ---- warnings: an A becomes A- ----
  if (any_fs && !no_fs.empty()) {
    g.warnings.push_back(
        "forward secrecy is not used with every client: " + std::to_string(no_fs.size()) +
        (no_fs.size() == 1 ? " suite" : " suites") + " without it accepted (" + first_few(no_fs) +
        ") (rating guide: A- when forward secrecy is not used with all browsers; without client "
        "simulation, any accepted suite without it counts)");
  }

  std::string letter =
      grade_rank(caps.lowest()) < grade_rank(score_letter) ? caps.lowest() : score_letter;
  g.caps = std::move(caps.texts());
  if (letter == "A" && !g.warnings.empty()) {
    letter = "A-";
    g.caps.push_back("lowered to A-: " + std::to_string(g.warnings.size()) +
                     (g.warnings.size() == 1 ? " warning" : " warnings"));
  } else if (letter == "A") {
    const std::string rule =
        " (SSL Labs: A+ needs an A with no warnings and HSTS max-age of at least 15552000 s, "
        "180 days)";
    if (!hsts_max_age) {
      g.caps.push_back("not A+: no Strict-Transport-Security header" + rule);
    } else if (hsts_max_age->count() < kHstsForAPlus) {
      g.caps.push_back("not A+: HSTS max-age " + std::to_string(hsts_max_age->count()) +
                       " s is under 15552000 s" + rule);
    } else {
      letter = "A+";
      g.caps.push_back("raised to A+: HSTS max-age " + std::to_string(hsts_max_age->count()) +
                       " s and no warnings" + rule);
    }
  }

  // ---- trust: T and M replace the letter; the grade they hide is kept in the words ----
  const std::string hidden = letter;
  bool weak_sig = false;
  for (const auto& c : h.presented) {
    if (c.self_signed) continue;  // a trust anchor's signature on itself is never checked
    if (weak_signature(c.signature_algorithm)) {
      weak_sig = true;
      g.caps.push_back("shown as T: " + c.subject + " is signed with " + c.signature_algorithm +
                       " (SSL Labs, 2017: certificates signed with SHA-1 are not trusted); "
                       "graded " +
                       hidden + " otherwise");
    }
  }
  // The chain a client uses: the one OpenSSL built, else what was presented.
  const auto& chain = h.verified.empty() ? h.presented : h.verified;
  bool out_of_date = false;
  for (const auto& c : chain) {
    const char* what = now >= c.not_after   ? "expired"
                       : now < c.not_before ? "not yet valid"
                                            : nullptr;
    if (what == nullptr) continue;
    out_of_date = true;
    g.caps.push_back("shown as T: " + c.subject + " is " + what +
                     " (rating guide: T when the certificate is not trusted, expired included); "
                     "graded " +
                     hidden + " otherwise");
  }
  if (!h.verified_ok) {
    g.caps.push_back(
        "shown as T: the chain is not trusted: " +
        (h.verify_error.empty() ? std::string("verification failed") : h.verify_error) +
        " (rating guide: T when the certificate is not trusted, expired included); "
        "graded " +
        hidden + " otherwise");
  }
  if (!h.hostname_matches) {
    g.caps.push_back(
        "shown as M: the certificate does not cover " +
        (f.endpoint.name.empty() ? std::string("the endpoint's name") : f.endpoint.name) +
        " (testssl.sh and SSL Labs: M for a certificate name mismatch); graded " + hidden +
        " otherwise");
  }
  // Trust first: a name can only be trusted once the chain is.
  if (weak_sig || out_of_date || !h.verified_ok) {
    letter = "T";
  } else if (!h.hostname_matches) {
    letter = "M";
  }
  g.letter = letter;
  return g;
}

void PrintTo(const Grade& g, std::ostream* os) {
  *os << "graded " << g.letter << " (total " << g.total << ": protocol " << g.protocol_score
      << ", key exchange " << g.key_exchange_score << ", cipher " << g.cipher_score << ")";
}

void PrintTo(const GradedFacts& g, std::ostream* os) {
  const auto& e = g.facts.endpoint;
  *os << e.name << ":" << e.port;
  if (e.connect) *os << " via " << *e.connect;
  *os << ": ";
  PrintTo(grade(g.facts, g.hsts), os);
  *os << ", " << (g.hsts ? "HSTS max-age " + std::to_string(g.hsts->count()) + " s" : "no HSTS");
}

}  // namespace tls

namespace {

class GradeAtLeastMatcher : public ::testing::MatcherInterface<const tls::GradedFacts&> {
 public:
  GradeAtLeastMatcher(std::string letter, EpochClock now)
      : letter_(std::move(letter)), now_(std::move(now)) {}

  bool MatchAndExplain(const tls::GradedFacts& in,
                       ::testing::MatchResultListener* l) const override {
    const tls::Grade g = tls::grade(in.facts, in.hsts, now_());
    const bool ok = tls::grade_rank(g.letter) >= tls::grade_rank(letter_);
    *l << "graded " << g.letter << " (total " << g.total << ": protocol " << g.protocol_score
       << ", key exchange " << g.key_exchange_score << ", cipher " << g.cipher_score << ")";
    for (const auto& c : g.caps) *l << "; " << c;
    if (!g.warnings.empty()) *l << "; warnings: " << tls::join(g.warnings, "; ");
    *l << (ok ? "; at least " : "; below ") << letter_;
    // Limits of the probe, so a reader does not take "not checked" for "not accepted".
    if (!g.limits.empty()) *l << "; not observed here: " << tls::join(g.limits, "; ");
    return ok;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "is graded " << letter_ << " or better (SSL Labs rating guide)";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is graded below " << letter_ << " (SSL Labs rating guide)";
  }

 private:
  std::string letter_;
  EpochClock now_;  // read when judging, not when the matcher is built
};

}  // namespace

GradeMatcher GradeAtLeast(std::string letter, EpochClock now) {
  const int rank = tls::grade_rank(letter);
  if (rank < 1) {
    throw std::invalid_argument("GradeAtLeast(\"" + letter +
                                "\"): not a grade one can require (A+, A, A-, B, C, D, E or F)");
  }
  return GradeMatcher(new GradeAtLeastMatcher(std::move(letter), std::move(now)));
}

}  // namespace deploycheck
