#include "tools/sandbox/postgres_run.hpp"

#include <openssl/rand.h>
#include <pwd.h>
#include <unistd.h>

#include <stdexcept>

#include "tools/sandbox/fd.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/net.hpp"
#include "tools/sandbox/openssl.hpp"
#include "tools/sandbox/readiness.hpp"

namespace deploycheck::sandbox {

namespace fs = std::filesystem;

const fs::path kPsql = "/usr/lib/postgresql/15/bin/psql";
// Debian's interpreter: pyenv's python3 cannot import Debian's python3-django.
const fs::path kDebianPython = "/usr/bin/python3";

PgUser pg_user() {
  if (::geteuid() != 0) return {};
  const passwd* account = ::getpwnam("postgres");
  if (account == nullptr) {
    throw std::runtime_error(
        "PostgreSQL refuses to run as root and the `postgres` user does not exist: install "
        "Debian's postgresql package (scripts/setup-debian), or run the sandbox as a normal user.");
  }
  return {true, account->pw_uid, account->pw_gid};
}

void hand_to(const PgUser& user, const fs::path& path) {
  if (user.switch_user && ::chown(path.c_str(), user.uid, user.gid) != 0) {
    throw std::runtime_error(errno_text("cannot hand " + path.string() + " to the postgres user"));
  }
}

process::ChildOptions as_user(const PgUser& user, const fs::path& program,
                              std::vector<std::string> args) {
  process::ChildOptions options;
  if (!user.switch_user) {
    options.program = program;
    options.args = std::move(args);
    return options;
  }
  options.program = "/usr/bin/setpriv";
  options.args = {"--reuid=postgres", "--regid=postgres", "--init-groups", program.string()};
  options.args.insert(options.args.end(), args.begin(), args.end());
  return options;
}

void run_to_completion(process::ChildOptions options, const fs::path& log,
                       Clock::time_point deadline, const std::string& what) {
  fs::remove(log);
  options.stdout_file = log;
  options.stderr_file = log;
  process::Child child = process::Child::start(options);
  const auto status = child.wait_until(deadline);
  if (!status) {
    child.stop();
    throw std::runtime_error(what + " did not finish before the deadline.\n" + tail_of(log));
  }
  if (!status->success()) {
    throw std::runtime_error(what + " " + status->describe() + ".\n" + tail_of(log) +
                             "The whole output is in " + log.string() + ".");
  }
}

std::string PgServer::url(const std::string& user, const std::string& password,
                          const std::string& database) const {
  return "postgres://" + user + ":" + password + "@127.0.0.1:" + std::to_string(port) + "/" +
         database + "?sslmode=verify-full&sslrootcert=" + ca_file.string();
}

void run_sql(const PgServer& server, const std::string& database, const std::string& sql,
             const std::string& step, Clock::time_point deadline) {
  const fs::path dir = server.pg_dir / "setup";
  make_dir(dir, 0700);
  const fs::path file = dir / (step + ".sql");
  write_file_atomically(file, sql, 0600);
  process::ChildOptions options;
  options.program = kPsql;
  options.args = {"-X", "-q",
                  "-v", "ON_ERROR_STOP=1",
                  "-h", server.socket_dir.string(),
                  "-p", std::to_string(server.port),
                  "-U", "postgres",
                  "-d", database,
                  "-f", file.string()};
  try {
    run_to_completion(options, dir / (step + ".log"), deadline, "psql (" + step + ")");
  } catch (...) {
    fs::remove(file);
    throw;
  }
  fs::remove(file);
}

std::string random_password(int length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string bytes(static_cast<size_t>(length), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), length) != 1) {
    throw std::runtime_error("RAND_bytes failed: " + openssl_errors());
  }
  for (char& c : bytes) c = kAlphabet[static_cast<unsigned char>(c) % 64];
  return bytes;
}

PgPasswords set_up_roles(const PgServer& server, Clock::time_point deadline) {
  PgPasswords passwords{random_password(), random_password()};
  run_sql(server, "postgres",
          "ALTER ROLE postgres PASSWORD '" + passwords.admin +
              "';\n"
              "CREATE ROLE webapp LOGIN PASSWORD '" +
              passwords.app +
              "';\n"
              "CREATE DATABASE webapp OWNER webapp;\n",
          "roles", deadline);
  return passwords;
}

void migrate_webapp(const PgServer& server, const fs::path& webapp_dir, const std::string& url,
                    const std::string& step,
                    const std::vector<std::pair<std::string, std::string>>& targets,
                    Clock::time_point deadline) {
  process::ChildOptions options;
  options.program = kDebianPython;
  options.cwd = webapp_dir;
  // The URL holds a password: it travels in the environment, never on a command line.
  options.env = std::map<std::string, std::string>{
      {"PATH", "/usr/bin:/bin"},
      {"LANG", "C.UTF-8"},
      {"DJANGO_SETTINGS_MODULE", "webapp.settings"},
      {"DATABASE_URL", url},
      // The project lives in the source tree: leave no __pycache__ there.
      {"PYTHONDONTWRITEBYTECODE", "1"}};
  const fs::path dir = server.pg_dir / "setup";
  make_dir(dir, 0700);
  if (targets.empty()) {
    options.args = {"manage.py", "migrate", "--no-input"};
    run_to_completion(options, dir / (step + "-migrate.log"), deadline,
                      "manage.py migrate (" + step + ")");
    return;
  }
  for (const auto& [app, migration] : targets) {
    options.args = {"manage.py", "migrate", "--no-input", app, migration};
    run_to_completion(options, dir / (step + "-migrate-" + app + ".log"), deadline,
                      "manage.py migrate " + app + " " + migration + " (" + step + ")");
  }
}

// The cluster's files, made once per data dir: initdb takes about a second, a copy 0.1 s.
std::filesystem::path make_template(const PgUser& user, const std::filesystem::path& pg_dir,
                                    Clock::time_point deadline) {
  const std::filesystem::path template_dir = pg_dir / "template";
  FileLock lock = FileLock::acquire(pg_dir / "template.lock", std::chrono::seconds(30),
                                    "the PostgreSQL template's lock");
  if (std::filesystem::exists(template_dir / "PG_VERSION")) return template_dir;
  std::filesystem::remove_all(template_dir);
  make_dir(template_dir, 0700);
  hand_to(user, template_dir);
  // Local (unix socket) trust for the superuser only: the socket directory is 0700 and setup
  // uses it to set passwords; every TCP connection needs a password (pg_hba.conf below).
  run_to_completion(
      as_user(user, std::filesystem::path("/usr/lib/postgresql/15/bin/initdb"),
              {"-D", template_dir.string(), "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
               "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"}),
      pg_dir / "initdb.log", deadline, "initdb");
  return template_dir;
}

RunningCluster start_cluster(const PgUser& user, const std::filesystem::path& data,
                             const std::filesystem::path& socket_dir,
                             const std::filesystem::path& log,
                             const std::vector<std::string>& settings, const std::string& what,
                             Clock::time_point deadline) {
  constexpr int kPortAttempts = 5;
  constexpr std::string_view kReadyLine = "database system is ready to accept connections";
  for (int attempt = 1;; ++attempt) {
    const std::uint16_t port = pick_free_ports(1)[0];
    std::filesystem::remove(log);
    std::vector<std::string> args{"-D", data.string(),
                                  "-c", "listen_addresses=127.0.0.1",
                                  "-c", "port=" + std::to_string(port),
                                  "-c", "unix_socket_directories=" + socket_dir.string()};
    for (const std::string& setting : settings) args.insert(args.end(), {"-c", setting});
    process::ChildOptions options =
        as_user(user, "/usr/lib/postgresql/15/bin/postgres", std::move(args));
    options.cwd = log.parent_path();
    options.stdout_file = log;
    options.stderr_file = log;
    process::Child child = process::Child::start(options);
    WaitOutcome outcome =
        wait_until_ready(child, deadline, [&] { return file_mentions(log, kReadyLine); });
    if (outcome.ready) return {std::move(child), port};
    if (outcome.exited && attempt < kPortAttempts && file_mentions(log, "Address already in use")) {
      continue;
    }
    throw std::runtime_error(
        (outcome.exited
             ? "postgres " + outcome.exited->describe() + " before it was ready"
             : "postgres did not log \"" + std::string(kReadyLine) + "\" before the deadline") +
        " (expected it on 127.0.0.1:" + std::to_string(port) + " " + what + ").\n" + tail_of(log) +
        "Its data directory is " + data.string() + ".");
  }
}

}  // namespace deploycheck::sandbox
