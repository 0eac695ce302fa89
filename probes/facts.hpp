#pragma once
// Facts are gathered once per run and shared by every check, across CTest's one-process-per-
// test model, through files in the build's run directory:
//
//   <run dir>/lock        held (flock) for the whole ctest run by Run.Open's holder process
//   <run dir>/run_id      written by Run.Open; every fact records it
//   <run dir>/facts/<key>.json   written atomically by the Gather.<probe>/<target> test
//
// A check refuses a fact from another run and gathers afresh instead. A check with
// `eventually` re-gathers under flock(2) on the fact's own lock file, so two checks never
// hammer a target at once, and the kernel frees the lock if the holder dies.
//
// Run without a run directory (the executable started by hand, or a self-test), facts live in
// memory for that one process.
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "fixtures/environment.hpp"

namespace deploycheck {

struct Fact {
  nlohmann::json data;               // the probe's facts; never a secret
  std::optional<std::string> error;  // set when the target could not be reached
  int attempts = 0;
  std::string run_id;
  std::string gathered_at;  // ISO 8601 UTC
};

// Gathers the facts for one target under its policy; throws Unreachable when it cannot.
using Gatherer = std::function<std::pair<nlohmann::json, int>(const Policy&)>;

class FactStore {
 public:
  static FactStore& instance();

  // With a run directory: share facts through it (CTest mode). Without: in memory.
  void open(std::optional<std::filesystem::path> run_dir);

  void add_gatherer(const std::string& key, Policy policy, Gatherer gatherer);
  const Policy& policy(const std::string& key) const;

  // Gathers now and stores the result (the Gather.* test's body).
  Fact gather(const std::string& key);
  // This run's fact: read from the run directory, or gathered now if there is none yet.
  Fact get(const std::string& key);
  // A newer fact than `seen`: re-gathers under the fact's lock unless another check did.
  Fact regather(const std::string& key, const Fact& seen);

  const std::string& run_id();
  // The run directory shared by this run's processes (nullopt when a check runs alone).
  const std::optional<std::filesystem::path>& run_dir() const { return run_dir_; }

 private:
  std::optional<Fact> read(const std::string& key) const;
  void write(const std::string& key, const Fact& fact) const;
  std::filesystem::path fact_path(const std::string& key) const;

  struct Entry {
    Policy policy;
    Gatherer gatherer;
  };
  std::map<std::string, Entry> gatherers_;
  std::optional<std::filesystem::path> run_dir_;
  std::string run_id_;
  mutable std::map<std::string, Fact> memory_;  // facts of a run without a run directory
};

std::string utc_now_iso8601();

}  // namespace deploycheck
