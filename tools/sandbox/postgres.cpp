// Module `postgres`: Debian's PostgreSQL 15 as a throwaway cluster on 127.0.0.1 at a free port,
// TLS on (an EC server certificate from the sandbox CA, TLS 1.2 at least), password (SCRAM)
// authentication, and the sandbox web application's database migrated by Django itself.
//
//   DATA/postgres/template   initdb's output, made once per data dir (under a lock)
//   DATA/postgres/data       a `cp -a` of the template: the running cluster
//   DATA/postgres/run        the unix socket (0700): setup connects there as the superuser
//   DATA/postgres/tls        server.crt (leaf + intermediate) and server.key
//   DATA/postgres/*.log      the server's and each setup step's output
//
// PostgreSQL refuses to run as root: as root, initdb and postgres run as the `postgres` user
// through `setpriv --reuid --regid --init-groups`, which execs, so the pid the supervisor holds is
// the postmaster itself (pg_ctl would daemonize and escape the process group). As an ordinary
// user they run as that user.
//
// Databases and roles (passwords fresh per start, in sandbox.env only):
//   webapp         owned by role `webapp`; `manage.py migrate` applied every migration
//   postgres       the superuser, password login over TLS (SANDBOX_POSTGRES_ADMIN_URL), for
//                  modules and tests that must create or restore databases
#include <grp.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <unistd.h>

#include <stdexcept>

#include "tools/sandbox/ca.hpp"
#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/fd.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/net.hpp"
#include "tools/sandbox/postgres_run.hpp"
#include "tools/sandbox/readiness.hpp"
#include "tools/sandbox/x509.hpp"

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The server certificate: EC P-256 for localhost/127.0.0.1, issued by the sandbox intermediate
// CA, served with the intermediate so clients verify against the root (SANDBOX_CA_FILE).
void write_server_cert(const PgUser& user, const CaFiles& ca, const fs::path& tls_dir) {
  make_dir(tls_dir, 0700);
  const Issued intermediate = read_issued(ca.intermediate_cert, ca.intermediate_key);
  CertSpec spec;
  spec.common_name = "localhost";
  spec.dns_names = {"localhost"};
  spec.ip_addresses = {"127.0.0.1"};
  const Issued server = issue_cert(spec, &intermediate);
  write_certs_pem(tls_dir / "server.crt", {server.cert.get(), intermediate.cert.get()});
  write_key_pem(tls_dir / "server.key", server.key.get());
  // The server reads its key only when it owns it and nobody else may read it.
  hand_to(user, tls_dir);
  hand_to(user, tls_dir / "server.crt");
  hand_to(user, tls_dir / "server.key");
}

std::string hba_rules() {
  return "# Written by deploycheck-sandboxctl (postgres module).\n"
         "# TYPE     DATABASE       USER           ADDRESS        METHOD\n"
         "local      all            postgres                      trust\n"
         // sandbox_broken's database (module postgres_broken) lets its role in WITHOUT TLS:
         // TLS attempts are rejected, so with sslmode=prefer the client falls back to a plain
         // session, which Migrations.SessionUsesTls must catch.
         "hostssl    webapp_broken  webapp_broken  127.0.0.1/32   reject\n"
         "hostnossl  webapp_broken  webapp_broken  127.0.0.1/32   scram-sha-256\n"
         "hostssl    all            all            127.0.0.1/32   scram-sha-256\n";
}

class PostgresModule final : public Module {
 public:
  std::string_view name() const override { return "postgres"; }
  std::vector<std::string_view> dependencies() const override { return {"ca"}; }
  bool runs_process() const override { return true; }
  // initdb (once), the copy, the server and Django's migrate: a few seconds on a busy machine.
  std::chrono::seconds startup_timeout() const override { return std::chrono::seconds(90); }

  Started start(const Context& context) const override {
    const CaFiles ca = ca_files(context.data_dir);
    if (!fs::exists(ca.root_cert) || !fs::exists(ca.intermediate_key)) {
      throw std::runtime_error("postgres needs the certificates of the `ca` module, expected in " +
                               ca.dir.string() + ": start `ca` first (`up` does so by itself).");
    }
    const fs::path webapp = context.templates_dir / "webapp";
    if (!fs::exists(webapp / "manage.py")) {
      throw std::runtime_error("the sandbox web application is missing: expected " +
                               (webapp / "manage.py").string());
    }
    const PgUser user = pg_user();
    const fs::path pg_dir = context.data_dir / "postgres";
    make_dir(pg_dir, 0755);  // every parent of the data directory must be traversable
    const fs::path data = pg_dir / "data";
    const fs::path run = pg_dir / "run";
    const fs::path tls = pg_dir / "tls";
    const fs::path log = pg_dir / "postgres.log";

    const fs::path template_dir = make_template(user, pg_dir, context.deadline);
    fs::remove_all(data);
    run_to_completion({.program = "/bin/cp", .args = {"-a", template_dir.string(), data.string()}},
                      pg_dir / "copy.log", context.deadline, "copying the cluster template");
    write_file_atomically(data / "pg_hba.conf", hba_rules(), 0600);
    hand_to(user, data / "pg_hba.conf");
    make_dir(run, 0700);
    hand_to(user, run);
    write_server_cert(user, ca, tls);

    RunningCluster cluster = start_cluster(
        user, data, run, log,
        {"ssl=on", "ssl_cert_file=" + (tls / "server.crt").string(),
         "ssl_key_file=" + (tls / "server.key").string(), "ssl_min_protocol_version=TLSv1.2",
         // AEAD suites with forward secrecy only: the default (HIGH:MEDIUM:+3DES) fails
         // TLS.StrongCiphers.
         "ssl_ciphers=ECDHE+AESGCM:ECDHE+CHACHA20", "password_encryption=scram-sha-256",
         "max_connections=40", "shared_buffers=16MB", "fsync=off", "full_page_writes=off",
         "logging_collector=off", "log_connections=off"},
        "with TLS", context.deadline);
    const std::uint16_t port = cluster.port;

    PgServer server{port, run, ca.root_cert, pg_dir};
    const PgPasswords passwords = set_up_roles(server, context.deadline);
    const std::string app_url = server.url("webapp", passwords.app, "webapp");
    migrate_webapp(server, webapp, app_url, "webapp", {}, context.deadline);

    update_env(context.data_dir,
               {{"SANDBOX_POSTGRES_HOST", "127.0.0.1"},
                {"SANDBOX_POSTGRES_PORT", std::to_string(port)},
                {"SANDBOX_POSTGRES_SOCKET_DIR", run.string()},
                {"SANDBOX_DATABASE_URL", app_url},
                {"SANDBOX_POSTGRES_ADMIN_URL", server.url("postgres", passwords.admin, "postgres")},
                {"SANDBOX_WEBAPP_DIR", webapp.string()}});
    return {std::move(cluster.child),
            "ready on 127.0.0.1:" + std::to_string(port) + " (TLS, database webapp migrated)"};
  }
};

}  // namespace

const Module& postgres_module() {
  static const PostgresModule module;
  return module;
}

}  // namespace deploycheck::sandbox
