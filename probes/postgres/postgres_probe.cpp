// The only translation unit that includes libpqxx (it compiles slowly).
#include "probes/postgres/postgres_probe.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cmath>
#include <pqxx/pqxx>

#include "probes/policy.hpp"
#include "probes/postgres/migration_files.hpp"

namespace deploycheck {
namespace {

using nlohmann::json;

// Always read, whatever the environment file asks for: the ones the checklists mention.
const std::vector<std::string> kUsualSettings = {"ssl",
                                                 "max_connections",
                                                 "superuser_reserved_connections",
                                                 "password_encryption",
                                                 "ssl_min_protocol_version",
                                                 "statement_timeout",
                                                 "default_transaction_read_only",
                                                 "server_encoding",
                                                 "TimeZone",
                                                 "shared_preload_libraries"};

std::string in_list(const pqxx::transaction_base& tx, const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + tx.quote(v);
  return out.empty() ? "NULL" : out;
}

// libpq's messages name host, port and user, never the password; redact the whole string and
// its password anyway, in case a future libpq quotes what it was given.
std::string safe_error(std::string text, const Secret& url, const Secret& conninfo) {
  text = redact(std::move(text), conninfo.reveal());
  text = redact(std::move(text), url.reveal());
  const auto& u = url.reveal();
  const auto scheme = u.find("://");
  const auto at = u.rfind('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    const auto colon = u.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) {
      text = redact(std::move(text), u.substr(colon + 1, at - colon - 1));
    }
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::pair<std::string, std::string> split_table(const std::string& name,
                                                const std::vector<std::string>& schemas) {
  const auto dot = name.find('.');
  if (dot != std::string::npos) return {name.substr(0, dot), name.substr(dot + 1)};
  return {schemas.empty() ? "public" : schemas.front(), name};
}

void read_server(pqxx::transaction_base& tx, json& facts) {
  const auto r = tx.exec(
      "select current_setting('server_version_num')::int, version(), current_database(), "
      "current_user, pg_is_in_recovery(), pg_database_size(current_database()), "
      "extract(epoch from now() - pg_last_xact_replay_timestamp())");
  const auto row = r[0];
  facts["server"] = {{"version_num", row[0].as<int>()},
                     {"version", row[1].as<std::string>()},
                     {"database", row[2].as<std::string>()},
                     {"user", row[3].as<std::string>()},
                     {"standby", row[4].as<bool>()}};
  facts["size_bytes"] = row[5].as<long long>();
  facts["replication"] = {
      {"standby", row[4].as<bool>()},
      {"lag_seconds", row[6].is_null() ? json(nullptr) : json(row[6].as<double>())}};
}

void read_session_tls(pqxx::transaction_base& tx, json& facts) {
  const auto r = tx.exec(
      "select ssl, coalesce(version, ''), coalesce(cipher, ''), coalesce(bits, 0) "
      "from pg_stat_ssl where pid = pg_backend_pid()");
  if (r.empty()) {
    facts["session_tls"] = {{"ssl", false}, {"protocol", ""}, {"cipher", ""}, {"bits", 0}};
    return;
  }
  facts["session_tls"] = {{"ssl", r[0][0].as<bool>()},
                          {"protocol", r[0][1].as<std::string>()},
                          {"cipher", r[0][2].as<std::string>()},
                          {"bits", r[0][3].as<int>()}};
}

void read_settings(pqxx::transaction_base& tx, const std::vector<std::string>& extra, json& facts) {
  std::vector<std::string> names = kUsualSettings;
  names.insert(names.end(), extra.begin(), extra.end());
  // pg_settings leaves out what this role may not read (e.g. ssl_min_protocol_version without
  // pg_read_all_settings): a missing name is "not visible", not "not set".
  json settings = json::object();
  for (const auto& row : tx.exec("select name, setting from pg_settings where name in (" +
                                 in_list(tx, names) + ")")) {
    settings[row[0].as<std::string>()] = row[1].as<std::string>();
  }
  facts["settings"] = settings;
  json extensions = json::object();
  for (const auto& row : tx.exec("select extname, extversion from pg_extension")) {
    extensions[row[0].as<std::string>()] = row[1].as<std::string>();
  }
  facts["extensions"] = extensions;
}

void read_schema(pqxx::transaction_base& tx, const std::vector<std::string>& schemas, json& facts) {
  const std::string where = "n.nspname in (" + in_list(tx, schemas) + ")";
  json tables = json::object();
  for (const auto& row : tx.exec(
           "select n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
           "a.attnotnull, c.reltuples::bigint from pg_attribute a "
           "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
           "where c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped and " +
           where + " order by 1, a.attnum")) {
    auto& table = tables[row[0].as<std::string>()];
    table["estimated_rows"] = row[4].as<long long>();  // -1: never analyzed
    table["columns"].push_back({{"name", row[1].as<std::string>()},
                                {"type", row[2].as<std::string>()},
                                {"not_null", row[3].as<bool>()}});
  }
  facts["tables"] = tables;
  json indexes = json::array();
  for (const auto& row : tx.exec(
           "select n.nspname, t.relname, i.relname, pg_get_indexdef(i.oid), x.indisunique, "
           "x.indisprimary, x.indisvalid from pg_index x join pg_class i on i.oid = x.indexrelid "
           "join pg_class t on t.oid = x.indrelid join pg_namespace n on n.oid = t.relnamespace "
           "where " +
           where + " order by 1, 2, 3")) {
    indexes.push_back({{"schema", row[0].as<std::string>()},
                       {"table", row[1].as<std::string>()},
                       {"name", row[2].as<std::string>()},
                       {"definition", row[3].as<std::string>()},
                       {"unique", row[4].as<bool>()},
                       {"primary", row[5].as<bool>()},
                       {"valid", row[6].as<bool>()}});
  }
  facts["indexes"] = indexes;
  json fks = json::array();
  for (const auto& row :
       tx.exec("select c.conname, n.nspname, cl.relname, fn.nspname, fcl.relname, "
               "array_to_string(array(select a.attname from unnest(c.conkey) with ordinality "
               "k(num, ord) "
               "  join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.num order by "
               "k.ord), ','), "
               "array_to_string(array(select a.attname from unnest(c.confkey) with ordinality "
               "k(num, ord) "
               "  join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.num order by "
               "k.ord), ','), "
               "c.convalidated from pg_constraint c join pg_class cl on cl.oid = c.conrelid "
               "join pg_namespace n on n.oid = cl.relnamespace join pg_class fcl on fcl.oid = "
               "c.confrelid "
               "join pg_namespace fn on fn.oid = fcl.relnamespace where c.contype = 'f' and " +
               where + " order by 2, 3, 1")) {
    fks.push_back({{"name", row[0].as<std::string>()},
                   {"schema", row[1].as<std::string>()},
                   {"table", row[2].as<std::string>()},
                   {"ref_schema", row[3].as<std::string>()},
                   {"ref_table", row[4].as<std::string>()},
                   {"columns", row[5].as<std::string>()},
                   {"ref_columns", row[6].as<std::string>()},
                   {"validated", row[7].as<bool>()}});
  }
  facts["foreign_keys"] = fks;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    out.push_back(
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Exact count(*) for small tables, the planner's estimate past `exact_below` rows.
void read_row_counts(pqxx::transaction_base& tx, const PostgresRequest& request, json& facts) {
  json counts = json::object();
  for (const auto& name : request.count_tables) {
    const auto [schema, table] = split_table(name, request.schemas);
    const std::string key = schema + "." + table;
    const auto* known = facts["tables"].contains(key) ? &facts["tables"][key] : nullptr;
    if (known == nullptr) {
      counts[name] = {{"found", false}};
      continue;
    }
    const long long estimate = known->at("estimated_rows").get<long long>();
    if (estimate >= 0 && estimate >= request.exact_count_below) {
      counts[name] = {{"found", true}, {"rows", estimate}, {"exact", false}};
      continue;
    }
    const auto r =
        tx.exec("select count(*) from " + tx.quote_name(schema) + "." + tx.quote_name(table));
    counts[name] = {{"found", true}, {"rows", r[0][0].as<long long>()}, {"exact", true}};
  }
  facts["row_counts"] = counts;
}

void read_connections(pqxx::transaction_base& tx, json& facts) {
  const auto r = tx.exec(
      "select (select count(*) from pg_stat_activity where backend_type = 'client backend'), "
      "current_setting('max_connections')::int, "
      "current_setting('superuser_reserved_connections')::int");
  facts["connections"] = {{"in_use", r[0][0].as<long long>()},
                          {"max", r[0][1].as<long long>()},
                          {"reserved", r[0][2].as<long long>()}};
}

// Rows whose foreign key points at no row, one query per foreign key (opt-in: each scans).
void read_orphans(pqxx::transaction_base& tx, json& facts) {
  json orphans = json::array();
  for (const auto& fk : facts["foreign_keys"]) {
    const auto cols = split_commas(fk["columns"].get<std::string>());
    const auto refs = split_commas(fk["ref_columns"].get<std::string>());
    std::string present, match;
    for (size_t i = 0; i < cols.size() && i < refs.size(); ++i) {
      present += (i ? " and " : "") + std::string("c.") + tx.quote_name(cols[i]) + " is not null";
      match += (i ? " and " : "") + std::string("p.") + tx.quote_name(refs[i]) + " = c." +
               tx.quote_name(cols[i]);
    }
    const std::string child = tx.quote_name(fk["schema"].get<std::string>()) + "." +
                              tx.quote_name(fk["table"].get<std::string>());
    const std::string parent = tx.quote_name(fk["ref_schema"].get<std::string>()) + "." +
                               tx.quote_name(fk["ref_table"].get<std::string>());
    const auto r = tx.exec("select count(*) from " + child + " c where " + present +
                           " and not exists (select 1 from " + parent + " p where " + match + ")");
    orphans.push_back(
        {{"foreign_key", fk["name"]},
         {"table", fk["schema"].get<std::string>() + "." + fk["table"].get<std::string>()},
         {"columns", fk["columns"]},
         {"references",
          fk["ref_schema"].get<std::string>() + "." + fk["ref_table"].get<std::string>()},
         {"rows", r[0][0].as<long long>()}});
  }
  facts["orphans"] = orphans;
}

// Inside a savepoint: a history that cannot be read (no privilege, a wrong history_query) is
// a fact about that history, and the facts' transaction goes on.
std::vector<HistoryRow> read_history(pqxx::dbtransaction& tx, const MigrationsRequest& m,
                                     std::vector<std::string>& notes) {
  std::vector<HistoryRow> rows;
  pqxx::subtransaction sub(tx, "history");
  auto table_exists = [&](const std::string& name) {
    return !sub.exec("select to_regclass(" + sub.quote(name) + ")")[0][0].is_null();
  };
  if (m.tool == "django") {
    if (!table_exists("django_migrations")) {
      notes.push_back("no django_migrations table: nothing applied yet");
    } else {
      for (const auto& row : sub.exec("select app, name from django_migrations order by id")) {
        rows.push_back(
            {row[0].as<std::string>() + "." + row[1].as<std::string>(), false, std::nullopt});
      }
    }
  } else if (m.tool == "prisma") {
    if (!table_exists("_prisma_migrations")) {
      notes.push_back("no _prisma_migrations table: nothing applied yet");
    } else {
      // Rolled back rows are neither applied nor failed: `prisma migrate resolve --rolled-back`.
      for (const auto& row :
           sub.exec("select migration_name, finished_at is null, checksum from _prisma_migrations "
                    "where rolled_back_at is null order by started_at")) {
        rows.push_back({row[0].as<std::string>(), row[1].as<bool>(), row[2].as<std::string>()});
      }
    }
  } else {
    for (const auto& row : sub.exec(m.history_query)) {
      rows.push_back({row[0].as<std::string>(),
                      row.size() > 1 && !row[1].is_null() && row[1].as<bool>(), std::nullopt});
    }
  }
  sub.commit();
  return rows;
}

json read_migrations(pqxx::dbtransaction& tx, const MigrationsRequest& m) {
  std::vector<std::string> notes;
  std::vector<HistoryRow> rows;
  try {
    rows = read_history(tx, m, notes);
  } catch (const pqxx::sql_error& e) {
    // Reachable, but the history cannot be read: a fact for the checks to report.
    return {{"tool", m.tool}, {"error", "reading the history failed: " + std::string(e.what())}};
  }
  MigrationStatus status;
  try {
    if (m.tool == "django") {
      status = django_status(read_django_migrations(m.directories, m.swappable), rows);
    } else if (m.tool == "prisma") {
      status = prisma_status(m.directories.front(), rows);
    } else {
      VersionedFiles files{m.directories.front(), m.file_pattern, AppliedMeaning::kEveryRow,
                           m.dots_for_underscores};
      if (m.applied == "latest_only") files.meaning = AppliedMeaning::kLatestOnly;
      if (m.applied == "heads") files.meaning = AppliedMeaning::kHeads;
      status = versioned_status(files, rows);
    }
  } catch (const std::runtime_error& e) {
    return {{"tool", m.tool},
            {"error", "reading the migration files failed: " + std::string(e.what())}};
  }
  status.notes.insert(status.notes.begin(), notes.begin(), notes.end());
  json out = to_json(status);
  out["tool"] = m.tool;
  out["history_rows"] = rows.size();
  return out;
}

std::string random_token() {
  unsigned char bytes[12];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "deploycheck";
  std::string hex;
  for (unsigned char b : bytes) {
    static const char kHex[] = "0123456789abcdef";
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

// Write, read back, roll back: a temporary table that only this transaction ever sees.
json round_trip(pqxx::connection& conn, long long timeout_ms) {
  const std::string token = random_token();
  pqxx::work tx(conn, "round_trip");
  tx.exec("set local statement_timeout = " + std::to_string(timeout_ms));
  tx.exec("create temporary table deploycheck_round_trip (token text) on commit drop");
  tx.exec("insert into deploycheck_round_trip values (" + tx.quote(token) + ")");
  const auto r = tx.exec("select token from deploycheck_round_trip");
  const bool read_back = r.size() == 1 && r[0][0].as<std::string>() == token;
  tx.abort();
  return {{"wrote", true}, {"read_back", read_back}, {"rolled_back", true}};
}

std::string add_params(const std::string& url,
                       const std::vector<std::pair<std::string, std::string>>& params) {
  const bool is_uri = url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
  std::string out = url;
  for (const auto& [key, value] : params) {
    if (is_uri) {
      std::string escaped;
      for (unsigned char c : value) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == '~') {
          escaped += static_cast<char>(c);
        } else {
          static const char kHex[] = "0123456789ABCDEF";
          escaped += '%';
          escaped += kHex[c >> 4];
          escaped += kHex[c & 15];
        }
      }
      // libpq keeps the last value of a repeated parameter: these override the URL's own.
      out += (out.find('?') == std::string::npos ? "?" : "&") + key + "=" + escaped;
    } else {
      std::string quoted = "'";
      for (char c : value) {
        if (c == '\'' || c == '\\') quoted += '\\';
        quoted += c;
      }
      out += " " + key + "=" + quoted + "'";
    }
  }
  return out;
}

}  // namespace

Secret postgres_conninfo(const PostgresRequest& request, Duration timeout) {
  // libpq counts whole seconds and treats 1 as 2.
  const long long seconds = std::max<long long>(2, (timeout.count() + 999) / 1000);
  std::vector<std::pair<std::string, std::string>> params;
  if (request.sslmode) params.emplace_back("sslmode", *request.sslmode);
  if (request.sslrootcert) params.emplace_back("sslrootcert", *request.sslrootcert);
  params.emplace_back("connect_timeout", std::to_string(seconds));
  params.emplace_back("application_name", "deploycheck");
  return Secret(add_params(request.url.reveal(), params));
}

json gather_postgres(const PostgresRequest& request, Duration timeout) {
  const Secret conninfo = postgres_conninfo(request, timeout);
  std::unique_ptr<pqxx::connection> conn;
  try {
    conn = std::make_unique<pqxx::connection>(conninfo.reveal());
  } catch (const std::exception& e) {
    throw Unreachable(request.shown + ": " + safe_error(e.what(), request.url, conninfo));
  }
  json facts;
  try {
    {
      pqxx::read_transaction tx(*conn, "facts");
      tx.exec("set local statement_timeout = " + std::to_string(timeout.count()));
      read_server(tx, facts);
      read_session_tls(tx, facts);
      read_settings(tx, request.settings, facts);
      read_schema(tx, request.schemas, facts);
      read_row_counts(tx, request, facts);
      read_connections(tx, facts);
      if (request.orphans) read_orphans(tx, facts);
      for (const auto& m : request.migrations) facts["migrations"][m.id] = read_migrations(tx, m);
      tx.commit();
    }
    if (request.round_trip) {
      try {
        facts["round_trip"] = round_trip(*conn, timeout.count());
      } catch (const pqxx::sql_error& e) {
        facts["round_trip"] = {{"wrote", false},
                               {"read_back", false},
                               {"rolled_back", true},
                               {"error", safe_error(e.what(), request.url, conninfo)}};
      }
    }
  } catch (const pqxx::broken_connection& e) {
    throw Unreachable(request.shown +
                      ": the connection broke: " + safe_error(e.what(), request.url, conninfo));
  } catch (const pqxx::sql_error& e) {
    // statement_timeout fires as an sql_error (57014): the server did not answer in time.
    throw Unreachable(request.shown + ": " + safe_error(e.what(), request.url, conninfo));
  }
  return facts;
}

}  // namespace deploycheck
