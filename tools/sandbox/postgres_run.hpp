// Running PostgreSQL's programs for the sandbox modules `postgres` and `postgres_broken`: as the
// `postgres` user when we are root (PostgreSQL refuses root), synchronous setup steps with a
// deadline, SQL as the superuser over the unix socket, and Django's migrate.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "probes/process/child.hpp"
#include "tools/sandbox/module.hpp"

namespace deploycheck::sandbox {

// Whom PostgreSQL runs as: the `postgres` account when we are root, else ourselves.
struct PgUser {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};
PgUser pg_user();

// chown to that user (nothing to do when we are not root).
void hand_to(const PgUser& user, const std::filesystem::path& path);

// `program args...`, through `setpriv --reuid=postgres --regid=postgres --init-groups` when the
// user must be switched (setpriv execs: the pid is the program's own).
process::ChildOptions as_user(const PgUser& user, const std::filesystem::path& program,
                              std::vector<std::string> args);

// Runs a setup step to completion before `deadline`; output goes to `log`. Throws naming `what`
// with the end of the log when it fails or overruns.
void run_to_completion(process::ChildOptions options, const std::filesystem::path& log,
                       Clock::time_point deadline, const std::string& what);

// A running sandbox cluster.
struct PgServer {
  std::uint16_t port = 0;
  std::filesystem::path socket_dir;
  std::filesystem::path ca_file;
  std::filesystem::path pg_dir;  // DATA/postgres

  // postgres://user:password@127.0.0.1:port/database?sslmode=verify-full&sslrootcert=CA
  // (passwords are URL-safe: no escaping needed). A secret: only ever written to sandbox.env.
  std::string url(const std::string& user, const std::string& password,
                  const std::string& database) const;
};

// Runs `sql` as the superuser in `database` over the unix socket (psql, ON_ERROR_STOP). The SQL
// may hold passwords: it goes through a 0600 file in a 0700 directory, removed afterwards.
void run_sql(const PgServer& server, const std::string& database, const std::string& sql,
             const std::string& step, Clock::time_point deadline);

// A fresh URL-safe random password (OpenSSL RAND_bytes).
std::string random_password(int length = 32);

struct PgPasswords {
  std::string admin;
  std::string app;
};
// Gives the superuser a password and creates role and database `webapp`.
PgPasswords set_up_roles(const PgServer& server, Clock::time_point deadline);

// `/usr/bin/python3 manage.py migrate` for the web application against `url`: everything when
// `targets` is empty, else `migrate <app> <migration>` for each (app, migration) in turn.
void migrate_webapp(const PgServer& server, const std::filesystem::path& webapp_dir,
                    const std::string& url, const std::string& step,
                    const std::vector<std::pair<std::string, std::string>>& targets,
                    Clock::time_point deadline);

// The cluster files initdb makes, once per data dir under `pg_dir`/template (under a lock, so
// modules starting at once share one): initdb takes about a second, a `cp -a` of it 0.1 s.
std::filesystem::path make_template(const PgUser& user, const std::filesystem::path& pg_dir,
                                    Clock::time_point deadline);

// A postmaster serving `data` on 127.0.0.1 at a free port (a new one when another process took
// the port first), its unix socket in `socket_dir`, its output in `log`, with `settings` as
// extra `-c` values; returned once it logs that it accepts connections. Throws with the end of
// the log when it exits or the deadline passes; `what` ("with TLS") goes into that message.
struct RunningCluster {
  process::Child child;
  std::uint16_t port = 0;
};
RunningCluster start_cluster(const PgUser& user, const std::filesystem::path& data,
                             const std::filesystem::path& socket_dir,
                             const std::filesystem::path& log,
                             const std::vector<std::string>& settings, const std::string& what,
                             Clock::time_point deadline);

}  // namespace deploycheck::sandbox
