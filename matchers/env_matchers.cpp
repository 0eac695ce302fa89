#include "matchers/env_matchers.hpp"

#include <algorithm>
#include <charconv>
#include <memory>
#include <regex>
#include <set>

#include "probes/http/curl_api.hpp"

namespace deploycheck {
namespace {

using ::testing::MatchResultListener;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

// Shows a non-secret value; for a secret only that it was withheld.
std::string shown(const EnvVar& v, std::string_view text) {
  return v.secret ? "(value withheld: secret)" : "\"" + std::string(text) + "\"";
}

// The common shape: a variable that is not set cannot satisfy any rule, and says so.
class EnvVarMatcherBase : public ::testing::MatcherInterface<const EnvVar&> {
 public:
  bool MatchAndExplain(const EnvVar& v, MatchResultListener* listener) const final {
    if (!v.value) {
      *listener << "which is not set in any source";
      return false;
    }
    return Judge(v, *v.value, listener);
  }

 protected:
  virtual bool Judge(const EnvVar& v, const std::string& value, MatchResultListener* l) const = 0;
};

// Wraps a Judge lambda and a description in a MatcherInterface.
template <class JudgeFn>
class Lambda final : public EnvVarMatcherBase {
 public:
  Lambda(std::string describe, std::string negation, JudgeFn judge)
      : describe_(std::move(describe)), negation_(std::move(negation)), judge_(std::move(judge)) {}
  void DescribeTo(std::ostream* os) const override { *os << describe_; }
  void DescribeNegationTo(std::ostream* os) const override { *os << negation_; }

 protected:
  bool Judge(const EnvVar& v, const std::string& value, MatchResultListener* l) const override {
    return judge_(v, value, l);
  }

 private:
  std::string describe_, negation_;
  JudgeFn judge_;
};

template <class JudgeFn>
EnvVarMatcher make(std::string describe, std::string negation, JudgeFn judge) {
  return EnvVarMatcher(
      new Lambda<JudgeFn>(std::move(describe), std::move(negation), std::move(judge)));
}

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_api().url_cleanup(u); }
};
struct CurlStringDeleter {
  void operator()(char* s) const { curl_api().free(s); }
};

// Parses with libcurl's URL API, which accepts any scheme (postgres://, redis://).
struct ParsedUrl {
  std::string scheme, host;
};
std::optional<ParsedUrl> parse_url(const std::string& text) {
  const CurlApi& api = curl_api();
  std::unique_ptr<CURLU, CurlUrlDeleter> url(api.url());
  if (!url ||
      api.url_set(url.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    return std::nullopt;
  }
  ParsedUrl out;
  auto part = [&](CURLUPart which) {
    char* raw = nullptr;
    if (api.url_get(url.get(), which, &raw, 0) != CURLUE_OK) return std::string();
    std::unique_ptr<char, CurlStringDeleter> owned(raw);
    return std::string(raw);
  };
  out.scheme = lower(part(CURLUPART_SCHEME));
  out.host = part(CURLUPART_HOST);
  return out;
}

std::string describe_url(const UrlRule& rule) {
  std::string d = "is a URL";
  if (!rule.schemes.empty()) d += " with scheme " + join(rule.schemes, " or ");
  if (rule.require_host) d += rule.schemes.empty() ? " with a host" : " and a host";
  return d;
}

// Empty when `text` satisfies the URL rule, else why not (never quoting the URL).
std::string url_problem(const std::string& text, const UrlRule& rule) {
  const auto url = parse_url(text);
  if (!url) return "which is not a URL libcurl can parse (expected scheme://host/...)";
  if (!rule.schemes.empty() &&
      std::find(rule.schemes.begin(), rule.schemes.end(), url->scheme) == rule.schemes.end()) {
    return "whose scheme is " + url->scheme + ", not " + join(rule.schemes, " or ");
  }
  if (rule.require_host && url->host.empty()) return "which has no host";
  return {};
}

std::string count(std::size_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::vector<std::string> split(const std::string& text, const std::string& sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = text.find(sep, start);
    std::string item =
        text.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    out.push_back(first == std::string::npos ? "" : item.substr(first, last - first + 1));
    if (pos == std::string::npos) break;
    start = pos + sep.size();
  }
  return out;
}

}  // namespace

std::optional<bool> parse_boolean(std::string_view text) {
  // What Django settings parsers (django-environ, python-decouple) accept.
  static const std::set<std::string> kTrue{"true", "1", "yes", "on", "t", "y"};
  static const std::set<std::string> kFalse{"false", "0", "no", "off", "f", "n"};
  const auto t = lower(text);
  if (kTrue.count(t)) return true;
  if (kFalse.count(t)) return false;
  return std::nullopt;
}

std::optional<std::string> example_reason(std::string_view value) {
  // Values copied from documentation and templates, including the checklists' own tables.
  struct Known {
    const char* pattern;
    const char* why;
  };
  static const Known kKnown[] = {
      {R"(^AKIAIOSFODNN7EXAMPLE$)", "it is AWS's documentation example access key id"},
      {R"(^wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY$)",
       "it is AWS's documentation example secret key"},
      {R"(EXAMPLE)", "it contains EXAMPLE, the marker of documentation examples"},
      {R"(^SG\.x+$)", "it is the SendGrid placeholder SG.xxxx"},
      {R"(^(https?://)?x{3,}@)", "it is a placeholder DSN (xxx@...)"},
      {R"(^your[-_]?[A-Z]?[a-z])",
       "it starts with 'your', as template placeholders do (your-secret-key, YourSecurePassword)"},
      {R"(^(change[-_]?me|changeit|replace[-_]?me|todo|tbd|fixme|placeholder|secret|password|passw0rd|admin|test|example|default|dummy|xxx+|\*+)$)",
       "it is a well-known placeholder or default"},
      {R"(^<.*>$)", "it is a template placeholder in angle brackets"},
      {R"(^\$\{.*\}$)", "it is an unexpanded ${...} reference"},
  };
  const std::string v(value);
  for (const auto& k : kKnown) {
    if (std::regex_search(v, std::regex(k.pattern, std::regex::icase))) return std::string(k.why);
  }
  return std::nullopt;
}

EnvVarMatcher IsSet() {
  return make("is set and not empty", "is not set, or empty",
              [](const EnvVar& v, const std::string& value, MatchResultListener* l) {
                if (value.empty()) {
                  *l << "which is set but empty (in " << v.origin << ")";
                  return false;
                }
                *l << "which is set (in " << v.origin << ")";
                return true;
              });
}

EnvVarMatcher EqualsText(std::string expected) {
  return make("equals \"" + expected + "\"", "does not equal \"" + expected + "\"",
              [expected](const EnvVar&, const std::string& value, MatchResultListener*) {
                // gMock prints the value (or ***) as "Actual": saying it again adds nothing.
                return value == expected;
              });
}

EnvVarMatcher IsOneOf(std::vector<std::string> allowed) {
  const auto list = join(allowed);
  return make("is one of " + list, "is none of " + list,
              [allowed](const EnvVar&, const std::string& value, MatchResultListener*) {
                // gMock prints the value (or ***) as "Actual": saying it again adds nothing.
                return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
              });
}

EnvVarMatcher IsBoolean(std::string expected) {
  const std::string what = expected == "any" ? "a boolean" : "a boolean that is " + expected;
  return make("is " + what + " (true/false, 1/0, yes/no, on/off)", "is not " + what,
              [expected](const EnvVar& v, const std::string& value, MatchResultListener* l) {
                const auto b = parse_boolean(value);
                if (!b) {
                  *l << "which is " << shown(v, value) << ", not a boolean";
                  return false;
                }
                *l << "which is " << (*b ? "true" : "false");
                return expected == "any" || (*b ? "true" : "false") == expected;
              });
}

EnvVarMatcher IsIntegerIn(IntegerRule rule) {
  std::string range;
  if (rule.min) range += " at least " + std::to_string(*rule.min);
  if (rule.max)
    range += std::string(rule.min ? " and" : "") + " at most " + std::to_string(*rule.max);
  return make("is an integer" + range, "is not an integer" + range,
              [rule](const EnvVar& v, const std::string& value, MatchResultListener* l) {
                long long n = 0;
                const char* end = value.data() + value.size();
                const char* begin = value.data() + (value.starts_with('+') ? 1 : 0);
                auto [ptr, ec] = std::from_chars(begin, end, n);
                if (ec != std::errc{} || ptr != end || begin == end) {
                  *l << "which is " << shown(v, value)
                     << (ec == std::errc::result_out_of_range ? ", an integer out of range"
                                                              : ", not an integer");
                  return false;
                }
                *l << "which is " << (v.secret ? std::string("(withheld)") : std::to_string(n));
                return (!rule.min || n >= *rule.min) && (!rule.max || n <= *rule.max);
              });
}

EnvVarMatcher IsUrl(UrlRule rule) {
  const auto d = describe_url(rule);
  return make(d, "is not a URL as required",
              [rule](const EnvVar&, const std::string& value, MatchResultListener* l) {
                const auto problem = url_problem(value, rule);
                if (problem.empty()) {
                  *l << "which is such a URL";
                  return true;
                }
                *l << problem;
                return false;
              });
}

EnvVarMatcher IsListWhere(ListRule rule) {
  std::string d = "is a '" + rule.separator + "'-separated list";
  if (rule.min_items)
    d += " of at least " + count(static_cast<std::size_t>(*rule.min_items), "item");
  if (!rule.forbid.empty()) d += " without " + join(rule.forbid, " or ");
  if (rule.each && rule.each->url) d += ", each member " + describe_url(*rule.each->url);
  if (rule.each && rule.each->matches) d += ", each member matching /" + *rule.each->matches + "/";
  return make(
      d, "is not such a list",
      [rule](const EnvVar& v, const std::string& value, MatchResultListener* l) {
        const auto items = split(value, rule.separator);
        std::vector<std::string> problems;
        if (rule.min_items && static_cast<int>(items.size()) < *rule.min_items) {
          problems.push_back("it has " + count(items.size(), "item"));
        }
        for (std::size_t i = 0; i < items.size(); ++i) {
          const auto& item = items[i];
          const std::string which =
              "member " + std::to_string(i + 1) + (v.secret ? "" : " (\"" + item + "\")");
          if (item.empty()) problems.push_back(which + " is empty");
          if (std::find(rule.forbid.begin(), rule.forbid.end(), item) != rule.forbid.end()) {
            problems.push_back(which + " is forbidden");
          }
          if (rule.each && rule.each->url) {
            if (auto p = url_problem(item, *rule.each->url); !p.empty())
              problems.push_back(which + " " + p);
          }
          if (rule.each && rule.each->matches &&
              !std::regex_search(item, std::regex(*rule.each->matches))) {
            problems.push_back(which + " does not match /" + *rule.each->matches + "/");
          }
        }
        if (problems.empty()) {
          *l << "which has " << count(items.size(), "acceptable member");
          return true;
        }
        *l << "where " << join(problems, "; ");
        return false;
      });
}

EnvVarMatcher MatchesPattern(std::string pattern) {
  return make("matches /" + pattern + "/", "does not match /" + pattern + "/",
              [pattern](const EnvVar&, const std::string& value, MatchResultListener*) {
                // gMock prints the value (or ***) as "Actual": saying it again adds nothing.
                return std::regex_search(value, std::regex(pattern));
              });
}

EnvVarMatcher HasMinLength(int length) {
  return make("is at least " + std::to_string(length) + " characters long",
              "is shorter than " + std::to_string(length) + " characters",
              [length](const EnvVar&, const std::string& value, MatchResultListener* l) {
                *l << "which is " << value.size() << " characters long";
                return static_cast<int>(value.size()) >= length;
              });
}

EnvVarMatcher IsNotExample() {
  return make("is not a placeholder or documentation example",
              "is a placeholder or documentation example",
              [](const EnvVar&, const std::string& value, MatchResultListener* l) {
                if (auto why = example_reason(value)) {
                  *l << "which is a placeholder: " << *why << "; generate a real value";
                  return false;
                }
                *l << "which looks like a real value";
                return true;
              });
}

EnvVarMatcher IsStrongSecret(StrengthRule rule) {
  const std::string d =
      "is a strong secret (at least " + std::to_string(rule.min_length) + " characters, at least " +
      std::to_string(rule.min_unique) + " distinct characters" +
      (rule.forbid_prefixes.empty() ? "" : ", no prefix " + join(rule.forbid_prefixes, " or ")) +
      ")";
  return make(
      d, "is a weak secret",
      [rule](const EnvVar&, const std::string& value, MatchResultListener* l) {
        std::vector<std::string> problems;
        if (static_cast<int>(value.size()) < rule.min_length) {
          problems.push_back("it is " + std::to_string(value.size()) + " characters long");
        }
        const std::set<char> distinct(value.begin(), value.end());
        if (static_cast<int>(distinct.size()) < rule.min_unique) {
          problems.push_back("it has " + std::to_string(distinct.size()) + " distinct characters");
        }
        for (const auto& prefix : rule.forbid_prefixes) {
          if (value.rfind(prefix, 0) == 0)
            problems.push_back("it starts with '" + prefix + "' (a generated development key)");
        }
        if (problems.empty()) {
          *l << "which is " << value.size() << " characters with " << distinct.size()
             << " distinct";
          return true;
        }
        *l << "where " << join(problems, ", ")
           << "; generate a new one (e.g. python3 -c 'import secrets; "
              "print(secrets.token_urlsafe(64))')";
        return false;
      });
}

}  // namespace deploycheck
