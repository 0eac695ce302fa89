#include "tools/sandbox/fd.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace deploycheck::sandbox {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

UniqueFd open_or_throw(const std::filesystem::path& path, int flags, int mode,
                       const std::string& purpose) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) {
    throw std::runtime_error(errno_text("cannot open " + path.string() + " " + purpose));
  }
  return UniqueFd(fd);
}

FileLock FileLock::try_lock(UniqueFd fd) {
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return FileLock();
    throw std::runtime_error(errno_text("flock failed"));
  }
  return FileLock(std::move(fd));
}

FileLock FileLock::acquire(const std::filesystem::path& path, std::chrono::milliseconds timeout,
                           const std::string& what) {
  UniqueFd fd = open_or_throw(path, O_RDWR | O_CREAT, 0600, "to lock " + what);
  const int raw = fd.get();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool told = false;
  auto started = std::chrono::steady_clock::now();
  for (;;) {
    if (::flock(raw, LOCK_EX | LOCK_NB) == 0) return FileLock(std::move(fd));
    if (errno != EWOULDBLOCK && errno != EINTR) {
      throw std::runtime_error(errno_text("flock " + path.string()));
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      throw std::runtime_error(
          what + " is still locked by another process after " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
          " s (" + path.string() + "). Expected it to be free; check `ps` for another " +
          "deploycheck-sandboxctl on this state dir, or wait for it to finish.");
    }
    if (!told && now - started > std::chrono::seconds(2)) {
      std::cerr << "deploycheck-sandboxctl: waiting for another process that holds " << what << " ("
                << path.string() << ")\n";
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool is_locked_by_someone(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  UniqueFd owned(fd);
  while (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    return errno == EWOULDBLOCK;
  }
  return false;  // We got it: nobody holds it (closing the fd releases our shared lock).
}

}  // namespace deploycheck::sandbox
