#include "tools/sandbox/readiness.hpp"

#include <fstream>
#include <sstream>

namespace deploycheck::sandbox {

WaitOutcome wait_until_ready(process::Child& child, Clock::time_point deadline,
                             const std::function<bool()>& probe) {
  using namespace std::chrono_literals;
  for (;;) {
    if (auto exit = child.wait_for(0ms)) return {false, exit};
    if (probe()) return {true, std::nullopt};
    if (Clock::now() >= deadline) return {};
    // Doubles as the pause between probes, and returns at once if the service exits.
    if (auto exit = child.wait_for(5ms)) return {false, exit};
  }
}

bool file_mentions(const std::filesystem::path& path, std::string_view text) {
  std::ifstream in(path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str().find(text) != std::string::npos;
}

}  // namespace deploycheck::sandbox
