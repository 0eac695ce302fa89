#pragma once
// probes/http: one HTTP(S) request through libcurl, with its facts and phase timings. Knows
// nothing about pass or fail: a 503 is a fact; only "could not reach it" is an error.
//
// (The Smoke suite's issue replaces this with libcurl's multi interface for many requests in
// flight; the facts it returns stay the same shape.)
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "fixtures/units.hpp"

namespace deploycheck {

struct HttpRequest {
  std::string url;
  std::optional<std::string> ca_file;
  bool verify = true;  // false: read what an untrusted server sends (its headers), trust judged elsewhere
  std::size_t max_body = 64 * 1024;
};

struct HttpTimings {  // milliseconds from the start of the request
  double dns = 0, connect = 0, tls = 0, first_byte = 0, total = 0;
};

struct HttpResponse {
  std::string url;
  long status = 0;
  std::string http_version;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;                                 // at most max_body bytes
  bool body_truncated = false;
  HttpTimings timings;
  std::optional<std::string> tls_error;  // answered, but its certificate was not trusted
};

// One attempt bounded by `timeout`; throws Unreachable when the target does not answer.
HttpResponse fetch(const HttpRequest& request, Duration timeout);

nlohmann::json to_json(const HttpResponse& r);
HttpResponse http_response_from_json(const nlohmann::json& j);

}  // namespace deploycheck
