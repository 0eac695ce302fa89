#pragma once
// gMock matchers over backup facts (probes/backups): is the newest backup recent enough, of a
// believable size, kept long enough, encrypted, readable by pg_restore, and does it restore?
//
//   EXPECT_THAT(listing, NewestWithinRpo(24h));
//   EXPECT_THAT(listing, SizeConsistent(20, 5));
//   EXPECT_THAT(listing, RetentionAtLeast(30d, 7));
//   EXPECT_THAT(listing, Encrypted());
//   EXPECT_THAT(integrity, ArchiveReadable());
//   EXPECT_THAT(restore, RestoredWithin(tables, 15min));
//
// Ages are measured from the moment the listing was taken (Listing::listed_at), so a verdict
// depends on the facts alone. The value is printed once (PrintTo: the source, how many backups it
// holds and when it was listed); explanations say what was expected, what was seen and what to do,
// on success too.
#include <gmock/gmock.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "fixtures/backups_config.hpp"
#include "fixtures/units.hpp"
#include "probes/backups/listing.hpp"
#include "probes/backups/verify.hpp"

namespace deploycheck {

namespace backups {
// "s3://upstream-backups/database/ at https://s3.eu-west-1.amazonaws.com, 9 backups listed at
// 2026-11-24T03:00:00Z"
void PrintTo(const Listing& listing, std::ostream* os);
void PrintTo(const IntegrityFacts& facts, std::ostream* os);
void PrintTo(const RestoreFacts& facts, std::ostream* os);
}  // namespace backups

using ListingMatcher = ::testing::Matcher<const backups::Listing&>;

// "3d 4h", "2h 5m", "40s": an age for an operator.
std::string human_age(long long seconds);
// "1.2 MB", "512 B"
std::string human_size(std::uint64_t bytes);

// The newest backup is at most `max_age` old (the recovery point objective). No backup at all
// fails.
ListingMatcher NewestWithinRpo(Duration max_age);

// The newest backup's size is within ±tolerance_percent of the median size of the `previous`
// backups before it. Fails an empty source; with one backup there is nothing to compare: passes,
// saying so.
ListingMatcher SizeConsistent(int tolerance_percent, int previous);

// The oldest backup kept is at least `min_age` old and at least `min_count` backups are kept.
ListingMatcher RetentionAtLeast(std::optional<Duration> min_age, std::optional<int> min_count);

// Every backup is encrypted at rest: its content is an encrypted format (OpenPGP, age, openssl
// enc) or the bucket encrypts it server-side (x-amz-server-side-encryption). A plain PGDMP,
// gzip or SQL backup fails; so does one whose format is not recognised (it cannot be confirmed).
// With kContentOnly, server-side encryption does not count.
enum class EncryptionAt { kContentOrServer, kContentOnly };
ListingMatcher Encrypted(EncryptionAt at = EncryptionAt::kContentOrServer);

// pg_restore --list read the archive's table of contents within its deadline.
::testing::Matcher<const backups::IntegrityFacts&> ArchiveReadable();

// The test restore succeeded, every table has at least its rows, the scratch database was
// dropped again, and (when an RTO is given) the whole restore took no longer than it.
::testing::Matcher<const backups::RestoreFacts&> RestoredWithin(
    std::vector<TableExpectation> tables, std::optional<Duration> rto);

}  // namespace deploycheck
