// `up`: starts the named services and their dependencies, each unless already running, and
// returns once every one is READY.
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <stdexcept>

#include "tools/sandbox/commands.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/state.hpp"
#include "tools/sandbox/supervisor.hpp"

namespace deploycheck::sandbox {
namespace {

using namespace std::chrono_literals;

// Opened here, before any fork, so a pid reused later cannot be mistaken for the watched one.
UniqueFd open_watch(const std::optional<pid_t>& pid) {
  if (!pid) return {};
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
  if (!fd) {
    throw std::runtime_error(errno_text("cannot watch pid " + std::to_string(*pid) +
                                        " (expected a running process to tie the services to)"));
  }
  return fd;
}

std::filesystem::path ensure_data_dir(const StateDir& state) {
  if (auto data = state.data_dir()) return *data;
  if (auto running = state.running_supervisors(); !running.empty()) {
    throw std::runtime_error("services are running (" + running.front() +
                             ", ...) but their data dir is gone: run `deploycheck-sandboxctl down "
                             "--state-dir " +
                             state.root().string() + "` first.");
  }
  state.remove_data_dir();  // Stale pointers from a data dir that vanished (e.g. /tmp cleaned).
  return state.create_data_dir();
}

}  // namespace

int command_up(const Options& options) {
  if (options.services.empty()) {
    std::string names;
    for (const Module* module : all_modules()) names += " " + std::string(module->name());
    throw std::runtime_error("up needs the services to start, e.g. `up --state-dir DIR" + names +
                             "`");
  }
  const std::vector<const Module*> order = start_order(options.services);
  const StateDir state(options.state_dir);
  const std::filesystem::path templates = std::filesystem::absolute(options.templates_dir);
  UniqueFd watch = open_watch(options.watch_pid);
  state.create();
  FileLock lock = state.lock(120s);
  const std::filesystem::path data = ensure_data_dir(state);

  for (const Module* module : order) {
    const std::string name(module->name());
    if (module->runs_process()) {
      if (auto running = state.supervisor(name)) {
        std::cout << name << " already running (supervisor pid " << running->supervisor << ")\n";
        state.record_started(name);
        continue;
      }
    } else if (auto started = state.started();
               std::find(started.begin(), started.end(), name) != started.end()) {
      std::cout << name << " already ready\n";
      continue;
    }

    const auto begin = Clock::now();
    LaunchResult result;
    if (module->runs_process()) {
      result = launch_supervisor(state, *module, data, templates, watch.get());
    } else {
      try {
        result = {true,
                  module->start({data, templates, begin + module->startup_timeout()}).summary};
      } catch (const std::exception& e) {
        result = {false, e.what()};
      }
    }
    if (!result.ready) {
      std::cerr << "deploycheck-sandboxctl: " << name << " failed to start: " << result.message;
      if (!result.message.ends_with('\n')) std::cerr << '\n';
      std::cerr << "What to do: fix the cause above (logs and configs are in " << data.string()
                << "), then run `deploycheck-sandboxctl down --state-dir " << state.root().string()
                << "` and `up` again.\n";
      return 1;
    }
    state.record_started(name);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin).count();
    std::cout << name << " " << result.message << " in " << ms << " ms" << std::endl;
  }
  return 0;
}

}  // namespace deploycheck::sandbox
