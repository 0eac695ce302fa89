// Modules `dns_primary`, `dns_secondary`, `dns_diverged`: three authoritative DNS servers (Knot
// DNS), each one foreground `knotd -c DATA/knot/<service>/knot.conf` under its supervisor, with
// its config, zone files and rundir/storage (timer DB, pid file, control socket knot.sock) in
// DATA/knot/<service>. Run as root, knotd binds its port and then runs as nobody.
//
//   dns_primary    sandbox.deploycheck.test, broken.deploycheck.test, bench.deploycheck.test
//   dns_secondary  sandbox.deploycheck.test, identical to the primary's (propagation passes)
//   dns_diverged   sandbox.deploycheck.test with `www` A 127.0.0.66 instead of 127.0.0.11
//
// The zones are TEMPLATES/dns/<zone>.zone.in. The DKIM key of sel1._domainkey is RSA-2048,
// generated once per data dir (DATA/knot/dkim-sel1.key) and shared by the three servers.
#include <grp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include "tools/sandbox/dns_net.hpp"
#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/fd.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/placeholders.hpp"
#include "tools/sandbox/readiness.hpp"
#include "tools/sandbox/x509.hpp"

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kKnotd = "/usr/sbin/knotd";
// Another process may grab the port between our probe and knotd's bind: start again on a new one.
constexpr int kPortAttempts = 5;
constexpr int kBenchHosts = 1000;
// Characters per quoted string of the DKIM record: several strings (a real record needs at
// least two, 255 bytes each at most), so readers must join them.
constexpr size_t kDkimChunk = 128;

constexpr std::string_view kSandboxZone = "sandbox.deploycheck.test";
constexpr std::string_view kBrokenZone = "broken.deploycheck.test";
constexpr std::string_view kBenchZone = "bench.deploycheck.test";

struct KnotInstance {
  std::string_view name;
  std::string_view env_key;
  std::vector<std::string_view> zones;
  // `www` in sandbox.deploycheck.test.
  std::string_view www_address;
};

// The account knotd switches to after binding, and the directive saying so ("" when not root:
// knotd then runs as the current user).
struct RunAs {
  std::string directive;
  uid_t uid = 0;
  gid_t gid = 0;
};

RunAs run_as() {
  if (::geteuid() != 0) return {"# not root: knotd runs as the current user", 0, 0};
  const passwd* nobody = ::getpwnam("nobody");
  const group* group = nobody ? ::getgrgid(nobody->pw_gid) : nullptr;
  if (nobody == nullptr || group == nullptr) {
    throw std::runtime_error(
        "knotd runs as root here and needs an unprivileged user to switch to: expected the user "
        "'nobody' and its group to exist. Create them, or run the sandbox as a normal user.");
  }
  return {std::string("user: nobody:") + group->gr_name, nobody->pw_uid, nobody->pw_gid};
}

// The sel1 DKIM record's text as quoted character-strings: "v=DKIM1; k=rsa; p=" followed by
// the base64 DER SubjectPublicKeyInfo of the shared RSA-2048 key (made on first use, under a
// lock: the three servers may start at once).
std::string dkim_sel1_strings(const fs::path& knot_dir) {
  const fs::path key_file = knot_dir / "dkim-sel1.key";
  FileLock lock = FileLock::acquire(knot_dir / "dkim.lock", 30s, "the DKIM key's lock");
  PkeyPtr key;
  if (fs::exists(key_file)) {
    std::unique_ptr<FILE, decltype(&std::fclose)> in(std::fopen(key_file.c_str(), "r"),
                                                     &std::fclose);
    if (in) key.reset(PEM_read_PrivateKey(in.get(), nullptr, nullptr, nullptr));
    if (!key) {
      throw std::runtime_error("cannot read the DKIM key " + key_file.string() + ": " +
                               openssl_errors() +
                               ". Run `down` and `up` again for a fresh data dir.");
    }
  } else {
    key.reset(EVP_RSA_gen(2048));
    if (!key) throw std::runtime_error("cannot generate an RSA-2048 key: " + openssl_errors());
    write_key_pem(key_file, key.get());
  }

  unsigned char* der = nullptr;
  const int der_length = i2d_PUBKEY(key.get(), &der);
  if (der_length <= 0) {
    throw std::runtime_error("cannot encode the DKIM public key: " + openssl_errors());
  }
  // OPENSSL_free is a macro (it passes file and line), so not an OpenSslDeleter.
  const std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
      der, [](unsigned char* p) { OPENSSL_free(p); });
  std::string base64(static_cast<size_t>(4 * ((der_length + 2) / 3)) + 1, '\0');
  base64.resize(static_cast<size_t>(
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()), der, der_length)));

  const std::string text = "v=DKIM1; k=rsa; p=" + base64;
  std::string strings;
  for (size_t at = 0; at < text.size(); at += kDkimChunk) {
    strings += (strings.empty() ? "\"" : " \"") + text.substr(at, kDkimChunk) + "\"";
  }
  return strings;
}

// host0001 ... host1000, 250 addresses per /24 from 127.0.0.1.
std::string bench_hosts() {
  std::string lines;
  for (int i = 1; i <= kBenchHosts; ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "host%04d A 127.0.%d.%d\n", i, (i - 1) / 250,
                  (i - 1) % 250 + 1);
    lines += line;
  }
  return lines;
}

std::string render_zone(const Context& context, const KnotInstance& instance, std::string_view zone,
                        const fs::path& knot_dir) {
  const fs::path template_file = context.templates_dir / "dns" / (std::string(zone) + ".zone.in");
  const std::string text =
      read_text(template_file, "a zone template of " + std::string(instance.name));
  std::map<std::string, std::string> values;
  if (zone == kSandboxZone) {
    values = {{"WWW_ADDRESS", std::string(instance.www_address)},
              {"DKIM_SEL1", dkim_sel1_strings(knot_dir)}};
  } else if (zone == kBenchZone) {
    values = {{"HOSTS", bench_hosts()}};
  }
  return fill_strictly(text, values, template_file.string());
}

std::string join(const std::vector<std::string_view>& items) {
  std::string text;
  for (std::string_view item : items) text += (text.empty() ? "" : ", ") + std::string(item);
  return text;
}

class KnotModule final : public Module {
 public:
  explicit KnotModule(KnotInstance instance) : instance_(std::move(instance)) {}

  std::string_view name() const override { return instance_.name; }
  bool runs_process() const override { return true; }

  Started start(const Context& context) const override {
    const RunAs user = run_as();
    const fs::path knot_dir = context.data_dir / "knot";
    const fs::path dir = knot_dir / instance_.name;
    make_dir(knot_dir, 0755);
    make_dir(dir, 0755);
    // knotd writes its timer DB, pid file and control socket here after dropping to nobody.
    if (::geteuid() == 0 && ::chown(dir.c_str(), user.uid, user.gid) != 0) {
      throw std::runtime_error(errno_text("cannot hand " + dir.string() + " to nobody"));
    }

    std::string zones;
    for (std::string_view zone : instance_.zones) {
      write_file_atomically(dir / (std::string(zone) + ".zone"),
                            render_zone(context, instance_, zone, knot_dir), 0644);
      zones += "  - domain: " + std::string(zone) + "\n";
    }
    const fs::path template_file = context.templates_dir / "dns" / "knot.conf.in";
    const std::string config_template = read_text(template_file, "the knot config template");
    const fs::path config = dir / "knot.conf";
    const fs::path log = dir / "knotd.log";

    for (int attempt = 1;; ++attempt) {
      const std::uint16_t port = pick_free_dns_port();
      const std::map<std::string, std::string> values{{"USER", user.directive},
                                                      {"DIR", dir.string()},
                                                      {"PORT", std::to_string(port)},
                                                      {"ZONES", zones}};
      write_file_atomically(config, fill_strictly(config_template, values, template_file.string()),
                            0644);
      fs::remove(log);

      process::ChildOptions run;
      run.program = kKnotd;
      run.args = {"-c", config.string()};
      run.cwd = dir;
      run.stdout_file = log;
      run.stderr_file = log;
      process::Child child = process::Child::start(run);
      std::string zone_waited_for;
      SoaReply last;
      WaitOutcome outcome = wait_until_ready(child, context.deadline, [&] {
        for (std::string_view zone : instance_.zones) {
          last = query_soa(port, zone, 200ms);
          if (!last.ok()) {
            zone_waited_for = zone;
            // knotd keeps running when a zone fails to load, answering SERVFAIL for it; its
            // zone errors name the zone in brackets ("error: [zone.] zone loader, ...").
            if (file_mentions(log, " error: [")) {
              throw std::runtime_error(std::string(instance_.name) + ": knotd reported an error " +
                                       "while loading its zones.\n" + tail_of(log) +
                                       "Its zones are rendered from " +
                                       (context.templates_dir / "dns").string() +
                                       "/*.zone.in: fix the cause above there.");
            }
            return false;
          }
        }
        return true;
      });

      if (outcome.ready) {
        update_env(context.data_dir, {{std::string(instance_.env_key), std::to_string(port)}});
        return {std::move(child), "ready on 127.0.0.1:" + std::to_string(port) +
                                      " (udp, tcp): " + join(instance_.zones)};
      }
      if (outcome.exited && attempt < kPortAttempts &&
          file_mentions(log, "address already in use")) {
        continue;
      }
      std::string what =
          outcome.exited ? "knotd " + outcome.exited->describe() + " before it was ready"
                         : "knotd did not answer `" + zone_waited_for +
                               " SOA` authoritatively on " + "127.0.0.1:" + std::to_string(port) +
                               " before the deadline (last: " + last.describe() + ")";
      throw std::runtime_error(what + " (expected it to serve " + join(instance_.zones) +
                               " on 127.0.0.1:" + std::to_string(port) + ", UDP and TCP).\n" +
                               tail_of(log) + "Its config is " + config.string() +
                               ", rendered from " + template_file.string() +
                               ": fix the cause above there.");
    }
  }

 private:
  KnotInstance instance_;
};

}  // namespace

const Module& dns_primary_module() {
  static const KnotModule module({"dns_primary",
                                  "SANDBOX_DNS_PRIMARY_PORT",
                                  {kSandboxZone, kBrokenZone, kBenchZone},
                                  "127.0.0.11"});
  return module;
}

const Module& dns_secondary_module() {
  static const KnotModule module(
      {"dns_secondary", "SANDBOX_DNS_SECONDARY_PORT", {kSandboxZone}, "127.0.0.11"});
  return module;
}

const Module& dns_diverged_module() {
  static const KnotModule module(
      {"dns_diverged", "SANDBOX_DNS_DIVERGED_PORT", {kSandboxZone}, "127.0.0.66"});
  return module;
}

}  // namespace deploycheck::sandbox
