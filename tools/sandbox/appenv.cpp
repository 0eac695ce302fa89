// Module `appenv`: the application's env files, as a deploy would write them. Each template
// TEMPLATES/<name>.env.in becomes DATA/<name>.env (mode 0600) with
//   @SECRET_<N>@     a fresh random URL-safe secret of N characters (OpenSSL RAND_bytes)
//   @SANDBOX_<KEY>@  the value of SANDBOX_<KEY> in sandbox.env (a port, a path)
// A template named <name>.public.env.in is written 0644 on purpose: the broken case that the
// EnvVars self-tests must catch. Files only: no process.
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/placeholders.hpp"
#include "tools/sandbox/x509.hpp"

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTemplateSuffix = ".env.in";
constexpr std::string_view kPublicSuffix = ".public.env.in";
constexpr int kMaxSecretLength = 4096;

// 64 symbols, so `byte % 64` is unbiased.
std::string random_secret(int length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string bytes(static_cast<size_t>(length), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), length) != 1) {
    throw std::runtime_error("RAND_bytes failed: " + openssl_errors());
  }
  for (char& c : bytes) c = kAlphabet[static_cast<unsigned char>(c) % 64];
  return bytes;
}

std::string render(const fs::path& template_file,
                   const std::map<std::string, std::string>& sandbox) {
  const std::string text = read_text(template_file, "an appenv template");
  return fill_placeholders(text, [&](const std::string& name) -> std::optional<std::string> {
    if (name.starts_with("SECRET_")) {
      std::string_view digits = std::string_view(name).substr(7);
      int length = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
      if (ec != std::errc() || end != digits.data() + digits.size() || length < 1 ||
          length > kMaxSecretLength) {
        throw std::runtime_error(template_file.string() + ": @" + name +
                                 "@ is not a valid secret placeholder: expected @SECRET_<N>@ "
                                 "with N a decimal length from 1 to " +
                                 std::to_string(kMaxSecretLength) + ", e.g. @SECRET_64@.");
      }
      return random_secret(length);
    }
    if (name.starts_with("SANDBOX_")) {
      auto it = sandbox.find(name);
      if (it == sandbox.end()) {
        std::string known;
        for (const auto& [key, value] : sandbox) known += (known.empty() ? "" : ", ") + key;
        throw std::runtime_error(template_file.string() + " uses @" + name +
                                 "@, but no started "
                                 "service has set " +
                                 name + " (set now: " + known +
                                 "). Start the service that provides it before appenv, e.g. "
                                 "`up nginx appenv`.");
      }
      return it->second;
    }
    return std::nullopt;  // Not ours: an '@' in a value stays as written.
  });
}

class AppenvModule final : public Module {
 public:
  std::string_view name() const override { return "appenv"; }
  bool runs_process() const override { return false; }

  Started start(const Context& context) const override {
    if (!fs::is_directory(context.templates_dir)) {
      throw std::runtime_error("appenv expected a directory of *.env.in templates at " +
                               context.templates_dir.string() +
                               ", which does not exist: pass "
                               "--templates DIR (the repository's environments/sandbox).");
    }
    std::vector<fs::path> templates;
    for (const auto& entry : fs::directory_iterator(context.templates_dir)) {
      if (entry.is_regular_file() && entry.path().filename().string().ends_with(kTemplateSuffix)) {
        templates.push_back(entry.path());
      }
    }
    std::sort(templates.begin(), templates.end());

    const auto sandbox = read_env(context.data_dir);
    std::string written;
    for (const fs::path& template_file : templates) {
      const std::string file = template_file.filename().string();
      const std::string stem = file.substr(0, file.size() - kTemplateSuffix.size());
      const int mode = file.ends_with(kPublicSuffix) ? 0644 : 0600;
      write_file_atomically(context.data_dir / (stem + ".env"), render(template_file, sandbox),
                            mode);
      written += (written.empty() ? "" : ", ") + stem + ".env";
    }
    update_env(context.data_dir, {{"SANDBOX_APPENV_DIR", context.data_dir.string()}});
    return {std::nullopt, "ready: wrote " + std::to_string(templates.size()) + " env file(s) in " +
                              context.data_dir.string() +
                              (written.empty() ? "" : " (" + written + ")")};
  }
};

}  // namespace

const Module& appenv_module() {
  static const AppenvModule module;
  return module;
}

}  // namespace deploycheck::sandbox
