#pragma once
// probes/postgres: one connection to a PostgreSQL database per run, facts gathered in one
// read-only transaction (server, session TLS, settings, extensions, schema, row counts,
// connections, size, replication, the migration tool's history compared with the files on disk).
// Knows nothing about pass or fail. The only writes are the opt-in round trip, in a transaction
// that is always rolled back.
//
// libpqxx compiles slowly: postgres_probe.cpp is its only translation unit.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fixtures/secret.hpp"
#include "fixtures/units.hpp"

namespace deploycheck {

// What to read from the migration tool's history (see probes/postgres/migration_files.hpp).
struct MigrationsRequest {
  std::string id;    // the key of its facts under "migrations"
  std::string tool;  // django, prisma, or a generic one with history_query + file_pattern
  std::vector<std::filesystem::path> directories;
  std::map<std::string, std::string> swappable;
  std::string history_query;
  std::string file_pattern;
  std::string applied = "every_row";
  bool dots_for_underscores = false;
};

struct PostgresRequest {
  Secret url;                          // libpq URL or key=value string, never printed
  std::string shown;                   // how messages name the target (no secret in it)
  std::optional<std::string> sslmode;  // overrides the URL's
  std::optional<std::string> sslrootcert;
  std::vector<std::string> schemas{"public"};
  std::vector<std::string> settings;      // pg_settings names to read, besides the usual ones
  std::vector<std::string> count_tables;  // tables whose rows to count ("t" or "schema.t")
  long long exact_count_below = 100000;
  bool orphans = false;
  bool round_trip = false;
  std::vector<MigrationsRequest> migrations;
};

// One attempt bounded by `timeout` (libpq's connect_timeout, and statement_timeout for every
// query). Throws Unreachable when it cannot connect or log in; the message never holds the
// connection string (libpq's text names host, port and user at most, and is redacted).
nlohmann::json gather_postgres(const PostgresRequest& request, Duration timeout);

// The connection string libpq gets: the URL with sslmode, sslrootcert and connect_timeout added
// (they override the URL's own). A secret.
Secret postgres_conninfo(const PostgresRequest& request, Duration timeout);

}  // namespace deploycheck
