// probes/tls against a real nginx (the sandbox's, started by deploycheck-sandboxctl for this
// process) and an in-process OpenSSL server that speaks only TLS 1.0 — the case Debian's
// default security level would misreport. Plus the two ways an endpoint is unreachable: a closed
// port, and a listening socket that never answers.
#include "probes/tls/tls_probe.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "probes/policy.hpp"
#include "tests/unit/sandbox_services.hpp"


namespace deploycheck::tls {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Each;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using Result = ProtocolSupport::Result;

const ProtocolSupport* find_protocol(const Facts& f, const std::string& name) {
  for (const auto& p : f.protocols) {
    if (p.protocol == name) return &p;
  }
  return nullptr;
}

std::set<std::string> accepted_set(const Facts& f) {
  std::set<std::string> out;
  for (const auto& c : f.accepted_ciphers) out.insert(c.protocol + " " + c.name);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The sandbox nginx (ssl_protocols TLSv1.2 TLSv1.3, an ECDSA P-256 leaf under an intermediate),
// one per test process: ctest runs every test as its own process.
class TlsProbeTest : public ::testing::Test {
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

  static Endpoint nginx(const std::string& name = "localhost", bool with_ca = true) {
    Endpoint e;
    e.id = "nginx";
    e.name = name;
    e.port = static_cast<std::uint16_t>(std::stoi(env("SANDBOX_NGINX_HTTPS_PORT")));
    e.connect = "127.0.0.1";
    if (with_ca) e.ca_file = env("SANDBOX_CA_FILE");
    return e;
  }

  // The full enumeration, once per process.
  static const Facts& facts() {
    static const Facts f = probe(nginx(), Options{});
    return f;
  }

  static inline std::unique_ptr<testing::SandboxServices> sandbox_;
};

TEST_F(TlsProbeTest, ProtocolsAsConfigured) {
  const Facts& f = facts();
  ASSERT_NE(find_protocol(f, "TLSv1.3"), nullptr);
  EXPECT_EQ(find_protocol(f, "TLSv1.3")->result, Result::kAccepted);
  EXPECT_EQ(find_protocol(f, "TLSv1.2")->result, Result::kAccepted);
  EXPECT_EQ(find_protocol(f, "TLSv1.1")->result, Result::kRejected);
  EXPECT_EQ(find_protocol(f, "TLSv1")->result, Result::kRejected);
  EXPECT_THAT(find_protocol(f, "TLSv1")->detail, Not(::testing::IsEmpty()));
  // Debian builds libssl with no-ssl3: not checked, and the reason says so.
  EXPECT_EQ(find_protocol(f, "SSLv3")->result, Result::kNotChecked);
  EXPECT_THAT(find_protocol(f, "SSLv3")->detail, HasSubstr("cannot offer SSLv3"));
  EXPECT_EQ(f.handshake.protocol, "TLSv1.3");
}

TEST_F(TlsProbeTest, ChainVerifiesWithTheCaFile) {
  const Handshake& h = facts().handshake;
  EXPECT_TRUE(h.verified_ok) << h.verify_error;
  EXPECT_EQ(h.verify_error, "");
  ASSERT_EQ(h.presented.size(), 2u);  // leaf + intermediate
  ASSERT_EQ(h.verified.size(), 3u);   // + the root from the CA file
  EXPECT_THAT(h.presented[1].subject, HasSubstr("intermediate CA"));
  EXPECT_TRUE(h.verified[2].self_signed);
  EXPECT_TRUE(h.verified[2].is_ca);
  EXPECT_FALSE(h.verified[0].is_ca);
}

TEST_F(TlsProbeTest, ChainFailsWithoutTheCaFileButFactsRemain) {
  const Facts f = probe(nginx("localhost", /*with_ca=*/false), Options{.enumerate = false});
  EXPECT_FALSE(f.handshake.verified_ok);
  EXPECT_THAT(f.handshake.verify_error, HasSubstr("unable to get local issuer certificate"));
  EXPECT_TRUE(f.handshake.verified.empty());
  EXPECT_EQ(f.handshake.presented.size(), 2u);
  EXPECT_TRUE(f.handshake.hostname_matches);  // independent of the chain
  EXPECT_EQ(f.handshakes, 1);
}

TEST_F(TlsProbeTest, HostnameCheckedSeparately) {
  EXPECT_TRUE(facts().handshake.hostname_matches);
  const Facts wrong = probe(nginx("wrong.example"), Options{.enumerate = false});
  EXPECT_FALSE(wrong.handshake.hostname_matches);
  EXPECT_TRUE(wrong.handshake.verified_ok) << "the chain is fine, only the name is wrong";
  const Facts ip = probe(nginx("127.0.0.1"), Options{.enumerate = false});
  EXPECT_TRUE(ip.handshake.hostname_matches) << "IP SAN 127.0.0.1";
}

TEST_F(TlsProbeTest, LeafFacts) {
  const Handshake& h = facts().handshake;
  ASSERT_FALSE(h.presented.empty());
  const Certificate& leaf = h.presented[0];
  EXPECT_EQ(leaf.key_type, "EC");
  EXPECT_EQ(leaf.key_bits, 256);
  EXPECT_EQ(leaf.signature_algorithm, "ecdsa-with-SHA256");
  EXPECT_THAT(leaf.dns_names, Contains("localhost"));
  EXPECT_THAT(leaf.ip_addresses, Contains("127.0.0.1"));
  EXPECT_THAT(leaf.subject, HasSubstr("CN=localhost"));
  const std::int64_t now = std::time(nullptr);
  EXPECT_LE(leaf.not_before, now);
  EXPECT_GT(leaf.not_after, now);
  EXPECT_EQ(leaf.sha256_fingerprint.size(), 64u);
  EXPECT_FALSE(leaf.self_signed);
  EXPECT_EQ(leaf.embedded_scts, 0);
  EXPECT_FALSE(h.ocsp_stapled);
  EXPECT_EQ(h.ocsp_status, "");
  EXPECT_EQ(h.tls_extension_scts, 0);
  EXPECT_THAT(h.alpn, ::testing::AnyOf("h2", "http/1.1"));
}

TEST_F(TlsProbeTest, CiphersAcceptedAndClassified) {
  const Facts& f = facts();
  ASSERT_FALSE(f.accepted_ciphers.empty());
  for (const auto& c : f.accepted_ciphers) {
    std::cout << "  " << c.protocol << " " << c.name << " " << to_string(c.strength) << " " << c.why
              << "\n";
  }
  const auto has = [&](const std::string& protocol, const std::string& name) {
    return std::any_of(f.accepted_ciphers.begin(), f.accepted_ciphers.end(),
                       [&](const auto& c) { return c.protocol == protocol && c.name == name; });
  };
  EXPECT_TRUE(has("TLSv1.3", "TLS_AES_256_GCM_SHA384"));
  EXPECT_TRUE(has("TLSv1.3", "TLS_AES_128_GCM_SHA256"));
  EXPECT_TRUE(has("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"));
  // nginx's default "HIGH:!aNULL:!MD5" with an ECDSA key: no RSA-authenticated suites.
  EXPECT_FALSE(has("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"));
  EXPECT_FALSE(has("TLSv1.2", "ADH-AES128-GCM-SHA256"));
  for (const auto& c : f.accepted_ciphers) {
    if (c.protocol == "TLSv1.3" || c.name.find("GCM") != std::string::npos ||
        c.name.find("CHACHA") != std::string::npos) {
      EXPECT_EQ(c.strength, Strength::kStrong) << c.name;
    }
    if (c.name == "ECDHE-ECDSA-AES128-SHA") {
      EXPECT_EQ(c.strength, Strength::kWeak);
      EXPECT_THAT(c.why, AllOf(HasSubstr("CBC mode"), HasSubstr("SHA-1 MAC")));
    }
  }
  EXPECT_THAT(f.not_checked,
              Contains(HasSubstr("RC4 suites: not offered by OpenSSL 3.0 as built by Debian")));
  EXPECT_THAT(f.not_checked, Contains(HasSubstr("3DES suites")));
}

TEST_F(TlsProbeTest, SameVerdictsWithOneConnectionAtATime) {
  const Facts serial = probe(nginx(), Options{.max_connections_per_host = 1});
  EXPECT_EQ(accepted_set(serial), accepted_set(facts()));
  for (const auto& p : facts().protocols) {
    EXPECT_EQ(find_protocol(serial, p.protocol)->result, p.result) << p.protocol;
  }
}

TEST_F(TlsProbeTest, JsonRoundTrip) {
  const nlohmann::json j = to_json(facts());
  EXPECT_EQ(to_json(facts_from_json(j)), j);
  EXPECT_EQ(facts_from_json(j).handshake.presented[0].dns_names,
            facts().handshake.presented[0].dns_names);
}

TEST_F(TlsProbeTest, EnumerationTime) {
  // Measured on a fresh probe (the cached one may have paid for loading the trust store).
  facts();
  const auto start = std::chrono::steady_clock::now();
  const Facts f = probe(nginx(), Options{});
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::cout << "full enumeration of " << f.endpoint.display() << ": " << ms << " ms, "
            << f.handshakes << " handshakes, " << f.accepted_ciphers.size() << " suites accepted\n";
  RecordProperty("enumeration_ms", std::to_string(ms));
  RecordProperty("handshakes", f.handshakes);
  EXPECT_LT(ms, 2000);
}

TEST_F(TlsProbeTest, ClosedPortIsUnreachable) {
  Endpoint e = nginx();
  e.port = static_cast<std::uint16_t>(std::stoi(env("SANDBOX_CLOSED_PORT")));
  const auto start = std::chrono::steady_clock::now();
  try {
    probe(e, Options{.timeout = 2000ms});
    FAIL() << "no Unreachable";
  } catch (const Unreachable& u) {
    EXPECT_THAT(u.what(), AllOf(HasSubstr("localhost:" + std::to_string(e.port)),
                                HasSubstr("Connection refused"), HasSubstr("deadline 2s")));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);
}

// ---------------------------------------------------------------------------------------------
// A socket on 127.0.0.1 that listens (the kernel completes TCP handshakes) but never reads.
class SilentListener {
 public:
  SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 128) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  int fd() const { return fd_; }
  std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

TEST(TlsProbeUnreachable, ListenerThatNeverAnswers) {
  SilentListener silent;
  Endpoint e{.id = "silent", .name = "localhost", .port = silent.port(), .connect = "127.0.0.1"};
  const auto start = std::chrono::steady_clock::now();
  try {
    probe(e, Options{.timeout = 1000ms});
    FAIL() << "no Unreachable";
  } catch (const Unreachable& u) {
    EXPECT_THAT(u.what(), AllOf(HasSubstr("localhost:" + std::to_string(silent.port())),
                                HasSubstr("no TLS handshake"), HasSubstr("deadline 1s")));
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 1000ms);
  EXPECT_LT(took, 1500ms);
}

// ---------------------------------------------------------------------------------------------
// An in-process OpenSSL server speaking TLS 1.0 only, at security level 0, with the sandbox's
// certificate: a probe at Debian's default level 2 would call TLS 1.0 rejected.
class Tls10Server {
 public:
  Tls10Server(const std::string& chain, const std::string& key) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_security_level(ctx_, 0);
    SSL_CTX_set_min_proto_version(ctx_, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx_, TLS1_VERSION);
    SSL_CTX_set_cipher_list(ctx_, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:@SECLEVEL=0");
    if (SSL_CTX_use_certificate_chain_file(ctx_, chain.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      throw std::runtime_error("cannot load the sandbox certificate");
    }
    thread_ = std::thread([this] { serve(); });
  }
  ~Tls10Server() {
    stop_ = true;
    thread_.join();
    SSL_CTX_free(ctx_);
  }
  Tls10Server(const Tls10Server&) = delete;
  Tls10Server& operator=(const Tls10Server&) = delete;
  std::uint16_t port() const { return listener_.port(); }

 private:
  // One connection at a time, each bounded by a receive timeout: enough for a probe.
  void serve() {
    sigset_t pipe;  // the probe hangs up after the ServerHello: EPIPE here, not SIGPIPE
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    while (!stop_) {
      pollfd p{listener_.fd(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval tv{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) SSL_shutdown(ssl);
      SSL_free(ssl);
      ERR_clear_error();
      ::close(fd);
    }
  }

  SilentListener listener_;  // listens; serve() accepts
  SSL_CTX* ctx_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(TlsProbeTest, Tls10ServerSeenAtSecurityLevel0) {
  const fs::path ca = fs::path(env("SANDBOX_CA_FILE")).parent_path();
  Tls10Server server((ca / "server-chain.pem").string(), (ca / "server.key").string());
  Endpoint e = nginx();
  e.port = server.port();
  const Facts f = probe(e, Options{.max_connections_per_host = 4});
  EXPECT_EQ(find_protocol(f, "TLSv1")->result, Result::kAccepted);
  EXPECT_EQ(find_protocol(f, "TLSv1.1")->result, Result::kRejected);
  EXPECT_EQ(find_protocol(f, "TLSv1.2")->result, Result::kRejected);
  EXPECT_EQ(find_protocol(f, "TLSv1.3")->result, Result::kRejected);
  EXPECT_EQ(f.handshake.protocol, "TLSv1");
  EXPECT_TRUE(f.handshake.verified_ok) << f.handshake.verify_error;
  EXPECT_EQ(accepted_set(f), (std::set<std::string>{"TLSv1 ECDHE-ECDSA-AES128-SHA",
                                                    "TLSv1 ECDHE-ECDSA-AES256-SHA"}));
  EXPECT_THAT(f.accepted_ciphers, Each(Field(&CipherSuite::strength, Strength::kWeak)));
}

}  // namespace
}  // namespace deploycheck::tls
