#pragma once
// The list of published static assets, read from a build's manifest: Django's staticfiles.json
// (ManifestStaticFilesStorage), a Vite or webpack manifest.json, or a directory of files.
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "fixtures/static_assets_config.hpp"

namespace deploycheck {

struct Asset {
  std::string logical;  // the name the code uses (web/css/app.css)
  std::string name;     // the published name, relative to base_url (web/css/app.ba18b42c0710.css)
  bool hashed = false;  // a content hash in the name: cacheable forever
  bool operator==(const Asset&) const = default;
};
inline void PrintTo(const Asset& a, std::ostream* os) {
  *os << a.logical << " -> " << a.name << (a.hashed ? " (hashed)" : "");
}

// Sorted by published name. Django's unhashed copies are listed too when `with_unhashed`.
// Throws std::runtime_error naming the file when it is missing or not such a manifest.
std::vector<Asset> read_asset_manifest(ManifestKind kind, const std::filesystem::path& path,
                                       bool with_unhashed);

// Django's ".<12 hex>.", webpack's and Vite's "[.-]<8 or more chars>." before the extension.
bool looks_hashed(const std::string& name);

}  // namespace deploycheck
