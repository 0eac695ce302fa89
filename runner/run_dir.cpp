#include "runner/run_dir.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "probes/facts.hpp"

namespace deploycheck {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::string fresh_run_id() {
  std::random_device rd;
  std::ostringstream id;
  id << std::hex << rd() << rd();
  return utc_now_iso8601() + "-" + id.str();
}

// The holder: a detached child that keeps the lock's file description open until the ctest
// that started Run.Open exits, or Run.Close sends SIGTERM. It must not keep the test's
// stdout/stderr open, or ctest would wait for it.
[[noreturn]] void hold_lock_until_ctest_exits(pid_t ctest) {
  ::setsid();
  const int devnull = ::open("/dev/null", O_RDWR);
  ::dup2(devnull, 0);
  ::dup2(devnull, 1);
  ::dup2(devnull, 2);
  // glibc 2.36 has no pidfd_open wrapper usable from C++: call it directly.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ctest, 0));
  if (pidfd < 0) ::_exit(0);
  pollfd p{pidfd, POLLIN, 0};
  while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  ::_exit(0);
}

}  // namespace

int open_run(const std::filesystem::path& run_dir) {
  std::filesystem::create_directories(run_dir);
  const auto lock_path = run_dir / "lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT, 0600);
  if (fd < 0) {
    std::cerr << "Run.Open: cannot open " << lock_path << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    // `ctest --repeat until-fail:N` runs Run.Open again within the same ctest: the run is
    // already open for it, so that is no conflict. Its facts and run id stay as they are.
    const std::string holder = read_text(run_dir / "holder");
    if (holder.find("for ctest pid " + std::to_string(::getppid()) + ",") != std::string::npos) {
      ::close(fd);
      std::cout << "Run.Open: already open for this ctest (" << holder << ")\n";
      return 0;
    }
    std::cerr << "Run.Open: another ctest run of this build is in progress (" << run_dir
              << " is locked by " << read_text(run_dir / "holder")
              << "). Wait for it to finish, or use another build directory.\n";
    return 1;
  }
  std::error_code ignored;
  std::filesystem::remove_all(run_dir / "facts", ignored);
  std::filesystem::create_directories(run_dir / "facts");
  const auto run_id = fresh_run_id();
  write_text(run_dir / "run_id", run_id);

  const pid_t ctest = ::getppid();
  const pid_t holder = ::fork();
  if (holder < 0) {
    std::cerr << "Run.Open: fork failed: " << std::strerror(errno) << "\n";
    return 1;
  }
  if (holder == 0) hold_lock_until_ctest_exits(ctest);
  write_text(run_dir / "holder", "pid " + std::to_string(holder) + " for ctest pid " +
                                     std::to_string(ctest) + ", run " + run_id);
  std::cout << "Run.Open: run " << run_id << " in " << run_dir.string() << "\n";
  return 0;
}

int close_run(const std::filesystem::path& run_dir) {
  const auto holder = read_text(run_dir / "holder");
  std::istringstream in(holder);
  std::string word;
  pid_t pid = 0;
  if (in >> word >> pid && word == "pid" && pid > 0) {
    if (::kill(pid, SIGTERM) == 0) {
      // Wait (briefly) until the lock is free, so the next ctest can start at once.
      const int fd = ::open((run_dir / "lock").c_str(), O_RDWR);
      for (int i = 0; fd >= 0 && i < 100 && ::flock(fd, LOCK_EX | LOCK_NB) != 0; ++i)
        ::usleep(10'000);
      if (fd >= 0) ::close(fd);
    }
  }
  std::error_code ignored;
  std::filesystem::remove(run_dir / "holder", ignored);
  std::cout << "Run.Close: released " << run_dir.string() << "\n";
  return 0;
}

}  // namespace deploycheck
