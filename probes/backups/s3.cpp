#include "probes/backups/s3.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <memory>
#include <pugixml.hpp>

#include "probes/http/curl_api.hpp"
#include "probes/policy.hpp"

namespace deploycheck::backups {
namespace {

// SHA-256 of an empty payload: every request here (GET, HEAD) has none.
constexpr const char* kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct CurlDeleter {
  void operator()(CURL* c) const { curl_api().easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_api().slist_free_all(l); }
};
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

struct Sink {
  S3Response* response;
  std::size_t max_body;
  std::FILE* file = nullptr;
  bool enough = false;  // stopped on purpose after max_body bytes (a server ignoring Range)
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->file != nullptr) return std::fwrite(data, 1, n, sink->file);
  auto& body = sink->response->body;
  const std::size_t room = sink->max_body > body.size() ? sink->max_body - body.size() : 0;
  body.append(data, std::min(n, room));
  if (n > room) {
    sink->enough = true;
    return 0;  // aborts the transfer: the rest is not needed
  }
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* response = static_cast<S3Response*>(user);
  std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) response->headers.clear();
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t\r\n");
    response->headers[name] =
        first == std::string::npos ? "" : value.substr(first, last - first + 1);
  }
  return size * count;
}

int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
  if (type != CURLINFO_HEADER_OUT) return 0;
  auto* response = static_cast<S3Response*>(user);
  std::string text(data, size);
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find("\r\n", start);
    if (end == std::string::npos) end = text.size();
    if (end > start) response->sent_headers.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return 0;
}

std::string base_url(const S3Location& l) {
  std::string url = l.endpoint;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/" + uri_encode(l.bucket, false);
}

// "<Code>AccessDenied</Code><Message>...</Message>" of an S3 error body, or the status.
std::string s3_error(const S3Response& r) {
  pugi::xml_document doc;
  if (doc.load_string(r.body.c_str())) {
    const auto error = doc.child("Error");
    if (error) {
      return std::string(error.child_value("Code")) + ": " + error.child_value("Message");
    }
  }
  return "HTTP " + std::to_string(r.status);
}

}  // namespace

std::string S3Location::display() const {
  return "s3://" + bucket + "/" + prefix + " at " + endpoint;
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string canonical_query(Query query) {
  for (auto& [k, v] : query) {
    k = uri_encode(k, false);
    v = uri_encode(v, false);
  }
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

S3Response s3_request(const S3Location& location, const S3Request& request, Duration timeout) {
  const CurlApi& api = curl_api();
  std::unique_ptr<CURL, CurlDeleter> curl(api.easy_init());
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  CURL* c = curl.get();
  S3Response response;
  std::unique_ptr<std::FILE, FileCloser> file;
  if (request.download_to != nullptr) {
    file.reset(std::fopen(request.download_to->c_str(), "wb"));
    if (!file) throw std::runtime_error("cannot write " + request.download_to->string());
  }
  Sink sink{&response, request.max_body, file.get()};

  std::string url = base_url(location);
  if (!request.key.empty()) url += "/" + uri_encode(request.key, true);
  const std::string query = canonical_query(request.query);
  if (!query.empty()) url += "?" + query;

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* next = api.slist_append(headers.get(), line.c_str());
    if (next == nullptr) throw std::bad_alloc();
    headers.release();
    headers.reset(next);
  };
  add_header(std::string("x-amz-content-sha256: ") + kEmptyPayloadSha256);
  for (const auto& h : request.headers) add_header(h);

  const std::string sigv4 = "aws:amz:" + location.region + ":s3";
  char error[CURL_ERROR_SIZE] = "";
  api.easy_setopt(c, CURLOPT_URL, url.c_str());
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
  api.easy_setopt(c, CURLOPT_USERNAME, location.access_key_id.reveal().c_str());
  api.easy_setopt(c, CURLOPT_PASSWORD, location.secret_access_key.reveal().c_str());
  api.easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  api.easy_setopt(c, CURLOPT_USERAGENT, "deploycheck/0.1");
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  api.easy_setopt(c, CURLOPT_HEADERDATA, &response);
  api.easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
  api.easy_setopt(c, CURLOPT_DEBUGDATA, &response);
  api.easy_setopt(c, CURLOPT_VERBOSE, 1L);
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  if (location.ca_file) api.easy_setopt(c, CURLOPT_CAINFO, location.ca_file->c_str());
  if (request.method == "HEAD") {
    api.easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode code = api.easy_perform(c);
  if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && sink.enough)) {
    const std::string detail = *error ? error : api.easy_strerror(code);
    throw Unreachable(location.endpoint + ": " +
                      redact(detail, location.secret_access_key.reveal()));
  }
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Listing list_s3(const S3Location& location, Duration timeout, bool details) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    const auto d =
        std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
    if (d <= Duration::zero()) {
      throw Unreachable(location.display() + ": listing did not finish within " +
                        format_duration(timeout));
    }
    return d;
  };
  Listing listing{.source = location.display(), .kind = "s3", .listed_at = std::time(nullptr)};
  std::string token;
  do {
    S3Request list{.query = {{"list-type", "2"}, {"prefix", location.prefix}}};
    if (!token.empty()) list.query.emplace_back("continuation-token", token);
    const auto r = s3_request(location, list, left());
    if (r.status != 200) {
      throw Unreachable(
          "cannot list " + location.display() + ": " + s3_error(r) +
          ". Check the bucket, prefix, region and that the credentials may s3:ListBucket.");
    }
    pugi::xml_document doc;
    if (!doc.load_string(r.body.c_str())) {
      throw Unreachable(location.display() +
                        " answered ListObjectsV2 with something that is not XML");
    }
    const auto result = doc.child("ListBucketResult");
    for (const auto& object : result.children("Contents")) {
      BackupObject o;
      o.name = object.child_value("Key");
      if (o.name.empty() || o.name.back() == '/') continue;  // "directory" markers
      o.size = std::strtoull(object.child_value("Size"), nullptr, 10);
      o.mtime = parse_iso8601_utc(object.child_value("LastModified")).value_or(0);
      listing.backups.push_back(std::move(o));
    }
    token = std::string(result.child_value("IsTruncated")) == "true"
                ? result.child_value("NextContinuationToken")
                : "";
  } while (!token.empty());

  // HEAD's headers and the first bytes in one request per object.
  for (auto& o : listing.backups) {
    if (!details) break;
    S3Request get{.key = o.name,
                  .headers = {"Range: bytes=0-" + std::to_string(kFirstBytes - 1)},
                  .max_body = kFirstBytes};
    const auto r = s3_request(location, get, left());
    if (r.status != 200 && r.status != 206) {
      throw Unreachable("cannot read " + o.name + " in " + location.display() + ": " + s3_error(r) +
                        ". Check that the credentials may s3:GetObject.");
    }
    const auto body = r.body.substr(0, kFirstBytes);
    o.format = detect_format(body);
    o.first_bytes_hex = hex(body);
    if (auto it = r.headers.find("x-amz-server-side-encryption"); it != r.headers.end()) {
      o.server_side_encryption = it->second;
    }
  }
  sort_newest_first(listing.backups);
  return listing;
}

void download_s3(const S3Location& location, const std::string& key,
                 const std::filesystem::path& to, Duration timeout) {
  S3Request get{.key = key, .download_to = &to};
  const auto r = s3_request(location, get, timeout);
  if (r.status != 200) {
    std::filesystem::remove(to);
    throw Unreachable("cannot download " + key + " from " + location.display() + ": HTTP " +
                      std::to_string(r.status));
  }
}

}  // namespace deploycheck::backups
