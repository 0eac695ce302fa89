// deploycheck's TLS facts against testssl.sh's, endpoint by endpoint. testssl.sh is far too slow
// for CI (about a minute per endpoint), so its findings were recorded once
// (tests/data/tls-ratings/record-testssl.sh → testssl.tsv, with the version and command); this
// test probes the same sandbox endpoints live and asserts that each finding agrees. Where the
// two tools apply different rules to the same fact, the comparison says which (docs/tls-grade.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "probes/http/http_probe.hpp"
#include "probes/tls/tls_probe.hpp"
#include "tests/unit/sandbox_services.hpp"

namespace deploycheck::tls {
namespace {

namespace fs = std::filesystem;

fs::path recorded_file() {
#ifdef DEPLOYCHECK_TEST_DATA
  return fs::path(DEPLOYCHECK_TEST_DATA) / "tls-ratings" / "testssl.tsv";
#else
  return fs::path(__FILE__).parent_path().parent_path() / "data" / "tls-ratings" / "testssl.tsv";
#endif
}

// One row of testssl.tsv: column name → testssl.sh's finding.
using Row = std::map<std::string, std::string>;

std::vector<Row> recorded_rows() {
  std::ifstream in(recorded_file());
  std::vector<std::string> columns;
  std::vector<Row> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream split(line);
    for (std::string cell; std::getline(split, cell, '\t');) cells.push_back(cell);
    if (columns.empty()) {
      columns = cells;
      continue;
    }
    Row row;
    for (std::size_t i = 0; i < columns.size() && i < cells.size(); ++i) row[columns[i]] = cells[i];
    rows.push_back(row);
  }
  return rows;
}

std::string protocols_as_testssl_names(const Facts& f) {
  static const std::map<std::string, std::string> kNames{{"SSLv3", "SSLv3"},
                                                         {"TLSv1", "TLS1"},
                                                         {"TLSv1.1", "TLS1_1"},
                                                         {"TLSv1.2", "TLS1_2"},
                                                         {"TLSv1.3", "TLS1_3"}};
  std::string out;
  for (const auto& p : f.protocols) {
    if (p.result != ProtocolSupport::Result::kAccepted) continue;
    out += (out.empty() ? "" : " ") + kNames.at(p.protocol);
  }
  return out;
}

class TestsslAgreementTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sandbox_ =
        std::make_unique<testing::SandboxServices>(std::vector<std::string>{"ca", "tls", "smtp"});
  }
  static void TearDownTestSuite() { sandbox_.reset(); }
  void SetUp() override {
    if (!sandbox_->skip_reason().empty()) GTEST_SKIP() << sandbox_->skip_reason();
  }
  static inline std::unique_ptr<testing::SandboxServices> sandbox_;
};

TEST_F(TestsslAgreementTest, EveryRecordedFindingAgreesWithTheProbe) {
  const auto rows = recorded_rows();
  ASSERT_GE(rows.size(), 17u) << "expected every sandbox endpoint in " << recorded_file();
  for (const Row& row : rows) {
    const std::string id = row.at("endpoint");
    SCOPED_TRACE("endpoint " + id + " (testssl.tsv)");
    std::string key = "SANDBOX_TLS_";
    for (char c : id) key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    key += "_PORT";
    Endpoint e{.id = id, .name = "localhost", .connect = "127.0.0.1"};
    if (id == "smtp") {
      key = "SANDBOX_SMTP_PORT";
      e.starttls = StartTls::kSmtp;
    }
    ASSERT_FALSE(sandbox_->env(key).empty()) << key << " missing from sandbox.env";
    e.port = static_cast<std::uint16_t>(std::stoi(sandbox_->env(key)));
    e.ca_file = sandbox_->env("SANDBOX_CA_FILE");
    const Facts f = probe(e, Options{});
    ASSERT_FALSE(f.handshake.presented.empty());
    const Certificate& leaf = f.handshake.presented.front();

    EXPECT_EQ(protocols_as_testssl_names(f), row.at("protocols"));

    // testssl's AVERAGE/LOW/… categories hold the CBC and non-forward-secret suites that
    // deploycheck calls weak; its STRONG category is deploycheck's strong.
    bool weak = false;
    for (const auto& c : f.accepted_ciphers) weak |= c.strength != Strength::kStrong;
    EXPECT_EQ(weak, row.at("weak_cipher_categories") != "-");

    EXPECT_EQ(leaf.key_type + " " + std::to_string(leaf.key_bits) + " bits",
              row.at("cert_keySize"));
    EXPECT_EQ(leaf.signature_algorithm.find("SHA1") != std::string::npos,
              row.at("cert_signatureAlgorithm").find("SHA1") != std::string::npos)
        << leaf.signature_algorithm;

    // Chain of trust. testssl judges dates inside it; deploycheck verifies without a clock and
    // judges dates in CertValidFor (and in the grade's T cap), so compare those separately.
    const std::string trust = row.at("cert_chain_of_trust");
    const std::time_t now = std::time(nullptr);
    const bool dated_out = now < leaf.not_before || now > leaf.not_after;
    EXPECT_EQ(dated_out, trust.find("expired") != std::string::npos ||
                             trust.find("not yet valid") != std::string::npos);
    if (!dated_out)
      EXPECT_EQ(f.handshake.verified_ok, trust == "passed.") << f.handshake.verify_error;
    EXPECT_EQ(trust.find("self signed") != std::string::npos, leaf.self_signed);

    EXPECT_EQ(f.handshake.hostname_matches, row.at("cert_trust").rfind("Ok", 0) == 0);

    if (e.starttls != StartTls::kNone) continue;  // no HTTP, no HSTS
    const HttpResponse https = fetch(
        HttpRequest{.url = "https://localhost:" + std::to_string(e.port) + "/", .verify = false},
        Duration{5000});
    const auto hsts = https.headers.find("strict-transport-security");
    const std::string recorded_hsts = row.at("HSTS_time");
    if (recorded_hsts == "-") {
      EXPECT_EQ(hsts, https.headers.end());
    } else {
      ASSERT_NE(hsts, https.headers.end());
      const auto at = recorded_hsts.find("(=");
      ASSERT_NE(at, std::string::npos) << recorded_hsts;
      EXPECT_THAT(hsts->second,
                  ::testing::HasSubstr("max-age=" +
                                       std::to_string(std::stol(recorded_hsts.substr(at + 2)))));
    }
  }
}

}  // namespace
}  // namespace deploycheck::tls
