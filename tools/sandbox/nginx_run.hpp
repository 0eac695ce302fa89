// Running Debian's nginx for a sandbox module (`nginx`, `tls`): in the foreground under the
// supervisor, with its prefix, config, pid file and logs in one directory of DATA.
#pragma once

#include <filesystem>
#include <string>

#include "probes/process/child.hpp"

namespace deploycheck::sandbox {

inline const std::filesystem::path kNginxProgram = "/usr/sbin/nginx";
// Another process may grab a port between our probe and nginx's bind: start again on new ones
// (when stderr.log mentions "Address already in use").
constexpr int kNginxPortAttempts = 5;

// The `user` directive for nginx.conf: as root, workers run as nobody and its group (nginx's
// default, nobody:nobody, fails on Debian where nobody's group is nogroup); a comment otherwise.
std::string nginx_user_directive();

// `nginx -p DIR/ -c DIR/nginx.conf -e DIR/error.log -g 'daemon off; master_process on;'` with
// its cwd in DIR and stdout/stderr in DIR/stdout.log and DIR/stderr.log.
process::ChildOptions nginx_child_options(const std::filesystem::path& dir);

}  // namespace deploycheck::sandbox
