// Module `postgres_broken`: a second database in the `postgres` module's server, broken on
// purpose for sandbox_broken, each defect for exactly one Migrations check:
//
//   billing.0004_plan_active_price_index unapplied   Migrations.NonePending (reviewed: passes
//                                                    PendingMatchesReviewed)
//   index billing_sub_org_status dropped by hand     Migrations.IndexesPresent
//   column billing_plan.legacy_discount added        Migrations.SchemaMatchesSnapshot
//   plan 'free' deleted (5 of 6 plans)               Migrations.RowCount/..._billing_plan
//   a package pointing at plan 999999                Migrations.NoOrphanRows
//   role webapp_broken refused TLS (pg_hba reject    Migrations.SessionUsesTls (the client's
//   + hostnossl, see postgres.cpp)                   sslmode=prefer falls back to plain text)
//
// and the history tables of three other tools, against TEMPLATES/migrations/<tool>/:
//
//   _prisma_migrations: add_order_index unfinished   Migrations.NoneFailed/..._prisma
//   _prisma_migrations: add_orders checksum wrong    Migrations.ChecksumsMatch/..._prisma
//   schema_migrations: version 2 dirty               Migrations.NoneFailed/..._golang_migrate
//   flyway_schema_history: version 3, not on disk    Migrations.AppliedKnownOnDisk/..._flyway
//
// Files only: the database lives and dies with the `postgres` server. Writes
// SANDBOX_BROKEN_DATABASE_URL (role webapp_broken with its password, no sslmode: a secret).
#include <openssl/evp.h>

#include <stdexcept>

#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/postgres_run.hpp"

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;

std::string required(const std::map<std::string, std::string>& env, const std::string& key) {
  auto it = env.find(key);
  if (it == env.end() || it->second.empty()) {
    throw std::runtime_error("postgres_broken needs " + key +
                             " from the `postgres` module in sandbox.env: start `postgres` first "
                             "(`up` does so by itself).");
  }
  return it->second;
}

const std::string kDefects = R"sql(
DROP INDEX billing_sub_org_status;
ALTER TABLE billing_plan ADD COLUMN legacy_discount integer;
DELETE FROM billing_plan WHERE code = 'free';
-- Foreign keys are triggers: a replica session skips them, as a bad bulk load would.
SET session_replication_role = replica;
INSERT INTO billing_package (name, plan_id, credits) VALUES ('Orphaned credits', 999999, 1);
SET session_replication_role = origin;
)sql";

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256 failed");
  }
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

// The three tools' history tables, shaped as the tools create them.
std::string other_tools_sql(const fs::path& templates) {
  const fs::path prisma = templates / "migrations" / "prisma";
  auto checksum = [&](const std::string& name) {
    return sha256_hex(read_text(prisma / name / "migration.sql", "a Prisma migration"));
  };
  // Created by the application's role, as the tools would.
  return R"sql(
SET ROLE webapp_broken;
CREATE TABLE _prisma_migrations (
  id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
  migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
  started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0);
INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES
  ('0c5f0e1a-0000-4000-8000-000000000001', ')sql" +
         checksum("20240101000000_init") +
         R"sql(', now(), '20240101000000_init', now() - interval '3 minutes', 1),
  ('0c5f0e1a-0000-4000-8000-000000000002', ')sql" +
         std::string(64, '0') +
         R"sql(', now(), '20240201000000_add_orders', now() - interval '2 minutes', 1),
  ('0c5f0e1a-0000-4000-8000-000000000003', ')sql" +
         checksum("20240301000000_add_order_index") +
         R"sql(', NULL, '20240301000000_add_order_index', now() - interval '1 minute', 0);
CREATE TABLE flyway_schema_history (
  installed_rank integer PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
  type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer,
  installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
  execution_time integer NOT NULL, success boolean NOT NULL);
INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES
  (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'webapp', 5, true),
  (2, '1.1', 'add name', 'SQL', 'V1_1__add_name.sql', 2, 'webapp', 5, true),
  (3, '2', 'seed', 'SQL', 'V2__seed.sql', 3, 'webapp', 5, true),
  (4, '3', 'from a newer release', 'SQL', 'V3__from_a_newer_release.sql', 4, 'webapp', 5, true);
CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
INSERT INTO schema_migrations VALUES (2, true);
)sql";
}

class PostgresBrokenModule final : public Module {
 public:
  std::string_view name() const override { return "postgres_broken"; }
  std::vector<std::string_view> dependencies() const override { return {"postgres"}; }
  bool runs_process() const override { return false; }
  std::chrono::seconds startup_timeout() const override { return std::chrono::seconds(90); }

  Started start(const Context& context) const override {
    const auto env = read_env(context.data_dir);
    PgServer server;
    server.port = static_cast<std::uint16_t>(std::stoi(required(env, "SANDBOX_POSTGRES_PORT")));
    server.socket_dir = required(env, "SANDBOX_POSTGRES_SOCKET_DIR");
    server.ca_file = required(env, "SANDBOX_CA_FILE");
    server.pg_dir = context.data_dir / "postgres";
    const fs::path webapp = required(env, "SANDBOX_WEBAPP_DIR");

    const std::string password = random_password();
    // Again after `down postgres_broken` + `up postgres_broken`: start from nothing.
    run_sql(server, "postgres",
            "DROP DATABASE IF EXISTS webapp_broken;\n"
            "DROP ROLE IF EXISTS webapp_broken;\n"
            "CREATE ROLE webapp_broken LOGIN PASSWORD '" +
                password +
                "';\n"
                "CREATE DATABASE webapp_broken OWNER webapp_broken;\n",
            "broken-roles", context.deadline);
    // pg_hba.conf refuses this role over TLS.
    const std::string url = "postgres://webapp_broken:" + password +
                            "@127.0.0.1:" + std::to_string(server.port) + "/webapp_broken";
    migrate_webapp(server, webapp, url + "?sslmode=disable", "broken", {}, context.deadline);
    migrate_webapp(server, webapp, url + "?sslmode=disable", "broken-back",
                   {{"billing", "0003_seed_plans"}}, context.deadline);
    run_sql(server, "webapp_broken", kDefects + other_tools_sql(context.templates_dir),
            "broken-defects", context.deadline);

    update_env(context.data_dir, {{"SANDBOX_BROKEN_DATABASE_URL", url}});
    return {std::nullopt, "ready: database webapp_broken on 127.0.0.1:" +
                              std::to_string(server.port) + " (broken on purpose)"};
  }
};

}  // namespace

const Module& postgres_broken_module() {
  static const PostgresBrokenModule module;
  return module;
}

}  // namespace deploycheck::sandbox
