// StaticAssets: checklist 000 "Static Asset Deployment" (collected, uploaded to the CDN, count,
// cache invalidated, origin, CORS and Cache-Control headers, CSS/JS/images/fonts/OpenAPI
// accessible) and 004 "Verify static files served correctly".
//
// The asset list comes from the build's manifest (Django's staticfiles.json, a Vite/webpack
// manifest.json) or a local directory. One gather fetches every asset at once on libcurl's multi
// interface (Gather.StaticAssets/cdn, and /origin when an origin is configured); each check below
// is ONE test over all assets, naming the ones that fail it (capped): ten thousand assets never
// become ten thousand tests.
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "matchers/http_matchers.hpp"
#include "probes/http/http_probe.hpp"
#include "probes/policy.hpp"
#include "runner/check.hpp"
#include "runner/gather.hpp"
#include "suites/asset_manifest.hpp"

namespace deploycheck {
namespace {

namespace fs = std::filesystem;

const std::string kCollected = "000 Collect Static Files: Static files collected successfully";
const std::string kUploaded = "000 Collect Static Files: Static files uploaded to CDN/storage";
const std::string kCount = "000 Collect Static Files: Static file count matches expected";
const std::string kInvalidated = "000 CDN Configuration: CDN cache invalidated for updated assets";
const std::string kOrigin = "000 CDN Configuration: CDN origin configured correctly";
const std::string kCors = "000 CDN Configuration: CORS headers configured for static assets";
const std::string kCache = "000 CDN Configuration: Cache-Control headers set appropriately";
const std::string kCritical =
    "000 Static Asset Verification: Critical static assets are accessible (CSS, JS)";
const std::string kImagesFonts = "000 Static Asset Verification: Images and fonts accessible";
const std::string kOpenApi =
    "000 Static Asset Verification: API documentation (Swagger/OpenAPI) accessible";
const std::string kServed004 = "004 Railway Deployment: Verify static files served correctly";

const StaticAssetsConfig& config() {
  return *environment().static_assets;
}

std::string extension(const std::string& name) {
  const auto slash = name.rfind('/');
  const auto dot = name.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = name.substr(dot);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

const std::map<std::string, std::vector<std::string>>& content_types() {
  static const std::map<std::string, std::vector<std::string>> types{
      {".css", {"text/css"}},
      {".js", {"application/javascript", "text/javascript"}},
      {".mjs", {"application/javascript", "text/javascript"}},
      {".json", {"application/json"}},
      {".map", {"application/json"}},
      {".html", {"text/html"}},
      {".txt", {"text/plain"}},
      {".svg", {"image/svg+xml"}},
      {".png", {"image/png"}},
      {".jpg", {"image/jpeg"}},
      {".jpeg", {"image/jpeg"}},
      {".gif", {"image/gif"}},
      {".webp", {"image/webp"}},
      {".ico", {"image/x-icon", "image/vnd.microsoft.icon"}},
      {".woff2", {"font/woff2"}},
      {".woff", {"font/woff", "application/font-woff"}},
      {".ttf", {"font/ttf", "application/x-font-ttf"}},
      {".otf", {"font/otf"}},
  };
  return types;
}

bool is_font(const std::string& name) {
  static const std::set<std::string> fonts{".woff2", ".woff", ".ttf", ".otf", ".eot"};
  return fonts.count(extension(name)) > 0;
}

bool compressible(const std::string& name) {
  const auto& list = config().compress;
  return std::find(list.begin(), list.end(), extension(name)) != list.end();
}

fs::path manifest_path() {
  return runtime_values().expand_path(config().manifest, environment().file.parent_path());
}

fs::path local_root() {
  if (config().root)
    return runtime_values().expand_path(*config().root, environment().file.parent_path());
  const fs::path manifest = manifest_path();
  return config().kind == ManifestKind::kDirectory ? manifest : manifest.parent_path();
}

// The published assets, from the manifest (read at run time: it is the deploy's, not ours).
std::vector<Asset> read_assets() {
  return read_asset_manifest(config().kind, manifest_path(),
                             config().unhashed_max_max_age.has_value());
}

std::string file_sha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0)
    EVP_DigestUpdate(ctx.get(), buffer, static_cast<std::size_t>(in.gcount()));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &size);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) out += {hex[digest[i] >> 4], hex[digest[i] & 15]};
  return out;
}

std::string join(std::string base, const std::string& name) {
  if (base.empty() || base.back() != '/') base += '/';
  return base + name;
}

// Fetches every asset under `base` (and, for compressible ones, once more offering gzip).
nlohmann::json gather_assets(const Template& base_template, const Policy& policy, bool with_hash) {
  const auto& c = config();
  const std::string base = runtime_values().expand(base_template);
  const std::string shown_base = runtime_values().display(base_template);
  const auto assets = read_assets();
  const fs::path root = local_root();
  std::vector<HttpRequest> requests;
  std::vector<std::pair<std::size_t, bool>> which;  // asset index, compression probe
  for (std::size_t i = 0; i < assets.size(); ++i) {
    HttpRequest r{.url = join(base, assets[i].name)};
    r.resolve = c.resolve;
    if (c.ca_file) r.ca_file = runtime_values().expand(*c.ca_file);
    r.max_body = 0;  // size and hash are streamed; the bytes are not kept
    r.sha256 = with_hash;
    if (is_font(assets[i].name) && c.font_origin) r.headers.emplace_back("Origin", *c.font_origin);
    requests.push_back(r);
    which.emplace_back(i, false);
    if (compressible(assets[i].name)) {
      r.sha256 = false;
      r.headers.emplace_back("Accept-Encoding", "gzip, br");
      requests.push_back(r);
      which.emplace_back(i, true);
    }
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : assets) {
    nlohmann::json entry{{"logical", a.logical},
                         {"name", a.name},
                         {"hashed", a.hashed},
                         {"url", join(shown_base, a.name)}};
    std::error_code ec;
    const auto size = fs::file_size(root / a.name, ec);
    if (!ec) entry["local_size"] = size;
    if (!ec && with_hash) entry["local_sha256"] = file_sha256(root / a.name);
    out.push_back(entry);
  }
  // Attempts: those that got no answer are asked again, within the policy's budget.
  std::vector<std::size_t> pending(requests.size());
  for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  for (int attempt = 1; attempt <= policy.attempts() && !pending.empty(); ++attempt) {
    std::vector<HttpRequest> batch;
    for (auto i : pending) batch.push_back(requests[i]);
    auto outcomes =
        fetch_many(batch, policy.timeout, {.max_host_connections = c.max_connections_per_host});
    std::vector<std::size_t> again;
    for (std::size_t k = 0; k < outcomes.size(); ++k) {
      const auto [index, compression] = which[pending[k]];
      auto& entry = out[index];
      const char* slot = compression ? "compressed" : "response";
      if (outcomes[k].response) {
        auto r = std::move(*outcomes[k].response);
        r.url = entry["url"];
        entry[slot] = to_json(r);
        entry.erase(std::string(slot) + "_error");
      } else {
        entry[std::string(slot) + "_error"] = outcomes[k].error;
        again.push_back(pending[k]);
      }
    }
    pending = std::move(again);
  }
  // Nothing answered at all: the CDN is unreachable, and its checks are "not run", not failed
  // one asset at a time.
  if (!requests.empty() && pending.size() == requests.size()) {
    const auto& first = out.at(which[pending.front()].first);
    throw Unreachable(shown_base + " answered none of " + std::to_string(requests.size()) +
                      " requests within " + describe_policy(policy) + ": " +
                      first.value("response_error", std::string("no answer")));
  }
  return out;
}

// One check over every asset: those `judge` refuses are listed (at most max_listed of them).
void expect_all(const std::string& key, const std::string& what,
                const std::function<std::optional<std::string>(const nlohmann::json&)>& judge) {
  auto fact = need_fact(key);
  if (!fact) return;
  std::vector<std::string> failures;
  std::size_t judged = 0;
  for (const auto& asset : fact->data) {
    if (auto why = judge(asset))
      failures.push_back(asset.at("url").get<std::string>() + ": " + *why);
    ++judged;
  }
  if (failures.empty()) return;
  std::string list;
  const auto cap = static_cast<std::size_t>(config().max_listed);
  for (std::size_t i = 0; i < failures.size() && i < cap; ++i) list += "\n  " + failures[i];
  if (failures.size() > cap)
    list += "\n  ... and " + std::to_string(failures.size() - cap) + " more";
  ADD_FAILURE() << failures.size() << " of " << judged << " assets " << what << ":" << list;
}

// The asset's response when it answered 200; other outcomes are StaticAssets.Available's to report.
std::optional<HttpResponse> served(const nlohmann::json& asset, const char* slot = "response") {
  if (!asset.contains(slot)) return std::nullopt;
  auto r = http_response_from_json(asset.at(slot));
  if (r.status != 200) return std::nullopt;
  return r;
}

std::optional<std::string> verdict(const HttpMatcher& matcher, const HttpResponse& r) {
  ::testing::StringMatchResultListener listener;
  if (matcher.MatchAndExplain(r, &listener)) return std::nullopt;
  std::ostringstream expected;
  matcher.DescribeTo(&expected);
  return "expected it " + expected.str() + ", got one " + listener.str();
}

CheckSpec spec(const char* name, const std::string& target, std::vector<std::string> items,
               std::vector<std::string> gathers) {
  return CheckSpec{.suite = "StaticAssets",
                   .name = name,
                   .target = target,
                   .phase = Phase::kPost,
                   .severity = config().severity,
                   .checklist = std::move(items),
                   .gathers = std::move(gathers),
                   .budget = config().policy.budget() * 2};
}

}  // namespace

DEPLOYCHECK_CHECKS(StaticAssets) {
  if (!environment().static_assets) return;
  const auto& c = config();
  const auto cdn = register_gather(GatherSpec{
      .probe = "StaticAssets",
      .target = "cdn",
      .suite = "StaticAssets",
      .policy = c.policy,
      .phase = Phase::kPost,
      .gatherer = [](const Policy& p) {
        return std::pair{
            gather_assets(config().base_url, p, config().sha256 || config().origin_url.has_value()),
            1};
      }});
  const std::string target = "cdn";

  register_check(
      spec("Available", target, {kCollected, kUploaded, kImagesFonts, kServed004}, {cdn}), [cdn] {
        expect_all(cdn, "do not answer 200",
                   [](const nlohmann::json& a) -> std::optional<std::string> {
                     if (a.contains("response_error"))
                       return "no answer: " + a.at("response_error").get<std::string>();
                     const auto r = http_response_from_json(a.at("response"));
                     if (r.status == 200) return std::nullopt;
                     return "HTTP " + std::to_string(r.status) + " (expected 200: is it uploaded?)";
                   });
      });

  register_check(spec("ContentType", target, {kServed004}, {cdn}), [cdn] {
    expect_all(cdn, "have the wrong Content-Type",
               [](const nlohmann::json& a) -> std::optional<std::string> {
                 const auto r = served(a);
                 const auto it = content_types().find(extension(a.at("name")));
                 if (!r || it == content_types().end()) return std::nullopt;
                 const std::string type = r->header("content-type").value_or("");
                 for (const auto& want : it->second) {
                   if (type.rfind(want, 0) == 0) return std::nullopt;
                 }
                 return "Content-Type \"" + type + "\", expected " + it->second.front();
               });
  });

  register_check(spec("SizeMatchesLocal", target, {kUploaded, kInvalidated}, {cdn}), [cdn] {
    expect_all(cdn, "differ in size from the local file",
               [](const nlohmann::json& a) -> std::optional<std::string> {
                 const auto r = served(a);
                 if (!r) return std::nullopt;
                 if (!a.contains("local_size"))
                   return "no local file " + a.at("name").get<std::string>() + " to compare with";
                 return verdict(HasBodySize(a.at("local_size").get<std::uint64_t>()), *r);
               });
  });

  if (c.sha256) {
    register_check(spec("BytesMatchLocal", target, {kInvalidated, kUploaded}, {cdn}), [cdn] {
      expect_all(
          cdn, "serve other bytes than the local file (a stale cache?)",
          [](const nlohmann::json& a) -> std::optional<std::string> {
            const auto r = served(a);
            if (!r || !a.contains("local_sha256")) return std::nullopt;
            // Same size, other bytes: a size difference is SizeMatchesLocal's report.
            if (a.contains("local_size") && r->body_size != a.at("local_size").get<std::uint64_t>())
              return std::nullopt;
            return verdict(BodyMatchesFile(a.at("local_sha256")), *r);
          });
    });
  }

  register_check(spec("CacheControl", target, {kCache}, {cdn}), [cdn] {
    const auto hashed = CacheControlAtLeast(
        std::chrono::duration_cast<std::chrono::seconds>(config().hashed_min_max_age),
        config().hashed_immutable);
    const auto unhashed_bound = config().unhashed_max_max_age;
    expect_all(cdn, "have the wrong Cache-Control",
               [&](const nlohmann::json& a) -> std::optional<std::string> {
                 const auto r = served(a);
                 if (!r) return std::nullopt;
                 if (a.at("hashed").get<bool>()) return verdict(hashed, *r);
                 if (unhashed_bound) {
                   return verdict(
                       CacheControlAtMost(
                           std::chrono::duration_cast<std::chrono::seconds>(*unhashed_bound)),
                       *r);
                 }
                 return std::nullopt;
               });
  });

  if (c.font_origin) {
    register_check(spec("FontCors", target, {kCors, kImagesFonts}, {cdn}), [cdn] {
      const auto allows = AllowsOrigin(*config().font_origin);
      expect_all(cdn, "are fonts another origin may not load",
                 [&](const nlohmann::json& a) -> std::optional<std::string> {
                   const auto r = served(a);
                   if (!r || !is_font(a.at("name"))) return std::nullopt;
                   return verdict(allows, *r);
                 });
    });
  }

  if (!c.compress.empty()) {
    register_check(spec("Compressed", target, {kCache}, {cdn}), [cdn] {
      expect_all(cdn, "are text served uncompressed",
                 [](const nlohmann::json& a) -> std::optional<std::string> {
                   const auto r = served(a, "compressed");
                   if (!r || !a.contains("local_size")) return std::nullopt;
                   if (a.at("local_size").get<long long>() < config().compress_min_size)
                     return std::nullopt;
                   return verdict(
                       HasHeader("content-encoding",
                                 ::testing::AnyOf(::testing::Eq("gzip"), ::testing::Eq("br"))),
                       *r);
                 });
    });
  }

  if (c.expect_count) {
    register_check(spec("Count", target, {kCount, kCollected}, {}), [] {
      std::set<std::string> names;
      for (const auto& a : read_assets()) names.insert(a.logical);
      EXPECT_EQ(static_cast<int>(names.size()), *config().expect_count)
          << manifest_path().string() << " lists " << names.size()
          << " files; the environment file expects " << *config().expect_count
          << ". A file missing from the build, or a stale count?";
    });
  }

  if (!c.critical.empty()) {
    register_check(
        spec("CriticalAssets", target, {kCritical, kOpenApi, kImagesFonts}, {cdn}), [cdn] {
          auto fact = need_fact(cdn);
          if (!fact) return;
          for (const auto& name : config().critical) {
            const nlohmann::json* found = nullptr;
            for (const auto& a : fact->data) {
              if (a.at("logical") == name && a.at("hashed") == true) found = &a;
              if (!found && a.at("logical") == name) found = &a;
            }
            if (!found) {
              ADD_FAILURE() << name << " is not in " << manifest_path().string()
                            << ": was it built and collected?";
              continue;
            }
            const auto r = found->contains("response")
                               ? std::optional(http_response_from_json(found->at("response")))
                               : std::nullopt;
            EXPECT_TRUE(r && r->status == 200)
                << name << " (" << found->at("url").get<std::string>() << ") answered "
                << (r ? "HTTP " + std::to_string(r->status)
                      : found->value("response_error", std::string("nothing")))
                << ", expected 200";
          }
        });
  }

  if (c.origin_url) {
    const auto origin = register_gather(
        GatherSpec{.probe = "StaticAssets",
                   .target = "origin",
                   .suite = "StaticAssets",
                   .policy = c.policy,
                   .phase = Phase::kPost,
                   .gatherer = [](const Policy& p) {
                     return std::pair{gather_assets(*config().origin_url, p, true), 1};
                   }});
    register_check(spec("OriginMatchesCdn", target, {kOrigin, kInvalidated}, {cdn, origin}),
                   [cdn, origin] {
                     auto at_origin = need_fact(origin);
                     if (!at_origin) return;
                     std::map<std::string, std::string> origin_sha;
                     for (const auto& a : at_origin->data) {
                       if (auto r = served(a))
                         origin_sha[a.at("name")] = r->body_sha256.value_or("");
                     }
                     expect_all(cdn, "differ between the CDN and the origin",
                                [&](const nlohmann::json& a) -> std::optional<std::string> {
                                  const auto r = served(a);
                                  if (!r) return std::nullopt;
                                  const auto it = origin_sha.find(a.at("name"));
                                  if (it == origin_sha.end())
                                    return "the origin does not serve it (the CDN does)";
                                  if (it->second == r->body_sha256.value_or(""))
                                    return std::nullopt;
                                  return "the CDN serves SHA-256 " + r->body_sha256.value_or("?") +
                                         ", the origin " + it->second;
                                });
                   });
  }
}

}  // namespace deploycheck
