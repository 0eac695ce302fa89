#include "matchers/backup_matchers.hpp"

#include <algorithm>
#include <cstdio>

namespace deploycheck {
namespace {

using backups::BackupObject;
using backups::IntegrityFacts;
using backups::Listing;
using backups::RestoreFacts;
using ::testing::MatchResultListener;

long long age_of(const Listing& l, const BackupObject& b) {
  return l.listed_at - b.mtime;
}

std::string describe_backup(const Listing& l, const BackupObject& b) {
  return b.name + " (" + human_size(b.size) + ", " + backups::format_iso8601_utc(b.mtime) + ", " +
         human_age(age_of(l, b)) + " old)";
}

// The sizes of the up to `previous` backups after the newest, median of them.
std::optional<std::uint64_t> median_of_previous(const Listing& l, int previous) {
  std::vector<std::uint64_t> sizes;
  for (std::size_t i = 1; i < l.backups.size() && static_cast<int>(sizes.size()) < previous; ++i) {
    sizes.push_back(l.backups[i].size);
  }
  if (sizes.empty()) return std::nullopt;
  std::sort(sizes.begin(), sizes.end());
  const auto n = sizes.size();
  return n % 2 ? sizes[n / 2] : (sizes[n / 2 - 1] + sizes[n / 2]) / 2;
}

class NewestWithinRpoMatcher : public ::testing::MatcherInterface<const Listing&> {
 public:
  explicit NewestWithinRpoMatcher(Duration max_age) : max_age_(max_age) {}

  bool MatchAndExplain(const Listing& l, MatchResultListener* out) const override {
    if (l.backups.empty()) {
      *out << "which holds no backup at all: expected one at most " << format_duration(max_age_)
           << " old. Check that the backup job runs and writes to " << l.source;
      return false;
    }
    const auto& newest = l.backups.front();
    const long long age = age_of(l, newest);
    const long long limit = max_age_.count() / 1000;
    if (age <= limit) {
      *out << "whose newest backup " << describe_backup(l, newest) << " is within the RPO of "
           << format_duration(max_age_);
      return true;
    }
    *out << "whose newest backup " << describe_backup(l, newest) << " is older than the RPO of "
         << format_duration(max_age_) << " by " << human_age(age - limit)
         << ": the backup job has not run or is failing. Check its schedule and logs, then take a "
            "backup now";
    return false;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "has a newest backup at most " << format_duration(max_age_) << " old";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has no backup within " << format_duration(max_age_);
  }

 private:
  Duration max_age_;
};

class SizeConsistentMatcher : public ::testing::MatcherInterface<const Listing&> {
 public:
  SizeConsistentMatcher(int tolerance, int previous) : tolerance_(tolerance), previous_(previous) {}

  bool MatchAndExplain(const Listing& l, MatchResultListener* out) const override {
    if (l.backups.empty()) {
      *out << "which holds no backup whose size could be judged. Check that the backup job writes "
              "to "
           << l.source;
      return false;
    }
    const auto& newest = l.backups.front();
    const auto median = median_of_previous(l, previous_);
    if (!median) {
      *out << "whose only backup " << describe_backup(l, newest)
           << " has no predecessor to compare with (judged once a second backup exists)";
      return true;
    }
    const int compared = std::min<int>(previous_, static_cast<int>(l.backups.size()) - 1);
    const double ratio = *median == 0
                             ? (newest.size == 0 ? 1.0 : 1e9)
                             : static_cast<double>(newest.size) / static_cast<double>(*median);
    const double percent = (ratio - 1.0) * 100.0;
    char change[32];
    std::snprintf(change, sizeof change, "%+.0f%%", percent);
    *out << "whose newest backup " << newest.name << " is " << human_size(newest.size) << ", "
         << change << " against the median " << human_size(*median) << " of the " << compared
         << " before it";
    if (percent >= -tolerance_ && percent <= tolerance_) {
      *out << " (within ±" << tolerance_ << "%)";
      return true;
    }
    *out << ", outside ±" << tolerance_ << "%: "
         << (percent < 0 ? "a backup that shrank is often missing tables or data. Inspect it "
                           "(pg_restore --list) and the backup job's log before relying on it"
                         : "check what grew (a table, bloat, a runaway log) and whether the backup "
                           "still fits its storage and RTO");
    return false;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "has a newest backup within ±" << tolerance_ << "% of the median size of the "
        << previous_ << " before it";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has a newest backup more than ±" << tolerance_ << "% off the median size of the "
        << previous_ << " before it";
  }

 private:
  int tolerance_, previous_;
};

class RetentionMatcher : public ::testing::MatcherInterface<const Listing&> {
 public:
  RetentionMatcher(std::optional<Duration> min_age, std::optional<int> min_count)
      : min_age_(min_age), min_count_(min_count) {}

  bool MatchAndExplain(const Listing& l, MatchResultListener* out) const override {
    const int count = static_cast<int>(l.backups.size());
    bool ok = true;
    *out << "which keeps " << count << (count == 1 ? " backup" : " backups");
    if (count > 0) *out << ", the oldest " << describe_backup(l, l.backups.back());
    if (min_count_ && count < *min_count_) {
      *out << "; expected at least " << *min_count_ << " backups";
      ok = false;
    }
    if (min_age_) {
      const long long oldest = count > 0 ? age_of(l, l.backups.back()) : 0;
      if (oldest * 1000 < min_age_->count()) {
        *out << "; expected the oldest to be at least " << format_duration(*min_age_) << " old";
        ok = false;
      }
    }
    if (ok) {
      *out << ", meeting the retention policy (" << DescribePolicy() << ")";
    } else {
      *out << ": backups are deleted too early (or the job started recently). Check the lifecycle "
              "rule or cleanup job against the retention policy";
    }
    return ok;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "keeps backups for " << DescribePolicy();
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not keep backups for " << DescribePolicy();
  }

 private:
  std::string DescribePolicy() const {
    std::string text;
    if (min_age_) text += "oldest at least " + format_duration(*min_age_);
    if (min_count_)
      text += (text.empty() ? "" : ", ") + std::string("at least ") + std::to_string(*min_count_) +
              " backups";
    return text;
  }
  std::optional<Duration> min_age_;
  std::optional<int> min_count_;
};

class EncryptedMatcher : public ::testing::MatcherInterface<const Listing&> {
 public:
  explicit EncryptedMatcher(EncryptionAt at) : content_only_(at == EncryptionAt::kContentOnly) {}

  bool MatchAndExplain(const Listing& l, MatchResultListener* out) const override {
    if (l.backups.empty()) {
      *out << "which holds no backup whose encryption could be judged";
      return false;
    }
    std::vector<std::string> plain;
    for (const auto& b : l.backups) {
      if ((b.server_side_encryption && !content_only_) || backups::is_encrypted(b.format)) continue;
      plain.push_back(
          b.name + " (" + backups::to_string(b.format) +
          (b.format == backups::Format::kUnknown ? ", first bytes " + b.first_bytes_hex : "") +
          (l.kind != "s3" ? std::string()
           : b.server_side_encryption
               ? ", server-side " + *b.server_side_encryption + " does not count"
               : std::string(", no x-amz-server-side-encryption")) +
          ")");
    }
    if (plain.empty()) {
      const auto& newest = l.backups.front();
      *out << "whose " << l.backups.size() << " backups are all encrypted (newest " << newest.name
           << ": "
           << (newest.server_side_encryption && !backups::is_encrypted(newest.format)
                   ? "server-side " + *newest.server_side_encryption
                   : std::string(backups::to_string(newest.format)))
           << ")";
      return true;
    }
    *out << "where " << plain.size() << " of " << l.backups.size()
         << " backups are not encrypted: ";
    for (std::size_t i = 0; i < plain.size() && i < 3; ++i) *out << (i ? ", " : "") << plain[i];
    if (plain.size() > 3) *out << " and " << plain.size() - 3 << " more";
    *out << ". Encrypt backups before they leave the database host (gpg, age or openssl enc)"
         << (l.kind == "s3" && !content_only_
                 ? ", or turn on the bucket's default encryption (SSE-S3 or SSE-KMS) and "
                   "re-upload"
                 : "");
    return false;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "holds only encrypted backups" << (content_only_ ? " (content encryption)" : "");
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "holds an unencrypted backup" << (content_only_ ? " (content encryption)" : "");
  }

 private:
  bool content_only_;
};

class ArchiveReadableMatcher : public ::testing::MatcherInterface<const IntegrityFacts&> {
 public:
  bool MatchAndExplain(const IntegrityFacts& f, MatchResultListener* out) const override {
    if (f.exit_code == 0 && !f.timed_out) {
      *out << "whose table of contents " << f.program << " --list read: " << f.toc_entries
           << " entries in " << f.elapsed_ms << " ms";
      return true;
    }
    if (f.timed_out) {
      *out
          << "which " << f.program << " --list did not read within "
          << format_duration(Duration(f.timeout_ms))
          << ": raise integrity.timeout if the archive is large, or check the disk it is read from";
      return false;
    }
    *out << "which " << f.program << " --list cannot read (" << f.error
         << "): the archive is truncated or corrupt, or not a pg_dump -Fc/-Ft archive. Do not rely "
            "on "
            "it: take a new backup and check why this one broke (disk full, job killed)";
    return false;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "is an archive pg_restore --list reads";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is an archive pg_restore --list cannot read";
  }
};

class RestoredWithinMatcher : public ::testing::MatcherInterface<const RestoreFacts&> {
 public:
  RestoredWithinMatcher(std::vector<TableExpectation> tables, std::optional<Duration> rto)
      : tables_(std::move(tables)), rto_(rto) {}

  bool MatchAndExplain(const RestoreFacts& f, MatchResultListener* out) const override {
    bool ok = true;
    if (!f.restored) {
      *out << "which did not restore into " << f.scratch_database << ": " << f.restore_error
           << ". Fix the backup (or the restore server's version/extensions) before relying on it";
      ok = false;
    } else {
      *out << "which restored into " << f.scratch_database << " in " << f.elapsed_ms << " ms";
      std::vector<std::string> short_tables;
      for (const auto& expected : tables_) {
        const auto it =
            std::find_if(f.tables.begin(), f.tables.end(),
                         [&](const backups::TableCount& t) { return t.table == expected.table; });
        if (it == f.tables.end() || !it->rows) {
          short_tables.push_back(
              expected.table + " missing" +
              (it != f.tables.end() && !it->error.empty() ? " (" + it->error + ")" : ""));
        } else if (expected.min_rows && *it->rows < *expected.min_rows) {
          short_tables.push_back(expected.table + " has " + std::to_string(*it->rows) +
                                 " rows, expected at least " + std::to_string(*expected.min_rows));
        } else if (expected.max_rows && *it->rows > *expected.max_rows) {
          short_tables.push_back(expected.table + " has " + std::to_string(*it->rows) +
                                 " rows, expected at most " + std::to_string(*expected.max_rows));
        }
      }
      if (short_tables.empty()) {
        if (!tables_.empty()) *out << ", every expected table with its rows";
      } else {
        *out << ", but ";
        for (std::size_t i = 0; i < short_tables.size(); ++i)
          *out << (i ? "; " : "") << short_tables[i];
        *out << ": the backup lacks data production needs. Check what the backup job dumps (-t/-n "
                "filters, "
                "the database it connects to)";
        ok = false;
      }
      if (rto_) {
        if (f.elapsed_ms > rto_->count()) {
          *out << "; the restore took longer than the RTO of " << format_duration(*rto_)
               << ": a real recovery would miss it. Speed it up (parallel pg_restore -j, a faster "
                  "restore host) or agree a longer RTO";
          ok = false;
        } else {
          *out << ", within the RTO of " << format_duration(*rto_);
        }
      }
    }
    if (!f.dropped) {
      *out << "; the scratch database " << f.scratch_database << " was NOT dropped ("
           << f.drop_error << "): drop it by hand on the restore server";
      ok = false;
    }
    return ok;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "restores with its tables' rows"
        << (rto_ ? " within " + format_duration(*rto_) : std::string());
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not restore with its tables' rows"
        << (rto_ ? " within " + format_duration(*rto_) : std::string());
  }

 private:
  std::vector<TableExpectation> tables_;
  std::optional<Duration> rto_;
};

}  // namespace

namespace backups {
void PrintTo(const Listing& l, std::ostream* os) {
  // The backups themselves are named by the explanation: printing them here too would say it twice.
  *os << l.source << ", " << l.backups.size() << (l.backups.size() == 1 ? " backup" : " backups")
      << " listed at " << format_iso8601_utc(l.listed_at);
}
void PrintTo(const IntegrityFacts& f, std::ostream* os) {
  *os << f.backup;
}
void PrintTo(const RestoreFacts& f, std::ostream* os) {
  *os << f.backup;
}
}  // namespace backups

std::string human_age(long long seconds) {
  const bool negative = seconds < 0;
  long long s = negative ? -seconds : seconds;
  const long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
  s %= 60;
  std::string text;
  if (d)
    text = std::to_string(d) + "d" + (h ? " " + std::to_string(h) + "h" : "");
  else if (h)
    text = std::to_string(h) + "h" + (m ? " " + std::to_string(m) + "m" : "");
  else if (m)
    text = std::to_string(m) + "m" + (s ? " " + std::to_string(s) + "s" : "");
  else
    text = std::to_string(s) + "s";
  return negative ? "-" + text : text;
}

std::string human_size(std::uint64_t bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  }
  return text;
}

ListingMatcher NewestWithinRpo(Duration max_age) {
  return ::testing::MakeMatcher(new NewestWithinRpoMatcher(max_age));
}
ListingMatcher SizeConsistent(int tolerance_percent, int previous) {
  return ::testing::MakeMatcher(new SizeConsistentMatcher(tolerance_percent, previous));
}
ListingMatcher RetentionAtLeast(std::optional<Duration> min_age, std::optional<int> min_count) {
  return ::testing::MakeMatcher(new RetentionMatcher(min_age, min_count));
}
ListingMatcher Encrypted(EncryptionAt at) {
  return ::testing::MakeMatcher(new EncryptedMatcher(at));
}
::testing::Matcher<const backups::IntegrityFacts&> ArchiveReadable() {
  return ::testing::MakeMatcher(new ArchiveReadableMatcher());
}
::testing::Matcher<const backups::RestoreFacts&> RestoredWithin(
    std::vector<TableExpectation> tables, std::optional<Duration> rto) {
  return ::testing::MakeMatcher(new RestoredWithinMatcher(std::move(tables), rto));
}

}  // namespace deploycheck
