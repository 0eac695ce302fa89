// The Backups matchers: what they accept, what they refuse, and the words of their explanations.
// Facts are plain structs built here (ages relative to Listing::listed_at, so no clock is
// involved); the probes that gather them are tested against the real sandbox (s3rver, pg_dump
// archives, pg_restore) by the sandbox and sandbox_broken environments.
#include "matchers/backup_matchers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/matcher_testing.hpp"

namespace deploycheck {
namespace {

using backups::BackupObject;
using backups::Format;
using backups::IntegrityFacts;
using backups::Listing;
using backups::RestoreFacts;
using testing::describe;
using ::testing::HasSubstr;
using testing::judge;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1'795'000'000;  // 2026-11-18T...Z
constexpr std::int64_t kHour = 3600, kDay = 86400;

BackupObject backup(std::string name, std::uint64_t size, std::int64_t age,
                    Format format = Format::kPgCustom) {
  return BackupObject{.name = std::move(name),
                      .size = size,
                      .mtime = kNow - age,
                      .format = format,
                      .first_bytes_hex = "50 47 44 4d 50"};
}

Listing listing(std::vector<BackupObject> items, std::string kind = "local") {
  Listing l{.source = "/var/backups/pg",
            .kind = std::move(kind),
            .listed_at = kNow,
            .backups = std::move(items)};
  backups::sort_newest_first(l.backups);
  return l;
}

Listing daily(int count, std::uint64_t size = 1'000'000, std::int64_t newest_age = 2 * kHour) {
  std::vector<BackupObject> items;
  for (int i = 0; i < count; ++i)
    items.push_back(backup("db-" + std::to_string(i) + ".dump", size, newest_age + i * kDay));
  return listing(items);
}

TEST(NewestWithinRpo, PassesARecentBackupAndSaysHowOld) {
  const auto v = judge(NewestWithinRpo(24h), daily(3));
  EXPECT_TRUE(v.matched);
  EXPECT_THAT(v.explanation, HasSubstr("newest backup db-0.dump (1.0 MB, "));
  EXPECT_THAT(v.explanation, HasSubstr("2h old) is within the RPO of 1d"));
}

TEST(NewestWithinRpo, FailsAStaleNewestBackupSayingByHowMuchAndWhatToDo) {
  const auto v = judge(NewestWithinRpo(24h), daily(3, 1'000'000, 3 * kDay));
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation, HasSubstr("3d old) is older than the RPO of 1d by 2d"));
  EXPECT_THAT(v.explanation, HasSubstr("Check its schedule and logs"));
}

TEST(NewestWithinRpo, FailsASourceWithoutBackups) {
  const auto v = judge(NewestWithinRpo(24h), listing({}));
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation, HasSubstr("holds no backup at all"));
}

TEST(NewestWithinRpo, TheBoundItselfPasses) {
  EXPECT_TRUE(judge(NewestWithinRpo(24h), daily(1, 10, 24 * kHour)).matched);
  EXPECT_FALSE(judge(NewestWithinRpo(24h), daily(1, 10, 24 * kHour + 1)).matched);
}

TEST(NewestWithinRpo, DescribesItselfBothWays) {
  EXPECT_EQ(describe(NewestWithinRpo(24h)), "has a newest backup at most 1d old");
  EXPECT_EQ(describe(NewestWithinRpo(24h), /*negation=*/true), "has no backup within 1d");
}

TEST(SizeConsistent, PassesWithinTheToleranceOfTheMedian) {
  auto l = daily(6);
  l.backups[0].size = 1'150'000;
  const auto v = judge(SizeConsistent(20, 5), l);
  EXPECT_TRUE(v.matched) << v.explanation;
  EXPECT_THAT(
      v.explanation,
      HasSubstr("is 1.1 MB, +15% against the median 1.0 MB of the 5 before it (within ±20%)"));
}

TEST(SizeConsistent, FailsABackupThatShrankByHalf) {
  auto l = daily(6);
  l.backups[0].size = 500'000;
  const auto v = judge(SizeConsistent(20, 5), l);
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation,
              HasSubstr("-50% against the median 1.0 MB of the 5 before it, outside ±20%"));
  EXPECT_THAT(v.explanation, HasSubstr("missing tables or data"));
}

TEST(SizeConsistent, FailsABackupThatGrewPastTheTolerance) {
  auto l = daily(3);
  l.backups[0].size = 2'000'000;
  const auto v = judge(SizeConsistent(20, 5), l);
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation, HasSubstr("+100% against the median 1.0 MB of the 2 before it"));
}

TEST(SizeConsistent, OneBackupHasNothingToCompareWithAndNoneFails) {
  const auto one = judge(SizeConsistent(20, 5), daily(1));
  EXPECT_TRUE(one.matched);
  EXPECT_THAT(one.explanation, HasSubstr("has no predecessor to compare with"));
  EXPECT_FALSE(judge(SizeConsistent(20, 5), listing({})).matched);
}

TEST(SizeConsistent, UsesOnlyTheGivenNumberOfPreviousBackups) {
  // The newest 1 MB, then 1 MB, then four 3 MB ones: against 1 previous it is consistent.
  auto l = daily(6);
  for (std::size_t i = 2; i < l.backups.size(); ++i) l.backups[i].size = 3'000'000;
  EXPECT_TRUE(judge(SizeConsistent(20, 1), l).matched);
  EXPECT_FALSE(judge(SizeConsistent(20, 5), l).matched);
}

TEST(RetentionAtLeast, PassesALongEnoughSeries) {
  auto l = daily(8);
  l.backups.push_back(backup("old.dump", 1'000'000, 35 * kDay));
  const auto v = judge(RetentionAtLeast(30 * 24h, 7), l);
  EXPECT_TRUE(v.matched) << v.explanation;
  EXPECT_THAT(v.explanation, HasSubstr("which keeps 9 backups, the oldest old.dump (1.0 MB, "));
  EXPECT_THAT(
      v.explanation,
      HasSubstr(
          "35d old), meeting the retention policy (oldest at least 30d, at least 7 backups)"));
}

TEST(RetentionAtLeast, FailsWhenTheOldestIsTooYoungOrTooFewAreKept) {
  const auto v = judge(RetentionAtLeast(30 * 24h, 7), daily(6));
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation,
              HasSubstr("expected at least 7 backups; expected the oldest to be at least 30d old"));
  EXPECT_THAT(v.explanation, HasSubstr("deleted too early"));
  EXPECT_TRUE(judge(RetentionAtLeast(std::nullopt, 6), daily(6)).matched);
  EXPECT_FALSE(judge(RetentionAtLeast(std::nullopt, 1), listing({})).matched);
}

TEST(Encrypted, PassesEncryptedContentAndServerSideEncryption) {
  auto l =
      listing({backup("a.gpg", 10, kHour, Format::kGpg), backup("b.age", 10, kDay, Format::kAge),
               backup("c.enc", 10, 2 * kDay, Format::kOpensslEnc)});
  EXPECT_TRUE(judge(Encrypted(), l).matched);
  auto s3 = listing({backup("nightly/a.dump", 10, kHour)}, "s3");
  s3.backups[0].server_side_encryption = "AES256";
  const auto v = judge(Encrypted(), s3);
  EXPECT_TRUE(v.matched);
  EXPECT_THAT(v.explanation,
              HasSubstr("all encrypted (newest nightly/a.dump: server-side AES256)"));
}

TEST(Encrypted, FailsPlainArchivesNamingThemAndWhatToDo) {
  const auto v = judge(Encrypted(), listing({backup("a.dump", 10, kHour),
                                             backup("b.sql.gz", 10, kDay, Format::kGzip),
                                             backup("c.enc", 10, 2 * kDay, Format::kOpensslEnc)}));
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation,
              HasSubstr("2 of 3 backups are not encrypted: a.dump (PostgreSQL custom archive "
                        "(PGDMP)), b.sql.gz (gzip)"));
  EXPECT_THAT(v.explanation, HasSubstr("gpg, age or openssl enc"));
  const auto s3 = judge(Encrypted(), listing({backup("plain/a.dump", 10, kHour)}, "s3"));
  EXPECT_THAT(s3.explanation, HasSubstr("no x-amz-server-side-encryption"));
  EXPECT_THAT(s3.explanation, HasSubstr("default encryption"));
}

TEST(Encrypted, ContentOnlyDoesNotCountServerSideEncryption) {
  auto s3 = listing(
      {backup("nightly/a.dump", 10, kHour), backup("nightly/b.gpg", 10, kDay, Format::kGpg)}, "s3");
  for (auto& b : s3.backups) b.server_side_encryption = "AES256";
  EXPECT_TRUE(judge(Encrypted(), s3).matched);
  const auto v = judge(Encrypted(EncryptionAt::kContentOnly), s3);
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(
      v.explanation,
      HasSubstr("1 of 2 backups are not encrypted: nightly/a.dump (PostgreSQL custom archive "
                "(PGDMP), server-side AES256 does not count)"));
  EXPECT_THAT(v.explanation, Not(HasSubstr("default encryption")));
  EXPECT_EQ(describe(Encrypted(EncryptionAt::kContentOnly)),
            "holds only encrypted backups (content encryption)");
}

TEST(Encrypted, AnUnrecognisedFormatCannotBeConfirmed) {
  const auto v = judge(Encrypted(), listing({backup("x.bin", 10, kHour, Format::kUnknown)}));
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation, HasSubstr("x.bin (unknown, first bytes 50 47 44 4d 50)"));
}

TEST(ArchiveReadable, PassesAReadableTableOfContents) {
  const IntegrityFacts f{.backup = "a.dump",
                         .program = "pg_restore",
                         .exit_code = 0,
                         .toc_entries = 42,
                         .elapsed_ms = 12,
                         .timeout_ms = 60000};
  const auto v = judge(ArchiveReadable(), f);
  EXPECT_TRUE(v.matched);
  EXPECT_EQ(v.explanation, "whose table of contents pg_restore --list read: 42 entries in 12 ms");
}

TEST(ArchiveReadable, FailsACorruptOrSlowArchive) {
  const IntegrityFacts corrupt{
      .backup = "a.dump",
      .program = "pg_restore",
      .exit_code = 1,
      .error = "exited with code 1: pg_restore: error: could not read input file",
      .timeout_ms = 60000};
  const auto v = judge(ArchiveReadable(), corrupt);
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation,
              HasSubstr("cannot read (exited with code 1: pg_restore: error: could not read input "
                        "file): the archive is truncated or corrupt"));
  const IntegrityFacts slow{
      .backup = "a.dump", .program = "pg_restore", .timed_out = true, .timeout_ms = 60000};
  EXPECT_THAT(judge(ArchiveReadable(), slow).explanation, HasSubstr("did not read within 1m"));
}

RestoreFacts restored(long long plans, long long elapsed_ms) {
  return RestoreFacts{
      .backup = "a.dump",
      .scratch_database = "deploycheck_restore_check",
      .restored = true,
      .tables = {{.table = "billing_plan", .rows = plans}, {.table = "auth_user", .rows = 1}},
      .elapsed_ms = elapsed_ms,
      .dropped = true};
}

const std::vector<TableExpectation> kTables = {{"billing_plan", 6}, {"auth_user", 1}};

TEST(RestoredWithin, PassesARestoreWithItsRowsWithinTheRto) {
  const auto v = judge(RestoredWithin(kTables, 15min), restored(6, 900));
  EXPECT_TRUE(v.matched) << v.explanation;
  EXPECT_EQ(
      v.explanation,
      "which restored into deploycheck_restore_check in 900 ms, every expected table with its "
      "rows, within the RTO of 15m");
}

TEST(RestoredWithin, FailsShortTablesMissingTablesAndASlowRestore) {
  auto f = restored(5, 1000);
  f.tables[1] = {.table = "auth_user", .error = "relation \"auth_user\" does not exist"};
  const auto v = judge(RestoredWithin(kTables, 500ms), f);
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(
      v.explanation,
      HasSubstr("billing_plan has 5 rows, expected at least 6; auth_user missing (relation"));
  EXPECT_THAT(v.explanation, HasSubstr("took longer than the RTO of 500ms"));
}

TEST(RestoredWithin, FailsAFailedRestoreAndAScratchDatabaseLeftBehind) {
  RestoreFacts f{.backup = "a.dump",
                 .scratch_database = "scratch",
                 .restore_error = "exited with code 1: boom"};
  f.dropped = false;
  f.drop_error = "permission denied";
  const auto v = judge(RestoredWithin(kTables, std::nullopt), f);
  EXPECT_FALSE(v.matched);
  EXPECT_THAT(v.explanation, HasSubstr("did not restore into scratch: exited with code 1: boom"));
  EXPECT_THAT(v.explanation, HasSubstr("was NOT dropped (permission denied): drop it by hand"));
}

TEST(BackupFormats, AreRecognisedFromTheirFirstBytes) {
  using backups::detect_format;
  EXPECT_EQ(detect_format("PGDMP\x01\x0e\x00"), Format::kPgCustom);
  EXPECT_EQ(detect_format("\x1f\x8b\x08\x00"), Format::kGzip);
  EXPECT_EQ(detect_format("\x28\xb5\x2f\xfd"), Format::kZstd);
  EXPECT_EQ(detect_format("--\n-- PostgreSQL database dump\n"), Format::kPlainSql);
  EXPECT_EQ(detect_format("Salted__12345678"), Format::kOpensslEnc);
  EXPECT_EQ(detect_format("age-encryption.org/v1\n-> X25519"), Format::kAge);
  EXPECT_EQ(detect_format("-----BEGIN PGP MESSAGE-----"), Format::kGpg);
  EXPECT_EQ(detect_format("\x85\x01\x0c\x03"), Format::kGpg);  // old-format public-key session key
  EXPECT_EQ(detect_format("\xc1\xc0\x4c\x03"), Format::kGpg);  // new-format, tag 1
  EXPECT_EQ(detect_format(std::string("\x00\x01\x02\x03", 4)), Format::kUnknown);
  EXPECT_EQ(detect_format(""), Format::kEmpty);
  EXPECT_TRUE(backups::is_encrypted(Format::kAge));
  EXPECT_FALSE(backups::is_encrypted(Format::kPgCustom));
}

TEST(BackupListingOutput, ReadsSizeMtimeAndNameLines) {
  const auto items = backups::parse_listing_output(
      "# size mtime name\n"
      "1000 1795000000.5 db one.dump\n"
      "\n"
      "2000 2026-11-20T02:00:00Z db-two.dump\r\n");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].name, "db-two.dump");  // newest first
  EXPECT_EQ(items[0].size, 2000u);
  EXPECT_EQ(backups::format_iso8601_utc(items[0].mtime), "2026-11-20T02:00:00Z");
  EXPECT_EQ(items[1].name, "db one.dump");  // names may hold spaces
  EXPECT_EQ(items[1].size, 1000u);
  EXPECT_EQ(items[1].mtime, 1795000000);  // the fraction is dropped
}

TEST(BackupListingOutput, RefusesALineItCannotReadNamingIt) {
  try {
    backups::parse_listing_output("1000 yesterday db.dump\n");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(
        e.what(),
        HasSubstr(
            "line 1 '1000 yesterday db.dump': the mtime is neither Unix seconds nor ISO 8601"));
  }
  EXPECT_THROW(backups::parse_listing_output("12k 1795000000 a\n"), std::invalid_argument);
  EXPECT_THROW(backups::parse_listing_output("12 1795000000\n"), std::invalid_argument);
}

TEST(BackupListing, SurvivesItsJsonRoundTrip) {
  auto l = daily(2);
  l.backups[0].server_side_encryption = "aws:kms";
  const auto back = backups::listing_from_json(backups::to_json(l));
  EXPECT_EQ(backups::to_json(back), backups::to_json(l));
  EXPECT_EQ(back.backups[0].format, Format::kPgCustom);
}

TEST(BackupListing, PrintsItsSourceCountAndTimeOnce) {
  EXPECT_EQ(::testing::PrintToString(daily(3)),
            "/var/backups/pg, 3 backups listed at 2026-11-18T11:06:40Z");
  EXPECT_EQ(::testing::PrintToString(daily(1)),
            "/var/backups/pg, 1 backup listed at 2026-11-18T11:06:40Z");
}

TEST(HumanUnits, ReadForAnOperator) {
  EXPECT_EQ(human_age(40), "40s");
  EXPECT_EQ(human_age(3 * kDay + 4 * kHour + 5), "3d 4h");
  EXPECT_EQ(human_age(2 * kHour + 5 * 60), "2h 5m");
  EXPECT_EQ(human_size(512), "512 B");
  EXPECT_EQ(human_size(1'234'567), "1.2 MB");
}

}  // namespace
}  // namespace deploycheck
