#include "probes/http/http_probe.hpp"

#include <algorithm>
#include <memory>

#include "probes/http/curl_api.hpp"
#include "probes/policy.hpp"

namespace deploycheck {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_api().easy_cleanup(c); }
};

struct Sink {
  HttpResponse* response;
  std::size_t max_body;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  auto& body = sink->response->body;
  const std::size_t room = sink->max_body > body.size() ? sink->max_body - body.size() : 0;
  body.append(data, std::min(n, room));
  if (n > room) sink->response->body_truncated = true;
  return n;  // keep reading so timings cover the whole response
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) response->headers.clear();  // a new response (redirect, 100)
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t\r\n");
    value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
    response->headers.emplace(std::move(name), std::move(value));
  }
  return size * count;
}

double millis(CURL* curl, CURLINFO what) {
  curl_off_t us = 0;
  curl_api().easy_getinfo(curl, what, &us);
  return static_cast<double>(us) / 1000.0;
}

bool is_unreachable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

}  // namespace

HttpResponse fetch(const HttpRequest& request, Duration timeout) {
  const CurlApi& api = curl_api();
  std::unique_ptr<CURL, CurlDeleter> curl(api.easy_init());
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  HttpResponse response;
  response.url = request.url;
  Sink sink{&response, request.max_body};
  char error[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  api.easy_setopt(c, CURLOPT_URL, request.url.c_str());
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  api.easy_setopt(c, CURLOPT_HEADERDATA, &response);
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  api.easy_setopt(c, CURLOPT_USERAGENT, "deploycheck/0.1");
  if (request.ca_file) api.easy_setopt(c, CURLOPT_CAINFO, request.ca_file->c_str());
  if (!request.verify) {
    api.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    api.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  const CURLcode code = api.easy_perform(c);
  if (code == CURLE_PEER_FAILED_VERIFICATION) {
    response.tls_error = std::string(api.easy_strerror(code)) + ": " + error;
  } else if (code != CURLE_OK) {
    const std::string detail = *error ? error : api.easy_strerror(code);
    if (is_unreachable(code)) throw Unreachable(detail);
    throw Unreachable("request failed: " + detail);
  }
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  long version = 0;
  api.easy_getinfo(c, CURLINFO_HTTP_VERSION, &version);
  response.http_version = version == CURL_HTTP_VERSION_2_0 ? "2"
                          : version == CURL_HTTP_VERSION_3 ? "3"
                                                           : "1.1";
  response.timings =
      HttpTimings{millis(c, CURLINFO_NAMELOOKUP_TIME_T), millis(c, CURLINFO_CONNECT_TIME_T),
                  millis(c, CURLINFO_APPCONNECT_TIME_T), millis(c, CURLINFO_STARTTRANSFER_TIME_T),
                  millis(c, CURLINFO_TOTAL_TIME_T)};
  return response;
}

nlohmann::json to_json(const HttpResponse& r) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [k, v] : r.headers) headers.push_back({k, v});
  nlohmann::json j{{"url", r.url},
                   {"status", r.status},
                   {"http_version", r.http_version},
                   {"headers", headers},
                   {"body", r.body},
                   {"body_truncated", r.body_truncated},
                   {"timings_ms",
                    {{"dns", r.timings.dns},
                     {"connect", r.timings.connect},
                     {"tls", r.timings.tls},
                     {"first_byte", r.timings.first_byte},
                     {"total", r.timings.total}}}};
  if (r.tls_error) j["tls_error"] = *r.tls_error;
  return j;
}

HttpResponse http_response_from_json(const nlohmann::json& j) {
  HttpResponse r;
  r.url = j.at("url");
  r.status = j.at("status");
  r.http_version = j.at("http_version");
  for (const auto& h : j.at("headers")) r.headers.emplace(h.at(0), h.at(1));
  r.body = j.at("body");
  r.body_truncated = j.at("body_truncated");
  const auto& t = j.at("timings_ms");
  r.timings =
      HttpTimings{t.at("dns"), t.at("connect"), t.at("tls"), t.at("first_byte"), t.at("total")};
  if (j.contains("tls_error")) r.tls_error = j.at("tls_error").get<std::string>();
  return r;
}

}  // namespace deploycheck
