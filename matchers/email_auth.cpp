#include "matchers/email_auth.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <regex>

namespace deploycheck::email {
namespace {

// ---- text helpers -----------------------------------------------------------------------

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
bool is_wsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && is_wsp(s[b])) ++b;
  while (e > b && is_wsp(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// Domain names compare case-insensitively and with or without the root's trailing dot.
std::string normal_name(std::string_view name) {
  auto n = lower(trim(name));
  if (!n.empty() && n.back() == '.') n.pop_back();
  return n;
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_digit(c); });
}

// ---- SPF syntax (RFC 7208 §7.1 macros, §12 ABNF) ------------------------------------------

// Empty if `s` is a valid macro-string, else what is wrong with it.
std::string macro_problem(std::string_view s, bool in_explanation) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '%') {
      if (c < 0x21 || c > 0x7e) return "a character that is not visible ASCII";
      continue;
    }
    if (i + 1 >= s.size()) return "a lone '%' at the end (write %% for a literal %)";
    const char next = s[i + 1];
    if (next == '%' || next == '_' || next == '-') {
      ++i;
      continue;
    }
    if (next != '{') return std::string("an invalid '%") + next + "' (write %% for a literal %)";
    const auto close = s.find('}', i + 2);
    if (close == std::string_view::npos) return "an unterminated macro '%{'";
    const auto body = s.substr(i + 2, close - i - 2);
    const std::string macro = "%{" + std::string(body) + "}";
    const char letter = body.empty() ? '\0' : static_cast<char>(lower(body.substr(0, 1))[0]);
    if (letter == '\0' || !std::strchr("slodiphcrtv", letter)) {
      return "an unknown macro '" + macro + "'";
    }
    if (!in_explanation && std::strchr("crt", letter)) {
      return "the macro '" + macro + "', which only exp= may use";
    }
    std::size_t j = 1;
    while (j < body.size() && is_digit(body[j])) ++j;
    if (j < body.size() && (body[j] == 'r' || body[j] == 'R')) ++j;
    while (j < body.size() && std::strchr(".-+,/_=", body[j])) ++j;
    if (j != body.size()) return "a malformed macro '" + macro + "'";
    i = close;
  }
  return {};
}

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) {
  if (label.empty()) return false;
  if (!std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; })) {
    return false;
  }
  if (label.find('-') != std::string_view::npos) {
    return is_alnum(label.front()) && is_alnum(label.back());
  }
  return std::any_of(label.begin(), label.end(), [](char c) { return is_alpha(c); });
}

// Empty if `s` is a valid domain-spec, else what is wrong with it.
std::string domain_spec_problem(std::string_view s) {
  if (s.empty()) return "an empty domain";
  if (auto p = macro_problem(s, false); !p.empty()) return p;
  if (s.back() == '}') return {};  // domain-end may be a macro-expand
  auto name = s;
  if (name.back() == '.') name.remove_suffix(1);
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos) {
    return "a domain that is not fully qualified";
  }
  if (!is_toplabel(name.substr(dot + 1))) {
    return "a domain whose last label is not a valid top-level label";
  }
  return {};
}

// ip4-cidr-length / ip6-cidr-length: "0" or no leading zero, at most `max`.
std::optional<int> parse_cidr(std::string_view digits, int max) {
  if (digits.empty() || digits.size() > 3 || !all_digits(digits)) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  const int value = std::stoi(std::string(digits));
  if (value > max) return std::nullopt;
  return value;
}

// modifier name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
bool is_modifier_name(std::string_view name) {
  return !name.empty() && is_alpha(name[0]) && std::all_of(name.begin(), name.end(), [](char c) {
    return is_alnum(c) || c == '-' || c == '_' || c == '.';
  });
}

std::string syntax_error(const std::string& what, std::string_view token) {
  return what + " in '" + std::string(token) + "' (RFC 7208 §4.6: permerror)";
}

// Parses a/mx's "[:domain-spec][/cidr4][//cidr6]" tail. Returns an error, or empty.
std::string parse_domain_and_cidr(std::string_view rest, SpfTerm& term, bool cidr_allowed) {
  const bool has_domain = !rest.empty() && rest[0] == ':';
  std::string_view tail = has_domain ? rest.substr(1) : rest;
  if (cidr_allowed) {
    if (auto p = tail.rfind("//"); p != std::string_view::npos && all_digits(tail.substr(p + 2))) {
      term.cidr6 = parse_cidr(tail.substr(p + 2), 128);
      if (!term.cidr6) return "an invalid IPv6 prefix length";
      tail = tail.substr(0, p);
    }
    if (auto p = tail.rfind('/'); p != std::string_view::npos && all_digits(tail.substr(p + 1))) {
      term.cidr4 = parse_cidr(tail.substr(p + 1), 32);
      if (!term.cidr4) return "an invalid IPv4 prefix length";
      tail = tail.substr(0, p);
    }
  }
  if (!has_domain) return tail.empty() ? std::string() : "unexpected '" + std::string(tail) + "'";
  term.domain = std::string(tail);
  return domain_spec_problem(tail);
}

// Parses one mechanism (everything but the qualifier). Returns an error, or empty.
std::string parse_mechanism(std::string_view token, SpfTerm& term) {
  const auto end = token.find_first_of(":/");
  term.name = lower(token.substr(0, end));
  const std::string_view rest = end == std::string_view::npos ? "" : token.substr(end);
  const auto& n = term.name;
  if (n == "all") return rest.empty() ? std::string() : "an argument to 'all'";
  if (n == "include" || n == "exists") {
    if (rest.empty() || rest[0] != ':') return "a missing domain (" + n + ":<domain>)";
    term.domain = std::string(rest.substr(1));
    return domain_spec_problem(term.domain);
  }
  if (n == "a" || n == "mx") return parse_domain_and_cidr(rest, term, true);
  if (n == "ptr") return parse_domain_and_cidr(rest, term, false);
  if (n == "ip4" || n == "ip6") {
    if (rest.empty() || rest[0] != ':') return "a missing network (" + n + ":<address>)";
    std::string_view network = rest.substr(1);
    const bool v4 = n == "ip4";
    if (auto slash = network.rfind('/'); slash != std::string_view::npos) {
      auto& cidr = v4 ? term.cidr4 : term.cidr6;
      cidr = parse_cidr(network.substr(slash + 1), v4 ? 32 : 128);
      if (!cidr) return std::string("an invalid ") + (v4 ? "IPv4" : "IPv6") + " prefix length";
      network = network.substr(0, slash);
    }
    term.network = std::string(network);
    unsigned char buffer[16];
    if (inet_pton(v4 ? AF_INET : AF_INET6, term.network.c_str(), buffer) != 1) {
      return std::string("an invalid ") + (v4 ? "IPv4" : "IPv6") + " address";
    }
    return {};
  }
  return "an unknown mechanism";
}

}  // namespace

bool is_spf_record(std::string_view txt) {
  return txt.size() >= 6 && lower(txt.substr(0, 6)) == "v=spf1" &&
         (txt.size() == 6 || txt[6] == ' ');
}

SpfRecord parse_spf(std::string_view text) {
  SpfRecord record;
  if (!is_spf_record(text)) {
    record.errors.push_back("the record does not start with \"v=spf1 \" (RFC 7208 §4.5)");
    return record;
  }
  std::map<std::string, int> modifier_count;
  std::size_t pos = 6;
  while (pos < text.size()) {
    // Terms are separated by one or more spaces (RFC 7208 §12: 1*SP).
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    const auto end = std::min(text.find(' ', pos), text.size());
    const std::string_view token = text.substr(pos, end - pos);
    pos = end;

    SpfTerm term;
    const auto eq = token.find('=');
    const auto colon_or_slash = token.find_first_of(":/");
    if (eq != std::string_view::npos && eq < colon_or_slash &&
        is_modifier_name(token.substr(0, eq))) {
      term.kind = SpfTerm::Kind::kModifier;
      term.name = lower(token.substr(0, eq));
      term.value = std::string(token.substr(eq + 1));
      term.text = std::string(token);
      std::string problem;
      if (term.name == "redirect") {
        term.domain = term.value;
        problem = domain_spec_problem(term.value);
      } else {
        problem = macro_problem(term.value, term.name == "exp");
        if (term.name == "exp" && problem.empty()) problem = domain_spec_problem(term.value);
      }
      if (!problem.empty()) record.errors.push_back(syntax_error(problem, token));
      ++modifier_count[term.name];
      record.terms.push_back(std::move(term));
      continue;
    }
    std::string_view body = token;
    if (std::strchr("+-~?", body[0])) {
      term.qualifier = body[0];
      body.remove_prefix(1);
    }
    term.text = std::string(body);
    if (auto problem = parse_mechanism(body, term); !problem.empty()) {
      record.errors.push_back(syntax_error(problem, token));
    }
    record.terms.push_back(std::move(term));
  }
  for (const char* name : {"redirect", "exp"}) {
    if (modifier_count[name] > 1) {
      record.errors.push_back(std::string(name) + "= appears " +
                              std::to_string(modifier_count[name]) +
                              " times (RFC 7208 §6: permerror)");
    }
  }
  return record;
}

namespace {

// ---- SPF evaluation -----------------------------------------------------------------------

constexpr int kLookupLimit = 10;
constexpr int kVoidLimit = 2;
// Past this many DNS-querying terms the verdict cannot change; stop so that a huge tree of
// distinct records cannot make a check slow.
constexpr int kFollowCap = 100;

// Expands a domain-spec's macros that depend only on the domain (%{d}, %{o}); nullopt when it
// needs the message (%{i}, %{s}, …), which a static check does not have.
std::optional<std::string> expand(std::string_view spec, const std::string& domain) {
  std::string out;
  for (std::size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '%') {
      out += spec[i];
      continue;
    }
    const char next = spec[i + 1];  // macro_problem() guaranteed a well-formed macro
    if (next == '%' || next == '_' || next == '-') {
      out += next == '%' ? "%" : next == '_' ? " " : "%20";
      ++i;
      continue;
    }
    const auto close = spec.find('}', i);
    const auto body = spec.substr(i + 2, close - i - 2);
    const char letter = lower(body.substr(0, 1))[0];
    if (letter != 'd' && letter != 'o') return std::nullopt;
    std::size_t j = 1;
    while (j < body.size() && is_digit(body[j])) ++j;
    const int keep = j > 1 ? std::stoi(std::string(body.substr(1, j - 1))) : 0;
    const bool reverse = j < body.size() && (body[j] == 'r' || body[j] == 'R');
    std::string delimiters(body.substr(j + (reverse ? 1 : 0)));
    if (delimiters.empty()) delimiters = ".";
    std::vector<std::string> parts(1);
    for (char c : domain) {
      if (delimiters.find(c) != std::string::npos) {
        parts.emplace_back();
      } else {
        parts.back() += c;
      }
    }
    if (reverse) std::reverse(parts.begin(), parts.end());
    if (keep > 0 && static_cast<std::size_t>(keep) < parts.size()) {
      parts.erase(parts.begin(), parts.end() - keep);
    }
    out += join(parts, ".");
    i = close;
  }
  return normal_name(out);
}

class SpfEvaluator {
 public:
  SpfEvaluator(const SpfLookup& lookup, SpfResult& out) : lookup_(lookup), out_(out) {}

  // Evaluates the record found at `domain` and returns its "all" qualifier (following a
  // redirect), or "" when it has none.
  std::string visit(const std::string& domain, const std::string& record, const std::string& via,
                    int depth) {
    path_.push_back(domain);
    const std::size_t node = out_.tree.size();
    out_.tree.push_back(SpfNode{domain, via, depth, record, 0});
    const std::string where = depth == 0 ? "" : domain + ": ";

    const SpfRecord parsed = parse_spf(record);
    for (const auto& e : parsed.errors) out_.errors.push_back(where + e);
    std::string all;
    if (parsed.ok()) all = walk(domain, parsed, node, depth, where);
    path_.pop_back();
    return all;
  }

  const std::vector<std::string>& breakdown() const { return breakdown_; }
  const std::vector<std::string>& void_terms() const { return void_terms_; }

 private:
  std::string walk(const std::string& domain, const SpfRecord& parsed, std::size_t node, int depth,
                   const std::string& where) {
    std::string all;
    const SpfTerm* redirect = nullptr;
    std::vector<std::string> after_all;
    for (const auto& term : parsed.terms) {
      if (term.kind == SpfTerm::Kind::kModifier) {
        if (term.name == "redirect") redirect = &term;
        continue;
      }
      // A receiver stops at "all", which always matches: later terms cost nothing.
      if (!all.empty()) {
        after_all.push_back(term.text);
        continue;
      }
      const int before = out_.lookups;
      mechanism(domain, term, node, depth, where);
      if (term.name == "all") all = std::string(1, term.qualifier) + "all";
      if (depth == 0 && out_.lookups > before) {
        breakdown_.push_back(term.text + " " + std::to_string(out_.lookups - before));
      }
    }
    if (!after_all.empty()) {
      out_.warnings.push_back(where + "terms after 'all' are never evaluated: " +
                              join(after_all, " ") + " (RFC 7208 §5.1)");
    }
    if (redirect && !all.empty()) {
      out_.warnings.push_back(where + "redirect=" + redirect->domain +
                              " is ignored because the record has 'all' (RFC 7208 §6.1)");
    } else if (redirect) {
      const int before = out_.lookups;
      count(node);
      all = follow(domain, *redirect, "redirect", depth, where);
      if (depth == 0) {
        breakdown_.push_back(redirect->text + " " + std::to_string(out_.lookups - before));
      }
    }
    return all;
  }

  void count(std::size_t node) {
    ++out_.lookups;
    ++out_.tree[node].lookups;
  }

  void mechanism(const std::string& domain, const SpfTerm& term, std::size_t node, int depth,
                 const std::string& where) {
    const auto& n = term.name;
    if (n == "all" || n == "ip4" || n == "ip6") return;
    count(node);
    if (n == "include") {
      follow(domain, term, "include", depth, where);
      return;
    }
    if (n == "ptr") {
      out_.warnings.push_back(where + "'" + term.text +
                              "' is slow and unreliable: RFC 7208 §5.5 says SHOULD NOT use ptr");
      return;
    }
    const auto target =
        term.domain.empty() ? std::optional<std::string>(domain) : expand(term.domain, domain);
    if (!target) return;  // depends on the message: counted, not queried
    if (n == "mx") {
      const auto mx = query(*target, "MX", term, where);
      if (mx && mx->size() > 10) {
        out_.errors.push_back(where + "'" + term.text + "' names " + std::to_string(mx->size()) +
                              " mail servers (RFC 7208 §4.6.4: limit 10, permerror)");
      }
      return;
    }
    // a, exists: an address of either family is an answer; only neither is void.
    const auto v4 = lookup_(*target, "A");
    if (!v4) {
      lookup_failed(*target, "A", term, where);
      return;
    }
    if (!v4->empty()) return;
    if (n == "exists") {  // exists asks for A records only (RFC 7208 §5.7)
      void_lookup(term);
      return;
    }
    query(*target, "AAAA", term, where);
  }

  // Runs one query; an empty answer is counted as a void lookup.
  std::optional<std::vector<std::string>> query(const std::string& name, const char* type,
                                                const SpfTerm& term, const std::string& where) {
    auto answer = lookup_(name, type);
    if (!answer) {
      lookup_failed(name, type, term, where);
    } else if (answer->empty()) {
      void_lookup(term);
    }
    return answer;
  }

  void lookup_failed(const std::string& name, const char* type, const SpfTerm& term,
                     const std::string& where) {
    out_.errors.push_back(where + "'" + term.text + "': the " + type + " lookup for " + name +
                          " failed (RFC 7208 §4.4: temperror)");
  }

  void void_lookup(const SpfTerm& term) {
    ++out_.void_lookups;
    void_terms_.push_back(term.text);
  }

  // Follows include: or redirect=; returns the target's "all" qualifier.
  std::string follow(const std::string& domain, const SpfTerm& term, const char* via, int depth,
                     const std::string& where) {
    const bool is_include = std::strcmp(via, "include") == 0;
    const char* section = is_include ? "§5.2" : "§6.1";
    const auto target = expand(term.domain, domain);
    if (!target) {
      out_.warnings.push_back(where + "'" + term.text +
                              "' depends on the message; its target was not followed");
      return {};
    }
    const std::string label = is_include ? "include:" + *target : "redirect=" + *target;
    if (is_include) out_.includes.push_back(*target);
    if (std::find(path_.begin(), path_.end(), *target) != path_.end()) {
      out_.errors.push_back("loop: " + join(path_, " → ") + " → " + *target +
                            " (RFC 7208 §4.6.4: the lookup limit makes it a permerror)");
      return {};
    }
    if (out_.lookups > kFollowCap) {
      if (!capped_) {
        out_.errors.push_back("stopped following include:/redirect= after " +
                              std::to_string(kFollowCap) + " DNS-querying terms");
      }
      capped_ = true;
      return {};
    }
    const auto txt = lookup_(*target, "TXT");
    if (!txt) {
      out_.errors.push_back(where + label + ": the TXT lookup failed (RFC 7208 " + section +
                            ": temperror)");
      return {};
    }
    if (txt->empty()) void_lookup(term);
    std::vector<std::string> spf;
    std::copy_if(txt->begin(), txt->end(), std::back_inserter(spf), is_spf_record);
    if (spf.size() != 1) {
      out_.errors.push_back(
          where + label +
          (spf.empty() ? " has no SPF record (RFC 7208 " + std::string(section) + ": permerror)"
                       : " has " + std::to_string(spf.size()) +
                             " v=spf1 records (RFC 7208 §4.5: permerror)"));
      return {};
    }
    return visit(*target, spf.front(), via, depth + 1);
  }

  const SpfLookup& lookup_;
  SpfResult& out_;
  std::vector<std::string> path_;        // domains on the current include/redirect chain
  std::vector<std::string> breakdown_;   // the domain's own terms with what each cost
  std::vector<std::string> void_terms_;  // terms whose lookup came back empty
  bool capped_ = false;
};

}  // namespace

SpfResult evaluate_spf(const std::string& domain, const SpfLookup& lookup) {
  SpfResult out;
  out.domain = normal_name(domain);
  const auto txt = lookup(out.domain, "TXT");
  if (!txt) {
    out.errors.push_back("the TXT lookup failed (RFC 7208 §4.4: temperror)");
    return out;
  }
  std::copy_if(txt->begin(), txt->end(), std::back_inserter(out.records), is_spf_record);
  if (out.records.empty()) {
    out.errors.push_back("no v=spf1 record (RFC 7208 §4.5: none)");
    return out;
  }
  if (out.records.size() > 1) {
    out.errors.push_back(std::to_string(out.records.size()) +
                         " v=spf1 records (RFC 7208 §4.5: permerror)");
    return out;
  }
  SpfEvaluator evaluator(lookup, out);
  out.all_qualifier = evaluator.visit(out.domain, out.records.front(), "", 0);
  if (out.lookups > kLookupLimit) {
    out.errors.push_back(std::to_string(out.lookups) +
                         " DNS-querying terms (RFC 7208 §4.6.4: limit 10, permerror): " +
                         join(evaluator.breakdown()));
  }
  if (out.void_lookups > kVoidLimit) {
    out.errors.push_back(
        std::to_string(out.void_lookups) +
        " void lookups (RFC 7208 §4.6.4: limit 2, permerror): " + join(evaluator.void_terms()));
  }
  return out;
}

nlohmann::json to_json(const SpfResult& r) {
  nlohmann::json tree = nlohmann::json::array();
  for (const auto& n : r.tree) {
    tree.push_back({{"domain", n.domain},
                    {"via", n.via},
                    {"depth", n.depth},
                    {"record", n.record},
                    {"lookups", n.lookups}});
  }
  return {{"domain", r.domain},
          {"records", r.records},
          {"lookups", r.lookups},
          {"void_lookups", r.void_lookups},
          {"all_qualifier", r.all_qualifier},
          {"includes", r.includes},
          {"tree", tree},
          {"errors", r.errors},
          {"warnings", r.warnings}};
}

SpfResult spf_result_from_json(const nlohmann::json& j) {
  SpfResult r;
  r.domain = j.at("domain").get<std::string>();
  r.records = j.at("records").get<std::vector<std::string>>();
  r.lookups = j.at("lookups").get<int>();
  r.void_lookups = j.at("void_lookups").get<int>();
  r.all_qualifier = j.at("all_qualifier").get<std::string>();
  r.includes = j.at("includes").get<std::vector<std::string>>();
  for (const auto& n : j.at("tree")) {
    r.tree.push_back(SpfNode{n.at("domain").get<std::string>(), n.at("via").get<std::string>(),
                             n.at("depth").get<int>(), n.at("record").get<std::string>(),
                             n.at("lookups").get<int>()});
  }
  r.errors = j.at("errors").get<std::vector<std::string>>();
  r.warnings = j.at("warnings").get<std::vector<std::string>>();
  return r;
}

// ---- tag lists (RFC 6376 §3.2, shared by DKIM and DMARC) -----------------------------------

namespace {

struct TagList {
  std::vector<std::pair<std::string, std::string>> tags;  // in order, names as written
  std::vector<std::string> errors;

  const std::string* find(const std::string& name) const {
    for (const auto& [n, v] : tags) {
      if (n == name) return &v;
    }
    return nullptr;
  }
};

// `fold_names`: DMARC's tag names are ABNF literals, hence case-insensitive; DKIM's are not.
TagList parse_tag_list(std::string_view text, bool fold_names, const char* rfc) {
  TagList out;
  std::map<std::string, int> seen;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto end = std::min(text.find(';', pos), text.size());
    const std::string spec = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (spec.empty()) continue;  // a trailing ';' is allowed
    const auto eq = spec.find('=');
    std::string name = eq == std::string::npos ? spec : trim(spec.substr(0, eq));
    if (eq == std::string::npos || name.empty() || !is_alpha(name[0]) ||
        !std::all_of(name.begin(), name.end(), [](char c) { return is_alnum(c) || c == '_'; })) {
      out.errors.push_back("'" + spec + "' is not a tag=value pair (" + rfc + ")");
      continue;
    }
    if (fold_names) name = lower(name);
    if (++seen[name] == 2) {
      out.errors.push_back("tag " + name + "= appears more than once (" + rfc +
                           ": the record is invalid)");
    }
    out.tags.emplace_back(name, trim(spec.substr(eq + 1)));
  }
  return out;
}

// ---- DMARC --------------------------------------------------------------------------------

// v=DMARC1 must be the first tag: "v" is an ABNF literal (any case), "DMARC1" is %x-exact.
bool is_dmarc_record(const std::string& txt) {
  static const std::regex kFirstTag(R"(^[ \t]*[vV][ \t]*=[ \t]*DMARC1[ \t]*(;|$))");
  return std::regex_search(txt, kFirstTag);
}

std::vector<std::string> split_uris(const std::string& value, const char* tag,
                                    std::vector<std::string>& errors) {
  static const std::regex kUri(R"(^[A-Za-z][A-Za-z0-9+.-]*:\S+$)");
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= value.size()) {
    const auto end = std::min(value.find(',', pos), value.size());
    const std::string uri = trim(value.substr(pos, end - pos));
    pos = end + 1;
    if (!std::regex_search(uri, kUri)) {
      errors.push_back(std::string(tag) + "= entry '" + uri +
                       "' is not a URI such as mailto:dmarc@example.com (RFC 7489 §6.4)");
      continue;
    }
    out.push_back(uri);
  }
  return out;
}

}  // namespace

std::optional<int> dmarc_policy_strength(std::string_view policy) {
  if (policy == "none") return 0;
  if (policy == "quarantine") return 1;
  if (policy == "reject") return 2;
  return std::nullopt;
}

DmarcResult parse_dmarc(const std::vector<std::string>& records, std::string domain) {
  DmarcResult out;
  out.domain = normal_name(domain);
  std::copy_if(records.begin(), records.end(), std::back_inserter(out.records), is_dmarc_record);
  if (out.records.empty()) {
    const auto misplaced = std::find_if(records.begin(), records.end(), [](const auto& r) {
      return lower(r).find("v=dmarc1") != std::string::npos;
    });
    out.errors.push_back(
        misplaced == records.end()
            ? "no v=DMARC1 record (RFC 7489 §6.6.3: no DMARC policy applies)"
            : "the record " + in_quotes(*misplaced) +
                  " does not start with v=DMARC1 (RFC 7489 §6.6.3: it is discarded)");
    return out;
  }
  if (out.records.size() > 1) {
    out.errors.push_back(std::to_string(out.records.size()) +
                         " v=DMARC1 records (RFC 7489 §6.6.3: no DMARC policy applies)");
    return out;
  }
  const TagList tags = parse_tag_list(out.records.front(), true, "RFC 7489 §6.4");
  out.errors = tags.errors;

  auto policy = [&](const char* tag) -> std::string {
    const std::string* value = tags.find(tag);
    if (!value) return {};
    const std::string p = lower(*value);
    if (dmarc_policy_strength(p)) return p;
    out.errors.push_back(std::string(tag) + "=" + *value +
                         " is not none, quarantine or reject (RFC 7489 §6.3)");
    return {};
  };
  if (!tags.find("p")) out.errors.push_back("no p= tag (RFC 7489 §6.3: p is required)");
  out.policy = policy("p");
  out.subdomain_policy = tags.find("sp") ? policy("sp") : out.policy;

  if (const auto* pct = tags.find("pct")) {
    if (pct->empty() || pct->size() > 3 || !all_digits(*pct) || std::stoi(*pct) > 100) {
      out.errors.push_back("pct=" + *pct + " is not an integer from 0 to 100 (RFC 7489 §6.3)");
    } else {
      out.pct = std::stoi(*pct);
    }
  }
  for (const auto* tag : {"adkim", "aspf"}) {
    const auto* value = tags.find(tag);
    if (!value) continue;
    const std::string mode = lower(*value);
    if (mode != "r" && mode != "s") {
      out.errors.push_back(std::string(tag) + "=" + *value + " is not r or s (RFC 7489 §6.3)");
      continue;
    }
    (std::strcmp(tag, "adkim") == 0 ? out.adkim : out.aspf) = mode[0];
  }
  if (const auto* rua = tags.find("rua")) out.rua = split_uris(*rua, "rua", out.errors);
  if (const auto* ruf = tags.find("ruf")) out.ruf = split_uris(*ruf, "ruf", out.errors);
  return out;
}

// ---- DKIM ---------------------------------------------------------------------------------

namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// OpenSSL's reason for the last failure, clearing its error queue.
std::string openssl_error() {
  const unsigned long code = ERR_peek_last_error();
  char buffer[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, buffer, sizeof buffer);
  ERR_clear_error();
  return buffer;
}

// Strict base64 (RFC 4648 §4, padded): DKIM allows folding whitespace, removed by the caller.
std::optional<std::vector<unsigned char>> decode_base64(const std::string& text,
                                                        std::string& problem) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (text.size() % 4 != 0) {
    problem = "its length " + std::to_string(text.size()) + " is not a multiple of 4";
    return std::nullopt;
  }
  std::vector<unsigned char> out;
  std::uint32_t bits = 0;
  int nbits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      const std::size_t pad = text.size() - i;
      if (pad > 2 || text.find_first_not_of('=', i) != std::string::npos) {
        problem = "'=' padding in the middle (at character " + std::to_string(i + 1) + ")";
        return std::nullopt;
      }
      break;
    }
    const auto v = kAlphabet.find(c);
    if (v == std::string::npos) {
      problem = std::string("the character '") + c + "' at position " + std::to_string(i + 1) +
                " is not base64";
      return std::nullopt;
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<unsigned char>((bits >> nbits) & 0xff));
    }
  }
  return out;
}

void parse_rsa_key(const std::vector<unsigned char>& der, DkimKey& key) {
  const unsigned char* p = der.data();
  Pkey pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (pkey && p == der.data() + der.size()) {
    if (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) {
      key.errors.push_back(std::string("p= holds a key of type ") +
                           OBJ_nid2sn(EVP_PKEY_get_base_id(pkey.get())) +
                           ", but k=rsa (RFC 6376 §3.6.1)");
      return;
    }
    key.bits = EVP_PKEY_get_bits(pkey.get());
    return;
  }
  const std::string spki_error = pkey ? "trailing bytes after the key" : openssl_error();
  // Some publishers paste a bare PKCS#1 RSAPublicKey; name that mistake precisely.
  p = der.data();
  Pkey pkcs1(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (pkcs1) {
    key.bits = EVP_PKEY_get_bits(pkcs1.get());
    key.errors.push_back(
        "p= is a bare PKCS#1 RSAPublicKey, not the SubjectPublicKeyInfo "
        "RFC 6376 §3.6.1 requires (verifiers reject it)");
    return;
  }
  key.errors.push_back("p= does not decode to an RSA public key (OpenSSL: " + spki_error + ")");
}

void parse_ed25519_key(const std::vector<unsigned char>& raw, DkimKey& key) {
  if (raw.size() != 32) {
    key.errors.push_back("p= holds " + std::to_string(raw.size()) +
                         " bytes, but an Ed25519 key is 32 (RFC 8463 §4.2)");
    return;
  }
  Pkey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size()));
  if (!pkey) {
    key.errors.push_back("p= is not an Ed25519 public key (OpenSSL: " + openssl_error() + ")");
    return;
  }
  key.bits = 256;
}

}  // namespace

DkimKey parse_dkim(std::string_view text) {
  DkimKey key;
  key.found = true;
  key.record = std::string(text);
  const TagList tags = parse_tag_list(text, false, "RFC 6376 §3.2");
  key.errors = tags.errors;
  if (const auto* v = tags.find("v")) {
    if (*v != "DKIM1") {
      key.errors.push_back("v=" + *v + " is not DKIM1 (RFC 6376 §3.6.1: the record is discarded)");
    } else if (tags.tags.front().first != "v") {
      key.errors.push_back("v=DKIM1 is not the first tag (RFC 6376 §3.6.1)");
    }
  }
  const auto* k = tags.find("k");
  key.key_type = k ? *k : "rsa";
  if (key.key_type != "rsa" && key.key_type != "ed25519") {
    key.errors.push_back("k=" + key.key_type + " is not a key type verifiers know (rsa, ed25519)");
  }
  const auto* p = tags.find("p");
  if (!p) {
    key.errors.push_back("no p= tag (RFC 6376 §3.6.1: p is required)");
    return key;
  }
  std::string base64;
  std::copy_if(p->begin(), p->end(), std::back_inserter(base64), [](char c) { return !is_wsp(c); });
  if (base64.empty()) {
    key.revoked = true;
    return key;
  }
  std::string problem;
  const auto der = decode_base64(base64, problem);
  if (!der) {
    key.errors.push_back("p= is not valid base64: " + problem);
    return key;
  }
  if (key.key_type == "rsa") parse_rsa_key(*der, key);
  if (key.key_type == "ed25519") parse_ed25519_key(*der, key);
  return key;
}

DkimKey parse_dkim_records(std::string name, const std::vector<std::string>& records) {
  DkimKey key;
  if (records.empty()) {
    key.errors.push_back("no TXT record (the selector's key is not published)");
  } else {
    key = parse_dkim(records.front());
    if (records.size() > 1) {
      key.errors.push_back(std::to_string(records.size()) +
                           " TXT records: verifiers may pick any one (RFC 6376 §3.6.2.2)");
    }
  }
  key.name = normal_name(name);
  return key;
}

// ---- printing -----------------------------------------------------------------------------

namespace {

// A DKIM record with its long key shortened: the key's bytes say nothing to a reader.
std::string abbreviated(const std::string& record) {
  static const std::regex kKey(R"((p\s*=\s*[A-Za-z0-9+/]{12})[A-Za-z0-9+/=\s]{8,})");
  return std::regex_replace(record, kKey, "$1…");
}

std::string quoted_list(const std::vector<std::string>& records) {
  std::vector<std::string> q;
  for (const auto& r : records) q.push_back(in_quotes(r));
  return join(q, " and ");
}

}  // namespace

void PrintTo(const SpfResult& r, std::ostream* os) {
  // The records only: what they amount to (lookups, errors) is the matcher's explanation.
  *os << "SPF for " << r.domain;
  if (!r.records.empty()) *os << ": " << quoted_list(r.records);
}

void PrintTo(const DmarcResult& r, std::ostream* os) {
  *os << "DMARC" << (r.domain.empty() ? "" : " for " + r.domain);
  if (!r.records.empty()) *os << ": " << quoted_list(r.records);
}

void PrintTo(const DkimKey& k, std::ostream* os) {
  *os << "DKIM key" << (k.name.empty() ? "" : " at " + k.name);
  if (k.found) *os << ": " << in_quotes(abbreviated(k.record));
}

}  // namespace deploycheck::email
