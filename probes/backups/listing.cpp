#include "probes/backups/listing.hpp"

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "probes/policy.hpp"

namespace deploycheck::backups {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::pair<Format, const char*>, 12> kNames{{
    {Format::kNotRead, "not read"},
    {Format::kEmpty, "empty"},
    {Format::kPgCustom, "PostgreSQL custom archive (PGDMP)"},
    {Format::kGzip, "gzip"},
    {Format::kZstd, "zstd"},
    {Format::kBzip2, "bzip2"},
    {Format::kXz, "xz"},
    {Format::kPlainSql, "plain SQL"},
    {Format::kOpensslEnc, "openssl enc (Salted__)"},
    {Format::kAge, "age"},
    {Format::kGpg, "OpenPGP (gpg)"},
    {Format::kUnknown, "unknown"},
}};

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// pg_dump's plain format and hand-written dumps start with a comment or a statement.
bool looks_like_sql(std::string_view bytes) {
  for (unsigned char c : bytes) {
    if (c < 0x09 || (c > 0x0d && c < 0x20) || c == 0x7f) return false;  // binary
  }
  const auto first = bytes.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return false;
  const auto rest = bytes.substr(first);
  for (std::string_view word : {"--", "/*", "SET ", "SELECT ", "CREATE ", "BEGIN", "\\connect"}) {
    if (starts_with(rest, word)) return true;
  }
  return false;
}

// An OpenPGP message: ASCII armour, or a binary packet whose tag is a public-key-encrypted
// session key (1), symmetric-key-encrypted session key (3), compressed data (8) or an encrypted
// data packet (9, 18) — old or new packet format.
bool looks_like_openpgp(std::string_view bytes) {
  if (starts_with(bytes, "-----BEGIN PGP MESSAGE-----")) return true;
  if (bytes.empty()) return false;
  const auto b = static_cast<unsigned char>(bytes[0]);
  if ((b & 0x80) == 0) return false;
  const int tag = (b & 0x40) ? (b & 0x3f) : ((b >> 2) & 0x0f);
  return tag == 1 || tag == 3 || tag == 9 || tag == 18;
}

std::string read_first_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Unreachable("cannot open " + path.string() + ": " + std::strerror(errno));
  std::string bytes(kFirstBytes, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

}  // namespace

const char* to_string(Format f) {
  for (const auto& [format, name] : kNames) {
    if (format == f) return name;
  }
  return "unknown";
}

std::optional<Format> format_from_string(std::string_view text) {
  for (const auto& [format, name] : kNames) {
    if (text == name) return format;
  }
  return std::nullopt;
}

Format detect_format(std::string_view b) {
  if (b.empty()) return Format::kEmpty;
  if (starts_with(b, "PGDMP")) return Format::kPgCustom;
  if (starts_with(b, "\x1f\x8b")) return Format::kGzip;
  if (starts_with(b, "\x28\xb5\x2f\xfd")) return Format::kZstd;
  if (starts_with(b, "BZh")) return Format::kBzip2;
  if (starts_with(b, std::string_view("\xfd"
                                      "7zXZ\0",
                                      6)))
    return Format::kXz;
  if (starts_with(b, "Salted__")) return Format::kOpensslEnc;
  if (starts_with(b, "age-encryption.org/v1")) return Format::kAge;
  if (looks_like_openpgp(b)) return Format::kGpg;
  if (looks_like_sql(b)) return Format::kPlainSql;
  return Format::kUnknown;
}

bool is_encrypted(Format f) {
  return f == Format::kOpensslEnc || f == Format::kAge || f == Format::kGpg;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

void sort_newest_first(std::vector<BackupObject>& backups) {
  std::stable_sort(backups.begin(), backups.end(),
                   [](const BackupObject& a, const BackupObject& b) {
                     return a.mtime != b.mtime ? a.mtime > b.mtime : a.name > b.name;
                   });
}

nlohmann::json to_json(const Listing& listing) {
  nlohmann::json backups = nlohmann::json::array();
  for (const auto& b : listing.backups) {
    nlohmann::json j{{"name", b.name},
                     {"size", b.size},
                     {"mtime", b.mtime},
                     {"format", to_string(b.format)},
                     {"first_bytes", b.first_bytes_hex}};
    if (b.server_side_encryption) j["server_side_encryption"] = *b.server_side_encryption;
    backups.push_back(std::move(j));
  }
  return {{"source", listing.source},
          {"kind", listing.kind},
          {"listed_at", listing.listed_at},
          {"backups", backups}};
}

Listing listing_from_json(const nlohmann::json& j) {
  Listing listing;
  listing.source = j.at("source");
  listing.kind = j.at("kind");
  listing.listed_at = j.at("listed_at");
  for (const auto& b : j.at("backups")) {
    BackupObject o;
    o.name = b.at("name");
    o.size = b.at("size");
    o.mtime = b.at("mtime");
    o.format = format_from_string(b.at("format").get<std::string>()).value_or(Format::kUnknown);
    o.first_bytes_hex = b.at("first_bytes");
    if (b.contains("server_side_encryption"))
      o.server_side_encryption = b.at("server_side_encryption");
    listing.backups.push_back(std::move(o));
  }
  return listing;
}

Listing list_local(const fs::path& directory, const std::string& glob) {
  Listing listing{.source = directory.string(), .kind = "local", .listed_at = std::time(nullptr)};
  std::error_code ec;
  fs::directory_iterator it(directory, ec);
  if (ec) {
    throw Unreachable("cannot list the backup directory " + directory.string() + ": " +
                      ec.message());
  }
  for (const auto& entry : it) {
    const auto name = entry.path().filename().string();
    if (::fnmatch(glob.c_str(), name.c_str(), FNM_PERIOD) != 0) continue;
    if (!entry.is_regular_file(ec)) continue;
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0) {
      throw Unreachable("cannot stat " + entry.path().string() + ": " + std::strerror(errno));
    }
    const auto first = read_first_bytes(entry.path());
    listing.backups.push_back(BackupObject{.name = name,
                                           .size = static_cast<std::uint64_t>(st.st_size),
                                           .mtime = st.st_mtim.tv_sec,
                                           .format = detect_format(first),
                                           .first_bytes_hex = hex(first)});
  }
  sort_newest_first(listing.backups);
  return listing;
}

std::optional<std::int64_t> parse_iso8601_utc(std::string_view text) {
  std::tm tm{};
  const std::string s(text);
  const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) end = ::strptime(s.c_str(), "%Y-%m-%d %H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  if (*end == '.') {
    ++end;
    while (*end >= '0' && *end <= '9') ++end;
  }
  const std::string_view zone(end);
  if (zone != "Z" && zone != "+00:00" && zone != "+0000" && zone != "UTC") return std::nullopt;
  return static_cast<std::int64_t>(::timegm(&tm));
}

std::string format_iso8601_utc(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::vector<BackupObject> parse_listing_output(std::string_view text) {
  std::vector<BackupObject> backups;
  std::istringstream in{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::istringstream fields(line.substr(first));
    std::string size_text, mtime_text;
    fields >> size_text >> mtime_text;
    std::string name;
    std::getline(fields >> std::ws, name);
    auto bad = [&](const std::string& why) {
      return std::invalid_argument(
          "line " + std::to_string(number) + " '" + line + "': " + why +
          " (expected \"<size in bytes> <mtime> <name>\", the mtime as Unix "
          "seconds or ISO 8601 UTC)");
    };
    BackupObject o;
    auto [p, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), o.size);
    if (ec != std::errc{} || p != size_text.data() + size_text.size())
      throw bad("the size is not a whole number");
    if (auto iso = parse_iso8601_utc(mtime_text)) {
      o.mtime = *iso;
    } else {
      char* end = nullptr;
      const double seconds = std::strtod(mtime_text.c_str(), &end);
      if (mtime_text.empty() || *end != '\0' || !std::isfinite(seconds) || seconds < 0) {
        throw bad("the mtime is neither Unix seconds nor ISO 8601 UTC");
      }
      o.mtime = static_cast<std::int64_t>(seconds);
    }
    if (name.empty()) throw bad("no name");
    o.name = name;
    backups.push_back(std::move(o));
  }
  sort_newest_first(backups);
  return backups;
}

}  // namespace deploycheck::backups
