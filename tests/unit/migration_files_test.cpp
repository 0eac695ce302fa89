// The migration-file readers and status logic (probes/postgres/migration_files), without a
// database: Django's plan with squashes, Prisma checksums, Flyway/golang-migrate/Rails versions,
// Alembic chains. The same logic against real history tables is in postgres_probe_test.cpp.
#include "probes/postgres/migration_files.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

namespace deploycheck {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/migration-files-test.XXXXXX";
    path_ = mkdtemp(name);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  void write(const std::string& relative, const std::string& text) const {
    fs::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative) << text;
  }

 private:
  fs::path path_;
};

std::vector<HistoryRow> rows(std::vector<std::string> ids) {
  std::vector<HistoryRow> out;
  for (auto& id : ids) out.push_back({id, false, std::nullopt});
  return out;
}

TEST(VersionLess, ComparesComponentsNumerically) {
  EXPECT_TRUE(version_less("1.9", "1.10"));
  EXPECT_FALSE(version_less("1.10", "1.9"));
  EXPECT_TRUE(version_less("2", "10"));
  EXPECT_TRUE(version_less("1", "1.1"));
  EXPECT_TRUE(version_less("20240101", "20240102"));
  EXPECT_FALSE(version_less("3", "3"));
}

TEST(DjangoMigrations, ReadsDependenciesAndReplacesStatically) {
  TempDir dir;
  dir.write("shop/migrations/__init__.py", "");
  dir.write("shop/migrations/0001_initial.py",
            "from django.conf import settings\n"
            "class Migration(migrations.Migration):\n"
            "    # (\"commented\", \"0001_out\") is not a dependency\n"
            "    dependencies = [\n"
            "        migrations.swappable_dependency(settings.AUTH_USER_MODEL),\n"
            "        ('other', \"0002_x\"),  # trailing comment ('no', 'pe')\n"
            "    ]\n");
  dir.write("shop/migrations/0001_squashed_0002_b.py",
            "class Migration(migrations.Migration):\n"
            "    replaces = [(\"shop\", \"0001_initial\"), (\"shop\", \"0002_b\")]\n"
            "    dependencies = []\n");
  dir.write("shop/migrations/~0003_tmp.py", "dependencies = [('x', 'y')]");
  const auto all = read_django_migrations({dir.path() / "shop/migrations"},
                                          {{"AUTH_USER_MODEL", "accounts.User"}});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].app, "shop");
  EXPECT_EQ(all[0].name, "0001_initial");
  EXPECT_THAT(all[0].dependencies,
              ElementsAre(std::pair<std::string, std::string>{"other", "0002_x"},
                          std::pair<std::string, std::string>{"accounts", "__first__"}));
  EXPECT_THAT(all[1].replaces,
              ElementsAre(std::pair<std::string, std::string>{"shop", "0001_initial"},
                          std::pair<std::string, std::string>{"shop", "0002_b"}));
}

TEST(DjangoMigrations, AnUnknownSwappableSettingIsAnError) {
  TempDir dir;
  dir.write("a/migrations/0001_initial.py",
            "dependencies = [migrations.swappable_dependency(settings.TENANT_MODEL)]\n");
  EXPECT_THROW(read_django_migrations({dir.path() / "a/migrations"}, {}), std::runtime_error);
}

// a.0001, a.0002 squashed into a.0001_squashed_0002; b.0001 depends on a.0001 (remapped).
std::vector<DjangoMigration> squash_project() {
  return {
      {"a", "0001_initial", {}, {}},
      {"a", "0002_more", {{"a", "0001_initial"}}, {}},
      {"a", "0001_squashed_0002_more", {}, {{"a", "0001_initial"}, {"a", "0002_more"}}},
      {"a", "0003_last", {{"a", "0002_more"}}, {}},
      {"b", "0001_initial", {{"a", "0001_initial"}}, {}},
  };
}

TEST(DjangoStatus, NothingAppliedUsesTheSquash) {
  const auto s = django_status(squash_project(), {});
  EXPECT_THAT(s.pending, ElementsAre("a.0001_squashed_0002_more", "a.0003_last", "b.0001_initial"));
  EXPECT_THAT(s.applied, IsEmpty());
}

TEST(DjangoStatus, AllReplacedAppliedMarksTheSquashApplied) {
  const auto s = django_status(squash_project(), rows({"a.0001_initial", "a.0002_more"}));
  EXPECT_THAT(s.applied, ElementsAre("a.0001_squashed_0002_more"));
  EXPECT_THAT(s.pending, ElementsAre("a.0003_last", "b.0001_initial"));
}

TEST(DjangoStatus, HalfAppliedSquashFallsBackToTheOriginals) {
  const auto s = django_status(squash_project(), rows({"a.0001_initial"}));
  EXPECT_THAT(s.applied, ElementsAre("a.0001_initial"));
  EXPECT_THAT(s.pending, ElementsAre("a.0002_more", "a.0003_last", "b.0001_initial"));
}

TEST(DjangoStatus, FirstResolvesToTheAppsRootAndUnknownRowsAreReported) {
  std::vector<DjangoMigration> project = {
      {"auth", "0001_initial", {}, {}},
      {"auth", "0002_x", {{"auth", "0001_initial"}}, {}},
      {"shop", "0001_initial", {{"auth", "__first__"}}, {}},
  };
  const auto s =
      django_status(project, rows({"auth.0001_initial", "auth.0099_gone", "admin.0001_initial"}));
  EXPECT_THAT(s.pending, ElementsAre("auth.0002_x", "shop.0001_initial"));
  // admin's migrations are not configured: its rows are not this check's business.
  EXPECT_THAT(s.unknown, ElementsAre("auth.0099_gone"));
}

TEST(PrismaStatus, FailedRolledBackAndEditedMigrations) {
  TempDir dir;
  dir.write("m/001_a/migration.sql", "create table a ();\n");
  dir.write("m/002_b/migration.sql", "create table b ();\n");
  dir.write("m/003_c/migration.sql", "create table c ();\n");
  dir.write("m/migration_lock.toml", "provider = \"postgresql\"\n");
  const auto a = sha256_file_hex(dir.path() / "m/001_a/migration.sql");
  EXPECT_EQ(a.size(), 64u);
  const auto s = prisma_status(dir.path() / "m", {{"001_a", false, a},
                                                  {"002_b", false, std::string(64, '0')},
                                                  {"003_c", true, std::nullopt},
                                                  {"000_gone", false, std::nullopt}});
  EXPECT_THAT(s.applied, ElementsAre("001_a", "002_b"));
  EXPECT_THAT(s.checksum_mismatch, ElementsAre("002_b"));
  EXPECT_THAT(s.failed, ElementsAre("003_c"));
  EXPECT_THAT(s.pending, IsEmpty());
  EXPECT_THAT(s.unknown, ElementsAre("000_gone"));
  // A failed attempt followed by a successful one is history, not a failure.
  const auto retried = prisma_status(
      dir.path() / "m", {{"003_c", true, std::nullopt}, {"003_c", false, std::nullopt}});
  EXPECT_THAT(retried.failed, IsEmpty());
}

TEST(VersionedStatus, RailsEveryRowIsAVersion) {
  TempDir dir;
  dir.write("db/migrate/20240101000000_create_users.rb", "");
  dir.write("db/migrate/20240301000000_add_index.rb", "");
  dir.write("db/migrate/README", "");
  VersionedFiles files{dir.path() / "db/migrate", R"(([0-9]+)_[A-Za-z0-9_]+\.rb)"};
  const auto s = versioned_status(files, rows({"20240101000000"}));
  EXPECT_THAT(s.applied, ElementsAre("20240101000000"));
  EXPECT_THAT(s.pending, ElementsAre("20240301000000"));
}

TEST(VersionedStatus, AlembicHeadsAndAMerge) {
  TempDir dir;
  dir.write("v/a.py", "revision = 'a'\ndown_revision = None\n");
  dir.write("v/b.py", "revision: str = \"b\"\ndown_revision: Union[str, None] = 'a'\n");
  dir.write("v/c.py", "revision = 'c'\ndown_revision = 'a'\n");
  dir.write("v/d.py", "revision = 'd'\ndown_revision = ('b', 'c')\n");
  VersionedFiles files{dir.path() / "v", "", AppliedMeaning::kHeads};
  const auto s = versioned_status(files, rows({"b"}));
  EXPECT_THAT(s.applied, ElementsAre("a", "b"));
  EXPECT_THAT(s.pending, ElementsAre("c", "d"));
  EXPECT_THAT(versioned_status(files, rows({"zzz"})).unknown, ElementsAre("zzz"));
}

}  // namespace
}  // namespace deploycheck
