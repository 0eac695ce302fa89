// Module `s3`: an S3-compatible server (s3rver 3.7.1 from the npm registry, the sandbox's only
// npm piece) on 127.0.0.1 at a free port, one bucket, fresh credentials. One foreground
// `node tools/sandbox/s3rver/run.js` under its supervisor; objects live in DATA/s3/store.
//
// s3rver comes from tools/sandbox/s3rver/package-lock.json: scripts/setup-debian runs `npm ci`
// there (node_modules/ is not committed). The credentials reach node through its environment,
// never its command line. sandbox.env: SANDBOX_S3_ENDPOINT, SANDBOX_S3_BUCKET,
// SANDBOX_S3_REGION, SANDBOX_S3_ACCESS_KEY_ID, SANDBOX_S3_SECRET_ACCESS_KEY. The `backups`
// module fills the bucket.
#include <openssl/rand.h>

#include <cstdlib>
#include <stdexcept>

#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/net.hpp"
#include "tools/sandbox/openssl.hpp"
#include "tools/sandbox/readiness.hpp"

extern char** environ;

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kPortAttempts = 5;
constexpr std::string_view kBucket = "deploycheck-backups";
constexpr std::string_view kRegion = "us-east-1";

const fs::path kS3rverDir = DEPLOYCHECK_SANDBOX_S3RVER_DIR;

// `length` characters from `alphabet` (whose size divides 256, so `byte % size` is unbiased).
std::string random_text(int length, std::string_view alphabet) {
  std::string bytes(static_cast<size_t>(length), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), length) != 1) {
    throw std::runtime_error("RAND_bytes failed: " + openssl_errors());
  }
  for (char& c : bytes) c = alphabet[static_cast<unsigned char>(c) % alphabet.size()];
  return bytes;
}

fs::path find_node() {
  for (const char* candidate : {"/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs"}) {
    if (fs::exists(candidate)) return candidate;
  }
  throw std::runtime_error(
      "the s3 module runs s3rver on Node.js, which is not installed (expected "
      "/usr/bin/node): run scripts/setup-debian");
}

class S3Module final : public Module {
 public:
  std::string_view name() const override { return "s3"; }
  bool runs_process() const override { return true; }

  Started start(const Context& context) const override {
    const fs::path run_js = kS3rverDir / "run.js";
    if (!fs::exists(kS3rverDir / "node_modules" / "s3rver" / "package.json")) {
      throw std::runtime_error(
          "s3rver is not installed in " + (kS3rverDir / "node_modules").string() +
          ": run scripts/setup-debian (it runs `npm ci` there from the committed "
          "package-lock.json)");
    }
    const fs::path node = find_node();
    const fs::path dir = context.data_dir / "s3";
    make_dir(dir, 0700);
    make_dir(dir / "store", 0700);
    // AWS-shaped: 20 upper-case letters and digits after AKIA, 40 characters of secret.
    const std::string key_id = "AKIA" + random_text(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    const std::string secret =
        random_text(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    const fs::path log = dir / "s3rver.log";

    for (int attempt = 1;; ++attempt) {
      const std::uint16_t port = pick_free_ports(1)[0];
      std::map<std::string, std::string> env;
      for (char** e = environ; *e != nullptr; ++e) {
        const std::string entry(*e);
        const auto eq = entry.find('=');
        if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
      }
      env["S3RVER_DIR"] = (dir / "store").string();
      env["S3RVER_PORT"] = std::to_string(port);
      env["S3RVER_BUCKET"] = std::string(kBucket);
      env["S3RVER_ACCESS_KEY_ID"] = key_id;
      env["S3RVER_SECRET_ACCESS_KEY"] = secret;
      fs::remove(log);

      process::ChildOptions run;
      run.program = node;
      run.args = {run_js.string()};
      run.cwd = kS3rverDir;
      run.env = std::move(env);
      run.stdout_file = log;
      run.stderr_file = log;
      process::Child child = process::Child::start(run);
      // s3rver prints its line once the bucket exists and the port is bound.
      WaitOutcome outcome = wait_until_ready(child, context.deadline, [&] {
        return file_mentions(log, "s3rver listening on") && tcp_accepts(port, 500ms);
      });
      const std::string endpoint = "http://127.0.0.1:" + std::to_string(port);
      if (outcome.ready) {
        update_env(context.data_dir, {{"SANDBOX_S3_ENDPOINT", endpoint},
                                      {"SANDBOX_S3_BUCKET", std::string(kBucket)},
                                      {"SANDBOX_S3_REGION", std::string(kRegion)},
                                      {"SANDBOX_S3_ACCESS_KEY_ID", key_id},
                                      {"SANDBOX_S3_SECRET_ACCESS_KEY", secret}});
        return {std::move(child),
                "ready on " + endpoint + " (bucket " + std::string(kBucket) + ")"};
      }
      if (outcome.exited && attempt < kPortAttempts && file_mentions(log, "EADDRINUSE")) continue;
      const std::string what =
          outcome.exited ? "s3rver " + outcome.exited->describe() + " before it was ready"
                         : "s3rver did not listen on " + endpoint + " before the deadline";
      throw std::runtime_error(what + ".\n" + tail_of(log) + "It runs " + run_js.string() +
                               " with " + node.string() +
                               ": fix the cause above (scripts/setup-debian reinstalls s3rver).");
    }
  }
};

}  // namespace

const Module& s3_module() {
  static const S3Module module;
  return module;
}

}  // namespace deploycheck::sandbox
