#include "tools/sandbox/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <ctime>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "tools/sandbox/fd.hpp"
#include "tools/sandbox/files.hpp"

namespace deploycheck::sandbox {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kReady = "ready\n";
constexpr std::string_view kFailed = "failed\n";
constexpr int kStatusFd = 3;
constexpr int kWatchFd = 4;

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // `up` is gone: nobody to tell, the service keeps running until `down`.
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// A line in the supervisor's log: "2024-05-01T10:00:00Z nginx: ..."
void log_line(std::string_view service, const std::string& text) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%FT%TZ", std::gmtime(&now));
  std::cerr << stamp << " " << service << ": " << text << std::endl;
}

// The supervisor's own pid file, flock-ed for its whole life: `down` and `status` see the
// service as running exactly while this lock is held.
class PidFile {
 public:
  PidFile(const StateDir& state, std::string_view name) : path_(state.pid_file(name)) {
    lock_ = FileLock::try_lock(open_or_throw(path_, O_RDWR | O_CREAT, 0644, "(pid file)"));
    if (!lock_) {
      throw std::runtime_error(std::string(name) + " already has a running supervisor (" +
                               path_.string() + " is locked): run `down` first.");
    }
  }
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile() {
    // Unlink while still holding the lock, so nobody sees an unlocked file that looks stale.
    ::unlink(path_.c_str());
  }
  void record(pid_t service) {
    std::string text = format_supervisor_record({::getpid(), service});
    if (::ftruncate(lock_.fd(), 0) != 0 ||
        ::pwrite(lock_.fd(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      throw std::runtime_error(errno_text("cannot write " + path_.string()));
    }
  }

 private:
  fs::path path_;
  FileLock lock_;
};

enum class StopReason { kSignal, kWatchedExited, kServiceExited };

// Waits for whichever comes first: SIGTERM/SIGINT/SIGHUP, the watched pid's exit, or the
// service's own exit.
StopReason wait_for_stop(int signal_fd, int watch_fd, int child_pidfd, std::string& why) {
  pollfd fds[3] = {{signal_fd, POLLIN, 0}, {child_pidfd, POLLIN, 0}, {watch_fd, POLLIN, 0}};
  const nfds_t count = watch_fd >= 0 ? 3 : 2;
  for (;;) {
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      why = errno_text("poll failed");
      return StopReason::kSignal;
    }
    if (fds[0].revents != 0) {
      signalfd_siginfo info{};
      if (::read(signal_fd, &info, sizeof info) == sizeof info) {
        why = std::string("got ") + ::sigabbrev_np(static_cast<int>(info.ssi_signo)) +
              " from pid " + std::to_string(info.ssi_pid);
      }
      return StopReason::kSignal;
    }
    if (fds[1].revents != 0) {
      why = "the service exited on its own";
      return StopReason::kServiceExited;
    }
    if (count == 3 && fds[2].revents != 0) {
      why = "the watched process exited";
      return StopReason::kWatchedExited;
    }
  }
}

// After the watched process (e.g. ctest) went away, nobody will run `down`: the last supervisor
// to go removes the data dir. `down` and `up` hold the state lock while they work; `down`
// cleans up itself, and a concurrent `up` is starting a service that needs the data.
void clean_up_if_last(const StateDir& state, const std::string& name) {
  try {
    FileLock lock = state.lock(30s);
    state.forget(name);
    if (!state.running_supervisors().empty()) return;
    if (auto data = state.data_dir())
      log_line(name, "last service gone: removing " + data->string());
    state.remove_data_dir();
  } catch (const std::exception& e) {
    log_line(name, std::string("could not clean up after the watched process: ") + e.what());
  }
}

[[noreturn]] void exec_supervisor(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  ::execv("/proc/self/exe", argv.data());
  std::string message = std::string(kFailed) + errno_text("cannot exec /proc/self/exe supervise");
  write_all(kStatusFd, message);
  ::_exit(127);
}

// In the forked child: a session of its own and exactly the descriptors the supervisor needs.
void prepare_child_fds(int status_fd, int watch_fd, const fs::path& log) {
  ::setsid();
  int null_fd = ::open("/dev/null", O_RDONLY);
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (log_fd < 0) log_fd = ::open("/dev/null", O_WRONLY);
  // Move everything above the target numbers first so the dup2s cannot clobber each other.
  int high_status = ::fcntl(status_fd, F_DUPFD, 10);
  int high_watch = watch_fd >= 0 ? ::fcntl(watch_fd, F_DUPFD, 10) : -1;
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  ::dup2(high_status, kStatusFd);
  if (high_watch >= 0) ::dup2(high_watch, kWatchFd);
  // Nothing else survives: not `up`'s state lock, not a caller's pipe.
  ::close_range(high_watch >= 0 ? kWatchFd + 1 : kStatusFd + 1, ~0U, 0);
}

// SIGTERM (it stops its service then), and SIGKILL if it does not exit within 5 s (its service
// then gets SIGTERM through PR_SET_PDEATHSIG).
void stop_hung_supervisor(pid_t pid) {
  ::kill(pid, SIGTERM);
  const auto deadline = Clock::now() + 5s;
  while (::waitpid(pid, nullptr, WNOHANG) == 0) {
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return;
    }
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

fs::path supervisor_log(const fs::path& data_dir, std::string_view name) {
  return data_dir / ("supervisor-" + std::string(name) + ".log");
}

LaunchResult launch_supervisor(const StateDir& state, const Module& module,
                               const fs::path& data_dir, const fs::path& templates_dir,
                               int watch_pidfd) {
  const std::string name(module.name());
  const fs::path log = supervisor_log(data_dir, name);
  std::vector<std::string> args{"deploycheck-sandboxctl",
                                "supervise",
                                "--state-dir",
                                state.root().string(),
                                "--templates",
                                templates_dir.string(),
                                "--status-fd",
                                std::to_string(kStatusFd)};
  if (watch_pidfd >= 0) {
    args.insert(args.end(), {"--watch-fd", std::to_string(kWatchFd)});
  }
  args.push_back(name);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe2"));
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(errno_text("fork"));
  if (pid == 0) {
    prepare_child_fds(write_end.get(), watch_pidfd, log);
    exec_supervisor(args);
  }
  write_end.reset();

  // The module bounds its own start; the margin covers stopping a service that failed.
  const auto deadline = Clock::now() + module.startup_timeout() + 10s;
  std::string report;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{read_end.get(), POLLIN, 0};
    int r = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      stop_hung_supervisor(pid);
      return {false, "its supervisor did not report within " +
                         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                            module.startup_timeout() + 10s)
                                            .count()) +
                         " s and was stopped.\n" + tail_of(log)};
    }
    char buffer[4096];
    ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buffer, static_cast<size_t>(n));
  }
  if (report.starts_with(kReady)) return {true, report.substr(kReady.size())};
  // A failed supervisor exits right after its report: reap it.
  ::waitpid(pid, nullptr, 0);
  if (report.starts_with(kFailed)) return {false, report.substr(kFailed.size())};
  return {false, "its supervisor exited without a report.\n" + tail_of(log)};
}

int run_supervisor(const SupervisorArgs& args) {
  // Inherited on purpose from `up`; not for the service.
  UniqueFd status(args.status_fd);
  UniqueFd watch(args.watch_fd);
  for (int fd : {args.status_fd, args.watch_fd}) {
    if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  auto report = [&status](std::string_view kind, const std::string& text) {
    if (!status) return;
    write_all(status.get(), std::string(kind) + text);
    status.reset();  // EOF tells `up` the report is complete.
  };
  const std::string& name = args.service;
  const StateDir state(args.state_dir);
  // `ps` would show "exe" (we were started through /proc/self/exe); name what we supervise.
  ::prctl(PR_SET_NAME, ("supervise-" + name).substr(0, 15).c_str());
  StopReason reason = StopReason::kSignal;
  try {
    const Module* module = find_module(name);
    if (module == nullptr) throw std::runtime_error("unknown service " + name);
    PidFile pid_file(state, name);
    pid_file.record(0);

    // Signals arrive through a signalfd so the poll loop sees them; SIGPIPE would only mean
    // that `up` stopped listening.
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    UniqueFd signal_fd(::signalfd(-1, &mask, SFD_CLOEXEC));
    if (!signal_fd) throw std::runtime_error(errno_text("signalfd"));

    auto data = state.data_dir();
    if (!data)
      throw std::runtime_error("the state dir " + state.root().string() + " has no data dir");
    log_line(name, "starting (supervisor pid " + std::to_string(::getpid()) + ")");
    Started started =
        module->start({*data, args.templates_dir, Clock::now() + module->startup_timeout()});
    if (!started.child) throw std::logic_error(name + " returned no process to supervise");
    process::Child& child = *started.child;
    pid_file.record(child.pid());
    log_line(name, started.summary + " (service pid " + std::to_string(child.pid()) + ")");
    report(kReady, started.summary);

    std::string why;
    reason = wait_for_stop(signal_fd.get(), watch.get(), child.pidfd(), why);
    log_line(name, "stopping: " + why);
    process::ExitStatus exit = child.stop(process::Child::kDefaultGrace);
    log_line(name, "service " + exit.describe());
  } catch (const std::exception& e) {
    log_line(name, std::string("failed: ") + e.what());
    report(kFailed, e.what());
    return 1;
  }
  // The pid file is unlocked and gone by now, so this supervisor no longer counts as running.
  if (reason == StopReason::kWatchedExited) clean_up_if_last(state, name);
  return reason == StopReason::kServiceExited ? 1 : 0;
}

}  // namespace deploycheck::sandbox
