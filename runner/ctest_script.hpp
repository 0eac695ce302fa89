#pragma once
// Writes the CTest script that registers every test of this executable: one add_test per
// gtest case, with its labels (environment, suite, phase, severity), TIMEOUT, fixtures and
// gtest XML output. CMake includes it through TEST_INCLUDE_FILES (see cmake/DeployCheck.cmake).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "fixtures/environment.hpp"

namespace deploycheck {

struct SuiteDefaults {  // from deploycheck_add_suite(<Name> PHASE … SEVERITY …)
  Phase phase = Phase::kBoth;
  Severity severity = Severity::kMedium;
};

struct CtestScriptOptions {
  std::filesystem::path script;
  std::filesystem::path fixtures_file;  // "TEST<TAB>setup;setup" for deploycheck-results
  std::filesystem::path executable;
  std::filesystem::path run_dir;
  std::filesystem::path xml_dir;
  std::filesystem::path runtime_env;  // sandbox environments only
  std::map<std::string, SuiteDefaults> suites;
};

void write_ctest_script(const Environment& env, const CtestScriptOptions& options);

}  // namespace deploycheck
