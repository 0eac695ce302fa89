#include "probes/http/http_probe.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>

#include "probes/http/curl_api.hpp"
#include "probes/policy.hpp"

namespace deploycheck {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_api().easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_api().slist_free_all(l); }
};
struct MultiDeleter {
  void operator()(CURLM* m) const { curl_api().multi_cleanup(m); }
};
struct MdDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

void append(Slist& list, const std::string& line) {
  curl_slist* grown = curl_api().slist_append(list.get(), line.c_str());
  if (grown == nullptr) throw std::runtime_error("curl_slist_append: out of memory");
  list.release();
  list.reset(grown);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(const std::string& value) {
  const auto first = value.find_first_not_of(" \t\r\n");
  const auto last = value.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? "" : value.substr(first, last - first + 1);
}

// `location` (absolute or relative) resolved against `base`, as libcurl will follow it.
std::string resolve_location(const std::string& base, const std::string& location) {
  const CurlApi& api = curl_api();
  CURLU* url = api.url();
  if (url == nullptr) return location;
  std::string out = location;
  if (api.url_set(url, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
      api.url_set(url, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK) {
    char* text = nullptr;
    if (api.url_get(url, CURLUPART_URL, &text, 0) == CURLUE_OK) {
      out = text;
      api.free(text);
    }
  }
  api.url_cleanup(url);
  return out;
}

// One request in flight: its handle, the lists libcurl reads from, and what came back.
struct Transfer {
  std::size_t index = 0;
  const HttpRequest* request = nullptr;
  std::unique_ptr<CURL, CurlDeleter> easy;
  Slist headers, resolve;
  HttpResponse response;
  std::unique_ptr<EVP_MD_CTX, MdDeleter> sha;
  long current_status = 0;  // of the response whose headers are arriving
  std::string current_url;
  std::string current_location;
  char error[CURL_ERROR_SIZE] = "";
};

void restart_hash(Transfer& t) {
  if (!t.request->sha256) return;
  if (!t.sha) t.sha.reset(EVP_MD_CTX_new());
  if (!t.sha || EVP_DigestInit_ex(t.sha.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL cannot start a SHA-256 digest");
  }
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  auto& r = t->response;
  auto& body = r.body;
  const std::size_t room =
      t->request->max_body > body.size() ? t->request->max_body - body.size() : 0;
  body.append(data, std::min(n, room));
  if (n > room) r.body_truncated = true;
  r.body_size += n;
  if (t->sha) EVP_DigestUpdate(t->sha.get(), data, n);
  return n;  // keep reading so timings, size and hash cover the whole response
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  auto& r = t->response;
  const std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response: the one before it was a redirect libcurl follows, or an interim 1xx.
    if (t->current_status >= 300 && t->current_status < 400 && !t->current_location.empty()) {
      r.hops.push_back({t->current_url, t->current_status, t->current_location});
      t->current_url = resolve_location(t->current_url, t->current_location);
    }
    const auto space = line.find(' ');
    t->current_status = space == std::string::npos ? 0 : std::atol(line.c_str() + space + 1);
    t->current_location.clear();
    r.headers.clear();
    r.body.clear();
    r.body_truncated = false;
    r.body_size = 0;
    restart_hash(*t);
    return line.size();
  }
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = lower(line.substr(0, colon));
    std::string value = trim(line.substr(colon + 1));
    if (name == "location") t->current_location = value;
    r.headers.emplace(std::move(name), std::move(value));
  }
  return line.size();
}

double millis(CURL* curl, CURLINFO what) {
  curl_off_t us = 0;
  curl_api().easy_getinfo(curl, what, &us);
  return static_cast<double>(us) / 1000.0;
}

std::unique_ptr<Transfer> prepare(const HttpRequest& request, std::size_t index, Duration timeout) {
  const CurlApi& api = curl_api();
  auto t = std::make_unique<Transfer>();
  t->index = index;
  t->request = &request;
  t->easy.reset(api.easy_init());
  if (!t->easy) throw std::runtime_error("curl_easy_init failed");
  t->response.url = request.url;
  t->response.method = request.method;
  t->current_url = request.url;
  restart_hash(*t);
  CURL* c = t->easy.get();
  api.easy_setopt(c, CURLOPT_URL, request.url.c_str());
  api.easy_setopt(c, CURLOPT_PRIVATE, t.get());
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  api.easy_setopt(c, CURLOPT_WRITEDATA, t.get());
  api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  api.easy_setopt(c, CURLOPT_HEADERDATA, t.get());
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, t->error);
  api.easy_setopt(c, CURLOPT_USERAGENT, "deploycheck/0.1");
  // HTTP/2 where TLS offers it; wait for a connection that may multiplex rather than open more.
  api.easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  api.easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
  if (request.method == "HEAD") {
    api.easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET" || request.body) {
    api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.body) {
    api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body->size()));
    api.easy_setopt(c, CURLOPT_POSTFIELDS, request.body->data());
  }
  for (const auto& [name, value] : request.headers) append(t->headers, name + ": " + value);
  if (t->headers) api.easy_setopt(c, CURLOPT_HTTPHEADER, t->headers.get());
  for (const auto& pin : request.resolve) append(t->resolve, pin);
  if (t->resolve) api.easy_setopt(c, CURLOPT_RESOLVE, t->resolve.get());
  if (request.follow_redirects) {
    api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    api.easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  }
  if (request.ca_file) api.easy_setopt(c, CURLOPT_CAINFO, request.ca_file->c_str());
  if (!request.verify) {
    api.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    api.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  return t;
}

std::string hex(const unsigned char* data, unsigned int size) {
  std::string out;
  char buf[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", data[i]);
    out += buf;
  }
  return out;
}

HttpOutcome finish(Transfer& t, CURLcode code) {
  const CurlApi& api = curl_api();
  CURL* c = t.easy.get();
  HttpResponse& response = t.response;
  if (code == CURLE_PEER_FAILED_VERIFICATION) {
    response.tls_error = std::string(api.easy_strerror(code)) + ": " + t.error;
  } else if (code != CURLE_OK) {
    const std::string detail = *t.error ? t.error : api.easy_strerror(code);
    // Not the URL: it may carry a secret. Callers name the target in its printable form.
    return {std::nullopt, detail};
  }
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  long version = 0;
  api.easy_getinfo(c, CURLINFO_HTTP_VERSION, &version);
  response.http_version = version == CURL_HTTP_VERSION_2_0 ? "2"
                          : version == CURL_HTTP_VERSION_3 ? "3"
                                                           : "1.1";
  char* effective = nullptr;
  api.easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
  // Only where redirects were followed: the URL asked for may carry a secret, and callers
  // replace `url` with its printable form (they mask hops and final_url themselves).
  if (t.request->follow_redirects && effective) response.final_url = effective;
  if (t.sha) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(t.sha.get(), digest, &size);
    response.body_sha256 = hex(digest, size);
  }
  response.timings =
      HttpTimings{millis(c, CURLINFO_NAMELOOKUP_TIME_T), millis(c, CURLINFO_CONNECT_TIME_T),
                  millis(c, CURLINFO_APPCONNECT_TIME_T), millis(c, CURLINFO_STARTTRANSFER_TIME_T),
                  millis(c, CURLINFO_TOTAL_TIME_T)};
  return {std::move(response), ""};
}

}  // namespace

std::optional<std::string> HttpResponse::header(const std::string& name) const {
  const auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

namespace {

std::unique_ptr<CURLM, MultiDeleter> new_multi(const MultiOptions& options) {
  const CurlApi& api = curl_api();
  std::unique_ptr<CURLM, MultiDeleter> multi(api.multi_init());
  if (!multi) throw std::runtime_error("curl_multi_init failed");
  api.multi_setopt(multi.get(), CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
  api.multi_setopt(multi.get(), CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
  return multi;
}

// Runs `requests` on `multi`, whose connection cache outlives the call (HttpSession) or not.
std::vector<HttpOutcome> fetch_many_on(CURLM* multi, const std::vector<HttpRequest>& requests,
                                       Duration timeout, const MultiOptions& options) {
  const CurlApi& api = curl_api();
  std::vector<HttpOutcome> results(requests.size());
  // Handles still attached when this returns (or throws) are detached by `detach`.
  std::vector<std::unique_ptr<Transfer>> active(requests.size());
  struct Detach {
    CURLM* multi;
    std::vector<std::unique_ptr<Transfer>>& active;
    ~Detach() {
      for (auto& t : active) {
        if (t) curl_api().multi_remove_handle(multi, t->easy.get());
      }
    }
  } detach{multi, active};

  std::size_t next = 0;
  std::size_t in_flight = 0;
  while (next < requests.size() || in_flight > 0) {
    // A request's deadline starts when it is added: add only what can be in flight.
    while (next < requests.size() && in_flight < std::max<std::size_t>(1, options.max_in_flight)) {
      active[next] = prepare(requests[next], next, timeout);
      const CURLMcode added = api.multi_add_handle(multi, active[next]->easy.get());
      if (added != CURLM_OK) {
        throw std::runtime_error(std::string("curl_multi_add_handle: ") +
                                 api.multi_strerror(added));
      }
      ++next;
      ++in_flight;
    }
    int running = 0;
    const CURLMcode performed = api.multi_perform(multi, &running);
    if (performed != CURLM_OK) {
      throw std::runtime_error(std::string("curl_multi_perform: ") + api.multi_strerror(performed));
    }
    int queued = 0;
    while (CURLMsg* message = api.multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      api.easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &t);
      const CURLcode code = message->data.result;  // read before the handle goes
      results[t->index] = finish(*t, code);
      api.multi_remove_handle(multi, t->easy.get());
      active[t->index].reset();
      --in_flight;
    }
    if (in_flight > 0 && running > 0) {
      const CURLMcode polled = api.multi_poll(multi, nullptr, 0, 100, nullptr);
      if (polled != CURLM_OK) {
        throw std::runtime_error(std::string("curl_multi_poll: ") + api.multi_strerror(polled));
      }
    }
  }
  return results;
}

}  // namespace

std::vector<HttpOutcome> fetch_many(const std::vector<HttpRequest>& requests, Duration timeout,
                                    const MultiOptions& options) {
  const auto multi = new_multi(options);
  return fetch_many_on(multi.get(), requests, timeout, options);
}

HttpResponse fetch(const HttpRequest& request, Duration timeout) {
  auto outcome = std::move(fetch_many({request}, timeout).front());
  if (!outcome.response) throw Unreachable(outcome.error);
  return std::move(*outcome.response);
}

struct HttpSession::Impl {
  std::unique_ptr<CURLM, MultiDeleter> multi = new_multi(MultiOptions{});
};

HttpSession::HttpSession() : impl_(std::make_unique<Impl>()) {}
HttpSession::~HttpSession() = default;

HttpResponse HttpSession::fetch(const HttpRequest& request, Duration timeout) {
  auto outcome = std::move(fetch_many_on(impl_->multi.get(), {request}, timeout, {}).front());
  if (!outcome.response) throw Unreachable(outcome.error);
  return std::move(*outcome.response);
}

nlohmann::json to_json(const HttpResponse& r) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [k, v] : r.headers) headers.push_back({k, v});
  nlohmann::json hops = nlohmann::json::array();
  for (const auto& h : r.hops) {
    hops.push_back({{"url", h.url}, {"status", h.status}, {"location", h.location}});
  }
  nlohmann::json j{{"url", r.url},
                   {"method", r.method},
                   {"status", r.status},
                   {"http_version", r.http_version},
                   {"headers", headers},
                   {"body", r.body},
                   {"body_truncated", r.body_truncated},
                   {"body_size", r.body_size},
                   {"timings_ms",
                    {{"dns", r.timings.dns},
                     {"connect", r.timings.connect},
                     {"tls", r.timings.tls},
                     {"first_byte", r.timings.first_byte},
                     {"total", r.timings.total}}}};
  if (!r.hops.empty()) j["hops"] = hops;
  if (!r.final_url.empty()) j["final_url"] = r.final_url;
  if (r.body_sha256) j["body_sha256"] = *r.body_sha256;
  if (r.tls_error) j["tls_error"] = *r.tls_error;
  return j;
}

HttpResponse http_response_from_json(const nlohmann::json& j) {
  HttpResponse r;
  r.url = j.at("url");
  r.method = j.value("method", "GET");
  r.status = j.at("status");
  r.http_version = j.at("http_version");
  for (const auto& h : j.at("headers")) r.headers.emplace(h.at(0), h.at(1));
  r.body = j.at("body");
  r.body_truncated = j.at("body_truncated");
  r.body_size = j.value("body_size", std::uint64_t{r.body.size()});
  if (j.contains("hops")) {
    for (const auto& h : j.at("hops"))
      r.hops.push_back({h.at("url"), h.at("status"), h.at("location")});
  }
  r.final_url = j.value("final_url", std::string());
  const auto& t = j.at("timings_ms");
  r.timings =
      HttpTimings{t.at("dns"), t.at("connect"), t.at("tls"), t.at("first_byte"), t.at("total")};
  if (j.contains("body_sha256")) r.body_sha256 = j.at("body_sha256").get<std::string>();
  if (j.contains("tls_error")) r.tls_error = j.at("tls_error").get<std::string>();
  return r;
}

}  // namespace deploycheck
