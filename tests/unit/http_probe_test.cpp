// probes/http against the sandbox's real nginx (its own, in a private state dir): many requests on
// few connections, redirects hop by hop, name pins, body caps and hashes, per-request deadlines.
#include "probes/http/http_probe.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "probes/policy.hpp"
#include "tests/unit/sandbox_services.hpp"


namespace deploycheck {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace fs = std::filesystem;

std::string sha256_hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string out;
  char buf[3];
  for (unsigned char c : digest) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

class HttpProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sandbox_ = std::make_unique<testing::SandboxServices>(std::vector<std::string>{"ca", "nginx"});
  }
  static void TearDownTestSuite() { sandbox_.reset(); }
  void SetUp() override {
    if (!sandbox_->skip_reason().empty()) GTEST_SKIP() << sandbox_->skip_reason();
    ASSERT_FALSE(env("SANDBOX_NGINX_HTTPS_PORT").empty()) << "no port in sandbox.env";
  }

  static std::string env(const std::string& key) { return sandbox_->env(key); }

  static std::string https(const std::string& path) {
    return "https://localhost:" + env("SANDBOX_NGINX_HTTPS_PORT") + path;
  }
  static HttpRequest get(const std::string& url) {
    return HttpRequest{.url = url, .ca_file = env("SANDBOX_CA_FILE")};
  }

  static inline std::unique_ptr<testing::SandboxServices> sandbox_;
};

TEST_F(HttpProbeTest, ManyRequestsShareFewConnections) {
  std::vector<HttpRequest> requests;
  for (int i = 0; i < 200; ++i) requests.push_back(get(https("/probe/many-" + std::to_string(i))));
  const auto outcomes = fetch_many(requests, 5s, {.max_host_connections = 2});
  ASSERT_EQ(outcomes.size(), requests.size());
  int connected = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    ASSERT_TRUE(outcomes[i].response) << outcomes[i].error;
    EXPECT_EQ(outcomes[i].response->status, 200);
    EXPECT_EQ(outcomes[i].response->url, requests[i].url);  // results keep the requests' order
    if (outcomes[i].response->timings.connect > 0) ++connected;
  }
  // A reused connection reports no connect time: at most the two allowed were opened.
  EXPECT_LE(connected, 2);
}

TEST_F(HttpProbeTest, FollowsRedirectsRecordingEachHop) {
  HttpRequest r = get("http://localhost:" + env("SANDBOX_NGINX_HTTP_PORT") + "/probe/hop");
  r.follow_redirects = true;
  const auto response = fetch(r, 5s);
  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(response.hops.size(), 1u);
  EXPECT_EQ(response.hops[0].status, 301);
  EXPECT_EQ(response.hops[0].url, r.url);
  EXPECT_EQ(response.hops[0].location, https("/probe/hop"));
  EXPECT_EQ(response.final_url, https("/probe/hop"));

  r.follow_redirects = false;
  const auto first = fetch(r, 5s);
  EXPECT_EQ(first.status, 301);
  EXPECT_TRUE(first.hops.empty());
  EXPECT_EQ(first.header("location"), https("/probe/hop"));
}

TEST_F(HttpProbeTest, PinsANameToAnAddressLikeCurlResolve) {
  const std::string port = env("SANDBOX_NGINX_HTTPS_PORT");
  HttpRequest r{.url = "https://blue.deploycheck.invalid:" + port + "/probe/pinned",
                .verify = false};
  EXPECT_THROW(fetch(r, 2s), Unreachable);  // .invalid never resolves
  r.resolve = {"blue.deploycheck.invalid:" + port + ":127.0.0.1"};
  EXPECT_EQ(fetch(r, 5s).status, 200);
}

TEST_F(HttpProbeTest, CapsTheBodyButCountsAndHashesAllOfIt) {
  auto whole = fetch(get(https("/")), 5s);
  ASSERT_GT(whole.body.size(), 50u);
  HttpRequest r = get(https("/"));
  r.max_body = 10;
  r.sha256 = true;
  const auto capped = fetch(r, 5s);
  EXPECT_EQ(capped.body, whole.body.substr(0, 10));
  EXPECT_TRUE(capped.body_truncated);
  EXPECT_EQ(capped.body_size, whole.body.size());
  EXPECT_EQ(capped.body_sha256, sha256_hex(whole.body));
}

TEST_F(HttpProbeTest, SendsMethodHeadersAndBody) {
  HttpRequest r = get(https("/probe/post"));
  r.method = "POST";
  r.headers = {{"Content-Type", "application/json"}};
  r.body = R"({"a":1})";
  const auto response = fetch(r, 5s);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.method, "POST");
  HttpRequest head = get(https("/"));
  head.method = "HEAD";
  const auto headed = fetch(head, 5s);
  EXPECT_EQ(headed.status, 200);
  EXPECT_TRUE(headed.body.empty());
}

TEST_F(HttpProbeTest, EachRequestHasItsOwnDeadline) {
  if (!fs::exists("/usr/lib/nginx/modules/ngx_http_echo_module.so")) {
    GTEST_SKIP() << "/slow needs libnginx-mod-http-echo";
  }
  const auto start = std::chrono::steady_clock::now();
  const auto outcomes = fetch_many({get(https("/slow")), get(https("/probe/fast"))}, 500ms);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(outcomes[0].response);  // sleeps 3 s: 6x over the deadline
  EXPECT_THAT(outcomes[0].error, HasSubstr("timed out"));
  ASSERT_TRUE(outcomes[1].response) << outcomes[1].error;
  EXPECT_EQ(outcomes[1].response->status, 200);
  EXPECT_LT(took, 2500ms);
}

}  // namespace
}  // namespace deploycheck

namespace deploycheck {
namespace {

// A session keeps its connection: the second request makes no TCP connect and no TLS handshake
// (libcurl reports both phases as 0 on a reused connection); two plain fetch() calls make two.
TEST_F(HttpProbeTest, ASessionReusesItsConnectionPlainFetchDoesNot) {
  HttpSession session;
  const HttpResponse first = session.fetch(get(https("/probe/session-1")), 5s);
  const HttpResponse second = session.fetch(get(https("/probe/session-2")), 5s);
  EXPECT_GT(first.timings.tls, 0.0);
  EXPECT_EQ(second.timings.connect, 0.0);
  EXPECT_EQ(second.timings.tls, 0.0);

  const HttpResponse alone = fetch(get(https("/probe/alone-1")), 5s);
  const HttpResponse again = fetch(get(https("/probe/alone-2")), 5s);
  EXPECT_GT(again.timings.connect, 0.0);
  EXPECT_GT(again.timings.tls, 0.0);
  (void)alone;
}

}  // namespace
}  // namespace deploycheck
