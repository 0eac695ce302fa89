#include "matchers/postgres_matchers.hpp"

#include <algorithm>
#include <functional>

namespace deploycheck {
namespace {

using ::testing::MatchResultListener;

std::string joined(const std::vector<std::string>& items, const std::string& empty = "none") {
  if (items.empty()) return empty;
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// A matcher from three small functions: less ceremony for the many one-fact matchers below,
// still MatchAndExplain / DescribeTo / DescribeNegationTo.
template <class T>
class Predicate : public ::testing::MatcherInterface<const T&> {
 public:
  using Explain = std::function<bool(const T&, MatchResultListener*)>;
  Predicate(Explain explain, std::string describe, std::string negation)
      : explain_(std::move(explain)),
        describe_(std::move(describe)),
        negation_(std::move(negation)) {}
  bool MatchAndExplain(const T& value, MatchResultListener* l) const override {
    return explain_(value, l);
  }
  void DescribeTo(std::ostream* os) const override { *os << describe_; }
  void DescribeNegationTo(std::ostream* os) const override { *os << negation_; }

 private:
  Explain explain_;
  std::string describe_, negation_;
};

template <class T>
::testing::Matcher<const T&> make(typename Predicate<T>::Explain explain, std::string describe,
                                  std::string negation) {
  return ::testing::MakeMatcher(
      new Predicate<T>(std::move(explain), std::move(describe), std::move(negation)));
}

int protocol_rank(const std::string& p) {
  if (p == "TLSv1.3") return 4;
  if (p == "TLSv1.2") return 3;
  if (p == "TLSv1.1") return 2;
  if (p == "TLSv1") return 1;
  return 0;
}

}  // namespace

DatabaseMatcher ServerVersionAtLeast(int major) {
  return make<DatabaseFacts>(
      [major](const DatabaseFacts& f, MatchResultListener* l) {
        *l << "whose server is " << f.major_version() << " (" << f.version_text() << ")";
        if (f.major_version() < major) *l << ": upgrade the server, or lower database.min_version";
        return f.major_version() >= major;
      },
      "is PostgreSQL " + std::to_string(major) + " or later",
      "is older than PostgreSQL " + std::to_string(major));
}

DatabaseMatcher SessionUsesTls(std::string min_protocol) {
  return make<DatabaseFacts>(
      [min_protocol](const DatabaseFacts& f, MatchResultListener* l) {
        if (!f.session_ssl()) {
          *l << "whose session is not encrypted (pg_stat_ssl.ssl = false): the server let this "
                "role in without TLS. Use sslmode=verify-full (or require) in the environment "
                "file and a `hostssl` (never `host`/`hostnossl`) line in pg_hba.conf";
          return false;
        }
        *l << "whose session uses " << f.session_protocol() << " ("
           << f.data.at("session_tls").at("cipher").get<std::string>() << ")";
        return protocol_rank(f.session_protocol()) >= protocol_rank(min_protocol);
      },
      "uses a TLS session, " + min_protocol + " or later",
      "does not use a TLS session of " + min_protocol + " or later");
}

DatabaseMatcher HasSetting(std::string name, std::string value) {
  return make<DatabaseFacts>(
      [name, value](const DatabaseFacts& f, MatchResultListener* l) {
        const auto seen = f.setting(name);
        if (!seen) {
          *l << "whose settings do not show " << name
             << " to this role (grant pg_read_all_settings, or drop the expectation)";
          return false;
        }
        *l << "whose " << name << " is '" << *seen << "'";
        return *seen == value;
      },
      "has setting " + name + " = '" + value + "'",
      "does not have setting " + name + " = '" + value + "'");
}

DatabaseMatcher HasExtensions(std::vector<std::string> names) {
  return make<DatabaseFacts>(
      [names](const DatabaseFacts& f, MatchResultListener* l) {
        std::vector<std::string> missing;
        for (const auto& n : names) {
          if (!f.data.at("extensions").contains(n)) missing.push_back(n);
        }
        std::vector<std::string> installed;
        for (const auto& [n, v] : f.data.at("extensions").items())
          installed.push_back(n + " " + v.get<std::string>());
        *l << "whose installed extensions are " << joined(installed);
        if (!missing.empty())
          *l << "; missing: " << joined(missing) << " (CREATE EXTENSION in a migration)";
        return missing.empty();
      },
      "has the extensions " + joined(names), "lacks one of the extensions " + joined(names));
}

DatabaseMatcher MatchesSchemaSnapshot(std::vector<std::string> expected, std::string source) {
  std::sort(expected.begin(), expected.end());
  return make<DatabaseFacts>(
      [expected, source](const DatabaseFacts& f, MatchResultListener* l) {
        const auto seen = f.schema_lines();
        std::vector<std::string> missing, extra;
        std::set_difference(expected.begin(), expected.end(), seen.begin(), seen.end(),
                            std::back_inserter(missing));
        std::set_difference(seen.begin(), seen.end(), expected.begin(), expected.end(),
                            std::back_inserter(extra));
        if (missing.empty() && extra.empty()) {
          *l << "whose " << seen.size() << " schema lines equal the snapshot";
          return true;
        }
        *l << "which differs from the snapshot " << source << " in "
           << missing.size() + extra.size() << " line(s):";
        for (const auto& m : missing) *l << "\n  expected, missing: " << m;
        for (const auto& e : extra) *l << "\n  present, not expected: " << e;
        *l << "\nIf the database is right (a reviewed migration changed the schema), rewrite the "
              "snapshot: DEPLOYCHECK_WRITE_SNAPSHOT=1 and run this check again";
        return false;
      },
      "has the schema of the snapshot " + source, "differs from the snapshot " + source);
}

DatabaseMatcher HasIndexes(std::vector<std::string> names) {
  return make<DatabaseFacts>(
      [names](const DatabaseFacts& f, MatchResultListener* l) {
        std::vector<std::string> missing, invalid;
        for (const auto& wanted : names) {
          const auto dot = wanted.find('.');
          bool found = false;
          for (const auto& i : f.data.at("indexes")) {
            const auto name = i.at("name").get<std::string>();
            const auto qualified = i.at("schema").get<std::string>() + "." + name;
            if ((dot == std::string::npos ? name : qualified) != wanted) continue;
            found = true;
            if (!i.at("valid").get<bool>()) invalid.push_back(wanted);
          }
          if (!found) missing.push_back(wanted);
        }
        *l << "with " << names.size() - missing.size() << " of " << names.size()
           << " required indexes present";
        if (!missing.empty())
          *l << "; missing: " << joined(missing)
             << " (a migration not applied, or dropped by hand?)";
        if (!invalid.empty())
          *l << "; invalid (a failed CREATE INDEX CONCURRENTLY: drop and recreate): "
             << joined(invalid);
        return missing.empty() && invalid.empty();
      },
      "has the indexes " + joined(names), "lacks one of the indexes " + joined(names));
}

DatabaseMatcher HasNoOrphanRows() {
  return make<DatabaseFacts>(
      [](const DatabaseFacts& f, MatchResultListener* l) {
        const auto all = orphans(f);
        std::vector<std::string> found;
        for (const auto& o : all) {
          if (o.rows > 0) {
            found.push_back(o.table + "(" + o.columns + ") -> " + o.references + ": " +
                            std::to_string(o.rows) + " orphaned row(s) [" + o.foreign_key + "]");
          }
        }
        *l << "with " << all.size() << " foreign keys checked";
        if (!found.empty()) *l << "; rows pointing at nothing: " << joined(found);
        return found.empty();
      },
      "has no rows whose foreign key points at a missing row",
      "has rows whose foreign key points at a missing row");
}

DatabaseMatcher ConnectionsBelow(double fraction) {
  return make<DatabaseFacts>(
      [fraction](const DatabaseFacts& f, MatchResultListener* l) {
        const auto& c = f.data.at("connections");
        const double in_use = c.at("in_use").get<double>();
        const double max = c.at("max").get<double>();
        *l << "with " << in_use << " of max_connections " << max << " in use ("
           << static_cast<int>(100 * in_use / max) << "%)";
        return in_use < fraction * max;
      },
      "uses less than " + std::to_string(static_cast<int>(fraction * 100)) + "% of max_connections",
      "uses at least " + std::to_string(static_cast<int>(fraction * 100)) + "% of max_connections");
}

DatabaseMatcher ReplicationLagBelow(Duration bound) {
  return make<DatabaseFacts>(
      [bound](const DatabaseFacts& f, MatchResultListener* l) {
        const auto& r = f.data.at("replication");
        if (!r.at("standby").get<bool>()) {
          *l << "which is a primary (no replication lag)";
          return true;
        }
        if (r.at("lag_seconds").is_null()) {
          *l << "which is a standby that has replayed nothing yet";
          return false;
        }
        const double lag = r.at("lag_seconds").get<double>();
        *l << "which is a standby " << lag << " s behind its primary";
        return lag * 1000 <= static_cast<double>(bound.count());
      },
      "lags its primary by at most " + format_duration(bound),
      "lags its primary by more than " + format_duration(bound));
}

DatabaseMatcher RoundTripSucceeds() {
  return make<DatabaseFacts>(
      [](const DatabaseFacts& f, MatchResultListener* l) {
        if (!f.data.contains("round_trip")) {
          *l << "for which no round trip was made (database.round_trip is off)";
          return false;
        }
        const auto& r = f.data.at("round_trip");
        if (r.contains("error")) {
          *l << "which refused the write: " << r.at("error").get<std::string>();
          return false;
        }
        *l << "which " << (r.at("read_back").get<bool>() ? "returned" : "did NOT return")
           << " the row written in a transaction that was then rolled back";
        return r.at("wrote").get<bool>() && r.at("read_back").get<bool>();
      },
      "accepts a write and returns it (rolled back)", "fails a write-and-read round trip");
}

::testing::Matcher<const RowCount&> HasRowsBetween(std::optional<long long> min,
                                                   std::optional<long long> max) {
  std::string want = min && max ? "between " + std::to_string(*min) + " and " + std::to_string(*max)
                     : min      ? "at least " + std::to_string(*min)
                                : "at most " + std::to_string(max.value_or(0));
  return make<RowCount>(
      [min, max](const RowCount& c, MatchResultListener* l) {
        if (!c.found) {
          *l << "which does not exist in the database (a migration not applied?)";
          return false;
        }
        *l << "which has " << c.rows << (c.exact ? "" : " (estimated)") << " rows";
        const bool ok = (!min || c.rows >= *min) && (!max || c.rows <= *max);
        if (!ok) *l << ": seed data missing or lost? Compare with the data migration";
        return ok;
      },
      "has " + want + " rows", "does not have " + want + " rows");
}

MigrationMatcher PendingEquals(std::vector<std::string> reviewed) {
  return make<MigrationStatus>(
      [reviewed](const MigrationStatus& s, MatchResultListener* l) {
        *l << "whose pending migrations are [" << joined(s.pending, "") << "]";
        if (s.pending == reviewed) return true;
        std::vector<std::string> unreviewed, gone;
        for (const auto& p : s.pending) {
          if (std::find(reviewed.begin(), reviewed.end(), p) == reviewed.end())
            unreviewed.push_back(p);
        }
        for (const auto& r : reviewed) {
          if (std::find(s.pending.begin(), s.pending.end(), r) == s.pending.end())
            gone.push_back(r);
        }
        if (!unreviewed.empty()) *l << "; not reviewed: " << joined(unreviewed);
        if (!gone.empty())
          *l << "; reviewed but not pending (applied already, or renamed): " << joined(gone);
        if (unreviewed.empty() && gone.empty()) *l << "; same migrations, another order";
        *l << ". Review the list and update migrations.reviewed_pending";
        return false;
      },
      "has exactly the reviewed pending migrations [" + joined(reviewed, "") + "]",
      "does not have exactly the reviewed pending migrations");
}

MigrationMatcher NonePending() {
  return make<MigrationStatus>(
      [](const MigrationStatus& s, MatchResultListener* l) {
        *l << "with " << s.pending.size() << " pending: " << joined(s.pending);
        if (!s.pending.empty()) *l << ". Run the deploy's migrate step, then check again";
        return s.pending.empty();
      },
      "has no pending migrations", "has pending migrations");
}

MigrationMatcher NoneFailed() {
  return make<MigrationStatus>(
      [](const MigrationStatus& s, MatchResultListener* l) {
        *l << "with failed or dirty: " << joined(s.failed);
        if (!s.failed.empty()) *l << ". Repair by hand, then mark it resolved with the tool";
        return s.failed.empty();
      },
      "has no failed or dirty migrations", "has a failed or dirty migration");
}

MigrationMatcher ChecksumsMatch() {
  return make<MigrationStatus>(
      [](const MigrationStatus& s, MatchResultListener* l) {
        *l << "with checksum mismatches: " << joined(s.checksum_mismatch);
        if (!s.checksum_mismatch.empty()) {
          *l << ". An applied migration's file was edited afterwards: restore it, and put the "
                "change in a new migration";
        }
        return s.checksum_mismatch.empty();
      },
      "has every applied migration's file unchanged",
      "has an applied migration whose file changed");
}

MigrationMatcher NoneUnknown() {
  return make<MigrationStatus>(
      [](const MigrationStatus& s, MatchResultListener* l) {
        *l << "with applied but not on disk: " << joined(s.unknown);
        if (!s.unknown.empty()) {
          *l << ". The database ran migrations this release does not have: a newer release was "
                "deployed here, or files were deleted";
        }
        return s.unknown.empty();
      },
      "has no applied migration missing from disk", "has applied migrations missing from disk");
}

}  // namespace deploycheck
