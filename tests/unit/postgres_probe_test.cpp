// probes/postgres and the Migrations matchers against the sandbox's real PostgreSQL 15 (CTest
// fixture Sandbox.Up/postgres_broken, which brings up ca and postgres too; DEPLOYCHECK_RUNTIME_ENV
// names its sandbox.env). Each test that changes anything works in a scratch database of its own,
// dropped afterwards. The Django reader is compared with Debian's Django itself:
// `/usr/bin/python3 manage.py showmigrations --plan` on the same database.
#include "probes/postgres/postgres_probe.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <sstream>

#include "matchers/postgres_matchers.hpp"
#include "probes/policy.hpp"
#include "tests/unit/matcher_testing.hpp"

namespace deploycheck {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const fs::path kSource = DEPLOYCHECK_SOURCE_DIR;
const fs::path kWebapp = kSource / "environments/sandbox/webapp";
const fs::path kOtherTools = kSource / "environments/sandbox/migrations";
const fs::path kDjangoContrib = "/usr/lib/python3/dist-packages/django/contrib";

std::map<std::string, std::string> sandbox_env() {
  std::map<std::string, std::string> env;
  const char* path = std::getenv("DEPLOYCHECK_RUNTIME_ENV");
  if (path == nullptr) return env;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

// The admin URL with another database name.
std::string with_database(const std::string& url, const std::string& db) {
  const auto slash = url.find('/', url.find('@'));
  const auto query = url.find('?', slash);
  return url.substr(0, slash + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

MigrationsRequest django_request() {
  MigrationsRequest m{.id = "django", .tool = "django"};
  m.swappable = {{"AUTH_USER_MODEL", "auth.User"}};
  m.directories = {kWebapp / "accounts/migrations", kWebapp / "billing/migrations",
                   kDjangoContrib / "auth/migrations", kDjangoContrib / "contenttypes/migrations",
                   kDjangoContrib / "sessions/migrations"};
  return m;
}

// Runs Debian's Django on the web application with DATABASE_URL=url; returns stdout, fails the
// test on a non-zero exit. The URL travels in the environment only.
std::string manage_py(const std::string& url, std::vector<std::string> args) {
  int out[2];
  if (pipe(out) != 0) return "";
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    if (chdir(kWebapp.c_str()) != 0) _exit(126);
    std::vector<std::string> env_text = {"PATH=/usr/bin:/bin", "DATABASE_URL=" + url,
                                         "DJANGO_SETTINGS_MODULE=webapp.settings",
                                         "PYTHONDONTWRITEBYTECODE=1", "LANG=C.UTF-8"};
    args.insert(args.begin(), {"/usr/bin/python3", "manage.py"});
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) > 0;)
    text.append(buffer, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "manage.py " << args[2] << " failed: " << text;
  return text;
}

// `showmigrations --plan`'s unapplied lines ("[ ]  app.name"), in order.
std::vector<std::string> django_pending(const std::string& url) {
  std::vector<std::string> pending;
  std::istringstream in(manage_py(url, {"showmigrations", "--plan"}));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("[ ]  ", 0) == 0) pending.push_back(line.substr(5));
  }
  return pending;
}

class PostgresProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = sandbox_env();
    if (!env_.count("SANDBOX_POSTGRES_ADMIN_URL") || !env_.count("SANDBOX_BROKEN_DATABASE_URL")) {
      GTEST_FAIL() << "expected DEPLOYCHECK_RUNTIME_ENV to name the sandbox.env of a sandbox with "
                      "postgres and postgres_broken up (run through ctest: the fixtures do that)";
    }
  }
  void TearDown() override {
    for (const auto& db : scratch_) {
      pqxx::connection admin(env_.at("SANDBOX_POSTGRES_ADMIN_URL"));
      pqxx::nontransaction tx(admin);
      tx.exec("drop database if exists " + tx.quote_name(db) + " with (force)");
    }
  }

  // A fresh empty database owned by the superuser; returns its admin URL.
  std::string scratch_database() {
    const std::string name =
        "dc_probe_test_" + std::to_string(getpid()) + "_" + std::to_string(scratch_.size());
    pqxx::connection admin(env_.at("SANDBOX_POSTGRES_ADMIN_URL"));
    pqxx::nontransaction tx(admin);
    tx.exec("drop database if exists " + tx.quote_name(name) + " with (force)");
    tx.exec("create database " + tx.quote_name(name));
    scratch_.push_back(name);
    return with_database(env_.at("SANDBOX_POSTGRES_ADMIN_URL"), name);
  }

  static void sql(const std::string& url, const std::string& text) {
    pqxx::connection c(url);
    pqxx::work tx(c);
    tx.exec(text);
    tx.commit();
  }

  static MigrationStatus status(const nlohmann::json& facts, const std::string& id) {
    return migration_status_from_json(facts.at("migrations").at(id));
  }

  std::map<std::string, std::string> env_;
  std::vector<std::string> scratch_;
};

TEST_F(PostgresProbeTest, GathersTheSandboxDatabaseOverTls) {
  PostgresRequest r{.url = Secret(env_.at("SANDBOX_DATABASE_URL")), .shown = "webapp"};
  r.count_tables = {"billing_plan", "billing_package", "no_such_table"};
  r.migrations = {django_request()};
  const auto json = gather_postgres(r, 5s);
  const DatabaseFacts facts{json};
  EXPECT_EQ(facts.major_version(), 15);
  EXPECT_TRUE(facts.session_ssl());
  EXPECT_EQ(json.at("server").at("user"), "webapp");
  EXPECT_THAT(facts, SessionUsesTls("TLSv1.2"));
  EXPECT_THAT(facts, ServerVersionAtLeast(13));
  EXPECT_THAT(facts, Not(ServerVersionAtLeast(16)));
  EXPECT_THAT(facts, HasIndexes({"billing_plan_active_price", "public.billing_sub_org_status"}));
  EXPECT_THAT(facts, Not(HasIndexes({"billing_plan_no_such_index"})));
  EXPECT_THAT(row_count(facts, "billing_plan"), HasRowsBetween(6, 6));
  EXPECT_THAT(row_count(facts, "billing_package"), HasRowsBetween(5, std::nullopt));
  EXPECT_THAT(row_count(facts, "no_such_table"), Not(HasRowsBetween(0, std::nullopt)));
  EXPECT_TRUE(row_count(facts, "billing_plan").exact);
  EXPECT_THAT(facts, ConnectionsBelow(0.5));
  EXPECT_THAT(facts, Not(ConnectionsBelow(1.0 / 40)));  // this very session is one of 40
  EXPECT_THAT(facts, HasSetting("ssl", "on"));
  EXPECT_THAT(facts, Not(HasSetting("password_encryption", "md5")));
  EXPECT_THAT(facts, ReplicationLagBelow(1s));  // a primary
  EXPECT_THAT(status(json, "django"), NonePending());
  EXPECT_THAT(status(json, "django"), NoneUnknown());
}

TEST_F(PostgresProbeTest, ARowCountPastTheBoundIsTheEstimate) {
  PostgresRequest r{.url = Secret(env_.at("SANDBOX_DATABASE_URL")), .shown = "webapp"};
  r.count_tables = {"billing_plan"};
  r.exact_count_below = 0;  // every table is "large"
  const auto json = gather_postgres(r, 5s);
  const auto count = row_count(DatabaseFacts{json}, "billing_plan");
  // Django's migrate never ran ANALYZE: the estimate is reltuples, -1 (unknown) or a guess;
  // an unknown estimate is counted exactly.
  EXPECT_EQ(count.exact, json.at("tables").at("public.billing_plan").at("estimated_rows") < 0);
}

TEST_F(PostgresProbeTest, APlainTextSessionIsReportedNotTls) {
  // The broken role is refused TLS by pg_hba.conf; sslmode=prefer falls back to plain text.
  PostgresRequest r{.url = Secret(env_.at("SANDBOX_BROKEN_DATABASE_URL")),
                    .shown = "broken",
                    .sslmode = "prefer"};
  const DatabaseFacts facts{gather_postgres(r, 5s)};
  EXPECT_FALSE(facts.session_ssl());
  const auto verdict = testing::judge(SessionUsesTls("TLSv1.2"), facts);
  EXPECT_FALSE(verdict.matched);
  EXPECT_THAT(verdict.explanation, HasSubstr("not encrypted"));
  // With sslmode=require the same role cannot log in at all: unreachable, never "no TLS".
  r.sslmode = "require";
  EXPECT_THROW(gather_postgres(r, 5s), Unreachable);
}

TEST_F(PostgresProbeTest, TheRoundTripLeavesNoTrace) {
  const std::string url = scratch_database();
  sql(url, "create table kept (id int primary key); insert into kept values (1)");
  PostgresRequest r{.url = Secret(url), .shown = "scratch", .round_trip = true};
  const auto before =
      DatabaseFacts{gather_postgres(PostgresRequest{.url = Secret(url), .shown = "s"}, 5s)};
  const DatabaseFacts facts{gather_postgres(r, 5s)};
  EXPECT_THAT(facts, RoundTripSucceeds());
  EXPECT_EQ(facts.data.at("round_trip").at("rolled_back"), true);
  // Nothing left: the same schema as before, no table of ours in any schema, the data unchanged.
  const auto after =
      DatabaseFacts{gather_postgres(PostgresRequest{.url = Secret(url), .shown = "s"}, 5s)};
  EXPECT_EQ(after.schema_lines(), before.schema_lines());
  pqxx::connection c(url);
  pqxx::read_transaction tx(c);
  EXPECT_EQ(
      tx.exec("select count(*) from pg_class where relname like 'deploycheck%'")[0][0].as<int>(),
      0);
  EXPECT_EQ(tx.exec("select count(*) from kept")[0][0].as<int>(), 1);
  // Without the opt-in there is no round trip, and the matcher says so.
  EXPECT_THAT(before, Not(RoundTripSucceeds()));
}

TEST_F(PostgresProbeTest, TheRoundTripFailsOnAReadOnlyDatabase) {
  const std::string url = scratch_database();
  sql(url, "select 1");
  {
    pqxx::connection admin(env_.at("SANDBOX_POSTGRES_ADMIN_URL"));
    pqxx::nontransaction tx(admin);
    tx.exec("alter database " + tx.quote_name(scratch_.back()) +
            " set default_transaction_read_only = on");
  }
  PostgresRequest r{.url = Secret(url), .shown = "scratch", .round_trip = true};
  const DatabaseFacts facts{gather_postgres(r, 5s)};
  const auto verdict = testing::judge(RoundTripSucceeds(), facts);
  EXPECT_FALSE(verdict.matched);
  EXPECT_THAT(verdict.explanation, HasSubstr("read-only transaction"));
}

TEST_F(PostgresProbeTest, OrphanRowsAreFoundPerForeignKey) {
  const std::string url = scratch_database();
  sql(url,
      "create table parent (id int primary key);"
      "create table child (id int primary key, parent_id int references parent(id));"
      "insert into parent values (1); insert into child values (1, 1), (2, null);");
  PostgresRequest r{.url = Secret(url), .shown = "scratch", .orphans = true};
  EXPECT_THAT(DatabaseFacts{gather_postgres(r, 5s)}, HasNoOrphanRows());
  sql(url, "set session_replication_role = replica; insert into child values (3, 42), (4, 43)");
  const auto verdict = testing::judge(HasNoOrphanRows(), DatabaseFacts{gather_postgres(r, 5s)});
  EXPECT_FALSE(verdict.matched);
  EXPECT_THAT(verdict.explanation,
              HasSubstr("public.child(parent_id) -> public.parent: 2 orphaned row(s)"));
}

TEST_F(PostgresProbeTest, SchemaSnapshotNamesEachDifference) {
  const std::string url = scratch_database();
  sql(url, "create table t (id int primary key, name text not null)");
  PostgresRequest r{.url = Secret(url), .shown = "scratch"};
  const auto snapshot = DatabaseFacts{gather_postgres(r, 5s)}.schema_lines();
  EXPECT_THAT(DatabaseFacts{gather_postgres(r, 5s)}, MatchesSchemaSnapshot(snapshot, "t.snapshot"));
  sql(url, "alter table t add column extra int; create index t_name on t(name)");
  const auto verdict = testing::judge(MatchesSchemaSnapshot(snapshot, "t.snapshot"),
                                      DatabaseFacts{gather_postgres(r, 5s)});
  EXPECT_FALSE(verdict.matched);
  EXPECT_THAT(verdict.explanation,
              HasSubstr("present, not expected: column public.t.extra integer null"));
  EXPECT_THAT(verdict.explanation,
              HasSubstr("present, not expected: index public.t_name: CREATE INDEX"));
  EXPECT_THAT(verdict.explanation, HasSubstr("in 2 line(s)"));
}

// The pending list equals Django's own `showmigrations --plan`, in order: one migration left
// unapplied, a fresh database (the squash used), and a half-applied squash (the originals used).
TEST_F(PostgresProbeTest, DjangoPendingEqualsShowmigrationsPlan) {
  const std::string url = scratch_database();
  PostgresRequest r{.url = Secret(url), .shown = "scratch", .migrations = {django_request()}};

  // A fresh database: everything pending, the squash instead of its originals.
  const auto fresh = status(gather_postgres(r, 5s), "django");
  const auto django_fresh = django_pending(url);
  EXPECT_EQ(fresh.pending, django_fresh);
  EXPECT_EQ(fresh.pending.size(), 21u);
  EXPECT_THAT(fresh.pending, ::testing::Contains("accounts.0001_squashed_0002_profile"));

  // One migration left unapplied.
  manage_py(url, {"migrate", "--no-input"});
  manage_py(url, {"migrate", "--no-input", "billing", "0003_seed_plans"});
  const auto one = status(gather_postgres(r, 5s), "django");
  EXPECT_EQ(one.pending, django_pending(url));
  EXPECT_THAT(one.pending, ElementsAre("billing.0004_plan_active_price_index"));
  EXPECT_THAT(one, Not(NonePending()));
  EXPECT_THAT(one, PendingEquals({"billing.0004_plan_active_price_index"}));
  EXPECT_THAT(one.unknown, IsEmpty());

  // Half of a squash applied (its second original forgotten): Django falls back to the
  // originals, and billing.0002 (which depends on accounts.0001_initial) stays applied.
  sql(url,
      "delete from django_migrations where app = 'accounts' and name in "
      "('0002_profile', '0001_squashed_0002_profile')");
  const auto half = status(gather_postgres(r, 5s), "django");
  EXPECT_EQ(half.pending, django_pending(url));
  EXPECT_THAT(half.pending, ::testing::Contains("accounts.0002_profile"));

  // A row no file explains: applied but unknown.
  sql(url,
      "insert into django_migrations (app, name, applied) values ('billing', '0099_gone', now())");
  EXPECT_THAT(status(gather_postgres(r, 5s), "django").unknown, ElementsAre("billing.0099_gone"));
}

TEST_F(PostgresProbeTest, FlywayHistoryFromARealTable) {
  const std::string url = scratch_database();
  sql(url,
      "create table flyway_schema_history (installed_rank int primary key, version varchar(50), "
      "description varchar(200) not null, type varchar(20) not null, script varchar(1000) not "
      "null, "
      "checksum int, installed_by varchar(100) not null, installed_on timestamp not null default "
      "now(), "
      "execution_time int not null, success boolean not null);"
      "insert into flyway_schema_history values "
      "(1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'x', now(), 1, true),"
      "(2, null, 'view', 'SQL', 'R__view.sql', 2, 'x', now(), 1, true),"
      "(3, '1.1', 'add name', 'SQL', 'V1_1__add_name.sql', 3, 'x', now(), 1, true)");
  MigrationsRequest m{.id = "flyway",
                      .tool = "flyway",
                      .directories = {kOtherTools / "flyway"},
                      .history_query =
                          "select version, not success from flyway_schema_history "
                          "where version is not null order by installed_rank",
                      .file_pattern = R"(V([0-9]+(?:[._][0-9]+)*)__.*\.sql)",
                      .dots_for_underscores = true};
  PostgresRequest r{.url = Secret(url), .shown = "scratch", .migrations = {m}};
  auto s = status(gather_postgres(r, 5s), "flyway");
  EXPECT_THAT(s.applied, ElementsAre("1", "1.1"));
  EXPECT_THAT(s.pending, ElementsAre("2"));
  EXPECT_THAT(s, PendingEquals({"2"}));
  EXPECT_THAT(s, NoneFailed());
  sql(url,
      "insert into flyway_schema_history values (4, '2', 'seed', 'SQL', 'V2__seed.sql', 4, 'x', "
      "now(), 1, false)");
  s = status(gather_postgres(r, 5s), "flyway");
  EXPECT_THAT(s.failed, ElementsAre("2"));
  EXPECT_THAT(s.pending, IsEmpty());
  EXPECT_THAT(s, Not(NoneFailed()));
}

TEST_F(PostgresProbeTest, GolangMigrateHistoryFromARealTable) {
  const std::string url = scratch_database();
  sql(url,
      "create table schema_migrations (version bigint not null primary key, dirty boolean not "
      "null);"
      "insert into schema_migrations values (1, false)");
  MigrationsRequest m{.id = "golang_migrate",
                      .tool = "golang-migrate",
                      .directories = {kOtherTools / "golang"},
                      .history_query = "select version::text, dirty from schema_migrations",
                      .file_pattern = R"(([0-9]+)_.*\.up\.sql)",
                      .applied = "latest_only"};
  PostgresRequest r{.url = Secret(url), .shown = "scratch", .migrations = {m}};
  auto s = status(gather_postgres(r, 5s), "golang_migrate");
  EXPECT_THAT(s.applied, ElementsAre("1"));
  EXPECT_THAT(s.pending, ElementsAre("2"));
  sql(url, "update schema_migrations set version = 2");
  s = status(gather_postgres(r, 5s), "golang_migrate");
  EXPECT_THAT(s, NonePending());
  EXPECT_THAT(s, NoneFailed());
  sql(url, "update schema_migrations set dirty = true");
  s = status(gather_postgres(r, 5s), "golang_migrate");
  EXPECT_THAT(s.failed, ElementsAre("2"));
  EXPECT_THAT(s.applied, ElementsAre("1"));
}

TEST_F(PostgresProbeTest, PrismaHistoryFromARealTable) {
  const std::string url = scratch_database();
  std::string rows;
  for (const char* name : {"20240101000000_init", "20240201000000_add_orders"}) {
    rows += std::string(rows.empty() ? "" : ",") + "('" + name + "', '" +
            sha256_file_hex(kOtherTools / "prisma" / name / "migration.sql") + "', now(), '" +
            name + "')";
  }
  sql(url,
      "create table _prisma_migrations (id varchar(36) primary key, checksum varchar(64) not null, "
      "finished_at timestamptz, migration_name varchar(255) not null, logs text, rolled_back_at "
      "timestamptz, started_at timestamptz not null default now(), applied_steps_count int not "
      "null default 0);"
      "insert into _prisma_migrations (id, checksum, finished_at, migration_name) values " +
          rows +
          ";insert into _prisma_migrations (id, checksum, finished_at, migration_name, "
          "rolled_back_at) values "
          "('x', 'y', null, '20240301000000_add_order_index', now())");
  MigrationsRequest m{.id = "prisma", .tool = "prisma", .directories = {kOtherTools / "prisma"}};
  PostgresRequest r{.url = Secret(url), .shown = "scratch", .migrations = {m}};
  const auto s = status(gather_postgres(r, 5s), "prisma");
  EXPECT_THAT(s, ChecksumsMatch());
  EXPECT_THAT(s, NoneFailed());  // the rolled-back attempt is neither applied nor failed
  EXPECT_THAT(s.pending, ElementsAre("20240301000000_add_order_index"));
}

TEST_F(PostgresProbeTest, ErrorsNeverShowTheConnectionString) {
  std::string url = env_.at("SANDBOX_DATABASE_URL");
  const auto colon = url.find(':', url.find("://") + 3);
  const auto at = url.find('@');
  const std::string password = url.substr(colon + 1, at - colon - 1);
  const std::string wrong = url.substr(0, colon + 1) + "not-" + password + url.substr(at);
  PostgresRequest r{.url = Secret(wrong), .shown = "database 'webapp'"};
  try {
    gather_postgres(r, 5s);
    FAIL() << "a wrong password was accepted";
  } catch (const Unreachable& e) {
    const std::string message = e.what();
    EXPECT_THAT(message, HasSubstr("password authentication failed for user \"webapp\""));
    EXPECT_THAT(message, HasSubstr("database 'webapp'"));
    EXPECT_THAT(message, Not(HasSubstr(password)));
    EXPECT_THAT(message, Not(HasSubstr("postgres://")));
  }
}

TEST_F(PostgresProbeTest, AServerThatNeverAnswersFailsWithinTheDeadline) {
  // A listening socket nobody accepts on: the TCP handshake completes, PostgreSQL's never does.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t length = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  const std::string url =
      "postgres://u:secretpw@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/db";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(gather_postgres(PostgresRequest{.url = Secret(url), .shown = "silent"}, 2s),
               Unreachable);
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_GE(took, 1500ms);
  EXPECT_LT(took, 20s);  // libpq's connect_timeout of 2 s, with a wide margin
}

}  // namespace
}  // namespace deploycheck
