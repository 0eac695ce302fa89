// Modules `smtp` and `smtp_plain`: two real SMTP servers (Debian's python3-aiosmtpd), one
// foreground TEMPLATES/smtp/server.py each, accepting and discarding mail.
//
//   smtp        offers STARTTLS (RFC 3207) with the sandbox CA's server certificate: what the
//               checklists' "TLS for mail" asks for. The TLS suite's STARTTLS probe checks it.
//   smtp_plain  offers no STARTTLS: mail to it travels in plain text (sandbox_broken only).
//
// Debian's /usr/bin/python3 is called by path: python3 on PATH may be another Python that
// cannot import Debian's aiosmtpd (design.md, "Machine").
#include <stdexcept>

#include "tools/sandbox/ca.hpp"
#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/net.hpp"
#include "tools/sandbox/readiness.hpp"

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kPython = "/usr/bin/python3";
constexpr int kPortAttempts = 5;

class SmtpModule final : public Module {
 public:
  SmtpModule(std::string_view name, std::string_view env_key, bool starttls)
      : name_(name), env_key_(env_key), starttls_(starttls) {}

  std::string_view name() const override { return name_; }
  std::vector<std::string_view> dependencies() const override {
    if (starttls_) return {"ca"};
    return {};
  }
  bool runs_process() const override { return true; }

  Started start(const Context& context) const override {
    const fs::path dir = context.data_dir / "smtp" / name_;
    make_dir(context.data_dir / "smtp", 0755);
    make_dir(dir, 0700);
    const fs::path log = dir / "aiosmtpd.log";
    for (int attempt = 1;; ++attempt) {
      const std::uint16_t port = pick_free_ports(1).front();
      process::ChildOptions run;
      run.program = kPython;
      // -n: stay the current user (as root it would switch to nobody, who cannot read the key).
      run.args = {(context.templates_dir / "smtp" / "server.py").string(), std::to_string(port)};
      if (starttls_) {
        const CaFiles ca = ca_files(context.data_dir);
        run.args.insert(run.args.end(), {ca.server_chain.string(), ca.server_key.string()});
      }
      run.cwd = dir;
      run.stdout_file = log;
      run.stderr_file = log;
      fs::remove(log);
      process::Child child = process::Child::start(run);
      WaitOutcome outcome =
          wait_until_ready(child, context.deadline, [&] { return tcp_accepts(port, 200ms); });
      if (outcome.ready) {
        update_env(context.data_dir, {{std::string(env_key_), std::to_string(port)}});
        return {std::move(child),
                "ready on 127.0.0.1:" + std::to_string(port) +
                    (starttls_ ? " (smtp, STARTTLS)" : " (smtp, plain text only)")};
      }
      if (outcome.exited && attempt < kPortAttempts &&
          file_mentions(log, "Address already in use")) {
        continue;
      }
      throw std::runtime_error(
          std::string(name_) + ": " +
          (outcome.exited ? "aiosmtpd " + outcome.exited->describe() + " before it was ready"
                          : "aiosmtpd did not accept connections on 127.0.0.1:" +
                                std::to_string(port) + " before the deadline") +
          ".\n" + tail_of(log) +
          "It needs Debian's python3-aiosmtpd (scripts/setup-debian installs it).");
    }
  }

 private:
  std::string_view name_;
  std::string_view env_key_;
  bool starttls_;
};

}  // namespace

const Module& smtp_module() {
  static const SmtpModule module("smtp", "SANDBOX_SMTP_PORT", true);
  return module;
}

const Module& smtp_plain_module() {
  static const SmtpModule module("smtp_plain", "SANDBOX_SMTP_PLAIN_PORT", false);
  return module;
}

}  // namespace deploycheck::sandbox
