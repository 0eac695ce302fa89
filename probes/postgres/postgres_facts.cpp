#include "probes/postgres/postgres_facts.hpp"

#include <algorithm>
#include <sstream>

namespace deploycheck {

std::optional<std::string> DatabaseFacts::setting(const std::string& name) const {
  const auto& settings = data.at("settings");
  if (!settings.contains(name)) return std::nullopt;
  return settings.at(name).get<std::string>();
}

std::vector<std::string> DatabaseFacts::schema_lines() const {
  std::vector<std::string> lines;
  for (const auto& [table, info] : data.at("tables").items()) {
    lines.push_back("table " + table);
    for (const auto& c : info.at("columns")) {
      lines.push_back("column " + table + "." + c.at("name").get<std::string>() + " " +
                      c.at("type").get<std::string>() +
                      (c.at("not_null").get<bool>() ? " not null" : " null"));
    }
  }
  for (const auto& i : data.at("indexes")) {
    lines.push_back("index " + i.at("schema").get<std::string>() + "." +
                    i.at("name").get<std::string>() + ": " + i.at("definition").get<std::string>());
  }
  for (const auto& f : data.at("foreign_keys")) {
    lines.push_back(
        "foreign_key " + f.at("schema").get<std::string>() + "." +
        f.at("table").get<std::string>() + "(" + f.at("columns").get<std::string>() + ") -> " +
        f.at("ref_schema").get<std::string>() + "." + f.at("ref_table").get<std::string>() + "(" +
        f.at("ref_columns").get<std::string>() + ") " + f.at("name").get<std::string>());
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

RowCount row_count(const DatabaseFacts& facts, const std::string& table) {
  RowCount count{table};
  const auto& counts = facts.data.at("row_counts");
  if (!counts.contains(table)) return count;
  const auto& c = counts.at(table);
  count.found = c.at("found").get<bool>();
  if (count.found) {
    count.rows = c.at("rows").get<long long>();
    count.exact = c.at("exact").get<bool>();
  }
  return count;
}

std::vector<Orphans> orphans(const DatabaseFacts& facts) {
  std::vector<Orphans> out;
  if (!facts.data.contains("orphans")) return out;
  for (const auto& o : facts.data.at("orphans")) {
    out.push_back({o.at("foreign_key").get<std::string>(), o.at("table").get<std::string>(),
                   o.at("columns").get<std::string>(), o.at("references").get<std::string>(),
                   o.at("rows").get<long long>()});
  }
  return out;
}

std::vector<std::string> read_snapshot(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string format_snapshot(const std::vector<std::string>& lines) {
  std::string text =
      "# Expected database schema for deploycheck's Migrations.SchemaMatchesSnapshot: one line\n"
      "# per table, column, index and foreign key. Rewrite it from a database with\n"
      "# DEPLOYCHECK_WRITE_SNAPSHOT=1 (docs/environment-reference.md#database).\n";
  for (const auto& line : lines) text += line + "\n";
  return text;
}

}  // namespace deploycheck
