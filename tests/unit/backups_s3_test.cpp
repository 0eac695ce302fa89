// The S3 client's signing, proven against a reference signer. s3rver (the sandbox's S3 server)
// checks only that the access key id exists, so a round trip through it proves nothing about the
// signature: here the client sends real requests to a loopback listener that records them, and
// botocore (Debian's python3-botocore, tests/data/backups/botocore_sign.py) computes the
// Authorization header for the same request at the same X-Amz-Date. Both must agree exactly.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "probes/backups/run.hpp"
#include "probes/backups/s3.hpp"

namespace deploycheck {
namespace {

namespace fs = std::filesystem;
using backups::canonical_query;
using backups::uri_encode;
using namespace std::chrono_literals;

const fs::path kSigner = fs::path(DEPLOYCHECK_TEST_DATA) / "backups" / "botocore_sign.py";
const fs::path kDebianPython = "/usr/bin/python3";

TEST(S3Signing, EncodesLikeSigV4) {
  EXPECT_EQ(uri_encode("a b/c~d_e.f-g+h=*", false), "a%20b%2Fc~d_e.f-g%2Bh%3D%2A");
  EXPECT_EQ(uri_encode("nightly/db 1.dump", true), "nightly/db%201.dump");
  EXPECT_EQ(uri_encode("\xc3\xa9", false), "%C3%A9");
}

TEST(S3Signing, BuildsTheCanonicalQueryStringSortedWithEmptyValues) {
  EXPECT_EQ(canonical_query({{"prefix", "a/b c"}, {"list-type", "2"}, {"continuation-token", ""}}),
            "continuation-token=&list-type=2&prefix=a%2Fb%20c");
  EXPECT_EQ(canonical_query({}), "");
}

// Accepts one connection, records the request head, answers 200 with an empty body.
class RecordingServer {
 public:
  RecordingServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      char buffer[8192];
      while (request_.find("\r\n\r\n") == std::string::npos) {
        const auto n = ::read(client, buffer, sizeof buffer);
        if (n <= 0) break;
        request_.append(buffer, static_cast<std::size_t>(n));
      }
      const std::string answer =
          "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!::write(client, answer.data(), answer.size());
      ::close(client);
    });
  }
  ~RecordingServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

std::string header(const std::vector<std::string>& lines, const std::string& name) {
  for (const auto& line : lines) {
    if (line.size() > name.size() &&
        strncasecmp(line.c_str(), (name + ":").c_str(), name.size() + 1) == 0) {
      return line.substr(line.find_first_not_of(' ', name.size() + 1));
    }
  }
  return "";
}

// What botocore signs for the request the client sent (its request line and headers).
std::string botocore_authorization(const backups::S3Location& l, const backups::S3Response& sent,
                                   const std::vector<std::string>& extra_signed) {
  const auto& request_line = sent.sent_headers.at(0);  // "GET /bucket/key?query HTTP/1.1"
  const auto method = request_line.substr(0, request_line.find(' '));
  const auto target =
      request_line.substr(method.size() + 1, request_line.rfind(' ') - method.size() - 1);
  nlohmann::json headers{
      {"X-Amz-Date", header(sent.sent_headers, "X-Amz-Date")},
      {"x-amz-content-sha256", header(sent.sent_headers, "x-amz-content-sha256")}};
  for (const auto& name : extra_signed) headers[name] = header(sent.sent_headers, name);
  const nlohmann::json spec{{"method", method},
                            {"url", l.endpoint + target},
                            {"region", l.region},
                            {"access_key_id", l.access_key_id.reveal()},
                            {"secret_access_key", l.secret_access_key.reveal()},
                            {"headers", headers}};
  backups::TempDir dir;
  const auto input = dir.path() / "request.json";  // the key in a file, not a command line
  std::ofstream(input) << spec.dump();
  const auto result = backups::run_bounded(kDebianPython, {kSigner.string(), input.string()}, 30s);
  EXPECT_TRUE(result.ok()) << result.describe(30s) << "\n" << result.err;
  auto out = result.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

class S3SigningAgainstBotocore : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kDebianPython.c_str(), X_OK) != 0 ||
        !backups::run_bounded(kDebianPython, {"-c", "import botocore"}, 30s).ok()) {
      GTEST_SKIP()
          << "Debian's python3-botocore is not installed (apt-get install python3-botocore; "
             "scripts/setup-debian does it): the reference signer is unavailable";
    }
  }
  backups::S3Location location(int port) const {
    // AWS's documentation example credentials: not a secret.
    return backups::S3Location{
        .endpoint = "http://127.0.0.1:" + std::to_string(port),
        .bucket = "deploycheck-backups",
        .prefix = "nightly/",
        .region = "eu-west-1",
        .access_key_id = Secret("AKIAIOSFODNN7EXAMPLE"),
        .secret_access_key = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")};
  }
};

TEST_F(S3SigningAgainstBotocore, ListObjectsV2WithAnEmptyContinuationTokenAndAnEncodedPrefix) {
  RecordingServer server;
  const auto l = location(server.port());
  const auto sent = backups::s3_request(
      l, {.query = {{"prefix", "nightly/db 2026"}, {"list-type", "2"}, {"continuation-token", ""}}},
      10s);
  EXPECT_EQ(sent.status, 200);
  const auto authorization = header(sent.sent_headers, "Authorization");
  EXPECT_THAT(authorization,
              ::testing::StartsWith("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"));
  EXPECT_EQ(authorization, botocore_authorization(l, sent, {}));
}

TEST_F(S3SigningAgainstBotocore, ARangedGetOfAKeyWithSpacesSignsItsRangeHeader) {
  RecordingServer server;
  const auto l = location(server.port());
  const auto sent = backups::s3_request(
      l, {.key = "nightly/db 2026-11-24.dump", .headers = {"Range: bytes=0-31"}}, 10s);
  EXPECT_EQ(sent.status, 200);
  EXPECT_EQ(header(sent.sent_headers, "Authorization"), botocore_authorization(l, sent, {"Range"}));
}

TEST_F(S3SigningAgainstBotocore, AWrongSecretGivesADifferentSignature) {
  // The comparison can fail: botocore with another secret disagrees with the client.
  RecordingServer server;
  auto l = location(server.port());
  const auto sent = backups::s3_request(l, {.query = {{"list-type", "2"}}}, 10s);
  l.secret_access_key = Secret("another-secret-key-entirely-000000000000");
  EXPECT_NE(header(sent.sent_headers, "Authorization"), botocore_authorization(l, sent, {}));
}

}  // namespace
}  // namespace deploycheck
