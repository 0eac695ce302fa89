// The entry point of every deploycheck-<environment> executable.
//
//   deploycheck-production [gtest flags]            run checks (normally one, from ctest)
//   ... --deploycheck-ctest-script=FILE ...         write the CTest registration (build time)
//   ... --deploycheck-run-open / --deploycheck-run-close --deploycheck-run-dir=DIR
//
// A run refuses to start when the environment file changed since the build, so nobody checks
// yesterday's thresholds.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

#include "fixtures/config_error.hpp"
#include "probes/facts.hpp"
#include "runner/check.hpp"
#include "runner/ctest_script.hpp"
#include "runner/embedded_environment.hpp"
#include "runner/run_dir.hpp"

namespace deploycheck {
namespace {

// Empty when the file on disk is the one this executable was built from.
std::string source_changed() {
  std::ifstream in(embedded::kYamlPath, std::ios::binary);
  if (!in) {
    return std::string(embedded::kYamlPath) +
           " (the environment file this executable was built from) cannot be read: rebuild "
           "with cmake --build <build dir>, or restore the file";
  }
  // The text itself is embedded, so comparing bytes is exact — and much cheaper per check
  // process than initialising OpenSSL's digests. (The SHA-256 stays embedded for reports.)
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  if (text == std::string_view(embedded::kYaml, embedded::kYamlSize)) return {};
  return std::string(embedded::kYamlPath) +
         " changed since the build: run cmake --build <build dir> (checks would otherwise use the "
         "old thresholds)";
}

struct Flags {
  std::optional<std::string> run_dir;
  bool run_open = false;
  bool run_close = false;
  bool skip_source_check = false;
  std::optional<CtestScriptOptions> ctest;
};

std::optional<SuiteDefaults> parse_suite_default(const std::string& spec, std::string& name) {
  // Name:phase:severity
  std::istringstream in(spec);
  std::string phase, severity;
  if (!std::getline(in, name, ':') || !std::getline(in, phase, ':') ||
      !std::getline(in, severity)) {
    return std::nullopt;
  }
  auto p = parse_phase(phase);
  auto s = parse_severity(severity);
  if (!p || !s) return std::nullopt;
  return SuiteDefaults{*p, *s};
}

// Takes our own flags out of argv, leaving gtest's.
Flags take_flags(int& argc, char** argv) {
  Flags flags;
  CtestScriptOptions ctest;
  bool want_script = false;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* prefix) -> std::optional<std::string> {
      const std::string p = prefix;
      if (arg.rfind(p, 0) == 0) return arg.substr(p.size());
      return std::nullopt;
    };
    if (auto v = value("--deploycheck-run-dir=")) {
      flags.run_dir = *v;
      ctest.run_dir = *v;
    } else if (arg == "--deploycheck-run-open") {
      flags.run_open = true;
    } else if (arg == "--deploycheck-run-close") {
      flags.run_close = true;
    } else if (auto v = value("--deploycheck-ctest-script=")) {
      want_script = true;
      ctest.script = *v;
    } else if (auto v = value("--deploycheck-fixtures-file=")) {
      ctest.fixtures_file = *v;
    } else if (auto v = value("--deploycheck-exe=")) {
      ctest.executable = *v;
    } else if (auto v = value("--deploycheck-xml-dir=")) {
      ctest.xml_dir = *v;
    } else if (auto v = value("--deploycheck-runtime-env=")) {
      ctest.runtime_env = *v;
    } else if (auto v = value("--deploycheck-suites-file=")) {
      // Lines "Name:phase:severity" written by deploycheck_add_suite().
      std::ifstream in(*v);
      for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        std::string name;
        auto defaults = parse_suite_default(line, name);
        if (!defaults) {
          std::cerr << "error: " << *v << ": '" << line
                    << "': expected Name:pre|post|both:critical|high|medium|low\n";
          std::exit(2);
        }
        ctest.suites[name] = *defaults;
      }
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  argv[argc] = nullptr;
  if (want_script) flags.ctest = ctest;
  return flags;
}

// Exit 77 (CTest's SKIP_RETURN_CODE) when every test that ran was skipped: gtest itself
// reports a skip as success, which would turn an unattested item into a pass.
bool all_skipped() {
  const auto* unit = ::testing::UnitTest::GetInstance();
  return unit->test_to_run_count() > 0 && unit->skipped_test_count() == unit->test_to_run_count();
}

}  // namespace

}  // namespace deploycheck

int main(int argc, char** argv) {
  using namespace deploycheck;
  Flags flags = take_flags(argc, argv);
  for (const auto& error : label_override_errors()) std::cerr << "error: " << error << "\n";
  if (!label_override_errors().empty()) return 2;
  try {
    set_environment(load_environment(std::string_view(embedded::kYaml, embedded::kYamlSize),
                                     embedded::kYamlPath, LoadMode::kAlreadyValidated));
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";  // cannot happen unless the validator and loader disagree
    return 2;
  }
  // Listing and registering tests reads no file and no secret; running them does.
  const bool listing = flags.ctest.has_value() || std::any_of(argv, argv + argc, [](const char* a) {
                         return std::string_view(a).starts_with("--gtest_list_tests");
                       });
  if (!listing) {
    if (auto why = source_changed(); !why.empty()) {
      std::cerr << "deploycheck: refusing to run: " << why << "\n";
      return 2;
    }
  }
  if (flags.run_open || flags.run_close) {
    if (!flags.run_dir) {
      std::cerr << "error: --deploycheck-run-open/close need --deploycheck-run-dir=DIR\n";
      return 2;
    }
    return flags.run_open ? open_run(*flags.run_dir) : close_run(*flags.run_dir);
  }

  ::testing::InitGoogleTest(&argc, argv);
  FactStore::instance().open(flags.run_dir ? std::optional<std::filesystem::path>(*flags.run_dir)
                                           : std::nullopt);
  run_registrars();
  if (flags.ctest) {
    write_ctest_script(environment(), *flags.ctest);
    return 0;
  }
  const int rc = RUN_ALL_TESTS();
  if (rc == 0 && all_skipped()) return 77;
  return rc;
}
