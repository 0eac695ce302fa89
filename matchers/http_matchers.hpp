#pragma once
// gMock matchers over HttpResponse facts.
//
//   EXPECT_THAT(response, HasStatus(200));
//   EXPECT_THAT(response, RespondsWithin(500ms));
#include <gmock/gmock.h>

#include <string>

#include "fixtures/units.hpp"
#include "probes/http/http_probe.hpp"

namespace deploycheck {

inline void PrintTo(const HttpResponse& r, std::ostream* os) {
  *os << "HTTP " << r.status << " from " << r.url << " in " << r.timings.total << " ms";
  if (r.tls_error) *os << " (TLS not trusted: " << *r.tls_error << ")";
}

using HttpMatcher = ::testing::Matcher<const HttpResponse&>;

HttpMatcher HasStatus(long status);
HttpMatcher RespondsWithin(Duration bound);
HttpMatcher BodyContains(std::string text);
HttpMatcher IsTrusted();  // the server's certificate verified against the configured CA

}  // namespace deploycheck
