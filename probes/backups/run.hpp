#pragma once
// Runs a helper program (a listing command, pg_restore, psql) to completion within a deadline
// and captures its output. Through probes/process/child (Boost.Process + pidfd): never a shell,
// its own process group, killed with its children when the deadline passes.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fixtures/units.hpp"
#include "probes/process/child.hpp"

namespace deploycheck::backups {

struct RunResult {
  std::optional<process::ExitStatus> status;  // unset when the deadline passed
  std::string out, err;                       // each cut at max_output bytes
  Duration elapsed{0};
  bool ok() const { return status && status->success(); }
  // "exited with code 1: <last stderr line>" / "did not finish within 60s"
  std::string describe(Duration timeout) const;
};

// A program name looked up in PATH (or an absolute path, checked). Throws std::runtime_error
// naming the program and what to install when it is not there.
std::filesystem::path find_program(const std::string& name);

// `extra_env` is added to this process's environment for the child only: the way a password
// reaches pg_restore or psql (PGPASSWORD), never its command line.
RunResult run_bounded(const std::filesystem::path& program, const std::vector<std::string>& args,
                      Duration timeout, const std::map<std::string, std::string>& extra_env = {},
                      std::size_t max_output = 1 << 20);

// A private temporary directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace deploycheck::backups
