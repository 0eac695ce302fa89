#pragma once
// A minimal S3 client for backup listings: ListObjectsV2, a ranged GET per object (the HEAD
// headers — x-amz-server-side-encryption — plus the first bytes), and a download for
// pg_restore. Path-style URLs (endpoint/bucket/key), so S3-compatible servers work as well as AWS.
//
// Signed with libcurl's CURLOPT_AWS_SIGV4 (libcurl dlopen()ed: probes/http/curl_api). libcurl
// 7.88 signs the query string exactly as written and adds no x-amz-content-sha256, so the query
// is built here in canonical form (sorted, RFC 3986-encoded, `key=` for an empty value) and the
// header is added. tests/unit/backups_s3_test.cpp proves the signature equal to botocore's.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fixtures/secret.hpp"
#include "fixtures/units.hpp"
#include "probes/backups/listing.hpp"

namespace deploycheck::backups {

struct S3Location {
  std::string endpoint;  // http(s)://host[:port], no trailing slash needed
  std::string bucket;
  std::string prefix;
  std::string region = "us-east-1";
  Secret access_key_id;
  Secret secret_access_key;
  std::optional<std::string> ca_file;
  // "s3://bucket/prefix at endpoint": no credentials.
  std::string display() const;
};

using Query = std::vector<std::pair<std::string, std::string>>;

// RFC 3986 unreserved characters stay, everything else is %XX (upper-case); '/' stays when
// `keep_slash` (object keys in paths).
std::string uri_encode(std::string_view text, bool keep_slash);
// SigV4's canonical query string: encoded, sorted by name then value, "name=" for empty values.
std::string canonical_query(Query query);

struct S3Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // cut at max_body
  std::vector<std::string> sent_headers;       // the request's header lines, for the signing test
};

struct S3Request {
  std::string method = "GET";
  std::string key;  // object key; empty: the bucket itself
  Query query;
  std::vector<std::string> headers;  // extra "Name: value" lines
  std::size_t max_body = 8 << 20;
  const std::filesystem::path* download_to = nullptr;  // write the body here instead
};

// One signed request. Throws Unreachable when the endpoint does not answer within `timeout`.
S3Response s3_request(const S3Location& location, const S3Request& request, Duration timeout);

// Every object under the prefix, newest first, each with its first bytes and SSE header (one
// ranged GET per object; `details = false` skips them: names, sizes and times only). Throws
// Unreachable (naming the S3 error code and what to do) when the bucket cannot be listed.
Listing list_s3(const S3Location& location, Duration timeout, bool details = true);
// The object `key` (a name from list_s3) into `to`.
void download_s3(const S3Location& location, const std::string& key,
                 const std::filesystem::path& to, Duration timeout);

}  // namespace deploycheck::backups
