// The per-service supervisor: a small detached process that `up` forks and execs for each
// service that runs a process. It starts the service (Module::start), reports READY or the
// failure to `up` over a pipe, then holds the child until it gets SIGTERM (from `down`) or the
// watched pid exits, and stops the service's whole process group before it exits itself.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "tools/sandbox/module.hpp"
#include "tools/sandbox/state.hpp"

namespace deploycheck::sandbox {

struct LaunchResult {
  bool ready = false;
  // The module's summary when ready, else the failure with the service's own error output.
  std::string message;
};

// Forks a detached supervisor for `module` (new session; stdin and stdout/stderr on /dev/null
// and DATA/supervisor-<name>.log, so it never holds a caller's pipe open) and waits for its
// report. `watch_pidfd` (-1 for none) is handed down: the supervisor stops when it polls
// readable.
LaunchResult launch_supervisor(const StateDir& state, const Module& module,
                               const std::filesystem::path& data_dir,
                               const std::filesystem::path& templates_dir, int watch_pidfd);

struct SupervisorArgs {
  std::filesystem::path state_dir;
  std::filesystem::path templates_dir;
  std::string service;
  int status_fd = -1;
  int watch_fd = -1;
};

// Main of the hidden `supervise` command; returns the exit code.
int run_supervisor(const SupervisorArgs& args);

// The supervisor's log, for error messages.
std::filesystem::path supervisor_log(const std::filesystem::path& data_dir, std::string_view name);

}  // namespace deploycheck::sandbox
