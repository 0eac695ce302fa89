#pragma once
// Real sandbox services for a unit test process: `deploycheck-sandboxctl up` in a fresh state
// directory (watching this process, so nothing outlives it), the ports and paths it wrote to
// sandbox.env, and `down` at the end. A test suite holds one in SetUpTestSuite: ctest runs
// every test as its own process, so each process starts what it needs once.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#ifndef DEPLOYCHECK_SANDBOXCTL
#define DEPLOYCHECK_SANDBOXCTL "/work/main/build/tools/sandbox/deploycheck-sandboxctl"
#endif

namespace deploycheck::testing {

// Runs `args` (no shell) and returns its exit status.
inline int run_command(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class SandboxServices {
 public:
  // Starts `services` (and their dependencies); on failure, skip_reason() says why.
  explicit SandboxServices(const std::vector<std::string>& services) {
    if (!std::filesystem::exists(DEPLOYCHECK_SANDBOXCTL)) {
      skip_reason_ = std::string(DEPLOYCHECK_SANDBOXCTL) + " is not built";
      return;
    }
    char dir[] = "/tmp/deploycheck-unit.XXXXXX";
    state_dir_ = mkdtemp(dir);
    std::vector<std::string> args{DEPLOYCHECK_SANDBOXCTL, "up",
                                  "--state-dir",          state_dir_,
                                  "--watch-pid",          std::to_string(getpid())};
    args.insert(args.end(), services.begin(), services.end());
    if (const int rc = run_command(args); rc != 0) {
      skip_reason_ = "deploycheck-sandboxctl up failed with status " + std::to_string(rc);
      return;
    }
    std::ifstream in(state_dir_ + "/sandbox.env");
    for (std::string line; std::getline(in, line);) {
      const auto eq = line.find('=');
      if (eq != std::string::npos) env_[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  SandboxServices(const SandboxServices&) = delete;
  SandboxServices& operator=(const SandboxServices&) = delete;
  ~SandboxServices() {
    if (state_dir_.empty()) return;
    run_command({DEPLOYCHECK_SANDBOXCTL, "down", "--state-dir", state_dir_});
    std::error_code ignored;  // a leftover temporary directory is not a test failure
    std::filesystem::remove_all(state_dir_, ignored);
  }

  const std::string& skip_reason() const { return skip_reason_; }
  // A sandbox.env value ("" when missing: the test's own assertion names the key).
  std::string env(const std::string& key) const {
    const auto it = env_.find(key);
    return it == env_.end() ? "" : it->second;
  }

 private:
  std::string state_dir_;
  std::string skip_reason_;
  std::map<std::string, std::string> env_;
};

}  // namespace deploycheck::testing
