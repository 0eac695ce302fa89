// `down`: stops services (all of them, in reverse start order, when none is named), and removes
// the data dir once nothing is left. Idempotent: with nothing running it just exits 0.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "tools/sandbox/commands.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/state.hpp"

namespace deploycheck::sandbox {
namespace {

using namespace std::chrono_literals;

bool wait_unlocked(const std::filesystem::path& pid_file, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (is_locked_by_someone(pid_file)) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// True once the process behind `pidfd` has exited (or at once for an invalid pidfd).
bool wait_exited(int pidfd, Clock::duration timeout) {
  if (pidfd < 0) return true;
  pollfd p{pidfd, POLLIN, 0};
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    int r = ::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 0)));
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

// SIGTERM to the supervisor, which stops its service (3 s grace, then SIGKILL) and exits; its
// pid-file lock goes with it. If it hangs, SIGKILL it and the service's group ourselves.
void stop_supervised(const StateDir& state, const std::string& name,
                     const SupervisorRecord& record) {
  const auto pid_file = state.pid_file(name);
  // A pidfd taken while the pid file is still locked surely refers to the supervisor (no pid
  // reuse), and lets us wait until the process has really exited, not just dropped its lock.
  UniqueFd pidfd(record.supervisor > 0
                     ? static_cast<int>(::syscall(SYS_pidfd_open, record.supervisor, 0))
                     : -1);
  if (!is_locked_by_someone(pid_file)) return;
  if (record.supervisor > 0) ::kill(record.supervisor, SIGTERM);
  if (wait_unlocked(pid_file, 10s) && wait_exited(pidfd.get(), 2s)) return;
  std::cerr << "deploycheck-sandboxctl: the supervisor of " << name << " (pid " << record.supervisor
            << ") did not stop within 10 s after SIGTERM: killing it and its service\n";
  if (record.supervisor > 0) ::kill(record.supervisor, SIGKILL);
  if (record.service > 0) ::kill(-record.service, SIGKILL);
  if (!wait_unlocked(pid_file, 5s)) {
    throw std::runtime_error("cannot stop " + name + ": " + pid_file.string() +
                             " is still locked after SIGKILL to pid " +
                             std::to_string(record.supervisor) +
                             ". Expected the supervisor to be gone; check `ps -o pid,pgid,cmd`.");
  }
}

}  // namespace

int command_down(const Options& options) {
  const StateDir state(options.state_dir);
  if (!std::filesystem::is_directory(state.root())) {
    std::cout << "nothing to stop: " << state.root().string() << " does not exist\n";
    return 0;
  }
  FileLock lock = state.lock(120s);

  std::vector<std::string> names = options.services;
  if (names.empty()) {
    names = state.started();
    std::reverse(names.begin(), names.end());
    // Supervisors missing from the list (a crashed `up`) are stopped too.
    for (const auto& running : state.running_supervisors()) {
      if (std::find(names.begin(), names.end(), running) == names.end()) names.push_back(running);
    }
  }
  for (const std::string& name : names) {
    const auto begin = Clock::now();
    if (auto record = state.supervisor(name)) {
      stop_supervised(state, name, *record);
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin).count();
      std::cout << name << " stopped in " << ms << " ms\n";
    } else if (const Module* module = find_module(name); module && !module->runs_process()) {
      std::cout << name << " forgotten (its files go with the data dir)\n";
    } else if (module == nullptr) {
      std::cerr << "deploycheck-sandboxctl: no service named '" << name
                << "' is known or running\n";
    }
    std::error_code ignored;
    std::filesystem::remove(state.pid_file(name), ignored);
    state.forget(name);
  }

  if (state.started().empty() && state.running_supervisors().empty()) {
    if (auto data = state.data_dir()) std::cout << "removed " << data->string() << "\n";
    state.remove_data_dir();
  }
  return 0;
}

}  // namespace deploycheck::sandbox
