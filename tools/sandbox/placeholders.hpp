// `@NAME@` placeholders (NAME = [A-Z][A-Z0-9_]*) in the sandbox's templates.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace deploycheck::sandbox {

// The replacement for a placeholder name; nothing = leave the text as it is. May throw to
// reject a name it owns but cannot fill.
using PlaceholderLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Replaces every placeholder `lookup` knows.
std::string fill_placeholders(const std::string& text, const PlaceholderLookup& lookup);

// A config template where every placeholder must be known: an unknown one is a typo in the
// template and throws, naming it, the template (`source`) and the known names.
std::string fill_strictly(const std::string& text, const std::map<std::string, std::string>& values,
                          const std::string& source);

}  // namespace deploycheck::sandbox
