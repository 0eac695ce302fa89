// Backups: checklist 000 "Backup Verification" (and "Backup Current Database" before the
// migration), 001 §9 "Backups", 002 "Backup Infrastructure" / "Backup Verification", 003
// "Database backup completed", 004 "Database backup created". Per source one listing per run
// (Gather.Backups/<id>); pg_restore --list of the newest backup (Gather.BackupIntegrity/<id>) and
// the opt-in test restore (Gather.BackupRestore/<id>) are gathers of their own. No check writes
// to a production database: a test restore creates and drops a scratch database on the
// configured restore server only.
#include <ctime>
#include <optional>

#include "matchers/backup_matchers.hpp"
#include "probes/backups/listing.hpp"
#include "probes/backups/run.hpp"
#include "probes/backups/s3.hpp"
#include "probes/backups/verify.hpp"
#include "probes/policy.hpp"
#include "runner/check.hpp"
#include "runner/gather.hpp"

namespace deploycheck {
namespace {

using backups::Listing;

const std::vector<std::string> kRecent = {
    "000 Pre-Migration Steps: Database backup completed",
    "000 Database Backups: Automated backup schedule configured",
    "000 Backup Verification Checklist: Database backup completed within last 24 hours",
    "000 Backup Verification Checklist: Recovery point objective (RPO) met",
    "001 9. Backups: Recent backup exists (< 24 hours old)",
    "001 9. Backups: Backup schedule configured",
    "002 Backup Infrastructure: Backup storage location configured",
    "002 Backup Infrastructure: Automated backup cron jobs configured",
    "002 Backup Verification: First backup created successfully",
    "002 Backup Verification: Backup files accessible",
    "002 Daily Checks: Check backup completion",
    "003 Database: Database backup completed",
    "004 Infrastructure: Database backup created"};
const std::vector<std::string> kSize = {
    "000 Pre-Migration Steps: Backup verified (size check, table count)",
    "000 Backup Verification Checklist: Backup size consistent with expected data volume"};
const std::vector<std::string> kRetention = {
    "000 Database Backups: Backup retention policy set (30 days minimum)",
    "001 9. Backups: Backup retention policy configured",
    "002 Backup Infrastructure: Backup retention policy set (default: 30 days)"};
const std::vector<std::string> kEncrypted = {
    "000 Pre-Migration Steps: Backup stored in secure location",
    "000 Database Backups: Backup encryption enabled"};
const std::vector<std::string> kIntegrity = {
    "000 Pre-Migration Steps: Backup verified (size check, table count)",
    "002 Backup Infrastructure: Verify backup integrity checks",
    "002 Backup Verification: Backup integrity verified"};
const std::vector<std::string> kRestore = {
    "000 Database Backups: Backup restoration tested",
    "000 Backup Verification Checklist: Test restore successful",
    "000 Backup Verification Checklist: Recovery time objective (RTO) achievable",
    "001 9. Backups: Backup verified (restore tested)",
    "002 Backup Verification: Restore procedure tested (staging)"};

backups::S3Location s3_location(const S3BackupSource& s3) {
  const auto& values = runtime_values();
  backups::S3Location l{.endpoint = values.expand(s3.endpoint),
                        .bucket = values.expand(s3.bucket),
                        .prefix = values.expand(s3.prefix),
                        .region = values.expand(s3.region),
                        .access_key_id = Secret(values.expand(s3.access_key_id)),
                        .secret_access_key = Secret(values.expand(s3.secret_access_key))};
  if (s3.ca_file) l.ca_file = values.expand(*s3.ca_file);
  return l;
}

std::string command_display(const CommandBackupSource& c) {
  std::string text;
  for (const auto& arg : c.argv) text += (text.empty() ? "" : " ") + runtime_values().display(arg);
  return text;
}

Listing list_command(const CommandBackupSource& c, Duration timeout) {
  std::vector<std::string> args;
  for (std::size_t i = 1; i < c.argv.size(); ++i)
    args.push_back(runtime_values().expand(c.argv[i]));
  const auto shown = command_display(c);
  const auto result = backups::run_bounded(
      backups::find_program(runtime_values().expand(c.argv[0])), args, timeout);
  if (!result.status)
    throw Unreachable("`" + shown + "` did not finish within " + format_duration(timeout));
  if (!result.ok()) throw Unreachable("`" + shown + "` " + result.describe(timeout));
  Listing listing{.source = shown, .kind = "command", .listed_at = std::time(nullptr)};
  try {
    listing.backups = backups::parse_listing_output(result.out);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("`" + shown +
                             "` printed a listing deploycheck cannot read: " + e.what());
  }
  return listing;
}

// `details`: an S3 listing reads each object's first bytes and headers too (for the listing
// fact); to find the newest backup, names and times are enough.
Listing list_source(const BackupSourceConfig& s, Duration timeout, bool details = true) {
  if (s.local) {
    return backups::list_local(
        runtime_values().expand_path(s.local->directory, environment().file.parent_path()),
        s.local->glob);
  }
  if (s.s3) return backups::list_s3(s3_location(*s.s3), timeout, details);
  return list_command(*s.command, timeout);
}

// The newest backup as a file on this machine: a local one as it is, an S3 one downloaded into
// `scratch`. Returns the path, the name and the milliseconds the download took.
struct NewestFile {
  std::filesystem::path path;
  std::string name;
  long long fetch_ms = 0;
};
NewestFile newest_file(const BackupSourceConfig& s, const backups::TempDir& scratch,
                       Duration timeout) {
  const auto start = std::chrono::steady_clock::now();
  const Listing listing = list_source(s, timeout, /*details=*/false);
  if (listing.backups.empty()) throw Unreachable(listing.source + " holds no backup to read");
  const auto& newest = listing.backups.front();
  NewestFile file{.name = newest.name};
  if (s.local) {
    file.path = std::filesystem::path(listing.source) / newest.name;
  } else {
    file.path = scratch.path() / "newest.backup";
    backups::download_s3(s3_location(*s.s3), newest.name, file.path, timeout);
  }
  file.fetch_ms =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start).count();
  return file;
}

void check_listing(const std::string& key, const ListingMatcher& matcher) {
  if (auto fact = need_fact(key)) EXPECT_THAT(backups::listing_from_json(fact->data), matcher);
}

void register_source(const BackupSourceConfig& s) {
  const auto key = register_gather(GatherSpec{
      .probe = "Backups",
      .target = s.id,
      .suite = "Backups",
      .policy = s.policy,
      .phase = s.phase,
      .gatherer = [s](const Policy& policy) {
        const std::string shown = s.local ? runtime_values().display(s.local->directory)
                                  : s.s3  ? runtime_values().display(s.s3->endpoint) + "/" +
                                               runtime_values().display(s.s3->bucket)
                                         : command_display(*s.command);
        auto result =
            with_policy(policy, shown, [&](Duration timeout) { return list_source(s, timeout); });
        return std::pair{backups::to_json(result.value), result.attempts};
      }});
  CheckSpec spec{.suite = "Backups",
                 .target = s.id,
                 .phase = s.phase,
                 .severity = s.severity,
                 .gathers = {key},
                 .budget = s.policy.budget()};
  auto add = [&](const char* name, const std::vector<std::string>& items,
                 std::function<void()> body) {
    spec.name = name;
    spec.checklist = items;
    register_check(spec, std::move(body));
  };

  if (s.max_age) {
    add("NewestWithinRpo", kRecent,
        [key, rpo = *s.max_age] { check_listing(key, NewestWithinRpo(rpo)); });
  }
  if (s.size) {
    add("SizeConsistent", kSize, [key, size = *s.size] {
      check_listing(key, SizeConsistent(size.tolerance_percent, size.previous));
    });
  }
  if (s.retention) {
    add("Retention", kRetention,
        [key, r = *s.retention] { check_listing(key, RetentionAtLeast(r.min_age, r.min_count)); });
  }
  if (s.require_encryption) {
    add("Encrypted", kEncrypted, [key, content = s.require_content_encryption] {
      check_listing(
          key, Encrypted(content ? EncryptionAt::kContentOnly : EncryptionAt::kContentOrServer));
    });
  }
  if (s.integrity) {
    // Listing and download within the source's policy, then pg_restore within its own deadline.
    Policy policy = s.policy;
    policy.retries = 0;
    policy.timeout = s.policy.timeout + s.integrity->timeout;
    const auto integrity_key =
        register_gather(GatherSpec{.probe = "BackupIntegrity",
                                   .target = s.id,
                                   .suite = "Backups",
                                   .policy = policy,
                                   .phase = s.phase,
                                   .gatherer = [s](const Policy& p) {
                                     backups::TempDir scratch;
                                     const auto file = newest_file(s, scratch, s.policy.timeout);
                                     const auto facts = backups::read_archive_toc(
                                         file.path, file.name, s.integrity->pg_restore,
                                         std::min(s.integrity->timeout, p.timeout));
                                     return std::pair{backups::to_json(facts), 1};
                                   }});
    spec.gathers = {integrity_key};
    spec.budget = policy.budget();
    add("Integrity", kIntegrity, [integrity_key] {
      if (auto fact = need_fact(integrity_key)) {
        EXPECT_THAT(backups::integrity_from_json(fact->data), ArchiveReadable());
      }
    });
  }
  if (s.restore) {
    Policy policy = s.policy;
    policy.retries = 0;
    policy.timeout = s.policy.timeout + s.restore->timeout;
    const auto restore_key = register_gather(
        GatherSpec{.probe = "BackupRestore",
                   .target = s.id,
                   .suite = "Backups",
                   .policy = policy,
                   .phase = s.phase,
                   .gatherer = [s](const Policy&) {
                     backups::TempDir scratch;
                     const auto file = newest_file(s, scratch, s.policy.timeout);
                     backups::RestoreRequest request{
                         .file = file.path,
                         .name = file.name,
                         .server_url = Secret(runtime_values().expand(s.restore->server_url)),
                         .scratch_database = s.restore->scratch_database,
                         .pg_restore = s.restore->pg_restore,
                         .psql = s.restore->psql,
                         .timeout = s.restore->timeout,
                         .fetch_ms = file.fetch_ms};
                     for (const auto& t : s.restore->tables) request.tables.push_back(t.table);
                     return std::pair{backups::to_json(backups::test_restore(request)), 1};
                   }});
    spec.gathers = {restore_key};
    spec.budget = policy.budget();
    add("TestRestore", kRestore, [restore_key, r = *s.restore] {
      if (auto fact = need_fact(restore_key)) {
        EXPECT_THAT(backups::restore_from_json(fact->data), RestoredWithin(r.tables, r.rto));
      }
    });
  }
}

}  // namespace

DEPLOYCHECK_CHECKS(Backups) {
  if (!environment().backups) return;
  for (const auto& source : environment().backups->sources) register_source(source);
}

}  // namespace deploycheck
