#include "suites/asset_manifest.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <stdexcept>

namespace deploycheck {

namespace fs = std::filesystem;

bool looks_hashed(const std::string& name) {
  static const std::regex hash(R"([.-]([0-9a-f]{8,}|[A-Za-z0-9_-]{8})\.[A-Za-z0-9]+$)");
  const auto slash = name.rfind('/');
  return std::regex_search(slash == std::string::npos ? name : name.substr(slash + 1), hash);
}

std::vector<Asset> read_asset_manifest(ManifestKind kind, const fs::path& path,
                                       bool with_unhashed) {
  std::vector<Asset> assets;
  if (kind == ManifestKind::kDirectory) {
    if (!fs::is_directory(path)) throw std::runtime_error(path.string() + " is not a directory");
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      if (!entry.is_regular_file()) continue;
      const std::string name = fs::relative(entry.path(), path).generic_string();
      assets.push_back({name, name, looks_hashed(name)});
    }
  } else {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read the manifest " + path.string());
    const auto manifest = nlohmann::json::parse(in, nullptr, false);
    if (manifest.is_discarded() || !manifest.is_object()) {
      throw std::runtime_error(path.string() + " is not a JSON object");
    }
    if (kind == ManifestKind::kDjango) {
      if (!manifest.contains("paths") || !manifest.at("paths").is_object()) {
        throw std::runtime_error(path.string() +
                                 " has no \"paths\" object: is it Django's staticfiles.json?");
      }
      for (const auto& [logical, hashed] : manifest.at("paths").items()) {
        assets.push_back({logical, hashed.get<std::string>(), true});
        // Django also publishes the unhashed copy; only the short-cache rule judges it.
        if (with_unhashed) assets.push_back({logical, logical, false});
      }
    } else {
      // Vite: {"src/main.ts": {"file": "assets/main-4f2a9c1b.js", "css": [...], "assets": [...]}};
      // webpack's manifest plugin: {"main.js": "main.3b9e1c.js"}.
      std::set<std::string> seen;
      for (const auto& [logical, chunk] : manifest.items()) {
        auto add = [&](const std::string& file) {
          if (seen.insert(file).second) assets.push_back({logical, file, looks_hashed(file)});
        };
        if (chunk.is_string()) add(chunk.get<std::string>());
        if (!chunk.is_object()) continue;
        if (chunk.contains("file")) add(chunk.at("file").get<std::string>());
        for (const char* list : {"css", "assets"}) {
          if (chunk.contains(list)) {
            for (const auto& f : chunk.at(list)) add(f.get<std::string>());
          }
        }
      }
    }
  }
  std::sort(assets.begin(), assets.end(),
            [](const Asset& a, const Asset& b) { return a.name < b.name; });
  return assets;
}

}  // namespace deploycheck
