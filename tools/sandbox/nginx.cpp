// Module `nginx`: Debian's nginx serving the sandbox's https and http endpoints (the "CDN"), in
// the foreground under the supervisor, with its prefix, config, pid file and logs in DATA/nginx.
#include <stdexcept>

#include "tools/sandbox/ca.hpp"
#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/net.hpp"
#include "tools/sandbox/nginx_run.hpp"
#include "tools/sandbox/placeholders.hpp"
#include "tools/sandbox/readiness.hpp"

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kEchoModule = "/usr/lib/nginx/modules/ngx_http_echo_module.so";

class NginxModule final : public Module {
 public:
  std::string_view name() const override { return "nginx"; }
  std::vector<std::string_view> dependencies() const override { return {"ca"}; }
  bool runs_process() const override { return true; }

  Started start(const Context& context) const override {
    const CaFiles ca = ca_files(context.data_dir);
    if (!fs::exists(ca.server_chain) || !fs::exists(ca.root_cert)) {
      throw std::runtime_error("nginx needs the certificates of the `ca` module, expected in " +
                               ca.dir.string() + ": start `ca` first (`up` does so by itself).");
    }
    const fs::path dir = context.data_dir / "nginx";
    make_dir(dir, 0755);
    make_dir(dir / "tmp", 0755);
    const fs::path template_file = context.templates_dir / "nginx.conf.in";
    const std::string config_template = read_text(template_file, "the nginx config template");
    const bool has_echo = fs::exists(kEchoModule);

    for (int attempt = 1;; ++attempt) {
      const auto ports = pick_free_ports(3);
      const std::uint16_t https = ports[0];
      const std::uint16_t http = ports[1];
      // Nothing ever listens on the third: sandbox_broken's "target refuses" case needs a port
      // known to be closed, and a fixed one could belong to someone else's service.
      const std::uint16_t closed = ports[2];
      const std::map<std::string, std::string> values{
          {"USER", nginx_user_directive()},
          {"IF_ECHO", has_echo ? "" : "# (needs libnginx-mod-http-echo) "},
          {"ECHO_MODULE", kEchoModule.string()},
          {"NGINX_DIR", dir.string()},
          {"ACCESS_LOG", (dir / "access.log").string()},
          {"HTTPS_PORT", std::to_string(https)},
          {"HTTP_PORT", std::to_string(http)},
          {"CERT_CHAIN", ca.server_chain.string()},
          {"CERT_KEY", ca.server_key.string()},
      };
      write_file_atomically(dir / "nginx.conf",
                            fill_strictly(config_template, values, template_file.string()), 0644);
      const fs::path stderr_log = dir / "stderr.log";
      fs::remove(stderr_log);

      process::Child child = process::Child::start(nginx_child_options(dir));
      WaitOutcome outcome = wait_until_ready(child, context.deadline, [&] {
        TlsCheck tls = tls_handshake(https, "localhost", ca.root_cert, 1000ms);
        if (tls.outcome == TlsCheck::Outcome::kFailed) {
          // A handshake cut short because nginx is exiting is not a TLS problem.
          if (child.wait_for(200ms)) return false;
          throw std::runtime_error(
              "nginx accepts connections on 127.0.0.1:" + std::to_string(https) + " but " +
              tls.detail + ". Expected the chain " + ca.server_chain.string() +
              " to verify against " + ca.root_cert.string() + ".");
        }
        return tls.outcome == TlsCheck::Outcome::kReady && tcp_accepts(http, 1000ms);
      });

      if (outcome.ready) {
        update_env(context.data_dir, {{"SANDBOX_NGINX_HTTPS_PORT", std::to_string(https)},
                                      {"SANDBOX_NGINX_HTTP_PORT", std::to_string(http)},
                                      {"SANDBOX_NGINX_ACCESS_LOG", (dir / "access.log").string()},
                                      {"SANDBOX_CLOSED_PORT", std::to_string(closed)}});
        return {std::move(child), "ready on 127.0.0.1:" + std::to_string(https) +
                                      " (https), 127.0.0.1:" + std::to_string(http) + " (http)"};
      }
      if (outcome.exited && attempt < kNginxPortAttempts &&
          file_mentions(stderr_log, "Address already in use")) {
        continue;
      }
      std::string what =
          outcome.exited
              ? "nginx " + outcome.exited->describe() + " before it was ready"
              : "nginx did not complete a TLS handshake on 127.0.0.1:" + std::to_string(https) +
                    " before the deadline";
      throw std::runtime_error(
          what + " (expected it to serve TLS on 127.0.0.1:" + std::to_string(https) +
          " and http on 127.0.0.1:" + std::to_string(http) + ").\n" + tail_of(stderr_log) +
          tail_of(dir / "error.log", 10) + "Its config is " + (dir / "nginx.conf").string() +
          ", rendered from " + template_file.string() + ": fix the cause above there.");
    }
  }
};

}  // namespace

const Module& nginx_module() {
  static const NginxModule module;
  return module;
}

}  // namespace deploycheck::sandbox
