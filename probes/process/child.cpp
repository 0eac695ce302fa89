// The only translation unit that includes Boost.Process (it compiles slowly). Boost spawns the
// child and reports exec failures; from then on the child is detached from Boost and managed with
// a pidfd and waitpid, because Boost.Process 1.74's wait_for is unreliable.
#include "probes/process/child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace deploycheck::process {
namespace {

namespace bp = boost::process;

std::system_error errno_error(const std::string& what) {
  return std::system_error(errno, std::generic_category(), what);
}

// An fd closed on scope exit; the parent's copies of the child's stdio files.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

Fd open_output(const std::optional<std::filesystem::path>& file) {
  const char* path = file ? file->c_str() : "/dev/null";
  int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0) throw errno_error("cannot open " + std::string(path) + " for the child's output");
  return Fd(fd);
}

int pidfd_open(pid_t pid) {
  // glibc 2.36's pidfd_open() does not link from C++ here: use the raw system call.
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// Everything the child does between fork and exec. Only async-signal-safe calls: the parent
// may have other threads.
struct ExecSetup {
  pid_t parent;
  int parent_death_signal;
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  const char* cwd;  // nullptr = keep

  template <class Executor>
  void operator()(Executor& exec) const {
    auto fail = [&exec](const char* what) {
      exec.set_error(std::error_code(errno, std::system_category()), what);
      ::_exit(127);
    };
    // Own process group, so stop() can signal the service and everything it forked at once.
    if (::setpgid(0, 0) != 0) fail("setpgid(0, 0) failed in the child");
    // The parent may block signals (a supervisor reads them from a signalfd); a service must
    // start with none blocked and default dispositions, or it would ignore our SIGTERM.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2}) {
      ::signal(sig, SIG_DFL);
    }
    if (parent_death_signal != 0) {
      if (::prctl(PR_SET_PDEATHSIG, parent_death_signal) != 0) fail("prctl(PR_SET_PDEATHSIG)");
      // The parent may have died before prctl took effect; then nobody would ever stop us.
      if (::getppid() != parent) ::_exit(127);
    }
    if (::dup2(stdin_fd, STDIN_FILENO) < 0 || ::dup2(stdout_fd, STDOUT_FILENO) < 0 ||
        ::dup2(stderr_fd, STDERR_FILENO) < 0) {
      fail("dup2 of the child's stdio failed");
    }
    if (cwd != nullptr && ::chdir(cwd) != 0) fail("chdir to the child's working directory failed");
    // Boost.Process 1.74 does not close inherited descriptors: a service must not keep the
    // parent's lock files or a caller's pipes open (CTest waits for every pipe holder).
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  }
};

}  // namespace

std::string ExitStatus::describe() const {
  if (code) return "exited with code " + std::to_string(*code);
  if (signal) {
    return "killed by signal " + std::to_string(*signal) + " (" + ::strsignal(*signal) + ")";
  }
  return "ended in an unknown way";
}

ExitStatus ExitStatus::from_wait_status(int status) {
  ExitStatus result;
  if (WIFEXITED(status)) result.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

struct Child::State {
  pid_t pid = -1;
  int pidfd = -1;
  std::optional<ExitStatus> exit;

  ~State() {
    if (pidfd >= 0) ::close(pidfd);
  }

  // Reaps the child if it has exited; never blocks.
  bool try_reap() {
    if (exit) return true;
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      exit = ExitStatus::from_wait_status(status);
      return true;
    }
    return false;
  }

  // Blocks until the child is a zombie or the deadline passes.
  bool poll_exit(Clock::time_point deadline) {
    for (;;) {
      if (exit) return true;
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() < 0) left = std::chrono::milliseconds(0);
      pollfd p{pidfd, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 60'000)));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) throw errno_error("poll on the child's pidfd failed");
      if (r == 0 && Clock::now() >= deadline) return false;
    }
  }

  void reap_blocking() {
    if (exit) return;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) throw errno_error("waitpid(" + std::to_string(pid) + ") failed");
    }
    exit = ExitStatus::from_wait_status(status);
  }
};

Child::Child(std::unique_ptr<State> state) : state_(std::move(state)) {}
Child::Child(Child&&) noexcept = default;
Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    Child old(std::move(state_));  // stops the child this object held, if any
    state_ = std::move(other.state_);
  }
  return *this;
}

Child::~Child() {
  if (!state_ || state_->exit) return;
  try {
    stop();
  } catch (const std::exception&) {
    // A destructor must not throw; the child still got SIGTERM and PDEATHSIG as a fallback.
  }
}

pid_t Child::pid() const {
  return state_->pid;
}
int Child::pidfd() const {
  return state_->pidfd;
}
std::optional<ExitStatus> Child::exit_status() const {
  return state_->exit;
}

bool Child::running() {
  return !state_->try_reap();
}

std::optional<ExitStatus> Child::wait_until(Clock::time_point deadline) {
  if (!state_->poll_exit(deadline)) return std::nullopt;
  state_->reap_blocking();
  return state_->exit;
}

ExitStatus Child::stop(std::chrono::milliseconds grace) {
  State& s = *state_;
  if (s.exit) return *s.exit;
  ::kill(-s.pid, SIGTERM);
  if (!s.poll_exit(Clock::now() + grace)) ::kill(-s.pid, SIGKILL);
  s.poll_exit(Clock::now() + std::chrono::seconds(10));
  // The leader is now a zombie and still reserves the group id: sweep members it left behind
  // before reaping, so the id cannot have been reused by an unrelated group.
  ::kill(-s.pid, SIGKILL);
  s.reap_blocking();
  return *s.exit;
}

Child Child::start(const ChildOptions& options) {
  const std::string program = options.program.string();
  const std::string cwd = options.cwd ? options.cwd->string() : std::string();
  if (::access(program.c_str(), X_OK) != 0) {
    throw errno_error("cannot run " + program + " (expected an executable file; is its package " +
                      "installed?)");
  }
  if (options.cwd && !std::filesystem::is_directory(*options.cwd)) {
    throw std::system_error(
        ENOENT, std::generic_category(),
        "cannot start " + program + ": its working directory " + cwd + " is not a directory");
  }
  Fd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_in.get() < 0) throw errno_error("cannot open /dev/null");
  Fd out = open_output(options.stdout_file);
  Fd err = open_output(options.stderr_file);

  ExecSetup setup{::getpid(), options.parent_death_signal,        null_in.get(), out.get(),
                  err.get(),  options.cwd ? cwd.c_str() : nullptr};
  // With an error_code among the initializers Boost reports failures instead of throwing, and
  // calls on_error with the forked pid, which it would otherwise leave unreaped.
  std::error_code spawn_error;
  pid_t failed_pid = -1;
  auto remember_pid = [&failed_pid](auto& exec, const std::error_code&) { failed_pid = exec.pid; };

  auto spawn = [&](auto&&... environment) {
    return bp::child(bp::exe = program, bp::args = options.args, environment..., spawn_error,
                     bp::extend::on_exec_setup = setup, bp::extend::on_error = remember_pid);
  };

  bp::child child;
  if (options.env) {
    bp::environment env;
    for (const auto& [key, value] : *options.env) env[key] = value;
    child = spawn(env);
  } else {
    child = spawn();
  }
  if (spawn_error) {
    if (failed_pid > 0) ::waitpid(failed_pid, nullptr, 0);
    throw std::system_error(
        spawn_error, "cannot start " + program + (options.cwd ? " in " + cwd : std::string()));
  }

  auto state = std::make_unique<State>();
  state->pid = child.id();
  child.detach();  // From here on we own the pid: pidfd + waitpid.
  state->pidfd = pidfd_open(state->pid);
  if (state->pidfd < 0) {
    int saved = errno;
    ::kill(-state->pid, SIGKILL);
    ::waitpid(state->pid, nullptr, 0);
    errno = saved;
    throw errno_error("pidfd_open(" + std::to_string(state->pid) + ") failed (Linux 5.3+ needed)");
  }
  return Child(std::move(state));
}

}  // namespace deploycheck::process
