// RAII handle on one child process: started from an argv (never through a shell), in a process
// group of its own, tied to its parent with PR_SET_PDEATHSIG, and always stopped and reaped.
//
// Boost.Process does the spawning, but only child.cpp includes it (it compiles slowly): this
// header stays light so the sandbox tool and the process probe can include it freely.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace deploycheck::process {

using Clock = std::chrono::steady_clock;

// How a reaped child ended: exactly one of `code` (normal exit) or `signal` is set.
struct ExitStatus {
  std::optional<int> code;
  std::optional<int> signal;

  bool success() const { return code == 0; }
  // "exited with code 1" / "killed by signal 15 (Terminated)"
  std::string describe() const;
  static ExitStatus from_wait_status(int status);
};

struct ChildOptions {
  // Run as is: an absolute or relative path, never looked up through a shell.
  std::filesystem::path program;
  // argv[1..]; argv[0] is `program`.
  std::vector<std::string> args;
  // Working directory of the child; unset = the parent's.
  std::optional<std::filesystem::path> cwd;
  // The child's whole environment; unset = inherit the parent's.
  std::optional<std::map<std::string, std::string>> env;
  // Where stdout and stderr go (created, appended to); unset = /dev/null. stdin is always
  // /dev/null so a child never holds the terminal or a caller's pipe.
  std::optional<std::filesystem::path> stdout_file;
  std::optional<std::filesystem::path> stderr_file;
  // Delivered to the child when the *thread* that started it exits, so a crashed parent cannot
  // leave a service behind: start long-lived children from a long-lived thread. 0 = none.
  int parent_death_signal = SIGTERM;
};

class Child {
 public:
  static constexpr std::chrono::milliseconds kDefaultGrace{3000};

  // Starts the program; throws std::system_error naming the program when it cannot be started
  // (missing, not executable, bad cwd, unwritable output file).
  static Child start(const ChildOptions& options);

  // A moved-from Child may only be destroyed or assigned to.
  Child(Child&&) noexcept;
  Child& operator=(Child&&) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  // Stops the child (stop(kDefaultGrace)) if it was not reaped yet.
  ~Child();

  pid_t pid() const;
  // Equal to pid(): the child leads its own process group.
  pid_t pgid() const { return pid(); }
  // A pidfd that polls readable once the child has exited; owned by this object. For callers
  // that wait on several events at once (a supervisor's poll loop).
  int pidfd() const;

  // True until the child has exited (reaps it if it has).
  bool running();
  // The exit status once reaped, else nothing.
  std::optional<ExitStatus> exit_status() const;

  // Waits until the child exits or the deadline passes; reaps it. Uses a pidfd and poll:
  // Boost.Process 1.74's own wait_for is unreliable.
  std::optional<ExitStatus> wait_until(Clock::time_point deadline);
  std::optional<ExitStatus> wait_for(Clock::duration timeout) {
    return wait_until(Clock::now() + timeout);
  }

  // SIGTERM to the whole process group, wait up to `grace`, then SIGKILL the group, then reap.
  // Returns how the child ended (immediately if it already had).
  ExitStatus stop(std::chrono::milliseconds grace = kDefaultGrace);

 private:
  struct State;
  explicit Child(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace deploycheck::process
