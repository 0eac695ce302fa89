// Module `backups` (needs `postgres` and `s3`): real backups of the sandbox's PostgreSQL, taken
// with `pg_dump -Fc` once and laid out as dated series (file mtimes set), in DATA/backups/<set>/
// and uploaded to the s3 module's bucket. Files only: nothing keeps running.
//
//   healthy/          9 daily archives, newest 2 h old, oldest 35 days: every check passes
//   encrypted/        the healthy series encrypted with `openssl enc` (Salted__ header)
//   stale/            the healthy series 3 days older: the newest misses a 24 h RPO
//   shrunk/           the healthy series whose newest archive is half the size of the others
//   corrupt/          the healthy series whose newest archive is cut after 100 bytes
//   short_retention/  6 archives, the oldest 5 days old: short of 30 days
//   s3 nightly/       the healthy series uploaded with x-amz-server-side-encryption: AES256
//   s3 plain/         the healthy series uploaded without server-side encryption
//
// sandbox.env: SANDBOX_BACKUPS_DIR (DATA/backups). pg_dump gets the password through PGPASSWORD,
// curl gets the S3 credentials through a 0600 config file: neither is in a command line.
// s3rver keeps each object's LastModified as its stored file's mtime
// (<store>/<bucket>/<key>._S3rver_object), which is how the uploaded series gets its dates.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <ctime>
#include <stdexcept>

#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/openssl.hpp"

extern char** environ;

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr long kHour = 3600;
constexpr long kDay = 24 * kHour;
// Ages of the healthy series: newest 2 h, then daily, the oldest 35 days (a 30-day retention).
const std::vector<long> kHealthyAges = {2 * kHour,
                                        kDay + 2 * kHour,
                                        2 * kDay + 2 * kHour,
                                        3 * kDay + 2 * kHour,
                                        4 * kDay + 2 * kHour,
                                        5 * kDay + 2 * kHour,
                                        6 * kDay + 2 * kHour,
                                        7 * kDay + 2 * kHour,
                                        35 * kDay};
const std::vector<long> kShortAges = {2 * kHour, kDay, 2 * kDay, 3 * kDay, 4 * kDay, 5 * kDay};

std::map<std::string, std::string> environment_with(
    const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

std::string require_key(const std::map<std::string, std::string>& env, const std::string& key,
                        const std::string& module) {
  const auto it = env.find(key);
  if (it == env.end() || it->second.empty()) {
    throw std::runtime_error("the backups module needs " + key +
                             " in sandbox.env, written by the `" + module +
                             "` module: start it first (`up backups` does so by itself)");
  }
  return it->second;
}

// postgresql://user:password@host/db?... → the URL without its password, and the password.
std::pair<std::string, std::string> split_password(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos) return {url, ""};
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return {url, ""};
  std::string password = url.substr(colon + 1, at - colon - 1);
  // Percent-decoding: libpq reads PGPASSWORD literally.
  std::string decoded;
  for (size_t i = 0; i < password.size(); ++i) {
    if (password[i] == '%' && i + 2 < password.size()) {
      decoded += static_cast<char>(std::stoi(password.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      decoded += password[i];
    }
  }
  return {url.substr(0, colon) + url.substr(at), decoded};
}

void run_to_end(const fs::path& program, const std::vector<std::string>& args,
                const std::map<std::string, std::string>& extra_env, const fs::path& log,
                Clock::time_point deadline, const std::string& what) {
  process::ChildOptions options;
  options.program = program;
  options.args = args;
  options.env = environment_with(extra_env);
  options.stdout_file = log;
  options.stderr_file = log;
  process::Child child = process::Child::start(options);
  const auto status = child.wait_until(deadline);
  if (!status) {
    child.stop();
    throw std::runtime_error(what + " did not finish before the module's deadline.\n" +
                             tail_of(log));
  }
  if (!status->success())
    throw std::runtime_error(what + " " + status->describe() + ".\n" + tail_of(log));
}

void set_mtime(const fs::path& path, std::time_t when) {
  const struct timespec times[2] = {{when, 0}, {when, 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    throw std::runtime_error("cannot set the mtime of " + path.string());
  }
}

std::string file_name(std::time_t when, const std::string& suffix) {
  std::tm tm{};
  ::gmtime_r(&when, &tm);
  char text[64];
  std::strftime(text, sizeof text, "sandbox-%Y%m%dT%H%M%SZ", &tm);
  return text + suffix;
}

// Writes `content` as a dated series into `dir`: one file per age, the newest replaced by
// `newest` when given. Returns the names, newest first.
std::vector<std::string> write_series(const fs::path& dir, const std::string& content,
                                      const std::vector<long>& ages, std::time_t now,
                                      const std::string& suffix,
                                      const std::optional<std::string>& newest = std::nullopt) {
  make_dir(dir, 0755);
  std::vector<std::string> names;
  for (size_t i = 0; i < ages.size(); ++i) {
    const std::time_t when = now - ages[i];
    const auto name = file_name(when, suffix);
    write_file_atomically(dir / name, i == 0 && newest ? *newest : content, 0644);
    set_mtime(dir / name, when);
    names.push_back(name);
  }
  return names;
}

// `openssl enc -aes-256-cbc -pbkdf2` format: "Salted__", 8 bytes of salt, the ciphertext.
std::string openssl_enc(const std::string& plain) {
  unsigned char salt[8];
  unsigned char password[32];
  if (RAND_bytes(salt, sizeof salt) != 1 || RAND_bytes(password, sizeof password) != 1) {
    throw std::runtime_error("RAND_bytes failed: " + openssl_errors());
  }
  unsigned char key_iv[48];
  if (PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password), sizeof password, salt, sizeof salt,
                        10000, EVP_sha256(), sizeof key_iv, key_iv) != 1) {
    throw std::runtime_error("PBKDF2 failed: " + openssl_errors());
  }
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free);
  std::string out = "Salted__" + std::string(reinterpret_cast<char*>(salt), sizeof salt);
  std::string cipher(plain.size() + 32, '\0');
  int n = 0, m = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key_iv, key_iv + 32) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(cipher.data()), &n,
                        reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(cipher.data()) + n, &m) !=
          1) {
    throw std::runtime_error("AES-256-CBC failed: " + openssl_errors());
  }
  cipher.resize(static_cast<size_t>(n + m));
  return out + cipher;
}

struct S3Target {
  std::string endpoint, bucket, region;
  fs::path curl_config;  // holds `user = "id:secret"`, mode 0600
  fs::path store;        // s3rver's directory for the bucket
};

void upload(const S3Target& s3, const fs::path& file, const std::string& key, bool sse,
            std::time_t when, const fs::path& log, Clock::time_point deadline) {
  std::vector<std::string> args = {"--silent",
                                   "--show-error",
                                   "--fail",
                                   "--config",
                                   s3.curl_config.string(),
                                   "--aws-sigv4",
                                   "aws:amz:" + s3.region + ":s3",
                                   "-H",
                                   "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                                   "-H",
                                   "Content-Type: application/octet-stream",
                                   "--upload-file",
                                   file.string(),
                                   s3.endpoint + "/" + s3.bucket + "/" + key};
  if (sse) {
    args.insert(args.end() - 3, "-H");
    args.insert(args.end() - 3, "x-amz-server-side-encryption: AES256");
  }
  run_to_end("/usr/bin/curl", args, {}, log, deadline, "uploading " + key + " with curl");
  set_mtime(s3.store / (key + "._S3rver_object"), when);
}

class BackupsModule final : public Module {
 public:
  std::string_view name() const override { return "backups"; }
  std::vector<std::string_view> dependencies() const override { return {"postgres", "s3"}; }
  bool runs_process() const override { return false; }

  Started start(const Context& context) const override {
    const auto env = read_env(context.data_dir);
    const auto database_url = require_key(env, "SANDBOX_DATABASE_URL", "postgres");
    S3Target s3{.endpoint = require_key(env, "SANDBOX_S3_ENDPOINT", "s3"),
                .bucket = require_key(env, "SANDBOX_S3_BUCKET", "s3"),
                .region = require_key(env, "SANDBOX_S3_REGION", "s3")};
    const fs::path dir = context.data_dir / "backups";
    fs::remove_all(dir);  // a fresh series on every `up`: the dates are relative to now
    make_dir(dir, 0755);
    const fs::path work = dir / ".work";
    make_dir(work, 0700);
    const fs::path log = work / "log";

    const auto [url, password] = split_password(database_url);
    const fs::path dump = work / "sandbox.dump";
    run_to_end("/usr/bin/pg_dump",
               {"--format=custom", "--file=" + dump.string(), "--dbname=" + url},
               password.empty() ? std::map<std::string, std::string>{}
                                : std::map<std::string, std::string>{{"PGPASSWORD", password}},
               log, context.deadline, "pg_dump of the sandbox database");
    const std::string archive = read_text(dump, "the sandbox's pg_dump archive");

    const std::time_t now = std::time(nullptr);
    const auto healthy = write_series(dir / "healthy", archive, kHealthyAges, now, ".dump");
    write_series(dir / "encrypted", openssl_enc(archive), kHealthyAges, now, ".dump.enc");
    std::vector<long> stale_ages;
    for (long age : kHealthyAges) stale_ages.push_back(age + 3 * kDay);
    write_series(dir / "stale", archive, stale_ages, now, ".dump");
    write_series(dir / "shrunk", archive, kHealthyAges, now, ".dump",
                 archive.substr(0, archive.size() / 2));
    write_series(dir / "corrupt", archive, kHealthyAges, now, ".dump", archive.substr(0, 100));
    write_series(dir / "short_retention", archive, kShortAges, now, ".dump");

    s3.curl_config = work / "curl.conf";
    write_file_atomically(s3.curl_config,
                          "user = \"" + require_key(env, "SANDBOX_S3_ACCESS_KEY_ID", "s3") + ":" +
                              require_key(env, "SANDBOX_S3_SECRET_ACCESS_KEY", "s3") + "\"\n",
                          0600);
    s3.store = context.data_dir / "s3" / "store" / s3.bucket;
    for (size_t i = 0; i < healthy.size(); ++i) {
      const fs::path file = dir / "healthy" / healthy[i];
      const std::time_t when = now - kHealthyAges[i];
      upload(s3, file, "nightly/" + healthy[i], true, when, log, context.deadline);
      upload(s3, file, "plain/" + healthy[i], false, when, log, context.deadline);
    }
    fs::remove(s3.curl_config);
    update_env(context.data_dir, {{"SANDBOX_BACKUPS_DIR", dir.string()}});
    return {std::nullopt, "ready: " + std::to_string(archive.size()) +
                              "-byte pg_dump archives in " + dir.string() + " and s3://" +
                              s3.bucket + "/{nightly,plain}/"};
  }
};

}  // namespace

const Module& backups_module() {
  static const BackupsModule module;
  return module;
}

}  // namespace deploycheck::sandbox
