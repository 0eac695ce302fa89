#pragma once
// Gather tests and the checks that read their facts.
#include <optional>
#include <string>
#include <vector>

#include "probes/facts.hpp"
#include "runner/check.hpp"

namespace deploycheck {

struct GatherSpec {
  std::string probe;   // HTTP
  std::string target;  // health_main (sanitised)
  std::string suite;   // label of the suite whose checks need it
  Policy policy;
  Phase phase = Phase::kBoth;
  Gatherer gatherer;
};

// Registers `Gather.<probe>/<target>` (a CTest FIXTURES_SETUP) and returns the fact key
// checks name in CheckSpec::gathers.
std::string register_gather(GatherSpec spec);

// This run's fact for `key`, or nullopt after recording a failure that says why
// (the target could not be reached: the check is "not run" under ctest, failed when solo).
std::optional<Fact> need_fact(const std::string& key);

// Re-gathers `key` until `holds(fact)` or the policy's `eventually` passes; returns the last
// fact. Records the attempts it took as the test property "attempts".
std::optional<Fact> fact_when(const std::string& key,
                              const std::function<bool(const Fact&)>& holds);

}  // namespace deploycheck
