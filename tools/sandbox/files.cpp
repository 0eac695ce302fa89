#include "tools/sandbox/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "tools/sandbox/fd.hpp"

namespace deploycheck::sandbox {

std::string read_text(const std::filesystem::path& path, const std::string& purpose) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(errno_text("cannot read " + path.string() + " (" + purpose + ")"));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file_atomically(const std::filesystem::path& path, const std::string& content,
                           int mode) {
  std::filesystem::path tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." +
                              std::to_string(std::random_device{}());
  UniqueFd fd = open_or_throw(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode & 0600,
                              "to write " + path.string());
  // Widen only after creation, and only when asked for (e.g. 0644 public files): umask must not
  // decide the final mode either way.
  if (::fchmod(fd.get(), mode) != 0) throw std::runtime_error(errno_text("fchmod " + tmp.string()));
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::unlink(tmp.c_str());
      errno = saved;
      throw std::runtime_error(errno_text("write " + tmp.string()));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    throw std::runtime_error(errno_text("rename " + tmp.string() + " to " + path.string()));
  }
}

void make_dir(const std::filesystem::path& path, int mode) {
  std::filesystem::create_directories(path);
  if (::chmod(path.c_str(), mode) != 0)
    throw std::runtime_error(errno_text("chmod " + path.string()));
}

std::string tail_of(const std::filesystem::path& path, int lines) {
  std::ifstream in(path);
  if (!in) return "(" + path.string() + " does not exist)";
  std::vector<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.erase(last.begin());
  }
  if (last.empty()) return "(" + path.string() + " is empty)";
  std::string out = "--- last lines of " + path.string() + " ---\n";
  for (const auto& line : last) out += "  " + line + "\n";
  return out;
}

}  // namespace deploycheck::sandbox
