#pragma once
// Migration history read from a tool's history table, compared with the migration files on
// disk — statically, with no Python or Node on the machine that runs the checks.
//
// The probe reads the table (probes/postgres/postgres_probe.cpp); this file reads the disk and
// derives the facts: applied, pending (in the order the tool would apply them), applied but
// unknown on disk, failed or dirty, checksum mismatch. No judgement: an empty pending list is a
// fact, "must be empty" is the suite's business.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace deploycheck {

// One row of a history table, already reduced to what the tools have in common.
struct HistoryRow {
  std::string id;                       // "billing.0004_x" (Django), a version, a Prisma name
  bool failed = false;                  // Prisma unfinished, Flyway !success, golang-migrate dirty
  std::optional<std::string> checksum;  // Prisma: sha256 hex of migration.sql
};

struct MigrationStatus {
  std::vector<std::string> applied;            // on disk and applied, in plan order
  std::vector<std::string> pending;            // on disk, not applied (not failed), in plan order
  std::vector<std::string> failed;             // failed or dirty
  std::vector<std::string> unknown;            // applied but not among the files on disk
  std::vector<std::string> checksum_mismatch;  // applied, but the file changed since
  std::vector<std::string> notes;              // what the reader assumed (shown with the facts)
};

nlohmann::json to_json(const MigrationStatus& status);
MigrationStatus migration_status_from_json(const nlohmann::json& j);

// ---- Django ---------------------------------------------------------------------------------

// One migration file, parsed statically: its `dependencies` and `replaces` lists.
struct DjangoMigration {
  std::string app;
  std::string name;
  std::vector<std::pair<std::string, std::string>> dependencies;
  std::vector<std::pair<std::string, std::string>> replaces;
};

// Reads `<app>/migrations/*.py` (the app label is the parent directory's name, as for Django's
// default AppConfig.label). `swappable` maps a setting used in swappable_dependency() to its
// value, e.g. AUTH_USER_MODEL -> auth.User. Throws std::runtime_error naming the file when a
// list cannot be parsed.
std::vector<DjangoMigration> read_django_migrations(
    const std::vector<std::filesystem::path>& migration_dirs,
    const std::map<std::string, std::string>& swappable);

// Django's own plan (MigrationLoader + `showmigrations --plan`): squashed migrations replace
// their originals when all or none of those are applied, dependencies on replaced migrations
// are remapped, __first__/__latest__ resolve, and the plan walks each leaf's dependencies in
// Django's order. `applied` holds "app.name" of every django_migrations row.
MigrationStatus django_status(const std::vector<DjangoMigration>& migrations,
                              const std::vector<HistoryRow>& applied);

// ---- Prisma ---------------------------------------------------------------------------------

// `migrations_dir/<name>/migration.sql`, by name; checksum = sha256 hex of the file. Rows:
// finished_at set and rolled_back_at null = applied; both null = failed; rolled back = ignored
// (the caller leaves those out).
MigrationStatus prisma_status(const std::filesystem::path& migrations_dir,
                              const std::vector<HistoryRow>& rows);

// ---- Any other tool: versions from file names ------------------------------------------------

enum class AppliedMeaning {
  kEveryRow,    // each row is one applied version (Flyway, Rails)
  kLatestOnly,  // the one row is the current version: everything up to it is applied
                // (golang-migrate; a dirty row means that version failed halfway)
  kHeads,       // rows are heads of a revision chain read from the files (Alembic)
};

struct VersionedFiles {
  std::filesystem::path directory;
  std::string file_pattern;  // ECMAScript regex on the file name; group 1 = the version
  AppliedMeaning meaning = AppliedMeaning::kEveryRow;
  bool dots_for_underscores = false;  // Flyway: V1_2__x.sql is version 1.2
};

// Versions compare component by component, numerically where both are numbers ("1.10" > "1.9").
bool version_less(const std::string& a, const std::string& b);

MigrationStatus versioned_status(const VersionedFiles& files, const std::vector<HistoryRow>& rows);

// sha256 of a file as lower-case hex; throws naming the file when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace deploycheck
