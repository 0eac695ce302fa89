#pragma once
// Backup listings: which backups a source holds (name, size, modification time) and what their
// first bytes say about the format. Facts only — whether a backup is recent, big or encrypted
// enough is matchers/backup_matchers' business.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deploycheck::backups {

// What the first bytes of a backup say it is.
enum class Format {
  kNotRead,     // the source cannot show content (a command listing)
  kEmpty,       // zero bytes
  kPgCustom,    // "PGDMP": pg_dump -Fc, readable by pg_restore, not encrypted
  kGzip,        // 1f 8b: pg_dump | gzip — compressed, readable by anyone
  kZstd,        // 28 b5 2f fd
  kBzip2,       // "BZh"
  kXz,          // fd "7zXZ" 00
  kPlainSql,    // text: pg_dump's plain format ("--", "SET", "CREATE", ...)
  kOpensslEnc,  // "Salted__": openssl enc
  kAge,         // "age-encryption.org/v1"
  kGpg,         // an OpenPGP message, binary or ASCII-armoured
  kUnknown,     // none of the above
};

const char* to_string(Format f);
std::optional<Format> format_from_string(std::string_view text);
// Recognises the format from a backup's first bytes (kFirstBytes of them are enough).
Format detect_format(std::string_view first_bytes);
constexpr std::size_t kFirstBytes = 32;
// Formats that are encrypted at rest (the content itself, not the disk or bucket under it).
bool is_encrypted(Format f);

struct BackupObject {
  std::string name;  // file name, object key or the command's name column
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // Unix seconds, UTC
  Format format = Format::kNotRead;
  std::string first_bytes_hex;  // up to kFirstBytes, for the operator
  // S3: the object's x-amz-server-side-encryption header (AES256, aws:kms), when present.
  std::optional<std::string> server_side_encryption;
};

struct Listing {
  std::string source;                 // printable: a directory, bucket/prefix URL, a command
  std::string kind;                   // local, s3, command
  std::int64_t listed_at = 0;         // Unix seconds when the listing was taken
  std::vector<BackupObject> backups;  // newest first
};

nlohmann::json to_json(const Listing& listing);
Listing listing_from_json(const nlohmann::json& j);
void sort_newest_first(std::vector<BackupObject>& backups);
std::string hex(std::string_view bytes);

// Regular files in `directory` whose names match `glob` (fnmatch), newest first, with their
// first bytes. Throws Unreachable when the directory cannot be read.
Listing list_local(const std::filesystem::path& directory, const std::string& glob);

// Parses a listing command's output: one backup per line, "<size> <mtime> <name>", the mtime as
// Unix seconds (fractions allowed) or ISO 8601 UTC ("2026-11-23T02:00:00Z"). Blank lines and
// lines starting with '#' are skipped. Throws std::invalid_argument naming the line otherwise.
std::vector<BackupObject> parse_listing_output(std::string_view text);

// "2026-11-23T02:00:00Z" (also with fractions or "+00:00") to Unix seconds.
std::optional<std::int64_t> parse_iso8601_utc(std::string_view text);
std::string format_iso8601_utc(std::int64_t unix_seconds);

}  // namespace deploycheck::backups
