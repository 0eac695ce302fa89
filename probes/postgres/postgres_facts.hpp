#pragma once
// Typed views of the facts probes/postgres gathers (a JSON document shared across CTest's
// processes), for matchers and suites. No libpqxx here.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "probes/postgres/migration_files.hpp"

namespace deploycheck {

struct DatabaseFacts {
  nlohmann::json data;

  int version_num() const { return data.at("server").at("version_num").get<int>(); }
  int major_version() const { return version_num() / 10000; }
  std::string version_text() const { return data.at("server").at("version").get<std::string>(); }
  bool session_ssl() const { return data.at("session_tls").at("ssl").get<bool>(); }
  std::string session_protocol() const {
    return data.at("session_tls").at("protocol").get<std::string>();
  }
  std::optional<std::string> setting(const std::string& name) const;
  // The schema as sorted lines, one per table, column, index and foreign key: the snapshot
  // format (docs/environment-reference.md#database).
  std::vector<std::string> schema_lines() const;
};

struct RowCount {
  std::string table;
  bool found = false;
  long long rows = 0;
  bool exact = false;
};
RowCount row_count(const DatabaseFacts& facts, const std::string& table);

struct Orphans {
  std::string foreign_key, table, columns, references;
  long long rows = 0;
};
std::vector<Orphans> orphans(const DatabaseFacts& facts);

// The snapshot file's lines (blank lines and # comments skipped).
std::vector<std::string> read_snapshot(const std::string& text);
std::string format_snapshot(const std::vector<std::string>& lines);

}  // namespace deploycheck
