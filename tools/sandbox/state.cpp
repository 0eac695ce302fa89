#include "tools/sandbox/state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"

namespace deploycheck::sandbox {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kDataPrefix = "/tmp/deploycheck.";

void replace_symlink(const fs::path& target, const fs::path& link) {
  std::error_code ignored;
  fs::remove(link, ignored);
  fs::create_symlink(target, link);
}

}  // namespace

StateDir::StateDir(const fs::path& root) : root_(fs::absolute(root).lexically_normal()) {
  if (!root_.has_filename()) root_ = root_.parent_path();  // "dir/" -> "dir"
}

void StateDir::create() const {
  if (fs::is_directory(root_)) return;
  fs::create_directories(root_);
  if (::chmod(root_.c_str(), 0700) != 0)
    throw std::runtime_error(errno_text("chmod " + root_.string()));
}

FileLock StateDir::lock(std::chrono::milliseconds timeout) const {
  return FileLock::acquire(root_ / "lock", timeout, "the sandbox state dir " + root_.string());
}

std::optional<fs::path> StateDir::data_dir() const {
  std::error_code ec;
  fs::path target = fs::read_symlink(root_ / "data", ec);
  if (ec || !fs::is_directory(target)) return std::nullopt;
  return target;
}

fs::path StateDir::create_data_dir() const {
  std::string pattern = std::string(kDataPrefix) + "XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(errno_text("mkdtemp " + pattern + " failed (is /tmp writable?)"));
  }
  fs::path data = pattern;
  // Others may traverse (nginx workers run as nobody when we are root) but not list it.
  if (::chmod(data.c_str(), 0711) != 0)
    throw std::runtime_error(errno_text("chmod " + data.string()));
  create_env_file(data);
  update_env(data, {{"SANDBOX_DIR", data.string()}});
  replace_symlink(data, root_ / "data");
  replace_symlink(env_file_path(data), root_ / "sandbox.env");
  write_started({});
  return data;
}

void StateDir::remove_data_dir() const {
  std::error_code ec;
  fs::path target = fs::read_symlink(root_ / "data", ec);
  // Only ever delete what we created: a pointer edited by hand must not make us rm -rf elsewhere.
  if (!ec && target.string().starts_with(kDataPrefix) && target.parent_path() == fs::path("/tmp") &&
      !fs::is_symlink(target)) {
    fs::remove_all(target, ec);
    if (ec)
      throw std::runtime_error("cannot remove the sandbox data dir " + target.string() + ": " +
                               ec.message());
  }
  for (const char* name : {"data", "sandbox.env", "started"}) fs::remove(root_ / name, ec);
}

std::vector<std::string> StateDir::started() const {
  std::vector<std::string> names;
  std::ifstream in(root_ / "started");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

void StateDir::write_started(const std::vector<std::string>& names) const {
  std::string text;
  for (const auto& name : names) text += name + "\n";
  write_file_atomically(root_ / "started", text, 0644);
}

void StateDir::record_started(const std::string& name) const {
  auto names = started();
  if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  write_started(names);
}

void StateDir::forget(const std::string& name) const {
  auto names = started();
  std::erase(names, name);
  if (fs::exists(root_ / "started")) write_started(names);
}

fs::path StateDir::pid_file(std::string_view name) const {
  return root_ / (std::string(name) + ".pid");
}

std::optional<SupervisorRecord> StateDir::supervisor(std::string_view name) const {
  const fs::path path = pid_file(name);
  if (!is_locked_by_someone(path)) return std::nullopt;
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_supervisor_record(text.str());
}

std::vector<std::string> StateDir::running_supervisors() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    if (entry.path().extension() != ".pid") continue;
    std::string name = entry.path().stem().string();
    if (supervisor(name)) names.push_back(name);
  }
  return names;
}

SupervisorRecord parse_supervisor_record(const std::string& text) {
  SupervisorRecord record;
  std::istringstream in(text);
  for (std::string word; in >> word;) {
    auto eq = word.find('=');
    if (eq == std::string::npos) continue;
    try {
      pid_t value = static_cast<pid_t>(std::stol(word.substr(eq + 1)));
      if (word.compare(0, eq, "supervisor") == 0) record.supervisor = value;
      if (word.compare(0, eq, "service") == 0) record.service = value;
    } catch (const std::exception&) {
      // A half-written record reads as 0: callers treat 0 as "not known yet".
    }
  }
  return record;
}

std::string format_supervisor_record(const SupervisorRecord& record) {
  return "supervisor=" + std::to_string(record.supervisor) +
         " service=" + std::to_string(record.service) + "\n";
}

}  // namespace deploycheck::sandbox
