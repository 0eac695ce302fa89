#pragma once
// A run-wide cap on connections in flight, shared by the run's processes.
//
// Each gather is its own process (ctest -j N), each capped per host; without a run-wide cap,
// twenty TLS endpoints gathered at once would open 20 × 16 connections — a scan, to a WAF. The
// run directory holds `cap` slot files; a gatherer holds one flock(2) per connection it may open
// and the kernel frees them when it exits, even by a crash. No run directory (a check run on its
// own): nothing to share, the cap applies to this process only.
#include <chrono>
#include <filesystem>
#include <optional>
#include <vector>

namespace deploycheck {

class ConnectionSlots {
 public:
  // Takes between 1 and `wanted` (≤ `cap`) free slots at once; waits up to `wait` for a first
  // one when all are taken, then goes on with one anyway (a stale lock must not stall a check).
  static ConnectionSlots take(const std::optional<std::filesystem::path>& run_dir, int wanted,
                              int cap, std::chrono::milliseconds wait);
  ConnectionSlots(ConnectionSlots&&) noexcept;
  ConnectionSlots& operator=(ConnectionSlots&&) noexcept;
  ConnectionSlots(const ConnectionSlots&) = delete;
  ConnectionSlots& operator=(const ConnectionSlots&) = delete;
  ~ConnectionSlots();

  // How many connections the holder may have in flight.
  int count() const { return count_; }

 private:
  ConnectionSlots() = default;
  std::vector<int> fds_;  // locked slot files, closed (and so unlocked) on destruction
  int count_ = 0;
};

}  // namespace deploycheck
