#pragma once
// probes/http: HTTP(S) requests through libcurl, with their facts and phase timings. Knows
// nothing about pass or fail: a 503 is a fact; only "could not reach it" is an error.
//
// One request: fetch(). Many: fetch_many(), on libcurl's multi interface — every request in
// flight at once on a few connections per host (HTTP/2 multiplexing where the server offers it,
// keep-alive otherwise), each bounded by its own deadline.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fixtures/units.hpp"

namespace deploycheck {

struct HttpRequest {
  std::string url;
  std::string method = "GET";  // HEAD asks for no body; anything else is sent as written
  // Sent as given, after libcurl's own. May hold credentials: never copied into facts.
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> body;  // request body (e.g. JSON); needs a Content-Type header
  // Name pins like curl's --resolve "host:port:address": reach the new (blue) environment
  // under its public name before DNS moves.
  std::vector<std::string> resolve;
  bool follow_redirects = false;  // each hop is recorded in HttpResponse::hops
  std::optional<std::string> ca_file;
  bool verify =
      true;  // false: read what an untrusted server sends (its headers), trust judged elsewhere
  std::size_t max_body = 64 * 1024;  // bytes kept; the rest is counted and hashed, not kept
  bool sha256 = false;               // hash the whole body (HttpResponse::body_sha256)
};

struct HttpTimings {  // milliseconds from the start of the request
  double dns = 0, connect = 0, tls = 0, first_byte = 0, total = 0;
};

// One response that redirected on the way to the final one.
struct HttpHop {
  std::string url;
  long status = 0;
  std::string location;  // as the server wrote it
};

struct HttpResponse {
  std::string url;  // the URL asked for (a printable form, when the caller replaces it)
  std::string method = "GET";
  long status = 0;
  std::string http_version;
  std::multimap<std::string, std::string> headers;  // the final response's; names lower-cased
  std::string body;                                 // at most max_body bytes
  bool body_truncated = false;
  std::uint64_t body_size = 0;  // every byte received, kept or not (still encoded, if it was)
  std::optional<std::string> body_sha256;  // lower-case hex, when asked for
  std::vector<HttpHop> hops;               // redirects followed, in order
  std::string final_url;  // where the last response came from, when redirects were followed
  HttpTimings timings;
  std::optional<std::string> tls_error;  // answered, but its certificate was not trusted

  // The first value of a header (name in lower case), if present.
  std::optional<std::string> header(const std::string& name) const;
};

// One attempt bounded by `timeout`; throws Unreachable when the target does not answer.
HttpResponse fetch(const HttpRequest& request, Duration timeout);

// One request's outcome among many: a response, or why there was none.
struct HttpOutcome {
  std::optional<HttpResponse> response;
  std::string error;  // set when the target did not answer within the deadline
};

struct MultiOptions {
  long max_host_connections = 6;  // per host:port; HTTP/2 multiplexes on top of these
  // Added to libcurl at once (a request's deadline starts there). Each one costs at least a
  // round trip, so this bounds throughput at max_in_flight / RTT: 1,024 keeps 10,000 assets at
  // 50 ms RTT near half a second of waiting (nginx allows 128 streams per HTTP/2 connection).
  std::size_t max_in_flight = 1024;
};

// Every request once, concurrently; each bounded by `timeout` from the moment it starts.
// Results are in the order of `requests`.
std::vector<HttpOutcome> fetch_many(const std::vector<HttpRequest>& requests, Duration timeout,
                                    const MultiOptions& options = {});

// Requests one after another on kept connections: a smoke flow's steps (register, login, me)
// cost one round trip each after the first connection, as a browser's would. Not thread-safe.
class HttpSession {
 public:
  HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;
  ~HttpSession();
  // As ::fetch(), on this session's connections.
  HttpResponse fetch(const HttpRequest& request, Duration timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

nlohmann::json to_json(const HttpResponse& r);
HttpResponse http_response_from_json(const nlohmann::json& j);

}  // namespace deploycheck
