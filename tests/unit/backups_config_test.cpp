// The environment file's `backups:` section: every key read back (good/backups.yaml), and the
// mistakes it refuses, each at its file:line:column. The bad corpus (bad/backups_*.yaml) is run
// by environment_test.cpp like every other bad case.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "fixtures/config_error.hpp"
#include "fixtures/environment.hpp"

namespace deploycheck {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

Environment load_good() {
  const fs::path file = fs::path(DEPLOYCHECK_TEST_DATA) / "environments" / "good" / "backups.yaml";
  std::ifstream in(file);
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  return load_environment(text, "good/backups.yaml");
}

std::string error_of(const std::string& backups_section) {
  try {
    load_environment("name: x\nbackups:\n" + backups_section, "test.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(loaded)";
}

TEST(BackupsConfig, ReadsEveryKeyOfALocalSource) {
  const auto env = load_good();
  ASSERT_TRUE(env.backups);
  ASSERT_EQ(env.backups->sources.size(), 3u);
  const auto& s = env.backups->sources[0];
  EXPECT_EQ(s.id, "nightly_local");
  EXPECT_EQ(s.kind(), "local");
  EXPECT_EQ(s.local->directory.raw, "/var/backups/postgresql");
  EXPECT_EQ(s.local->glob, "*.dump");
  EXPECT_EQ(s.max_age, 24h);
  EXPECT_EQ(s.size->tolerance_percent, 25);
  EXPECT_EQ(s.size->previous, 3);
  EXPECT_EQ(s.retention->min_age, 30 * 24h);
  EXPECT_EQ(s.retention->min_count, 7);
  EXPECT_TRUE(s.require_encryption);
  EXPECT_EQ(s.integrity->pg_restore, "/usr/lib/postgresql/15/bin/pg_restore");
  EXPECT_EQ(s.integrity->timeout, 2min);
  EXPECT_EQ(s.restore->server_url.raw, "${RESTORE_DATABASE_URL}");
  EXPECT_EQ(s.restore->scratch_database, "restore_probe");
  ASSERT_EQ(s.restore->tables.size(), 2u);
  EXPECT_EQ(s.restore->tables[1].table, "public.auth_user");
  EXPECT_EQ(s.restore->tables[1].min_rows, 1);
  EXPECT_EQ(s.restore->rto, 15min);
  EXPECT_EQ(s.restore->timeout, 15min);  // raised to the RTO: the restore may take that long
  EXPECT_EQ(s.restore->psql, "/usr/bin/psql");
  EXPECT_EQ(s.policy.timeout, 10s);
  EXPECT_EQ(s.policy.retries, 2);
  EXPECT_EQ(s.phase, Phase::kPre);
  EXPECT_EQ(s.severity, Severity::kCritical);
}

TEST(BackupsConfig, ReadsAnS3SourceAndACommandSourceWithDefaults) {
  const auto env = load_good();
  const auto& s3 = env.backups->sources[1];
  EXPECT_EQ(s3.kind(), "s3");
  EXPECT_EQ(s3.s3->bucket.raw, "upstream-backups");
  EXPECT_EQ(s3.s3->prefix.raw, "database/");
  EXPECT_EQ(s3.s3->region.raw, "eu-west-1");
  EXPECT_EQ(s3.s3->secret_access_key.raw, "${BACKUP_AWS_SECRET_ACCESS_KEY}");
  EXPECT_TRUE(s3.require_encryption);
  EXPECT_TRUE(s3.require_content_encryption);
  EXPECT_FALSE(env.backups->sources[0].require_content_encryption);
  EXPECT_EQ(s3.integrity->pg_restore, "pg_restore");
  EXPECT_EQ(s3.integrity->timeout, 60s);
  EXPECT_FALSE(s3.size);
  EXPECT_EQ(s3.policy.timeout, 3s);  // from defaults
  EXPECT_EQ(s3.severity, Severity::kHigh);
  const auto& command = env.backups->sources[2];
  EXPECT_EQ(command.kind(), "command");
  ASSERT_EQ(command.command->argv.size(), 6u);
  EXPECT_EQ(command.command->argv[5].raw, "%s %T@ %f\n");
  EXPECT_FALSE(command.retention->min_age);
  EXPECT_EQ(command.retention->min_count, 3);
}

TEST(BackupsConfig, RefusesMistakesWhereTheyAre) {
  EXPECT_EQ(error_of("  - id: a\n"),
            "test.yaml:3:5: error: backups[0]: expected one of local, s3 or command: where the "
            "backups are listed");
  EXPECT_EQ(error_of("  backups: 1\n"),
            "test.yaml:3:3: error: backups: expected a list of backup sources: - { id: nightly, "
            "local: {...}, "
            "max_age: 24h }");
  EXPECT_THAT(error_of("  - { id: a, local: { directory: /x }, max_age: 1 }\n"),
              HasSubstr("backups[0].max_age: expected a duration"));
  EXPECT_THAT(error_of("  - { id: a, local: { directory: /x, glob: a/b } }\n"),
              HasSubstr("no '/'"));
  EXPECT_THAT(error_of("  - { id: a, command: [/bin/ls], require_encryption: true }\n"),
              HasSubstr("a command source lists names and sizes only"));
  EXPECT_THAT(error_of("  - { id: a, command: [/bin/ls], integrity: true }\n"),
              HasSubstr("pg_restore needs a local"));
  EXPECT_THAT(error_of("  - { id: a, command: /bin/ls }\n"),
              HasSubstr("expected the command as a list"));
  EXPECT_THAT(
      error_of(
          "  - { id: a, local: { directory: /x } }\n  - { id: a, local: { directory: /y } }\n"),
      HasSubstr("duplicate id 'a'"));
  EXPECT_THAT(error_of("  - { id: a, local: { directory: /x }, retention: {} }\n"),
              HasSubstr("expected min_age, min_count or both"));
  EXPECT_THAT(error_of("  - { id: a, local: { directory: /x }, restore: { server_url: "
                       "postgresql://u:p@h/db } }\n"),
              HasSubstr("expected a run-time value such as ${RESTORE_DATABASE_URL}"));
  EXPECT_THAT(
      error_of(
          "  - { id: a, local: { directory: /x }, integrity: { pg_restore: pg_restore -v } }\n"),
      HasSubstr("without arguments"));
  EXPECT_THAT(error_of("  - { id: a, local: { directory: /x }, maxage: 1h }\n"),
              HasSubstr("did you mean 'max_age'?"));
}

}  // namespace
}  // namespace deploycheck
