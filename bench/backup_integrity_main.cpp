// deploycheck-bench-backup-integrity DIR GLOB [PG_RESTORE]: what Gather.BackupIntegrity/<id> does
// for a local source — list DIR, take the newest file matching GLOB, `pg_restore --list` it
// within 10 minutes — and print the number of table-of-contents entries (exit 1 when pg_restore
// could not read it). bench/backups_bench.sh runs it side by side with pg_restore --list alone.
#include <chrono>
#include <iostream>

#include "probes/backups/listing.hpp"
#include "probes/backups/verify.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: deploycheck-bench-backup-integrity DIR GLOB [PG_RESTORE]\n";
    return 2;
  }
  using namespace deploycheck::backups;
  const auto listing = list_local(argv[1], argv[2]);
  if (listing.backups.empty()) {
    std::cerr << "no backup matches " << argv[2] << " in " << argv[1] << "\n";
    return 2;
  }
  const auto& newest = listing.backups.front();
  const auto facts = read_archive_toc(std::filesystem::path(argv[1]) / newest.name, newest.name,
                                      argc > 3 ? argv[3] : "pg_restore", std::chrono::minutes(10));
  std::cout << facts.toc_entries << "\n";
  if (facts.exit_code != 0) {
    std::cerr << facts.error << "\n";
    return 1;
  }
  return 0;
}
