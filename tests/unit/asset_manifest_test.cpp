// The three kinds of asset manifest the StaticAssets suite reads, from real-shaped files.
#include "suites/asset_manifest.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace deploycheck {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class AssetManifest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/asset-manifest-test.XXXXXX";
    dir_ = mkdtemp(dir);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(AssetManifest, ReadsDjangosStaticfilesJson) {
  const auto path =
      write("staticfiles.json",
            R"({"paths": {"web/css/app.css": "web/css/app.ba18b42c0710.css"}, "version": "1.0"})");
  EXPECT_THAT(read_asset_manifest(ManifestKind::kDjango, path, false),
              ElementsAre(Asset{"web/css/app.css", "web/css/app.ba18b42c0710.css", true}));
  EXPECT_THAT(read_asset_manifest(ManifestKind::kDjango, path, true),
              ElementsAre(Asset{"web/css/app.css", "web/css/app.ba18b42c0710.css", true},
                          Asset{"web/css/app.css", "web/css/app.css", false}));
}

TEST_F(AssetManifest, ReadsViteAndWebpackManifests) {
  const auto vite = write("dist/.vite/manifest.json", R"({
    "index.html": {"file": "assets/index-4f2a9c1b.js", "css": ["assets/index-77aa31bc.css"],
                   "assets": ["assets/logo-1d2e3f4a.svg"], "isEntry": true},
    "src/lazy.ts": {"file": "assets/lazy-9e8d7c6b.js", "css": ["assets/index-77aa31bc.css"]}})");
  const auto assets = read_asset_manifest(ManifestKind::kVite, vite, false);
  ASSERT_EQ(assets.size(), 4u);  // the shared CSS once
  EXPECT_EQ(assets[0], (Asset{"index.html", "assets/index-4f2a9c1b.js", true}));
  EXPECT_EQ(assets[2], (Asset{"src/lazy.ts", "assets/lazy-9e8d7c6b.js", true}));  // by name
  const auto webpack =
      write("manifest.json", R"({"main.js": "main.3b9e1c4d.js", "robots.txt": "robots.txt"})");
  EXPECT_THAT(read_asset_manifest(ManifestKind::kVite, webpack, false),
              ElementsAre(Asset{"main.js", "main.3b9e1c4d.js", true},
                          Asset{"robots.txt", "robots.txt", false}));
}

TEST_F(AssetManifest, ListsEveryFileOfADirectory) {
  write("site/css/main.css", "body{}");
  write("site/js/app.0123abcd.js", "1");
  EXPECT_THAT(read_asset_manifest(ManifestKind::kDirectory, dir_ / "site", false),
              ElementsAre(Asset{"css/main.css", "css/main.css", false},
                          Asset{"js/app.0123abcd.js", "js/app.0123abcd.js", true}));
}

TEST_F(AssetManifest, RefusesWhatIsNotAManifest) {
  const auto wrong = write("staticfiles.json", R"({"files": []})");
  try {
    read_asset_manifest(ManifestKind::kDjango, wrong, false);
    FAIL() << "accepted a file without paths";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("has no \"paths\" object"));
  }
  EXPECT_THROW(read_asset_manifest(ManifestKind::kDjango, dir_ / "missing.json", false),
               std::runtime_error);
}

TEST(LooksHashed, KnowsDjangoViteAndWebpackHashes) {
  EXPECT_TRUE(looks_hashed("web/css/app.ba18b42c0710.css"));
  EXPECT_TRUE(looks_hashed("assets/index-4f2a9c1b.js"));
  EXPECT_TRUE(looks_hashed("main.3b9e1c4d.js"));
  EXPECT_FALSE(looks_hashed("web/css/app.css"));
  EXPECT_FALSE(looks_hashed("robots.txt"));
  EXPECT_FALSE(looks_hashed("js/jquery.min.js"));
}

}  // namespace
}  // namespace deploycheck
