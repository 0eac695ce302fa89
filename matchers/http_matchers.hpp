#pragma once
// gMock matchers over HttpResponse facts.
//
//   EXPECT_THAT(response, HasStatus(200));
//   EXPECT_THAT(response, RespondsWithin(500ms));
//   EXPECT_THAT(response, HasHeader("x-frame-options", Eq("DENY")));
//   EXPECT_THAT(response, JsonAt("/status", JsonEq("ok")));
//
// RedirectsToHttps lives with the TLS matchers (matchers/tls_matchers.hpp): both suites use it.
#include <gmock/gmock.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fixtures/units.hpp"
#include "probes/http/http_probe.hpp"

namespace deploycheck {

inline void PrintTo(const HttpResponse& r, std::ostream* os) {
  *os << "HTTP " << r.status << " from " << r.method << " " << r.url << " in " << r.timings.total
      << " ms";
  if (r.tls_error) *os << " (TLS not trusted: " << *r.tls_error << ")";
}

using HttpMatcher = ::testing::Matcher<const HttpResponse&>;
using HttpBurstMatcher = ::testing::Matcher<const std::vector<HttpResponse>&>;

HttpMatcher HasStatus(long status);
HttpMatcher RespondsWithin(Duration bound);
HttpMatcher BodyContains(std::string text);
HttpMatcher IsTrusted();  // the server's certificate verified against the configured CA

// The header `name` (any case) is present and its first value satisfies `inner`.
HttpMatcher HasHeader(std::string name, ::testing::Matcher<const std::string&> inner =
                                            ::testing::A<const std::string&>());
// The header `name` is absent (e.g. a Server header naming its version is judged with inner).
HttpMatcher LacksHeader(std::string name);

// The body parses as JSON and the value at the JSON pointer (RFC 6901) satisfies `inner`.
HttpMatcher JsonAt(std::string pointer, ::testing::Matcher<const nlohmann::json&> inner);
// Equality with a JSON value, printed as JSON: JsonAt("/status", JsonEq("ok")).
::testing::Matcher<const nlohmann::json&> JsonEq(nlohmann::json expected);

// Every Set-Cookie (or the one named `cookie`) carries Secure, HttpOnly and SameSite
// (Lax or Strict; None only with Secure). At least one cookie must be set.
HttpMatcher SetsSecureCookie(std::string cookie = "");

// Asked without credentials, the endpoint refuses: 401 or 403.
HttpMatcher RequiresAuthentication();

// A burst of requests met a 429 carrying Retry-After within its first `within` requests.
HttpBurstMatcher IsRateLimited(std::size_t within);

// A CORS response (preflight or actual) lets `origin` in: Access-Control-Allow-Origin is that
// origin (or `*` without credentials); never `*` together with Allow-Credentials: true.
HttpMatcher AllowsOrigin(std::string origin);
// It does not: no Access-Control-Allow-Origin naming `origin`, and no `*`.
HttpMatcher RejectsOrigin(std::string origin);

// Cache-Control lets caches keep the response at least `max_age` (max-age or s-maxage; no
// no-store, no-cache or private). `immutable` also required when asked for.
HttpMatcher CacheControlAtLeast(std::chrono::seconds max_age, bool immutable = false);
// A short lifetime for unhashed names: no-cache/no-store, or max-age at most `max_age`.
HttpMatcher CacheControlAtMost(std::chrono::seconds max_age);

// The SHA-256 of the whole body (HttpRequest::sha256) equals `sha256` (hex, any case).
HttpMatcher BodyMatchesFile(std::string sha256);
// The body (every byte received) is exactly `size` bytes.
HttpMatcher HasBodySize(std::uint64_t size);

}  // namespace deploycheck
