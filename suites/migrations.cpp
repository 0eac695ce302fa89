// Migrations: the checklists' database items — 000 "Database Migrations" (pending migrations
// reviewed, all applied, schema matches the expected state, connectivity, read/write), 001
// "PostgreSQL is healthy" / "Database connections normal", 002 (PostgreSQL 13+, TLS enforced, no
// pending migrations, expected tables and seed data, all indexes created, connection pool
// healthy, foreign-key integrity), 003 "Verify migration success", 004 "Database migrations
// created and tested". One PostgreSQL connection per database per run (Gather.PostgreSQL/<id>);
// every check below judges that one fact.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "matchers/postgres_matchers.hpp"
#include "probes/policy.hpp"
#include "probes/postgres/postgres_probe.hpp"
#include "runner/check.hpp"
#include "runner/gather.hpp"

namespace deploycheck {
namespace {

const std::string kConnect = "000 Post-Migration Verification: Database connectivity verified";
const std::string kReadWrite = "000 Post-Migration Verification: Application can read/write data";
const std::string kSchema = "000 Execute Migrations: Database schema matches expected state";
const std::string kReviewed = "000 2. Review Pending Migrations: Pending migrations reviewed";
const std::string kDependencies =
    "000 2. Review Pending Migrations: Migration dependencies verified";
const std::string kApplied = "000 Execute Migrations: All migrations applied successfully";
const std::string kNoErrors = "000 Execute Migrations: No migration errors in logs";
const std::string kIntegrity000 = "000 Rollback Decision Criteria: Data integrity issues detected";
const std::string kHealthy001 = "001 7. Dependencies: PostgreSQL is healthy";
const std::string kConnections001 = "001 16. Deployment Monitoring: Database connections normal";
const std::string kVersion002 = "002 Environment Setup: PostgreSQL 13+ installed and configured";
const std::string kUrlTested002 =
    "002 Environment Setup: DATABASE_URL properly formatted and tested";
const std::string kTls002 = "002 Security Hardening: Encryption in transit enabled";
const std::string kConnected002 = "002 Database Creation (1 hour before): Connection verified";
const std::string kApplied002 = "002 Schema Deployment: Migrations applied successfully";
const std::string kNoPending002 = "002 Schema Deployment: No pending migrations";
const std::string kSchema002 = "002 Schema Deployment: Schema validated";
const std::string kSeed002 = "002 Production Seed Data: Seed data verified";
const std::string kTables002 = "002 Post-Deployment Verification: Expected table counts verified";
const std::string kIndexes002 = "002 Post-Deployment Verification: All indexes created";
const std::string kPool002 = "002 Post-Deployment Verification: Connection pool healthy";
const std::string kOrphans002 = "002 Data Quality: Verify no orphaned records";
const std::string kFk002 = "002 Data Quality: Check foreign key integrity";
const std::string kVerify003 = "003 Step 2: Database Migration: Verify migration success";
const std::string kTested004 = "004 Code Preparation: Database migrations created and tested";
const std::string kStable004 = "004 Verification: Database connections stable";

const DatabaseConfig& db() {
  return *environment().database;
}

std::filesystem::path env_dir() {
  return environment().file.parent_path();
}

DatabaseFacts facts_of(const Fact& f) {
  return DatabaseFacts{f.data};
}

// The target as messages may name it: the URL only when it is a ${VAR} reference (display()
// keeps a secret variable as ${NAME}); a literal URL may hold a password.
std::string shown_target() {
  const auto& raw = db().url.raw;
  return "database '" + db().id + "'" +
         (raw.find("${") != std::string::npos ? " (" + runtime_values().display(db().url) + ")"
                                              : "");
}

PostgresRequest request_for() {
  PostgresRequest r;
  r.url = Secret(runtime_values().expand(db().url));
  r.shown = shown_target();
  r.sslmode = db().sslmode;
  if (db().sslrootcert)
    r.sslrootcert = runtime_values().expand_path(*db().sslrootcert, env_dir()).string();
  r.schemas = db().schemas;
  for (const auto& [name, value] : db().settings) r.settings.push_back(name);
  for (const auto& t : db().tables) r.count_tables.push_back(t.table);
  r.exact_count_below = db().exact_count_below;
  r.orphans = db().orphan_checks;
  r.round_trip = db().round_trip;
  for (const auto& m : environment().migrations) {
    MigrationsRequest mr{.id = m.id,
                         .tool = m.tool,
                         .swappable = m.swappable,
                         .history_query = m.history_query,
                         .file_pattern = m.file_pattern,
                         .applied = m.applied,
                         .dots_for_underscores = m.dots_for_underscores};
    for (const auto& d : m.directories)
      mr.directories.push_back(runtime_values().expand_path(d, env_dir()));
    r.migrations.push_back(mr);
  }
  return r;
}

void expect_db(const std::string& key, const DatabaseMatcher& matcher) {
  if (auto fact = need_fact(key)) EXPECT_THAT(facts_of(*fact), matcher);
}

// The migration status in the fact, or a failure naming why there is none.
std::optional<MigrationStatus> status_of(const std::string& key, const std::string& id) {
  auto fact = need_fact(key);
  if (!fact) return std::nullopt;
  const auto& m = fact->data.at("migrations").at(id);
  if (m.contains("error")) {
    ADD_FAILURE() << m.at("tool").get<std::string>() << " history of " << shown_target()
                  << " could not be compared with the files: " << m.at("error").get<std::string>();
    return std::nullopt;
  }
  return migration_status_from_json(m);
}

void check_snapshot(const std::string& key) {
  auto fact = need_fact(key);
  if (!fact) return;
  const auto path = runtime_values().expand_path(*db().schema_snapshot, env_dir());
  const auto facts = facts_of(*fact);
  if (const char* write = std::getenv("DEPLOYCHECK_WRITE_SNAPSHOT");
      write && std::string(write) == "1") {
    std::ofstream out(path);
    out << format_snapshot(facts.schema_lines());
    ASSERT_TRUE(out.good()) << "could not write the schema snapshot " << path;
    std::cout << "wrote the schema snapshot " << path << " (" << facts.schema_lines().size()
              << " lines): review it and commit it\n";
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "the schema snapshot " << path
                  << " cannot be read. Write it from a database in the expected state with "
                     "DEPLOYCHECK_WRITE_SNAPSHOT=1 (docs/environment-reference.md#database)";
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_THAT(facts, MatchesSchemaSnapshot(read_snapshot(text.str()), path.string()));
}

}  // namespace

DEPLOYCHECK_CHECKS(Migrations) {
  if (!environment().database) return;
  const auto& d = db();
  const auto key = register_gather(GatherSpec{.probe = "PostgreSQL",
                                              .target = d.id,
                                              .suite = "Migrations",
                                              .policy = d.policy,
                                              .phase = Phase::kBoth,
                                              .gatherer = [](const Policy& policy) {
                                                const PostgresRequest request = request_for();
                                                auto result = with_policy(
                                                    policy, request.shown, [&](Duration timeout) {
                                                      return gather_postgres(request, timeout);
                                                    });
                                                return std::pair{result.value, result.attempts};
                                              }});
  auto spec = [&](const std::string& name, std::vector<std::string> items,
                  Phase phase = Phase::kBoth, std::string target = "") {
    return CheckSpec{.suite = "Migrations",
                     .name = name,
                     .target = target.empty() ? d.id : d.id + "_" + target,
                     .phase = phase,
                     .severity = d.severity,
                     .checklist = std::move(items),
                     .gathers = {key},
                     .budget = d.policy.budget()};
  };

  register_check(spec("Connectivity", {kConnect, kHealthy001, kUrlTested002, kConnected002}),
                 [key] {
                   if (auto fact = need_fact(key)) {
                     const auto facts = facts_of(*fact);
                     ::testing::Test::RecordProperty("server", facts.version_text());
                     SUCCEED() << "connected to " << shown_target() << ": " << facts.version_text();
                   }
                 });
  if (d.min_version) {
    register_check(spec("ServerVersion", {kVersion002, kHealthy001}),
                   [key, v = *d.min_version] { expect_db(key, ServerVersionAtLeast(v)); });
  }
  if (d.require_tls) {
    register_check(spec("SessionUsesTls", {kTls002}),
                   [key, p = d.min_tls_protocol] { expect_db(key, SessionUsesTls(p)); });
  }
  for (const auto& [name, value] : d.settings) {
    register_check(spec("Setting", {kHealthy001}, Phase::kBoth, name),
                   [key, name, value] { expect_db(key, HasSetting(name, value)); });
  }
  if (!d.extensions.empty()) {
    register_check(spec("Extensions", {kSchema}),
                   [key, e = d.extensions] { expect_db(key, HasExtensions(e)); });
  }
  if (d.schema_snapshot) {
    register_check(spec("SchemaMatchesSnapshot", {kSchema, kSchema002, kFk002}),
                   [key] { check_snapshot(key); });
  }
  if (!d.required_indexes.empty()) {
    register_check(spec("IndexesExist", {kIndexes002}),
                   [key, i = d.required_indexes] { expect_db(key, HasIndexes(i)); });
  }
  for (const auto& t : d.tables) {
    register_check(spec("RowCount", {kTables002, kSeed002}, Phase::kBoth, t.table), [key, t] {
      if (auto fact = need_fact(key)) {
        EXPECT_THAT(row_count(facts_of(*fact), t.table), HasRowsBetween(t.min_rows, t.max_rows));
      }
    });
  }
  if (d.orphan_checks) {
    register_check(spec("Integrity", {kOrphans002, kFk002, kIntegrity000}, Phase::kBoth, "orphans"),
                   [key] { expect_db(key, HasNoOrphanRows()); });
  }
  if (d.round_trip) {
    register_check(spec("ReadWrite", {kReadWrite}), [key] { expect_db(key, RoundTripSucceeds()); });
  }
  if (d.max_connections_fraction) {
    register_check(spec("ConnectionsInUse", {kConnections001, kPool002, kStable004, kHealthy001}),
                   [key, f = *d.max_connections_fraction] { expect_db(key, ConnectionsBelow(f)); });
  }
  if (d.max_replication_lag) {
    register_check(spec("ReplicationLag", {kHealthy001}),
                   [key, b = *d.max_replication_lag] { expect_db(key, ReplicationLagBelow(b)); });
  }

  for (const auto& m : environment().migrations) {
    auto mspec = [&](const std::string& name, std::vector<std::string> items, Phase phase) {
      auto s = spec(name, std::move(items), phase, m.id);
      s.severity = m.severity;
      return s;
    };
    auto expect_status = [key, id = m.id](const MigrationMatcher& matcher) {
      if (auto status = status_of(key, id)) EXPECT_THAT(*status, matcher);
    };
    if (m.reviewed_pending) {
      register_check(
          mspec("PendingMatchesReviewed", {kReviewed, kDependencies, kTested004}, Phase::kPre),
          [expect_status, r = *m.reviewed_pending] { expect_status(PendingEquals(r)); });
    }
    register_check(
        mspec("NonePending", {kApplied, kNoPending002, kApplied002, kVerify003}, Phase::kPost),
        [expect_status] { expect_status(NonePending()); });
    register_check(
        mspec("NoneFailed", {kApplied, kNoErrors, kApplied002, kVerify003}, Phase::kBoth),
        [expect_status] { expect_status(NoneFailed()); });
    register_check(mspec("AppliedKnownOnDisk", {kApplied}, Phase::kBoth),
                   [expect_status] { expect_status(NoneUnknown()); });
    // Prisma records a checksum of each migration.sql; the other tools' rows carry none here.
    if (m.tool == "prisma") {
      register_check(mspec("ChecksumsMatch", {kApplied, kSchema002}, Phase::kBoth),
                     [expect_status] { expect_status(ChecksumsMatch()); });
    }
  }
}

}  // namespace deploycheck
