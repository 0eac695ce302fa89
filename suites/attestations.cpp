// Attestations: checklist items only a person can confirm ("Change request approved",
// "Stakeholders notified"). Each is a test that is skipped, saying what to confirm and how,
// until someone attests it for this run by setting DEPLOYCHECK_ATTEST_<ID>=<who> in a
// run-time source (the process environment, a dotenv source, DEPLOYCHECK_RUNTIME_ENV).
#include <algorithm>

#include "runner/check.hpp"

namespace deploycheck {

DEPLOYCHECK_CHECKS(Attestation) {
  for (const auto& a : environment().attestations) {
    std::string variable = "DEPLOYCHECK_ATTEST_" + a.id;
    std::transform(variable.begin(), variable.end(), variable.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    register_check(CheckSpec{.suite = "Attestation",
                             .name = "Confirmed",
                             .target = a.id,
                             .phase = a.phase,
                             .severity = a.severity,
                             .checklist = a.checklist},
                   [variable, item = a.item] {
                     const auto who = runtime_values().lookup(variable);
                     if (!who || who->text.empty()) {
                       GTEST_SKIP()
                           << "not attested: \"" << item << "\". A person confirms it, then sets "
                           << variable << "=<their name> for this run.";
                     }
                     ::testing::Test::RecordProperty("attested_by", who->text);
                     SUCCEED() << "attested by " << who->text << " (" << who->origin << ")";
                   });
  }
}

}  // namespace deploycheck
