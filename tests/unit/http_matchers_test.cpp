// The HTTP matchers on hand-made responses: what they accept, what they refuse, and what they
// say. (Against the real sandbox: the Smoke and StaticAssets suites and their self-tests.)
#include "matchers/http_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/matcher_testing.hpp"

namespace deploycheck {
namespace {

using deploycheck::testing::describe;
using deploycheck::testing::judge;
using deploycheck::testing::Verdict;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

HttpResponse response(long status, std::multimap<std::string, std::string> headers = {},
                      std::string body = "") {
  HttpResponse r;
  r.url = "https://api.example.com/x";
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  r.body_size = r.body.size();
  return r;
}

TEST(HasHeader, JudgesTheFirstValueWithItsInnerMatcher) {
  const auto r = response(200, {{"x-frame-options", "DENY"}});
  EXPECT_EQ(judge(HasHeader("X-Frame-Options", ::testing::Eq("DENY")), r),
            (Verdict{true, "whose x-frame-options header is \"DENY\""}));
  EXPECT_EQ(judge(HasHeader("x-frame-options", ::testing::Eq("SAMEORIGIN")), r),
            (Verdict{false, "whose x-frame-options header is \"DENY\""}));
  EXPECT_EQ(judge(HasHeader("content-security-policy"), r),
            (Verdict{false, "which has no content-security-policy header"}));
  EXPECT_EQ(describe(HasHeader("x-a", ::testing::Eq(std::string("b")))),
            "has a x-a header that is equal to \"b\"");
}

TEST(LacksHeader, PassesOnlyWithoutTheHeader) {
  EXPECT_TRUE(judge(LacksHeader("x-powered-by"), response(200)).matched);
  EXPECT_EQ(judge(LacksHeader("x-powered-by"), response(200, {{"x-powered-by", "PHP/8"}})),
            (Verdict{false, "whose x-powered-by header is \"PHP/8\""}));
}

TEST(JsonAt, FollowsAJsonPointer) {
  const auto r = response(200, {}, R"({"status":"ok","user":{"id":7}})");
  EXPECT_EQ(judge(JsonAt("/status", JsonEq("ok")), r), (Verdict{true, "whose /status is \"ok\""}));
  EXPECT_TRUE(judge(JsonAt("/user/id", JsonEq(7)), r).matched);
  EXPECT_EQ(judge(JsonAt("/status", JsonEq("down")), r),
            (Verdict{false, "whose /status is \"ok\""}));
  EXPECT_THAT(judge(JsonAt("/missing", JsonEq(1)), r).explanation,
              HasSubstr("whose body has nothing at /missing"));
  EXPECT_THAT(
      judge(JsonAt("/status", JsonEq("ok")), response(502, {}, "<html>Bad gateway")).explanation,
      HasSubstr("is not JSON: \"<html>Bad gateway\""));
  EXPECT_EQ(describe(JsonAt("/status", JsonEq("ok"))), "has JSON at /status that is \"ok\"");
}

TEST(SetsSecureCookie, NamesTheMissingAttributes) {
  const auto good =
      response(200, {{"set-cookie", "sessionid=abc; Path=/; Secure; HttpOnly; SameSite=Lax"}});
  EXPECT_EQ(judge(SetsSecureCookie(), good),
            (Verdict{true, "whose cookie sessionid is Secure, HttpOnly, SameSite=lax"}));
  const auto bad = response(200, {{"set-cookie", "sessionid=abc; Path=/"}});
  EXPECT_EQ(judge(SetsSecureCookie(), bad),
            (Verdict{false, "whose cookie sessionid lacks Secure, HttpOnly, SameSite"}));
  const auto none_insecure = response(200, {{"set-cookie", "a=1; HttpOnly; SameSite=None"}});
  EXPECT_THAT(judge(SetsSecureCookie(), none_insecure).explanation,
              HasSubstr("lacks Secure, a valid SameSite (is none)"));
  EXPECT_EQ(judge(SetsSecureCookie("csrftoken"), good),
            (Verdict{false, "which sets no cookie named csrftoken"}));
}

TEST(RequiresAuthentication, AcceptsOnly401And403) {
  EXPECT_TRUE(judge(RequiresAuthentication(), response(401)).matched);
  EXPECT_TRUE(judge(RequiresAuthentication(), response(403)).matched);
  EXPECT_EQ(judge(RequiresAuthentication(), response(200, {}, R"({"email":"a@b"})")),
            (Verdict{false,
                     "whose status is 200: it answered without credentials, body "
                     "\"{\"email\":\"a@b\"}\""}));
}

TEST(IsRateLimited, NeedsA429WithRetryAfterInTime) {
  std::vector<HttpResponse> burst(3, response(200));
  burst.push_back(response(429, {{"retry-after", "1"}}));
  EXPECT_EQ(judge(IsRateLimited(10), burst),
            (Verdict{true, "whose request 4 of 4 got 429 with Retry-After 1"}));
  EXPECT_FALSE(judge(IsRateLimited(3), burst).matched);
  burst.back() = response(429);
  EXPECT_EQ(judge(IsRateLimited(10), burst),
            (Verdict{false, "whose request 4 of 4 got 429 without a Retry-After header"}));
  const std::vector<HttpResponse> never(5, response(200));
  EXPECT_EQ(judge(IsRateLimited(10), never),
            (Verdict{false, "whose 5 requests got 5× 200 and never 429"}));
}

TEST(Cors, AllowsOnlyTheOriginAndNeverStarWithCredentials) {
  const std::string origin = "https://app.example.com";
  const auto exact = response(
      200, {{"access-control-allow-origin", origin}, {"access-control-allow-credentials", "true"}});
  EXPECT_TRUE(judge(AllowsOrigin(origin), exact).matched);
  EXPECT_FALSE(judge(RejectsOrigin(origin), exact).matched);
  EXPECT_TRUE(judge(RejectsOrigin("https://evil.example"), exact).matched);
  const auto star_credentials = response(
      200, {{"access-control-allow-origin", "*"}, {"access-control-allow-credentials", "true"}});
  EXPECT_THAT(judge(AllowsOrigin(origin), star_credentials),
              (Verdict{false,
                       "whose Access-Control-Allow-Origin is * with credentials: `*` with "
                       "credentials lets any site act as the user"}));
  EXPECT_FALSE(judge(RejectsOrigin("https://evil.example"), star_credentials).matched);
  EXPECT_EQ(judge(RejectsOrigin(origin), response(204)),
            (Verdict{true, "which sends no Access-Control-Allow-Origin"}));
  EXPECT_EQ(judge(AllowsOrigin(origin), response(204)),
            (Verdict{false, "whose status is 204 with no Access-Control-Allow-Origin"}));
}

TEST(CacheControl, LongForHashedShortForUnhashed) {
  const auto year = response(200, {{"cache-control", "public, max-age=31536000, immutable"}});
  EXPECT_TRUE(judge(CacheControlAtLeast(std::chrono::days(30), true), year).matched);
  EXPECT_FALSE(judge(CacheControlAtMost(std::chrono::hours(1)), year).matched);
  const auto no_cache = response(200, {{"cache-control", "no-cache"}});
  EXPECT_EQ(judge(CacheControlAtLeast(std::chrono::days(30)), no_cache),
            (Verdict{false, "whose Cache-Control is \"no-cache\""}));
  EXPECT_TRUE(judge(CacheControlAtMost(std::chrono::hours(1)), no_cache).matched);
  const auto not_immutable = response(200, {{"cache-control", "max-age=31536000"}});
  EXPECT_EQ(judge(CacheControlAtLeast(std::chrono::days(30), true), not_immutable),
            (Verdict{false, "whose Cache-Control is \"max-age=31536000\" (not immutable)"}));
  EXPECT_EQ(judge(CacheControlAtLeast(std::chrono::days(30)), response(200)),
            (Verdict{false, "which has no Cache-Control header"}));
  EXPECT_EQ(describe(CacheControlAtLeast(std::chrono::days(30), true)),
            "may be cached for at least 30d and is immutable");
}

TEST(BodyMatchesFile, ComparesTheWholeBodysHash) {
  auto r = response(200, {}, "abc");
  EXPECT_THAT(judge(BodyMatchesFile("00"), r).explanation, HasSubstr("was not hashed"));
  r.body_sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_TRUE(
      judge(BodyMatchesFile("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"), r)
          .matched);
  EXPECT_EQ(judge(BodyMatchesFile("00ff"), r),
            (Verdict{false,
                     "whose body (3 bytes) has SHA-256 "
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}));
  EXPECT_TRUE(judge(HasBodySize(3), r).matched);
  EXPECT_EQ(judge(HasBodySize(4), r), (Verdict{false, "whose body is 3 bytes"}));
}

TEST(HttpResponseJson, RoundTripsEveryFact) {
  auto r = response(302, {{"location", "/next"}}, "x");
  r.method = "POST";
  r.hops = {{"http://a/", 301, "https://a/"}};
  r.final_url = "https://a/";
  r.body_sha256 = "ab";
  r.body_size = 10;
  r.body_truncated = true;
  const auto back = http_response_from_json(to_json(r));
  EXPECT_EQ(to_json(back), to_json(r));
  EXPECT_EQ(back.hops.at(0).location, "https://a/");
}

}  // namespace
}  // namespace deploycheck
