#include "runner/connection_slots.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace deploycheck {
namespace {

namespace fs = std::filesystem;

int open_slot(const fs::path& dir, int index) {
  const fs::path file = dir / ("slot-" + std::to_string(index));
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot open the connection slot " + file.string() + ": " +
                             std::strerror(errno));
  }
  return fd;
}

}  // namespace

ConnectionSlots ConnectionSlots::take(const std::optional<fs::path>& run_dir, int wanted, int cap,
                                      std::chrono::milliseconds wait) {
  ConnectionSlots slots;
  wanted = std::clamp(wanted, 1, std::max(cap, 1));
  if (!run_dir) {
    slots.count_ = wanted;
    return slots;
  }
  const fs::path dir = *run_dir / "connection-slots";
  fs::create_directories(dir);
  const auto give_up = std::chrono::steady_clock::now() + wait;
  for (;;) {
    // Start at a different slot per process so gatherers do not all contend for slot 0.
    const int start = static_cast<int>(::getpid()) % cap;
    for (int i = 0; i < cap && static_cast<int>(slots.fds_.size()) < wanted; ++i) {
      const int fd = open_slot(dir, (start + i) % cap);
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
        slots.fds_.push_back(fd);
      } else {
        ::close(fd);
      }
    }
    if (!slots.fds_.empty() || std::chrono::steady_clock::now() >= give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  slots.count_ = std::max<int>(1, static_cast<int>(slots.fds_.size()));
  return slots;
}

ConnectionSlots::ConnectionSlots(ConnectionSlots&& other) noexcept
    : fds_(std::exchange(other.fds_, {})), count_(std::exchange(other.count_, 0)) {}

ConnectionSlots& ConnectionSlots::operator=(ConnectionSlots&& other) noexcept {
  if (this != &other) {
    for (int fd : fds_) ::close(fd);
    fds_ = std::exchange(other.fds_, {});
    count_ = std::exchange(other.count_, 0);
  }
  return *this;
}

ConnectionSlots::~ConnectionSlots() {
  for (int fd : fds_) ::close(fd);
}

}  // namespace deploycheck
