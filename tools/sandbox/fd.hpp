// Small RAII wrappers for file descriptors and flock(2) locks used across the sandbox tool.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>

namespace deploycheck::sandbox {

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Opens `path` with open(2) flags (O_CLOEXEC is always added) or throws naming the path and
// what it was opened for.
UniqueFd open_or_throw(const std::filesystem::path& path, int flags, int mode,
                       const std::string& purpose);

// An exclusive flock(2) on a file, released when this object is destroyed (or by the kernel
// when the process dies, so a crash never leaves a stale lock).
class FileLock {
 public:
  FileLock() = default;
  // Null lock if `fd` is not locked.
  static FileLock try_lock(UniqueFd fd);
  // Waits up to `timeout`; throws naming `what` and `path` when the lock stays taken.
  static FileLock acquire(const std::filesystem::path& path, std::chrono::milliseconds timeout,
                          const std::string& what);

  explicit operator bool() const { return static_cast<bool>(fd_); }
  int fd() const { return fd_.get(); }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// True when some process holds a flock on `path` (the file exists and cannot be locked).
bool is_locked_by_someone(const std::filesystem::path& path);

// "open /x failed: No such file or directory" style text for the current errno.
std::string errno_text(const std::string& what);

}  // namespace deploycheck::sandbox
