// Module `webapp_gunicorn`: the sandbox's Django project (environments/sandbox/webapp) under
// Debian's gunicorn on a loopback port, with its data in the `postgres` module's database.
// Before it starts: `collectstatic` (ManifestStaticFilesStorage: hashed names and
// staticfiles.json) into DATA/webapp/public/static, and the smoke checks' two dedicated accounts
// (fresh passwords, in sandbox.env only). The `webapp` module puts nginx in front of it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/net.hpp"
#include "tools/sandbox/postgres_run.hpp"
#include "tools/sandbox/readiness.hpp"

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kPython = "/usr/bin/python3";  // Debian's: pyenv's python cannot import Django
const fs::path kGunicorn = "/usr/bin/gunicorn";
constexpr const char* kCorsOrigin = "https://app.sandbox.deploycheck.test";

// The status line's code of `GET path` on 127.0.0.1:port, or 0 when nothing answered in time.
int http_status(std::uint16_t port, const std::string& path, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return 0;
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    return 0;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return 0;
  char buffer[64] = {};
  const auto n = ::recv(fd, buffer, sizeof buffer - 1, 0);
  if (n < 12) return 0;
  return std::atoi(buffer + 9);  // "HTTP/1.1 200 OK"
}

class WebappGunicornModule final : public Module {
 public:
  std::string_view name() const override { return "webapp_gunicorn"; }
  std::vector<std::string_view> dependencies() const override { return {"postgres"}; }
  bool runs_process() const override { return true; }
  std::chrono::seconds startup_timeout() const override { return std::chrono::seconds(40); }

  Started start(const Context& context) const override {
    const auto env = read_env(context.data_dir);
    const auto database = env.find("SANDBOX_DATABASE_URL");
    if (database == env.end()) {
      throw std::runtime_error(
          "webapp_gunicorn needs SANDBOX_DATABASE_URL from the `postgres` module: start it first.");
    }
    const fs::path project = context.templates_dir / "webapp";
    const fs::path dir = context.data_dir / "webapp";
    const fs::path public_dir = dir / "public";
    const fs::path static_dir = public_dir / "static";
    make_dir(dir, 0755);
    make_dir(static_dir, 0755);

    const std::string smoke_email = "smoke@sandbox.deploycheck.test";
    const std::string limit_email = "ratelimit@sandbox.deploycheck.test";
    const std::string smoke_password = random_password();
    const std::string limit_password = random_password();
    // Secrets travel in the environment, never on a command line.
    process::ChildOptions django;
    django.program = kPython;
    django.cwd = project;
    django.env = std::map<std::string, std::string>{
        {"PATH", "/usr/bin:/bin"},
        {"LANG", "C.UTF-8"},
        {"DJANGO_SETTINGS_MODULE", "webapp.settings"},
        {"SECRET_KEY", random_password(50)},
        {"DEBUG", "False"},
        {"ALLOWED_HOSTS", "localhost,127.0.0.1"},
        {"DATABASE_URL", database->second},
        {"STATIC_ROOT", static_dir.string()},
        {"CORS_ALLOWED_ORIGINS", kCorsOrigin},
        {"SMOKE_EMAIL", smoke_email},
        {"SMOKE_PASSWORD", smoke_password},
        {"RATELIMIT_EMAIL", limit_email},
        {"RATELIMIT_PASSWORD", limit_password},
        {"PYTHONDONTWRITEBYTECODE", "1"}};  // leave no __pycache__ in the source tree
    auto step = [&](std::vector<std::string> args, const std::string& log,
                    const std::string& what) {
      process::ChildOptions options = django;
      options.args = std::move(args);
      run_to_completion(options, dir / log, context.deadline, what);
    };
    step({"manage.py", "collectstatic", "--no-input", "--clear"}, "collectstatic.log",
         "manage.py collectstatic");
    step({"manage.py", "ensure_user", "SMOKE_EMAIL", "SMOKE_PASSWORD"}, "ensure-user.log",
         "manage.py ensure_user (smoke)");
    step({"manage.py", "ensure_user", "RATELIMIT_EMAIL", "RATELIMIT_PASSWORD"},
         "ensure-user-ratelimit.log", "manage.py ensure_user (rate limit)");

    for (int attempt = 1;; ++attempt) {
      const std::uint16_t port = pick_free_ports(1).front();
      process::ChildOptions run = django;
      run.program = kGunicorn;
      run.args = {"--bind",
                  "127.0.0.1:" + std::to_string(port),
                  "--workers",
                  "2",
                  "--threads",
                  "4",
                  "--access-logfile",
                  (dir / "gunicorn-access.log").string(),
                  "--error-logfile",
                  "-",
                  "webapp.wsgi:application"};
      run.stdout_file = dir / "gunicorn.log";
      run.stderr_file = dir / "gunicorn.log";
      const fs::path log = dir / "gunicorn.log";
      fs::remove(log);
      process::Child child = process::Child::start(run);
      WaitOutcome outcome = wait_until_ready(child, context.deadline, [&] {
        const int status = http_status(port, "/health/live/", 1000ms);
        if (status != 0 && status != 200) {
          throw std::runtime_error("gunicorn answers /health/live/ with " + std::to_string(status) +
                                   " instead of 200.\n" + tail_of(log));
        }
        return status == 200;
      });
      if (outcome.ready) {
        update_env(context.data_dir,
                   {{"SANDBOX_WEBAPP_GUNICORN_PORT", std::to_string(port)},
                    {"SANDBOX_WEBAPP_STATIC_DIR", static_dir.string()},
                    {"SANDBOX_WEBAPP_MANIFEST", (static_dir / "staticfiles.json").string()},
                    {"SANDBOX_WEBAPP_CORS_ORIGIN", kCorsOrigin},
                    {"SANDBOX_WEBAPP_SMOKE_EMAIL", smoke_email},
                    {"SANDBOX_WEBAPP_SMOKE_PASSWORD", smoke_password},
                    {"SANDBOX_WEBAPP_RATELIMIT_EMAIL", limit_email},
                    {"SANDBOX_WEBAPP_RATELIMIT_PASSWORD", limit_password}});
        return {std::move(child),
                "ready on 127.0.0.1:" + std::to_string(port) + " (gunicorn, Django)"};
      }
      if (outcome.exited && attempt < 5 && file_mentions(log, "Address already in use")) continue;
      throw std::runtime_error(
          (outcome.exited ? "gunicorn " + outcome.exited->describe() + " before it was ready"
                          : "gunicorn did not answer /health/live/ with 200 before the deadline") +
          " (expected it on 127.0.0.1:" + std::to_string(port) + ").\n" + tail_of(log) +
          "The project is " + project.string() + ".");
    }
  }
};

}  // namespace

const Module& webapp_gunicorn_module() {
  static const WebappGunicornModule module;
  return module;
}

}  // namespace deploycheck::sandbox
