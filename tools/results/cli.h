// Command-line option parsing shared by the deploycheck-results subcommands.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace deploycheck::results {

// A mistake in how the tool was called; main prints it with the usage and exits 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A problem with an input or output file; main prints it and exits 2.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses `--name value` and `--name=value`. With `passthrough`, everything after a
// bare `--` is kept verbatim for a child process.
class Options {
 public:
  Options(std::span<char* const> args, std::initializer_list<std::string_view> known,
          bool passthrough = false);

  std::optional<std::string> get(std::string_view name) const;
  // Throws UsageError naming the missing option.
  std::string require(std::string_view name) const;
  const std::vector<std::string>& passthrough() const { return passthrough_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::vector<std::string> passthrough_;
};

}  // namespace deploycheck::results
