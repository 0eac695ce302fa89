// Module `postgres_plain` (sandbox_broken only): a second PostgreSQL 15 cluster with ssl = off,
// so a database endpoint that cannot speak TLS is a real server, not a fake: the TLS suite's
// STARTTLS probe sends its SSLRequest and must be refused with 'N'. No roles, no databases
// beyond initdb's: nothing connects to it but that probe.
//
//   DATA/postgres/template   shared with `postgres` (made once, under its lock)
//   DATA/postgres_plain/     this cluster's data, socket and log
#include <stdexcept>

#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/postgres_run.hpp"

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;

class PostgresPlainModule final : public Module {
 public:
  std::string_view name() const override { return "postgres_plain"; }
  bool runs_process() const override { return true; }
  std::chrono::seconds startup_timeout() const override { return std::chrono::seconds(60); }

  Started start(const Context& context) const override {
    const PgUser user = pg_user();
    const fs::path template_home = context.data_dir / "postgres";
    const fs::path pg_dir = context.data_dir / "postgres_plain";
    make_dir(template_home, 0755);  // every parent of a data directory must be traversable
    make_dir(pg_dir, 0755);
    const fs::path data = pg_dir / "data";
    const fs::path run = pg_dir / "run";
    const fs::path log = pg_dir / "postgres.log";
    const fs::path template_dir = make_template(user, template_home, context.deadline);
    fs::remove_all(data);
    run_to_completion({.program = "/bin/cp", .args = {"-a", template_dir.string(), data.string()}},
                      pg_dir / "copy.log", context.deadline, "copying the cluster template");
    write_file_atomically(data / "pg_hba.conf",
                          "# Written by deploycheck-sandboxctl (postgres_plain module).\n"
                          "local  all  postgres                trust\n"
                          "host   all  all       127.0.0.1/32  scram-sha-256\n",
                          0600);
    hand_to(user, data / "pg_hba.conf");
    make_dir(run, 0700);
    hand_to(user, run);

    RunningCluster cluster = start_cluster(user, data, run, log,
                                           {"ssl=off", "max_connections=10", "shared_buffers=8MB",
                                            "fsync=off", "logging_collector=off"},
                                           "with ssl = off", context.deadline);
    update_env(context.data_dir, {{"SANDBOX_POSTGRES_PLAIN_PORT", std::to_string(cluster.port)}});
    return {std::move(cluster.child), "ready on 127.0.0.1:" + std::to_string(cluster.port) +
                                          " (ssl = off, broken on purpose)"};
  }
};

}  // namespace

const Module& postgres_plain_module() {
  static const PostgresPlainModule module;
  return module;
}

}  // namespace deploycheck::sandbox
