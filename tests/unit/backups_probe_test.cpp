// The backup probes' own parts that need no server: listing a real directory, the bounded
// helper-program runner, the postgres:// URL split that keeps passwords out of command lines,
// and pg_restore on a file that is not an archive. The S3 client's signing is in
// backups_s3_test.cpp; everything against real servers runs in the sandbox environments.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "probes/backups/listing.hpp"
#include "probes/backups/run.hpp"
#include "probes/backups/verify.hpp"
#include "probes/policy.hpp"

namespace deploycheck {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

void write(const fs::path& path, const std::string& content, std::time_t mtime) {
  std::ofstream(path, std::ios::binary) << content;
  const struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

TEST(ListLocal, ListsMatchingRegularFilesNewestFirstWithTheirFormats) {
  backups::TempDir dir;
  write(dir.path() / "old.dump", "PGDMP\x01\x0e", 1'700'000'000);
  write(dir.path() / "new.dump", "Salted__12345678", 1'700'086'400);
  write(dir.path() / "notes.txt", "-- not a backup", 1'700'100'000);
  write(dir.path() / ".hidden.dump", "PGDMP", 1'700'100'000);
  fs::create_directory(dir.path() / "sub.dump");
  const auto listing = backups::list_local(dir.path(), "*.dump");
  ASSERT_EQ(listing.backups.size(), 2u);
  EXPECT_EQ(listing.kind, "local");
  EXPECT_EQ(listing.backups[0].name, "new.dump");
  EXPECT_EQ(listing.backups[0].format, backups::Format::kOpensslEnc);
  EXPECT_EQ(listing.backups[0].mtime, 1'700'086'400);
  EXPECT_EQ(listing.backups[1].name, "old.dump");
  EXPECT_EQ(listing.backups[1].size, 7u);
  EXPECT_EQ(listing.backups[1].first_bytes_hex, "50 47 44 4d 50 01 0e");
}

TEST(ListLocal, AMissingDirectoryIsUnreachable) {
  try {
    backups::list_local("/nonexistent/deploycheck-backups", "*");
    FAIL() << "no exception";
  } catch (const Unreachable& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("cannot list the backup directory /nonexistent/deploycheck-backups"));
  }
}

TEST(RunBounded, CapturesOutputAndExitStatus) {
  const auto r =
      backups::run_bounded(backups::find_program("sh"), {"-c", "echo out; echo err >&2; exit 3"},
                           10s, {{"DEPLOYCHECK_PROBE_TEST", "x"}});
  ASSERT_TRUE(r.status);
  EXPECT_EQ(r.status->code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.describe(10s), "exited with code 3: err");
}

TEST(RunBounded, StopsAChildAtItsDeadline) {
  // A 5 s sleep against a 200 ms deadline: a 25x margin.
  const auto r = backups::run_bounded(backups::find_program("sleep"), {"5"}, 200ms);
  EXPECT_FALSE(r.status);
  EXPECT_LT(r.elapsed, 2500ms);
  EXPECT_EQ(r.describe(200ms), "did not finish within 200ms (stopped)");
}

TEST(RunBounded, NamesAMissingProgramAndItsPackage) {
  try {
    backups::find_program("pg_restore_that_does_not_exist");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("is not in PATH (Debian: apt-get install postgresql-client)"));
  }
}

TEST(PgUrl, SplitsThePasswordOffAndKeepsTheRest) {
  const auto url = backups::parse_pg_url(
      "postgresql://postgres:p%40ss%2Fw0rd@127.0.0.1:5433/postgres?sslmode=verify-full");
  EXPECT_EQ(url.password.reveal(), "p@ss/w0rd");
  EXPECT_EQ(url.database, "postgres");
  EXPECT_EQ(url.with_database("scratch"),
            "postgresql://postgres@127.0.0.1:5433/scratch?sslmode=verify-full");
  const auto bare = backups::parse_pg_url("postgres://db.internal");
  EXPECT_TRUE(bare.password.empty());
  EXPECT_EQ(bare.with_database("x"), "postgres://db.internal/x");
}

TEST(PgUrl, RefusesOtherUrlsWithoutQuotingThem) {
  try {
    backups::parse_pg_url("mysql://root:hunter2@db/x");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), Not(HasSubstr("hunter2")));
    EXPECT_THAT(e.what(), HasSubstr("expected a postgres:// or postgresql:// URL"));
  }
}

TEST(TestRestore, RefusesToRestoreIntoTheServersOwnDatabase) {
  backups::RestoreRequest request{.file = "/dev/null",
                                  .name = "x.dump",
                                  .server_url = Secret("postgresql://u:secret@127.0.0.1:1/app"),
                                  .scratch_database = "app"};
  try {
    backups::test_restore(request);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("is the restore server URL's own database: refusing to overwrite it"));
    EXPECT_THAT(e.what(), Not(HasSubstr("secret")));
  }
}

TEST(ReadArchiveToc, ReportsAFileThatIsNotAnArchive) {
  if (::access("/usr/bin/pg_restore", X_OK) != 0)
    GTEST_SKIP() << "pg_restore (postgresql-client) is not installed";
  backups::TempDir dir;
  write(dir.path() / "x.dump", "-- plain SQL is not an archive\n", 1'700'000'000);
  const auto facts = backups::read_archive_toc(dir.path() / "x.dump", "x.dump", "pg_restore", 30s);
  EXPECT_EQ(facts.exit_code, 1);
  EXPECT_FALSE(facts.timed_out);
  EXPECT_THAT(facts.error, HasSubstr("exited with code 1: pg_restore: error:"));
}

}  // namespace
}  // namespace deploycheck
