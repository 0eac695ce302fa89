#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>

#include "tools/sandbox/module.hpp"

// Every module, one name each; <name>.cpp defines `const Module& <name>_module()`. The order
// only matters for listings: dependencies decide the start order.
#define DEPLOYCHECK_SANDBOX_MODULES(X) \
  X(ca)                                \
  X(nginx)                             \
  X(tls)                               \
  X(appenv)                            \
  X(dns_primary)                       \
  X(dns_secondary)                     \
  X(dns_diverged)                      \
  X(dns_silent)                        \
  X(smtp)                              \
  X(smtp_plain)                        \
  X(postgres)                          \
  X(postgres_broken)                   \
  X(postgres_plain)                    \
  X(s3)                                \
  X(backups)                           \
  X(webapp_gunicorn)                   \
  X(webapp_ws)                         \
  X(webapp)

namespace deploycheck::sandbox {

#define DEPLOYCHECK_DECLARE_MODULE(name) const Module& name##_module();
DEPLOYCHECK_SANDBOX_MODULES(DEPLOYCHECK_DECLARE_MODULE)
#undef DEPLOYCHECK_DECLARE_MODULE

const std::vector<const Module*>& all_modules() {
#define DEPLOYCHECK_LIST_MODULE(name) &name##_module(),
  static const std::vector<const Module*> modules{
      DEPLOYCHECK_SANDBOX_MODULES(DEPLOYCHECK_LIST_MODULE)};
#undef DEPLOYCHECK_LIST_MODULE
  return modules;
}

const Module* find_module(std::string_view name) {
  for (const Module* module : all_modules()) {
    if (module->name() == name) return module;
  }
  return nullptr;
}

namespace {

std::string known_names() {
  std::string names;
  for (const Module* module : all_modules()) {
    if (!names.empty()) names += ", ";
    names += module->name();
  }
  return names;
}

const Module& require(std::string_view name, std::string_view wanted_by) {
  const Module* module = find_module(name);
  if (module == nullptr) {
    throw std::runtime_error(
        "unknown sandbox service '" + std::string(name) + "'" +
        (wanted_by.empty() ? "" : " (a dependency of " + std::string(wanted_by) + ")") +
        ": expected one of " + known_names());
  }
  return *module;
}

}  // namespace

std::vector<const Module*> start_order(const std::vector<std::string>& requested) {
  std::vector<const Module*> order;
  std::vector<const Module*> visiting;
  std::function<void(const Module&)> visit = [&](const Module& module) {
    if (std::find(order.begin(), order.end(), &module) != order.end()) return;
    if (std::find(visiting.begin(), visiting.end(), &module) != visiting.end()) {
      throw std::logic_error("sandbox modules depend on each other in a cycle through " +
                             std::string(module.name()));
    }
    visiting.push_back(&module);
    for (std::string_view dependency : module.dependencies()) {
      visit(require(dependency, module.name()));
    }
    visiting.pop_back();
    order.push_back(&module);
  };
  for (const std::string& name : requested) visit(require(name, ""));
  return order;
}

}  // namespace deploycheck::sandbox
