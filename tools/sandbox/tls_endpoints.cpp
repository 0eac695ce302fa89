// Module `tls`: the TLS suite's endpoints. One nginx (in the foreground under the supervisor,
// prefix, config, certificates and logs in DATA/tls) with one server block per endpoint, each on
// its own port: healthy ones that pass every TLS check (ECDSA and RSA leaves, one stapling an
// OCSP response) and, for sandbox_broken, one per defect with everything else like `ecdsa`.
// Every leaf is issued afresh at each start (validity is relative to now) by the `ca` module's
// intermediate, unless the endpoint's defect says otherwise. Ports go to sandbox.env as
// SANDBOX_TLS_<NAME>_PORT, plain-http twins as SANDBOX_TLS_<NAME>_HTTP_PORT.
#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "tools/sandbox/ca.hpp"
#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/net.hpp"
#include "tools/sandbox/nginx_run.hpp"
#include "tools/sandbox/placeholders.hpp"
#include "tools/sandbox/readiness.hpp"
#include "tools/sandbox/x509.hpp"

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using days = std::chrono::days;

constexpr const char* kModern = "TLSv1.2 TLSv1.3";
// AEAD suites with forward secrecy only (TLS 1.3's own suites are all strong).
constexpr const char* kStrongCiphers = "ECDHE+AESGCM:ECDHE+CHACHA20";
constexpr const char* kHsts = "max-age=31536000; includeSubDomains";

// What a plain-http port next to the endpoint does.
enum class HttpTwin { kNone, kRedirect, kNoRedirect };

// One server block. The defaults are the healthy `ecdsa` endpoint; each broken one changes one
// thing (what `defect` says).
struct Endpoint {
  const char* name;  // lower case; SANDBOX_TLS_<NAME>_PORT
  const char* defect = nullptr;
  // The leaf.
  KeyKind key = KeyKind::kEcP256;
  std::chrono::seconds not_before = -1h;
  std::chrono::seconds not_after = days(90);
  bool wrong_host = false;
  bool self_signed = false;
  bool sha1_signature = false;
  bool leaf_only = false;  // serves the leaf without the intermediate
  bool stapled = false;    // staples a good OCSP response made for the leaf
  int embedded_scts = 0;   // SCTs in the leaf (x509.hpp: from a sandbox log key)
  // The server block.
  const char* protocols = kModern;
  const char* ciphers = kStrongCiphers;
  const char* hsts = kHsts;  // nullptr: no header
  HttpTwin http = HttpTwin::kNone;
};

// Legacy protocols, 1024-bit keys and SHA-1 signatures are refused at Debian's default security
// level 2: those blocks lower it (nginx links the same libssl as the probes).
const std::vector<Endpoint>& endpoints() {
  static const std::vector<Endpoint> table{
      {.name = "ecdsa", .http = HttpTwin::kRedirect},
      {.name = "rsa", .key = KeyKind::kRsa2048, .http = HttpTwin::kRedirect},
      {.name = "stapled", .stapled = true},
      {.name = "ct", .embedded_scts = 2},
      {.name = "expired",
       .defect = "the certificate expired yesterday",
       .not_before = -days(91),
       .not_after = -days(1)},
      {.name = "notyet",
       .defect = "the certificate is valid from tomorrow",
       .not_before = days(1),
       .not_after = days(91)},
      {.name = "wronghost",
       .defect = "the certificate names only wrong.deploycheck.test",
       .wrong_host = true},
      {.name = "nointermediate",
       .defect = "serves the leaf without the intermediate",
       .leaf_only = true},
      {.name = "selfsigned", .defect = "a self-signed certificate", .self_signed = true},
      {.name = "tls10",
       .defect = "accepts TLS 1.0 and 1.1 (which need a CBC suite: ECDHE-ECDSA-AES128-SHA)",
       .protocols = "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3",
       .ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"},
      // AES128-SHA (RSA key exchange, CBC) needs an RSA key.
      {.name = "weakcipher",
       .defect = "accepts AES128-SHA: no forward secrecy, CBC (RSA-2048 leaf for it)",
       .key = KeyKind::kRsa2048,
       .ciphers = "ECDHE+AESGCM:AES128-SHA:@SECLEVEL=0"},
      {.name = "rsa1024",
       .defect = "an RSA-1024 key",
       .key = KeyKind::kRsa1024,
       .ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:@SECLEVEL=0"},
      {.name = "sha1",
       .defect = "the certificate is signed with SHA-1",
       .sha1_signature = true,
       .ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20:@SECLEVEL=0"},
      {.name = "nohsts", .defect = "no Strict-Transport-Security header", .hsts = nullptr},
      {.name = "shorthsts",
       .defect = "HSTS max-age of one hour",
       .hsts = "max-age=3600; includeSubDomains"},
      {.name = "noredirect",
       .defect = "its plain-http twin answers 200 instead of redirecting",
       .http = HttpTwin::kNoRedirect},
      // Half a day over 9 days, so "expires in 9 days" holds for the first 12 hours.
      {.name = "expiring",
       .defect = "the certificate expires in 9 days",
       .not_after = days(9) + 12h},
  };
  return table;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

std::string port_key(const Endpoint& endpoint) {
  return "SANDBOX_TLS_" + upper(endpoint.name) + "_PORT";
}

std::string http_port_key(const Endpoint& endpoint) {
  return "SANDBOX_TLS_" + upper(endpoint.name) + "_HTTP_PORT";
}

struct EndpointFiles {
  fs::path certs;  // what nginx serves: leaf (+ intermediate)
  fs::path key;
  fs::path ocsp;  // DER, stapled endpoints only
};

// Issues the endpoint's leaf and writes what nginx needs into `dir`.
EndpointFiles write_certificates(const Endpoint& endpoint, const Issued& intermediate,
                                 const fs::path& dir) {
  CertSpec spec;
  spec.common_name = endpoint.wrong_host ? "wrong.deploycheck.test" : "localhost";
  spec.dns_names = {spec.common_name};
  if (!endpoint.wrong_host) spec.ip_addresses = {"127.0.0.1"};
  spec.key = endpoint.key;
  spec.sha1_signature = endpoint.sha1_signature;
  spec.not_before = endpoint.not_before;
  spec.not_after = endpoint.not_after;
  spec.embedded_scts = endpoint.embedded_scts;
  Issued leaf = issue_cert(spec, endpoint.self_signed ? nullptr : &intermediate);

  const std::string name = endpoint.name;
  EndpointFiles files{dir / (name + ".pem"), dir / (name + ".key"), {}};
  write_key_pem(files.key, leaf.key.get());
  if (endpoint.leaf_only || endpoint.self_signed) {
    write_certs_pem(files.certs, {leaf.cert.get()});
  } else {
    write_certs_pem(files.certs, {leaf.cert.get(), intermediate.cert.get()});
  }
  if (endpoint.stapled) {
    files.ocsp = dir / (name + ".ocsp.der");
    write_file_atomically(files.ocsp, ocsp_good_response(leaf, intermediate, days(7)), 0644);
  }
  return files;
}

struct Ports {
  std::uint16_t https = 0;
  std::uint16_t http = 0;  // 0: no twin
};

std::string server_blocks(const std::vector<Endpoint>& table,
                          const std::vector<EndpointFiles>& files,
                          const std::vector<Ports>& ports) {
  std::string out;
  for (size_t i = 0; i < table.size(); ++i) {
    const Endpoint& endpoint = table[i];
    const std::string https = std::to_string(ports[i].https);
    out += "  # " + std::string(endpoint.name) + ": " +
           (endpoint.defect ? endpoint.defect : "healthy") + "\n";
    out += "  server {\n";
    out += "    listen 127.0.0.1:" + https + " ssl;\n";
    out += "    server_name localhost;\n";
    out += "    ssl_certificate " + files[i].certs.string() + ";\n";
    out += "    ssl_certificate_key " + files[i].key.string() + ";\n";
    out += "    ssl_protocols " + std::string(endpoint.protocols) + ";\n";
    out += "    ssl_ciphers " + std::string(endpoint.ciphers) + ";\n";
    out += "    ssl_prefer_server_ciphers on;\n";
    if (endpoint.stapled) {
      out += "    ssl_stapling on;\n";
      out += "    ssl_stapling_file " + files[i].ocsp.string() + ";\n";
    }
    if (endpoint.hsts) {
      out += "    add_header Strict-Transport-Security \"" + std::string(endpoint.hsts) +
             "\" always;\n";
    }
    out += "    location / {\n      return 200 'deploycheck sandbox tls endpoint " +
           std::string(endpoint.name) + "\\n';\n    }\n";
    out += "  }\n";
    if (endpoint.http == HttpTwin::kNone) continue;
    out += "  server {\n";
    out += "    listen 127.0.0.1:" + std::to_string(ports[i].http) + ";\n";
    out += "    server_name localhost;\n";
    out += "    location / {\n";
    if (endpoint.http == HttpTwin::kRedirect) {
      out += "      return 301 https://localhost:" + https + "$request_uri;\n";
    } else {
      out += "      return 200 'plain http, no redirect\\n';\n";
    }
    out += "    }\n  }\n";
  }
  return out;
}

class TlsModule final : public Module {
 public:
  std::string_view name() const override { return "tls"; }
  std::vector<std::string_view> dependencies() const override { return {"ca"}; }
  bool runs_process() const override { return true; }

  Started start(const Context& context) const override {
    const CaFiles ca = ca_files(context.data_dir);
    if (!fs::exists(ca.intermediate_key) || !fs::exists(ca.root_cert)) {
      throw std::runtime_error("tls needs the CA of the `ca` module, expected in " +
                               ca.dir.string() + ": start `ca` first (`up` does so by itself).");
    }
    const fs::path dir = context.data_dir / "tls";
    const fs::path certs_dir = dir / "certs";
    make_dir(dir, 0755);
    make_dir(dir / "tmp", 0755);
    // nginx's workers read nothing here: the master loads keys before it drops privileges.
    make_dir(certs_dir, 0700);

    const std::vector<Endpoint>& table = endpoints();
    const Issued intermediate = read_issued(ca.intermediate_cert, ca.intermediate_key);
    std::vector<EndpointFiles> files;
    for (const Endpoint& endpoint : table) {
      files.push_back(write_certificates(endpoint, intermediate, certs_dir));
    }

    const fs::path template_file = context.templates_dir / "tls.conf.in";
    const std::string config_template = read_text(template_file, "the tls nginx config template");
    const size_t twins = std::count_if(table.begin(), table.end(), [](const Endpoint& endpoint) {
      return endpoint.http != HttpTwin::kNone;
    });

    for (int attempt = 1;; ++attempt) {
      const auto picked = pick_free_ports(static_cast<int>(table.size() + twins));
      std::vector<Ports> ports;
      size_t next = 0;
      for (const Endpoint& endpoint : table) {
        Ports p{picked[next++], 0};
        if (endpoint.http != HttpTwin::kNone) p.http = picked[next++];
        ports.push_back(p);
      }
      const std::map<std::string, std::string> values{
          {"USER", nginx_user_directive()},
          {"TLS_DIR", dir.string()},
          {"SERVERS", server_blocks(table, files, ports)},
      };
      write_file_atomically(dir / "nginx.conf",
                            fill_strictly(config_template, values, template_file.string()), 0644);
      const fs::path stderr_log = dir / "stderr.log";
      fs::remove(stderr_log);

      process::Child child = process::Child::start(nginx_child_options(dir));
      // Every port accepts connections (most endpoints cannot pass a verified handshake: that
      // is their point) and `ecdsa`, the first, completes one.
      WaitOutcome outcome = wait_until_ready(child, context.deadline, [&] {
        const std::uint16_t ecdsa = ports.front().https;
        TlsCheck tls = tls_handshake(ecdsa, "localhost", ca.root_cert, 1000ms);
        if (tls.outcome == TlsCheck::Outcome::kFailed) {
          if (child.wait_for(200ms)) return false;
          throw std::runtime_error(
              "nginx accepts connections on 127.0.0.1:" + std::to_string(ecdsa) +
              " (tls endpoint ecdsa) but " + tls.detail +
              ". Expected its chain to verify against " + ca.root_cert.string() + ".");
        }
        if (tls.outcome != TlsCheck::Outcome::kReady) return false;
        return std::all_of(ports.begin(), ports.end(), [](const Ports& p) {
          return tcp_accepts(p.https, 1000ms) && (p.http == 0 || tcp_accepts(p.http, 1000ms));
        });
      });

      if (outcome.ready) {
        EnvEntries entries;
        for (size_t i = 0; i < table.size(); ++i) {
          entries.emplace_back(port_key(table[i]), std::to_string(ports[i].https));
          if (ports[i].http != 0) {
            entries.emplace_back(http_port_key(table[i]), std::to_string(ports[i].http));
          }
        }
        update_env(context.data_dir, entries);
        return {std::move(child), "ready: " + std::to_string(table.size()) +
                                      " https endpoints on 127.0.0.1, ecdsa on port " +
                                      std::to_string(ports.front().https) +
                                      " (all ports in sandbox.env as SANDBOX_TLS_*_PORT)"};
      }
      if (outcome.exited && attempt < kNginxPortAttempts &&
          file_mentions(stderr_log, "Address already in use")) {
        continue;
      }
      std::string what =
          outcome.exited
              ? "nginx " + outcome.exited->describe() + " before it was ready"
              : "nginx did not serve every tls endpoint before the deadline (expected a verified "
                "TLS handshake on 127.0.0.1:" +
                    std::to_string(ports.front().https) + " and connections on every port)";
      throw std::runtime_error(what + ".\n" + tail_of(stderr_log) + tail_of(dir / "error.log", 10) +
                               "Its config is " + (dir / "nginx.conf").string() +
                               ", rendered from " + template_file.string() +
                               " and the endpoint table in tools/sandbox/tls_endpoints.cpp.");
    }
  }
};

}  // namespace

const Module& tls_module() {
  static const TlsModule module;
  return module;
}

}  // namespace deploycheck::sandbox
