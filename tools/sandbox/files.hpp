// File helpers with explicit permissions: every file the sandbox writes states its mode, and
// files that may hold secrets are created 0600 from the start (never chmod-ed down later).
#pragma once

#include <filesystem>
#include <string>

namespace deploycheck::sandbox {

// Whole file as text; throws naming the path and `purpose` when it cannot be read.
std::string read_text(const std::filesystem::path& path, const std::string& purpose);

// Writes `content` to a fresh temporary file created with O_CREAT|O_EXCL and `mode`, then
// renames it over `path`: readers never see a partial file or a moment of wider permissions.
void write_file_atomically(const std::filesystem::path& path, const std::string& content, int mode);

// mkdir -p, then sets `mode` on the last component (umask-proof).
void make_dir(const std::filesystem::path& path, int mode);

// The last `lines` lines of a log file, or a note that it is missing/empty; for error messages.
std::string tail_of(const std::filesystem::path& path, int lines = 20);

}  // namespace deploycheck::sandbox
