#include "matchers/http_matchers.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string_view>

namespace deploycheck {
namespace {

using ::testing::MatchResultListener;

class HasStatusMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit HasStatusMatcher(long status) : status_(status) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    *l << "whose status is " << r.status;
    if (r.status != status_ && !r.body.empty()) {
      *l << " and whose body begins \"" << r.body.substr(0, 120) << "\"";
    }
    return r.status == status_;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "answers with HTTP status " << status_;
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not answer with HTTP status " << status_;
  }

 private:
  long status_;
};

class RespondsWithinMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit RespondsWithinMatcher(Duration bound) : bound_(bound) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const auto& t = r.timings;
    *l << "which took " << t.total << " ms (connect " << t.connect << ", TLS " << t.tls
       << ", first byte " << t.first_byte << ")";
    return t.total <= static_cast<double>(bound_.count());
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "responds within " << format_duration(bound_);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "takes longer than " << format_duration(bound_);
  }

 private:
  Duration bound_;
};

class BodyContainsMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit BodyContainsMatcher(std::string text) : text_(std::move(text)) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const bool found = r.body.find(text_) != std::string::npos;
    *l << "whose body" << (r.body_truncated ? " (truncated)" : "") << " is \""
       << r.body.substr(0, 200) << (r.body.size() > 200 ? "..." : "") << "\"";
    return found;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "has a body containing \"" << text_ << "\"";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has a body not containing \"" << text_ << "\"";
  }

 private:
  std::string text_;
};

class IsTrustedMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    if (r.tls_error) {
      *l << "whose certificate was rejected: " << *r.tls_error;
      return false;
    }
    *l << (r.url.rfind("https://", 0) == 0 ? "whose certificate verified" : "which is plain HTTP");
    return true;
  }
  void DescribeTo(std::ostream* os) const override { *os << "presents a trusted certificate"; }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "presents an untrusted certificate";
  }
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

// "a=1; Secure; SameSite=Lax" -> {"a=1", "secure", "samesite=lax"} (attributes lower-cased).
std::vector<std::string> split_directives(std::string_view text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = text.find(separator, start);
    const std::string part =
        trim(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (!part.empty()) out.push_back(part);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string quoted(const std::string& text, std::size_t max = 200) {
  return "\"" + text.substr(0, max) + (text.size() > max ? "..." : "") + "\"";
}

class HasHeaderMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  HasHeaderMatcher(std::string name, ::testing::Matcher<const std::string&> inner)
      : name_(lower(std::move(name))), inner_(std::move(inner)) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const auto value = r.header(name_);
    if (!value) {
      *l << "which has no " << name_ << " header";
      return false;
    }
    *l << "whose " << name_ << " header is " << quoted(*value);
    ::testing::StringMatchResultListener inner;
    const bool ok = inner_.MatchAndExplain(*value, &inner);
    if (!inner.str().empty()) *l << ", " << inner.str();
    return ok;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "has a " << name_ << " header that ";
    inner_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has no " << name_ << " header that ";
    inner_.DescribeTo(os);
  }

 private:
  std::string name_;
  ::testing::Matcher<const std::string&> inner_;
};

class LacksHeaderMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit LacksHeaderMatcher(std::string name) : name_(lower(std::move(name))) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const auto value = r.header(name_);
    if (value) {
      *l << "whose " << name_ << " header is " << quoted(*value);
      return false;
    }
    *l << "which has no " << name_ << " header";
    return true;
  }
  void DescribeTo(std::ostream* os) const override { *os << "has no " << name_ << " header"; }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has a " << name_ << " header";
  }

 private:
  std::string name_;
};

class JsonAtMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  JsonAtMatcher(std::string pointer, ::testing::Matcher<const nlohmann::json&> inner)
      : pointer_(std::move(pointer)), inner_(std::move(inner)) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const auto body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) {
      *l << "whose body" << (r.body_truncated ? " (truncated)" : "")
         << " is not JSON: " << quoted(r.body, 120);
      return false;
    }
    nlohmann::json::json_pointer pointer;
    try {
      pointer = nlohmann::json::json_pointer(pointer_);
    } catch (const nlohmann::json::exception& e) {
      *l << "but " << pointer_ << " is not a JSON pointer (" << e.what() << ")";
      return false;
    }
    if (!body.contains(pointer)) {
      *l << "whose body has nothing at " << pointer_ << ": " << quoted(body.dump(), 120);
      return false;
    }
    const nlohmann::json& value = body.at(pointer);
    *l << "whose " << pointer_ << " is " << value.dump();
    ::testing::StringMatchResultListener inner;
    const bool ok = inner_.MatchAndExplain(value, &inner);
    if (!inner.str().empty()) *l << ", " << inner.str();
    return ok;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "has JSON at " << pointer_ << " that ";
    inner_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has no JSON at " << pointer_ << " that ";
    inner_.DescribeTo(os);
  }

 private:
  std::string pointer_;
  ::testing::Matcher<const nlohmann::json&> inner_;
};

class JsonEqMatcher : public ::testing::MatcherInterface<const nlohmann::json&> {
 public:
  explicit JsonEqMatcher(nlohmann::json expected) : expected_(std::move(expected)) {}
  bool MatchAndExplain(const nlohmann::json& value, MatchResultListener*) const override {
    return value == expected_;
  }
  void DescribeTo(std::ostream* os) const override { *os << "is " << expected_.dump(); }
  void DescribeNegationTo(std::ostream* os) const override { *os << "is not " << expected_.dump(); }

 private:
  nlohmann::json expected_;
};

class SetsSecureCookieMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit SetsSecureCookieMatcher(std::string cookie) : cookie_(std::move(cookie)) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const auto [first, last] = r.headers.equal_range("set-cookie");
    bool any = false;
    bool ok = true;
    std::string details;
    for (auto it = first; it != last; ++it) {
      const auto parts = split_directives(it->second, ';');
      if (parts.empty()) continue;
      const std::string name = parts[0].substr(0, parts[0].find('='));
      if (!cookie_.empty() && name != cookie_) continue;
      any = true;
      bool secure = false, http_only = false;
      std::string same_site;
      for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string attribute = lower(parts[i]);
        if (attribute == "secure") secure = true;
        if (attribute == "httponly") http_only = true;
        if (attribute.rfind("samesite=", 0) == 0) same_site = attribute.substr(9);
      }
      std::vector<std::string> missing;
      if (!secure) missing.push_back("Secure");
      if (!http_only) missing.push_back("HttpOnly");
      if (same_site.empty())
        missing.push_back("SameSite");
      else if (same_site != "lax" && same_site != "strict" && !(same_site == "none" && secure))
        missing.push_back("a valid SameSite (is " + same_site + ")");
      details += details.empty() ? "" : "; ";
      details += name;
      if (missing.empty()) {
        details += " is Secure, HttpOnly, SameSite=" + same_site;
      } else {
        ok = false;
        details += " lacks";
        for (std::size_t i = 0; i < missing.size(); ++i) details += (i ? ", " : " ") + missing[i];
      }
    }
    if (!any) {
      *l << "which sets no cookie" << (cookie_.empty() ? "" : " named " + cookie_);
      return false;
    }
    *l << "whose cookie " << details;
    return ok;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "sets " << (cookie_.empty() ? "cookies" : "the cookie " + cookie_)
        << " with Secure, HttpOnly and SameSite";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "sets " << (cookie_.empty() ? "a cookie" : "the cookie " + cookie_)
        << " without Secure, HttpOnly or SameSite";
  }

 private:
  std::string cookie_;
};

class RequiresAuthenticationMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    *l << "whose status is " << r.status;
    if (r.status == 401 || r.status == 403) return true;
    if (r.status >= 200 && r.status < 300) {
      *l << ": it answered without credentials, body " << quoted(r.body, 120);
    }
    return false;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "refuses a request without credentials (401 or 403)";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "answers a request without credentials";
  }
};

class IsRateLimitedMatcher : public ::testing::MatcherInterface<const std::vector<HttpResponse>&> {
 public:
  explicit IsRateLimitedMatcher(std::size_t within) : within_(within) {}
  bool MatchAndExplain(const std::vector<HttpResponse>& burst,
                       MatchResultListener* l) const override {
    std::map<long, int> statuses;
    for (std::size_t i = 0; i < burst.size(); ++i) {
      const HttpResponse& r = burst[i];
      ++statuses[r.status];
      if (r.status != 429) continue;
      const auto retry = r.header("retry-after");
      *l << "whose request " << (i + 1) << " of " << burst.size() << " got 429";
      if (!retry) {
        *l << " without a Retry-After header";
        return false;
      }
      *l << " with Retry-After " << *retry;
      return i < within_;
    }
    *l << "whose " << burst.size() << " requests got";
    for (const auto& [status, count] : statuses) *l << " " << count << "× " << status;
    *l << " and never 429";
    return false;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "is rate limited (429 with Retry-After) within " << within_ << " requests";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is not rate limited within " << within_ << " requests";
  }

 private:
  std::size_t within_;
};

bool credentials_allowed(const HttpResponse& r) {
  const auto value = r.header("access-control-allow-credentials");
  return value && lower(*value) == "true";
}

class AllowsOriginMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit AllowsOriginMatcher(std::string origin) : origin_(std::move(origin)) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const auto allowed = r.header("access-control-allow-origin");
    if (!allowed) {
      *l << "whose status is " << r.status << " with no Access-Control-Allow-Origin";
      return false;
    }
    const bool credentials = credentials_allowed(r);
    *l << "whose Access-Control-Allow-Origin is " << *allowed
       << (credentials ? " with credentials" : "");
    if (*allowed == "*") {
      if (credentials) *l << ": `*` with credentials lets any site act as the user";
      return !credentials;
    }
    return *allowed == origin_;
  }
  void DescribeTo(std::ostream* os) const override { *os << "allows the origin " << origin_; }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not allow the origin " << origin_;
  }

 private:
  std::string origin_;
};

class RejectsOriginMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit RejectsOriginMatcher(std::string origin) : origin_(std::move(origin)) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const auto allowed = r.header("access-control-allow-origin");
    if (!allowed) {
      *l << "which sends no Access-Control-Allow-Origin";
      return true;
    }
    *l << "whose Access-Control-Allow-Origin is " << *allowed
       << (credentials_allowed(r) ? " with credentials" : "");
    return *allowed != "*" && *allowed != origin_;
  }
  void DescribeTo(std::ostream* os) const override { *os << "refuses the origin " << origin_; }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "lets the origin " << origin_ << " in";
  }

 private:
  std::string origin_;
};

// Cache-Control, parsed: the lifetime a shared cache may keep the response, and the flags.
struct CacheControl {
  std::optional<long long> max_age;  // s-maxage wins over max-age (shared caches: the CDN)
  bool no_store = false, no_cache = false, is_private = false, immutable = false;
};

CacheControl parse_cache_control(const std::string& value) {
  CacheControl cc;
  std::optional<long long> max_age, s_maxage;
  for (const auto& directive : split_directives(value, ',')) {
    const std::string d = lower(directive);
    if (d == "no-store") cc.no_store = true;
    if (d == "no-cache") cc.no_cache = true;
    if (d == "private") cc.is_private = true;
    if (d == "immutable") cc.immutable = true;
    if (d.rfind("max-age=", 0) == 0) max_age = std::atoll(d.c_str() + 8);
    if (d.rfind("s-maxage=", 0) == 0) s_maxage = std::atoll(d.c_str() + 9);
  }
  cc.max_age = s_maxage ? s_maxage : max_age;
  return cc;
}

class CacheControlMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  CacheControlMatcher(std::chrono::seconds bound, bool at_least, bool immutable)
      : bound_(bound), at_least_(at_least), immutable_(immutable) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const auto value = r.header("cache-control");
    if (!value) {
      *l << "which has no Cache-Control header";
      return false;  // either way: without the header, each cache decides
    }
    *l << "whose Cache-Control is " << quoted(*value);
    const CacheControl cc = parse_cache_control(*value);
    if (!at_least_)
      return cc.no_store || cc.no_cache || (cc.max_age && *cc.max_age <= bound_.count());
    if (cc.no_store || cc.no_cache || cc.is_private) return false;
    if (!cc.max_age || *cc.max_age < bound_.count()) return false;
    if (immutable_ && !cc.immutable) {
      *l << " (not immutable)";
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const override {
    if (at_least_) {
      *os << "may be cached for at least " << format_duration(bound_)
          << (immutable_ ? " and is immutable" : "");
    } else {
      *os << "is cached for at most " << format_duration(bound_);
    }
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << (at_least_ ? "may not be cached for " : "may be cached for longer than ")
        << format_duration(bound_);
  }

 private:
  std::chrono::seconds bound_;
  bool at_least_;
  bool immutable_;
};

class BodyMatchesFileMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit BodyMatchesFileMatcher(std::string sha256) : sha256_(lower(std::move(sha256))) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    if (!r.body_sha256) {
      *l << "whose body was not hashed (the request did not ask for SHA-256)";
      return false;
    }
    *l << "whose body (" << r.body_size << " bytes) has SHA-256 " << *r.body_sha256;
    return *r.body_sha256 == sha256_;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "serves the local file's bytes (SHA-256 " << sha256_ << ")";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "serves other bytes than the local file (SHA-256 " << sha256_ << ")";
  }

 private:
  std::string sha256_;
};

class HasBodySizeMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit HasBodySizeMatcher(std::uint64_t size) : size_(size) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    *l << "whose body is " << r.body_size << " bytes";
    if (const auto encoding = r.header("content-encoding")) *l << " (" << *encoding << ")";
    return r.body_size == size_;
  }
  void DescribeTo(std::ostream* os) const override { *os << "has a body of " << size_ << " bytes"; }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has a body other than " << size_ << " bytes";
  }

 private:
  std::uint64_t size_;
};

}  // namespace

HttpMatcher HasStatus(long status) {
  return HttpMatcher(new HasStatusMatcher(status));
}
HttpMatcher RespondsWithin(Duration bound) {
  return HttpMatcher(new RespondsWithinMatcher(bound));
}
HttpMatcher BodyContains(std::string text) {
  return HttpMatcher(new BodyContainsMatcher(std::move(text)));
}
HttpMatcher IsTrusted() {
  return HttpMatcher(new IsTrustedMatcher());
}

HttpMatcher HasHeader(std::string name, ::testing::Matcher<const std::string&> inner) {
  return HttpMatcher(new HasHeaderMatcher(std::move(name), std::move(inner)));
}
HttpMatcher LacksHeader(std::string name) {
  return HttpMatcher(new LacksHeaderMatcher(std::move(name)));
}
HttpMatcher JsonAt(std::string pointer, ::testing::Matcher<const nlohmann::json&> inner) {
  return HttpMatcher(new JsonAtMatcher(std::move(pointer), std::move(inner)));
}
::testing::Matcher<const nlohmann::json&> JsonEq(nlohmann::json expected) {
  return ::testing::Matcher<const nlohmann::json&>(new JsonEqMatcher(std::move(expected)));
}
HttpMatcher SetsSecureCookie(std::string cookie) {
  return HttpMatcher(new SetsSecureCookieMatcher(std::move(cookie)));
}
HttpMatcher RequiresAuthentication() {
  return HttpMatcher(new RequiresAuthenticationMatcher());
}
HttpBurstMatcher IsRateLimited(std::size_t within) {
  return HttpBurstMatcher(new IsRateLimitedMatcher(within));
}
HttpMatcher AllowsOrigin(std::string origin) {
  return HttpMatcher(new AllowsOriginMatcher(std::move(origin)));
}
HttpMatcher RejectsOrigin(std::string origin) {
  return HttpMatcher(new RejectsOriginMatcher(std::move(origin)));
}
HttpMatcher CacheControlAtLeast(std::chrono::seconds max_age, bool immutable) {
  return HttpMatcher(new CacheControlMatcher(max_age, true, immutable));
}
HttpMatcher CacheControlAtMost(std::chrono::seconds max_age) {
  return HttpMatcher(new CacheControlMatcher(max_age, false, false));
}
HttpMatcher BodyMatchesFile(std::string sha256) {
  return HttpMatcher(new BodyMatchesFileMatcher(std::move(sha256)));
}
HttpMatcher HasBodySize(std::uint64_t size) {
  return HttpMatcher(new HasBodySizeMatcher(size));
}

}  // namespace deploycheck
