// The Migrations matchers on hand-made facts: each says what it saw, in both directions. Their
// verdicts against the real sandbox database are in postgres_probe_test.cpp.
#include "matchers/postgres_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/matcher_testing.hpp"

namespace deploycheck {
namespace {

using namespace std::chrono_literals;
using testing::describe;
using ::testing::HasSubstr;
using testing::judge;
using ::testing::Not;

DatabaseFacts facts(bool ssl = true, bool standby = false, double lag = 0) {
  return DatabaseFacts{nlohmann::json{
      {"server",
       {{"version_num", 150014},
        {"version", "PostgreSQL 15.14"},
        {"database", "d"},
        {"user", "u"}}},
      {"session_tls", {{"ssl", ssl}, {"protocol", ssl ? "TLSv1.2" : ""}, {"cipher", "X"}}},
      {"settings", {{"ssl", "on"}}},
      {"extensions", {{"plpgsql", "1.0"}}},
      {"tables", nlohmann::json::object()},
      {"indexes",
       nlohmann::json::array({{{"schema", "public"},
                               {"table", "t"},
                               {"name", "t_idx"},
                               {"definition", "CREATE INDEX t_idx ON public.t USING btree (a)"},
                               {"unique", false},
                               {"primary", false},
                               {"valid", false}}})},
      {"foreign_keys", nlohmann::json::array()},
      {"connections", {{"in_use", 30}, {"max", 40}, {"reserved", 3}}},
      {"replication", {{"standby", standby}, {"lag_seconds", lag}}}}};
}

TEST(PostgresMatchers, TlsProtocolBelowTheMinimumFails) {
  EXPECT_TRUE(judge(SessionUsesTls("TLSv1.2"), facts()).matched);
  const auto v = judge(SessionUsesTls("TLSv1.3"), facts());
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation, HasSubstr("whose session uses TLSv1.2"));
  EXPECT_EQ(describe(SessionUsesTls("TLSv1.3"), true),
            "does not use a TLS session of TLSv1.3 or later");
}

TEST(PostgresMatchers, AnInvalidIndexIsNotPresent) {
  const auto v = judge(HasIndexes({"t_idx"}), facts());
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation, HasSubstr("invalid (a failed CREATE INDEX CONCURRENTLY"));
}

TEST(PostgresMatchers, ExtensionsAndHiddenSettings) {
  EXPECT_TRUE(judge(HasExtensions({"plpgsql"}), facts()).matched);
  EXPECT_THAT(judge(HasExtensions({"pgcrypto"}), facts()).explanation,
              HasSubstr("missing: pgcrypto"));
  EXPECT_THAT(judge(HasSetting("ssl_min_protocol_version", "TLSv1.2"), facts()).explanation,
              HasSubstr("do not show ssl_min_protocol_version to this role"));
}

TEST(PostgresMatchers, ConnectionsAndReplicationLag) {
  EXPECT_TRUE(judge(ConnectionsBelow(0.8), facts()).matched);
  const auto v = judge(ConnectionsBelow(0.5), facts());
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation, HasSubstr("with 30 of max_connections 40 in use (75%)"));
  EXPECT_TRUE(judge(ReplicationLagBelow(5s), facts(true, true, 1.5)).matched);
  EXPECT_THAT(judge(ReplicationLagBelow(1s), facts(true, true, 1.5)).explanation,
              HasSubstr("standby 1.5 s behind"));
}

TEST(PostgresMatchers, PendingListsShowBothSidesInFull) {
  MigrationStatus s;
  s.pending = {"a.0002", "a.0003"};
  EXPECT_TRUE(judge(PendingEquals({"a.0002", "a.0003"}), s).matched);
  const auto v = judge(PendingEquals({"a.0002", "a.0004"}), s);
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation, HasSubstr("whose pending migrations are [a.0002, a.0003]"));
  EXPECT_THAT(v.explanation, HasSubstr("not reviewed: a.0003"));
  EXPECT_THAT(v.explanation,
              HasSubstr("reviewed but not pending (applied already, or renamed): a.0004"));
  EXPECT_THAT(judge(PendingEquals({"a.0003", "a.0002"}), s).explanation,
              HasSubstr("another order"));
  EXPECT_FALSE(judge(NonePending(), s).matched);
  EXPECT_TRUE(judge(NonePending(), MigrationStatus{}).matched);
  EXPECT_THAT(describe(PendingEquals({"x"})), HasSubstr("[x]"));
}

}  // namespace
}  // namespace deploycheck
