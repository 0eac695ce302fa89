// Module `ca`: a root CA, one intermediate CA and a server certificate for localhost, so TLS
// checks see a real chain (leaf -> intermediate -> root) served the way production serves it
// (leaf + intermediate; the root only in the client's trust store). Files only: no process.
#include "tools/sandbox/ca.hpp"

#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/x509.hpp"

namespace deploycheck::sandbox {

CaFiles ca_files(const std::filesystem::path& data_dir) {
  const auto dir = data_dir / "ca";
  return {dir,
          dir / "ca.pem",
          dir / "ca.key",
          dir / "intermediate.pem",
          dir / "intermediate.key",
          dir / "server.pem",
          dir / "server.key",
          dir / "server-chain.pem"};
}

namespace {

using std::chrono::hours;

class CaModule final : public Module {
 public:
  std::string_view name() const override { return "ca"; }
  bool runs_process() const override { return false; }

  Started start(const Context& context) const override {
    const CaFiles files = ca_files(context.data_dir);
    // ca.pem is written last, so its presence means a complete set. Services already running
    // (after `down ca` + `up ca`) keep serving these: a new CA would break their verification.
    if (std::filesystem::exists(files.root_cert)) {
      update_env(context.data_dir, {{"SANDBOX_CA_FILE", files.root_cert.string()}});
      return {std::nullopt, "ready (kept the existing CA): " + files.root_cert.string()};
    }
    make_dir(files.dir, 0755);

    CertSpec root_spec;
    root_spec.common_name = "deploycheck sandbox root CA";
    root_spec.is_ca = true;
    root_spec.path_length = 1;
    root_spec.not_after = hours(24 * 365);
    Issued root = issue_cert(root_spec, nullptr);

    CertSpec intermediate_spec = root_spec;
    intermediate_spec.common_name = "deploycheck sandbox intermediate CA";
    intermediate_spec.path_length = 0;
    Issued intermediate = issue_cert(intermediate_spec, &root);

    CertSpec server_spec;
    server_spec.common_name = "localhost";
    server_spec.dns_names = {"localhost", "sandbox.deploycheck.test"};
    server_spec.ip_addresses = {"127.0.0.1"};
    Issued server = issue_cert(server_spec, &intermediate);

    // Keys first and ca.pem last: a reader that finds ca.pem may assume the rest exists.
    write_key_pem(files.root_key, root.key.get());
    write_key_pem(files.intermediate_key, intermediate.key.get());
    write_key_pem(files.server_key, server.key.get());
    write_certs_pem(files.intermediate_cert, {intermediate.cert.get()});
    write_certs_pem(files.server_cert, {server.cert.get()});
    write_certs_pem(files.server_chain, {server.cert.get(), intermediate.cert.get()});
    write_certs_pem(files.root_cert, {root.cert.get()});

    update_env(context.data_dir, {{"SANDBOX_CA_FILE", files.root_cert.string()}});
    return {std::nullopt, "ready: " + files.root_cert.string()};
  }
};

}  // namespace

const Module& ca_module() {
  static const CaModule module;
  return module;
}

}  // namespace deploycheck::sandbox
