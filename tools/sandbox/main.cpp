// deploycheck-sandboxctl: starts the sandbox environment's real services on loopback and stops
// them.
//
//   deploycheck-sandboxctl up     --state-dir DIR [--watch-pid PID | --watch-parent]
//                              [--templates DIR] SERVICE...
//   deploycheck-sandboxctl down   --state-dir DIR [SERVICE...]
//   deploycheck-sandboxctl status --state-dir DIR
//   deploycheck-sandboxctl env    --state-dir DIR
#include <unistd.h>

#include <charconv>
#include <iostream>
#include <stdexcept>
#include <string_view>

#include "tools/sandbox/blackhole.hpp"
#include "tools/sandbox/commands.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/supervisor.hpp"

#ifndef DEPLOYCHECK_SANDBOX_TEMPLATES_DIR
#error "DEPLOYCHECK_SANDBOX_TEMPLATES_DIR must name the default templates dir"
#endif

namespace deploycheck::sandbox {
namespace {

constexpr std::string_view kUsage = R"(usage:
  deploycheck-sandboxctl up     --state-dir DIR [--watch-pid PID | --watch-parent] [--templates DIR] SERVICE...
  deploycheck-sandboxctl down   --state-dir DIR [SERVICE...]   (no service = all, in reverse start order)
  deploycheck-sandboxctl status --state-dir DIR
  deploycheck-sandboxctl env    --state-dir DIR                (prints the path of sandbox.env)
)";

class UsageError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

int parse_int(std::string_view flag, std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    throw UsageError(std::string(flag) + " expects a non-negative number, got '" +
                     std::string(text) + "'");
  }
  return value;
}

Options parse(int argc, char** argv) {
  if (argc < 2) throw UsageError("missing command");
  Options options;
  options.command = argv[1];
  options.templates_dir = DEPLOYCHECK_SANDBOX_TEMPLATES_DIR;
  const bool up = options.command == "up";
  const bool supervise = options.command == "supervise";
  bool watch_parent = false;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) throw UsageError(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--state-dir") {
      options.state_dir = value();
    } else if ((up || supervise) && arg == "--templates") {
      options.templates_dir = value();
    } else if (up && arg == "--watch-pid") {
      options.watch_pid = parse_int(arg, value());
    } else if (up && arg == "--watch-parent") {
      watch_parent = true;
    } else if (supervise && arg == "--status-fd") {
      options.status_fd = parse_int(arg, value());
    } else if (supervise && arg == "--watch-fd") {
      options.watch_fd = parse_int(arg, value());
    } else if (arg.starts_with("-")) {
      throw UsageError("unknown option " + std::string(arg) + " for " + options.command);
    } else {
      options.services.emplace_back(arg);
    }
  }
  if (options.state_dir.empty()) throw UsageError(options.command + " needs --state-dir DIR");
  if (watch_parent && options.watch_pid) {
    throw UsageError("--watch-pid and --watch-parent exclude each other");
  }
  if (watch_parent) options.watch_pid = ::getppid();
  return options;
}

int run(const Options& options) {
  const std::string& command = options.command;
  if (command == "up") return command_up(options);
  if (command == "down") return command_down(options);
  if (command == "status") return command_status(options);
  if (command == "env") return command_env(options);
  if (command == "supervise") {
    if (options.services.size() != 1) throw UsageError("supervise takes exactly one service");
    return run_supervisor({options.state_dir, options.templates_dir, options.services.front(),
                           options.status_fd, options.watch_fd});
  }
  throw UsageError("unknown command '" + command + "'");
}

}  // namespace
}  // namespace deploycheck::sandbox

int main(int argc, char** argv) {
  using namespace deploycheck::sandbox;
  try {
    // Hidden: the process behind the dns_silent service (blackhole.cpp); no state dir.
    if (argc >= 2 && std::string_view(argv[1]) == "blackhole") return run_blackhole(argc, argv);
    return run(parse(argc, argv));
  } catch (const UsageError& e) {
    std::cerr << "deploycheck-sandboxctl: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "deploycheck-sandboxctl: error: " << e.what() << "\n";
    return 1;
  }
}
