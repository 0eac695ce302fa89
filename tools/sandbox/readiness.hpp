// Waiting for a freshly started service to become ready, shared by the service modules.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

#include "probes/process/child.hpp"
#include "tools/sandbox/module.hpp"

namespace deploycheck::sandbox {

struct WaitOutcome {
  bool ready = false;
  // Set when the service exited before it was ready.
  std::optional<process::ExitStatus> exited;
  // Neither: the deadline passed.
  bool timed_out() const { return !ready && !exited; }
};

// Calls `probe` every few milliseconds until it returns true, the child exits, or the deadline
// passes. `probe` throws when the service answers in a way that waiting will not fix.
WaitOutcome wait_until_ready(process::Child& child, Clock::time_point deadline,
                             const std::function<bool()>& probe);

// Whether a log file contains `text` (e.g. "Address already in use", to retry on new ports).
bool file_mentions(const std::filesystem::path& path, std::string_view text);

}  // namespace deploycheck::sandbox
