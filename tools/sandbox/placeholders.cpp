#include "tools/sandbox/placeholders.hpp"

#include <stdexcept>

namespace deploycheck::sandbox {
namespace {

bool is_name_char(char c, bool first) {
  return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

}  // namespace

std::string fill_placeholders(const std::string& text, const PlaceholderLookup& lookup) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '@') {
      size_t j = i + 1;
      while (j < text.size() && is_name_char(text[j], j == i + 1)) ++j;
      if (j > i + 1 && j < text.size() && text[j] == '@') {
        if (auto value = lookup(text.substr(i + 1, j - i - 1))) {
          out += *value;
          i = j + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

std::string fill_strictly(const std::string& text, const std::map<std::string, std::string>& values,
                          const std::string& source) {
  return fill_placeholders(text, [&](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it != values.end()) return it->second;
    std::string known;
    for (const auto& [key, value] : values) known += (known.empty() ? "@" : ", @") + key + "@";
    throw std::runtime_error(source + " uses the placeholder @" + name +
                             "@, which the sandbox does not fill: expected one of " + known +
                             ". Fix the template.");
  });
}

}  // namespace deploycheck::sandbox
