// DATA/sandbox.env: KEY=VALUE lines telling tests where the sandbox's services are (ports,
// paths). Mode 0600 from creation; every update happens under flock(2) because CTest runs one
// `up` per service at once, and is an atomic rename so readers never see half a file.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace deploycheck::sandbox {

using EnvEntries = std::vector<std::pair<std::string, std::string>>;

std::filesystem::path env_file_path(const std::filesystem::path& data_dir);

// Creates an empty sandbox.env (O_CREAT|O_EXCL, 0600); fails if one exists already.
void create_env_file(const std::filesystem::path& data_dir);

// Sets (adds or replaces) keys, keeping the order of the existing ones.
void update_env(const std::filesystem::path& data_dir, const EnvEntries& entries);

// The current keys; an empty map when the file does not exist.
std::map<std::string, std::string> read_env(const std::filesystem::path& data_dir);

}  // namespace deploycheck::sandbox
