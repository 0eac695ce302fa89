// Module `webapp`: the sandbox web application as the world sees it — Debian's nginx with TLS
// from the sandbox CA in front of gunicorn (`webapp_gunicorn`) and the WebSocket echo server
// (`webapp_ws`), serving the collected static files itself as the "CDN" (Cache-Control by name,
// CORS on fonts, gzip for text), redirecting plain http to https and rate limiting the token
// endpoint. Config: environments/sandbox/webapp_nginx.conf.in; files in DATA/webapp_nginx.
//
// It also serves sandbox_broken's copy of the site on two more ports: the same app with one
// defect per check (see the DEFECT lines of the template), and a CDN copy of the static files
// with app.js missing and app.css stale (same size, other bytes).
#include <fstream>
#include <nlohmann/json.hpp>
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

std::string require_key(const std::map<std::string, std::string>& env, const std::string& key,
                        const std::string& module) {
  const auto it = env.find(key);
  if (it == env.end()) {
    throw std::runtime_error("webapp needs " + key + " from the `" + module +
                             "` module: start it first.");
  }
  return it->second;
}

// The broken CDN's files: a copy of the collected ones with the hashed app.js gone and the
// hashed app.css holding other bytes of the same length (what a stale cache serves).
void make_broken_copy(const fs::path& static_dir, const fs::path& broken_static) {
  fs::remove_all(broken_static);
  make_dir(broken_static.parent_path(), 0755);
  fs::copy(static_dir, broken_static, fs::copy_options::recursive);
  std::ifstream in(static_dir / "staticfiles.json");
  const auto manifest = nlohmann::json::parse(in, nullptr, false);
  if (manifest.is_discarded() || !manifest.contains("paths")) {
    throw std::runtime_error((static_dir / "staticfiles.json").string() +
                             " is not Django's manifest");
  }
  const auto& paths = manifest.at("paths");
  fs::remove(broken_static / paths.at("web/js/app.js").get<std::string>());
  const fs::path css = broken_static / paths.at("web/css/app.css").get<std::string>();
  std::string text = read_text(css, "the collected app.css");
  const auto color = text.find("#111");
  if (color == std::string::npos)
    throw std::runtime_error(css.string() + " no longer sets color #111");
  text.replace(color, 4, "#222");  // last release's colour: same size, other bytes
  write_file_atomically(css, text, 0644);
}

class WebappModule final : public Module {
 public:
  std::string_view name() const override { return "webapp"; }
  std::vector<std::string_view> dependencies() const override {
    return {"ca", "webapp_gunicorn", "webapp_ws"};
  }
  bool runs_process() const override { return true; }

  Started start(const Context& context) const override {
    const CaFiles ca = ca_files(context.data_dir);
    const auto env = read_env(context.data_dir);
    const std::string gunicorn =
        require_key(env, "SANDBOX_WEBAPP_GUNICORN_PORT", "webapp_gunicorn");
    const std::string ws = require_key(env, "SANDBOX_WEBAPP_WS_PORT", "webapp_ws");
    const fs::path static_dir = require_key(env, "SANDBOX_WEBAPP_STATIC_DIR", "webapp_gunicorn");
    const std::string cors_origin =
        require_key(env, "SANDBOX_WEBAPP_CORS_ORIGIN", "webapp_gunicorn");
    const fs::path dir = context.data_dir / "webapp_nginx";
    make_dir(dir, 0755);
    make_dir(dir / "tmp", 0755);
    const fs::path broken_public = dir / "broken_public";
    make_broken_copy(static_dir, broken_public / "static");
    const fs::path template_file = context.templates_dir / "webapp_nginx.conf.in";
    const std::string config_template =
        read_text(template_file, "the webapp nginx config template");

    for (int attempt = 1;; ++attempt) {
      const auto ports = pick_free_ports(5);
      const std::map<std::string, std::string> values{
          {"USER", nginx_user_directive()},
          {"NGINX_DIR", dir.string()},
          {"CERT_CHAIN", ca.server_chain.string()},
          {"CERT_KEY", ca.server_key.string()},
          {"GUNICORN_PORT", gunicorn},
          {"WS_PORT", ws},
          {"PUBLIC_DIR", static_dir.parent_path().string()},
          {"BROKEN_PUBLIC_DIR", broken_public.string()},
          {"CORS_ORIGIN", cors_origin},
          {"HTTPS_PORT", std::to_string(ports[0])},
          {"HTTP_PORT", std::to_string(ports[1])},
          {"BROKEN_HTTPS_PORT", std::to_string(ports[2])},
          {"BROKEN_HTTP_PORT", std::to_string(ports[3])},
          {"ORIGIN_PORT", std::to_string(ports[4])},
      };
      write_file_atomically(dir / "nginx.conf",
                            fill_strictly(config_template, values, template_file.string()), 0644);
      const fs::path stderr_log = dir / "stderr.log";
      fs::remove(stderr_log);
      process::Child child = process::Child::start(nginx_child_options(dir));
      WaitOutcome outcome = wait_until_ready(child, context.deadline, [&] {
        for (const std::uint16_t port : {ports[0], ports[2]}) {
          TlsCheck tls = tls_handshake(port, "localhost", ca.root_cert, 1000ms);
          if (tls.outcome == TlsCheck::Outcome::kFailed) {
            if (child.wait_for(200ms)) return false;
            throw std::runtime_error("nginx accepts connections on 127.0.0.1:" +
                                     std::to_string(port) + " but " + tls.detail + ".");
          }
          if (tls.outcome != TlsCheck::Outcome::kReady) return false;
        }
        return tcp_accepts(ports[1], 1000ms) && tcp_accepts(ports[3], 1000ms) &&
               tcp_accepts(ports[4], 1000ms);
      });
      if (outcome.ready) {
        const std::string https = "https://localhost:" + std::to_string(ports[0]);
        const std::string broken = "https://localhost:" + std::to_string(ports[2]);
        update_env(
            context.data_dir,
            {{"SANDBOX_WEBAPP_HTTPS_PORT", std::to_string(ports[0])},
             {"SANDBOX_WEBAPP_HTTP_PORT", std::to_string(ports[1])},
             {"SANDBOX_WEBAPP_URL", https},
             {"SANDBOX_WEBAPP_HTTP_URL", "http://localhost:" + std::to_string(ports[1])},
             {"SANDBOX_WEBAPP_STATIC_URL", https + "/static/"},
             {"SANDBOX_WEBAPP_ORIGIN_URL",
              "http://127.0.0.1:" + std::to_string(ports[4]) + "/static/"},
             {"SANDBOX_WEBAPP_WS_URL", "wss://localhost:" + std::to_string(ports[0]) + "/ws/echo"},
             {"SANDBOX_WEBAPP_BROKEN_HTTPS_PORT", std::to_string(ports[2])},
             {"SANDBOX_WEBAPP_BROKEN_HTTP_PORT", std::to_string(ports[3])},
             {"SANDBOX_WEBAPP_BROKEN_URL", broken},
             {"SANDBOX_WEBAPP_BROKEN_HTTP_URL", "http://localhost:" + std::to_string(ports[3])},
             {"SANDBOX_WEBAPP_BROKEN_STATIC_URL", broken + "/static/"}});
        return {std::move(child),
                "ready on " + https + " (healthy) and " + broken + " (broken on purpose)"};
      }
      if (outcome.exited && attempt < kNginxPortAttempts &&
          file_mentions(stderr_log, "Address already in use")) {
        continue;
      }
      throw std::runtime_error(
          (outcome.exited
               ? "nginx " + outcome.exited->describe() + " before it was ready"
               : "nginx did not complete TLS handshakes on 127.0.0.1:" + std::to_string(ports[0]) +
                     " and :" + std::to_string(ports[2]) + " before the deadline") +
          ".\n" + tail_of(stderr_log) + tail_of(dir / "error.log", 10) + "Its config is " +
          (dir / "nginx.conf").string() + ", rendered from " + template_file.string() + ".");
    }
  }
};

}  // namespace

const Module& webapp_module() {
  static const WebappModule module;
  return module;
}

}  // namespace deploycheck::sandbox
