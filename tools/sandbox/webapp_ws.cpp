// Module `webapp_ws`: a WebSocket echo server (Debian's python3-websockets, the script
// environments/sandbox/webapp/ws_echo.py) on a loopback port; the `webapp` module's nginx proxies
// /ws/echo to it, so the Smoke suite's WebSocket check goes through TLS and an upgrade like a
// browser's would.
#include <stdexcept>

#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/net.hpp"
#include "tools/sandbox/readiness.hpp"

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class WebappWsModule final : public Module {
 public:
  std::string_view name() const override { return "webapp_ws"; }
  bool runs_process() const override { return true; }

  Started start(const Context& context) const override {
    const fs::path script = context.templates_dir / "webapp" / "ws_echo.py";
    const fs::path dir = context.data_dir / "webapp_ws";
    make_dir(dir, 0755);
    const fs::path log = dir / "ws_echo.log";
    for (int attempt = 1;; ++attempt) {
      const std::uint16_t port = pick_free_ports(1).front();
      process::ChildOptions run;
      run.program = "/usr/bin/python3";  // Debian's, which has python3-websockets
      run.args = {script.string(), std::to_string(port)};
      run.env = std::map<std::string, std::string>{
          {"PATH", "/usr/bin:/bin"}, {"LANG", "C.UTF-8"}, {"PYTHONDONTWRITEBYTECODE", "1"}};
      run.stdout_file = log;
      run.stderr_file = log;
      fs::remove(log);
      process::Child child = process::Child::start(run);
      WaitOutcome outcome = wait_until_ready(
          child, context.deadline, [&] { return file_mentions(log, "echo server ready"); });
      if (outcome.ready) {
        update_env(context.data_dir, {{"SANDBOX_WEBAPP_WS_PORT", std::to_string(port)}});
        return {std::move(child),
                "ready on 127.0.0.1:" + std::to_string(port) + " (WebSocket echo)"};
      }
      if (outcome.exited && attempt < 5 && file_mentions(log, "address already in use")) continue;
      throw std::runtime_error(
          (outcome.exited ? "the echo server " + outcome.exited->describe() + " before it was ready"
                          : "the echo server did not report ready before the deadline") +
          ".\n" + tail_of(log) +
          "Is python3-websockets installed (apt-get install python3-websockets)?");
    }
  }
};

}  // namespace

const Module& webapp_ws_module() {
  static const WebappWsModule module;
  return module;
}

}  // namespace deploycheck::sandbox
