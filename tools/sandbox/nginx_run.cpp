#include "tools/sandbox/nginx_run.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <stdexcept>

namespace deploycheck::sandbox {

// As an ordinary user the directive would only cause a warning: leave it out.
std::string nginx_user_directive() {
  if (::geteuid() != 0) return "# not root: workers run as the current user";
  const passwd* nobody = ::getpwnam("nobody");
  const group* group = nobody ? ::getgrgid(nobody->pw_gid) : nullptr;
  if (nobody == nullptr || group == nullptr) {
    throw std::runtime_error(
        "nginx runs as root here and needs an unprivileged user for its workers: expected the "
        "user 'nobody' and its group to exist. Create them, or run the sandbox as a normal user.");
  }
  return std::string("user nobody ") + group->gr_name + ";";
}

process::ChildOptions nginx_child_options(const std::filesystem::path& dir) {
  process::ChildOptions run;
  run.program = kNginxProgram;
  run.args = {"-p", dir.string() + "/",           "-c", (dir / "nginx.conf").string(),
              "-e", (dir / "error.log").string(), "-g", "daemon off; master_process on;"};
  run.cwd = dir;
  run.stdout_file = dir / "stdout.log";
  run.stderr_file = dir / "stderr.log";
  return run;
}

}  // namespace deploycheck::sandbox
