// STARTTLS endpoints through probes/tls against real servers: the sandbox's aiosmtpd with and
// without STARTTLS (RFC 3207). PostgreSQL's SSLRequest is proven against the sandbox postgres
// (ssl = on) and `postgres_plain` (ssl = off, which answers the SSLRequest with 'N').
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "probes/policy.hpp"
#include "probes/tls/tls_probe.hpp"
#include "tests/unit/sandbox_services.hpp"

namespace deploycheck::tls {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class StartTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sandbox_ = std::make_unique<testing::SandboxServices>(
        std::vector<std::string>{"ca", "smtp", "smtp_plain"});
  }
  static void TearDownTestSuite() { sandbox_.reset(); }
  void SetUp() override {
    if (!sandbox_->skip_reason().empty()) GTEST_SKIP() << sandbox_->skip_reason();
  }

  static Endpoint smtp(const char* port_key) {
    Endpoint e{.id = "smtp", .name = "localhost", .connect = "127.0.0.1"};
    e.port = static_cast<std::uint16_t>(std::stoi(sandbox_->env(port_key)));
    e.ca_file = sandbox_->env("SANDBOX_CA_FILE");
    e.starttls = StartTls::kSmtp;
    return e;
  }

  static inline std::unique_ptr<testing::SandboxServices> sandbox_;
};

TEST_F(StartTlsTest, SmtpUpgradesAndYieldsTheSameFactsAsDirectTls) {
  const Facts f = probe(smtp("SANDBOX_SMTP_PORT"), Options{});
  EXPECT_EQ(f.handshake.protocol, "TLSv1.3");
  EXPECT_TRUE(f.handshake.verified_ok) << f.handshake.verify_error;
  EXPECT_TRUE(f.handshake.hostname_matches);
  ASSERT_FALSE(f.handshake.presented.empty());
  EXPECT_EQ(f.handshake.presented.front().subject.rfind("CN=localhost", 0), 0u);
  // The server's policy (environments/sandbox/smtp/server.py): TLS 1.2 and 1.3, AEAD only.
  for (const auto& p : f.protocols) {
    const bool accepted = p.result == ProtocolSupport::Result::kAccepted;
    EXPECT_EQ(accepted, p.protocol == "TLSv1.2" || p.protocol == "TLSv1.3") << p.protocol;
  }
  for (const auto& c : f.accepted_ciphers) EXPECT_EQ(c.strength, Strength::kStrong) << c.name;
  EXPECT_GT(f.handshakes, 10);  // every one of them went through EHLO and STARTTLS first
  EXPECT_EQ(facts_from_json(to_json(f)).endpoint.starttls, StartTls::kSmtp);
}

TEST_F(StartTlsTest, SmtpWithoutStartTlsIsRefusedAtOnceNotRetried) {
  const Endpoint e = smtp("SANDBOX_SMTP_PLAIN_PORT");
  const Policy policy{.timeout = Duration{2000}, .retries = 3};
  int attempts = 0;
  try {
    with_policy(policy, e.display(), [&](Duration timeout) {
      ++attempts;
      return probe(e, Options{.timeout = timeout});
    });
    FAIL() << "a server without STARTTLS was probed as if it had TLS";
  } catch (const Refused& refused) {
    EXPECT_THAT(refused.what(), HasSubstr("does not offer STARTTLS"));
    EXPECT_THAT(refused.what(), HasSubstr("(STARTTLS smtp) answered"));
    EXPECT_THAT(refused.what(), Not(HasSubstr("did not answer")));
  }
  EXPECT_EQ(attempts, 1);
}

TEST_F(StartTlsTest, PlainTlsClientAgainstAnSmtpPortIsUnreachableNotAccepted) {
  Endpoint e = smtp("SANDBOX_SMTP_PORT");
  e.starttls = StartTls::kNone;  // a ClientHello where the server expects EHLO
  EXPECT_THROW(probe(e, Options{.timeout = Duration{1000}}), Unreachable);
}

}  // namespace
}  // namespace deploycheck::tls

namespace deploycheck::tls {
namespace {

// The sandbox's PostgreSQL 15 (tools/sandbox/postgres.cpp): ssl = on, TLS 1.2+, AEAD suites.
class PostgresStartTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sandbox_ = std::make_unique<testing::SandboxServices>(
        std::vector<std::string>{"ca", "postgres", "postgres_plain"});
  }
  static void TearDownTestSuite() { sandbox_.reset(); }
  void SetUp() override {
    if (!sandbox_->skip_reason().empty()) GTEST_SKIP() << sandbox_->skip_reason();
  }
  static inline std::unique_ptr<testing::SandboxServices> sandbox_;
};

TEST_F(PostgresStartTlsTest, SslRequestThenTheServersCertificateAndProtocols) {
  Endpoint e{.id = "db", .name = "localhost", .connect = "127.0.0.1"};
  e.port = static_cast<std::uint16_t>(std::stoi(sandbox_->env("SANDBOX_POSTGRES_PORT")));
  e.ca_file = sandbox_->env("SANDBOX_CA_FILE");
  e.starttls = StartTls::kPostgres;
  const Facts f = probe(e, Options{});
  EXPECT_EQ(f.handshake.protocol, "TLSv1.3");
  EXPECT_TRUE(f.handshake.verified_ok) << f.handshake.verify_error;
  EXPECT_TRUE(f.handshake.hostname_matches);
  for (const auto& p : f.protocols) {
    const bool accepted = p.result == ProtocolSupport::Result::kAccepted;
    EXPECT_EQ(accepted, p.protocol == "TLSv1.2" || p.protocol == "TLSv1.3") << p.protocol;
  }
  for (const auto& c : f.accepted_ciphers) EXPECT_EQ(c.strength, Strength::kStrong) << c.name;
}

TEST_F(PostgresStartTlsTest, SslOffIsRefusedAtOnceNotRetried) {
  Endpoint e{.id = "plain", .name = "localhost", .connect = "127.0.0.1"};
  e.port = static_cast<std::uint16_t>(std::stoi(sandbox_->env("SANDBOX_POSTGRES_PLAIN_PORT")));
  e.starttls = StartTls::kPostgres;
  int attempts = 0;
  try {
    with_policy(Policy{.timeout = Duration{2000}, .retries = 3}, e.display(),
                [&](Duration timeout) {
                  ++attempts;
                  return probe(e, Options{.timeout = timeout});
                });
    FAIL() << "a server with ssl = off was probed as if it had TLS";
  } catch (const Refused& refused) {
    EXPECT_THAT(refused.what(), HasSubstr("answered the SSLRequest with 'N'"));
  }
  EXPECT_EQ(attempts, 1);
}

TEST_F(PostgresStartTlsTest, AnSmtpDialogueAgainstPostgresFailsWithoutHanging) {
  Endpoint e{.id = "db", .name = "localhost", .connect = "127.0.0.1"};
  e.port = static_cast<std::uint16_t>(std::stoi(sandbox_->env("SANDBOX_POSTGRES_PORT")));
  e.starttls = StartTls::kSmtp;  // waits for a greeting PostgreSQL never sends
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(probe(e, Options{.timeout = Duration{500}}), Unreachable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace deploycheck::tls
