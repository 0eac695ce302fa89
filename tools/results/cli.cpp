#include "tools/results/cli.h"

#include <algorithm>

namespace deploycheck::results {

Options::Options(std::span<char* const> args, std::initializer_list<std::string_view> known,
                 bool passthrough) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--" && passthrough) {
      passthrough_.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      return;
    }
    std::string name(arg);
    std::optional<std::string> value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw UsageError("unknown argument '" + std::string(arg) + "'");
    }
    if (!value) {
      if (i + 1 >= args.size()) throw UsageError(name + " expects a value");
      value = args[++i];
    }
    if (!values_.emplace(name, *value).second) {
      throw UsageError(name + " given twice: give it once");
    }
  }
}

std::optional<std::string> Options::get(std::string_view name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  return std::nullopt;
}

std::string Options::require(std::string_view name) const {
  if (auto value = get(name)) return *value;
  throw UsageError("missing required option " + std::string(name));
}

}  // namespace deploycheck::results
