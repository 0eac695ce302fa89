// `status` (what runs) and `env` (where sandbox.env is; never its contents: it holds secrets).
#include <algorithm>
#include <iostream>

#include "tools/sandbox/commands.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/state.hpp"
#include "tools/sandbox/supervisor.hpp"

namespace deploycheck::sandbox {

int command_status(const Options& options) {
  const StateDir state(options.state_dir);
  auto data = state.data_dir();
  std::vector<std::string> names = state.started();
  for (const auto& running : state.running_supervisors()) {
    if (std::find(names.begin(), names.end(), running) == names.end()) names.push_back(running);
  }
  if (!data && names.empty()) {
    std::cout << "no sandbox services for " << state.root().string() << "\n";
    return 0;
  }
  std::cout << "data dir: " << (data ? data->string() : "(missing)") << "\n";
  int exit_code = data ? 0 : 1;
  for (const auto& name : names) {
    const Module* module = find_module(name);
    if (module != nullptr && !module->runs_process()) {
      std::cout << name << ": ready (files only)\n";
    } else if (auto record = state.supervisor(name)) {
      std::cout << name << ": running (supervisor pid " << record->supervisor << ", service pid "
                << record->service << ")\n";
    } else {
      std::cout << name << ": NOT running (its supervisor is gone; see "
                << (data ? supervisor_log(*data, name).string() : std::string("its log")) << ")\n";
      exit_code = 1;
    }
  }
  return exit_code;
}

int command_env(const Options& options) {
  const StateDir state(options.state_dir);
  if (!state.data_dir()) {
    std::cerr << "deploycheck-sandboxctl: no sandbox.env for " << state.root().string()
              << ": expected a started sandbox there; run `deploycheck-sandboxctl up --state-dir "
              << state.root().string() << " SERVICE...` first\n";
    return 1;
  }
  std::cout << (state.root() / "sandbox.env").string() << "\n";
  return 0;
}

}  // namespace deploycheck::sandbox
