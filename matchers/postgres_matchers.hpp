#pragma once
// gMock matchers over PostgreSQL facts (probes/postgres) and migration status.
//
//   EXPECT_THAT(facts, ServerVersionAtLeast(13));
//   EXPECT_THAT(facts, SessionUsesTls("TLSv1.2"));
//   EXPECT_THAT(facts, MatchesSchemaSnapshot(lines, "tests/schema.snapshot"));
//   EXPECT_THAT(row_count(facts, "billing_plan"), HasRowsBetween(6, std::nullopt));
//   EXPECT_THAT(status, PendingEquals(reviewed));
#include <gmock/gmock.h>

#include <optional>
#include <string>
#include <vector>

#include "fixtures/units.hpp"
#include "probes/postgres/migration_files.hpp"
#include "probes/postgres/postgres_facts.hpp"

namespace deploycheck {

inline void PrintTo(const DatabaseFacts& f, std::ostream* os) {
  *os << "database " << f.data.value("/server/database"_json_pointer, std::string("?")) << " as "
      << f.data.value("/server/user"_json_pointer, std::string("?"));
}
inline void PrintTo(const RowCount& c, std::ostream* os) {
  *os << "table " << c.table;
}
inline void PrintTo(const MigrationStatus& s, std::ostream* os) {
  *os << s.applied.size() << " applied, " << s.pending.size() << " pending migrations";
}

using DatabaseMatcher = ::testing::Matcher<const DatabaseFacts&>;
using MigrationMatcher = ::testing::Matcher<const MigrationStatus&>;

DatabaseMatcher ServerVersionAtLeast(int major);
// pg_stat_ssl says this session is encrypted with at least `min_protocol` (TLSv1.2 or 1.3).
DatabaseMatcher SessionUsesTls(std::string min_protocol);
DatabaseMatcher HasSetting(std::string name, std::string value);
DatabaseMatcher HasExtensions(std::vector<std::string> names);
// The schema's lines equal the snapshot's; the explanation names each missing and extra line.
DatabaseMatcher MatchesSchemaSnapshot(std::vector<std::string> expected, std::string source);
// Each index exists and is valid (a failed CREATE INDEX CONCURRENTLY leaves an invalid one).
DatabaseMatcher HasIndexes(std::vector<std::string> names);
DatabaseMatcher HasNoOrphanRows();
// in use / max_connections below `fraction`.
DatabaseMatcher ConnectionsBelow(double fraction);
DatabaseMatcher ReplicationLagBelow(Duration bound);
DatabaseMatcher RoundTripSucceeds();

::testing::Matcher<const RowCount&> HasRowsBetween(std::optional<long long> min,
                                                   std::optional<long long> max);

// The pending list equals `reviewed`, in order; both shown in full.
MigrationMatcher PendingEquals(std::vector<std::string> reviewed);
MigrationMatcher NonePending();
MigrationMatcher NoneFailed();
MigrationMatcher ChecksumsMatch();
MigrationMatcher NoneUnknown();

}  // namespace deploycheck
