// deploycheck-results: merges ctest's JUnit with gtest's XML, summarises a run,
// and checks a deliberately broken environment's results (self-test).

#include <exception>
#include <iostream>
#include <span>
#include <string_view>

#include "tools/results/cli.h"
#include "tools/results/commands.h"

namespace {

constexpr std::string_view kUsage = R"(usage:
  deploycheck-results junit --ctest-junit CTEST.xml --gtest-xml-dir DIR --out MERGED.xml
                            [--fixtures FILE]
  deploycheck-results summary --junit MERGED.xml [--markdown OUT.md] [--color auto|always|never]
  deploycheck-results selftest --exe PATH --suite NAME --expected FILE --xml OUT.xml [-- ARGS...]

exit status: 0 all good; 1 a check failed, did not run, or the self-test was not exact;
2 the tool was called wrongly or could not read or write a file.
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace deploycheck::results;
  std::span<char* const> all(argv, static_cast<std::size_t>(argc));
  if (all.size() < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::string_view command = all[1];
  std::span<char* const> args = all.subspan(2);
  try {
    if (command == "junit") return run_junit(args);
    if (command == "summary") return run_summary(args);
    if (command == "selftest") return run_selftest(args);
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return 0;
    }
    throw UsageError("unknown subcommand '" + std::string(command) +
                     "': expected junit, summary or selftest");
  } catch (const UsageError& error) {
    std::cerr << "deploycheck-results: " << error.what() << "\n\n" << kUsage;
    return 2;
  } catch (const InputError& error) {
    std::cerr << "deploycheck-results " << command << ": " << error.what() << "\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "deploycheck-results " << command << ": unexpected error: " << error.what()
              << "\n";
    return 2;
  }
}
