#include "probes/backups/run.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace deploycheck::backups {
namespace {

namespace fs = std::filesystem;

std::string read_capped(const fs::path& path, std::size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::string text(max, '\0');
  in.read(text.data(), static_cast<std::streamsize>(max));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

std::string RunResult::describe(Duration timeout) const {
  if (!status) return "did not finish within " + format_duration(timeout) + " (stopped)";
  std::string text = status->describe();
  const auto line = last_line(err.empty() ? out : err);
  if (!line.empty()) text += ": " + line;
  return text;
}

fs::path find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
    throw std::runtime_error("cannot run " + name + ": " + std::strerror(errno));
  }
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error(name + " is not in PATH" +
                           (name.rfind("pg_", 0) == 0 || name == "psql"
                                ? " (Debian: apt-get install postgresql-client)"
                                : std::string()));
}

RunResult run_bounded(const fs::path& program, const std::vector<std::string>& args,
                      Duration timeout, const std::map<std::string, std::string>& extra_env,
                      std::size_t max_output) {
  TempDir dir;
  process::ChildOptions options;
  options.program = program;
  options.args = args;
  options.stdout_file = dir.path() / "out";
  options.stderr_file = dir.path() / "err";
  if (!extra_env.empty()) {
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      const auto eq = entry.find('=');
      if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [k, v] : extra_env) env[k] = v;
    options.env = std::move(env);
  }
  const auto start = process::Clock::now();
  auto child = process::Child::start(options);
  RunResult result;
  result.status = child.wait_for(timeout);
  if (!result.status) child.stop(std::chrono::milliseconds(500));
  result.elapsed = std::chrono::duration_cast<Duration>(process::Clock::now() - start);
  result.out = read_capped(dir.path() / "out", max_output);
  result.err = read_capped(dir.path() / "err", max_output);
  return result;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/deploycheck-backups.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot create a temporary directory " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;  // a leftover temp dir is not worth a crash in a destructor
  fs::remove_all(path_, ec);
}

}  // namespace deploycheck::backups
