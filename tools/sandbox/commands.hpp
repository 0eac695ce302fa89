// The sandbox tool's commands; main.cpp parses the command line into Options.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace deploycheck::sandbox {

struct Options {
  std::string command;
  std::filesystem::path state_dir;
  std::filesystem::path templates_dir;
  std::optional<pid_t> watch_pid;  // --watch-pid, or up's parent for --watch-parent
  std::vector<std::string> services;
  int status_fd = -1;  // supervise only
  int watch_fd = -1;   // supervise only
};

int command_up(const Options& options);
int command_down(const Options& options);
int command_status(const Options& options);
int command_env(const Options& options);

}  // namespace deploycheck::sandbox
