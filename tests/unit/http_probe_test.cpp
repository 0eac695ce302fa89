// probes/http against the sandbox's real nginx (its own, in a private state dir): many requests on
// few connections, redirects hop by hop, name pins, body caps and hashes, per-request deadlines.
#include "probes/http/http_probe.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "probes/policy.hpp"

#ifndef DEPLOYCHECK_SANDBOXCTL
#define DEPLOYCHECK_SANDBOXCTL "deploycheck-sandboxctl"
#endif

namespace deploycheck {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace fs = std::filesystem;

int run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

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
    if (!fs::exists(DEPLOYCHECK_SANDBOXCTL)) {
      skip_reason_ = std::string(DEPLOYCHECK_SANDBOXCTL) + " is not built";
      return;
    }
    char dir[] = "/tmp/http-probe-test.XXXXXX";
    state_dir_ = mkdtemp(dir);
    const int rc = run({DEPLOYCHECK_SANDBOXCTL, "up", "--state-dir", state_dir_, "--watch-pid",
                        std::to_string(getpid()), "ca", "nginx"});
    if (rc != 0) {
      skip_reason_ = "deploycheck-sandboxctl up failed with status " + std::to_string(rc);
      return;
    }
    std::ifstream in(state_dir_ + "/sandbox.env");
    for (std::string line; std::getline(in, line);) {
      const auto eq = line.find('=');
      if (eq != std::string::npos) env_[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  static void TearDownTestSuite() {
    if (state_dir_.empty()) return;
    run({DEPLOYCHECK_SANDBOXCTL, "down", "--state-dir", state_dir_});
    std::error_code ignored;
    fs::remove_all(state_dir_, ignored);
  }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_TRUE(env_.count("SANDBOX_NGINX_HTTPS_PORT")) << "no port in sandbox.env";
  }

  static std::string https(const std::string& path) {
    return "https://localhost:" + env_.at("SANDBOX_NGINX_HTTPS_PORT") + path;
  }
  static HttpRequest get(const std::string& url) {
    return HttpRequest{.url = url, .ca_file = env_.at("SANDBOX_CA_FILE")};
  }

  static inline std::string skip_reason_;
  static inline std::string state_dir_;
  static inline std::map<std::string, std::string> env_;
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
  HttpRequest r = get("http://localhost:" + env_.at("SANDBOX_NGINX_HTTP_PORT") + "/probe/hop");
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
  const std::string port = env_.at("SANDBOX_NGINX_HTTPS_PORT");
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
