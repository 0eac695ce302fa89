#include "tools/sandbox/env_file.hpp"

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <stdexcept>

#include "tools/sandbox/fd.hpp"
#include "tools/sandbox/files.hpp"

namespace deploycheck::sandbox {
namespace {

EnvEntries parse(const std::string& text) {
  EnvEntries entries;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    entries.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return entries;
}

void check_entry(const std::string& key, const std::string& value) {
  bool key_ok = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!key_ok || value.find('\n') != std::string::npos) {
    throw std::logic_error("sandbox.env entry '" + key +
                           "' is malformed: expected an upper-case KEY and a one-line value");
  }
}

}  // namespace

std::filesystem::path env_file_path(const std::filesystem::path& data_dir) {
  return data_dir / "sandbox.env";
}

void create_env_file(const std::filesystem::path& data_dir) {
  open_or_throw(env_file_path(data_dir), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600,
                "to create the sandbox's env file");
}

void update_env(const std::filesystem::path& data_dir, const EnvEntries& entries) {
  for (const auto& [key, value] : entries) check_entry(key, value);
  // A separate lock file: the env file itself is replaced by rename on every update, so a lock
  // on its inode would not exclude the next writer.
  FileLock lock = FileLock::acquire(data_dir / "sandbox.env.lock", std::chrono::seconds(30),
                                    "the sandbox.env update lock");
  const auto path = env_file_path(data_dir);
  EnvEntries current = parse(read_text(path, "the sandbox's env file"));
  for (const auto& [key, value] : entries) {
    auto it = std::find_if(current.begin(), current.end(),
                           [&key = key](const auto& entry) { return entry.first == key; });
    if (it != current.end()) {
      it->second = value;
    } else {
      current.emplace_back(key, value);
    }
  }
  std::string text;
  for (const auto& [key, value] : current) text += key + "=" + value + "\n";
  write_file_atomically(path, text, 0600);
}

std::map<std::string, std::string> read_env(const std::filesystem::path& data_dir) {
  const auto path = env_file_path(data_dir);
  std::map<std::string, std::string> result;
  if (!std::filesystem::exists(path)) return result;
  for (auto& [key, value] : parse(read_text(path, "the sandbox's env file"))) {
    result[key] = value;
  }
  return result;
}

}  // namespace deploycheck::sandbox
