// A sandbox module: one service (or one set of files) that `deploycheck-sandboxctl up` can start.
//
// To add a module: write <name>.cpp defining `const Module& <name>_module()` (see nginx.cpp for
// a service, ca.cpp for files only) and add its name to DEPLOYCHECK_SANDBOX_MODULES in
// registry.cpp. Put its config templates in environments/sandbox/.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/process/child.hpp"

namespace deploycheck::sandbox {

using Clock = std::chrono::steady_clock;

// What a module gets to work with. Data (configs, certs, logs, secrets) goes under data_dir
// only; the state dir holds pointers and locks and is no module's business.
struct Context {
  std::filesystem::path data_dir;
  std::filesystem::path templates_dir;
  // start() must have returned or thrown by then.
  Clock::time_point deadline;
};

struct Started {
  // The running service, for modules that run a process; the supervisor holds it.
  std::optional<process::Child> child;
  // What `up` prints after the name, e.g. "ready on 127.0.0.1:41523 (https)".
  std::string summary;
};

class Module {
 public:
  virtual ~Module() = default;
  virtual std::string_view name() const = 0;
  // Modules that must be up first; `up` starts them too.
  virtual std::vector<std::string_view> dependencies() const { return {}; }
  // True: `up` forks a detached supervisor that calls start() and holds the child until `down`
  // (or the watched pid exits). False: `up` calls start() itself and nothing keeps running.
  virtual bool runs_process() const = 0;
  virtual std::chrono::seconds startup_timeout() const { return std::chrono::seconds(20); }
  // Prepares files, starts the service and returns once it is READY (a real readiness check,
  // never a sleep). Throws std::runtime_error with the service's own error output and what to
  // do when it cannot.
  virtual Started start(const Context& context) const = 0;
};

// All registered modules, in registration order.
const std::vector<const Module*>& all_modules();
// nullptr when unknown.
const Module* find_module(std::string_view name);
// The modules to start for `requested`: dependencies first, then the requested order. Throws on
// an unknown name (listing the known ones) or a dependency cycle.
std::vector<const Module*> start_order(const std::vector<std::string>& requested);

}  // namespace deploycheck::sandbox
