#include "probes/backups/verify.hpp"

#include <chrono>
#include <sstream>
#include <stdexcept>

#include "probes/backups/run.hpp"
#include "probes/policy.hpp"

namespace deploycheck::backups {
namespace {

using SteadyClock = std::chrono::steady_clock;

long long millis_since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
}

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// "a.b" → "\"a\".\"b\"": a table name from the environment file as a quoted SQL identifier.
std::string quote_table(const std::string& table) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const auto dot = table.find('.', start);
    std::string part =
        table.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    std::string quoted = "\"";
    for (char c : part) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    out += (out.empty() ? "" : ".") + quoted + "\"";
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

// psql against one database of the restore server; the password only in its environment.
class Psql {
 public:
  Psql(const PgUrl& url, std::string program, SteadyClock::time_point deadline)
      : url_(url), program_(find_program(program)), deadline_(deadline) {}

  // Runs `sql`; throws Unreachable when psql cannot talk to the server (exit 2) or at the deadline.
  RunResult run(const std::string& database, const std::string& sql) const {
    const auto left = std::chrono::duration_cast<Duration>(deadline_ - SteadyClock::now());
    if (left <= Duration::zero())
      throw Unreachable("the restore server: out of time before `" + sql + "`");
    auto result = run_bounded(program_,
                              {"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
                               url_.with_database(database), "-c", sql},
                              left, env());
    result.err = redact(result.err, url_.password.reveal());
    if (!result.status)
      throw Unreachable("the restore server did not answer `" + sql + "` in time");
    if (result.status->code == 2) {
      throw Unreachable("cannot connect to the restore server: " + last_line(result.err));
    }
    return result;
  }

  std::map<std::string, std::string> env() const {
    std::map<std::string, std::string> env{{"PGCONNECT_TIMEOUT", "10"},
                                           {"PGAPPNAME", "deploycheck"}};
    if (!url_.password.empty()) env["PGPASSWORD"] = url_.password.reveal();
    return env;
  }

 private:
  const PgUrl& url_;
  std::filesystem::path program_;
  SteadyClock::time_point deadline_;
};

// Drops the scratch database when it goes out of scope, whatever happened before.
class ScratchDatabase {
 public:
  ScratchDatabase(const Psql& psql, const PgUrl& url, std::string name, RestoreFacts& facts)
      : psql_(psql), url_(url), name_(std::move(name)), facts_(facts) {
    drop();  // a leftover from a run that was killed
    const auto r = psql_.run(maintenance_db(), "CREATE DATABASE \"" + name_ + "\"");
    if (!r.ok())
      throw Unreachable("cannot create the scratch database " + name_ + ": " + last_line(r.err));
  }
  ~ScratchDatabase() {
    try {
      drop();
    } catch (const std::exception& e) {
      facts_.dropped = false;
      facts_.drop_error = e.what();
    }
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

 private:
  std::string maintenance_db() const { return url_.database.empty() ? "postgres" : url_.database; }
  void drop() {
    // WITH (FORCE) (PostgreSQL 13+) ends sessions a killed pg_restore may have left behind.
    const auto r =
        psql_.run(maintenance_db(), "DROP DATABASE IF EXISTS \"" + name_ + "\" WITH (FORCE)");
    facts_.dropped = r.ok();
    facts_.drop_error = r.ok() ? "" : last_line(r.err);
  }

  const Psql& psql_;
  const PgUrl& url_;
  std::string name_;
  RestoreFacts& facts_;
};

}  // namespace

IntegrityFacts read_archive_toc(const std::filesystem::path& file, const std::string& name,
                                const std::string& pg_restore, Duration timeout) {
  IntegrityFacts f{.backup = name, .program = pg_restore, .timeout_ms = timeout.count()};
  const auto result = run_bounded(find_program(pg_restore), {"--list", file.string()}, timeout);
  f.elapsed_ms = result.elapsed.count();
  f.timed_out = !result.status;
  if (result.status)
    f.exit_code = result.status->code.value_or(128 + result.status->signal.value_or(0));
  std::istringstream toc(result.out);
  std::string line;
  while (std::getline(toc, line)) {
    if (!line.empty() && line[0] != ';') ++f.toc_entries;
  }
  if (!result.ok()) f.error = result.describe(timeout);
  return f;
}

nlohmann::json to_json(const IntegrityFacts& f) {
  nlohmann::json j{{"backup", f.backup},        {"program", f.program},
                   {"timed_out", f.timed_out},  {"toc_entries", f.toc_entries},
                   {"error", f.error},          {"elapsed_ms", f.elapsed_ms},
                   {"timeout_ms", f.timeout_ms}};
  if (f.exit_code) j["exit_code"] = *f.exit_code;
  return j;
}

IntegrityFacts integrity_from_json(const nlohmann::json& j) {
  IntegrityFacts f;
  f.backup = j.at("backup");
  f.program = j.at("program");
  f.timed_out = j.at("timed_out");
  f.toc_entries = j.at("toc_entries");
  f.error = j.at("error");
  f.elapsed_ms = j.at("elapsed_ms");
  f.timeout_ms = j.at("timeout_ms");
  if (j.contains("exit_code")) f.exit_code = j.at("exit_code").get<int>();
  return f;
}

PgUrl parse_pg_url(const std::string& url) {
  PgUrl parsed;
  const auto scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "postgres" && scheme != "postgresql") {
    throw std::invalid_argument("expected a postgres:// or postgresql:// URL");
  }
  std::string rest = url.substr(scheme_end + 3);
  std::string query;
  if (const auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q);
    rest.resize(q);
  }
  std::string authority = rest;
  std::string database;
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    authority = rest.substr(0, slash);
    database = percent_decode(rest.substr(slash + 1));
  }
  std::string host = authority;
  std::string user;
  if (const auto at = authority.rfind('@'); at != std::string::npos) {
    host = authority.substr(at + 1);
    const std::string userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    user = userinfo.substr(0, colon);
    if (colon != std::string::npos)
      parsed.password = Secret(percent_decode(userinfo.substr(colon + 1)));
  }
  if (host.empty()) throw std::invalid_argument("the URL names no host");
  parsed.prefix = scheme + "://" + (user.empty() ? "" : user + "@") + host + "/";
  parsed.database = database;
  parsed.query = query;
  return parsed;
}

RestoreFacts test_restore(const RestoreRequest& request) {
  const auto start = SteadyClock::now();
  const auto deadline = start + request.timeout;
  RestoreFacts facts{.backup = request.name, .scratch_database = request.scratch_database};
  PgUrl url;
  try {
    url = parse_pg_url(request.server_url.reveal());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("the restore server URL is not usable: ") + e.what());
  }
  if (url.database == request.scratch_database) {
    throw std::runtime_error(
        "the scratch database '" + request.scratch_database +
        "' is the restore server URL's own database: refusing to overwrite it. "
        "Name a scratch_database that exists only for test restores.");
  }
  const Psql psql(url, request.psql, deadline);
  const auto pg_restore = find_program(request.pg_restore);
  {
    ScratchDatabase scratch(psql, url, request.scratch_database, facts);
    const auto left = std::chrono::duration_cast<Duration>(deadline - SteadyClock::now());
    auto restore = run_bounded(pg_restore,
                               {"--no-owner", "--no-privileges", "--exit-on-error", "-d",
                                url.with_database(request.scratch_database), request.file.string()},
                               std::max(left, Duration(1)), psql.env());
    facts.restored = restore.ok();
    if (!facts.restored)
      facts.restore_error =
          redact(restore.describe(std::max(left, Duration(1))), url.password.reveal());
    if (facts.restored) {
      for (const auto& table : request.tables) {
        TableCount count{.table = table};
        const auto r =
            psql.run(request.scratch_database, "SELECT count(*) FROM " + quote_table(table));
        if (r.ok()) {
          count.rows = std::atoll(r.out.c_str());
        } else {
          count.error = last_line(r.err);
        }
        facts.tables.push_back(std::move(count));
      }
    }
    facts.elapsed_ms = millis_since(start) + request.fetch_ms;
  }  // the scratch database is dropped here
  return facts;
}

nlohmann::json to_json(const RestoreFacts& f) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : f.tables) {
    nlohmann::json j{{"table", t.table}, {"error", t.error}};
    if (t.rows) j["rows"] = *t.rows;
    tables.push_back(std::move(j));
  }
  return {{"backup", f.backup},     {"scratch_database", f.scratch_database},
          {"restored", f.restored}, {"restore_error", f.restore_error},
          {"tables", tables},       {"elapsed_ms", f.elapsed_ms},
          {"dropped", f.dropped},   {"drop_error", f.drop_error}};
}

RestoreFacts restore_from_json(const nlohmann::json& j) {
  RestoreFacts f;
  f.backup = j.at("backup");
  f.scratch_database = j.at("scratch_database");
  f.restored = j.at("restored");
  f.restore_error = j.at("restore_error");
  for (const auto& t : j.at("tables")) {
    TableCount c{.table = t.at("table"), .error = t.at("error")};
    if (t.contains("rows")) c.rows = t.at("rows").get<long long>();
    f.tables.push_back(std::move(c));
  }
  f.elapsed_ms = j.at("elapsed_ms");
  f.dropped = j.at("dropped");
  f.drop_error = j.at("drop_error");
  return f;
}

}  // namespace deploycheck::backups
