#pragma once
// Reading a backup back: `pg_restore --list` (does the archive's table of contents read?) and a
// test restore into a scratch database on a restore server (do the tables come back, and how
// long does it take?). Facts only; matchers/backup_matchers judge them.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fixtures/secret.hpp"
#include "fixtures/units.hpp"

namespace deploycheck::backups {

struct IntegrityFacts {
  std::string backup;            // the archive's name in its source
  std::string program;           // pg_restore, as run
  std::optional<int> exit_code;  // unset: killed at the deadline
  bool timed_out = false;
  long long toc_entries = 0;  // lines of the table of contents that are not comments
  std::string error;          // pg_restore's last stderr line, when it failed
  long long elapsed_ms = 0;
  long long timeout_ms = 0;
};

// `pg_restore --list <file>` within `timeout`. Throws std::runtime_error when pg_restore is not
// installed (not a defect of the backup).
IntegrityFacts read_archive_toc(const std::filesystem::path& file, const std::string& name,
                                const std::string& pg_restore, Duration timeout);

nlohmann::json to_json(const IntegrityFacts& f);
IntegrityFacts integrity_from_json(const nlohmann::json& j);

// A postgres:// URL split so the password travels in PGPASSWORD, never in a command line.
struct PgUrl {
  std::string prefix;    // "postgresql://user@host:port/"  (no password)
  std::string database;  // "postgres" (empty when the URL names none)
  std::string query;     // "?sslmode=require" or ""
  Secret password;       // decoded; empty when the URL has none
  std::string with_database(const std::string& db) const { return prefix + db + query; }
};
// Throws std::invalid_argument saying what is wrong — never quoting the URL.
PgUrl parse_pg_url(const std::string& url);

struct TableCount {
  std::string table;
  std::optional<long long> rows;  // unset: the count failed (the table is missing)
  std::string error;
};

struct RestoreFacts {
  std::string backup;
  std::string scratch_database;
  bool restored = false;
  std::string restore_error;  // pg_restore's complaint, when it failed
  std::vector<TableCount> tables;
  long long elapsed_ms = 0;  // fetch + create + restore + counts: the restore's wall time
  bool dropped = false;      // the scratch database is gone again
  std::string drop_error;
};

struct RestoreRequest {
  std::filesystem::path file;  // the archive (already on this machine)
  std::string name;
  Secret server_url;  // the restore server's admin URL
  std::string scratch_database;
  std::vector<std::string> tables;
  std::string pg_restore = "pg_restore";
  std::string psql = "psql";
  Duration timeout{600'000};
  long long fetch_ms = 0;  // time already spent getting `file`, counted in elapsed_ms
};

// Creates the scratch database (dropping a leftover of an earlier run first), restores into it,
// counts rows of each table, and drops it again — always, also when the restore failed. Refuses
// a scratch database named like the URL's own database. Throws Unreachable when the restore
// server does not answer.
RestoreFacts test_restore(const RestoreRequest& request);

nlohmann::json to_json(const RestoreFacts& f);
RestoreFacts restore_from_json(const nlohmann::json& j);

}  // namespace deploycheck::backups
