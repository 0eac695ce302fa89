#pragma once
// What a suite (or a user's own file) needs to declare checks.
//
// Two ways in:
//  * a plain `TEST(Suite, Name)` or `TEST_F(deploycheck::Check, Name)` in a file given to
//    deploycheck_add_suite(); its labels come from that call (or DEPLOYCHECK_LABELS below);
//  * checks generated from the environment file, one per target, registered at start-up by a
//    DEPLOYCHECK_CHECKS block — that is how `EnvVars.Required/DATABASE_URL` comes to exist.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "fixtures/environment.hpp"
#include "fixtures/runtime_values.hpp"

namespace deploycheck {

// The environment this executable was built for (validated at build time, loaded at start).
const Environment& environment();
// Its run-time values (${VAR} references, secrets), read lazily on first use.
const RuntimeValues& runtime_values();
// Set once by main() (or a test) before any check is registered.
void set_environment(Environment env);

// The gtest fixture every deploycheck check derives from. SetUp applies waivers; a user's
// TEST_F(deploycheck::Check, Name) gets the same treatment.
class Check : public ::testing::Test {
 protected:
  void SetUp() override;
};

// What CTest needs to know about one check, besides its gtest name.
struct CheckSpec {
  std::string suite;   // EnvVars
  std::string name;    // Required
  std::string target;  // DATABASE_URL (sanitised into the test name)
  Phase phase = Phase::kBoth;
  Severity severity = Severity::kMedium;
  std::vector<std::string> checklist;  // the checklist item(s) this verifies
  std::vector<std::string> gathers;    // fact keys ("HTTP/health_main") it needs gathered
  Duration budget{5000};               // longest the check itself may take (TIMEOUT)
  std::string serves;                  // a gather's extra label: the suite it gathers for
};

// Registers `body` as the gtest test `suite.name/target`.
void register_check(CheckSpec spec, std::function<void()> body);
// The same for a Gather.* test (a CTest FIXTURES_SETUP); see runner/gather.hpp.
void register_gather_test(CheckSpec spec, std::function<void()> body);

// Test metadata, keyed by gtest full name ("EnvVars.Required/DATABASE_URL"). Gathers are
// registered like checks, with is_gather set.
struct TestInfo {
  CheckSpec spec;
  bool is_gather = false;
};
const std::vector<TestInfo>& registered_tests();

// Letters, digits and '_' only: gtest filters and CTest names stay unambiguous.
std::string sanitize(std::string_view text);

// Labels for a plain TEST in a user's file: DEPLOYCHECK_LABELS(MySuite, MyTest, "post", "high",
// "004 Verification: critical workflows work").
struct LabelOverride {
  LabelOverride(const char* suite, const char* test, const char* phase, const char* severity,
                const char* checklist = "");
};
const std::vector<std::pair<std::string, CheckSpec>>& label_overrides();
// Mistakes in DEPLOYCHECK_LABELS (a phase or severity that does not exist), reported by main()
// before anything runs: static initialisation cannot report them itself.
const std::vector<std::string>& label_override_errors();

#define DEPLOYCHECK_LABELS(suite, test, phase, severity, ...)                     \
  static const ::deploycheck::LabelOverride deploycheck_labels_##suite##_##test { \
#suite, #test, phase, severity __VA_OPT__(, ) __VA_ARGS__                     \
  }

// Runs a block once the environment is loaded, to register the checks it calls for.
struct ChecksRegistrar {
  explicit ChecksRegistrar(void (*fn)());
};
void run_registrars();

#define DEPLOYCHECK_CHECKS_CONCAT2(a, b) a##b
#define DEPLOYCHECK_CHECKS_CONCAT(a, b) DEPLOYCHECK_CHECKS_CONCAT2(a, b)
#define DEPLOYCHECK_CHECKS(name)                                         \
  static void deploycheck_register_##name();                             \
  static const ::deploycheck::ChecksRegistrar DEPLOYCHECK_CHECKS_CONCAT( \
      deploycheck_registrar_, name){&deploycheck_register_##name};       \
  static void deploycheck_register_##name()

}  // namespace deploycheck
