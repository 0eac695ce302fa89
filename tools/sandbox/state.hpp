// The state dir (e.g. build/deploycheck-runs/sandbox-services) holds only pointers, pid files
// and locks — never service data or secrets:
//   lock           flock held by `up`/`down` for their whole run (one at a time per state dir)
//   data ->        symlink to the data dir, /tmp/deploycheck.XXXXXX (mode 0711)
//   sandbox.env -> symlink to DATA/sandbox.env
//   started        the services `up` started, one name a line, in start order
//   <name>.pid     "supervisor=PID service=PID", flock-ed by the live supervisor: a service is
//                  running exactly while its pid file is locked (immune to pid reuse)
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/sandbox/fd.hpp"

namespace deploycheck::sandbox {

struct SupervisorRecord {
  pid_t supervisor = 0;
  pid_t service = 0;
};

class StateDir {
 public:
  // Made absolute; not created.
  explicit StateDir(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }
  // mkdir -p; a new state dir gets mode 0700.
  void create() const;
  // Exclusive lock serializing `up`, `down` and a supervisor's final cleanup.
  FileLock lock(std::chrono::milliseconds timeout) const;

  // The recorded data dir if it still exists.
  std::optional<std::filesystem::path> data_dir() const;
  // mkdtemp("/tmp/deploycheck.XXXXXX"), chmod 0711, an empty 0600 sandbox.env, and the pointers.
  std::filesystem::path create_data_dir() const;
  // Removes the data dir and every pointer and record (not the lock file).
  void remove_data_dir() const;

  std::vector<std::string> started() const;
  void record_started(const std::string& name) const;
  void forget(const std::string& name) const;

  std::filesystem::path pid_file(std::string_view name) const;
  // The supervisor's record while it runs; nothing when it does not.
  std::optional<SupervisorRecord> supervisor(std::string_view name) const;
  // Names of services whose supervisor runs (whatever the `started` list says).
  std::vector<std::string> running_supervisors() const;

 private:
  void write_started(const std::vector<std::string>& names) const;
  std::filesystem::path root_;
};

// Parses "supervisor=1 service=2"; missing fields stay 0.
SupervisorRecord parse_supervisor_record(const std::string& text);
std::string format_supervisor_record(const SupervisorRecord& record);

}  // namespace deploycheck::sandbox
