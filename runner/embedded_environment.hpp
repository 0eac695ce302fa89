#pragma once
// Symbols defined by the per-environment source that deploycheck-validate generates at build
// time (deploycheck_add_environment): the validated YAML text, where it came from, and its
// SHA-256, so a run can refuse to check thresholds that have changed since the build.
#include <cstddef>

namespace deploycheck::embedded {
extern const char kYaml[];
extern const std::size_t kYamlSize;
extern const char kYamlPath[];
extern const char kYamlSha256[];
}  // namespace deploycheck::embedded
